// Internal to src/log: the state of one stream, shared by the files that implement it. Nothing
// outside src/log includes this header; the public contract is log_store.h.
//
// One StreamImpl per open stream. Its member functions are defined by responsibility:
//   stream_state.cc         describe, validation, poisoning, small shared helpers
//   stream_recovery.cc      loading and recovering from disk; read-only refresh of the journal
//   stream_commit.cc        the one commit path (group commit of AppendTransaction batches and
//                           TransactionAppender::Commit), segment rolls, the commit journal
//   transaction_appender.cc TransactionAppender: parts written ahead of one commit
//   shard_reader.cc         ShardReader: resolving a start position and reading a shard
//   stream_wait.cc          waiting for commits in process and following a writer read-only
//   stream_reshard.cc       split, merge, option changes (stream.meta)
//   stream_retention.cc     dropping old segments, RetentionHolds
//   log_store.cc            the store: create, delete, list, open
// None of them includes another's internals: what they share is declared here.
//
// Lock order. A thread holding a lock in this list may take only locks listed after it:
//   1. LogStoreImpl::mu_     the store's stream map (log_store.cc)
//   2. StreamImpl::write_mu_ one writer at a time: the group-commit leader, a TransactionAppender
//                            writing a part or committing, resharding, option changes, retention
//   3. StreamImpl::mu_       the stream's published state, read by readers and Describe
// Leaf locks (nothing else is taken while one is held): StreamImpl::queue_mu_ (the group-commit
// queue), StreamImpl::watch_mu_ (the read-only directory watch), SyncPool's internal mutex.
// queue_mu_ is never held while write_mu_ or mu_ is taken: the leader releases it first.
//
// What guards what. Published state (the shard map, shard metadata, segment lists and
// summaries, the stream counters) is changed only with write_mu_ and mu_ both held in a
// read-write store, so the writer may read it holding write_mu_ alone and readers holding mu_
// alone. A read-only store has no writer: Refresh changes it under mu_. Write handles
// (Shard::writer, the journal) are touched only under write_mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "log/kinesis.h"
#include "log/log_store.h"
#include "log/segment_format.h"
#include "log/sequence.h"
#include "log/stream_format.h"
#include "log/sync_pool.h"

namespace eddy::log::internal {

inline constexpr char kStreamsDir[] = "streams";
inline constexpr char kMetaFile[] = "stream.meta";

std::shared_ptr<logging::Logger> Logger();

// What every stream of one store shares. Immutable after LogStore::Open, except the sync pool
// (thread-safe).
struct StoreContext {
  io::FileSystem* fs = nullptr;
  const Clock* clock = nullptr;
  LogStoreOptions options;
  // Bounded fsync fan-out for commits touching many shards (at most
  // options.max_parallel_syncs files are synced at once per commit).
  std::unique_ptr<SyncPool> sync_pool;
};

// Writes a segment's index file. The index is a cache (rebuilt when missing, stale or torn), so
// it is written without fsync and a failure is ignored.
void WriteIndexFile(io::FileSystem& fs, const std::string& segment_path,
                    const SegmentSummary& summary);

// Adds one frame written at `offset` (`size` bytes) to a segment summary, with one index entry
// per `interval` bytes.
void AddToSummary(SegmentSummary& summary, const FrameFields& frame, uint64_t offset, size_t size,
                  uint32_t interval);
void AddToSummary(SegmentSummary& summary, const Record& record, uint64_t offset, size_t size,
                  uint32_t interval);

// Segment and Shard fields are published state (see "What guards what" above) unless a
// comment says otherwise.
struct Segment {
  SequenceNumber base;  // no record in it is below it; names the file
  std::string path;
  std::shared_ptr<io::File> file;  // read handle, opened lazily (under StreamImpl::mu_)
  SegmentSummary summary;          // summary.bytes: committed end (header included)
  // Active segment: the committed end its index file covers (0: none written here). Touched
  // by the writer only, under write_mu_.
  uint64_t indexed_bytes = 0;
  bool sealed = false;
  std::optional<uint64_t> corrupt_offset;
  std::string corrupt_reason;
};

struct Shard {
  ShardMeta meta;
  std::string dir;
  std::vector<std::shared_ptr<Segment>> segments;  // ascending base; last is active
  SequenceNumber last_sequence;                    // last committed record; 0 when none
  int64_t last_arrival = 0;
  // Read-write stores: append handle of the active segment (guarded by write_mu_).
  std::unique_ptr<io::File> writer;

