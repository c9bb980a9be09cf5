// The replica sink's seam between the engine-neutral core (replica_destination.h: batching
// per key, snapshot bulk loads, schema following, the checkpoint row, error handling) and a
// target database engine. An engine adds exactly two things:
//   - a TargetDialect: pure functions that turn the source catalog's tables, columns and
//     values into the engine's SQL text (no I/O, unit-testable);
//   - a TargetConnection: one session to the target (begin / execute / query / bulk load /
//     commit), with the engine's errors mapped onto eddy's codes as stated below.
// and a factory that parses its URL into a Target and calls MakeReplicaDestination.
//
// Implemented here: PostgreSQL (postgres_target.h, `postgresql://`). The MySQL/MariaDB target
// (`mysql://`, `mariadb://`) implements the same two classes in its own files of this folder
// (mariadb_target.h/.cc) and registers its schemes beside PostgreSQL's; it needs nothing else
// from the core. Where the engines differ in what a statement can do (DDL inside a
// transaction), the dialect says so (transactional_ddl) and the core adapts.
//
// Text values. Every value crosses this seam as text in the target's input syntax for the
// column's mapped type (TextValue: nullopt is SQL NULL), produced once by
// TargetDialect::RenderValue. Statement builders quote that text as a literal
// (QuoteLiteral); BulkLoad sends it in the engine's bulk format (COPY text, LOAD DATA or a
// multi-row INSERT), escaping as that format needs.
//
// Threads: a dialect is immutable after construction; any thread may call it. A connection is
// used by one thread at a time (the core serializes Deliver).
#pragma once

#include <compare>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/event.h"
#include "model/schema.h"
#include "model/value.h"

namespace eddy::sink::replica {

// The table every replica sink keeps its checkpoint in, in the target namespace of its URL
// (PostgreSQL: the `schema=` schema; MySQL/MariaDB: the URL's database). One row per sink:
//   sink_name   the sink's name (primary key; text up to 128 characters)
//   checkpoint  consume::EncodeCheckpoint text of the sink's checkpoint
//   updated_at  when the row was last written (target clock; informational)
// The row is written in the same target transaction as the batch it follows, so the target
// holds every batch up to the checkpoint and nothing after it (docs/sinks/replica.md).
inline constexpr std::string_view kCheckpointTable = "eddy_checkpoints";

// Where a source table lands: a target namespace (PostgreSQL schema, MySQL/MariaDB database)
// and a table name. Both unquoted; the dialect quotes.
struct TargetTable {
  std::string space;
  std::string name;
  std::string ToString() const { return space + "." + name; }  // for messages and logs
  auto operator<=>(const TargetTable&) const = default;
  bool operator==(const TargetTable&) const = default;
};

// A column the core creates or alters: its name, the target type as DDL text
// (TargetDialect::MapType: "numeric(10,2)", "varchar(20)", "int4[]"), and nullability.
struct TargetColumn {
  std::string name;
  std::string type;
  bool nullable = true;
  bool operator==(const TargetColumn&) const = default;
};

// A value in the target's input syntax; nullopt is SQL NULL.
using TextValue = std::optional<std::string>;
// One row (or key) of TextValues, in the order of the column list it goes with.
using TextRow = std::vector<TextValue>;

// One session to the target database.
//
// Error mapping (the core's retry and FAILED decisions rest on it; put the server's words and
// code in the message, e.g. "deadlock detected (SQLSTATE 40P01)"):
//   - connection refused / lost / reset, server shutting down, too many connections,
//     deadlock, serialization failure, lock wait timeout, statement timeout:
//     Unavailable or Timeout (retriable: the core drops the connection, the runner retries
//     the batch with backoff and the sink is IMPAIRED with this message);
//   - authentication or missing privileges: PermissionDenied;
//   - constraint violations, undefined table/column, type mismatch, value out of range,
//     any other refusal of a statement: FailedPrecondition (the core names the table; the
//     sink goes FAILED);
//   - a bad connection string: InvalidArgument.
// After any error inside a transaction the core calls Rollback and, for retriable errors,
// discards the connection and connects anew.
class TargetConnection {
 public:
  virtual ~TargetConnection() = default;
  // Starts a transaction (isolation: the engine's default read committed is enough: the sink
  // is the only writer of its tables and of its checkpoint row).
  [[nodiscard]] virtual Status Begin() = 0;
  // Runs one statement, discarding any rows.
  [[nodiscard]] virtual Status Execute(const std::string& sql) = 0;
  // Runs one statement and returns its rows as text (NULL as nullopt).
  [[nodiscard]] virtual Result<std::vector<TextRow>> Query(const std::string& sql) = 0;
  // Appends `rows` (values in the order of `columns`) to `table` by the engine's bulk path:
  // COPY ... FROM STDIN (PostgreSQL), LOAD DATA LOCAL INFILE or multi-row INSERT (MariaDB).
  // Inside the current transaction. A duplicate key is FailedPrecondition with the server's
  // code in the message (the core then falls back to upserts for the batch).
  [[nodiscard]] virtual Status BulkLoad(const TargetTable& table,
                                        const std::vector<std::string>& columns,
                                        const std::vector<TextRow>& rows) = 0;
  // Commits. An error whose outcome is unknown (the connection dropped during COMMIT) is
  // Unavailable; the core resolves it by reading the checkpoint row back.
  [[nodiscard]] virtual Status Commit() = 0;
  // Rolls back the open transaction, if any; errors are ignored (the connection may be gone).
  virtual void Rollback() = 0;
};

// The target engine's SQL, as pure functions of the source catalog and of rendered values.
class TargetDialect {
 public:
  virtual ~TargetDialect() = default;

