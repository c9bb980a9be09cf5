// Incremental snapshots (the DBLog watermark algorithm), the parts every source shares: the
// durable progress file, the watermark vocabulary and the chunk window that decides which rows
// of a chunk survive. Spec of the file: docs/formats/incremental-snapshot.md; the algorithm and
// what it guarantees: docs/snapshots.md.
//
// The file (`<capture state dir>/incremental_snapshot`):
//
//   "EDDYSNAP"                   8-byte magic
//   u32 version = 1
//   lp snapshot id               unique per snapshot (names the watermarks it emits)
//   lp origin                    "initial", "signal:<id>" or "request:<id>"
//   u8 flags                     1 = paused
//   varint table count | table * count, in snapshot order:
//     lp table                   "schema.table" (PostgreSQL) / "database.table" (MySQL)
//     lp condition               SQL boolean expression limiting the rows; "" = every row
//     u8 state                   0 pending, 1 done, 2 skipped (see `reason`)
//     varint key column count | lp key text * count   the last key emitted ("" count = start)
//     varint rows                rows emitted so far
//     varint previous key count | lp text * count     the key before the pending chunk
//     varint pending position    source position (bytes, docs/formats/source-position.md,
//                                lp-framed; empty = none) at which the last chunk's rows were
//                                handed to the log; valid only once the log is durable there
//     lp reason                  why the table was skipped; "" otherwise
//   u32 masked CRC-32C of every byte before it
// (`lp` = varint length + bytes; integers little-endian; varints unsigned LEB128.)
//
// The pending chunk rule (why progress and log cannot disagree): a chunk's rows are appended to
// the log as one transaction at the high watermark's position P, and the file is written
// (durably) *before* that append with last key = the chunk's last key, previous key = the key
// before the chunk and pending position = P. On load, if the log's durable position is below
// P the append never became durable: the table goes back to the previous key and the chunk is
// read again. Otherwise the chunk is in the log. Either way no row is lost or duplicated.
//
// Thread safety: pure functions and value types, except IncrementalSnapshotter (below).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "model/event.h"

namespace eddy::source {

inline constexpr std::string_view kIncrementalSnapshotMagic = "EDDYSNAP";
inline constexpr uint32_t kIncrementalSnapshotVersion = 1;
inline constexpr std::string_view kIncrementalSnapshotFile = "incremental_snapshot";
// The prefix of the watermark messages (PostgreSQL pg_logical_emit_message) and the value of
// the watermark table's `type` column (MySQL).
inline constexpr std::string_view kWatermarkPrefix = "eddy.watermark";

// How the initial snapshot is taken (config `source.snapshot_type`).
enum class SnapshotType : uint8_t {
  kBlocking = 0,     // one consistent read, one log transaction (default)
  kIncremental = 1,  // DBLog chunks between watermarks while streaming
};
// "blocking" or "incremental".
Result<SnapshotType> ParseSnapshotType(std::string_view text);
std::string_view SnapshotTypeName(SnapshotType type);

enum class TableSnapshotState : uint8_t { kPending = 0, kDone = 1, kSkipped = 2 };

struct TableSnapshotProgress {
  std::string table;
  std::string condition;
  TableSnapshotState state = TableSnapshotState::kPending;
  std::vector<std::string> last_key;  // text values of the key columns; empty: from the start
  uint64_t rows = 0;
  std::vector<std::string> previous_key;
  SourcePosition pending_position;  // empty: nothing pending
  std::string reason;
  bool operator==(const TableSnapshotProgress&) const = default;
};

struct IncrementalSnapshotState {
  std::string id;
  std::string origin;
  bool paused = false;
  std::vector<TableSnapshotProgress> tables;

