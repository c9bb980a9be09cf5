// The change log: a LogStore holds named streams; a stream holds shards; a shard is a
// sequence of segment files of CRC-32C-framed records. Design: docs/design/log.md; formats:
// docs/formats/log-*.md.
//
// Guarantees
// - Durability: an Append*/AppendTransaction call returns OK only after the records, and the
//   stream's commit record that makes them visible, are fsync'd. Concurrent appenders are
//   group-committed: one fsync per touched shard file plus one for the commit journal per
//   batch.
// - Visibility: readers (in this process, or another process that opened the directory
//   read-only) see only committed records, and a transaction's records become visible in all
//   shards at once (one commit record covers the whole batch).
// - Order: sequence numbers come from one per-stream counter, so they strictly increase
//   within a shard, and a child shard's numbers are above its parents' ending numbers.
//   Records of one AppendTransaction get consecutive numbers in each shard, in input order.
// - Exactly once by source position: the stream remembers the end SourcePosition of the last
//   committed transaction (stored in the commit record with the data it covers).
//   AppendTransaction at or below it is a no-op reported as `duplicate`.
// - Recovery on open: the last valid commit record defines what exists; bytes beyond it
//   (torn or never acknowledged) are truncated and logged with file, offset, byte and record
//   counts. Nothing acknowledged is ever dropped.
// - Failures: kNoSpace from a full disk fails the batch (its bytes are truncated away) and
//   the stream keeps working; appends succeed again once space returns. A failed fsync or a
//   failed rollback poisons the stream: every later append fails with kFailedPrecondition
//   until the store is reopened (which recovers from what is on disk).
//
// Thread safety: LogStore, Stream and ShardReader methods may be called from any thread;
// a single ShardReader must not be used by two threads at once. Streams are shared_ptr:
// readers keep a deleted stream's files readable until they let go.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/kinesis.h"
#include "log/record.h"

namespace eddy::log {

// Serialized in stream metadata; values never change.
enum class OrderingMode : uint8_t {
  kOrdered = 1,    // one shard: total commit order (no resharding)
  kUnordered = 2,  // N shards by MD5(partition key): per-key order
};

inline constexpr uint32_t kDefaultMaxRecordBytes = 1u << 20;   // 1 MiB
inline constexpr uint32_t kLargestMaxRecordBytes = 10u << 20;  // 10 MiB
inline constexpr int64_t kDefaultRetentionNanos = 24LL * 3600 * 1'000'000'000;

struct StreamOptions {
  OrderingMode ordering = OrderingMode::kUnordered;
  uint32_t shard_count = 1;  // must be 1 for kOrdered
  int64_t retention_nanos = kDefaultRetentionNanos;
  uint64_t retention_bytes = 0;  // per shard; 0 = no size limit
  // Largest partition key + payload stored as one record (1 KiB .. 10 MiB). Larger payloads
  // given to AppendTransaction are chunked; Append/AppendRecords reject them.
  uint32_t max_record_bytes = kDefaultMaxRecordBytes;
  // Free-form metadata kept with the stream (e.g. "format" => "debezium",
  // "view_type" => "NEW_AND_OLD_IMAGES", Kinesis tags).
  std::map<std::string, std::string> tags;
};

struct ShardInfo {
  uint32_t index = 0;
  std::string id;  // "shardId-000000000000"
  std::optional<uint32_t> parent_index;
  std::optional<uint32_t> adjacent_parent_index;  // set on a merge child
  std::vector<uint32_t> child_indexes;            // set once closed by split/merge
  HashKeyRange hash_range;
  int64_t creation_nanos = 0;
  SequenceNumber starting_sequence;               // no record in the shard is below it
  std::optional<SequenceNumber> ending_sequence;  // set when closed: its last sequence number
  bool open = true;

  // Live state (as of the call).
  SequenceNumber trim_horizon;     // lowest sequence a reader can still get
  SequenceNumber last_sequence;    // last committed record; 0 when the shard is empty
  int64_t last_arrival_nanos = 0;  // of that record
  uint64_t bytes = 0;              // segment bytes on disk
  bool expired = false;            // closed and every record dropped by retention

