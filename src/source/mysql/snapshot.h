// Consistent snapshot of MySQL/MariaDB tables into the log as op `r` events, without a global
// lock on MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, then the binlog_snapshot_file /
// binlog_snapshot_position status variables give the binlog position that matches the
// snapshot exactly (BINLOG_GTID_POS converts it to a GTID). MySQL has no such variables; there
// the position is read under FLUSH TABLES WITH READ LOCK, released before the rows are read.
//
// With `parallelism` N above 1 the rows are read over N connections that all see one
// consistent view (StartConsistentSnapshots): on MariaDB each connection starts its consistent
// snapshot and reports its binlog_snapshot position; equal positions mean equal views (each
// snapshot is exactly the transactions before its position in the binlog), so no lock is
// taken unless the server is too busy for the positions to agree a few times in a row. Then, as
// on MySQL, FLUSH TABLES WITH READ LOCK is held only while the N connections start their
// snapshots and the position is read: no transaction commits meanwhile, so all N see the state
// at that position. Tables and key ranges of large tables (KeyRangeBoundaries) are the units
// the connections take from one list; rows go through a bounded queue to the calling thread,
// which appends them as the same single snapshot as with one connection.
//
// Rows are streamed (mysql_use_result) and appended as one log transaction (a
// log::TransactionAppender) committed at the snapshot position: nothing of it is visible, and
// the stream's high-water mark does not move, until the whole snapshot is durable. A snapshot
// interrupted by a crash, an error or Cancel leaves nothing in the log and is taken again from
// the start. The transaction is written in parts of at most kSnapshotPartRecords records
// (source/snapshot_records.h; fewer when `chunk_rows` is smaller), each on a helper thread
// (SnapshotAppendThread) while the next one is read (one in flight, in order); a snapshot of
// one part is a single AppendTransaction.
//
// Thread safety: Run on one thread (it starts and joins its append helper); Cancel from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_appender.h"
#include "base/position.h"
#include "base/status.h"
#include "localdb/sql_session.h"
#include "log/log_store.h"
#include "model/schema.h"
#include "model/schema_registry.h"
#include "model/value.h"

namespace eddy::source {
class SnapshotRowEncoding;
}  // namespace eddy::source

