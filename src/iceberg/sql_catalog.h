// The SQL catalog on SQLite: the layout of Iceberg's JDBC catalog (Java's JdbcCatalog, also
// PyIceberg's SqlCatalog), so those engines can open the same database and read the tables.
//
//   iceberg_tables (catalog_name, table_namespace, table_name, metadata_location,
//                   previous_metadata_location[, iceberg_type])   -- one row per table
//   iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
//
// A table key `<prefix>/<level>/.../<name>` is namespace "<level>.<level>" (a '.' inside a
// level is written %2E) and name <name>. Metadata files are
// `<table>/metadata/<NNNNN>-<uuid>.metadata.json` (the JDBC catalog's naming), written under a
// fresh name; the commit point is one SQL statement: for a new table an INSERT of its row
// (a row already there: kAborted), afterwards
//   UPDATE iceberg_tables SET metadata_location = new, previous_metadata_location = old
//    WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = old
// which changes no row when another writer committed first (kAborted: reload and retry). A
// crash after the metadata file was written and before the UPDATE leaves an unreferenced file;
// the table stays at its previous version. Unlike the hadoop catalog, this is safe with any
// number of writers on any object store (the database serializes the commits).
//
// Files: SQLite does its own file I/O (its unix VFS) on the database and its journal, not
// through io::FileSystem; src/iceberg/README.md says why. Durability: a commit returns OK once
// SQLite committed it (journal_mode=DELETE, synchronous=FULL: fsync'd).
//
// Threads: one thread at a time per SqlCatalog; several processes may share a database (SQLite
// locks it; a busy database is waited on for up to `busy_timeout`, then kUnavailable).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "iceberg/table.h"

struct sqlite3;

namespace eddy::iceberg {

class SqlCatalog final : public Catalog {
 public:
  // Opens the database at `path` (created with the two tables when missing; an existing JDBC
  // or PyIceberg catalog database is used as it is). `prefix` is the warehouse's key prefix
  // ("" or "warehouse/"), left out of namespaces. kUnavailable when the file cannot be opened
  // (the message names it).
  // `busy_timeout`: how long a commit waits for another process's lock on the database.
  static Result<std::unique_ptr<SqlCatalog>> Open(
      const std::string& path, std::string catalog_name, objstore::ObjectStore* store,
      std::string prefix, std::chrono::milliseconds busy_timeout = std::chrono::seconds(10));
  ~SqlCatalog() override;
  SqlCatalog(const SqlCatalog&) = delete;
  SqlCatalog& operator=(const SqlCatalog&) = delete;

  [[nodiscard]] Result<std::optional<LoadedTable>> Load(std::string_view table_key) override;
  // The catalog's tables under `prefix` (whose key starts with it).
  [[nodiscard]] Result<std::vector<std::string>> ListTables(std::string_view prefix) override;

  // The namespace and name a table key is recorded under.
  struct TableName {
    std::string table_namespace;
    std::string name;
  };
  TableName NameOf(std::string_view table_key) const;

 protected:
  Result<LoadedTable> WriteVersion(std::string_view table_key,
                                   const std::optional<LoadedTable>& current,
                                   TableMetadata metadata, int64_t version) override;

 private:
  SqlCatalog(sqlite3* db, std::string path, std::string catalog_name, objstore::ObjectStore* store,
             std::string prefix);
  // Runs `sql` with text parameters; the rows' columns as text (NULL: empty). Errors name the
  // database.
  Result<std::vector<std::vector<std::string>>> Query(std::string_view sql,
                                                      const std::vector<std::string>& params,
                                                      int* changed = nullptr);
  Status Exec(std::string_view sql);
  std::string KeyOf(std::string_view table_namespace, std::string_view name) const;

  sqlite3* db_;
  const std::string path_;
  const std::string catalog_name_;
  const std::string prefix_;
  bool has_iceberg_type_ = false;  // the JDBC catalog's V1 column (PyIceberg has none)
};

}  // namespace eddy::iceberg
