// ChangeEvent: the one canonical record of a committed row change that the log stores and
// every format renders. Plain value type; any thread may use its own copies.
//
// Shape by operation:
//   c insert, r snapshot read: after set, before unset.
//   u update:                  after set; before set when the source sent the old row
//                              (PostgreSQL REPLICA IDENTITY FULL / key change, MySQL FULL image).
//   d delete:                  before set (full row, or only the key columns), after unset.
//   t truncate:                neither; key empty.
//   m logical message:         `message` set; table may be empty.
//   s schema change:           `schema_change` set; `table` names the table (name empty for
//                              database-level DDL); key, before, after empty.
//   b transaction begin:       neither image; `transaction_id` set; table empty.
//   e transaction end:         `transaction_summary` set (event counts); table empty.
//   h heartbeat:               nothing but position and times; table empty.
// Begin, end and heartbeat records are written by eddy itself (engine/shaping_stream.h,
// engine heartbeats), never by a source.
// `key` always holds the primary key (or replica identity) columns of the row, in key order,
// taken from after (or before for deletes); empty for tables without a key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/position.h"
#include "model/schema.h"
#include "model/value.h"

namespace eddy::model {

// Serialized. Values never change.
enum class Operation : uint8_t {
  kInsert = 1,    // "c"
  kUpdate = 2,    // "u"
  kDelete = 3,    // "d"
  kRead = 4,      // "r" (snapshot)
  kTruncate = 5,  // "t"
  kMessage = 6,   // "m" (PostgreSQL logical decoding message)
  kSchemaChange = 7,      // "s" (DDL: CREATE/ALTER/DROP/RENAME TABLE, CREATE/DROP DATABASE)
  kTransactionBegin = 8,  // "b" (transaction metadata: BEGIN record)
  kTransactionEnd = 9,    // "e" (transaction metadata: END record with event counts)
  kHeartbeat = 10,        // "h" (liveness record of an idle stream)
};
inline constexpr Operation kLastOperation = Operation::kHeartbeat;

// True for the operations that carry a row change (c, u, d, r): the ones that have a key and
// images and that consumers apply to a table.
bool IsRowChange(Operation op);

// The one-letter code used by the native and Debezium formats ("c", "u", ...).
std::string_view OperationCode(Operation op);
// Parses a one-letter code.
Result<Operation> ParseOperationCode(std::string_view code);

// Serialized. Values never change.
enum class ConnectorKind : uint8_t {
  kUnknown = 0,
  kPostgres = 1,
  kMysql = 2,
  kMariadb = 3,
};
// "postgresql", "mysql", "mariadb" (the `connector` field of the native and Debezium formats).
std::string_view ConnectorName(ConnectorKind kind);

// Serialized. Debezium's source.snapshot values.
enum class SnapshotMarker : uint8_t {
  kFalse = 0,  // streamed change
  kTrue = 1,   // snapshot row
  kFirst = 2,  // first row of the snapshot
  kLast = 3,   // last row of the snapshot
  kIncremental = 4,  // row of an incremental (DBLog) snapshot chunk (source/incremental_snapshot.h)
};

// Where a change came from, beyond its position: what format renderers put in `source`.
struct SourceInfo {
  ConnectorKind connector = ConnectorKind::kUnknown;
  // Logical name of the captured server (Debezium's topic prefix); "" when not configured.
  std::string server_name;
  SnapshotMarker snapshot = SnapshotMarker::kFalse;
  // MySQL/MariaDB only: thread id of the session that made the change, row index within the
  // binlog rows event, and the original SQL when binlog_rows_query_log_events is on.
  uint64_t mysql_thread_id = 0;
  uint32_t mysql_row = 0;
  std::string query;
  bool operator==(const SourceInfo&) const = default;
};

// A PostgreSQL logical decoding message (pg_logical_emit_message).
struct LogicalMessage {
  std::string prefix;
  std::string content;  // bytes
  bool transactional = true;
  bool operator==(const LogicalMessage&) const = default;
};

// Serialized. Values never change. What a DDL statement did, as far as the source classified
// it; formats map it to their own vocabulary (DMS control operations, Debezium tableChanges
// type). A statement that does several things (ALTER TABLE ... ADD x, DROP y) is kAlterTable.
enum class SchemaChangeKind : uint8_t {
  kOther = 0,            // anything else (CREATE INDEX, GRANT, ...): ddl text only
  kCreateTable = 1,
  kDropTable = 2,
  kAlterTable = 3,       // unclassified or several alterations in one statement
  kRenameTable = 4,      // `previous_name` holds the old table name
  kAddColumn = 5,
  kDropColumn = 6,
  kRenameColumn = 7,
  kColumnTypeChange = 8,
  kCreateDatabase = 9,
  kDropDatabase = 10,
  kAlterDatabase = 11,
};
inline constexpr SchemaChangeKind kLastSchemaChangeKind = SchemaChangeKind::kAlterDatabase;
// "other", "create-table", "drop-table", "alter-table", "rename-table", "add-column",
// "drop-column", "rename-column", "column-type-change", "create-database", "drop-database",
// "alter-database".
std::string_view SchemaChangeKindName(SchemaChangeKind kind);

// A DDL statement the source applied (op == kSchemaChange). The table it changed is the
// event's `table` (TableId::name empty for database-level statements).
struct SchemaChange {
  SchemaChangeKind kind = SchemaChangeKind::kOther;
  std::string ddl;  // the statement as the source logged it
  // The table's columns and primary key after the statement (create/alter/rename), as the
  // source's catalog reports them; nullopt for drops, database-level and unclassified DDL.
  std::optional<TableSchema> table_schema;
  // kRenameTable: the table's name before the statement; "" otherwise.
  std::string previous_name;
  bool operator==(const SchemaChange&) const = default;
};

// Debezium's per-event `transaction` block, set on every row change of a stream with
// transaction metadata on (engine/shaping_stream.h).
struct TransactionOrder {
  uint64_t total_order = 0;            // 1-based position among the transaction's events
  uint64_t data_collection_order = 0;  // 1-based position among its events of this table
  bool operator==(const TransactionOrder&) const = default;
};

// The counts a transaction END record carries (op == kTransactionEnd).
struct TransactionSummary {
  struct Collection {
    std::string name;  // TableId::QualifiedName() ("public.orders", "shop.orders")
    uint64_t event_count = 0;
    bool operator==(const Collection&) const = default;
  };
  uint64_t event_count = 0;  // the transaction's records in this stream (after shaping)
  std::vector<Collection> data_collections;  // in order of first appearance
  bool operator==(const TransactionSummary&) const = default;
};

struct ChangeEvent {
  Operation op = Operation::kInsert;
  TableId table;
  Row key;
  std::optional<Row> before;
  std::optional<Row> after;
  std::optional<LogicalMessage> message;  // op == kMessage only
  std::optional<SchemaChange> schema_change;  // op == kSchemaChange only
  std::optional<TransactionOrder> transaction_order;  // row changes, transaction metadata on
  std::optional<TransactionSummary> transaction_summary;  // op == kTransactionEnd only