  // Kinesis rendering helpers.
  std::string FormatSequence(SequenceNumber sequence) const {
    return FormatSequenceNumber(sequence, index, creation_nanos);
  }
};

struct StreamInfo {
  std::string name;
  StreamOptions options;
  int64_t creation_nanos = 0;
  std::vector<ShardInfo> shards;  // all, including closed ones not yet expired, by index
  // End position of the last committed transaction; empty when none.
  SourcePosition highest_position;
  uint64_t meta_version = 0;  // increases with every reshard/option change
};

struct AppendResult {
  // True when the transaction's end position was at or below the durable high-water mark:
  // nothing was appended.
  bool duplicate = false;
  std::vector<AppendedRecord> records;  // one per input record, in input order
};

enum class IteratorType : uint8_t {
  kTrimHorizon = 0,
  kLatest = 1,
  kAtSequenceNumber = 2,
  kAfterSequenceNumber = 3,
  kAtTimestamp = 4,
};

struct StartPosition {
  IteratorType type = IteratorType::kTrimHorizon;
  SequenceNumber sequence;      // for kAt/kAfterSequenceNumber
  int64_t timestamp_nanos = 0;  // for kAtTimestamp

  static StartPosition TrimHorizon() { return {IteratorType::kTrimHorizon, {}, 0}; }
  static StartPosition Latest() { return {IteratorType::kLatest, {}, 0}; }
  static StartPosition AtSequence(SequenceNumber s) {
    return {IteratorType::kAtSequenceNumber, s, 0};
  }
  static StartPosition AfterSequence(SequenceNumber s) {
    return {IteratorType::kAfterSequenceNumber, s, 0};
  }
  static StartPosition AtTimestamp(int64_t nanos) {
    return {IteratorType::kAtTimestamp, {}, nanos};
  }
};

struct ReadBatch {
  std::vector<Record> records;
  // Where the next read starts: the reader's next record is the first with sequence >= it.
  // Encode this in stateless iterators (AT_SEQUENCE_NUMBER next).
  SequenceNumber next_sequence;
  // The shard is closed and every record in it has been returned: move on to the children.
  bool end_of_shard = false;
  std::vector<uint32_t> child_indexes;  // with end_of_shard
  // Arrival time of the shard's newest committed record minus that of the last record
  // returned; 0 when caught up.
  int64_t millis_behind_latest = 0;
};

// A read of records in place (ShardReader::ReadViews). `records` point into `bytes`, which the
// batch owns: they stay valid until the batch is read into again, cleared or destroyed. A
// batch is meant to be reused, read after read, so its buffers keep their capacity.
struct ReadViewBatch {
  std::string bytes;  // segment bytes the views point into
  std::vector<RecordView> records;
  SequenceNumber next_sequence;         // as ReadBatch
  bool end_of_shard = false;            // as ReadBatch
  std::vector<uint32_t> child_indexes;  // as ReadBatch
  int64_t millis_behind_latest = 0;     // as ReadBatch

