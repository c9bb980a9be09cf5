// MySQL/MariaDB capture: (optionally) a consistent snapshot, then every committed row change
// from the binlog, appended to one log stream exactly once. Design: docs/design/mysql-capture.md;
// value mapping: docs/formats/types-mysql.md.
//
// Guarantees
// - Transactions: events are grouped from GTID/BEGIN to XID/COMMIT (DDL: GTID + QUERY) and
//   appended with AppendTransaction (on an append thread, so decoding the next transactions
//   overlaps the fsync of the previous batch; positions are reported durable only after it
//   returns); the end position is MysqlPosition{server_id, end = binlog
//   file and offset just after the commit event, gtid}. Several committed transactions may be
//   appended in one call (end = the last one's), so readers still never see half of one.
// - Exactly once: on start and after every reconnect, streaming resumes at the log's highest
//   durable position (file/offset of the last logged commit; on MariaDB by GTID: the server's
//   GTID state at that position, BINLOG_GTID_POS, as @slave_connect_state), and any
//   transaction at or below it is skipped (the log also refuses it as a duplicate).
// - Faults: a lost connection, a killed dump thread or a restarted server is retried with
//   exponential backoff; the transaction in flight is dropped and re-read. Fatal (capture
//   stops, progress().state is CaptureState::kFailed, Stop() returns the error): a purged binlog
//   (the error names the file), a replica server_id clash, statement-based DML or partial row
//   images in a captured table, binlog settings capture cannot work with, undecodable events.
// - Schema: tables are decoded with the TABLE_MAP of their own transaction (binlog_row_metadata
//   =FULL gives names, signedness, charsets, ENUM/SET labels and the primary key); each distinct
//   column list gets a version in the schema history kept in `data_dir`, and DDL statements are
//   recorded there, durably, across restarts. Each DDL on a captured table (or database) also
//   becomes a schema change event (op `s`: kind, table, statement, CREATE TABLE columns; see
//   ddl_parser.h) in binlog order with the row events; TRUNCATE TABLE becomes op `t`.
// - Memory: the event queue between the socket reader and the decoder is bounded; a source
//   transaction's rows are held in memory (as binlog bytes) up to large_transaction_bytes, and
//   beyond that spill to the data directory and are appended in parts at the commit (nothing
//   visible before the log commits the whole; an error or crash in between leaves no trace).
//
// Metrics (source/capture_metrics.h, labelled with the stream's name): events by table and
// op, counted per batch once it is durable (each table's counters are resolved once, with its
// TABLE_MAP); commit-to-durable lag (whole seconds: the binlog's commit timestamps are);
// snapshot rows and tables remaining; binlog bytes behind, polled every lag_metrics_interval.
//
// Thread safety: Start/Stop/progress from any thread; the capture runs on its own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/log_store.h"
#include "model/schema_registry.h"
#include "source/capture_state.h"
#include "source/incremental_snapshot.h"
#include "source/snapshot_mode.h"