  // The first pending table, or nullptr when every table is done or skipped.
  TableSnapshotProgress* Current();
  bool Complete() const;
  // Applies the pending chunk rule against the log's durable position: a chunk handed to the
  // log at a position above `durable` is read again. Returns how many tables were rolled back.
  size_t Reconcile(const SourcePosition& durable);
  bool operator==(const IncrementalSnapshotState&) const = default;
};

std::string EncodeIncrementalSnapshotState(const IncrementalSnapshotState& state);
// kCorruption for bytes that are not a valid version-1 file; kFailedPrecondition for another
// version.
Result<IncrementalSnapshotState> DecodeIncrementalSnapshotState(std::string_view bytes);

// An on-demand incremental snapshot (Debezium's execute-snapshot): tables as written by the
// user ("schema.table"; PostgreSQL also takes "table" for "public.table"), each optionally
// limited by an SQL condition (Debezium's additional-conditions).
struct SnapshotRequest {
  std::string origin;  // "request:<id>", "signal:<id>": logged and kept in the progress file
  std::vector<std::string> tables;
  std::vector<std::pair<std::string, std::string>> conditions;  // table -> SQL condition
};

// Debezium's pause-snapshot, resume-snapshot and stop-snapshot.
struct SnapshotControl {
  enum class Kind : uint8_t { kPause = 0, kResume = 1, kStop = 2 };
  Kind kind = Kind::kPause;
  std::string origin;
  std::vector<std::string> tables;  // kStop: the tables to drop; empty = the whole snapshot
};
std::string_view SnapshotControlName(SnapshotControl::Kind kind);

// Watermark payloads: "<snapshot id>:<chunk sequence>:low" / ":high".
struct Watermark {
  std::string snapshot_id;
  uint64_t chunk = 0;
  bool high = false;
  bool operator==(const Watermark&) const = default;
};
std::string FormatWatermark(const Watermark& watermark);
std::optional<Watermark> ParseWatermark(std::string_view text);

// The window of one chunk: between its low and its high watermark the stream's committed
// changes to the chunk's table are noted by key; at the high watermark the chunk's rows whose
// key was changed are dropped (the streamed change is newer). Keys are model partition keys
// (table + key values), so a row and a change of the same row compare equal.
class ChunkWindow {
 public:
  // `key_columns`: the table's key column names, for the old key of a key-changing update.
  ChunkWindow(model::TableId table, std::vector<std::string> key_columns);
  const model::TableId& table() const { return table_; }
  bool open() const { return open_; }
  void Open() { open_ = true; }
  // Notes a committed streamed change (ignored unless the window is open and it is the table's).
  void OnChange(const model::ChangeEvent& event);
  // The same for a source that has the change's partition key (model::ChangeEvent::
  // PartitionKey() bytes) but no decoded event (MySQL encodes rows straight into records): the
  // caller passes the table's own key for each committed change of the window's table, and the
  // old key too for an update that changed it.
  void OnKey(std::string partition_key) {
    if (open_) changed_.insert(std::move(partition_key));
  }
  // A TRUNCATE of the window's table committed inside the window: the whole chunk is dropped.
  void OnTruncate() {
    if (open_) truncated_ = true;
  }
  // Keeps the rows no change inside the window touched; closes the window.
  std::vector<model::ChangeEvent> Filter(std::vector<model::ChangeEvent> rows);
  size_t changed_keys() const { return changed_.size(); }
  bool truncated() const { return truncated_; }

 private:
  model::TableId table_;
  std::vector<std::string> key_columns_;
  bool open_ = false;
  bool truncated_ = false;
  std::unordered_set<std::string> changed_;
};

// The incremental snapshot driver every source's capture uses, one per capture: the progress
// file, requests (signal rows, `eddy snapshot` request files, API calls), pause / resume /
// stop, which table's chunk is read next, and the chunk in flight between its watermarks. The
// source does only what is its database's:
//   1. NextTable() says which table to read (nullptr: nothing to do now);
//   2. BeginChunk() gives the low watermark, which the source writes (its own autocommit
//      transaction), then the source reads the next `chunk rows` rows after the table's
//      last_key in key order (with its condition), hands them to ReadChunk(), which gives the
//      high watermark, and writes it;
//   3. every committed streamed change of window()->table() goes to the window (OnChange /
//      OnKey / OnTruncate), in commit order;
//   4. every watermark the stream delivers goes to OnWatermark() in commit order; at our high
//      watermark it persists the progress (the pending chunk rule) and returns the chunk's
//      surviving rows, which the source appends as one log transaction at the watermark's
//      commit position.
// Why this is enough: docs/snapshots.md (the DBLog argument and the pending chunk rule).
//
// Thread safety: Queue() from any thread; everything else on the capture thread.
// Durability: every state change is written to the progress file (atomically, fsync'd) before
// the call returns.
class IncrementalSnapshotter {
 public:
  struct Options {
    io::FileSystem* file_system = nullptr;  // not owned
    // The capture's state directory: the progress file and snapshot-requests/ live here.
    std::string state_dir;
    std::string log_module = "snapshot";  // logger name (logging::Get)
    // A table name as a user wrote it (signal, request file) -> the source's qualified name, or
    // an error saying why the table is refused (e.g. the stream does not capture it).
    std::function<Result<std::string>(std::string_view)> resolve_table;
    // Optional: a non-OK status refuses every request with its message (e.g. a server too old).
    std::function<Status()> available;
  };
  // Rows of a finished chunk, ready to be appended at the high watermark's position.
  struct ChunkRows {
    std::string table;                     // qualified name
    std::string transaction_id;            // "snapshot:<snapshot id>:<chunk>"
    std::vector<model::ChangeEvent> rows;  // op r, source.snapshot = incremental; no position
    size_t read = 0;                       // rows read before the window dropped some
  };

  explicit IncrementalSnapshotter(Options options);