  void Clear() {
    records.clear();
    next_sequence = SequenceNumber();
    end_of_shard = false;
    child_indexes.clear();
    millis_behind_latest = 0;
  }
};

struct ReadLimits {
  size_t max_records = 10000;
  size_t max_bytes = 10u << 20;  // payload + partition key bytes; at least one record is
                                 // returned even if it alone exceeds this
};

class Stream;

// What retention must keep for consumers registered with a stream (sinks with a durable
// checkpoint): per shard index, the lowest sequence number some consumer has not delivered
// yet. No segment holding a record at or above it is dropped, whatever its age or the size
// limit. Shards not named are not held.
struct RetentionHolds {
  std::map<uint32_t, SequenceNumber> keep_from;
};

// The result of committing a transaction appended in parts (TransactionAppender::Commit).
// It reports counts and the sequence range, not one AppendedRecord per record, because the
// point of appending in parts is that the transaction need not fit in memory.
struct TransactionCommitResult {
  // True when the end position was at or below the stream's durable high-water mark: the
  // parts written were discarded and nothing became visible.
  bool duplicate = false;
  uint64_t record_count = 0;      // records stored (after chunking), 0 when duplicate
  SequenceNumber first_sequence;  // lowest sequence number given to the transaction
  SequenceNumber last_sequence;   // highest; both 0 when nothing was stored
};

// Appends one source transaction in parts, for transactions too large to hold in memory (a
// 5,000,000-row UPDATE). Parts are routed, chunked, numbered and written to the shard files
// as they arrive, but nothing becomes visible to any reader, in this process or another,
// until Commit writes the one commit record that covers the whole transaction; Commit returns
// only once every part and that commit record are fsync'd. A crash, an error or Abort before
// Commit leaves no trace: recovery (and Abort) truncate the shard files back to the last
// commit, exactly as for a torn AppendTransaction.
//
// While an appender is open it owns the stream's append path: AppendTransaction, Append,
// AppendRecords and other BeginTransaction calls wait until it commits or aborts (from the
// thread driving the appender they fail at once with kFailedPrecondition instead of waiting
// for themselves), resharding fails with
// kFailedPrecondition, and EnforceRetention drops nothing (returns 0) until it finishes.
// Records keep consecutive sequence numbers per shard across parts, in input order; a
// segment may roll between records, never inside a chunked record.
//
// Memory: a part's records are released as they are encoded; the appender keeps per touched
// shard a write buffer of about 1 MiB and the sparse index of the segments it wrote (one entry
// per index_interval_bytes), never the records or one AppendedRecord per record.
//
// Not thread-safe: one thread at a time drives an appender (a producer may hand it to a
// helper thread for Append and take it back for Commit, ordering the calls itself). Destroying an
// appender that was neither committed nor aborted aborts it. After an error from Append or Commit
// the appender is aborted (the stream is as before BeginTransaction) and every later call returns
// that error; after Commit or Abort, Append and Commit return kFailedPrecondition and Abort is a
// no-op. An error while discarding (truncate or remove failing) poisons the stream, like a failed
// rollback of AppendTransaction.
class TransactionAppender {
 public:
  virtual ~TransactionAppender() = default;
  // Writes `records` (not fsync'd yet). Memory use is bounded by the part, not the whole.
  [[nodiscard]] virtual Status Append(std::vector<AppendRecord> records) = 0;
  // The same, taking the records from `*records` and handing them back afterwards (success or
  // not) with contents unspecified but their strings' memory kept, as
  // Stream::AppendTransactionReusing does: a producer writing part after part reuses each
  // record's key and payload memory instead of allocating and freeing it per record. The
  // default leaves `*records` empty.
  [[nodiscard]] virtual Status AppendReusing(std::vector<AppendRecord>* records) {
    Status status = Append(std::move(*records));
    records->clear();
    return status;
  }
  // Makes the transaction durable and visible as a whole, with `end_position` as its end
  // (the same exactly-once rule as AppendTransaction: at or below the high-water mark, the
  // parts are discarded and `duplicate` is set; an empty position disables the check).
  [[nodiscard]] virtual Result<TransactionCommitResult> Commit(SourcePosition end_position) = 0;
  // Discards every part written; the stream is as before BeginTransaction.
  [[nodiscard]] virtual Status Abort() = 0;
};

// Reads one shard in sequence order, from a resolved position. Cheap to create (seek via the
// segment index), so stateless API iterators may create one per GetRecords call.
class ShardReader {
 public:
  virtual ~ShardReader() = default;
  // Returns committed records from the current position; an empty batch when caught up.
  // kTrimmed when the position fell behind the retention horizon.
  virtual Result<ReadBatch> Read(const ReadLimits& limits) = 0;
  // Read's records as views into `*batch` (cleared first): the same records in the same
  // order, limits, errors and batch fields, except that a call returns the records of one
  // segment at most (an empty batch still means caught up). The segment bytes are read once
  // into the batch's buffer and not copied again, and source positions are not decoded. The
  // default copies what Read returns.
  [[nodiscard]] virtual Status ReadViews(const ReadLimits& limits, ReadViewBatch* batch);
  // Blocks until a record at or after the current position is committed, the shard closes,
  // or `deadline` passes (then returns OK as well: callers Read and find nothing). In-process
  // this waits on a condition variable; a read-only store (another process) is woken by a
  // watch of the stream directory (inotify) when the writer appends to the commit journal, and
  // re-checks the journal every LogStoreOptions::follow_recheck_millis regardless (the only
  // wake-up where inotify is unavailable).
  virtual Status WaitForData(std::chrono::steady_clock::time_point deadline) = 0;
  virtual SequenceNumber next_sequence() const = 0;
  virtual uint32_t shard_index() const = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual const std::string& name() const = 0;
  virtual StreamInfo Describe() = 0;
  virtual Result<ShardInfo> DescribeShard(uint32_t shard_index) = 0;

