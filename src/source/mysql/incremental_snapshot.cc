#include "source/mysql/incremental_snapshot.h"

#include <mysql.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "base/clock.h"
#include "source/incremental_snapshot.h"
#include "source/snapshot_records.h"

namespace eddy::source::mysql {

Result<std::pair<std::string, std::string>> SplitTableName(std::string_view name,
                                                           std::string_view what) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size() ||
      name.find('.', dot + 1) != std::string_view::npos) {
    return InvalidArgument(std::string(what) + " '" + std::string(name) +
                           "' is not of the form database.table");
  }
  return std::make_pair(std::string(name.substr(0, dot)), std::string(name.substr(dot + 1)));
}

Result<std::unique_ptr<ChunkReader>> ChunkReader::Connect(ChunkReaderOptions options) {
  EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session,
                        localdb::MariadbSession::Connect(options.endpoint));
  EDDY_RETURN_IF_ERROR(session.Execute("SET NAMES utf8mb4"));
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION time_zone = '+00:00'"));
  // Each statement is its own transaction: a chunk read holds nothing after it returns.
  EDDY_RETURN_IF_ERROR(session.Execute("SET SESSION autocommit = 1"));
  return std::unique_ptr<ChunkReader>(new ChunkReader(std::move(options), std::move(session)));
}

Status ChunkReader::EnsureControlTable(const std::string& table) {
  EDDY_ASSIGN_OR_RETURN(auto name, SplitTableName(table, "table"));
  Status created = session_.Execute(
      "CREATE TABLE IF NOT EXISTS " + localdb::QuoteMysqlIdentifier(name.first) + "." +
      localdb::QuoteMysqlIdentifier(name.second) +
      " (id VARCHAR(42) NOT NULL PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) "
      "NULL) DEFAULT CHARSET = utf8mb4");
  if (!created.ok()) {
    return FailedPrecondition("cannot create table " + table + " (" + created.message() +
                              "): create it with columns id VARCHAR(42) PRIMARY KEY, type "
                              "VARCHAR(32) NOT NULL, data VARCHAR(2048), or grant CREATE on "
                              "its database");
  }
  return Status::Ok();
}

Status ChunkReader::WriteWatermark(const std::string& text) {
  EDDY_ASSIGN_OR_RETURN(auto name, SplitTableName(options_.watermark_table, "watermark table"));
  return session_
      .Execute("INSERT INTO " + localdb::QuoteMysqlIdentifier(name.first) + "." +
               localdb::QuoteMysqlIdentifier(name.second) + " (id, type, data) VALUES (" +
               session_.Quote(options_.watermark_id) + ", " + session_.Quote(kWatermarkPrefix) +
               ", " + session_.Quote(text) + ") ON DUPLICATE KEY UPDATE data = VALUES(data)")
      .WithContext("writing an incremental snapshot watermark to " + options_.watermark_table);
}

Result<std::vector<std::string>> ChunkReader::CapturedTables(
    const std::function<bool(const std::string&, const std::string&)>& captured) {
  // Two plain reads, joined here: MariaDB evaluates a correlated subquery on
  // information_schema once per outer row, opening every table each time (seconds).
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows rows,
      session_.Query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE "
                     "TABLE_TYPE = 'BASE TABLE' ORDER BY 1, 2"));
  EDDY_ASSIGN_OR_RETURN(
      localdb::SqlRows keyed,
      session_.Query("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLE_CONSTRAINTS "
                     "WHERE CONSTRAINT_TYPE = 'PRIMARY KEY'"));
  std::set<std::pair<std::string, std::string>> with_key;
  for (const auto& row : keyed.rows) with_key.insert({row[0].value_or(""), row[1].value_or("")});
  std::vector<std::string> names;
  std::string without_key;
  for (const auto& row : rows.rows) {
    std::string database = row[0].value_or("");
    std::string table = row[1].value_or("");
    if (!captured(database, table)) continue;
    std::string name = database + "." + table;
    if (with_key.count({database, table}) == 0) {
      without_key += (without_key.empty() ? "" : ", ") + name;
      continue;
    }
    names.push_back(std::move(name));
  }
  if (!without_key.empty()) {
    return FailedPrecondition(
        "incremental snapshots read each table in primary-key order, and table(s) " + without_key +
        " have no primary key: add one (ALTER TABLE ... ADD PRIMARY KEY (...)), leave the "
        "table(s) out of the stream's tables, or set source.snapshot_type = \"blocking\"");
  }
  return names;
}

Result<const ChunkReader::Described*> ChunkReader::Describe(const std::string& table) {
  auto cached = tables_.find(table);
  if (cached != tables_.end()) return &cached->second;
  EDDY_ASSIGN_OR_RETURN(auto name, SplitTableName(table, "table"));
  EDDY_ASSIGN_OR_RETURN(SnapshotTable table_description,
                        DescribeSnapshotTable(session_, model::TableId{name.first, "", name.second},
                                              options_.mariadb));
  if (table_description.columns.empty()) return NotFound("table " + table + " does not exist");
  Described described;
  described.schema = std::move(table_description.schema);
  described.columns = std::move(table_description.columns);
  described.key_indexes = std::move(table_description.key_indexes);
  if (described.key_indexes.empty()) {
    return FailedPrecondition("table " + table +
                              " has no primary key: incremental snapshots read in key order "
                              "(add a primary key)");
  }
  if (options_.assign_version) {
    EDDY_RETURN_IF_ERROR(
        options_.assign_version(described.schema).WithContext("recording the schema of " + table));
  }
  described.select = SnapshotSelect(described.schema.table, described.columns);
  return &tables_.emplace(table, std::move(described)).first->second;
}