  // "postgresql", "mariadb": for messages and docs.
  virtual std::string_view engine_name() const = 0;
  // True when DDL runs inside the batch's transaction (PostgreSQL). False when DDL commits
  // implicitly (MySQL/MariaDB): the core then commits the batch's statements applied so far
  // before each DDL statement (without the checkpoint: a crash replays them, which converges
  // because every statement the core issues is an idempotent upsert, delete or guarded DDL).
  virtual bool transactional_ddl() const = 0;

  virtual std::string QuoteIdentifier(std::string_view name) const = 0;
  // A string literal holding `text` exactly (for TextValues and names in catalog queries).
  virtual std::string QuoteLiteral(std::string_view text) const = 0;
  // QuoteIdentifier(space) + "." + QuoteIdentifier(name).
  std::string QualifiedName(const TargetTable& table) const {
    return QuoteIdentifier(table.space) + "." + QuoteIdentifier(table.name);
  }
  // QualifiedName of kCheckpointTable in namespace `space`.
  std::string CheckpointTableName(std::string_view space) const {
    return QualifiedName({std::string(space), std::string(kCheckpointTable)});
  }

  // The target type for a source column (docs/sinks/replica.md has the mapping tables): exact
  // for the same engine, the nearest faithful type across engines. InvalidArgument naming the
  // column and its source type when there is none.
  [[nodiscard]] virtual Result<std::string> MapType(const model::Column& column,
                                                    model::ConnectorKind source) const = 0;
  // `value` of source column `column` as text the target's input parses for MapType(column)
  // (nullopt: NULL). InvalidArgument naming the column when the value cannot be represented.
  // Never called with Unavailable values (the core leaves those columns unchanged).
  [[nodiscard]] virtual Result<TextValue> RenderValue(const model::Value& value,
                                                      const model::Column& column,
                                                      model::ConnectorKind source) const = 0;