  // Appends a source transaction's records (routed by hash key to open shards; chunked when
  // larger than max_record_bytes) atomically: all become visible together or none do.
  // `end_position` is the transaction's end; at or below the stream's highest durable
  // position the call does nothing and returns duplicate = true. An empty `end_position`
  // disables the check (and does not move the high-water mark).
  virtual Result<AppendResult> AppendTransaction(std::vector<AppendRecord> records,
                                                 SourcePosition end_position) = 0;
  // The same, taking the records from `*records` and handing them back afterwards (success
  // or not) with contents unspecified but their strings' memory kept, so that a producer
  // appending batch after batch reuses it instead of allocating and freeing every record's
  // key and payload. The default (streams that keep or transform the records) leaves
  // `*records` empty.
  virtual Result<AppendResult> AppendTransactionReusing(std::vector<AppendRecord>* records,
                                                        SourcePosition end_position) {
    auto result = AppendTransaction(std::move(*records), std::move(end_position));
    records->clear();
    return result;
  }
  // Starts a transaction appended in parts (see TransactionAppender). Waits for in-flight
  // appends to finish first. kFailedPrecondition on a read-only store or poisoned stream.
  virtual Result<std::unique_ptr<TransactionAppender>> BeginTransaction() = 0;
  // Kinesis PutRecord / PutRecords: no source position, no chunking (kInvalidArgument when a
  // record exceeds max_record_bytes). PutRecords is atomic here although Kinesis need not be.
  virtual Result<AppendedRecord> Append(AppendRecord record) = 0;
  virtual Result<std::vector<AppendedRecord>> AppendRecords(std::vector<AppendRecord> records) = 0;

  virtual SourcePosition HighestDurablePosition() = 0;

  // A number that moves up with every commit, reshard and option change of the stream, as this
  // process sees it (a read-only store sees the writer's once it re-reads the journal).
  virtual uint64_t CommitNumber() = 0;
  // Blocks until CommitNumber() > `seen`, the stream is deleted or poisoned, or `deadline`
  // passes (then OK as well: callers re-read and find nothing). A stream-level wait for
  // readers of every shard; wakes as ShardReader::WaitForData does (a condition variable in
  // process, inotify plus a periodic re-check for a read-only store).
  virtual Status WaitForCommit(uint64_t seen, std::chrono::steady_clock::time_point deadline) = 0;

  // kNotFound for an unknown or expired shard; kTrimmed for a sequence behind the horizon;
  // kInvalidArgument for an AT_TIMESTAMP in the future.
  virtual Result<std::unique_ptr<ShardReader>> OpenReader(uint32_t shard_index,
                                                          StartPosition start) = 0;

  // Resharding (kUnordered streams only). Split: `new_starting_hash_key` must satisfy
  // start < key <= end of the parent; children [start, key-1] and [key, end]. Merge: ranges
  // must be adjacent (end1 + 1 == start2 in either order). The parent(s) close with an ending
  // sequence number; returns the new shard indexes.
  virtual Result<std::vector<uint32_t>> SplitShard(uint32_t shard_index,
                                                   HashKey new_starting_hash_key) = 0;
  virtual Result<uint32_t> MergeShards(uint32_t shard_index, uint32_t adjacent_shard_index) = 0;

