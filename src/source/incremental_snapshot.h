// Incremental snapshots (the DBLog watermark algorithm), the parts every source shares: the
// durable progress file, the watermark vocabulary and the chunk window that decides which rows
// of a chunk survive. Spec of the file: docs/formats/incremental-snapshot.md; the algorithm and
// what it guarantees: docs/snapshots.md.
//
// The file (`<capture state dir>/incremental_snapshot`):
//
//   "EDDYSNAP"                   8-byte magic
//   u32 version = 3              (versions 1 and 2 are still read)
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
//     varint upper key count | lp text * count     (version 2) the range's last key,
//                                inclusive; "" count = to the table's end
//     lp tuple snapshot          (version 3) ctid entries (a PostgreSQL table without a key):
//                                the pg_snapshot text "xmin:xmax:xip,..." of the stream's
//                                start; "" = a keyed entry
//     varint relation file       (version 3) ctid entries: the table's relfilenode at plan
//                                time (a rewrite moves rows between pages); 0 otherwise
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
// Ctid entries (a PostgreSQL table without a primary key, REPLICA IDENTITY FULL): the table is
// read in page ranges, not in key order. `last_key` is {next page} ("" count = page 0),
// `upper_key` {end page} (exclusive: the relation's size at plan time), `tuple_snapshot` the
// snapshot at the stream's start: a chunk keeps only tuples that snapshot sees as committed
// (their creation is not in the stream). The argument: docs/snapshots.md.
//
// Key ranges (snapshot_parallelism above 1): a large table is split into several entries of
// the same table, each a key range (last_key, upper_key] read chunk by chunk on its own
// connection; the first range starts with an empty last_key, the others with the previous
// range's upper key. Each range keeps its own progress and pending chunk, so a crash resumes
// every range at its last chunk in the log.
//
// Thread safety: pure functions and value types, except IncrementalSnapshotter (below).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "model/event.h"

namespace eddy::source {

inline constexpr std::string_view kIncrementalSnapshotMagic = "EDDYSNAP";
inline constexpr uint32_t kIncrementalSnapshotVersion = 3;
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
  // The last key of this entry's key range, inclusive (text values of the key columns); empty:
  // to the table's end. Set when the table was split into ranges (SplitTable).
  std::vector<std::string> upper_key;
  // Ctid entries only (PostgreSQL tables without a key): the pg_snapshot text of the stream's
  // start ("xmin:xmax:xip,..."), and the relfilenode the pages were planned on. Empty / 0 for
  // keyed entries.
  std::string tuple_snapshot;
  uint64_t relation_file = 0;
  bool ctid() const { return !tuple_snapshot.empty(); }
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
// kCorruption for bytes that are not a valid version-1 or version-2 file; kFailedPrecondition
// for another version.
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

// A chunk row the source encoded itself (SnapshotRowEncoding::Finish, source/snapshot_records.h):
// the record's partition key (model::ChangeEvent::PartitionKey's bytes) and the key and after
// rows as model::EncodeEvent writes them. The source adds the event's shared fields (position,
// times, transaction, ordinal) when it appends the chunk at the high watermark: no
// model::ChangeEvent per row on the snapshot's path.
struct EncodedRow {
  std::string partition_key;
  std::string rows;
};

// The window of one chunk: between its low and its high watermark the stream's committed
// changes to the chunk's table are noted by key; at the high watermark the chunk's rows whose
// key was changed are dropped (the streamed change is newer). Keys are model partition keys
// (table + key values), so a row and a change of the same row compare equal.
//
// A ctid chunk (a table without a key, row images mode) notes instead the old image of every
// update and delete (REPLICA IDENTITY FULL gives the whole old row), as a multiset, and drops
// one chunk row equal to each: a row the chunk read that the stream then changed. Inserts are
// not noted: a row created after the stream's start is not in a ctid chunk at all (its tuple
// is filtered by the tuple snapshot when it is read). A row image is the EncodedRow::rows bytes
// of a keyless table's read event (an empty key row, then the after row; RowImage).
class ChunkWindow {
 public:
  // `key_columns`: the table's key column names, for the old key of a key-changing update.
  // `row_images`: a ctid chunk (no key columns).
  ChunkWindow(model::TableId table, std::vector<std::string> key_columns, bool row_images = false);
  // The bytes a keyless table's chunk row of these values has in EncodedRow::rows.
  static std::string RowImage(const model::Row& row);
  bool row_images() const { return row_images_; }
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
  std::vector<EncodedRow> Filter(std::vector<EncodedRow> rows);
  size_t changed_keys() const { return changed_.size() + removed_images_; }
  bool truncated() const { return truncated_; }

