#include "validate/validate.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "localdb/sql_session.h"
#include "validate/canonical_sql.h"
#include "validate/database_url.h"

namespace eddy::validate {
namespace {

struct TableInfo {
  std::vector<ColumnInfo> columns;
  std::vector<std::string> key;  // primary key column names, in key order
};

// One database as validate reads it: a session inside a read-only snapshot transaction.
class Side {
 public:
  static Result<std::unique_ptr<Side>> Open(const DatabaseUrl& url, std::string role) {
    auto side = std::unique_ptr<Side>(new Side(url, std::move(role)));
    localdb::SqlEndpoint endpoint = url.url.ToEndpoint();
    if (url.engine == Engine::kPostgres) {
      auto session = localdb::PgSession::Connect(endpoint);
      if (!session.ok()) return side->Annotate(session.status());
      side->pg_.emplace(std::move(*session));
    } else {
      auto session = localdb::MariadbSession::Connect(endpoint);
      if (!session.ok()) return side->Annotate(session.status());
      side->mariadb_.emplace(std::move(*session));
    }
    for (const std::string& statement : SessionSetup(url.engine)) {
      EDDY_RETURN_IF_ERROR(side->Execute(statement));
    }
    if (url.engine == Engine::kPostgres) {
      EDDY_RETURN_IF_ERROR(side->Execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    } else {
      EDDY_RETURN_IF_ERROR(
          side->Execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
      EDDY_RETURN_IF_ERROR(side->Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
    }
    return side;
  }

  Engine engine() const { return url_.engine; }
  const std::string& table_namespace() const { return url_.table_namespace; }
  const std::string& role() const { return role_; }

  Status Execute(const std::string& sql) {
    Status status = pg_ ? pg_->Execute(sql) : mariadb_->Execute(sql);
    return status.ok() ? status : Annotate(status);
  }

  Result<localdb::SqlRows> Query(const std::string& sql) {
    auto rows = pg_ ? pg_->Query(sql) : mariadb_->Query(sql);
    if (!rows.ok()) return Annotate(rows.status());
    return rows;
  }

  std::string Literal(const std::string& text) {
    if (pg_) return localdb::QuotePgLiteral(text);
    return mariadb_->Quote(text);
  }

  Result<std::vector<std::string>> ListTables() {
    const std::string sql =
        engine() == Engine::kPostgres
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = " +
                  Literal(table_namespace()) + " AND table_type = 'BASE TABLE' ORDER BY table_name"
            : "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
                  Literal(table_namespace()) + " AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";
    EDDY_ASSIGN_OR_RETURN(localdb::SqlRows rows, Query(sql));
    std::vector<std::string> names;
    for (const auto& row : rows.rows) {
      if (row[0] && *row[0] != "eddy_checkpoints") names.push_back(*row[0]);
    }
    return names;
  }

  // nullopt when the table does not exist.
  Result<std::optional<TableInfo>> Describe(const std::string& ns, const std::string& table) {
    TableInfo info;
    if (engine() == Engine::kPostgres) {
      EDDY_ASSIGN_OR_RETURN(
          localdb::SqlRows columns,
          Query("SELECT column_name, data_type FROM information_schema.columns WHERE "
                "table_schema = " +
                Literal(ns) + " AND table_name = " + Literal(table) +
                " ORDER BY ordinal_position"));
      if (columns.rows.empty()) return std::optional<TableInfo>();
      for (const auto& row : columns.rows) {
        ColumnInfo column;
        column.name = row[0].value_or("");
        column.type = row[1].value_or("");
        column.value_class = ClassifyPostgresType(column.type);
        info.columns.push_back(std::move(column));
      }
      EDDY_ASSIGN_OR_RETURN(
          localdb::SqlRows key,
          Query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND i.indrelid = "
                "(quote_ident(" +
                Literal(ns) + ") || '.' || quote_ident(" + Literal(table) +
                "))::regclass ORDER BY array_position(i.indkey::int2[], a.attnum)"));
      for (const auto& row : key.rows) info.key.push_back(row[0].value_or(""));
    } else {
      EDDY_ASSIGN_OR_RETURN(
          localdb::SqlRows columns,
          Query("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = " +
                Literal(ns) + " AND TABLE_NAME = " + Literal(table) +
                " ORDER BY ORDINAL_POSITION"));
      if (columns.rows.empty()) return std::optional<TableInfo>();
      for (const auto& row : columns.rows) {
        ColumnInfo column;
        column.name = row[0].value_or("");
        column.type = row[2].value_or("");
        column.value_class =
            ClassifyMariadbType(row[1].value_or(""), column.type, &column.bit_width);
        info.columns.push_back(std::move(column));
      }
      EDDY_ASSIGN_OR_RETURN(
          localdb::SqlRows key,
          Query("SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = " +
                Literal(ns) + " AND TABLE_NAME = " + Literal(table) +
                " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"));
      for (const auto& row : key.rows) info.key.push_back(row[0].value_or(""));
    }
    return std::optional<TableInfo>(std::move(info));
  }

  std::string Where() const {
    return std::string(role_) + " " + std::string(EngineName(engine())) + " " +
           url_.url.ToEndpoint().Describe();
  }

 private:
  Side(DatabaseUrl url, std::string role) : url_(std::move(url)), role_(std::move(role)) {}

  Status Annotate(const Status& status) const {
    return Status(status.code(), role_ + ": " + status.message());
  }

  DatabaseUrl url_;
  std::string role_;
  std::optional<localdb::PgSession> pg_;
  std::optional<localdb::MariadbSession> mariadb_;
};

struct ChunkSum {
  int64_t rows = 0;
  std::string sum;
};

std::string JoinKey(const std::vector<ColumnInfo>& key, const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (i > 0) out += ", ";
    out += key[i].name + "=" + values[i];
  }
  return out;
}

// A chunk's range: after `lower` (if any) and not after `upper` (if any).
std::string RangeCondition(Engine engine, const std::vector<ColumnInfo>& key,
                           const std::vector<std::string>* lower,
                           const std::vector<std::string>* upper) {
  std::string out;
  if (lower != nullptr) out = KeyAfter(engine, key, *lower);
  if (upper != nullptr) {
    out += (out.empty() ? "" : " AND ") + std::string("NOT ") + KeyAfter(engine, key, *upper);
  }
  return out.empty() ? "TRUE" : out;
}

Result<ChunkSum> SumChunk(Side& side, const std::string& table, const std::vector<ColumnInfo>& key,
                          const std::vector<ColumnInfo>& columns,
                          const std::vector<std::string>* lower,
                          const std::vector<std::string>* upper) {
  const Engine engine = side.engine();
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows rows,
      side.Query("SELECT COUNT(*), " + HashSumAggregate(engine, columns) + " FROM " + table +
                 " WHERE " + RangeCondition(engine, key, lower, upper)));
  ChunkSum out;
  out.rows = std::stoll(rows.rows.at(0).at(0).value_or("0"));
  out.sum = rows.rows.at(0).at(1).value_or("0");
  return out;
}

// A row of a differing chunk: its hash and each column's hash (to name the columns that
// differ).
struct RowDigest {
  std::string hash;
  std::vector<std::string> column_hashes;
};

// key text -> digest for every row of a chunk.
Result<std::map<std::string, RowDigest>> ChunkRows(Side& side, const std::string& table,
                                                   const std::vector<ColumnInfo>& key,
                                                   const std::vector<ColumnInfo>& columns,
                                                   const std::vector<std::string>* lower,
                                                   const std::vector<std::string>* upper) {
  const Engine engine = side.engine();
  std::string select;
  for (const ColumnInfo& column : key) select += CanonicalExpression(engine, column) + ", ";
  select += RowHashExpression(engine, columns);
  for (const ColumnInfo& column : columns) select += ", " + RowHashExpression(engine, {column});
  EDDY_ASSIGN_OR_RETURN(localdb::SqlRows rows,
                        side.Query("SELECT " + select + " FROM " + table + " WHERE " +
                                   RangeCondition(engine, key, lower, upper)));
  std::map<std::string, RowDigest> out;
  for (const auto& row : rows.rows) {
    std::vector<std::string> values;
    for (size_t i = 0; i < key.size(); ++i) values.push_back(row[i].value_or("NULL"));
    RowDigest digest;
    digest.hash = row[key.size()].value_or("");
    for (size_t i = key.size() + 1; i < row.size(); ++i) {
      digest.column_hashes.push_back(row[i].value_or(""));
    }
    out[JoinKey(key, values)] = std::move(digest);
  }
  return out;
}

void AddKey(TableReport& report, Difference kind, const std::string& key, size_t limit) {
  int64_t& count = kind == Difference::kMissing ? report.missing
                   : kind == Difference::kExtra ? report.extra
                                                : report.different;
  if (static_cast<size_t>(count) < limit) report.keys.push_back({kind, key});
  ++count;
}

Status CompareTable(Side& source, Side& target, const std::string& name,
                    const ValidateOptions& options, TableReport& report) {
  std::string source_ns = source.table_namespace();
  std::string table = name;
  if (size_t dot = name.find('.'); dot != std::string::npos) {
    source_ns = name.substr(0, dot);
    table = name.substr(dot + 1);
  }
  report.source_table = source_ns + "." + table;
  report.target_table = target.table_namespace() + "." + table;
  EDDY_ASSIGN_OR_RETURN(std::optional<TableInfo> source_info, source.Describe(source_ns, table));
  if (!source_info) {
    return NotFound("table " + report.source_table + " does not exist in the " + source.Where() +
                    "; check --tables and the source URL's " +
                    (source.engine() == Engine::kPostgres ? "schema= parameter" : "database"));
  }
  if (source_info->key.empty()) {
    return FailedPrecondition("table " + report.source_table + " in the " + source.Where() +
                              " has no primary key; eddy validate matches rows by primary key, "
                              "so add one (ALTER TABLE ... ADD PRIMARY KEY (...)) or leave the "
                              "table out of --tables");
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<TableInfo> target_info,
                        target.Describe(target.table_namespace(), table));
  if (!target_info) {
    return NotFound("table " + report.target_table + " does not exist in the " + target.Where() +
                    "; create it (the replica sink does, with create_tables) or check the "
                    "target URL's " +
                    (target.engine() == Engine::kPostgres ? "schema= parameter" : "database"));
  }

  // Columns by name; the key is the source's primary key.
  std::vector<ColumnInfo> source_columns, target_columns, source_key, target_key;
  for (const ColumnInfo& column : source_info->columns) {
    const ColumnInfo* match = nullptr;
    for (const ColumnInfo& other : target_info->columns) {
      if (other.name == column.name) match = &other;
    }
    if (match == nullptr) {
      report.notes.push_back("column " + column.name + " (" + column.type +
                             ") is in the source, not in the target");
      continue;
    }
    source_columns.push_back(column);
    target_columns.push_back(*match);
  }
  for (const ColumnInfo& column : target_info->columns) {
    bool found = false;
    for (const ColumnInfo& other : source_info->columns) found = found || other.name == column.name;
    if (!found) {
      report.notes.push_back("column " + column.name + " (" + column.type +
                             ") is in the target, not in the source");
    }
  }
  for (const std::string& key_column : source_info->key) {
    for (size_t i = 0; i < source_columns.size(); ++i) {
      if (source_columns[i].name == key_column) {
        source_key.push_back(source_columns[i]);
        target_key.push_back(target_columns[i]);
      }
    }
  }
  if (source_key.size() != source_info->key.size()) {
    return FailedPrecondition("table " + report.target_table + " in the " + target.Where() +
                              " lacks a primary key column of the source; rows cannot be "
                              "matched");
  }

  // Boundaries every chunk_size rows of the source, in key order.
  const std::string source_table = QualifiedTable(source.engine(), source_ns, table);
  const std::string target_table = QualifiedTable(target.engine(), target.table_namespace(), table);
  std::string keys_canonical, keys_order;
  for (size_t i = 0; i < source_key.size(); ++i) {
    keys_canonical += (i ? ", " : "") + CanonicalExpression(source.engine(), source_key[i]) +
                      " AS eddy_k" + std::to_string(i);
    keys_order += (i ? ", " : "") + OrderExpression(source.engine(), source_key[i]);
  }
  std::string key_names;
  for (size_t i = 0; i < source_key.size(); ++i)
    key_names += (i ? ", eddy_k" : "eddy_k") + std::to_string(i);
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows boundary_rows,
      source.Query("SELECT " + key_names + " FROM (SELECT " + keys_canonical +
                   ", ROW_NUMBER() OVER (ORDER BY " + keys_order + ") AS eddy_rn FROM " +
                   source_table + ") eddy_numbered WHERE MOD(eddy_rn, " +
                   std::to_string(options.chunk_size) + ") = 0 ORDER BY eddy_rn"));
  std::vector<std::vector<std::string>> boundaries;
  for (const auto& row : boundary_rows.rows) {
    std::vector<std::string> values;
    for (const auto& value : row) values.push_back(value.value_or(""));
    boundaries.push_back(std::move(values));
  }

