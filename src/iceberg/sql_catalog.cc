#include "iceberg/sql_catalog.h"

#include <sqlite3.h>

#include <charconv>
#include <cstdio>

namespace eddy::iceberg {

namespace {

// Java's JdbcCatalog schema (V1: with iceberg_type); PyIceberg creates the same tables
// without iceberg_type.
constexpr std::string_view kCreateTables =
    "CREATE TABLE IF NOT EXISTS iceberg_tables ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " table_namespace VARCHAR(255) NOT NULL,"
    " table_name VARCHAR(255) NOT NULL,"
    " metadata_location VARCHAR(1000),"
    " previous_metadata_location VARCHAR(1000),"
    " iceberg_type VARCHAR(5),"
    " PRIMARY KEY (catalog_name, table_namespace, table_name));"
    "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties ("
    " catalog_name VARCHAR(255) NOT NULL,"
    " namespace VARCHAR(255) NOT NULL,"
    " property_key VARCHAR(255),"
    " property_value VARCHAR(1000),"
    " PRIMARY KEY (catalog_name, namespace, property_key));";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t found = text.find(from, start);
    out.append(text.substr(start, found - start));
    if (found == std::string_view::npos) return out;
    out.append(to);
    start = found + from.size();
  }
}

// N of ".../metadata/NNNNN-<uuid>.metadata.json"; 0 when the name has no such number.
int64_t VersionOf(std::string_view location) {
  size_t slash = location.rfind('/');
  std::string_view name = slash == std::string_view::npos ? location : location.substr(slash + 1);
  int64_t version = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), version);
  if (error != std::errc() || end == name.data() || *end != '-') return 0;
  return version;
}

}  // namespace

SqlCatalog::SqlCatalog(sqlite3* db, std::string path, std::string catalog_name,
                       objstore::ObjectStore* store, std::string prefix)
    : Catalog(store),
      db_(db),
      path_(std::move(path)),
      catalog_name_(std::move(catalog_name)),
      prefix_(std::move(prefix)) {}

SqlCatalog::~SqlCatalog() { sqlite3_close_v2(db_); }

Result<std::unique_ptr<SqlCatalog>> SqlCatalog::Open(const std::string& path,
                                                     std::string catalog_name,
                                                     objstore::ObjectStore* store,
                                                     std::string prefix,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int opened = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (opened != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(opened);
    sqlite3_close_v2(db);
    return Unavailable("cannot open the SQL catalog database " + path + ": " + message +
                       " (check that its directory exists and is writable)");
  }
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  std::unique_ptr<SqlCatalog> catalog(
      new SqlCatalog(db, path, std::move(catalog_name), store, std::move(prefix)));
  EDDY_RETURN_IF_ERROR(catalog->Exec("PRAGMA synchronous=FULL"));
  EDDY_RETURN_IF_ERROR(catalog->Exec(kCreateTables));
  EDDY_ASSIGN_OR_RETURN(auto columns, catalog->Query("PRAGMA table_info(iceberg_tables)", {}));
  for (const auto& column : columns) {
    if (column.size() > 1 && column[1] == "iceberg_type") catalog->has_iceberg_type_ = true;
  }
  return catalog;
}

Status SqlCatalog::Exec(std::string_view sql) {
  char* error = nullptr;
  int result = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (result == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(result);
  sqlite3_free(error);
  return Unavailable("SQL catalog " + path_ + ": " + message);
}

Result<std::vector<std::vector<std::string>>> SqlCatalog::Query(
    std::string_view sql, const std::vector<std::string>& params, int* changed) {
  sqlite3_stmt* statement = nullptr;
  int prepared =
      sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
  if (prepared != SQLITE_OK) {
    return Unavailable("SQL catalog " + path_ + ": " + sqlite3_errmsg(db_));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(statement, sqlite3_finalize);
  for (size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_text(statement, static_cast<int>(i + 1), params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  }
  std::vector<std::vector<std::string>> rows;
  while (true) {
    int step = sqlite3_step(statement);
    if (step == SQLITE_DONE) break;
    if (step == SQLITE_ROW) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int column = 0; column < sqlite3_column_count(statement); ++column) {
        const unsigned char* text = sqlite3_column_text(statement, column);
        row.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text),
                         static_cast<size_t>(sqlite3_column_bytes(statement, column)));
      }
      continue;
    }
    if ((step & 0xFF) == SQLITE_CONSTRAINT) {
      return Aborted("SQL catalog " + path_ + ": " + sqlite3_errmsg(db_));
    }
    return Unavailable("SQL catalog " + path_ + ": " + sqlite3_errmsg(db_));
  }
  if (changed != nullptr) *changed = sqlite3_changes(db_);
  return rows;
}

SqlCatalog::TableName SqlCatalog::NameOf(std::string_view table_key) const {
  std::string_view rest = table_key;
  if (!prefix_.empty() && rest.starts_with(prefix_)) rest.remove_prefix(prefix_.size());
  TableName name;
  size_t slash = rest.rfind('/');
  name.name = std::string(slash == std::string_view::npos ? rest : rest.substr(slash + 1));
  if (slash != std::string_view::npos) {
    name.table_namespace = Replace(Replace(rest.substr(0, slash), ".", "%2E"), "/", ".");
  }
  return name;
}