  // Lowest sequence still readable. Nothing lies between last_sequence and the base of an
  // empty active segment, so the horizon never passes last_sequence + 1.
  SequenceNumber TrimHorizon() const {
    if (segments.empty()) return Next(last_sequence);
    return std::max(std::min(segments.front()->base, Next(last_sequence)), meta.starting_sequence);
  }
  bool Trimmed(SequenceNumber sequence) const {
    return sequence < TrimHorizon() && TrimHorizon() > meta.starting_sequence;
  }
  uint64_t Bytes() const {
    uint64_t total = 0;
    for (const auto& segment : segments) total += segment->summary.bytes;
    return total;
  }
};

// The open shard whose hash range holds the record's hash key (explicit, or MD5 of the
// partition key). Open shards' ranges partition the key space, so exactly one matches.
Result<Shard*> RouteToOpenShard(const std::vector<Shard*>& open_shards, const AppendRecord& record);

// One shard's writes not yet committed, by either commit path: frames encoded into `buffer`
// and written beyond the committed end of the shard's active segment, possibly into segments
// rolled privately (TransactionAppender only; AppendTransaction batches roll before numbering).
// Owned by the writer holding write_mu_ (or by the open TransactionAppender between parts).
struct ShardWrite {
  Shard* shard = nullptr;
  uint64_t start = 0;      // committed end of the shard's active segment at the first write
  SegmentSummary summary;  // of the segment being written (committed part included)
  // Final summary of the committed active segment once the writes rolled away from it.
  std::optional<SegmentSummary> first_sealed;
  // Segments rolled during the transaction (files exist or are being created); all but the
  // last are full and their summaries final.
  std::vector<std::shared_ptr<Segment>> rolled;
  std::unique_ptr<io::File> writer;  // of rolled.back(); shard->writer before any roll
  // A file rolled away from, flushing in the background (RollWrite). Every one is waited for
  // (WaitForRolledSyncs) before the commit's own fsyncs and before a rollback touches files.
  struct RolledSync {
    std::unique_ptr<io::File> owned;  // the file, unless it is shard->writer (the first roll)
    io::File* file = nullptr;
    std::future<Status> done;  // declared after `owned`: destroyed (waited for) first
  };
  std::vector<RolledSync> syncing;
  SequenceNumber last_sequence;
  int64_t last_arrival = 0;
  std::string buffer;          // encoded frames not yet written to the file
  uint64_t written_bytes = 0;  // appended to the shard's files (eddy_log_appended_bytes_total)
  io::File& Writer() { return writer ? *writer : *shard->writer; }
};
// A TransactionAppender writes a shard's buffered frames out once they pass this size.
inline constexpr size_t kPartFlushBytes = 1u << 20;

// Touched shards by index: the commit record and the fsync fan-out visit them in index order.
using ShardWrites = std::map<ShardIndex, ShardWrite>;

// The exactly-once rule shared by both commit paths: a transaction whose end position is at or
// below the stream's high-water mark `high` was already committed.
enum class Admission : uint8_t { kNew, kDuplicate };
// kInvalidArgument when the positions are of different source kinds. An empty `end` (or an
// empty `high`) is always kNew.
Result<Admission> AdmitByPosition(const SourcePosition& end, const SourcePosition& high);

// Overrides of one shard's entry in a commit record (BuildCommit): where the shard's committed
// data ends after this commit.
struct ShardCommitEnd {
  SequenceNumber segment_base;
  uint64_t end_offset = 0;
  SequenceNumber last_sequence;
  int64_t last_arrival = 0;
};

class StreamImpl final : public Stream, public std::enable_shared_from_this<StreamImpl> {
 public:
  StreamImpl(std::shared_ptr<StoreContext> context, std::string dir)
      : context_(std::move(context)), dir_(std::move(dir)) {}
  // A read-write store's clean close: each shard's active segment gets an index of its
  // committed part (WriteActiveIndexes), so the next open scans only what was committed after.
  ~StreamImpl() override;

