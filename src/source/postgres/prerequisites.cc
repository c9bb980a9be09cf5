#include "source/postgres/prerequisites.h"

#include <algorithm>
#include <set>

#include "localdb/sql_session.h"

namespace eddy::source::postgres {
namespace {

using localdb::PgSession;
using localdb::QuotePgIdentifier;
using localdb::SqlRows;

constexpr size_t kMaxListed = 10;

std::string Value(const SqlRows& rows, std::string_view column) {
  return rows.Get(0, column).value_or("");
}

int64_t Number(const SqlRows& rows, std::string_view column) {
  const std::string text = Value(rows, column);
  if (text.empty()) return 0;
  return std::stoll(text);
}

std::string JoinListed(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i) {
    if (!out.empty()) out += ", ";
    out += names[i];
  }
  if (names.size() > kMaxListed) {
    out += " and " + std::to_string(names.size() - kMaxListed) + " more";
  }
  return out;
}

CheckItem QueryFailed(std::string name, const Status& status) {
  return CheckItem{std::move(name), CheckStatus::kFail,
                   "could not be checked: " + status.message(),
                   "run eddy check as a user that can read the system catalogs"};
}

// "schema.table" filter from CheckOptions::tables; empty means every table.
bool Selected(const CheckOptions& options, const std::string& qualified) {
  if (options.tables.empty()) return true;
  return std::find(options.tables.begin(), options.tables.end(), qualified) !=
         options.tables.end();
}

constexpr char kSettingsSql[] = R"sql(
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS version_num,
       current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots')::int AS max_slots,
       current_setting('max_wal_senders')::int AS max_senders,
       (SELECT count(*) FROM pg_replication_slots) AS used_slots,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender') AS used_senders,
       (SELECT string_agg(slot_name, ', ' ORDER BY slot_name) FROM pg_replication_slots
         WHERE NOT active) AS inactive_slots,
       r.rolsuper::text AS superuser,
       r.rolreplication::text AS replication,
       ((SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
          WHERE g.rolname = 'rds_replication' AND m.member = r.oid) > 0)::text AS rds_replication,
       current_setting('max_slot_wal_keep_size') AS slot_wal_keep,
       current_user AS user_name,
       current_database() AS database_name
FROM pg_roles r WHERE r.rolname = current_user
)sql";

// Ordinary and partitioned tables outside the system schemas, with what identifies their rows
// in UPDATE/DELETE events and whether we may read them.
constexpr char kTablesSql[] = R"sql(
SELECT n.nspname AS schema_name, c.relname AS table_name, c.relreplident::text AS identity,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)::text
         AS has_primary_key,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)::text
         AS has_identity_index,
       has_table_privilege(c.oid, 'SELECT')::text AS can_select
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY 1, 2
)sql";