Result<std::pair<model::TableId, std::vector<std::string>>> ChunkReader::Key(
    const std::string& table) {
  EDDY_ASSIGN_OR_RETURN(const Described* described, Describe(table));
  std::vector<std::string> names;
  for (size_t index : described->key_indexes) names.push_back(described->columns[index].name);
  return std::make_pair(described->schema.table, std::move(names));
}

Result<std::vector<std::vector<std::string>>> ChunkReader::SplitPoints(const std::string& table,
                                                                       const std::string& condition,
                                                                       size_t parts,
                                                                       size_t chunk_rows) {
  EDDY_ASSIGN_OR_RETURN(const Described* described, Describe(table));
  std::vector<std::string> key_names;
  for (size_t index : described->key_indexes) key_names.push_back(described->columns[index].name);
  return KeyRangeBoundaries(session_, described->schema.table, key_names, condition, parts,
                            chunk_rows);
}

Result<Chunk> ChunkReader::Read(const std::string& table, const std::string& condition,
                                const std::vector<std::string>& last_key,
                                const std::vector<std::string>& upper_key, size_t rows) {
  EDDY_ASSIGN_OR_RETURN(const Described* described, Describe(table));
  const std::vector<SnapshotColumn>& columns = described->columns;
  std::vector<std::string> key_names;
  for (size_t index : described->key_indexes) key_names.push_back(columns[index].name);
  std::string select = described->select;
  std::vector<std::string> where;
  if (!condition.empty()) where.push_back("(" + condition + ")");
  for (const std::vector<std::string>* stored : {&last_key, &upper_key}) {
    if (!stored->empty() && stored->size() != key_names.size()) {
      return FailedPrecondition("incremental snapshot of " + table + ": the stored key has " +
                                std::to_string(stored->size()) +
                                " columns but the primary key now has " +
                                std::to_string(key_names.size()));
    }
  }
  if (!last_key.empty()) where.push_back(KeyAfterCondition(session_, key_names, last_key));
  if (!upper_key.empty()) where.push_back(KeyAtMostCondition(session_, key_names, upper_key));
  for (size_t i = 0; i < where.size(); ++i) select += (i == 0 ? " WHERE " : " AND ") + where[i];
  select += " ORDER BY ";
  for (size_t k = 0; k < key_names.size(); ++k) {
    select += (k > 0 ? ", " : "") + localdb::QuoteMysqlIdentifier(key_names[k]);
  }
  select += " LIMIT " + std::to_string(rows);

  MYSQL* mysql = session_.raw();
  if (mysql_real_query(mysql, select.data(), select.size()) != 0) {
    std::string error = mysql_error(mysql);
    Forget(table);
    return FailedPrecondition("reading a chunk of " + table + " failed: " + error +
                              " (statement: " + select + ")");
  }
  // Streamed (mysql_use_result): each row is decoded while the server sends the next ones,
  // instead of after the whole chunk arrived; freeing the result reads what is left.
  MYSQL_RES* result = mysql_use_result(mysql);
  if (result == nullptr) {
    return Unavailable("reading a chunk of " + table + ": " + mysql_error(mysql));
  }
  std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> guard(result, mysql_free_result);
  if (mysql_num_fields(result) != columns.size()) {
    Forget(table);
    return Unavailable("the columns of " + table + " changed while reading a chunk");
  }
  Chunk chunk;
  chunk.table = described->schema.table;
  chunk.schema_version = described->schema.version;
  chunk.key_columns = key_names;
  chunk.rows.reserve(std::min<size_t>(rows, 1u << 16));  // rows may be millions
  std::vector<std::string> names;
  names.reserve(columns.size());
  for (const SnapshotColumn& column : columns) names.push_back(column.name);
  SnapshotRowEncoding encoding(described->schema.table, names, described->key_indexes);
  MYSQL_ROW row = nullptr;
  unsigned long* lengths = nullptr;
  while ((row = mysql_fetch_row(result)) != nullptr) {
    lengths = mysql_fetch_lengths(result);
    Status encoded = EncodeTextRow(columns, row, lengths, encoding);
    EncodedRow& out = chunk.rows.emplace_back();
    if (encoded.ok()) encoded = encoding.Finish(out.partition_key, out.rows);
    if (!encoded.ok()) return encoded.WithContext("incremental snapshot of " + table);
    chunk.last_key.clear();
    for (size_t index : described->key_indexes) {
      chunk.last_key.emplace_back(row[index] != nullptr ? row[index] : "", lengths[index]);
    }
  }
  if (mysql_errno(mysql) != 0) {
    return Unavailable("reading a chunk of " + table + ": " + mysql_error(mysql));
  }
  return chunk;
}

}  // namespace eddy::source::mysql