  // Updates retention and tags (the other options are fixed at creation).
  virtual Status UpdateOptions(int64_t retention_nanos, uint64_t retention_bytes,
                               std::map<std::string, std::string> tags) = 0;

  // Drops whole segments older than the retention period (or beyond the size limit) as of the
  // clock's now, except those `holds` keeps for registered consumers. Returns how many
  // segments were dropped. Called periodically by the store's owner (engine) and by tests.
  virtual Result<size_t> EnforceRetention(const RetentionHolds& holds) = 0;
  Result<size_t> EnforceRetention() { return EnforceRetention(RetentionHolds{}); }
};

struct LogStoreOptions {
  io::FileSystem* file_system = nullptr;  // nullptr: io::DefaultFileSystem()
  const Clock* clock = nullptr;           // nullptr: SystemClock
  // Open without taking the directory lock and without recovery: for `eddy tail`/`eddy log
  // dump` next to a running writer. All mutating calls fail with kFailedPrecondition.
  bool read_only = false;
  // With read_only: the store only describes its streams (shards, sizes, last sequence
  // numbers, the durable position: what `eddy status` prints). The active segments are not
  // scanned frame by frame on open or refresh, so opening costs a few small reads whatever
  // the size of the log; OpenReader fails with kFailedPrecondition. Ignored without read_only.
  bool describe_only = false;
  uint64_t segment_bytes = 64u << 20;         // roll the active segment past this size
  uint64_t commit_journal_bytes = 4u << 20;   // start a new commit journal past this size
  uint32_t index_interval_bytes = 64u << 10;  // one segment index entry per this many bytes
  // A commit that takes an active segment's committed end this far past the part its index
  // covers rewrites that index (not fsynced), so the open after a process crash scans at most
  // about this much of each active segment; a clean close writes it in any case. 0: only then.
  uint64_t active_index_bytes = 8u << 20;
  // Read-only stores: ShardReader::WaitForData watches the stream directory
  // (io::FileSystem::WatchDirectory: inotify on the POSIX file system, a signal from the
  // in-memory one) and wakes as soon as the writer appends a commit record; it re-checks the
  // journal at least this often anyway (file systems whose changes inotify does not report,
  // e.g. network mounts), and polls at this interval where no watch can be set (file systems
  // without one, inotify limits reached).
  uint32_t follow_recheck_millis = 200;
  // A commit fsyncs the shard files it touched in parallel, at most this many at once (the
  // committing thread plus helper threads the store owns; 0 counts as 1).
  uint32_t max_parallel_syncs = 4;
};

class LogStore {
 public:
  // Destroying a read-write store is its clean close: each stream's active segments get an
  // index of their committed part (a cache, not fsynced; commits also rewrite it every
  // LogStoreOptions::active_index_bytes), which the next open reads instead of scanning those
  // frames.
  virtual ~LogStore() = default;

  // Opens (creating when read-write and missing) the data directory `path`, recovering every
  // stream (see Guarantees). Read-write opens take `path`/LOCK; a second read-write open of
  // the same directory fails with kFailedPrecondition.
  static Result<std::unique_ptr<LogStore>> Open(const std::string& path,
                                                LogStoreOptions options = {});

  virtual Result<std::shared_ptr<Stream>> CreateStream(const std::string& name,
                                                       const StreamOptions& options) = 0;
  virtual Status DeleteStream(const std::string& name) = 0;
  virtual std::vector<std::string> ListStreams() = 0;
  // kNotFound when absent. A read-only store also finds streams created after it opened.
  virtual Result<std::shared_ptr<Stream>> GetStream(const std::string& name) = 0;
  // EnforceRetention on every stream, without holds; total segments dropped.
  virtual Result<size_t> EnforceRetention() = 0;
  virtual bool read_only() const = 0;
  virtual const std::string& path() const = 0;
};

// Stream names: 1-128 characters of [a-zA-Z0-9_.-].
Status ValidateStreamName(const std::string& name);

}  // namespace eddy::log