  SourcePosition position;
  // Commit time of the source transaction (snapshot reads: time of the snapshot), ns since the
  // Unix epoch. Sources with microsecond or second precision multiply up.
  int64_t commit_time_ns = 0;
  // When eddy captured the change (decoded it), ns since the Unix epoch: the envelope's ts_ms.
  int64_t capture_time_ns = 0;
  // Source transaction id as text: PostgreSQL xid ("7421"); MySQL/MariaDB GTID when enabled,
  // otherwise "file:position" of the transaction's BEGIN; snapshot rows: the source's snapshot
  // id ("snapshot:<position>").
  std::string transaction_id;
  // 0-based index of this event within its transaction (or snapshot).
  uint64_t ordinal_in_transaction = 0;
  // Version of the TableSchema the row was decoded with.
  uint32_t schema_version = 0;
  SourceInfo source;

  // Table plus primary key values in a stable text form: every change to one row yields the
  // same key (the log shards by it). Tables without a key yield the table alone, so their
  // changes stay in one shard in order. Format: "<len>:<database><len>:<schema><len>:<name>"
  // followed by "<len>:<Value::CanonicalText()>" per key column.
  std::string PartitionKey() const;

  std::string DebugString() const;
  bool operator==(const ChangeEvent&) const = default;
};

// PartitionKey() in pieces, for encoders that build the key without a ChangeEvent: the table
// part once, then one part per key column value in key order.
void AppendPartitionKeyTable(const TableId& table, std::string& out);
void AppendPartitionKeyValue(const Value& value, std::string& out);

}  // namespace eddy::model
