// The MySQL/MariaDB target of the replica sink: `mysql://USER:PASS@HOST:PORT/DB` or
// `mariadb://...` (`[[sink]] type = "mysql" | "mariadb"`), through libmariadb. What this file
// adds to the engine-neutral core (replica_destination.h):
//   - MariadbDialect: the type mapping (MariaDB -> MariaDB as declared where the source's
//     catalog says enough, PostgreSQL -> MariaDB the nearest faithful type; the list of what
//     is not exact is in docs/sinks/replica.md), values in MariaDB's input syntax, and the
//     statements: multi-row INSERT ... ON DUPLICATE KEY UPDATE, DELETE ... WHERE key IN (...),
//     DELETE (not TRUNCATE, which would commit) for a truncate, the eddy_checkpoints row.
//     MariaDB commits before and after every DDL statement, so transactional_ddl() is false.
//   - the connection: one session with utf8mb4, time_zone +00:00, READ COMMITTED and
//     sql_mode STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION,
//     NO_AUTO_VALUE_ON_ZERO (a value the column cannot hold is an error, never truncated);
//     bulk loads are LOAD DATA LOCAL INFILE from memory (BuildLoadData; libmariadb's local
//     infile callbacks, no file) or multi-row INSERTs of up to 4 MiB (`bulk_load=insert`, or
//     when the server refuses local infile); server error numbers mapped onto eddy's
//     codes as target.h requires (lock wait timeout 1205 and deadlock 1213 are retriable).
//
// Tables are created ENGINE=InnoDB, DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_nopad_bin: keys
// compare byte for byte, as PostgreSQL's do, so keys distinct in the source stay distinct.
//
// URL parameters (sink settings): connect_timeout, read_timeout, write_timeout, ssl_mode,
// ssl_ca, ssl_cert, ssl_key, bulk_load (load_data | insert), plus the replica core's (table_name,
// tables, create_tables) and the runner's; anything else is InvalidArgument naming it.
//
// Threads: see target.h.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "sink/replica/target.h"

namespace eddy::sink::replica {

class MariadbDialect final : public TargetDialect {
 public:
  // `mysql`: the target is MySQL proper (no UUID type: char(36) instead).
  explicit MariadbDialect(bool mysql = false) : mysql_(mysql) {}

  std::string_view engine_name() const override { return mysql_ ? "mysql" : "mariadb"; }
  bool transactional_ddl() const override { return false; }
  std::string QuoteIdentifier(std::string_view name) const override;
  // '...' with quotes doubled (the session runs with NO_BACKSLASH_ESCAPES); text that is not
  // valid UTF-8 or holds a NUL (bytes values) is written as a hex literal X'...'.
  std::string QuoteLiteral(std::string_view text) const override;
  Result<std::string> MapType(const model::Column& column,
                              model::ConnectorKind source) const override;
  Result<TextValue> RenderValue(const model::Value& value, const model::Column& column,
                                model::ConnectorKind source) const override;
  std::string CreateTable(const TargetTable& table, const std::vector<TargetColumn>& columns,
                          const std::vector<std::string>& primary_key) const override;
  std::string AddColumn(const TargetTable& table, const TargetColumn& column) const override;
  std::string AlterColumnType(const TargetTable& table, const TargetColumn& column) const override;
  std::string SetNullable(const TargetTable& table, const TargetColumn& column) const override;
  std::string ReplacePrimaryKey(const TargetTable& table,
                                const std::vector<std::string>& primary_key) const override;
  std::string RenameTable(const TargetTable& from, const TargetTable& to) const override;
  std::string SelectColumns(const TargetTable& table) const override;
  std::string Upsert(const TargetTable& table, const std::vector<std::string>& columns,
                     const std::vector<std::string>& key_columns,
                     const std::vector<TextRow>& rows) const override;
  std::string Delete(const TargetTable& table, const std::vector<std::string>& key_columns,
                     const std::vector<TextRow>& keys) const override;
  std::string DeleteOneRow(const TargetTable& table, const std::vector<std::string>& columns,
                           const TextRow& row) const override;
  std::string Truncate(const TargetTable& table) const override;
  std::string CreateCheckpointTable(std::string_view space) const override;
  std::string UpsertCheckpoint(std::string_view space, std::string_view sink,
                               std::string_view checkpoint) const override;

 private:
  bool mysql_ = false;
};

// How bulk rows (snapshot rows, inserts alone in a batch) are loaded: the `bulk_load` setting.
enum class BulkLoadMode {
  kLoadData,  // `load_data` (default): LOAD DATA LOCAL INFILE from memory, multi-row INSERT
              // when the server refuses local infile
  kInsert,    // `insert`: multi-row INSERT statements of up to 4 MiB
};

// One LOAD DATA LOCAL INFILE statement and the bytes the client sends for it (rows [begin,
// end) of `rows`). The data is tab-separated lines in utf8mb4 with `\` escapes (`\N` NULL,
// `\t`, `\n`, `\r`, `\0`, `\\`); a column holding a value that is not UTF-8 (bytes) or holds a
// NUL travels as hex through a user variable (`SET c = UNHEX(@v)`). `REPLACE`: a row whose key
// exists replaces it, as the upsert it stands for would (with LOCAL the server cannot refuse a
// duplicate: it would skip it).
struct LoadDataStatement {
  std::string statement;
  std::string data;
};
LoadDataStatement BuildLoadData(const TargetTable& table, const std::vector<std::string>& columns,
                                const std::vector<TextRow>& rows, size_t begin, size_t end);

// Parses a mysql:// or mariadb:// URL (without its query; the query's keys are `settings`)
// into a Target. No I/O; the password stays out of display_url and messages.
Result<Target> MakeMariadbTarget(const std::string& url,
                                 const std::map<std::string, std::string>& settings);

// The `mysql` / `mariadb` schemes' DestinationFactory.
Result<std::unique_ptr<consume::Destination>> MakeMariadbDestination(const consume::SinkSpec& spec);

}  // namespace eddy::sink::replica