namespace eddy::source::mysql {

class SchemaHistory;

struct SnapshotOptions {
  localdb::SqlEndpoint endpoint;
  std::vector<std::string> tables;  // "db.table"; empty = all non-system tables
  size_t chunk_rows = 10000;
  std::string server_name;
  bool mariadb = true;
  SchemaHistory* history = nullptr;  // optional: schema versions shared with streaming
  // Optional: the stream's schema registry; when set it gives the versions (not `history`)
  // and schemas carry precision and scale (SetTypeModifiers).
  model::SchemaRegistry* schemas = nullptr;
  // Connections reading at once (1..64): tables and key ranges of large tables in parallel.
  size_t parallelism = 1;
};

struct SnapshotProgress {
  uint64_t tables = 0;
  uint64_t tables_done = 0;
  uint64_t rows = 0;
  std::string table;  // QualifiedName() of the table being read (rows since the last report)
};

// One column as information_schema describes it, with the value mapping of the binlog path.
struct SnapshotColumn {
  std::string name;
  std::string data_type;    // "int", "varchar", "datetime", ...
  std::string column_type;  // "int(10) unsigned", "enum('a','b')", ...
  bool is_unsigned = false;
  bool binary = false;  // binary collation / BLOB / BINARY
  bool nullable = true;
  int fsp = 0;  // DATETIME_PRECISION for temporal types
  model::ValueType type = model::ValueType::kText;
  std::string source_type;  // same spelling as ColumnInfo::SourceTypeName
};

// Builds the column description from information_schema.COLUMNS values.
SnapshotColumn DescribeSnapshotColumn(const std::string& name, const std::string& data_type,
                                      const std::string& column_type,
                                      const std::string& character_set, bool nullable,
                                      int numeric_precision, int numeric_scale, int fsp,
                                      bool mariadb);

// A table as information_schema describes it, for the blocking and the incremental snapshot
// alike: the columns' value mappings, and the model schema with each column's declared type,
// collation and the primary key (ordinals set; `key_indexes` index `columns`). A table that does
// not exist has no columns. The schema's version is not assigned here.
struct SnapshotTable {
  std::vector<SnapshotColumn> columns;
  model::TableSchema schema;
  std::vector<size_t> key_indexes;
};
Result<SnapshotTable> DescribeSnapshotTable(localdb::MariadbSession& session,
                                            const model::TableId& table, bool mariadb);

// The SELECT the snapshot reads `table` with: the columns in order, FLOAT widened to DOUBLE so
// its text is exact (ParseTextValue narrows it back).
std::string SnapshotSelect(const model::TableId& table, const std::vector<SnapshotColumn>& columns);

// Parses one text-protocol value (session time_zone '+00:00', character set utf8mb4).
Result<model::Value> ParseTextValue(const SnapshotColumn& column, std::string_view text);

// One text-protocol value (`value` null for NULL) appended to `out` as model::EncodeValue
// writes it: ParseTextValue'd, text and integers without a model::Value in between. Errors
// name the column. The sequential blocking snapshot calls it per column straight into its
// records (SnapshotRecordWriter::AddEncoded).
[[nodiscard]] Status EncodeTextColumn(const SnapshotColumn& column, const char* value,
                                      unsigned long length, std::string& out);
[[nodiscard]] Status EncodeTextColumn(const SnapshotColumn& column, const char* value,
                                      unsigned long length, ByteAppender& out);

// One text-protocol row (MYSQL_ROW and mysql_fetch_lengths) into `encoding`, replacing its
// values: each value ParseTextValue'd and encoded as model::EncodeValue writes it, NULL as a
// null. The one decode loop of the blocking snapshot, sequential and parallel (the
// incremental snapshot's chunks are still decoded into model rows, for the chunk window).
// Errors name the column.
[[nodiscard]] Status EncodeTextRow(const std::vector<SnapshotColumn>& columns,
                                   const char* const* row, const unsigned long* lengths,
                                   SnapshotRowEncoding& encoding);

// "(k1, ..., kn) > (v1, ..., vn)" and "(k1, ..., kn) <= (v1, ..., vn)" spelled out for
// MariaDB's range optimizer (it turns these into primary key ranges), values quoted by
// `session`. `key` has one text value per key column.
std::string KeyAfterCondition(localdb::MariadbSession& session,
                              const std::vector<std::string>& key_names,
                              const std::vector<std::string>& key);
std::string KeyAtMostCondition(localdb::MariadbSession& session,
                               const std::vector<std::string>& key_names,
                               const std::vector<std::string>& key);

// Key boundaries splitting `table` (rows matching `condition`, "" = all) into at most `parts`
// ranges of about equal row counts, none when it has fewer than two `min_rows`: COUNT(*), then
// the key of every step-th row in key order, each found after the previous one. Boundary i is
// the last key of range i (inclusive).
Result<std::vector<std::vector<std::string>>> KeyRangeBoundaries(
    localdb::MariadbSession& session, const model::TableId& table,
    const std::vector<std::string>& key_names, const std::string& condition, size_t parts,
    size_t min_rows);

class Snapshotter {
 public:
  Snapshotter(SnapshotOptions options, std::shared_ptr<log::Stream> stream)
      : options_(std::move(options)), stream_(std::move(stream)) {}

  // Takes the snapshot; returns the position streaming continues from.
  Result<MysqlPosition> Run(const std::function<void(const SnapshotProgress&)>& on_progress);

  void Cancel() { cancelled_ = true; }

 private:
  Result<MysqlPosition> RunParallel(
      const std::function<void(const SnapshotProgress&)>& on_progress);

  SnapshotOptions options_;
  std::shared_ptr<log::Stream> stream_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace eddy::source::mysql