void CheckSettings(const SqlRows& settings, CheckReport& report) {
  const int64_t version = Number(settings, "version_num");
  report.server_version = "PostgreSQL " + Value(settings, "server_version");
  if (version < 100000) {
    report.items.push_back({"server_version", CheckStatus::kFail,
                            report.server_version + "; pgoutput capture needs PostgreSQL 10 or "
                                                    "later",
                            "upgrade PostgreSQL to 10 or later (15 recommended)"});
  } else {
    report.items.push_back({"server_version", CheckStatus::kOk, report.server_version, ""});
  }

  const std::string wal_level = Value(settings, "wal_level");
  if (wal_level == "logical") {
    report.items.push_back({"wal_level", CheckStatus::kOk, "logical", ""});
  } else {
    report.items.push_back(
        {"wal_level", CheckStatus::kFail,
         "is '" + wal_level + "'; capture needs logical decoding (wal_level = logical)",
         "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (on Amazon RDS/Aurora: "
         "set rds.logical_replication = 1 in the DB parameter group and reboot)"});
  }

  const std::string user = Value(settings, "user_name");
  const bool superuser = Value(settings, "superuser") == "true";
  const bool replication = Value(settings, "replication") == "true";
  const bool rds_replication = Value(settings, "rds_replication") == "true";
  if (superuser || replication || rds_replication) {
    report.items.push_back({"replication_privilege", CheckStatus::kOk,
                            "user " + user + " has " +
                                (superuser     ? "superuser"
                                 : replication ? "the REPLICATION attribute"
                                               : "the rds_replication role"),
                            ""});
  } else {
    report.items.push_back(
        {"replication_privilege", CheckStatus::kFail,
         "user " + user + " lacks the REPLICATION attribute needed to stream changes",
         "ALTER ROLE " + QuotePgIdentifier(user) +
             " WITH REPLICATION; (on Amazon RDS/Aurora: GRANT rds_replication TO " +
             QuotePgIdentifier(user) + ";)"});
  }

  const int64_t max_slots = Number(settings, "max_slots");
  const int64_t used_slots = Number(settings, "used_slots");
  const std::string inactive = Value(settings, "inactive_slots");
  if (max_slots - used_slots >= 1) {
    report.items.push_back({"replication_slots", CheckStatus::kOk,
                            std::to_string(max_slots - used_slots) + " of " +
                                std::to_string(max_slots) + " free",
                            ""});
  } else {
    std::string fix = "ALTER SYSTEM SET max_replication_slots = " +
                      std::to_string(std::max<int64_t>(10, used_slots + 4)) +
                      "; then restart PostgreSQL";
    if (!inactive.empty()) {
      fix += "; or drop an unused slot: SELECT pg_drop_replication_slot('<name>'); (inactive: " +
             inactive + ")";
    }
    report.items.push_back({"replication_slots", CheckStatus::kFail,
                            "no free replication slot (max_replication_slots = " +
                                std::to_string(max_slots) + ", in use " +
                                std::to_string(used_slots) + "); capture needs one",
                            fix});
  }

  // PostgreSQL invalidates a slot whose retained WAL exceeds max_slot_wal_keep_size: capture
  // stopped that long loses its position and needs a new snapshot.
  const std::string keep = Value(settings, "slot_wal_keep");
  if (keep.empty() || keep == "-1") {
    report.items.push_back({"slot_wal_retention", CheckStatus::kOk,
                            "max_slot_wal_keep_size = -1 (slots keep WAL until consumed)", ""});
  } else {
    report.items.push_back(
        {"slot_wal_retention", CheckStatus::kWarn,
         "max_slot_wal_keep_size = " + keep +
             "; if capture falls that far behind PostgreSQL invalidates its slot and capture "
             "must start over with a snapshot",
         "ALTER SYSTEM SET max_slot_wal_keep_size = -1; SELECT pg_reload_conf(); (or a size "
         "larger than the longest capture outage you must survive)"});
  }

  const int64_t max_senders = Number(settings, "max_senders");
  const int64_t used_senders = Number(settings, "used_senders");
  if (max_senders - used_senders >= 1) {
    report.items.push_back({"wal_senders", CheckStatus::kOk,
                            std::to_string(max_senders - used_senders) + " of " +
                                std::to_string(max_senders) + " free",
                            ""});
  } else {
    report.items.push_back(
        {"wal_senders", CheckStatus::kFail,
         "no free WAL sender (max_wal_senders = " + std::to_string(max_senders) + ", in use " +
             std::to_string(used_senders) + "); capture needs one",
         "ALTER SYSTEM SET max_wal_senders = " +
             std::to_string(std::max<int64_t>(10, used_senders + 4)) +
             "; then restart PostgreSQL"});
  }
}