  report.chunks = static_cast<int64_t>(boundaries.size()) + 1;
  for (size_t chunk = 0; chunk <= boundaries.size(); ++chunk) {
    const std::vector<std::string>* lower = chunk > 0 ? &boundaries[chunk - 1] : nullptr;
    const std::vector<std::string>* upper =
        chunk < boundaries.size() ? &boundaries[chunk] : nullptr;
    EDDY_ASSIGN_OR_RETURN(ChunkSum source_sum,
                          SumChunk(source, source_table, source_key, source_columns, lower, upper));
    EDDY_ASSIGN_OR_RETURN(ChunkSum target_sum,
                          SumChunk(target, target_table, target_key, target_columns, lower, upper));
    report.source_rows += source_sum.rows;
    report.target_rows += target_sum.rows;
    if (source_sum.rows == target_sum.rows && source_sum.sum == target_sum.sum) continue;
    ++report.differing_chunks;
    EDDY_ASSIGN_OR_RETURN(auto source_rows, ChunkRows(source, source_table, source_key,
                                                      source_columns, lower, upper));
    EDDY_ASSIGN_OR_RETURN(auto target_rows, ChunkRows(target, target_table, target_key,
                                                      target_columns, lower, upper));
    for (const auto& [key, digest] : source_rows) {
      auto other = target_rows.find(key);
      if (other == target_rows.end()) {
        AddKey(report, Difference::kMissing, key, options.max_keys_listed);
      } else if (other->second.hash != digest.hash) {
        std::string named = key + " (columns";
        for (size_t i = 0; i < source_columns.size() && i < digest.column_hashes.size() &&
                           i < other->second.column_hashes.size();
             ++i) {
          if (digest.column_hashes[i] != other->second.column_hashes[i]) {
            named += " " + source_columns[i].name;
          }
        }
        AddKey(report, Difference::kDifferent, named + ")", options.max_keys_listed);
      }
    }
    for (const auto& [key, digest] : target_rows) {
      if (source_rows.find(key) == source_rows.end()) {
        AddKey(report, Difference::kExtra, key, options.max_keys_listed);
      }
    }
  }
  return Status::Ok();
}

std::vector<std::string> KeysOf(const TableReport& table, Difference kind) {
  std::vector<std::string> out;
  for (const KeyDifference& key : table.keys) {
    if (key.kind == kind) out.push_back(key.key);
  }
  return out;
}

}  // namespace

