// PostgreSQL capture: a consistent snapshot and then every committed change, streamed with
// pgoutput into one log stream, exactly once. Design: docs/design/postgres-capture.md.
//
// Guarantees
// - No loss: the flush position acknowledged to PostgreSQL is the end LSN of the last
//   transaction durable in the log (Stream::HighestDurablePosition), never more; when nothing
//   is in flight the keepalive's WAL end is acknowledged so an idle slot does not pin WAL.
//   Feedback goes out at least every `feedback_interval` and whenever the server asks.
// - Exactly once in the log: each committed transaction is one AppendTransaction (or, when
//   larger than one part, one BeginTransaction..Commit) whose end position is
//   PostgresPosition{commit end LSN, commit LSN}; after a restart or reconnect,
//   streaming resumes at the log's durable position and the log drops any transaction at or
//   below it (reported as duplicate).
// - Faults: connection loss, server restart and pg_terminate_backend of the walsender are
//   retried with exponential backoff (in-flight transactions are discarded; the server resends
//   them). A missing or invalidated slot is fatal with an error naming the slot, except under
//   SnapshotMode::kWhenNeeded, which recreates the slot and takes a fresh snapshot.
// - Memory: a transaction's changes beyond `transaction_memory_bytes` spill to `spill_dir`;
//   at commit a transaction larger than one part (`append_part_records` records or
//   `append_part_bytes` bytes) is replayed into the log in parts through
//   Stream::BeginTransaction, so memory stays bounded whatever the transaction size; it still
//   becomes visible only as a whole, at its commit. Snapshot rows are read through a cursor
//   `snapshot_chunk_rows` at a time and appended the same way: the whole snapshot is one
//   transaction ending at the slot's consistent point, so an interrupted snapshot leaves
//   nothing visible and is taken again from the beginning (a warning names the stream).
// - Incremental snapshots (snapshot_type kIncremental; docs/snapshots.md): streaming starts at
//   once and each selected table is read in primary-key order, `snapshot_chunk_rows` rows per
//   chunk, between a low and a high watermark written with pg_logical_emit_message (DBLog). At
//   the high watermark the chunk's rows that the stream changed inside the window are dropped
//   and the rest are appended as one log transaction at the watermark's commit position, op
//   `r` with source.snapshot = kIncremental. Progress is written per chunk to
//   `<state_dir>/incremental_snapshot` before that append (source/incremental_snapshot.h says
//   why the two cannot disagree), so a crash or reconnect resumes at the last chunk in the log.
//   No long transaction, no lock. RequestSnapshot(), the signal table and request files in
//   `<state_dir>/snapshot-requests/` (`eddy snapshot`) start one on demand.
//
// Metrics (source/capture_metrics.h, labelled with the stream's name): events by table and
// op and the commit-to-durable lag, counted once a transaction is durable; snapshot rows and
// tables remaining; the slot's lag in bytes, wal_status and safe_wal_size, polled on a
// separate connection every slot_metrics_interval.
//
// Thread safety: Start/Stop/progress from any thread; the capture runs on its own thread (plus
// the append thread and the slot metrics poller).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "log/log_store.h"
#include "model/schema_registry.h"
#include "source/capture_state.h"
#include "source/incremental_snapshot.h"
#include "source/snapshot_mode.h"