void CheckTables(PgSession& session, const CheckOptions& options, const std::string& user,
                 bool superuser, CheckReport& report) {
  Result<SqlRows> tables = session.Query(kTablesSql);
  if (!tables.ok()) {
    report.items.push_back(QueryFailed("tables", tables.status()));
    return;
  }
  std::vector<std::string> unreadable;
  std::set<std::string> unreadable_schemas;
  size_t checked = 0;
  for (size_t row = 0; row < tables->rows.size(); ++row) {
    const std::string schema = tables->Get(row, "schema_name").value_or("");
    const std::string table = tables->Get(row, "table_name").value_or("");
    const std::string qualified = schema + "." + table;
    if (!Selected(options, qualified)) continue;
    ++checked;
    const std::string identity = tables->Get(row, "identity").value_or("d");
    const bool has_primary_key = tables->Get(row, "has_primary_key") == "true";
    const bool has_identity_index = tables->Get(row, "has_identity_index") == "true";
    const std::string sql_name = QuotePgIdentifier(schema) + "." + QuotePgIdentifier(table);
    // Without a replica identity PostgreSQL rejects UPDATE and DELETE on a published table, so
    // this would break the application, not only capture.
    bool identified = true;
    std::string problem;
    if (identity == "n") {
      identified = false;
      problem = "has REPLICA IDENTITY NOTHING";
    } else if (identity == "d" && !has_primary_key) {
      identified = false;
      problem = "has no primary key and no replica identity";
    } else if (identity == "i" && !has_identity_index) {
      identified = false;
      problem = "has REPLICA IDENTITY USING INDEX but the index is gone";
    }
    if (!identified) {
      report.items.push_back(
          {"table " + qualified, CheckStatus::kFail,
           problem + "; updates and deletes cannot be captured (and fail once it is published)",
           "ALTER TABLE " + sql_name + " ADD PRIMARY KEY (<key columns>); or ALTER TABLE " +
               sql_name + " REPLICA IDENTITY FULL;"});
    }
    if (tables->Get(row, "can_select") != "true") {
      unreadable.push_back(qualified);
      unreadable_schemas.insert(schema);
    }
  }
  for (const std::string& wanted : options.tables) {
    bool found = false;
    for (size_t row = 0; row < tables->rows.size() && !found; ++row) {
      found = tables->Get(row, "schema_name").value_or("") + "." +
                  tables->Get(row, "table_name").value_or("") ==
              wanted;
    }
    if (!found) {
      report.items.push_back({"table " + wanted, CheckStatus::kFail,
                              "does not exist (or is not a table) in this database",
                              "fix the table name (schema.table) or create the table"});
    }
  }
  if (superuser || unreadable.empty()) {
    report.items.push_back({"select_privilege", CheckStatus::kOk,
                            "can read all " + std::to_string(checked) + " tables", ""});
  } else {
    std::string fix;
    for (const std::string& schema : unreadable_schemas) {
      fix += "GRANT SELECT ON ALL TABLES IN SCHEMA " + QuotePgIdentifier(schema) + " TO " +
             QuotePgIdentifier(user) + "; ";
    }
    fix.pop_back();
    report.items.push_back({"select_privilege", CheckStatus::kFail,
                            "user " + user + " cannot read " + std::to_string(unreadable.size()) +
                                " table(s) needed for the initial snapshot: " +
                                JoinListed(unreadable),
                            fix});
  }
}

void CheckPublication(PgSession& session, const CheckOptions& options, bool superuser,
                      CheckReport& report) {
  const std::string& name = options.publication;
  Result<SqlRows> publication = session.Query(
      "SELECT puballtables::text AS all_tables, pubinsert::text AS ins, pubupdate::text AS upd, "
      "pubdelete::text AS del, pubtruncate::text AS trunc FROM pg_publication WHERE pubname = $1",
      {name});
  if (!publication.ok()) {
    report.items.push_back(QueryFailed("publication", publication.status()));
    return;
  }
  const std::string quoted = QuotePgIdentifier(name);
  if (publication->rows.empty()) {
    if (superuser) {
      report.items.push_back({"publication", CheckStatus::kWarn,
                              "publication " + name + " does not exist; eddy creates it",
                              "CREATE PUBLICATION " + quoted + " FOR ALL TABLES;"});
    } else {
      report.items.push_back(
          {"publication", CheckStatus::kFail,
           "publication " + name + " does not exist and only a superuser can create one FOR "
                                   "ALL TABLES",
           "as a superuser: CREATE PUBLICATION " + quoted + " FOR ALL TABLES;"});
    }
    return;
  }
  std::vector<std::string> missing;
  if (publication->Get(0, "ins") != "true") missing.push_back("insert");
  if (publication->Get(0, "upd") != "true") missing.push_back("update");
  if (publication->Get(0, "del") != "true") missing.push_back("delete");
  if (!missing.empty()) {
    std::string list;
    for (const std::string& operation : missing) list += (list.empty() ? "" : ", ") + operation;
    report.items.push_back({"publication", CheckStatus::kFail,
                            "publication " + name + " does not publish " + list,
                            "ALTER PUBLICATION " + quoted +
                                " SET (publish = 'insert, update, delete, truncate');"});
    return;
  }
  if (publication->Get(0, "all_tables") != "true" && !options.tables.empty()) {
    Result<SqlRows> members = session.Query(
        "SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables "
        "WHERE pubname = $1",
        {name});
    if (!members.ok()) {
      report.items.push_back(QueryFailed("publication", members.status()));
      return;
    }
    std::set<std::string> published;
    for (size_t row = 0; row < members->rows.size(); ++row) {
      published.insert(members->Get(row, "name").value_or(""));
    }
    std::vector<std::string> absent;
    for (const std::string& table : options.tables) {
      if (published.count(table) == 0) absent.push_back(table);
    }
    if (!absent.empty()) {
      std::string tables_sql;
      for (const std::string& table : absent) {
        const size_t dot = table.find('.');
        tables_sql += (tables_sql.empty() ? "" : ", ") +
                      QuotePgIdentifier(table.substr(0, dot)) + "." +
                      QuotePgIdentifier(dot == std::string::npos ? "" : table.substr(dot + 1));
      }
      report.items.push_back({"publication", CheckStatus::kFail,
                              "publication " + name + " does not include " + JoinListed(absent),
                              "ALTER PUBLICATION " + quoted + " ADD TABLE " + tables_sql + ";"});
      return;
    }
  }
  report.items.push_back({"publication", CheckStatus::kOk,
                          "publication " + name + " exists and publishes inserts, updates and "
                                                  "deletes",
                          ""});
}