bool ValidateReport::has_errors() const {
  for (const TableReport& table : tables) {
    if (!table.error.empty()) return true;
  }
  return false;
}

bool ValidateReport::equal() const {
  for (const TableReport& table : tables) {
    if (!table.equal()) return false;
  }
  return true;
}

std::string ValidateReport::ToText() const {
  std::string out;
  size_t equal_tables = 0, different_tables = 0, failed_tables = 0;
  for (const TableReport& table : tables) {
    if (!table.error.empty()) {
      ++failed_tables;
      out += table.source_table + ": ERROR " + table.error + "\n";
      continue;
    }
    const std::string counts = std::to_string(table.source_rows) + " rows in the source, " +
                               std::to_string(table.target_rows) + " in the target " +
                               table.target_table + ", " + std::to_string(table.chunks) +
                               (table.chunks == 1 ? " chunk" : " chunks");
    if (table.equal()) {
      ++equal_tables;
      out += table.source_table + ": equal (" + counts + ")\n";
      continue;
    }
    ++different_tables;
    out += table.source_table + ": DIFFERENT (" + counts + ", " +
           std::to_string(table.differing_chunks) + " differ)\n";
    for (const std::string& note : table.notes) out += "  " + note + "\n";
    auto list = [&](Difference kind, const char* label, int64_t count) {
      if (count == 0) return;
      out += "  " + std::string(label) + ": " + std::to_string(count) + "\n";
      std::vector<std::string> keys = KeysOf(table, kind);
      for (const std::string& key : keys) out += "    " + key + "\n";
      if (static_cast<int64_t>(keys.size()) < count) {
        out +=
            "    ... and " + std::to_string(count - static_cast<int64_t>(keys.size())) + " more\n";
      }
    };
    list(Difference::kMissing, "missing in the target", table.missing);
    list(Difference::kExtra, "extra in the target", table.extra);
    list(Difference::kDifferent, "different values", table.different);
  }
  out += "eddy validate: " + std::to_string(tables.size()) +
         " tables: " + std::to_string(equal_tables) + " equal, " +
         std::to_string(different_tables) + " different, " + std::to_string(failed_tables) +
         " not compared\n";
  return out;
}