 private:
  model::TableId table_;
  std::vector<std::string> key_columns_;
  bool row_images_ = false;
  bool open_ = false;
  bool truncated_ = false;
  std::unordered_set<std::string> changed_;
  std::unordered_map<std::string, size_t> removed_;  // row images mode: image -> count
  size_t removed_images_ = 0;
};

// The incremental snapshot driver every source's capture uses, one per capture: the progress
// file, requests (signal rows, `eddy snapshot` request files, API calls), pause / resume /
// stop, which tables' (or key ranges') chunks are read next, and the chunks in flight between
// their watermarks. The source does only what is its database's:
//   1. NextTables(max) says which entries to read now (up to `max`, the source's
//      snapshot_parallelism: several tables, or several key ranges of one table); a fresh entry
//      of a large table may first be split into key ranges (SplitTable) and NextTables asked
//      again;
//   2. for each entry BeginChunk() gives a chunk sequence and its low watermark, which the
//      source writes (its own autocommit transaction); then the source reads the next `chunk
//      rows` rows after the entry's last_key (up to its upper_key) in key order, with its
//      condition -- each entry over its own connection, at the same time --, hands them to
//      ReadChunk(sequence, ...), which gives the high watermark, and writes it;
//   3. every committed streamed change goes to OnChange() (or, by key, to the windows of its
//      table: WindowsOf), in commit order; every open chunk window of the change's table notes
//      it;
//   4. every watermark the stream delivers goes to OnWatermark() in commit order; at a high
//      watermark it persists the progress (the pending chunk rule) and returns the chunk's
//      surviving rows, which the source appends as one log transaction at the watermark's
//      commit position.
// Each chunk has its own low and high watermark and its own window, so the DBLog rule holds for
// every chunk whatever the others do. The next chunks are handed out when every chunk in
// flight has reached its high watermark; an entry's next high watermark waits until its
// previous chunk is durable in the log (one pending chunk per entry in the file).
// Why this is enough: docs/snapshots.md (the DBLog argument and the pending chunk rule).
//
// Thread safety: Queue() from any thread; everything else on the capture thread (the source's
// reading threads only read rows; the capture thread calls BeginChunk and ReadChunk).
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
    // The rows of a chunk handed over encoded (ReadChunk's EncodedRow overload), instead of
    // `rows`, with the table and the schema version they were read with.
    std::vector<EncodedRow> encoded;
    model::TableId id;
    uint32_t schema_version = 0;
    size_t read = 0;  // rows read before the window dropped some
    size_t kept() const { return rows.size() + encoded.size(); }
  };
  // A chunk begun: `sequence` names it to ReadChunk / AbandonChunk, `low` is the low
  // watermark's text for the source to write.
  struct ChunkStart {
    uint64_t sequence = 0;
    std::string low;
  };

  explicit IncrementalSnapshotter(Options options);

  // (Re)reads the progress file and applies the pending chunk rule against the log's durable
  // position; forgets the chunks in flight and starts a new attempt id (watermarks of earlier
  // attempts are ignored). Call on start and after every reconnect.
  [[nodiscard]] Status Load(const SourcePosition& durable);
  // Plans a snapshot of `tables` (qualified names, in order) as the origin "initial".
  [[nodiscard]] Status PlanInitial(std::vector<std::string> tables);
  // The same with entries the source prepared (ctid entries carry their pages and tuple
  // snapshot); each must be pending with no rows read.
  [[nodiscard]] Status PlanInitialEntries(std::vector<TableSnapshotProgress> entries);
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
  // InvalidArgument (logged; nothing changes) when the request names no table this stream
  // captures, or `available` refuses it; request files get the message as their .rejected.
  [[nodiscard]] Status AddRequest(const SnapshotRequest& request);
  [[nodiscard]] Status ApplyControl(const SnapshotControl& control);

  // The entries (tables or key ranges) whose next chunks are to be read now, at most `max`, in
  // snapshot order; empty when there are none: no snapshot, paused, chunks in flight, or
  // complete. A previous chunk not yet durable in the log does not hold the next one back (its
  // append runs while the next chunk is read; OnWatermark waits for it); the snapshot is
  // complete only once every chunk is durable (`durable` is the log's durable position;
  // `drain`, called at most once, waits for the source's queued appends and returns the new
  // durable position). The pointers stay valid until the next call that changes the table list
  // (SplitTable, AddRequest, Load).
  [[nodiscard]] Result<std::vector<TableSnapshotProgress*>> NextTables(
      SourcePosition durable, const std::function<Result<SourcePosition>()>& drain, size_t max);
  // NextTables with max 1: the entry or nullptr.
  [[nodiscard]] Result<TableSnapshotProgress*> NextTable(
      SourcePosition durable, const std::function<Result<SourcePosition>()>& drain);
  // True when `table` is a whole table not read yet (no chunk done, no range): the source may
  // split it into key ranges. A ctid entry always has its end page as upper key: it is whole
  // while it is the table's only entry (Entries).
  static bool Splittable(const TableSnapshotProgress& table) {
    return table.state == TableSnapshotState::kPending && table.last_key.empty() &&
           (table.ctid() ? table.upper_key.size() == 1 : table.upper_key.empty()) &&
           table.rows == 0;
  }
  // Makes the fresh keyed entry `table` (Splittable, no key read) a ctid entry read in pages
  // [0, end_page) against `tuple_snapshot` (an on-demand snapshot of a table without a key).
  // Persisted. No chunk may be in flight.
  [[nodiscard]] Status PlanCtid(const TableSnapshotProgress& table, std::string tuple_snapshot,
                                uint64_t relation_file, uint64_t end_page);
  // How many entries (the table, or its ranges) name `table`.
  size_t Entries(std::string_view table) const;
  // Replaces the fresh entry `table` (Splittable) with key ranges cut at `boundaries` (text
  // keys, ascending; boundary i is the last key of range i, inclusive): boundaries.size() + 1
  // ranges. Persisted. Invalidates the pointers NextTables returned. No chunk may be in flight.
  // A ctid entry (the table's only one) is cut into page ranges the same way: boundary i is
  // range i's end page (exclusive) and range i + 1's first page.
  [[nodiscard]] Status SplitTable(const TableSnapshotProgress& table,
                                  std::vector<std::vector<std::string>> boundaries);
  // Gives up on `table` (a bad condition, a table without a key, gone): logged, persisted;
  // every range of the same table is given up too.
  [[nodiscard]] Status Skip(TableSnapshotProgress& table, std::string reason);

  // Starts a chunk of the entry `table` (from NextTables; `id` and its key column names for
  // ChunkWindow; a ctid entry's window notes row images).
  ChunkStart BeginChunk(const TableSnapshotProgress& table, model::TableId id,
                        std::vector<std::string> key_columns);
  // The chunk's rows, read after the low watermark was written; `last_key` the text key of the
  // last row (the entry's last_key when none was read); `last`: fewer rows than asked, the
  // entry is done. Returns the high watermark's text for the source to write.
  std::string ReadChunk(uint64_t sequence, std::vector<model::ChangeEvent> rows,
                        std::vector<std::string> last_key, bool last);
  // The same with rows the source encoded itself, read with the table's `schema_version`.
  std::string ReadChunk(uint64_t sequence, std::vector<EncodedRow> rows, uint32_t schema_version,
                        std::vector<std::string> last_key, bool last);
  bool ChunkInFlight() const { return !chunks_.empty(); }
  // The chunk could not be read (the source skipped the table or will retry): forgotten.
  void AbandonChunk(uint64_t sequence) { chunks_.erase(sequence); }
  void AbandonChunks() { chunks_.clear(); }
  // A committed streamed change: every open window of its table notes it.
  void OnChange(const model::ChangeEvent& event);
  // The open windows of `table` (cleared first; empty when none): for a source that notes keys
  // (ChunkWindow::OnKey / OnTruncate) itself.
  void WindowsOf(const model::TableId& table, std::vector<ChunkWindow*>& out);
  bool AnyWindowOpen() const;

  // True when `text` is a watermark of this attempt (the source need not log its transaction).
  bool IsOurs(std::string_view text) const;
  // A watermark committed (in commit order) at `position`. At one of our high watermarks: the
  // progress is persisted with the chunk pending at `position`, and the surviving rows are
  // returned (an empty vector: nothing to append). std::nullopt: not one of our high
  // watermarks. When the entry's previous chunk is still pending (its append may not be
  // durable yet: NextTables hands out the next chunk without waiting for it), `drain` is called
  // first: it waits for the source's queued appends and returns the log's durable position;
  // FailedPrecondition when there is none to call or the previous chunk is still not durable.
  [[nodiscard]] Result<std::optional<ChunkRows>> OnWatermark(
      std::string_view text, const SourcePosition& position,
      const std::function<Result<SourcePosition>()>& drain = nullptr);

  // True when a step has nothing to do but take requests: no snapshot, chunks in flight,
  // paused, or complete and reported.
  bool Idle() const {
    return !state_.has_value() || !chunks_.empty() || complete_logged_ ||
           (state_->paused && !state_->Complete());
  }
  // Counts the progress file writes: a source republishes its progress when it changes.
  uint64_t changes() const { return saves_; }
  uint64_t chunks_done() const { return chunks_done_; }
  uint64_t rows_done() const { return rows_done_; }

 private:
  struct Chunk {
    size_t entry = 0;  // index in state_->tables
    ChunkWindow window;
    std::vector<model::ChangeEvent> rows;
    std::vector<EncodedRow> encoded;
    uint32_t schema_version = 0;
    std::vector<std::string> last_key;
    bool last = false;
    bool read = false;
  };
  std::string ReadChunk(uint64_t sequence, std::vector<model::ChangeEvent> rows,
                        std::vector<EncodedRow> encoded, uint32_t schema_version,
                        std::vector<std::string> last_key, bool last);
  std::string ProgressPath() const;
  std::string RequestDirectory() const;
  [[nodiscard]] Status Save();
  [[nodiscard]] Status PollRequestFiles();
  [[nodiscard]] Status MarkRequestsDone();
  std::string Resolve(std::string_view name) const;
  static std::string NewId();

  Options options_;
  std::optional<IncrementalSnapshotState> state_;
  std::map<uint64_t, Chunk> chunks_;  // by sequence
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
