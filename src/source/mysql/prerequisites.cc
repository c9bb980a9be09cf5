#include "source/mysql/prerequisites.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include "localdb/sql_session.h"

namespace eddy::source::mysql {
namespace {

using localdb::MariadbSession;
using localdb::SqlRows;

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string TrimSpaces(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

// `db` -> db (with `` unescaped); other text unchanged.
std::string Unquote(const std::string& name) {
  if (name.size() >= 2 && name.front() == '`' && name.back() == '`') {
    std::string out;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == '`' && i + 2 < name.size() && name[i + 1] == '`') ++i;
    }
    return out;
  }
  return name;
}

// 'user'@'host' for GRANT statements, from CURRENT_USER()'s user@host.
std::string Account(const std::string& current_user) {
  const size_t at = current_user.rfind('@');
  auto quote = [](const std::string& text) {
    std::string out = "'";
    for (char c : text) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  if (at == std::string::npos) return quote(current_user) + "@'%'";
  return quote(current_user.substr(0, at)) + "@" + quote(current_user.substr(at + 1));
}

std::string PersistHint(const std::string& name, const std::string& value) {
  return "SET GLOBAL " + name + " = " + value + "; and " + name + " = " + value +
         " under [mysqld] in my.cnf so it survives a restart (Amazon RDS/Aurora: the DB "
         "parameter group); sessions open before the change keep the old value";
}

}  // namespace

bool MysqlGrants::HasGlobal(const std::string& privilege) const {
  return global.count(privilege) > 0 || global.count("ALL PRIVILEGES") > 0 ||
         global.count("ALL") > 0;
}

bool MysqlGrants::HasOnDatabase(const std::string& privilege, const std::string& database) const {
  if (HasGlobal(privilege)) return true;
  auto found = per_database.find(database);
  if (found == per_database.end()) return false;
  return found->second.count(privilege) > 0 || found->second.count("ALL PRIVILEGES") > 0 ||
         found->second.count("ALL") > 0;
}

MysqlGrants ParseShowGrants(const std::vector<std::string>& lines) {
  MysqlGrants grants;
  for (const std::string& raw_line : lines) {
    const std::string line = TrimSpaces(raw_line);
    const std::string upper = Upper(line);
    if (upper.rfind("GRANT ", 0) != 0) continue;
    const size_t on = upper.find(" ON ");
    const size_t to = upper.find(" TO ");
    if (to == std::string::npos) continue;
    if (on == std::string::npos || on > to) {
      // GRANT `role` TO `user`@`host`
      grants.roles.insert(Unquote(TrimSpaces(line.substr(6, to - 6))));
      continue;
    }
    // Privilege list without column lists: "SELECT (`a`, `b`), INSERT" -> "SELECT , INSERT".
    std::string list;
    int depth = 0;
    for (char c : upper.substr(6, on - 6)) {
      if (c == '(') ++depth;
      if (depth == 0) list += c;
      if (c == ')' && depth > 0) --depth;
    }
    const bool column_level = list.size() != on - 6;
    std::set<std::string> privileges;
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string privilege = TrimSpaces(list.substr(start, comma - start));
      if (!privilege.empty() && !column_level) privileges.insert(privilege);
      start = comma + 1;
    }
    const std::string object = TrimSpaces(line.substr(on + 4, to - on - 4));
    if (object == "*.*") {
      grants.global.insert(privileges.begin(), privileges.end());
    } else if (object.size() > 2 && object.compare(object.size() - 2, 2, ".*") == 0) {
      const std::string database = Unquote(object.substr(0, object.size() - 2));
      grants.per_database[database].insert(privileges.begin(), privileges.end());
    }
  }
  return grants;
}