  // (Re)reads the progress file and applies the pending chunk rule against the log's durable
  // position; forgets any chunk in flight and starts a new attempt id (watermarks of earlier
  // attempts are ignored). Call on start and after every reconnect.
  [[nodiscard]] Status Load(const SourcePosition& durable);
  // Plans a snapshot of `tables` (qualified names, in order) as the origin "initial".
  [[nodiscard]] Status PlanInitial(std::vector<std::string> tables);
  // True when a snapshot was planned (running, paused or complete) for origin "initial".
  bool InitialPlanned() const { return state_.has_value() && state_->origin == "initial"; }
  bool Complete() const { return !state_.has_value() || state_->Complete(); }
  // "" (none), "running", "paused" or "complete".
  std::string StatusName() const;
  const std::optional<IncrementalSnapshotState>& state() const { return state_; }

  // Any thread: queued until the capture thread's next TakeRequests().
  void Queue(SnapshotRequest request);
  void Queue(SnapshotControl control);
  // Takes queued requests and controls and the `eddy snapshot` request files (looked at twice
  // a second); bad ones are logged (and request files answered) and ignored.
  [[nodiscard]] Status TakeRequests();
  [[nodiscard]] Status AddRequest(const SnapshotRequest& request);
  [[nodiscard]] Status ApplyControl(const SnapshotControl& control);

  // The table whose next chunk is to be read now, or nullptr when there is none: no snapshot,
  // paused, a chunk in flight, complete, or the previous chunk not yet durable in the log
  // (`durable` is the log's durable position; `drain`, called at most once, waits for the
  // source's queued appends and returns the new durable position).
  [[nodiscard]] Result<TableSnapshotProgress*> NextTable(
      SourcePosition durable, const std::function<Result<SourcePosition>()>& drain);
  // Gives up on `table` (a bad condition, a table without a key, gone): logged, persisted.
  [[nodiscard]] Status Skip(TableSnapshotProgress& table, std::string reason);

  // Starts a chunk of `table` (its key column names for ChunkWindow); returns the low
  // watermark's text for the source to write.
  std::string BeginChunk(model::TableId table, std::vector<std::string> key_columns);
  // The chunk's rows, read after the low watermark was written; `last_key` the text key of the
  // last row (the table's last_key when none was read); `last`: fewer rows than asked, the
  // table is done. Returns the high watermark's text for the source to write.
  std::string ReadChunk(std::vector<model::ChangeEvent> rows, std::vector<std::string> last_key,
                        bool last);
  bool ChunkInFlight() const { return chunk_.has_value(); }
  // The chunk could not be read (the source skipped the table or will retry): forgotten.
  void AbandonChunk() { chunk_.reset(); }
  // The window of the chunk in flight (nullptr when none or not open yet).
  ChunkWindow* window() {
    return chunk_.has_value() && chunk_->window.open() ? &chunk_->window : nullptr;
  }

  // True when `text` is a watermark of this attempt (the source need not log its transaction).
  bool IsOurs(std::string_view text) const;
  // A watermark committed (in commit order) at `position`. At our high watermark: the progress
  // is persisted with the chunk pending at `position`, and the surviving rows are returned (an
  // empty vector: nothing to append). std::nullopt: not our high watermark.
  [[nodiscard]] Result<std::optional<ChunkRows>> OnWatermark(std::string_view text,
                                                             const SourcePosition& position);

  // True when a step has nothing to do but take requests: no snapshot, a chunk in flight,
  // paused, or complete and reported.
  bool Idle() const {
    return !state_.has_value() || chunk_.has_value() || complete_logged_ ||
           (state_->paused && !state_->Complete());
  }
  // Counts the progress file writes: a source republishes its progress when it changes.
  uint64_t changes() const { return saves_; }
  uint64_t chunks_done() const { return chunks_done_; }
  uint64_t rows_done() const { return rows_done_; }

 private:
  struct Chunk {
    uint64_t sequence = 0;
    ChunkWindow window;
    std::vector<model::ChangeEvent> rows;
    std::vector<std::string> last_key;
    bool last = false;
    bool read = false;
  };
  std::string ProgressPath() const;
  std::string RequestDirectory() const;
  [[nodiscard]] Status Save();
  [[nodiscard]] Status PollRequestFiles();
  [[nodiscard]] Status MarkRequestsDone();
  std::string Resolve(std::string_view name) const;
  static std::string NewId();

  Options options_;
  std::optional<IncrementalSnapshotState> state_;
  std::optional<Chunk> chunk_;
  std::string run_id_;
  uint64_t sequence_ = 0;
  bool complete_logged_ = false;
  uint64_t chunks_done_ = 0;
  uint64_t rows_done_ = 0;
  uint64_t saves_ = 0;
  std::chrono::steady_clock::time_point last_request_poll_{};
  std::mutex mu_;  // guards the queues
  std::atomic<bool> queued_{false};
  std::vector<SnapshotRequest> requests_;
  std::vector<SnapshotControl> controls_;
};

}  // namespace eddy::source