std::string SqlCatalog::KeyOf(std::string_view table_namespace, std::string_view name) const {
  std::string key = prefix_;
  if (!table_namespace.empty()) {
    key += Replace(Replace(table_namespace, ".", "/"), "%2E", ".") + "/";
  }
  key += name;
  return key;
}

Result<std::optional<LoadedTable>> SqlCatalog::Load(std::string_view table_key) {
  TableName name = NameOf(table_key);
  EDDY_ASSIGN_OR_RETURN(
      auto rows, Query("SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ?1 AND "
                       "table_namespace = ?2 AND table_name = ?3",
                       {catalog_name_, name.table_namespace, name.name}));
  if (rows.empty() || rows[0][0].empty()) return std::optional<LoadedTable>();
  const std::string& location = rows[0][0];
  EDDY_ASSIGN_OR_RETURN(std::string key, KeyOfUri(location));
  EDDY_ASSIGN_OR_RETURN(std::string json, store_->Get(key));
  auto metadata = ParseTableMetadata(json);
  if (!metadata.ok()) return metadata.status().WithContext(location);
  return std::optional<LoadedTable>(
      LoadedTable{VersionOf(location), std::move(metadata).value(), location});
}

Result<std::vector<std::string>> SqlCatalog::ListTables(std::string_view prefix) {
  EDDY_ASSIGN_OR_RETURN(auto rows,
                        Query("SELECT table_namespace, table_name FROM iceberg_tables WHERE "
                              "catalog_name = ?1 AND metadata_location IS NOT NULL",
                              {catalog_name_}));
  std::vector<std::string> keys;
  for (const auto& row : rows) {
    std::string key = KeyOf(row[0], row[1]);
    if (key.starts_with(prefix)) keys.push_back(std::move(key));
  }
  return keys;
}

Result<LoadedTable> SqlCatalog::WriteVersion(std::string_view table_key,
                                             const std::optional<LoadedTable>& current,
                                             TableMetadata metadata, int64_t version) {
  AppendMetadataLog(metadata, current);
  char number[16];
  std::snprintf(number, sizeof number, "%05lld", static_cast<long long>(version));
  const std::string key =
      std::string(table_key) + "/metadata/" + number + "-" + RandomUuid() + ".metadata.json";
  objstore::PutOptions options;
  options.content_type = "application/json";
  Status written = store_->Put(key, TableMetadataJson(metadata), options);
  if (!written.ok()) return written.WithContext("writing " + store_->Describe(key));
  const std::string location = store_->Describe(key);

  // The commit point.
  TableName name = NameOf(table_key);
  int changed = 0;
  if (!current) {
    EDDY_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    auto inserted =
        Query(has_iceberg_type_
                  ? "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                    "metadata_location, previous_metadata_location, iceberg_type) "
                    "VALUES (?1, ?2, ?3, ?4, NULL, 'TABLE')"
                  : "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                    "metadata_location, previous_metadata_location) VALUES (?1, ?2, ?3, ?4, NULL)",
              {catalog_name_, name.table_namespace, name.name, location}, &changed);
    Result<std::vector<std::vector<std::string>>> properties{
        std::vector<std::vector<std::string>>()};
    if (inserted.ok() && !name.table_namespace.empty()) {
      properties = Query(
          "INSERT OR IGNORE INTO iceberg_namespace_properties (catalog_name, namespace, "
          "property_key, property_value) VALUES (?1, ?2, 'exists', 'true')",
          {catalog_name_, name.table_namespace});
    }
    if (!inserted.ok() || !properties.ok()) {
      Exec("ROLLBACK").IgnoreError();
      Status failed = !inserted.ok() ? inserted.status() : properties.status();
      if (failed.code() == ErrorCode::kAborted) {
        return Aborted("another writer created table " + name.table_namespace + "." + name.name +
                       " in the SQL catalog " + path_ +
                       " first; reload the table and commit again");
      }
      return failed;
    }
    Status committed = Exec("COMMIT");
    if (!committed.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return committed;
    }
  } else {
    EDDY_RETURN_IF_ERROR(
        Query(
            "UPDATE iceberg_tables SET metadata_location = ?1, previous_metadata_location = ?2 "
            "WHERE catalog_name = ?3 AND table_namespace = ?4 AND table_name = ?5 AND "
            "metadata_location = ?2",
            {location, current->metadata_location, catalog_name_, name.table_namespace, name.name},
            &changed)
            .status());
    if (changed != 1) {
      return Aborted("another writer committed table " + name.table_namespace + "." + name.name +
                     " in the SQL catalog " + path_ + " after " + current->metadata_location +
                     "; reload the table and commit again");
    }
  }
  return LoadedTable{version, std::move(metadata), location};
}

}  // namespace eddy::iceberg