  // --- Stream (log_store.h) ---
  const std::string& name() const override { return name_; }
  StreamInfo Describe() override;
  Result<ShardInfo> DescribeShard(uint32_t shard_index) override;
  Result<AppendResult> AppendTransaction(std::vector<AppendRecord> records,
                                         SourcePosition end_position) override;
  Result<AppendResult> AppendTransactionReusing(std::vector<AppendRecord>* records,
                                                SourcePosition end_position) override;
  Result<std::unique_ptr<TransactionAppender>> BeginTransaction() override;
  Result<AppendedRecord> Append(AppendRecord record) override;
  Result<std::vector<AppendedRecord>> AppendRecords(std::vector<AppendRecord> records) override;
  SourcePosition HighestDurablePosition() override;
  uint64_t CommitNumber() override;
  Status WaitForCommit(uint64_t seen, std::chrono::steady_clock::time_point deadline) override;
  Result<std::unique_ptr<ShardReader>> OpenReader(uint32_t shard_index,
                                                  StartPosition start) override;
  Result<std::vector<uint32_t>> SplitShard(uint32_t shard_index,
                                           HashKey new_starting_hash_key) override;
  Result<uint32_t> MergeShards(uint32_t shard_index, uint32_t adjacent_shard_index) override;
  Status UpdateOptions(int64_t retention_nanos, uint64_t retention_bytes,
                       std::map<std::string, std::string> tags) override;
  Result<size_t> EnforceRetention(const RetentionHolds& holds) override;
  using Stream::EnforceRetention;

  // --- the store (log_store.cc) ---
  // Loads (and, read-write, recovers) the stream from disk. Before the stream is shared.
  Status Load();
  void MarkDeleted();
  bool read_only() const { return context_->options.read_only; }

  // --- ShardReader (shard_reader.cc) ---
  // What a read of one shard needs from the segment holding `next`, taken under mu_ so the
  // bytes can then be read without it. `caught_up`: nothing committed at or after `next`
  // (`end_of_shard` and `child_indexes` then say whether the shard is closed).
  struct SegmentSpan {
    bool caught_up = false;
    bool end_of_shard = false;
    std::vector<uint32_t> child_indexes;
    int64_t shard_last_arrival = 0;
    std::shared_ptr<io::File> file;
    uint64_t offset = 0;           // the indexed frame at or before `next`
    uint64_t end = 0;              // the readable end: the segment's end or a known corrupt offset
    SequenceNumber last_sequence;  // the shard's last committed sequence
    SequenceNumber segment_base;
    std::optional<SequenceNumber> next_base;  // the following segment's base, if any
    std::string path;
    std::optional<uint64_t> corrupt_offset;
    std::string corrupt_reason;
  };
  // Errors: NotFound (stream deleted, shard gone), Trimmed (`next` dropped by retention),
  // or the segment's open error.
  Result<SegmentSpan> LocateSegment(ShardIndex shard, SequenceNumber next);
  // Reads committed records of `shard` from `*next` on, advancing `*next`.
  Result<ReadBatch> ReadShard(ShardIndex shard, SequenceNumber* next, const ReadLimits& limits);
  // Where a view read stopped: the frame of `sequence` starts at `offset` of the segment whose
  // base is `segment_base`. The next read from `sequence` starts there instead of at the
  // index entry before it.
  struct ReadResume {
    bool valid = false;
    SequenceNumber segment_base;
    SequenceNumber sequence;
    uint64_t offset = 0;
  };
  // ReadShard's records as views into `batch` (ShardReader::ReadViews): the bytes of at most
  // one segment per call, read once into the batch's buffer.
  Status ReadShardViews(ShardIndex shard, SequenceNumber* next, const ReadLimits& limits,
                        ReadViewBatch* batch, ReadResume* resume);
  // Blocks until `shard` has a record at or above `next`, closes, or `deadline` passes.
  Status WaitForShardData(ShardIndex shard, SequenceNumber next,
                          std::chrono::steady_clock::time_point deadline);

  // --- TransactionAppender (transaction_appender.cc) ---
  // Encodes and writes one part into `writes` (not fsync'd), numbering from `*sequence` on and
  // rolling private segments at record boundaries. Takes write_mu_ for the call. On error the
  // caller discards (RollbackWrites). `release_payloads`: each payload's memory is freed once
  // encoded (Append); otherwise the records keep their memory for the caller (AppendReusing).
  Status WritePart(ShardWrites& writes, std::vector<AppendRecord>& records,
                   SequenceNumber* sequence, SequenceNumber* first_sequence, uint64_t* record_count,
                   bool release_payloads);
  // Commits or discards a transaction appended in parts, then hands the append path back.
  // `end` follows the exactly-once rule (duplicate: the parts are discarded).
  Result<TransactionCommitResult> CommitPart(ShardWrites& writes, SequenceNumber last_sequence,
                                             SequenceNumber first_sequence, uint64_t record_count,
                                             SourcePosition end);
  Status AbortPart(ShardWrites& writes);