// Opens a logical replication connection (replication=database) like capture will and runs
// IDENTIFY_SYSTEM: catches what the catalog cannot show (pg_hba.conf rules, TLS settings,
// walsender start-up errors).
void CheckReplicationConnection(const SourceUrl& url, const CheckOptions& options,
                                CheckReport& report) {
  localdb::SqlEndpoint endpoint = url.ToEndpoint();
  endpoint.parameters.emplace_back("replication", "database");
  Result<PgSession> session = PgSession::Connect(endpoint, options.connect_timeout);
  Status status = session.ok() ? session->Execute("IDENTIFY_SYSTEM") : session.status();
  if (status.ok()) {
    report.items.push_back({"replication_connection", CheckStatus::kOk,
                            "a logical replication connection works (IDENTIFY_SYSTEM)", ""});
  } else {
    report.items.push_back(
        {"replication_connection", CheckStatus::kFail,
         "a logical replication connection (replication=database) fails: " + status.message(),
         "check the error: pg_hba.conf must admit this user to database " +
             (url.database.empty() ? url.user : url.database) +
             " (logical replication connections match the database name, not the "
             "'replication' keyword; then SELECT pg_reload_conf();), and the server must have a "
             "free WAL sender"});
  }
}

}  // namespace

Result<CheckReport> CheckPrerequisites(const SourceUrl& url, const CheckOptions& options) {
  if (url.kind != SourceKind::kPostgres) {
    return InvalidArgument("not a PostgreSQL URL: " + url.ToString());
  }
  CheckReport report;
  report.source = url.ToString();
  EDDY_ASSIGN_OR_RETURN(PgSession session,
                        PgSession::Connect(url.ToEndpoint(), options.connect_timeout));
  Result<SqlRows> settings = session.Query(kSettingsSql);
  if (!settings.ok()) {
    report.items.push_back(QueryFailed("settings", settings.status()));
    return report;
  }
  if (settings->rows.empty()) {
    report.items.push_back({"settings", CheckStatus::kFail,
                            "the current user is not visible in pg_roles", ""});
    return report;
  }
  report.items.push_back({"connection", CheckStatus::kOk,
                          "connected as " + Value(*settings, "user_name") + " to database " +
                              Value(*settings, "database_name"),
                          ""});
  CheckSettings(*settings, report);
  // Only meaningful when the catalog says it should work; otherwise it repeats a failure.
  const CheckItem* privilege = report.Find("replication_privilege");
  const CheckItem* senders = report.Find("wal_senders");
  const CheckItem* wal_level = report.Find("wal_level");
  if (privilege != nullptr && privilege->status == CheckStatus::kOk && senders != nullptr &&
      senders->status == CheckStatus::kOk && wal_level != nullptr &&
      wal_level->status == CheckStatus::kOk) {
    CheckReplicationConnection(url, options, report);
  }
  const bool superuser = Value(*settings, "superuser") == "true";
  CheckTables(session, options, Value(*settings, "user_name"), superuser, report);
  if (!options.publication.empty()) CheckPublication(session, options, superuser, report);
  return report;
}

}  // namespace eddy::source::postgres