Result<CheckReport> CheckPrerequisites(const SourceUrl& url, const CheckOptions& options) {
  if (url.kind != SourceKind::kMysql) {
    return InvalidArgument("not a MySQL/MariaDB URL: " + url.ToString());
  }
  CheckReport report;
  report.source = url.ToString();
  EDDY_ASSIGN_OR_RETURN(MariadbSession session,
                        MariadbSession::Connect(url.ToEndpoint(), options.connect_timeout));
  Result<SqlRows> variables_rows = session.Query(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'log_bin', 'binlog_format', "
      "'binlog_row_image', 'binlog_row_metadata', 'server_id', 'expire_logs_days', "
      "'binlog_expire_logs_seconds', 'gtid_mode')");
  if (!variables_rows.ok()) {
    report.items.push_back({"variables", CheckStatus::kFail,
                            "could not read server variables: " +
                                variables_rows.status().message(),
                            ""});
    return report;
  }
  std::map<std::string, std::string> variables;
  for (const auto& row : variables_rows->rows) {
    if (row.size() >= 2 && row[0] && row[1]) variables[*row[0]] = *row[1];
  }
  auto variable = [&](const std::string& name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
  Result<SqlRows> identity = session.Query("SELECT CURRENT_USER() AS account");
  const std::string current_user =
      identity.ok() ? identity->Get(0, "account").value_or(url.user) : url.user;
  const std::string account = Account(current_user);

  const std::string version = variable("version").value_or("unknown");
  const bool mariadb = version.find("MariaDB") != std::string::npos;
  report.server_version = (mariadb ? "MariaDB " : "MySQL ") + version;
  report.items.push_back({"connection", CheckStatus::kOk,
                          "connected as " + current_user +
                              (url.database.empty() ? "" : " to database " + url.database),
                          ""});
  const bool row_metadata_supported = variable("binlog_row_metadata").has_value();
  if (!row_metadata_supported) {
    report.items.push_back({"server_version", CheckStatus::kFail,
                            report.server_version + " has no binlog_row_metadata; capture needs "
                                                    "MySQL 8.0 or MariaDB 10.5 or later",
                            "upgrade to MySQL 8.0+ or MariaDB 10.5+"});
  } else {
    report.items.push_back({"server_version", CheckStatus::kOk, report.server_version, ""});
  }

  const std::string log_bin = Upper(variable("log_bin").value_or("OFF"));
  if (log_bin == "ON" || log_bin == "1") {
    report.items.push_back({"log_bin", CheckStatus::kOk, "ON", ""});
  } else {
    report.items.push_back(
        {"log_bin", CheckStatus::kFail,
         "the binary log is off; capture reads changes from it",
         "add log_bin = mysql-bin under [mysqld] in my.cnf and restart the server (Amazon "
         "RDS/Aurora: enable automated backups / binlog in the parameter group)"});
  }

  struct Required {
    const char* name;
    const char* value;
    const char* why;
  };
  for (const Required& required :
       {Required{"binlog_format", "ROW", "capture needs row events, not SQL statements"},
        Required{"binlog_row_image", "FULL", "capture needs the whole before and after row"},
        Required{"binlog_row_metadata", "FULL",
                 "capture needs column names and types in the binlog"}}) {
    std::optional<std::string> value = variable(required.name);
    if (!value.has_value()) {
      if (std::string(required.name) != "binlog_row_metadata") {
        report.items.push_back({required.name, CheckStatus::kFail, "variable is missing",
                                PersistHint(required.name, required.value)});
      }
      continue;
    }
    if (Upper(*value) == required.value) {
      report.items.push_back({required.name, CheckStatus::kOk, *value, ""});
    } else {
      report.items.push_back({required.name, CheckStatus::kFail,
                              "is " + *value + "; " + required.why + " (" + required.name +
                                  " = " + required.value + ")",
                              PersistHint(required.name, required.value)});
    }
  }

  const std::string server_id = variable("server_id").value_or("0");
  if (server_id == "0") {
    report.items.push_back({"server_id", CheckStatus::kFail,
                            "is 0; a server with server_id 0 refuses binlog clients",
                            PersistHint("server_id", "1")});
  } else {
    report.items.push_back({"server_id", CheckStatus::kOk, server_id, ""});
  }

  // Privileges from SHOW GRANTS for the account we logged in as.
  Result<SqlRows> grant_rows = session.Query("SHOW GRANTS FOR CURRENT_USER()");
  if (!grant_rows.ok()) {
    report.items.push_back({"replication_privileges", CheckStatus::kFail,
                            "could not read SHOW GRANTS: " + grant_rows.status().message(), ""});
  } else {
    std::vector<std::string> lines;
    for (const auto& row : grant_rows->rows) {
      if (!row.empty() && row[0]) lines.push_back(*row[0]);
    }
    const MysqlGrants grants = ParseShowGrants(lines);
    const std::string role_note =
        grants.roles.empty() ? "" : " (privileges held only through roles are not counted)";
    const bool slave = grants.HasGlobal("REPLICATION SLAVE");
    const bool client = grants.HasGlobal("REPLICATION CLIENT") ||
                        grants.HasGlobal("BINLOG MONITOR");
    const char* client_name = mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT";
    if (slave && client) {
      report.items.push_back({"replication_privileges", CheckStatus::kOk,
                              std::string("REPLICATION SLAVE and ") + client_name + " on *.*", ""});
    } else {
      std::string missing;
      if (!slave) missing = "REPLICATION SLAVE";
      if (!client) missing += std::string(missing.empty() ? "" : ", ") + client_name;
      report.items.push_back({"replication_privileges", CheckStatus::kFail,
                              "user " + current_user + " lacks " + missing +
                                  " on *.* (needed to read the binlog and its positions)" +
                                  role_note,
                              "GRANT " + missing + " ON *.* TO " + account + ";"});
    }
    const bool can_select = url.database.empty() ? grants.HasGlobal("SELECT")
                                                 : grants.HasOnDatabase("SELECT", url.database);
    if (can_select) {
      report.items.push_back({"select_privilege", CheckStatus::kOk,
                              "SELECT on " + (url.database.empty() ? std::string("*.*")
                                                                   : url.database + ".*"),
                              ""});
    } else {
      const std::string scope =
          url.database.empty() ? "*.*" : localdb::QuoteMysqlIdentifier(url.database) + ".*";
      report.items.push_back({"select_privilege", CheckStatus::kFail,
                              "user " + current_user + " lacks SELECT on " + scope +
                                  " (needed for the initial snapshot and table schemas)" +
                                  role_note,
                              "GRANT SELECT ON " + scope + " TO " + account + ";"});
    }
  }

  // Retention: binlog_expire_logs_seconds wins when set; 0 everywhere means never expire.
  const int64_t expire_seconds =
      std::strtoll(variable("binlog_expire_logs_seconds").value_or("0").c_str(), nullptr, 10);
  const double expire_days =
      std::strtod(variable("expire_logs_days").value_or("0").c_str(), nullptr);
  const int64_t retention = expire_seconds > 0 ? expire_seconds
                                               : static_cast<int64_t>(expire_days * 86400.0);
  const int64_t minimum = options.min_binlog_retention.count();
  if (retention == 0) {
    report.items.push_back({"binlog_retention", CheckStatus::kOk,
                            "binlogs never expire (purged only by hand)", ""});
  } else if (retention < minimum) {
    report.items.push_back(
        {"binlog_retention", CheckStatus::kWarn,
         "binlogs expire after " + std::to_string(retention) + " s (" +
             std::to_string(retention / 3600) + " h); capture stopped longer than that loses "
                                                 "its position and needs a new snapshot",
         PersistHint("binlog_expire_logs_seconds", std::to_string(std::max<int64_t>(minimum, 604800)))});
  } else {
    report.items.push_back({"binlog_retention", CheckStatus::kOk,
                            "binlogs expire after " + std::to_string(retention / 3600) + " h",
                            ""});
  }

  if (!mariadb) {
    const std::string gtid_mode = Upper(variable("gtid_mode").value_or("OFF"));
    if (gtid_mode == "ON") {
      report.items.push_back({"gtid_mode", CheckStatus::kOk, "ON", ""});
    } else {
      report.items.push_back({"gtid_mode", CheckStatus::kWarn,
                              "is " + gtid_mode + "; positions are file:offset only and do not "
                                                  "survive a failover",
                              "enable GTIDs: gtid_mode = ON and enforce_gtid_consistency = ON "
                              "in my.cnf (follow MySQL's online procedure on a live server)"});
    }
  }
  return report;
}

}  // namespace eddy::source::mysql