 private:
  // A queued AppendTransaction/Append/AppendRecords call (group commit).
  struct Request {
    std::vector<AppendRecord> records;
    SourcePosition end_position;
    bool chunk = true;
    bool done = false;
    Status status;
    AppendResult result;
  };

  std::string ShardDir(ShardIndex index) const;
  Status CheckWritable();
  Status CheckNotAppenderThread() const;
  // Requires mu_.
  Status ValidateLocked(const std::vector<AppendRecord>& records, bool chunk) const;
  Status Poison(const Status& cause);
  ShardInfo InfoLocked(const Shard& shard) const;

  // Recovery (stream_recovery.cc).
  Status LoadShard(Shard& shard, const ShardCommit* commit, bool repair);
  // LoadShard of each, on up to one thread per core (each touches only its own shard).
  struct ShardLoad {
    Shard* shard;
    const ShardCommit* commit;
  };
  Status LoadShards(const std::vector<ShardLoad>& loads, bool repair);
  Status LoadSealed(Segment& segment, bool repair);
  // The summary of the committed prefix of an active segment, from the index file a commit
  // (CommitWrites, every LogStoreOptions::active_index_bytes) or a clean close
  // (WriteActiveIndexes) left, once checked against the segment: nullopt when there is none or
  // it does not describe this file's first bytes up to at most `committed_end`.
  std::optional<SegmentSummary> ReadActiveIndex(const Segment& segment, const io::File& file,
                                                uint64_t committed_end) const;
  void WriteActiveIndexes();
  Status ApplyCommitLocked(const CommitRecord& record);
  Status ReloadLayoutLocked(const CommitRecord* record);
  // Read-only stores: picks up commits made by the writer process. Takes mu_.
  Status Refresh();

  // The commit path (stream_commit.cc). All require write_mu_.
  // `spent`, when set, receives the records back after the append (their memory reused).
  Result<AppendResult> Submit(std::vector<AppendRecord> records, SourcePosition end, bool chunk,
                              std::vector<AppendRecord>* spent = nullptr);
  void ProcessBatch(std::vector<Request*>& batch);
  Status WriteBatch(std::vector<Request*>& batch);
  // Open shards (stable while write_mu_ is held) and the max record size.
  void OpenShards(std::vector<Shard*>* open_shards, uint32_t* max_record_bytes);
  // A ShardWrite positioned at the shard's committed end.
  ShardWrite StartShardWrite(Shard* shard);
  struct EncodeOptions {
    bool chunk = true;  // split payloads larger than max_record_bytes (else validated before)
    uint32_t max_record_bytes = kDefaultMaxRecordBytes;
    int64_t arrival = 0;
    bool release_payload = false;  // free the input's payload as soon as it is encoded
  };
  // Encodes one input record into `write`, numbering its frames from `*sequence` + 1;
  // `after_frame` (may be empty) runs after every frame.
  Status EncodeRecord(ShardWrite& write, AppendRecord& input, const EncodeOptions& how,
                      SequenceNumber* sequence, const std::function<Status()>& after_frame);
  Status FlushWrite(ShardWrite& write);
  // Seals the private segment `write` writes and starts a new one at `base` (appender only).
  Status RollWrite(ShardWrite& write, SequenceNumber base);
  // Waits for the background flushes of the segments `write` rolled away from; a failed one
  // poisons the stream (as a failed fsync does anywhere) and is returned.
  Status WaitForRolledSyncs(ShardWrite& write);
  // Writes, fsyncs (bounded fan-out), commits and publishes `writes` as one commit whose
  // stream counter ends at `last_sequence` and whose position is `position`. On failure
  // before the commit record is durable the writes are rolled back (unless the stream was
  // poisoned) and the error returned.
  Status CommitWrites(ShardWrites& writes, SequenceNumber last_sequence,
                      const SourcePosition& position);
  // Truncates every touched shard back to its committed end and removes rolled segments;
  // poisons the stream (and returns that) when it cannot.
  Status RollbackWrites(ShardWrites& writes);
  // Hands the append path back after a TransactionAppender finished.
  void ReleaseAppendPath();
  Status RollSegment(Shard& shard, SequenceNumber base);
  Status CreateShardFiles(ShardIndex index, SequenceNumber base);
  CommitRecord BuildCommit(SequenceNumber last_sequence, const SourcePosition& position,
                           const std::map<ShardIndex, ShardCommitEnd>& ends) const;
  Status WriteCommit(const CommitRecord& record);
  // A commit record that only announces a layout/option change (no new data): readers in
  // other processes see the new stream.meta, waiters here wake.
  Status CommitLayoutChange();

