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
// Thread safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/position.h"
#include "base/status.h"
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

}  // namespace eddy::source