namespace eddy::source::mysql {

// Shared by every source: source/snapshot_mode.h.
using source::ParseSnapshotMode;
using source::SnapshotMode;
using source::SnapshotModeName;

struct MysqlCaptureOptions {
  // mysql://user:pass@host:port/db?ssl_mode=... (also mariadb://).
  std::string url;
  // The replica id to register with: non-zero, unique among the server's replicas.
  uint32_t server_id = 0;
  // "database.table" names to capture; empty = every table outside the system databases.
  std::vector<std::string> tables;
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  // Holds the schema history (created if missing). Required.
  std::string data_dir;
  // Logical server name in events (Debezium's topic prefix).
  std::string server_name;
  // Where to start when the log has no position and no snapshot runs; empty = the server's
  // current position (SHOW MASTER STATUS).
  std::optional<BinlogPosition> start_position;
  // Keep the SQL text of ANNOTATE_ROWS events in source.query.
  bool include_query = false;
  size_t snapshot_chunk_rows = 10000;
  // Connections reading a snapshot at once (1..64): several tables, or key ranges of a large
  // table. Incremental: chunks in flight at the same time, each between its own watermarks.
  // Blocking: N connections on one consistent view (snapshot.h says how).
  size_t snapshot_parallelism = 1;
  // How the initial snapshot is read: blocking (one consistent transaction, default) or
  // incremental (DBLog chunks between watermarks while streaming; docs/snapshots.md).
  SnapshotType snapshot_type = SnapshotType::kBlocking;
  // "database.table" of Debezium's signal table (id, type, data), created when missing; its
  // committed rows start, pause, resume and stop incremental snapshots and are not logged.
  // Empty: no signal table (`eddy snapshot` and RequestSnapshot still work).
  std::string signal_table;
  // "database.table" the incremental snapshot writes its watermarks to (created when missing,
  // one row per capture); empty = "<url database>.eddy_watermark". Never logged.
  std::string watermark_table;
  std::chrono::milliseconds heartbeat_period{5000};
  std::chrono::milliseconds reconnect_initial_backoff{200};
  std::chrono::milliseconds reconnect_max_backoff{10000};
  // Consecutive failed reconnects before giving up; 0 = never give up.
  uint32_t max_reconnect_attempts = 0;
  // An append is issued when the decoded batch reaches this many bytes, or when no more
  // events are waiting.
  size_t append_batch_bytes = 8u << 20;
  size_t queue_bytes = 64u << 20;  // events read ahead of the decoder
  // Binlog bytes of one source transaction's rows held in memory until its commit; a larger
  // transaction spills them to `data_dir` and is appended to the log in parts of
  // append_batch_bytes (log TransactionAppender), so memory stays bounded.
  size_t large_transaction_bytes = 8u << 20;
  // How often the binlog bytes behind the durable position are measured for the metrics
  // (SHOW BINARY LOGS on a connection of its own; source/capture_metrics.h).
  std::chrono::milliseconds lag_metrics_interval{10000};
  io::FileSystem* file_system = nullptr;  // nullptr: io::DefaultFileSystem()
  // The stream's table schemas (schema/schema_history.h): every TABLE_MAP's and snapshot
  // table's schema gets its version here, recorded before an event uses it. Null (tests):
  // versions come from the capture's own history in `data_dir`.
  std::shared_ptr<model::SchemaRegistry> schemas;
};

struct MysqlCaptureProgress {
  CaptureState state = CaptureState::kStarting;  // kStopped after Stop(), kFinished by itself
  BinlogPosition durable;                        // end of the last transaction durable in the log
  std::string durable_gtid;
  uint64_t transactions = 0;            // appended (not duplicates)
  uint64_t duplicate_transactions = 0;  // skipped because already in the log
  uint64_t events = 0;                  // change events appended
  uint64_t ddl_statements = 0;
  uint64_t spilled_transactions = 0;  // larger than large_transaction_bytes
  uint64_t heartbeats = 0;
  uint64_t snapshot_rows = 0;
  uint64_t snapshot_tables_done = 0;
  uint64_t snapshot_tables = 0;
  uint64_t reconnects = 0;
  uint64_t binlog_bytes = 0;
  // Time the capture thread spent decoding events (incl. encoding change events) and waiting
  // for durable appends: where a slow capture spends its time.
  int64_t decode_nanos = 0;
  int64_t append_nanos = 0;
  // Appends run on their own thread, overlapping decoding: this is the time the capture thread
  // spent waiting for the append before it (the part of append_nanos not hidden).
  int64_t append_wait_nanos = 0;
  std::string last_error;
  // MariaDB: the GTID state the current session's dump resumed from (@slave_connect_state);
  // empty when it resumed by binlog file/offset.
  std::string resume_gtid_state;
  // Incremental snapshot: "" (none), "running", "paused", "complete"; chunks and rows appended.
  std::string incremental_snapshot;
  uint64_t incremental_chunks = 0;
  uint64_t incremental_rows = 0;
};

class MysqlCapture {
 public:
  // Validates the options and starts the capture thread. `stream` receives the events; it
  // must be the only writer using MySQL positions on it.
  static Result<std::unique_ptr<MysqlCapture>> Start(MysqlCaptureOptions options,
                                                     std::shared_ptr<log::Stream> stream);
  ~MysqlCapture();  // Stop()
  MysqlCapture(const MysqlCapture&) = delete;
  MysqlCapture& operator=(const MysqlCapture&) = delete;

  // Stops the threads (the transaction being appended completes first). Returns the fatal
  // error that ended the capture, or OK. Idempotent.
  Status Stop();

  // Blocks until the capture ends by itself (initial_only finished, fatal error) or `timeout`
  // passes; true when it ended.
  bool WaitUntilFinished(std::chrono::milliseconds timeout);

  MysqlCaptureProgress progress() const;

  // An on-demand incremental snapshot, or pause / resume / stop (as the signal table's rows);
  // taken by the capture thread at its next step. Any thread.
  void RequestSnapshot(SnapshotRequest request);
  void ControlSnapshot(SnapshotControl control);

  // The binlog connection's server thread id (to find or KILL the dump thread in tests);
  // 0 when not connected.
  uint64_t dump_connection_id() const;

 private:
  class Runner;
  MysqlCapture() = default;
  std::unique_ptr<Runner> runner_;
  std::thread thread_;
};

}  // namespace eddy::source::mysql