  // ---- DDL ----
  // CREATE TABLE IF NOT EXISTS with the columns in order and the primary key (none when
  // `primary_key` is empty).
  virtual std::string CreateTable(const TargetTable& table,
                                  const std::vector<TargetColumn>& columns,
                                  const std::vector<std::string>& primary_key) const = 0;
  virtual std::string AddColumn(const TargetTable& table, const TargetColumn& column) const = 0;
  // ALTER TABLE ... DROP COLUMN IF EXISTS (the same text in both engines; an engine whose
  // syntax differs overrides it, as with RenameColumn, DropTable and SelectCheckpoint).
  virtual std::string DropColumn(const TargetTable& table, std::string_view column) const {
    return "ALTER TABLE " + QualifiedName(table) + " DROP COLUMN IF EXISTS " +
           QuoteIdentifier(column);
  }
  virtual std::string RenameColumn(const TargetTable& table, std::string_view from,
                                   std::string_view to) const {
    return "ALTER TABLE " + QualifiedName(table) + " RENAME COLUMN " + QuoteIdentifier(from) +
           " TO " + QuoteIdentifier(to);
  }
  // Changes a column's type (widening: int -> bigint, varchar(10) -> varchar(20), numeric
  // precision up), keeping nullability as given.
  virtual std::string AlterColumnType(const TargetTable& table,
                                      const TargetColumn& column) const = 0;
  // Makes a column NULL or NOT NULL as `column.nullable` says (its type stays `column.type`).
  virtual std::string SetNullable(const TargetTable& table, const TargetColumn& column) const = 0;
  // Replaces the table's primary key (whatever its name) by `primary_key`; an empty key drops
  // it. One statement, so a replay after a crash converges.
  virtual std::string ReplacePrimaryKey(const TargetTable& table,
                                        const std::vector<std::string>& primary_key) const = 0;
  // DROP TABLE IF EXISTS.
  virtual std::string DropTable(const TargetTable& table) const {
    return "DROP TABLE IF EXISTS " + QualifiedName(table);
  }
  // Renames `from` to `to` if `from` exists (a replay after the rename is a no-op). "" when the
  // engine cannot do it in one statement (PostgreSQL: another schema).
  virtual std::string RenameTable(const TargetTable& from, const TargetTable& to) const = 0;
  // Catalog query for an existing table's columns, one row per column in table order:
  // (column name, type as the catalog prints it, "YES"/"NO" nullable). No rows: the table
  // does not exist.
  virtual std::string SelectColumns(const TargetTable& table) const = 0;

  // ---- DML (rows as rendered by RenderValue, in the order of `columns`) ----
  // Inserts `rows`; a row whose `key_columns` match an existing row replaces the listed
  // columns (INSERT ... ON CONFLICT (key) DO UPDATE / ON DUPLICATE KEY UPDATE). Columns not
  // listed are left as they are. With empty `key_columns`: a plain INSERT.
  virtual std::string Upsert(const TargetTable& table, const std::vector<std::string>& columns,
                             const std::vector<std::string>& key_columns,
                             const std::vector<TextRow>& rows) const = 0;
  // Deletes the rows whose `key_columns` equal one of `keys`.
  virtual std::string Delete(const TargetTable& table, const std::vector<std::string>& key_columns,
                             const std::vector<TextRow>& keys) const = 0;
  // Deletes one row equal to `row` in every listed column (NULL equal to NULL): the delete of
  // a table without a primary key.
  virtual std::string DeleteOneRow(const TargetTable& table,
                                   const std::vector<std::string>& columns,
                                   const TextRow& row) const = 0;
  virtual std::string Truncate(const TargetTable& table) const = 0;

  // ---- the checkpoint row (kCheckpointTable in namespace `space`) ----
  virtual std::string CreateCheckpointTable(std::string_view space) const = 0;
  // One row with one column (the checkpoint text), or no row.
  virtual std::string SelectCheckpoint(std::string_view space, std::string_view sink) const {
    return "SELECT checkpoint FROM " + CheckpointTableName(space) +
           " WHERE sink_name = " + QuoteLiteral(sink);
  }
  virtual std::string UpsertCheckpoint(std::string_view space, std::string_view sink,
                                       std::string_view checkpoint) const = 0;
};

// Connects a new session (the core calls it at Open and after a retriable failure).
using ConnectFunction = std::function<Result<std::unique_ptr<TargetConnection>>()>;

// What an engine's factory hands to the core (MakeReplicaDestination in
// replica_destination.h).
struct Target {
  std::unique_ptr<TargetDialect> dialect;
  ConnectFunction connect;
  // The namespace source tables land in by default and where kCheckpointTable lives:
  // PostgreSQL the `schema=` parameter (default "public"); MySQL/MariaDB the URL's database.
  std::string default_space;
  // The URL without its password, for messages ("postgresql://eddy@db:5432/app?schema=s").
  std::string display_url;
};

}  // namespace eddy::sink::replica