namespace eddy::source::postgres {

// Shared by every source: source/snapshot_mode.h.
using source::ParseSnapshotMode;
using source::SnapshotMode;
using source::SnapshotModeName;

// One step of the append path, given to PostgresCaptureOptions::append_hook.
struct AppendStep {
  enum class Kind {
    kTransaction,     // a whole transaction appended with AppendTransaction (durable)
    kPart,            // a part of a large transaction written (not visible, not durable)
    kCommit,          // a transaction appended in parts committed (durable, visible)
    kSnapshotPart,    // snapshot rows written (not visible until kSnapshotCommit)
    kSnapshotCommit,  // the snapshot committed at the slot's consistent point
    kMessage,         // a non-transactional logical message appended
  };
  Kind kind = Kind::kTransaction;
  uint64_t records = 0;        // in this step; for kCommit/kSnapshotCommit the whole total
  Lsn end_lsn;                 // kTransaction/kCommit: the commit's end LSN
  int64_t commit_time_ns = 0;  // kTransaction/kCommit: the source commit time
  bool duplicate = false;      // kTransaction/kCommit: already in the log, nothing appended
};

struct PostgresCaptureOptions {
  // postgresql://user:pass@host:port/db?... or a libpq key=value string.
  std::string conninfo;
  std::string slot_name = "eddy_slot";
  std::string publication_name = "eddy_publication";
  // "schema.table" names ("table" means "public.table") to capture; empty = every table
  // (publication FOR ALL TABLES). Shell globs ("public.*", "sales.order_?") are allowed: the
  // publication is then FOR ALL TABLES and changes are filtered here. An existing publication
  // is reused as it is.
  std::vector<std::string> tables;
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  // How the initial snapshot is read: one consistent transaction (kBlocking) or DBLog chunks
  // while streaming (kIncremental; PostgreSQL 14 or later; each table needs a primary key, a
  // REPLICA IDENTITY USING INDEX index, or REPLICA IDENTITY FULL, which is read in ctid ranges
  // against a replication slot's exported snapshot: docs/snapshots.md).
  SnapshotType snapshot_type = SnapshotType::kBlocking;
  // The Debezium-style signal table ("schema.table"; columns id, type, data): its inserts, in
  // commit order, start, stop, pause and resume incremental snapshots (source/snapshot_signal.h;
  // a bad row is logged and ignored). Created when missing (id varchar(42) primary key, type
  // varchar(32), data varchar(2048)) and added to a publication eddy creates; its rows are not
  // appended to the log. Empty: no signal table.
  std::string signal_table;
  // Where the incremental snapshot's progress file lives (created if missing); empty: spill_dir.
  std::string state_dir;
  // Where large transactions spill (created if missing). Required.
  std::string spill_dir;
  // Emit pg_logical_emit_message() messages as op `m` events.
  bool capture_messages = false;
  // Logical name of the server in events (Debezium's topic prefix).
  std::string server_name;
  size_t transaction_memory_bytes = 64u << 20;
  // Rows per FETCH of the blocking snapshot and per chunk of an incremental snapshot.
  size_t snapshot_chunk_rows = 10000;
  // Connections the blocking snapshot reads with (1..64): above 1, each table's pages are split
  // into that many ctid ranges, read by connections that all import the slot's exported
  // snapshot (the same consistent read, no lock); the rows still form one log transaction.
  // Blocking snapshots only (an incremental snapshot with more than 1 is refused at Start).
  size_t snapshot_parallelism = 1;
  // A transaction (or snapshot) with more records or payload bytes than this is appended in
  // parts of this size (Stream::BeginTransaction); smaller ones with one AppendTransaction.
  // A blocking snapshot's parts hold at most 1,000 records whatever this says (a part that
  // still sits in the cache when the append thread frames it).
  size_t append_part_records = 10000;
  size_t append_part_bytes = 8u << 20;
  // Test and benchmark hook, called on the appending thread after each step succeeded. A
  // non-OK result is handled as a failure of that step (fault injection): a transaction being
  // appended in parts is aborted, and the capture reconnects, as after a failed append to the
  // log (any error but kFailedPrecondition and kInvalidArgument, which stop the capture).
  // Empty: no hook.
  std::function<Status(const AppendStep&)> append_hook;
  std::chrono::milliseconds feedback_interval{10000};
  // How often the slot's lag (WAL bytes from confirmed_flush_lsn to the current LSN),
  // wal_status and safe_wal_size are queried for the metrics, on a connection of their own
  // (source/capture_metrics.h); also once streaming starts.
  std::chrono::milliseconds slot_metrics_interval{10000};
  std::chrono::milliseconds reconnect_initial_backoff{200};
  std::chrono::milliseconds reconnect_max_backoff{10000};
  io::FileSystem* file_system = nullptr;  // nullptr: io::DefaultFileSystem()
  // The stream's table schemas (schema/schema_history.h): every relation (streamed or
  // snapshot) gets its version here, recorded before an event uses it. Null (tests): versions
  // count from 1 per process.
  std::shared_ptr<model::SchemaRegistry> schemas;
};

struct PostgresCaptureProgress {
  CaptureState state = CaptureState::kStarting;  // kStopped after Stop(), kFinished by itself
  Lsn durable_lsn;                      // end LSN of the last transaction durable in the log
  Lsn acknowledged_lsn;                 // last flush position sent to the server
  uint64_t transactions = 0;            // appended (not duplicates)
  uint64_t duplicate_transactions = 0;  // skipped because already in the log
  uint64_t events = 0;
  uint64_t snapshot_rows = 0;
  uint64_t snapshot_rows_estimated = 0;
  uint64_t reconnects = 0;
  uint64_t spilled_transactions = 0;
  uint64_t parted_transactions = 0;  // appended in parts (larger than one part)
  uint64_t log_commits = 0;          // log appends that made transactions durable (queued
                                     // small transactions are group-committed: fewer)
  uint64_t queued_appends = 0;       // entries waiting for the appender thread now
  std::string last_error;
  // Incremental snapshot: "" (none), "running", "paused" or "complete"; rows appended and
  // chunks finished by this process.
  std::string incremental_snapshot;
  uint64_t incremental_rows = 0;
  uint64_t incremental_chunks = 0;
};

class PostgresCapture {
 public:
  // Validates the options and starts the capture thread. `stream` receives the events; it
  // must be the only writer that uses PostgreSQL positions on it.
  static Result<std::unique_ptr<PostgresCapture>> Start(PostgresCaptureOptions options,
                                                        std::shared_ptr<log::Stream> stream);
  ~PostgresCapture();  // Stop()
  PostgresCapture(const PostgresCapture&) = delete;
  PostgresCapture& operator=(const PostgresCapture&) = delete;

  // Stops the thread (after the transaction being appended, if any; a large transaction still
  // being replayed in parts is abandoned instead: nothing of it is visible, and the slot sends
  // it again on the next start). Returns the fatal error that ended the capture, or OK.
  // Idempotent.
  Status Stop();

  // Blocks until the capture ends by itself (initial_only finished, fatal error) or `timeout`
  // passes; true when it ended.
  bool WaitUntilFinished(std::chrono::milliseconds timeout);

  PostgresCaptureProgress progress() const;

  // Queues an incremental snapshot of `request.tables` (added to a running one); the capture
  // thread picks it up while streaming. Tables outside the capture's table filter are refused
  // when the request is taken (logged error). Any thread.
  void RequestSnapshot(SnapshotRequest request);
  // Pauses, resumes or stops (some tables of) the running incremental snapshot. Any thread.
  void ControlSnapshot(SnapshotControl control);

 private:
  class Runner;
  PostgresCapture() = default;
  std::unique_ptr<Runner> runner_;
  std::thread thread_;
};

}  // namespace eddy::source::postgres