Result<ValidateReport> Validate(const std::string& source_url, const std::string& target_url,
                                const ValidateOptions& options) {
  if (options.chunk_size < 1) {
    return InvalidArgument("--chunk-size must be at least 1 (rows per chunk), got " +
                           std::to_string(options.chunk_size));
  }
  auto source_parsed = ParseDatabaseUrl(source_url);
  if (!source_parsed.ok()) {
    return InvalidArgument("--source: " + source_parsed.status().message());
  }
  auto target_parsed = ParseDatabaseUrl(target_url);
  if (!target_parsed.ok()) {
    return InvalidArgument("--target: " + target_parsed.status().message());
  }
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Side> source, Side::Open(*source_parsed, "source"));
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<Side> target, Side::Open(*target_parsed, "target"));

  std::vector<std::string> tables = options.tables;
  if (tables.empty()) {
    EDDY_ASSIGN_OR_RETURN(tables, source->ListTables());
    if (tables.empty()) {
      return NotFound("the " + source->Where() + " has no tables in " + source->table_namespace() +
                      "; name them with --tables or fix the URL");
    }
  }
  ValidateReport report;
  for (const std::string& name : tables) {
    TableReport table;
    // A failed statement aborts a PostgreSQL transaction; a savepoint per table keeps the
    // snapshot usable for the next table.
    for (Side* side : {source.get(), target.get()}) {
      if (side->engine() == Engine::kPostgres)
        EDDY_RETURN_IF_ERROR(side->Execute("SAVEPOINT eddy_table"));
    }
    Status status = CompareTable(*source, *target, name, options, table);
    if (!status.ok()) {
      for (Side* side : {source.get(), target.get()}) {
        if (side->engine() == Engine::kPostgres) {
          EDDY_RETURN_IF_ERROR(side->Execute("ROLLBACK TO SAVEPOINT eddy_table"));
        }
      }
      if (table.source_table.empty()) table.source_table = name;
      table.error = status.message();
      // A connection that dropped fails every later table the same way: stop here.
      if (status.code() == ErrorCode::kUnavailable) return status;
    }
    report.tables.push_back(std::move(table));
  }
  return report;
}

}  // namespace eddy::validate