  // Resharding and options (stream_reshard.cc).
  Status WriteMeta(const StreamMeta& meta);
  // Adopts `meta` after a reshard: updates shard metadata, adds the new (empty) shards.
  Status InstallMetaLocked(const StreamMeta& meta);

  // Reads (shard_reader.cc). Require mu_.
  Result<std::shared_ptr<io::File>> ReadHandle(Segment& segment);
  Result<SequenceNumber> ResolveStart(Shard& shard, const StartPosition& start);
  Result<SequenceNumber> FindTimestamp(Shard& shard, int64_t timestamp);
  bool ShardReadyLocked(ShardIndex shard, SequenceNumber next) const;

  // Waiting (stream_wait.cc). Blocks until `ready_locked` (evaluated under mu_) holds or the
  // deadline passes; read-only stores refresh from the journal between checks.
  Status WaitUntil(const std::function<bool()>& ready_locked,
                   std::chrono::steady_clock::time_point deadline);
  // Read-only stores: a count of changes seen in the stream directory, and a wait for it to
  // move past `seen` (at most `timeout`). False when no watch can be set (then the caller
  // sleeps). One shared watch per stream, however many readers wait: one waiter polls the
  // descriptor, the others wait for its result.
  bool WatchAvailable();
  uint64_t WatchEvents();
  void WaitForChange(uint64_t seen, std::chrono::milliseconds timeout);

  const std::shared_ptr<StoreContext> context_;
  const std::string dir_;
  std::string name_;  // set by Load, fixed afterwards

  // --- published state ---
  mutable std::mutex mu_;
  std::condition_variable cv_;  // signals commits, deletion and poisoning (with mu_)
  StreamMeta meta_;             // guarded by mu_ (+ write_mu_ to change)
  std::map<ShardIndex, std::unique_ptr<Shard>> shards_;  // guarded by mu_ (+ write_mu_ to change)
  SequenceNumber last_sequence_;                         // guarded by mu_ (+ write_mu_ to change)
  uint64_t commit_number_ = 0;                           // guarded by mu_ (+ write_mu_ to change)
  SourcePosition highest_;                               // guarded by mu_ (+ write_mu_ to change)
  bool deleted_ = false;                                 // guarded by mu_
  Status poisoned_;                                      // guarded by mu_
  uint64_t read_generation_ = 0;  // guarded by mu_: read-only journal refresh position
  uint64_t read_offset_ = 0;      // guarded by mu_

  // --- the write path ---
  std::mutex write_mu_;
  // A TransactionAppender owns the append path while open: group-commit batches and
  // BeginTransaction wait on appender_cv_ until it commits or aborts.
  bool appender_open_ = false;           // guarded by write_mu_
  std::condition_variable appender_cv_;  // with write_mu_
  // The thread driving the open appender (default id when none): an append or
  // BeginTransaction from that thread would wait for itself, so it fails instead.
  std::atomic<std::thread::id> appender_thread_{};
  uint64_t journal_generation_ = 0;    // guarded by write_mu_
  std::unique_ptr<io::File> journal_;  // guarded by write_mu_
  uint64_t journal_size_ = 0;          // guarded by write_mu_

  // --- group commit queue ---
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // with queue_mu_
  std::deque<Request*> queue_;        // guarded by queue_mu_
  bool leader_active_ = false;        // guarded by queue_mu_

  // --- read-only directory watch ---
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;           // with watch_mu_
  bool watch_tried_ = false;                   // guarded by watch_mu_
  std::unique_ptr<io::DirectoryWatch> watch_;  // set once under watch_mu_
  bool watch_polling_ = false;  // guarded by watch_mu_: a waiter is in Wait() on the watch
  uint64_t watch_events_ = 0;   // guarded by watch_mu_
};

// The ShardReader and TransactionAppender implementations (shard_reader.cc,
// transaction_appender.cc). Each keeps `stream` alive.
std::unique_ptr<ShardReader> NewShardReader(std::shared_ptr<StreamImpl> stream, ShardIndex shard,
                                            SequenceNumber next);
std::unique_ptr<TransactionAppender> NewTransactionAppender(std::shared_ptr<StreamImpl> stream,
                                                            SequenceNumber last_sequence);

}  // namespace eddy::log::internal
