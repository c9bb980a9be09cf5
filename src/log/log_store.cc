#include "log/log_store.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "base/logging.h"
#include "log/chunking.h"
#include "log/log_metrics.h"
#include "log/segment_format.h"
#include "log/segment_scan.h"
#include "log/stream_format.h"

namespace eddy::log {
namespace {

constexpr char kStreamsDir[] = "streams";
constexpr char kMetaFile[] = "stream.meta";

std::shared_ptr<spdlog::logger> Logger() { return logging::Get("log"); }

struct Segment {
  uint64_t base = 0;
  std::string path;
  std::shared_ptr<io::File> file;  // read handle, opened lazily
  SegmentSummary summary;          // summary.bytes: committed end (header included)
  bool sealed = false;
  std::optional<uint64_t> corrupt_offset;
  std::string corrupt_reason;
};

struct Shard {
  ShardMeta meta;
  std::string dir;
  std::vector<std::shared_ptr<Segment>> segments;  // ascending base; last is active
  uint64_t last_sequence = 0;
  int64_t last_arrival = 0;
  std::unique_ptr<io::File> writer;  // read-write stores: append handle of the active segment

  // Lowest sequence still readable. Nothing lies between last_sequence and the base of an
  // empty active segment, so the horizon never passes last_sequence + 1.
  uint64_t TrimHorizon() const {
    if (segments.empty()) return last_sequence + 1;
    return std::max(std::min(segments.front()->base, last_sequence + 1), meta.starting_sequence);
  }
  bool Trimmed(uint64_t sequence) const {
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
Result<Shard*> RouteToOpenShard(const std::vector<Shard*>& open_shards,
                                const AppendRecord& record) {
  HashKey key = record.explicit_hash_key ? *record.explicit_hash_key
                                         : HashKey::FromPartitionKey(record.partition_key);
  for (Shard* shard : open_shards) {
    if (shard->meta.hash_range.Contains(key)) return shard;
  }
  return Internal("no open shard covers hash key " + key.ToString());
}

void AddToSummary(SegmentSummary& summary, const FrameFields& frame, uint64_t offset,
                  size_t size, uint32_t interval) {
  const uint64_t sequence = frame.sequence.value();
  if (summary.record_count == 0) {
    summary.first_sequence = sequence;
    summary.min_arrival = frame.arrival_nanos;
  }
  if (summary.entries.empty() || offset - summary.entries.back().offset >= interval) {
    summary.entries.push_back(IndexEntry{sequence, offset, frame.arrival_nanos});
  }
  summary.last_sequence = sequence;
  summary.max_arrival = std::max(summary.max_arrival, frame.arrival_nanos);
  summary.min_arrival = std::min(summary.min_arrival, frame.arrival_nanos);
  ++summary.record_count;
  summary.bytes = offset + size;
}

void AddToSummary(SegmentSummary& summary, const Record& record, uint64_t offset, size_t size,
                  uint32_t interval) {
  FrameFields frame;
  frame.sequence = record.sequence;
  frame.arrival_nanos = record.arrival_nanos;
  AddToSummary(summary, frame, offset, size, interval);
}

struct StoreContext {
  io::FileSystem* fs;
  const Clock* clock;
  LogStoreOptions options;
};

class StreamImpl;

// Wakes a read-only reader when a file in a stream directory changes (the writer appending
// to or rolling the commit journal, replacing stream.meta, deleting the stream). Linux inotify
// on the real file system; Watch() fails elsewhere and the caller polls.
class DirectoryWatch {
 public:
  DirectoryWatch() = default;
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;
  ~DirectoryWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool Watch(const std::string& dir) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return false;
    constexpr uint32_t kMask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF |
                               IN_MOVE_SELF;
    if (::inotify_add_watch(fd_, dir.c_str(), kMask) < 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    return true;
  }
  // Waits up to `timeout` for an event and drains the queue. Returns whether one came.
  bool Wait(std::chrono::milliseconds timeout) {
    pollfd entry{fd_, POLLIN, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) return false;
    alignas(inotify_event) char buffer[4096];
    while (::read(fd_, buffer, sizeof buffer) > 0) {
    }
    return true;
  }

 private:
  int fd_ = -1;
};

class ShardReaderImpl final : public ShardReader {
 public:
  ShardReaderImpl(std::shared_ptr<StreamImpl> stream, uint32_t shard, uint64_t next)
      : stream_(std::move(stream)), shard_(shard), next_(next) {}
  Result<ReadBatch> Read(const ReadLimits& limits) override;
  Status WaitForData(std::chrono::steady_clock::time_point deadline) override;
  SequenceNumber next_sequence() const override { return SequenceNumber(next_); }
  uint32_t shard_index() const override { return shard_; }

 private:
  std::shared_ptr<StreamImpl> stream_;
  uint32_t shard_;
  uint64_t next_;
};

class StreamImpl final : public Stream, public std::enable_shared_from_this<StreamImpl> {
 public:
  StreamImpl(std::shared_ptr<StoreContext> context, std::string dir)
      : context_(std::move(context)), dir_(std::move(dir)) {}

  // Loads (and, read-write, recovers) the stream from disk.
  Status Load();

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

  void MarkDeleted() {
    std::lock_guard lock(mu_);
    deleted_ = true;
    cv_.notify_all();
  }
  // Read-only stores: picks up commits made by the writer process.
  Status Refresh();
  // Read-only stores: a count of changes seen in the stream directory, and a wait for it to
  // move past `seen` (at most `timeout`). False when no inotify watch can be set (then the
  // caller sleeps). One shared watch per stream, however many readers wait: one waiter polls
  // the descriptor, the others wait for its result.
  bool WatchAvailable();
  uint64_t WatchEvents();
  void WaitForChange(uint64_t seen, std::chrono::milliseconds timeout);
  bool read_only() const { return context_->options.read_only; }

 private:
  friend class ShardReaderImpl;
  friend class TransactionAppenderImpl;

  struct Request {
    std::vector<AppendRecord> records;
    SourcePosition end_position;
    bool chunk = true;
    bool done = false;
    Status status;
    AppendResult result;
  };

  std::string ShardDir(uint32_t index) const { return io::JoinPath(dir_, FormatShardId(index)); }
  Status CheckWritable();
  Status Validate(const std::vector<AppendRecord>& records, bool chunk) const;
  // `spent`, when set, receives the records back after the append (their memory reused).
  Result<AppendResult> Submit(std::vector<AppendRecord> records, SourcePosition end, bool chunk,
                              std::vector<AppendRecord>* spent = nullptr);
  void ProcessBatch(std::vector<Request*>& batch);
  Status WriteBatch(std::vector<Request*>& batch);
  Status RollSegment(Shard& shard, uint64_t base);
  Status CreateShardFiles(uint32_t index, uint64_t base);
  CommitRecord BuildCommit(uint64_t last_sequence, const SourcePosition& position,
                           const std::map<uint32_t, std::pair<uint64_t, std::pair<uint64_t, int64_t>>>&
                               overrides) const;
  Status WriteCommit(const CommitRecord& record);
  Status WriteMeta(const StreamMeta& meta);
  Status LoadShard(Shard& shard, const ShardCommit* commit, bool repair);
  Status LoadSealed(Segment& segment, bool repair);
  Result<std::shared_ptr<io::File>> ReadHandle(Segment& segment);
  ShardInfo InfoLocked(const Shard& shard) const;
  Result<uint64_t> ResolveStart(Shard& shard, const StartPosition& start);
  Result<uint64_t> FindTimestamp(Shard& shard, int64_t timestamp);
  Status ApplyCommitLocked(const CommitRecord& record);
  Status ReloadLayoutLocked(const CommitRecord* record);
  // Adopts `meta` after a reshard: updates shard metadata, adds the new (empty) shards.
  Status InstallMetaLocked(const StreamMeta& meta);
  Status Poison(const Status& cause);

  std::shared_ptr<StoreContext> context_;
  std::string dir_;
  std::string name_;

  // mu_ guards everything below it up to write_mu_; cv_ signals commits.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StreamMeta meta_;
  std::map<uint32_t, std::unique_ptr<Shard>> shards_;
  uint64_t last_sequence_ = 0;
  uint64_t commit_number_ = 0;
  SourcePosition highest_;
  bool deleted_ = false;
  Status poisoned_;

  // Held by the group-commit leader, resharding, retention and a TransactionAppender while it
  // writes a part or commits: one writer at a time.
  std::mutex write_mu_;
  // Guarded by write_mu_: a TransactionAppender owns the append path (group-commit batches
  // and BeginTransaction wait on appender_cv_ until it commits or aborts).
  bool appender_open_ = false;
  std::condition_variable appender_cv_;
  // The thread driving the open appender (default id when none): an append or
  // BeginTransaction from that thread would wait for itself, so it fails instead.
  std::atomic<std::thread::id> appender_thread_{};
  Status CheckNotAppenderThread() const {
    if (appender_thread_.load() == std::this_thread::get_id()) {
      return FailedPrecondition("this thread holds an open TransactionAppender on stream " +
                                name_ + ": commit or abort it before appending otherwise");
    }
    return Status::Ok();
  }
  uint64_t journal_generation_ = 0;
  std::unique_ptr<io::File> journal_;
  uint64_t journal_size_ = 0;
  // Read-only refresh position in the journal.
  uint64_t read_generation_ = 0;
  uint64_t read_offset_ = 0;

  // Read-only stores: the inotify watch of dir_ (guarded by watch_mu_).
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_tried_ = false;
  std::unique_ptr<DirectoryWatch> watch_;
  bool watch_polling_ = false;  // a waiter is in poll() on the descriptor
  uint64_t watch_events_ = 0;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request*> queue_;
  bool leader_active_ = false;
};

// ---------------------------------------------------------------------------------------------
// Loading and recovery

Status StreamImpl::LoadSealed(Segment& segment, bool repair) {
  io::FileSystem* fs = context_->fs;
  std::string index_path = segment.path.substr(0, segment.path.size() - 4) + ".idx";
  auto bytes = fs->ReadFile(index_path);
  if (bytes.ok()) {
    auto summary = DecodeIndex(*bytes);
    auto size = fs->FileSize(segment.path);
    if (summary.ok() && size.ok() && summary->bytes == *size) {
      segment.summary = std::move(*summary);
      segment.sealed = true;
      return Status::Ok();
    }
  }
  // Missing or stale index: rebuild it by scanning (bounded by one segment).
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(segment.path, io::OpenMode::kReadOnly));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  SegmentSummary summary;
  summary.bytes = kSegmentHeaderBytes;
  uint32_t interval = context_->options.index_interval_bytes;
  EDDY_ASSIGN_OR_RETURN(
      ScanOutcome outcome,
      ScanFrames(*file, kSegmentHeaderBytes, size, true,
                 [&](Record& record, uint64_t offset, size_t frame_size) {
                   AddToSummary(summary, record, offset, frame_size, interval);
                   return true;
                 }));
  if (outcome.status != FrameStatus::kOk) {
    segment.corrupt_offset = outcome.stop_offset;
    segment.corrupt_reason = outcome.error;
    Logger()->error("segment corrupt file={} offset={} reason=\"{}\" (records before it stay "
                    "readable)",
                    segment.path, outcome.stop_offset, outcome.error);
    summary.bytes = size;
  }
  segment.summary = std::move(summary);
  segment.sealed = true;
  if (repair && outcome.status == FrameStatus::kOk) {
    Logger()->info("rebuilt segment index file={} records={}", segment.path,
                   segment.summary.record_count);
    // The index is a cache: it is not fsync'd; a torn one is rebuilt again.
    auto index_file = fs->Open(index_path, io::OpenMode::kCreateOrTruncate);
    if (index_file.ok()) (*index_file)->Append(EncodeIndex(segment.summary)).IgnoreError();
  }
  return Status::Ok();
}

Status StreamImpl::LoadShard(Shard& shard, const ShardCommit* commit, bool repair) {
  io::FileSystem* fs = context_->fs;
  EDDY_ASSIGN_OR_RETURN(auto names, fs->List(shard.dir));
  std::vector<uint64_t> bases;
  for (const auto& name : names) {
    auto base = ParseSegmentFileName(name);
    if (base.ok()) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  if (bases.empty()) {
    if (shard.meta.expired) {
      shard.segments.clear();
      return Status::Ok();
    }
    return Corruption("shard directory " + shard.dir + " has no segment file");
  }
  uint64_t active_base = commit ? commit->segment_base : bases.front();
  uint64_t committed_end = commit ? commit->end_offset : kSegmentHeaderBytes;
  if (!std::binary_search(bases.begin(), bases.end(), active_base)) {
    return Corruption("shard " + shard.dir + ": committed active segment " +
                      SegmentFileName(active_base) + " is missing");
  }
  std::map<uint64_t, std::shared_ptr<Segment>> existing;
  for (auto& segment : shard.segments) existing[segment->base] = segment;
  std::vector<std::shared_ptr<Segment>> segments;
  for (uint64_t base : bases) {
    std::string path = io::JoinPath(shard.dir, SegmentFileName(base));
    if (base > active_base) {
      // Created by a roll whose commit never became durable: holds nothing acknowledged.
      if (repair) {
        EDDY_ASSIGN_OR_RETURN(uint64_t size, fs->FileSize(path));
        Logger()->warn("recovery dropped uncommitted segment file={} bytes={}", path, size);
        EDDY_RETURN_IF_ERROR(fs->Remove(path));
        EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard.dir));
      }
      continue;
    }
    auto found = existing.find(base);
    if (found != existing.end() && (found->second->sealed || base == active_base)) {
      segments.push_back(found->second);
      continue;
    }
    auto segment = std::make_shared<Segment>();
    segment->base = base;
    segment->path = path;
    if (base < active_base) {
      EDDY_RETURN_IF_ERROR(LoadSealed(*segment, repair));
    } else if (found != existing.end()) {
      segment = found->second;
    }
    segments.push_back(segment);
  }
  // The active segment: index [header, committed end); in repair mode truncate beyond it.
  std::shared_ptr<Segment> active = segments.back();
  if (active->base != active_base) return Internal("active segment bookkeeping");
  if (active->summary.bytes == 0) active->summary.bytes = kSegmentHeaderBytes;
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(active->path, io::OpenMode::kReadOnly));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < kSegmentHeaderBytes) {
    return Corruption("segment " + active->path + " is shorter than its header");
  }
  if (size < committed_end) {
    Logger()->error("segment shorter than its committed end file={} size={} committed_end={} "
                    "(committed records lost by the file system)",
                    active->path, size, committed_end);
    committed_end = size;
  }
  uint64_t from = active->summary.bytes;
  if (from < committed_end && !active->corrupt_offset) {
    uint32_t interval = context_->options.index_interval_bytes;
    EDDY_ASSIGN_OR_RETURN(
        ScanOutcome outcome,
        ScanFrames(*file, from, committed_end, true,
                   [&](Record& record, uint64_t offset, size_t frame_size) {
                     AddToSummary(active->summary, record, offset, frame_size, interval);
                     return true;
                   }));
    if (outcome.status != FrameStatus::kOk) {
      active->corrupt_offset = outcome.stop_offset;
      active->corrupt_reason = outcome.error;
      Logger()->error("segment corrupt file={} offset={} reason=\"{}\" (records before it stay "
                      "readable)",
                      active->path, outcome.stop_offset, outcome.error);
    }
  }
  active->summary.bytes = committed_end;
  if (repair && size > committed_end) {
    // Count what is dropped for the log line (frames beyond the commit, torn or whole).
    uint64_t records = 0;
    auto counted = ScanFrames(*file, committed_end, size, false,
                              [&](Record&, uint64_t, size_t) {
                                ++records;
                                return true;
                              });
    bool torn = counted.ok() && counted->status != FrameStatus::kOk;
    Logger()->warn("recovery truncated uncommitted tail file={} offset={} bytes={} records={}{}",
                   active->path, committed_end, size - committed_end, records,
                   torn ? " plus a torn record" : "");
    EDDY_RETURN_IF_ERROR(fs->Truncate(active->path, committed_end));
  }
  active->sealed = false;
  // Sealed segments hold only committed data; remove orphan index files silently.
  if (repair) {
    for (const auto& name : names) {
      if (name.size() == 24 && name.substr(20) == ".idx") {
        auto base = ParseSegmentFileName(name.substr(0, 20) + ".seg");
        if (base.ok() && !std::binary_search(bases.begin(), bases.end(), *base)) {
          fs->Remove(io::JoinPath(shard.dir, name)).IgnoreError();
        }
      }
    }
  }
  shard.segments = std::move(segments);
  if (commit) {
    shard.last_sequence = commit->last_sequence;
    shard.last_arrival = commit->last_arrival;
  }
  if (repair && shard.meta.open) {
    EDDY_ASSIGN_OR_RETURN(shard.writer, fs->Open(active->path, io::OpenMode::kReadWrite));
  }
  return Status::Ok();
}

Status StreamImpl::ReloadLayoutLocked(const CommitRecord* record) {
  bool repair = !read_only();
  EDDY_ASSIGN_OR_RETURN(std::string meta_bytes,
                        context_->fs->ReadFile(io::JoinPath(dir_, kMetaFile)));
  EDDY_ASSIGN_OR_RETURN(StreamMeta meta, DecodeStreamMeta(meta_bytes));
  std::map<uint32_t, const ShardCommit*> commits;
  if (record) {
    for (const auto& shard : record->shards) commits[shard.shard_index] = &shard;
  }
  std::map<uint32_t, std::unique_ptr<Shard>> shards;
  for (const auto& shard_meta : meta.shards) {
    auto it = shards_.find(shard_meta.index);
    std::unique_ptr<Shard> shard;
    if (it != shards_.end()) {
      shard = std::move(it->second);
    } else {
      shard = std::make_unique<Shard>();
    }
    shard->meta = shard_meta;
    shard->dir = ShardDir(shard_meta.index);
    auto commit = commits.find(shard_meta.index);
    if (shard_meta.expired) {
      shard->segments.clear();
      if (repair) {
        // Files left by a crash between the retention commit and their removal.
        auto exists = context_->fs->Exists(shard->dir);
        if (exists.ok() && *exists) {
          auto names = context_->fs->List(shard->dir);
          if (names.ok() && !names->empty()) {
            Logger()->info("removing files of expired shard dir={}", shard->dir);
            for (const auto& name : *names) {
              context_->fs->Remove(io::JoinPath(shard->dir, name)).IgnoreError();
            }
          }
        }
      }
    } else {
      EDDY_RETURN_IF_ERROR(LoadShard(
          *shard, commit == commits.end() ? nullptr : commit->second, repair));
    }
    shards[shard_meta.index] = std::move(shard);
  }
  if (repair) {
    // Shard directories not in the metadata come from a reshard that never committed.
    EDDY_ASSIGN_OR_RETURN(auto names, context_->fs->List(dir_));
    for (const auto& name : names) {
      auto index = ParseShardId(name);
      if (index.ok() && !shards.count(*index)) {
        Logger()->warn("recovery removed shard directory of an unfinished reshard dir={}",
                       io::JoinPath(dir_, name));
        EDDY_RETURN_IF_ERROR(context_->fs->RemoveTree(io::JoinPath(dir_, name)));
      }
    }
  }
  shards_ = std::move(shards);
  meta_ = std::move(meta);
  name_ = meta_.name;
  return Status::Ok();
}

Status StreamImpl::ApplyCommitLocked(const CommitRecord& record) {
  bool layout_changed = record.meta_version != meta_.meta_version;
  if (!layout_changed) {
    for (const auto& shard_commit : record.shards) {
      auto it = shards_.find(shard_commit.shard_index);
      if (it == shards_.end() || it->second->segments.empty() ||
          it->second->segments.back()->base != shard_commit.segment_base) {
        layout_changed = true;
        break;
      }
    }
  }
  if (layout_changed) {
    EDDY_RETURN_IF_ERROR(ReloadLayoutLocked(&record));
  } else {
    for (const auto& shard_commit : record.shards) {
      Shard& shard = *shards_[shard_commit.shard_index];
      EDDY_RETURN_IF_ERROR(LoadShard(shard, &shard_commit, false));
    }
  }
  last_sequence_ = record.last_sequence;
  commit_number_ = record.commit_number;
  highest_ = record.position;
  cv_.notify_all();
  return Status::Ok();
}

Status StreamImpl::Load() {
  io::FileSystem* fs = context_->fs;
  EDDY_ASSIGN_OR_RETURN(auto names, fs->List(dir_));
  std::vector<uint64_t> generations;
  for (const auto& name : names) {
    auto generation = ParseJournalFileName(name);
    if (generation.ok()) generations.push_back(*generation);
  }
  std::sort(generations.begin(), generations.end());
  std::optional<CommitRecord> last;
  uint64_t generation = 0;
  JournalScan chosen;
  // The newest journal with a valid record wins; a newer one without (a roll that crashed
  // before its first record was durable) is discarded.
  for (size_t i = generations.size(); i-- > 0;) {
    std::string path = io::JoinPath(dir_, JournalFileName(generations[i]));
    EDDY_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(path));
    auto scan = ScanJournal(bytes);
    if (scan.ok() && scan->last) {
      if (scan->corrupt_offset) {
        Logger()->error("commit journal corrupt file={} offset={} reason=\"{}\" (later records "
                        "are intact and used)",
                        path, *scan->corrupt_offset, scan->corrupt_reason);
      }
      if (scan->invalid_bytes > 0 && !read_only()) {
        Logger()->warn("recovery truncated torn commit journal tail file={} offset={} bytes={}",
                       path, scan->valid_end, scan->invalid_bytes);
        EDDY_RETURN_IF_ERROR(fs->Truncate(path, scan->valid_end));
      }
      last = scan->last;
      generation = generations[i];
      chosen = std::move(*scan);
      break;
    }
    if (!read_only()) {
      Logger()->warn("recovery removed commit journal without a valid record file={}", path);
      EDDY_RETURN_IF_ERROR(fs->Remove(path));
      EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir_));
    }
  }
  if (!last) return Corruption("stream " + dir_ + " has no valid commit record");
  std::lock_guard lock(mu_);
  EDDY_RETURN_IF_ERROR(ReloadLayoutLocked(&*last));
  last_sequence_ = last->last_sequence;
  commit_number_ = last->commit_number;
  highest_ = last->position;
  read_generation_ = generation;
  read_offset_ = chosen.valid_end;
  if (!read_only()) {
    // Older journals are superseded by the newest valid record.
    for (uint64_t old : generations) {
      if (old < generation) {
        fs->Remove(io::JoinPath(dir_, JournalFileName(old))).IgnoreError();
      }
    }
    journal_generation_ = generation;
    EDDY_ASSIGN_OR_RETURN(journal_, fs->Open(io::JoinPath(dir_, JournalFileName(generation)),
                                             io::OpenMode::kReadWrite));
    EDDY_ASSIGN_OR_RETURN(journal_size_, journal_->Size());
  }
  return Status::Ok();
}

Status StreamImpl::Refresh() {
  if (!read_only()) return Status::Ok();
  io::FileSystem* fs = context_->fs;
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  std::string path = io::JoinPath(dir_, JournalFileName(read_generation_));
  auto size = fs->FileSize(path);
  if (!size.ok() || *size == read_offset_) {
    // Nothing new here; the writer may have started a newer journal.
    auto names = fs->List(dir_);
    if (!names.ok()) {
      deleted_ = true;
      return NotFound("stream " + name_ + " was deleted");
    }
    uint64_t newest = read_generation_;
    for (const auto& name : *names) {
      auto generation = ParseJournalFileName(name);
      if (generation.ok()) newest = std::max(newest, *generation);
    }
    if (newest == read_generation_) return Status::Ok();
    read_generation_ = newest;
    read_offset_ = 0;
    path = io::JoinPath(dir_, JournalFileName(newest));
    size = fs->FileSize(path);
    if (!size.ok()) return Status::Ok();
  }
  auto file = fs->Open(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return Status::Ok();
  std::string bytes;
  uint64_t start = read_offset_;
  if (start == 0) {
    bytes.resize(*size);
    EDDY_ASSIGN_OR_RETURN(size_t got, (*file)->ReadAt(0, *size, bytes.data()));
    bytes.resize(got);
  } else {
    // Scan only the new bytes, behind a synthetic header.
    bytes.assign(kJournalMagic, sizeof kJournalMagic);
    bytes.resize(sizeof kJournalMagic + (*size - start));
    EDDY_ASSIGN_OR_RETURN(size_t got, (*file)->ReadAt(start, *size - start,
                                                      bytes.data() + sizeof kJournalMagic));
    bytes.resize(sizeof kJournalMagic + got);
  }
  auto scan = ScanJournal(bytes);
  if (!scan.ok()) return Status::Ok();  // header not yet written by a rolling writer
  uint64_t base = start == 0 ? 0 : start - sizeof kJournalMagic;
  read_offset_ = base + scan->valid_end;
  if (scan->last && scan->last->commit_number > commit_number_) {
    EDDY_RETURN_IF_ERROR(ApplyCommitLocked(*scan->last));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Describe

ShardInfo StreamImpl::InfoLocked(const Shard& shard) const {
  ShardInfo info;
  info.index = shard.meta.index;
  info.id = FormatShardId(shard.meta.index);
  info.parent_index = shard.meta.parent_index;
  info.adjacent_parent_index = shard.meta.adjacent_parent_index;
  info.child_indexes = shard.meta.child_indexes;
  info.hash_range = shard.meta.hash_range;
  info.creation_nanos = shard.meta.creation_nanos;
  info.starting_sequence = SequenceNumber(shard.meta.starting_sequence);
  if (shard.meta.ending_sequence) info.ending_sequence = SequenceNumber(*shard.meta.ending_sequence);
  info.open = shard.meta.open;
  info.trim_horizon = SequenceNumber(shard.TrimHorizon());
  info.last_sequence = SequenceNumber(shard.last_sequence);
  info.last_arrival_nanos = shard.last_arrival;
  info.bytes = shard.Bytes();
  info.expired = shard.meta.expired;
  return info;
}

StreamInfo StreamImpl::Describe() {
  Refresh().IgnoreError();  // a stale view is still a valid one
  std::lock_guard lock(mu_);
  StreamInfo info;
  info.name = meta_.name;
  info.options = meta_.options;
  info.creation_nanos = meta_.creation_nanos;
  info.highest_position = highest_;
  info.meta_version = meta_.meta_version;
  for (const auto& [index, shard] : shards_) {
    if (!shard->meta.expired) info.shards.push_back(InfoLocked(*shard));
  }
  return info;
}

Result<ShardInfo> StreamImpl::DescribeShard(uint32_t shard_index) {
  Refresh().IgnoreError();
  std::lock_guard lock(mu_);
  auto it = shards_.find(shard_index);
  if (it == shards_.end()) {
    return NotFound("shard " + FormatShardId(shard_index) + " does not exist in stream " + name_);
  }
  return InfoLocked(*it->second);
}

SourcePosition StreamImpl::HighestDurablePosition() {
  Refresh().IgnoreError();
  std::lock_guard lock(mu_);
  return highest_;
}

// ---------------------------------------------------------------------------------------------
// Appends: group commit

Status StreamImpl::CheckWritable() {
  if (read_only()) {
    return FailedPrecondition("the log store is open read-only; appends need the writer process");
  }
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  if (!poisoned_.ok()) {
    return FailedPrecondition("stream " + name_ + " stopped accepting appends after: " +
                              poisoned_.ToString() + "; reopen the store to recover");
  }
  return Status::Ok();
}

Status StreamImpl::Validate(const std::vector<AppendRecord>& records, bool chunk) const {
  for (const auto& record : records) {
    if (record.partition_key.empty()) return InvalidArgument("partition key must not be empty");
    if (record.partition_key.size() + kChunkHeaderBytes + 64 > meta_.options.max_record_bytes) {
      return InvalidArgument("partition key of " + std::to_string(record.partition_key.size()) +
                             " bytes leaves no room for a payload within the max record size");
    }
    if (!chunk && record.partition_key.size() + record.payload.size() >
                      meta_.options.max_record_bytes) {
      return InvalidArgument("record of " +
                             std::to_string(record.partition_key.size() + record.payload.size()) +
                             " bytes exceeds the stream's max record size of " +
                             std::to_string(meta_.options.max_record_bytes) + " bytes");
    }
  }
  return Status::Ok();
}

Result<AppendResult> StreamImpl::AppendTransaction(std::vector<AppendRecord> records,
                                                   SourcePosition end_position) {
  return Submit(std::move(records), std::move(end_position), true);
}

Result<AppendResult> StreamImpl::AppendTransactionReusing(std::vector<AppendRecord>* records,
                                                          SourcePosition end_position) {
  std::vector<AppendRecord> taken = std::move(*records);
  records->clear();
  return Submit(std::move(taken), std::move(end_position), true, records);
}

Result<AppendedRecord> StreamImpl::Append(AppendRecord record) {
  std::vector<AppendRecord> records;
  records.push_back(std::move(record));
  EDDY_ASSIGN_OR_RETURN(AppendResult result, Submit(std::move(records), SourcePosition(), false));
  return result.records.front();
}

Result<std::vector<AppendedRecord>> StreamImpl::AppendRecords(std::vector<AppendRecord> records) {
  EDDY_ASSIGN_OR_RETURN(AppendResult result, Submit(std::move(records), SourcePosition(), false));
  return std::move(result.records);
}

Result<AppendResult> StreamImpl::Submit(std::vector<AppendRecord> records, SourcePosition end,
                                        bool chunk, std::vector<AppendRecord>* spent) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  EDDY_RETURN_IF_ERROR(CheckNotAppenderThread());
  {
    std::lock_guard lock(mu_);
    EDDY_RETURN_IF_ERROR(Validate(records, chunk));
  }
  Request request;
  request.records = std::move(records);
  request.end_position = std::move(end);
  request.chunk = chunk;
  std::unique_lock lock(queue_mu_);
  queue_.push_back(&request);
  while (!request.done) {
    if (!leader_active_) {
      // Become the leader: commit everything queued so far as one batch.
      leader_active_ = true;
      std::vector<Request*> batch(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      ProcessBatch(batch);
      lock.lock();
      leader_active_ = false;
      for (Request* done : batch) done->done = true;
      queue_cv_.notify_all();
    } else {
      queue_cv_.wait(lock);
    }
  }
  if (spent != nullptr) *spent = std::move(request.records);
  if (!request.status.ok()) return request.status;
  return std::move(request.result);
}

void StreamImpl::ProcessBatch(std::vector<Request*>& batch) {
  std::unique_lock write_lock(write_mu_);
  appender_cv_.wait(write_lock, [&] { return !appender_open_; });
  Status status = WriteBatch(batch);
  if (!status.ok()) {
    for (Request* request : batch) {
      if (request->status.ok()) request->status = status;
    }
  }
}

Status StreamImpl::Poison(const Status& cause) {
  std::lock_guard lock(mu_);
  if (poisoned_.ok()) {
    poisoned_ = cause;
    Logger()->error("stream stopped accepting appends stream={} cause=\"{}\"", name_,
                    cause.ToString());
  }
  cv_.notify_all();
  return cause;
}

Status StreamImpl::CreateShardFiles(uint32_t index, uint64_t base) {
  io::FileSystem* fs = context_->fs;
  std::string dir = ShardDir(index);
  EDDY_RETURN_IF_ERROR(fs->CreateDirectory(dir));
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(io::JoinPath(dir, SegmentFileName(base)),
                                            io::OpenMode::kCreateOrTruncate));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(index)));
  EDDY_RETURN_IF_ERROR(file->Sync());
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir));
  return fs->SyncDirectory(dir_);
}

Status StreamImpl::RollSegment(Shard& shard, uint64_t base) {
  io::FileSystem* fs = context_->fs;
  std::string path = io::JoinPath(shard.dir, SegmentFileName(base));
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(path, io::OpenMode::kCreateOrTruncate));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(shard.meta.index)));
  EDDY_RETURN_IF_ERROR(file->Sync());
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard.dir));
  auto segment = std::make_shared<Segment>();
  segment->base = base;
  segment->path = path;
  segment->summary.bytes = kSegmentHeaderBytes;
  std::shared_ptr<Segment> old = shard.segments.back();
  {
    std::lock_guard lock(mu_);
    old->sealed = true;
    shard.segments.push_back(segment);
  }
  shard.writer = std::move(file);
  // The index is a cache (rebuilt when missing or torn), so it is written without fsync.
  std::string index_path = old->path.substr(0, old->path.size() - 4) + ".idx";
  auto index_file = fs->Open(index_path, io::OpenMode::kCreateOrTruncate);
  if (index_file.ok()) (*index_file)->Append(EncodeIndex(old->summary)).IgnoreError();
  return Status::Ok();
}

CommitRecord StreamImpl::BuildCommit(
    uint64_t last_sequence, const SourcePosition& position,
    const std::map<uint32_t, std::pair<uint64_t, std::pair<uint64_t, int64_t>>>& overrides)
    const {
  // Called with write_mu_ held; reads shard state that only the writer changes.
  CommitRecord record;
  record.commit_number = commit_number_ + 1;
  record.meta_version = meta_.meta_version;
  record.last_sequence = last_sequence;
  record.commit_nanos = context_->clock->NowNanos();
  record.position = position;
  for (const auto& [index, shard] : shards_) {
    if (shard->segments.empty()) continue;
    ShardCommit commit;
    commit.shard_index = index;
    commit.segment_base = shard->segments.back()->base;
    commit.end_offset = shard->segments.back()->summary.bytes;
    commit.last_sequence = shard->last_sequence;
    commit.last_arrival = shard->last_arrival;
    auto it = overrides.find(index);
    if (it != overrides.end()) {
      commit.end_offset = it->second.first;
      commit.last_sequence = it->second.second.first;
      commit.last_arrival = it->second.second.second;
    }
    record.shards.push_back(commit);
  }
  return record;
}

Status StreamImpl::WriteCommit(const CommitRecord& record) {
  io::FileSystem* fs = context_->fs;
  std::string frame;
  EncodeCommitFrame(record, frame);
  if (journal_size_ + frame.size() > context_->options.commit_journal_bytes) {
    // Start a new journal whose first record is this one (every record is complete).
    uint64_t generation = journal_generation_ + 1;
    std::string path = io::JoinPath(dir_, JournalFileName(generation));
    EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(path, io::OpenMode::kCreateOrTruncate));
    std::string bytes(kJournalMagic, sizeof kJournalMagic);
    bytes += frame;
    Status status = file->Append(bytes);
    if (status.ok()) status = file->Sync();
    if (status.ok()) status = fs->SyncDirectory(dir_);
    if (!status.ok()) {
      fs->Remove(path).IgnoreError();  // the old journal still holds the last commit
      return status;
    }
    fs->Remove(io::JoinPath(dir_, JournalFileName(journal_generation_))).IgnoreError();
    journal_ = std::move(file);
    journal_generation_ = generation;
    journal_size_ = bytes.size();
    return Status::Ok();
  }
  Status status = journal_->Append(frame);
  if (!status.ok()) {
    Status undo = journal_->Truncate(journal_size_);
    if (!undo.ok()) return Poison(undo.WithContext("rolling back a failed commit write"));
    return status;
  }
  status = TimedSync(*journal_);
  if (!status.ok()) return Poison(status.WithContext("fsync of the commit journal"));
  journal_size_ += frame.size();
  return Status::Ok();
}

Status StreamImpl::WriteBatch(std::vector<Request*>& batch) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  const auto started = std::chrono::steady_clock::now();  // eddy_log_commit_duration_seconds
  const int64_t now = context_->clock->NowNanos();

  // 1. Dedupe by source position, in queue order.
  SourcePosition high;
  uint32_t max_record_bytes;
  std::vector<Shard*> open_shards;
  {
    std::lock_guard lock(mu_);
    high = highest_;
    max_record_bytes = meta_.options.max_record_bytes;
    for (auto& [index, shard] : shards_) {
      if (shard->meta.open) open_shards.push_back(shard.get());
    }
  }
  std::vector<Request*> live;
  for (Request* request : batch) {
    if (!request->end_position.empty() && !high.empty()) {
      auto order = request->end_position.CompareTransaction(high);
      if (order == std::partial_ordering::unordered) {
        request->status = InvalidArgument("source position " + request->end_position.ToString() +
                                          " is of a different source kind than the stream's " +
                                          high.ToString());
        continue;
      }
      if (order <= 0) {
        request->result.duplicate = true;
        continue;
      }
    }
    if (!request->end_position.empty()) high = request->end_position;
    live.push_back(request);
  }
  if (live.empty()) return Status::Ok();

  // 2. Route to shards.
  struct Routed {
    Request* request;
    size_t record;
    Shard* shard;
  };
  std::vector<Routed> routed;
  std::map<Shard*, bool> touched;
  for (Request* request : live) {
    for (size_t i = 0; i < request->records.size(); ++i) {
      EDDY_ASSIGN_OR_RETURN(Shard * target, RouteToOpenShard(open_shards, request->records[i]));
      routed.push_back({request, i, target});
      touched[target] = true;
    }
  }

  // 3. Roll full segments before numbering, so new segments are named below their records.
  uint64_t sequence = last_sequence_;
  for (auto& [shard, unused] : touched) {
    if (shard->segments.back()->summary.bytes >= context_->options.segment_bytes) {
      Status status = RollSegment(*shard, sequence + 1);
      if (!status.ok()) return status;
    }
  }

  // 4. Number and encode.
  struct Pending {
    std::string bytes;
    uint64_t start = 0;  // committed end before this batch
    SegmentSummary summary;  // additions
    uint64_t last_sequence = 0;
    int64_t last_arrival = 0;
    size_t reserve = 0;  // estimated bytes of the frames
  };
  std::map<Shard*, Pending> pending;
  for (auto& [shard, unused] : touched) {
    Pending& p = pending[shard];
    p.start = shard->segments.back()->summary.bytes;
    p.summary = shard->segments.back()->summary;
    p.last_sequence = shard->last_sequence;
    p.last_arrival = shard->last_arrival;
  }
  // Sized up front: growing a multi-megabyte buffer by doubling copies it again and again.
  for (auto& [request, index, shard] : routed) {
    const AppendRecord& input = request->records[index];
    pending[shard].reserve += input.partition_key.size() + input.payload.size() + 64;
  }
  for (auto& [shard, p] : pending) p.bytes.reserve(p.reserve);
  uint32_t interval = context_->options.index_interval_bytes;
  for (auto& [request, index, shard] : routed) {
    AppendRecord& input = request->records[index];
    Pending& p = pending[shard];
    int64_t arrival = std::max(now, p.last_arrival);
    const SourcePosition* position = input.position.empty() ? nullptr : &input.position;
    auto encode = [&](RecordKind kind, std::string_view payload) {
      FrameFields frame{SequenceNumber(++sequence), arrival, kind, input.partition_key, position,
                        payload};
      uint64_t offset = p.start + p.bytes.size();
      size_t before = p.bytes.size();
      EncodeFrame(frame, p.bytes);
      AddToSummary(p.summary, frame, offset, p.bytes.size() - before, interval);
      p.last_sequence = frame.sequence.value();
      p.last_arrival = arrival;
    };
    const uint64_t first_sequence = sequence + 1;
    if (!request->chunk ||
        input.partition_key.size() + input.payload.size() <= max_record_bytes) {
      encode(RecordKind::kData, input.payload);  // the common case: no copy before the frame
    } else {
      for (const ChunkPiece& piece :
           SplitPayload(input.partition_key, input.payload, max_record_bytes)) {
        encode(piece.kind, piece.payload);
      }
    }
    request->result.records.push_back(
        AppendedRecord{shard->meta.index, SequenceNumber(first_sequence)});
  }

  // 5. Write and fsync every touched shard; roll back on failure.
  auto rollback = [&](const Status& cause) -> Status {
    for (auto& [shard, p] : pending) {
      Status undo = shard->writer->Truncate(p.start);
      if (!undo.ok()) return Poison(undo.WithContext("rolling back after " + cause.ToString()));
    }
    return cause;
  };
  for (auto& [shard, p] : pending) {
    Status status = shard->writer->Append(p.bytes);
    if (!status.ok()) return rollback(status);
  }
  if (!pending.empty()) {
    // Shard files are flushed in parallel: a batch spanning N shards waits for about one
    // flush, not N in a row. A batch of only empty transactions (a source that moves its
    // position without changes, e.g. a snapshot of an empty table) touches no shard and only
    // writes the commit record below.
    std::vector<io::File*> files;
    for (auto& [shard, p] : pending) files.push_back(shard->writer.get());
    std::vector<std::future<Status>> others;
    for (size_t i = 1; i < files.size(); ++i) {
      others.push_back(
          std::async(std::launch::async, [file = files[i]] { return TimedSync(*file); }));
    }
    Status first = TimedSync(*files.front());
    std::vector<Status> results = {first};
    for (auto& other : others) results.push_back(other.get());
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) return Poison(results[i].WithContext("fsync of " + files[i]->path()));
    }
  }

  // 6. Commit record: makes the whole batch visible at once, durable before we return.
  std::map<uint32_t, std::pair<uint64_t, std::pair<uint64_t, int64_t>>> overrides;
  for (auto& [shard, p] : pending) {
    overrides[shard->meta.index] = {p.start + p.bytes.size(), {p.last_sequence, p.last_arrival}};
  }
  SourcePosition position;
  {
    std::lock_guard lock(mu_);
    position = highest_;
  }
  if (!high.empty()) position = high;
  CommitRecord commit = BuildCommit(sequence, position, overrides);
  Status status = WriteCommit(commit);
  if (!status.ok()) {
    std::lock_guard lock(mu_);
    if (!poisoned_.ok()) return status;
    // The commit did not happen: the shard bytes must go, or a later commit would cover them.
    for (auto& [shard, p] : pending) {
      Status undo = shard->writer->Truncate(p.start);
      if (!undo.ok()) {
        poisoned_ = undo;
        return status;
      }
    }
    return status;
  }

  // 7. Publish.
  uint64_t appended_bytes = 0;
  for (auto& [shard, p] : pending) appended_bytes += p.bytes.size();
  RecordLogCommit(name_, sequence - last_sequence_, appended_bytes, started);
  {
    std::lock_guard lock(mu_);
    for (auto& [shard, p] : pending) {
      shard->segments.back()->summary = std::move(p.summary);
      shard->last_sequence = p.last_sequence;
      shard->last_arrival = p.last_arrival;
    }
    last_sequence_ = sequence;
    commit_number_ = commit.commit_number;
    highest_ = position;
  }
  cv_.notify_all();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Transactions appended in parts

// Writes parts beyond the committed ends of the active segments (rolling private segments when
// a segment fills), keeping only per-shard write state: the summary of the segment being
// written (bounded by the segment size), summaries of segments rolled away during the
// transaction (one index entry per index_interval_bytes), and a small encode buffer. Nothing
// is published until Commit; Discard truncates everything back.
class TransactionAppenderImpl final : public TransactionAppender {
 public:
  TransactionAppenderImpl(std::shared_ptr<StreamImpl> stream, uint64_t last_sequence)
      : stream_(std::move(stream)), sequence_(last_sequence) {}
  ~TransactionAppenderImpl() override {
    if (state_ == State::kOpen) Abort().IgnoreError();
  }

  Status Append(std::vector<AppendRecord> records) override;
  Result<TransactionCommitResult> Commit(SourcePosition end_position) override;
  Status Abort() override;

 private:
  enum class State : uint8_t { kOpen, kCommitted, kAborted, kFailed };

  // One shard this transaction wrote to.
  struct Touched {
    Shard* shard = nullptr;
    uint64_t start = 0;      // committed end of the shard's active segment at the first write
    SegmentSummary summary;  // of the segment being written (committed part included)
    // Final summary of the committed active segment once the transaction rolled away from it.
    std::optional<SegmentSummary> first_sealed;
    // Segments rolled during the transaction (files exist or are being created); all but the
    // last are full and their summaries final.
    std::vector<std::shared_ptr<Segment>> rolled;
    std::unique_ptr<io::File> writer;  // of rolled.back(); shard->writer before any roll
    uint64_t last_sequence = 0;
    int64_t last_arrival = 0;
    std::string buffer;  // encoded frames not yet written
    io::File& Writer() { return writer ? *writer : *shard->writer; }
  };

  // Leaves the appender in a terminal state and hands the append path back.
  void Finish(State state, std::unique_lock<std::mutex>& write_lock);
  Status Fail(Status cause, std::unique_lock<std::mutex>& write_lock);
  Status CheckOpen() const;
  Status AppendLocked(std::vector<AppendRecord>& records);
  Status Flush(Touched& touched);
  Status Roll(Touched& touched, uint64_t base);
  // Truncates every touched shard back to its committed end and removes rolled segments;
  // poisons the stream when that fails.
  Status Discard();

  static constexpr size_t kFlushBytes = 1u << 20;

  std::shared_ptr<StreamImpl> stream_;
  uint64_t sequence_;  // last sequence number given out
  uint64_t first_sequence_ = 0;
  uint64_t record_count_ = 0;
  uint64_t appended_bytes_ = 0;  // written to segment files (eddy_log_appended_bytes_total)
  std::map<uint32_t, Touched> touched_;
  State state_ = State::kOpen;
  Status error_;
};

Result<std::unique_ptr<TransactionAppender>> StreamImpl::BeginTransaction() {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  EDDY_RETURN_IF_ERROR(CheckNotAppenderThread());
  std::unique_lock write_lock(write_mu_);
  appender_cv_.wait(write_lock, [&] { return !appender_open_; });
  EDDY_RETURN_IF_ERROR(CheckWritable());  // poisoned or deleted while waiting
  appender_open_ = true;
  appender_thread_.store(std::this_thread::get_id());
  return std::unique_ptr<TransactionAppender>(
      new TransactionAppenderImpl(shared_from_this(), last_sequence_));
}

Status TransactionAppenderImpl::CheckOpen() const {
  switch (state_) {
    case State::kOpen:
      return Status::Ok();
    case State::kCommitted:
      return FailedPrecondition("the transaction was already committed");
    case State::kAborted:
      return FailedPrecondition("the transaction was aborted");
    case State::kFailed:
      return error_;
  }
  return Internal("appender state");
}

void TransactionAppenderImpl::Finish(State state, std::unique_lock<std::mutex>& write_lock) {
  state_ = state;
  touched_.clear();
  stream_->appender_open_ = false;
  stream_->appender_thread_.store(std::thread::id());
  write_lock.unlock();
  stream_->appender_cv_.notify_all();
}

Status TransactionAppenderImpl::Fail(Status cause, std::unique_lock<std::mutex>& write_lock) {
  Status undo = Discard();
  error_ = undo.ok() ? cause : undo;
  Finish(State::kFailed, write_lock);
  return error_;
}

Status TransactionAppenderImpl::Append(std::vector<AppendRecord> records) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  stream_->appender_thread_.store(std::this_thread::get_id());  // the driving thread
  std::unique_lock write_lock(stream_->write_mu_);
  Status status = AppendLocked(records);
  if (!status.ok()) return Fail(std::move(status), write_lock);
  return Status::Ok();
}

Status TransactionAppenderImpl::AppendLocked(std::vector<AppendRecord>& records) {
  StreamImpl& stream = *stream_;
  EDDY_RETURN_IF_ERROR(stream.CheckWritable());
  uint32_t max_record_bytes;
  std::vector<Shard*> open_shards;
  {
    std::lock_guard lock(stream.mu_);
    EDDY_RETURN_IF_ERROR(stream.Validate(records, true));
    max_record_bytes = stream.meta_.options.max_record_bytes;
    for (auto& [index, shard] : stream.shards_) {
      if (shard->meta.open) open_shards.push_back(shard.get());
    }
  }
  const int64_t now = stream.context_->clock->NowNanos();
  const uint64_t segment_bytes = stream.context_->options.segment_bytes;
  const uint32_t interval = stream.context_->options.index_interval_bytes;
  for (AppendRecord& input : records) {
    EDDY_ASSIGN_OR_RETURN(Shard * target, RouteToOpenShard(open_shards, input));
    auto [it, inserted] = touched_.try_emplace(target->meta.index);
    Touched& t = it->second;
    if (inserted) {
      // Only this appender writes while it is open, so the committed state is stable.
      std::lock_guard lock(stream.mu_);
      t.shard = target;
      t.start = target->segments.back()->summary.bytes;
      t.summary = target->segments.back()->summary;
      t.last_sequence = target->last_sequence;
      t.last_arrival = target->last_arrival;
    }
    // Roll at record boundaries, so segments stay near segment_bytes however large the part.
    if (t.summary.bytes >= segment_bytes) {
      EDDY_RETURN_IF_ERROR(Flush(t));
      EDDY_RETURN_IF_ERROR(Roll(t, sequence_ + 1));
    }
    int64_t arrival = std::max(now, t.last_arrival);
    const SourcePosition* position = input.position.empty() ? nullptr : &input.position;
    auto encode = [&](RecordKind kind, std::string_view payload) -> Status {
      FrameFields frame{SequenceNumber(++sequence_), arrival, kind, input.partition_key, position,
                        payload};
      uint64_t offset = t.summary.bytes;
      size_t before = t.buffer.size();
      EncodeFrame(frame, t.buffer);
      AddToSummary(t.summary, frame, offset, t.buffer.size() - before, interval);
      t.last_sequence = sequence_;
      t.last_arrival = arrival;
      if (first_sequence_ == 0) first_sequence_ = sequence_;
      ++record_count_;
      if (t.buffer.size() >= kFlushBytes) return Flush(t);
      return Status::Ok();
    };
    if (input.partition_key.size() + input.payload.size() <= max_record_bytes) {
      EDDY_RETURN_IF_ERROR(encode(RecordKind::kData, input.payload));
      std::string().swap(input.payload);  // the part's memory goes as it is encoded
    } else {
      std::vector<ChunkPiece> pieces =
          SplitPayload(input.partition_key, input.payload, max_record_bytes);
      std::string().swap(input.payload);
      for (const ChunkPiece& piece : pieces) EDDY_RETURN_IF_ERROR(encode(piece.kind, piece.payload));
    }
  }
  for (auto& [index, t] : touched_) EDDY_RETURN_IF_ERROR(Flush(t));
  return Status::Ok();
}

Status TransactionAppenderImpl::Flush(Touched& t) {
  if (t.buffer.empty()) return Status::Ok();
  EDDY_RETURN_IF_ERROR(t.Writer().Append(t.buffer));
  appended_bytes_ += t.buffer.size();
  if (t.buffer.capacity() > 4 * kFlushBytes) {
    std::string().swap(t.buffer);  // after a chunked 10 MiB record
  } else {
    t.buffer.clear();
  }
  return Status::Ok();
}

Status TransactionAppenderImpl::Roll(Touched& t, uint64_t base) {
  io::FileSystem* fs = stream_->context_->fs;
  // The full segment's bytes are flushed now (a crash later still drops them: recovery
  // truncates to the last commit record and removes segments above the committed one). A
  // failed fsync poisons, as everywhere: the page cache can no longer be trusted.
  Status synced = t.Writer().Sync();
  if (!synced.ok()) return stream_->Poison(synced.WithContext("fsync of " + t.Writer().path()));
  auto segment = std::make_shared<Segment>();
  segment->base = base;
  segment->path = io::JoinPath(t.shard->dir, SegmentFileName(base));
  segment->summary.bytes = kSegmentHeaderBytes;
  t.rolled.push_back(segment);  // before the file exists: Discard removes it either way
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(segment->path, io::OpenMode::kCreateOrTruncate));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(t.shard->meta.index)));
  EDDY_RETURN_IF_ERROR(file->Sync());
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(t.shard->dir));
  if (t.rolled.size() == 1) {
    t.first_sealed = std::move(t.summary);
  } else {
    t.rolled[t.rolled.size() - 2]->summary = std::move(t.summary);
  }
  t.summary = segment->summary;
  t.writer = std::move(file);
  return Status::Ok();
}

Status TransactionAppenderImpl::Discard() {
  io::FileSystem* fs = stream_->context_->fs;
  for (auto& [index, t] : touched_) {
    t.writer.reset();
    Status status = t.shard->writer->Truncate(t.start);
    for (const auto& segment : t.rolled) {
      if (!status.ok()) break;
      Status removed = fs->Remove(segment->path);
      if (!removed.ok() && removed.code() != ErrorCode::kNotFound) status = removed;
    }
    if (status.ok() && !t.rolled.empty()) status = fs->SyncDirectory(t.shard->dir);
    if (!status.ok()) {
      return stream_->Poison(
          status.WithContext("discarding a transaction appended in parts"));
    }
    if (!t.rolled.empty()) {
      Logger()->info("discarded transaction removed segments stream={} shard={} count={}",
                     stream_->name_, FormatShardId(index), t.rolled.size());
    }
  }
  return Status::Ok();
}

Status TransactionAppenderImpl::Abort() {
  if (state_ == State::kAborted) return Status::Ok();
  EDDY_RETURN_IF_ERROR(CheckOpen());
  std::unique_lock write_lock(stream_->write_mu_);
  Status status = Discard();
  if (!status.ok()) {
    error_ = status;
    Finish(State::kFailed, write_lock);
    return status;
  }
  Finish(State::kAborted, write_lock);
  return Status::Ok();
}

Result<TransactionCommitResult> TransactionAppenderImpl::Commit(SourcePosition end_position) {
  EDDY_RETURN_IF_ERROR(CheckOpen());
  StreamImpl& stream = *stream_;
  const auto started = std::chrono::steady_clock::now();  // eddy_log_commit_duration_seconds
  std::unique_lock write_lock(stream.write_mu_);
  Status writable = stream.CheckWritable();
  if (!writable.ok()) return Fail(std::move(writable), write_lock);

  // Exactly once by source position.
  SourcePosition position;
  {
    std::lock_guard lock(stream.mu_);
    position = stream.highest_;
  }
  if (!end_position.empty() && !position.empty()) {
    auto order = end_position.CompareTransaction(position);
    if (order == std::partial_ordering::unordered) {
      return Fail(InvalidArgument("source position " + end_position.ToString() +
                                  " is of a different source kind than the stream's " +
                                  position.ToString()),
                  write_lock);
    }
    if (order <= 0) {
      Status undo = Discard();
      if (!undo.ok()) {
        error_ = undo;
        Finish(State::kFailed, write_lock);
        return undo;
      }
      Finish(State::kCommitted, write_lock);
      TransactionCommitResult result;
      result.duplicate = true;
      return result;
    }
  }
  if (!end_position.empty()) position = end_position;

  // 1. Every part is durable (segments rolled away were synced when rolled).
  for (auto& [index, t] : touched_) {
    Status status = Flush(t);
    if (!status.ok()) return Fail(std::move(status), write_lock);
  }
  if (!touched_.empty()) {
    std::vector<io::File*> files;
    for (auto& [index, t] : touched_) files.push_back(&t.Writer());
    std::vector<std::future<Status>> others;
    for (size_t i = 1; i < files.size(); ++i) {
      others.push_back(
          std::async(std::launch::async, [file = files[i]] { return TimedSync(*file); }));
    }
    std::vector<Status> results = {TimedSync(*files.front())};
    for (auto& other : others) results.push_back(other.get());
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].ok()) {
        // As for AppendTransaction: a failed fsync poisons (the page cache state is unknown).
        error_ = stream.Poison(results[i].WithContext("fsync of " + files[i]->path()));
        Finish(State::kFailed, write_lock);
        return error_;
      }
    }
  }

  // 2. One commit record covers the whole transaction.
  CommitRecord commit = stream.BuildCommit(sequence_, position, {});
  for (auto& shard_commit : commit.shards) {
    auto it = touched_.find(shard_commit.shard_index);
    if (it == touched_.end()) continue;
    const Touched& t = it->second;
    shard_commit.segment_base =
        t.rolled.empty() ? t.shard->segments.back()->base : t.rolled.back()->base;
    shard_commit.end_offset = t.summary.bytes;
    shard_commit.last_sequence = t.last_sequence;
    shard_commit.last_arrival = t.last_arrival;
  }
  Status status = stream.WriteCommit(commit);
  if (!status.ok()) {
    {
      std::lock_guard lock(stream.mu_);
      if (!stream.poisoned_.ok()) {
        error_ = status;
        Finish(State::kFailed, write_lock);
        return status;
      }
    }
    return Fail(std::move(status), write_lock);
  }

  // 3. Publish.
  std::vector<std::shared_ptr<Segment>> sealed;  // to write index files for
  {
    std::lock_guard lock(stream.mu_);
    for (auto& [index, t] : touched_) {
      Shard& shard = *t.shard;
      if (t.rolled.empty()) {
        shard.segments.back()->summary = std::move(t.summary);
      } else {
        std::shared_ptr<Segment> old = shard.segments.back();
        old->summary = std::move(*t.first_sealed);
        old->sealed = true;
        sealed.push_back(old);
        for (size_t i = 0; i + 1 < t.rolled.size(); ++i) {
          t.rolled[i]->sealed = true;
          sealed.push_back(t.rolled[i]);
        }
        t.rolled.back()->summary = std::move(t.summary);
        for (auto& segment : t.rolled) shard.segments.push_back(segment);
        shard.writer = std::move(t.writer);
      }
      shard.last_sequence = t.last_sequence;
      shard.last_arrival = t.last_arrival;
    }
    stream.last_sequence_ = sequence_;
    stream.commit_number_ = commit.commit_number;
    stream.highest_ = position;
  }
  stream.cv_.notify_all();
  // Index files are a cache (rebuilt when missing or torn): written without fsync.
  for (const auto& segment : sealed) {
    std::string index_path = segment->path.substr(0, segment->path.size() - 4) + ".idx";
    auto index_file = stream.context_->fs->Open(index_path, io::OpenMode::kCreateOrTruncate);
    if (index_file.ok()) (*index_file)->Append(EncodeIndex(segment->summary)).IgnoreError();
  }
  RecordLogCommit(stream.name_, record_count_, appended_bytes_, started);
  TransactionCommitResult result;
  result.record_count = record_count_;
  if (record_count_ > 0) {
    result.first_sequence = SequenceNumber(first_sequence_);
    result.last_sequence = SequenceNumber(sequence_);
  }
  Finish(State::kCommitted, write_lock);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Metadata changes: resharding, options, retention

Status StreamImpl::WriteMeta(const StreamMeta& meta) {
  return context_->fs->WriteFileAtomically(io::JoinPath(dir_, kMetaFile), EncodeStreamMeta(meta));
}

Result<std::vector<uint32_t>> StreamImpl::SplitShard(uint32_t shard_index,
                                                     HashKey new_starting_hash_key) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  std::lock_guard write_lock(write_mu_);
  if (appender_open_) {
    return FailedPrecondition("stream " + name_ +
                              " has a transaction being appended in parts; reshard after it "
                              "commits or aborts");
  }
  StreamMeta meta;
  {
    std::lock_guard lock(mu_);
    meta = meta_;
  }
  if (meta.options.ordering == OrderingMode::kOrdered) {
    return FailedPrecondition("stream " + name_ + " is ORDERED (one shard); it cannot be split");
  }
  auto it = std::find_if(meta.shards.begin(), meta.shards.end(),
                         [&](const ShardMeta& s) { return s.index == shard_index; });
  if (it == meta.shards.end() || it->expired) {
    return NotFound("shard " + FormatShardId(shard_index) + " does not exist in stream " + name_);
  }
  if (!it->open) {
    return InvalidArgument("shard " + FormatShardId(shard_index) +
                           " has already been merged or split, and thus is not eligible for "
                           "merging or splitting");
  }
  HashKeyRange range = it->hash_range;
  if (!(range.start < new_starting_hash_key && new_starting_hash_key <= range.end)) {
    return InvalidArgument("NewStartingHashKey " + new_starting_hash_key.ToString() +
                           " is not inside the shard's hash key range");
  }
  HashKey before = new_starting_hash_key;
  if (before.low == 0) --before.high;
  --before.low;
  uint64_t base = last_sequence_ + 1;
  int64_t now = context_->clock->NowNanos();
  uint32_t first = meta.next_shard_index;
  std::vector<uint32_t> children = {first, first + 1};
  for (uint32_t child : children) EDDY_RETURN_IF_ERROR(CreateShardFiles(child, base));
  it->open = false;
  it->ending_sequence = last_sequence_;
  it->child_indexes = children;
  ShardMeta left;
  left.index = first;
  left.parent_index = shard_index;
  left.hash_range = HashKeyRange{range.start, before};
  left.creation_nanos = now;
  left.starting_sequence = base;
  ShardMeta right = left;
  right.index = first + 1;
  right.hash_range = HashKeyRange{new_starting_hash_key, range.end};
  meta.shards.push_back(left);
  meta.shards.push_back(right);
  meta.next_shard_index = first + 2;
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    Status status = InstallMetaLocked(meta);
    if (!status.ok()) return Poison(status);
  }
  // A commit record with the new layout version tells readers in other processes.
  EDDY_RETURN_IF_ERROR(WriteCommit(BuildCommit(last_sequence_, highest_, {})));
  {
    std::lock_guard lock(mu_);
    ++commit_number_;
    shards_[shard_index]->writer.reset();
  }
  cv_.notify_all();
  Logger()->info("split shard stream={} parent={} children={},{}", name_,
                 FormatShardId(shard_index), FormatShardId(first), FormatShardId(first + 1));
  return children;
}

Result<uint32_t> StreamImpl::MergeShards(uint32_t shard_index, uint32_t adjacent_shard_index) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  std::lock_guard write_lock(write_mu_);
  if (appender_open_) {
    return FailedPrecondition("stream " + name_ +
                              " has a transaction being appended in parts; reshard after it "
                              "commits or aborts");
  }
  StreamMeta meta;
  {
    std::lock_guard lock(mu_);
    meta = meta_;
  }
  if (meta.options.ordering == OrderingMode::kOrdered) {
    return FailedPrecondition("stream " + name_ + " is ORDERED (one shard); it cannot be merged");
  }
  auto find = [&](uint32_t index) -> ShardMeta* {
    for (auto& shard : meta.shards) {
      if (shard.index == index && !shard.expired) return &shard;
    }
    return nullptr;
  };
  ShardMeta* a = find(shard_index);
  ShardMeta* b = find(adjacent_shard_index);
  if (a == nullptr || b == nullptr || shard_index == adjacent_shard_index) {
    return NotFound("shards to merge must be two existing shards of stream " + name_);
  }
  if (!a->open || !b->open) {
    return InvalidArgument("shard has already been merged or split, and thus is not eligible "
                           "for merging or splitting");
  }
  auto adjacent = [](const HashKeyRange& low, const HashKeyRange& high) {
    HashKey next = low.end;
    if (next == HashKey::Max()) return false;
    if (++next.low == 0) ++next.high;
    return next == high.start;
  };
  HashKeyRange merged;
  if (adjacent(a->hash_range, b->hash_range)) {
    merged = HashKeyRange{a->hash_range.start, b->hash_range.end};
  } else if (adjacent(b->hash_range, a->hash_range)) {
    merged = HashKeyRange{b->hash_range.start, a->hash_range.end};
  } else {
    return InvalidArgument("shards " + FormatShardId(shard_index) + " and " +
                           FormatShardId(adjacent_shard_index) +
                           " are not an adjacent pair of shards eligible for merging");
  }
  uint64_t base = last_sequence_ + 1;
  uint32_t child = meta.next_shard_index;
  EDDY_RETURN_IF_ERROR(CreateShardFiles(child, base));
  for (ShardMeta* parent : {a, b}) {
    parent->open = false;
    parent->ending_sequence = last_sequence_;
    parent->child_indexes = {child};
  }
  ShardMeta shard;
  shard.index = child;
  shard.parent_index = shard_index;
  shard.adjacent_parent_index = adjacent_shard_index;
  shard.hash_range = merged;
  shard.creation_nanos = context_->clock->NowNanos();
  shard.starting_sequence = base;
  meta.shards.push_back(shard);
  meta.next_shard_index = child + 1;
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    Status status = InstallMetaLocked(meta);
    if (!status.ok()) return Poison(status);
  }
  EDDY_RETURN_IF_ERROR(WriteCommit(BuildCommit(last_sequence_, highest_, {})));
  {
    std::lock_guard lock(mu_);
    ++commit_number_;
    shards_[shard_index]->writer.reset();
    shards_[adjacent_shard_index]->writer.reset();
  }
  cv_.notify_all();
  Logger()->info("merged shards stream={} parents={},{} child={}", name_,
                 FormatShardId(shard_index), FormatShardId(adjacent_shard_index),
                 FormatShardId(child));
  return child;
}

Status StreamImpl::InstallMetaLocked(const StreamMeta& meta) {
  for (const auto& shard_meta : meta.shards) {
    auto it = shards_.find(shard_meta.index);
    if (it != shards_.end()) {
      it->second->meta = shard_meta;
      continue;
    }
    auto shard = std::make_unique<Shard>();
    shard->meta = shard_meta;
    shard->dir = ShardDir(shard_meta.index);
    auto segment = std::make_shared<Segment>();
    segment->base = shard_meta.starting_sequence;
    segment->path = io::JoinPath(shard->dir, SegmentFileName(segment->base));
    segment->summary.bytes = kSegmentHeaderBytes;
    shard->segments.push_back(segment);
    EDDY_ASSIGN_OR_RETURN(shard->writer,
                          context_->fs->Open(segment->path, io::OpenMode::kReadWrite));
    shards_[shard_meta.index] = std::move(shard);
  }
  meta_ = meta;
  return Status::Ok();
}

Status StreamImpl::UpdateOptions(int64_t retention_nanos, uint64_t retention_bytes,
                                 std::map<std::string, std::string> tags) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  if (retention_nanos <= 0) return InvalidArgument("retention must be positive");
  std::lock_guard write_lock(write_mu_);
  StreamMeta meta;
  {
    std::lock_guard lock(mu_);
    meta = meta_;
  }
  meta.options.retention_nanos = retention_nanos;
  meta.options.retention_bytes = retention_bytes;
  meta.options.tags = std::move(tags);
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    meta_ = meta;
  }
  EDDY_RETURN_IF_ERROR(WriteCommit(BuildCommit(last_sequence_, highest_, {})));
  std::lock_guard lock(mu_);
  ++commit_number_;
  return Status::Ok();
}

Result<size_t> StreamImpl::EnforceRetention(const RetentionHolds& holds) {
  EDDY_RETURN_IF_ERROR(CheckWritable());
  std::lock_guard write_lock(write_mu_);
  // An open TransactionAppender has written beyond the active segments' committed ends (and
  // may have rolled private segments): retention waits for the next call after it finishes.
  if (appender_open_) return size_t{0};
  io::FileSystem* fs = context_->fs;
  int64_t cutoff = context_->clock->NowNanos() - meta_.options.retention_nanos;
  uint64_t size_limit = meta_.options.retention_bytes;
  bool rolled = false;
  std::vector<std::pair<std::string, std::shared_ptr<Segment>>> all_drops;
  StreamMeta meta = meta_;
  for (auto& [index, shard] : shards_) {
    if (shard->meta.expired || shard->segments.empty()) continue;
    auto active = shard->segments.back();
    bool active_expired = active->summary.record_count > 0 && active->summary.max_arrival < cutoff;
    if (active_expired && shard->meta.open) {
      // Roll so the expired active segment becomes sealed and can go.
      EDDY_RETURN_IF_ERROR(RollSegment(*shard, last_sequence_ + 1));
      rolled = true;
    }
    std::vector<std::shared_ptr<Segment>> drop;
    {
      std::lock_guard lock(mu_);
      uint64_t total = shard->Bytes();
      while (shard->segments.size() > (shard->meta.open ? 1u : 0u)) {
        auto& oldest = shard->segments.front();
        bool last = shard->segments.size() == 1;  // only for closed shards
        bool by_age = oldest->summary.record_count == 0
                          ? (!last || shard->last_arrival < cutoff)
                          : oldest->summary.max_arrival < cutoff;
        bool by_size = size_limit > 0 && total > size_limit && (oldest->sealed || last);
        if (!by_age && !by_size) break;
        if (auto hold = holds.keep_from.find(index); hold != holds.keep_from.end() &&
                                                     oldest->summary.record_count > 0 &&
                                                     oldest->summary.last_sequence >=
                                                         hold->second.value()) {
          break;  // a registered consumer has not delivered this segment yet
        }
        total -= oldest->summary.bytes;
        drop.push_back(oldest);
        shard->segments.erase(shard->segments.begin());
      }
      if (!shard->meta.open && shard->segments.empty()) {
        shard->meta.expired = true;
        for (auto& m : meta.shards) {
          if (m.index == index) m.expired = true;
        }
      }
    }
    for (auto& segment : drop) all_drops.emplace_back(shard->dir, std::move(segment));
  }
  if (all_drops.empty() && !rolled) return size_t{0};
  // Make the new layout durable before deleting anything: a crash in between leaves only
  // orphan files (harmless, retention drops them again), never a commit that names a removed
  // segment.
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    meta_ = meta;
  }
  EDDY_RETURN_IF_ERROR(WriteCommit(BuildCommit(last_sequence_, highest_, {})));
  {
    std::lock_guard lock(mu_);
    ++commit_number_;
  }
  cv_.notify_all();
  std::set<std::string> directories;
  for (const auto& [dir, segment] : all_drops) {
    Logger()->info("retention dropped segment file={} records={} bytes={}", segment->path,
                   segment->summary.record_count, segment->summary.bytes);
    EDDY_RETURN_IF_ERROR(fs->Remove(segment->path));
    RecordRetentionDrop(name_, segment->summary.bytes);
    std::string index_path = segment->path.substr(0, segment->path.size() - 4) + ".idx";
    fs->Remove(index_path).IgnoreError();  // a sealed segment may have no index yet
    directories.insert(dir);
  }
  for (const auto& dir : directories) EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir));
  return all_drops.size();
}

// ---------------------------------------------------------------------------------------------
// Reads

Result<std::shared_ptr<io::File>> StreamImpl::ReadHandle(Segment& segment) {
  // Called with mu_ held.
  if (!segment.file) {
    EDDY_ASSIGN_OR_RETURN(auto file, context_->fs->Open(segment.path, io::OpenMode::kReadOnly));
    segment.file = std::move(file);
  }
  return segment.file;
}

Result<uint64_t> StreamImpl::FindTimestamp(Shard& shard, int64_t timestamp) {
  // Called with mu_ held. First record with arrival >= timestamp.
  for (auto& segment : shard.segments) {
    if (segment->summary.record_count == 0 || segment->summary.max_arrival < timestamp) continue;
    const auto& entries = segment->summary.entries;
    uint64_t start = kSegmentHeaderBytes;
    for (const auto& entry : entries) {
      if (entry.arrival_nanos < timestamp) start = entry.offset;
    }
    EDDY_ASSIGN_OR_RETURN(auto file, ReadHandle(*segment));
    std::optional<uint64_t> found;
    EDDY_ASSIGN_OR_RETURN(ScanOutcome outcome,
                          ScanFrames(*file, start, segment->summary.bytes, true,
                                     [&](Record& record, uint64_t, size_t) {
                                       if (record.arrival_nanos >= timestamp) {
                                         found = record.sequence.value();
                                         return false;
                                       }
                                       return true;
                                     }));
    if (found) return *found;
    if (outcome.status != FrameStatus::kOk) {
      return Corruption("segment " + segment->path + " offset " +
                        std::to_string(outcome.stop_offset) + ": " + outcome.error);
    }
  }
  return shard.last_sequence + 1;
}

Result<uint64_t> StreamImpl::ResolveStart(Shard& shard, const StartPosition& start) {
  switch (start.type) {
    case IteratorType::kTrimHorizon:
      return shard.TrimHorizon();
    case IteratorType::kLatest:
      return shard.last_sequence + 1;
    case IteratorType::kAtSequenceNumber:
    case IteratorType::kAfterSequenceNumber: {
      uint64_t sequence = start.sequence.value() +
                          (start.type == IteratorType::kAfterSequenceNumber ? 1 : 0);
      if (shard.Trimmed(sequence)) {
        return Trimmed("sequence number " + std::to_string(start.sequence.value()) + " of " +
                       FormatShardId(shard.meta.index) +
                       " is behind the trim horizon " + std::to_string(shard.TrimHorizon()) +
                       " (dropped by retention)");
      }
      return std::max(sequence, shard.TrimHorizon());
    }
    case IteratorType::kAtTimestamp:
      if (start.timestamp_nanos > context_->clock->NowNanos()) {
        return InvalidArgument("timestamp " + std::to_string(start.timestamp_nanos) +
                               " is in the future");
      }
      return FindTimestamp(shard, start.timestamp_nanos);
  }
  return InvalidArgument("unknown iterator type");
}

Result<std::unique_ptr<ShardReader>> StreamImpl::OpenReader(uint32_t shard_index,
                                                            StartPosition start) {
  EDDY_RETURN_IF_ERROR(Refresh());
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  auto it = shards_.find(shard_index);
  if (it == shards_.end() || it->second->meta.expired) {
    return NotFound("shard " + FormatShardId(shard_index) + " does not exist in stream " + name_);
  }
  EDDY_ASSIGN_OR_RETURN(uint64_t next, ResolveStart(*it->second, start));
  return std::unique_ptr<ShardReader>(new ShardReaderImpl(shared_from_this(), shard_index, next));
}

Result<ReadBatch> ShardReaderImpl::Read(const ReadLimits& limits) {
  StreamImpl& stream = *stream_;
  EDDY_RETURN_IF_ERROR(stream.Refresh());
  ReadBatch batch;
  size_t bytes = 0;
  int64_t last_returned_arrival = 0;
  int64_t shard_last_arrival = 0;
  bool caught_up = false;
  while (batch.records.size() < limits.max_records && (bytes < limits.max_bytes)) {
    std::shared_ptr<io::File> file;
    uint64_t offset = 0;
    uint64_t end = 0;
    uint64_t last_sequence = 0;
    std::optional<uint64_t> next_base;
    std::string path;
    std::optional<uint64_t> corrupt_offset;
    std::string corrupt_reason;
    {
      std::lock_guard lock(stream.mu_);
      if (stream.deleted_) return NotFound("stream " + stream.name_ + " was deleted");
      auto it = stream.shards_.find(shard_);
      if (it == stream.shards_.end()) return NotFound("shard " + FormatShardId(shard_) + " is gone");
      Shard& shard = *it->second;
      shard_last_arrival = shard.last_arrival;
      if (shard.meta.expired || shard.Trimmed(next_)) {
        if (!batch.records.empty()) break;
        return Trimmed("position " + std::to_string(next_) + " of " + FormatShardId(shard_) +
                       " is behind the trim horizon " + std::to_string(shard.TrimHorizon()) +
                       " (dropped by retention)");
      }
      if (next_ > shard.last_sequence) {
        caught_up = true;
        if (!shard.meta.open) {
          batch.end_of_shard = true;
          batch.child_indexes = shard.meta.child_indexes;
        }
        break;
      }
      auto& segments = shard.segments;
      auto pos = std::upper_bound(segments.begin(), segments.end(), next_,
                                  [](uint64_t s, const std::shared_ptr<Segment>& seg) {
                                    return s < seg->base;
                                  });
      size_t index = pos == segments.begin() ? 0 : static_cast<size_t>(pos - segments.begin()) - 1;
      Segment& segment = *segments[index];
      if (index + 1 < segments.size()) next_base = segments[index + 1]->base;
      auto handle = stream.ReadHandle(segment);
      if (!handle.ok()) {
        if (!batch.records.empty()) break;
        if (handle.status().code() == ErrorCode::kNotFound) {
          // Only retention removes a committed segment (seen late by a read-only store).
          return Trimmed("segment " + segment.path + " holding position " +
                         std::to_string(next_) + " was dropped by retention");
        }
        return handle.status();
      }
      file = std::move(*handle);
      end = segment.summary.bytes;
      corrupt_offset = segment.corrupt_offset;
      corrupt_reason = segment.corrupt_reason;
      if (corrupt_offset && *corrupt_offset < end) end = *corrupt_offset;
      offset = kSegmentHeaderBytes;
      const auto& entries = segment.summary.entries;
      auto entry = std::upper_bound(entries.begin(), entries.end(), next_,
                                    [](uint64_t s, const IndexEntry& e) { return s < e.sequence; });
      if (entry != entries.begin()) offset = std::prev(entry)->offset;
      last_sequence = shard.last_sequence;
      path = segment.path;
    }
    bool limit_hit = false;
    EDDY_ASSIGN_OR_RETURN(
        ScanOutcome outcome,
        ScanFrames(*file, offset, end, true, [&](Record& record, uint64_t, size_t) {
          uint64_t sequence = record.sequence.value();
          if (sequence < next_) return true;
          if (sequence > last_sequence) {
            limit_hit = true;
            return false;
          }
          size_t size = record.partition_key.size() + record.payload.size();
          if (!batch.records.empty() &&
              (batch.records.size() >= limits.max_records || bytes + size > limits.max_bytes)) {
            limit_hit = true;
            return false;
          }
          bytes += size;
          last_returned_arrival = record.arrival_nanos;
          next_ = sequence + 1;
          batch.records.push_back(std::move(record));
          return true;
        }));
    if (limit_hit) break;
    if (outcome.status != FrameStatus::kOk || (corrupt_offset && outcome.stop_offset >= end &&
                                               end == *corrupt_offset)) {
      if (!batch.records.empty()) break;
      uint64_t at = outcome.status != FrameStatus::kOk ? outcome.stop_offset : *corrupt_offset;
      std::string reason = outcome.status != FrameStatus::kOk ? outcome.error : corrupt_reason;
      return Corruption("segment " + path + " offset " + std::to_string(at) + ": " + reason);
    }
    if (next_base) {
      next_ = std::max(next_, *next_base);
    } else if (next_ <= last_sequence) {
      // The active segment ended before the committed last sequence: it was truncated.
      return Corruption("segment " + path + " ends at offset " + std::to_string(end) +
                        " before committed sequence " + std::to_string(last_sequence));
    }
  }
  batch.next_sequence = SequenceNumber(next_);
  if (!caught_up && !batch.records.empty()) {
    batch.millis_behind_latest =
        std::max<int64_t>(0, (shard_last_arrival - last_returned_arrival) / 1'000'000);
  }
  return batch;
}

Status ShardReaderImpl::WaitForData(std::chrono::steady_clock::time_point deadline) {
  StreamImpl& stream = *stream_;
  auto ready = [&]() {
    if (stream.deleted_ || !stream.poisoned_.ok()) return true;
    auto it = stream.shards_.find(shard_);
    if (it == stream.shards_.end()) return true;
    const Shard& shard = *it->second;
    return shard.last_sequence >= next_ || !shard.meta.open || shard.meta.expired;
  };
  if (!stream.read_only()) {
    std::unique_lock lock(stream.mu_);
    stream.cv_.wait_until(lock, deadline, ready);
    return Status::Ok();
  }
  // Another process writes: re-read the commit journal's tail whenever the stream directory
  // changes (inotify), at least every follow_recheck_millis, until data or the deadline.
  // The event count is taken before each check, so a commit landing between the check and
  // the wait still ends the wait at once.
  const bool watched = stream.WatchAvailable();
  const std::chrono::milliseconds interval(
      std::max<uint32_t>(1, stream.context_->options.follow_recheck_millis));
  while (true) {
    uint64_t seen = watched ? stream.WatchEvents() : 0;
    EDDY_RETURN_IF_ERROR(stream.Refresh());
    {
      std::lock_guard lock(stream.mu_);
      if (ready()) return Status::Ok();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::Ok();
    auto wait = std::min<std::chrono::steady_clock::duration>(deadline - now, interval);
    if (watched) {
      // Round up so a wait never spins at 0 ms just before the deadline.
      stream.WaitForChange(seen, std::chrono::ceil<std::chrono::milliseconds>(wait));
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
}

uint64_t StreamImpl::CommitNumber() {
  if (read_only()) Refresh().IgnoreError();  // a failed refresh shows the last number seen
  std::lock_guard lock(mu_);
  return commit_number_;
}

Status StreamImpl::WaitForCommit(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  auto ready = [&]() { return deleted_ || !poisoned_.ok() || commit_number_ > seen; };
  if (!read_only()) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, ready);
    return Status::Ok();
  }
  // As ShardReaderImpl::WaitForData for a read-only store.
  const bool watched = WatchAvailable();
  const std::chrono::milliseconds interval(
      std::max<uint32_t>(1, context_->options.follow_recheck_millis));
  while (true) {
    uint64_t events = watched ? WatchEvents() : 0;
    EDDY_RETURN_IF_ERROR(Refresh());
    {
      std::lock_guard lock(mu_);
      if (ready()) return Status::Ok();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::Ok();
    auto wait = std::min<std::chrono::steady_clock::duration>(deadline - now, interval);
    if (watched) {
      WaitForChange(events, std::chrono::ceil<std::chrono::milliseconds>(wait));
    } else {
      std::this_thread::sleep_for(wait);
    }
  }
}

bool StreamImpl::WatchAvailable() {
  std::lock_guard lock(watch_mu_);
  if (!watch_tried_) {
    watch_tried_ = true;
    if (context_->fs == io::DefaultFileSystem()) {
      auto watch = std::make_unique<DirectoryWatch>();
      if (watch->Watch(dir_)) {
        watch_ = std::move(watch);
      } else {
        Logger()->info("inotify unavailable for {}; following the writer by polling every {} ms",
                       dir_, context_->options.follow_recheck_millis);
      }
    }
  }
  return watch_ != nullptr;
}

uint64_t StreamImpl::WatchEvents() {
  std::lock_guard lock(watch_mu_);
  return watch_events_;
}

void StreamImpl::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(watch_mu_);
  if (watch_events_ != seen) return;
  if (!watch_polling_) {
    watch_polling_ = true;
    lock.unlock();
    bool event = watch_->Wait(timeout);
    lock.lock();
    watch_polling_ = false;
    if (event) ++watch_events_;
    watch_cv_.notify_all();
    return;
  }
  // Another waiter polls: wait for its result (then poll ourselves if it timed out first).
  watch_cv_.wait_for(lock, timeout, [&] { return watch_events_ != seen || !watch_polling_; });
}

// ---------------------------------------------------------------------------------------------
// The store

class LogStoreImpl final : public LogStore {
 public:
  LogStoreImpl(std::shared_ptr<StoreContext> context, std::string path)
      : context_(std::move(context)), path_(std::move(path)),
        streams_dir_(io::JoinPath(path_, kStreamsDir)) {}

  Status Open();
  Result<std::shared_ptr<Stream>> CreateStream(const std::string& name,
                                               const StreamOptions& options) override;
  Status DeleteStream(const std::string& name) override;
  std::vector<std::string> ListStreams() override;
  Result<std::shared_ptr<Stream>> GetStream(const std::string& name) override;
  Result<size_t> EnforceRetention() override;
  bool read_only() const override { return context_->options.read_only; }
  const std::string& path() const override { return path_; }

 private:
  Result<std::shared_ptr<StreamImpl>> LoadStream(const std::string& name);

  std::shared_ptr<StoreContext> context_;
  std::string path_;
  std::string streams_dir_;
  std::unique_ptr<io::FileLock> lock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamImpl>> streams_;
};

Result<std::shared_ptr<StreamImpl>> LogStoreImpl::LoadStream(const std::string& name) {
  auto stream = std::make_shared<StreamImpl>(context_, io::JoinPath(streams_dir_, name));
  Status status = stream->Load();
  if (!status.ok()) return status.WithContext("opening stream " + name);
  return stream;
}

Status LogStoreImpl::Open() {
  io::FileSystem* fs = context_->fs;
  if (read_only()) {
    EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(streams_dir_));
    if (!exists) {
      return NotFound("no eddy log in " + path_ + " (missing " + streams_dir_ + ")");
    }
  } else {
    EDDY_RETURN_IF_ERROR(fs->CreateDirectories(path_));
    EDDY_ASSIGN_OR_RETURN(lock_, fs->LockFile(io::JoinPath(path_, "LOCK")));
    EDDY_RETURN_IF_ERROR(fs->CreateDirectory(streams_dir_));
    EDDY_RETURN_IF_ERROR(fs->SyncDirectory(path_));
  }
  EDDY_ASSIGN_OR_RETURN(auto names, fs->List(streams_dir_));
  for (const auto& name : names) {
    if (!name.empty() && name[0] == '.') {
      if (!read_only()) {
        Logger()->warn("removing leftover of an unfinished create/delete dir={}",
                       io::JoinPath(streams_dir_, name));
        EDDY_RETURN_IF_ERROR(fs->RemoveTree(io::JoinPath(streams_dir_, name)));
      }
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(auto stream, LoadStream(name));
    streams_[name] = std::move(stream);
  }
  return Status::Ok();
}

Result<std::shared_ptr<Stream>> LogStoreImpl::CreateStream(const std::string& name,
                                                           const StreamOptions& options) {
  if (read_only()) return FailedPrecondition("the log store is open read-only");
  EDDY_RETURN_IF_ERROR(ValidateStreamName(name));
  if (options.shard_count < 1 || options.shard_count > 10000) {
    return InvalidArgument("shard count must be 1..10000");
  }
  if (options.ordering == OrderingMode::kOrdered && options.shard_count != 1) {
    return InvalidArgument("an ORDERED stream has exactly one shard");
  }
  if (options.max_record_bytes < 1024 || options.max_record_bytes > kLargestMaxRecordBytes) {
    return InvalidArgument("max record size must be 1 KiB .. 10 MiB");
  }
  if (options.retention_nanos <= 0) return InvalidArgument("retention must be positive");
  std::lock_guard lock(mu_);
  io::FileSystem* fs = context_->fs;
  std::string final_dir = io::JoinPath(streams_dir_, name);
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(final_dir));
  if (exists || streams_.count(name)) return AlreadyExists("stream " + name + " already exists");
  std::string temp_dir = io::JoinPath(streams_dir_, ".creating-" + name);
  EDDY_RETURN_IF_ERROR(fs->RemoveTree(temp_dir));
  EDDY_RETURN_IF_ERROR(fs->CreateDirectory(temp_dir));
  int64_t now = context_->clock->NowNanos();
  StreamMeta meta;
  meta.name = name;
  meta.options = options;
  meta.creation_nanos = now;
  meta.next_shard_index = options.shard_count;
  CommitRecord commit;
  commit.commit_number = 1;
  commit.meta_version = meta.meta_version;
  commit.commit_nanos = now;
  for (uint32_t i = 0; i < options.shard_count; ++i) {
    ShardMeta shard;
    shard.index = i;
    shard.hash_range = EvenHashKeyRange(i, options.shard_count);
    shard.creation_nanos = now;
    shard.starting_sequence = 1;
    meta.shards.push_back(shard);
    std::string shard_dir = io::JoinPath(temp_dir, FormatShardId(i));
    EDDY_RETURN_IF_ERROR(fs->CreateDirectory(shard_dir));
    EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(io::JoinPath(shard_dir, SegmentFileName(1)),
                                              io::OpenMode::kCreateNew));
    EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(i)));
    EDDY_RETURN_IF_ERROR(file->Sync());
    EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard_dir));
    commit.shards.push_back(ShardCommit{i, 1, kSegmentHeaderBytes, 0, 0});
  }
  std::string journal(kJournalMagic, sizeof kJournalMagic);
  EncodeCommitFrame(commit, journal);
  {
    EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(io::JoinPath(temp_dir, JournalFileName(1)),
                                              io::OpenMode::kCreateNew));
    EDDY_RETURN_IF_ERROR(file->Append(journal));
    EDDY_RETURN_IF_ERROR(file->Sync());
  }
  EDDY_RETURN_IF_ERROR(fs->WriteFileAtomically(io::JoinPath(temp_dir, kMetaFile),
                                               EncodeStreamMeta(meta)));
  EDDY_RETURN_IF_ERROR(fs->Rename(temp_dir, final_dir));
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(streams_dir_));
  EDDY_ASSIGN_OR_RETURN(auto stream, LoadStream(name));
  streams_[name] = stream;
  Logger()->info("created stream name={} shards={} ordering={}", name, options.shard_count,
                 options.ordering == OrderingMode::kOrdered ? "ORDERED" : "UNORDERED");
  return std::shared_ptr<Stream>(stream);
}

Status LogStoreImpl::DeleteStream(const std::string& name) {
  if (read_only()) return FailedPrecondition("the log store is open read-only");
  std::lock_guard lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NotFound("stream " + name + " does not exist");
  io::FileSystem* fs = context_->fs;
  std::string doomed = io::JoinPath(streams_dir_, ".deleted-" + name);
  EDDY_RETURN_IF_ERROR(fs->RemoveTree(doomed));
  EDDY_RETURN_IF_ERROR(fs->Rename(io::JoinPath(streams_dir_, name), doomed));
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(streams_dir_));
  it->second->MarkDeleted();
  streams_.erase(it);
  EDDY_RETURN_IF_ERROR(fs->RemoveTree(doomed));
  return fs->SyncDirectory(streams_dir_);
}

std::vector<std::string> LogStoreImpl::ListStreams() {
  std::lock_guard lock(mu_);
  if (read_only()) {
    auto names = context_->fs->List(streams_dir_);
    if (names.ok()) {
      std::vector<std::string> result;
      for (const auto& name : *names) {
        if (!name.empty() && name[0] != '.') result.push_back(name);
      }
      return result;
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, stream] : streams_) names.push_back(name);
  return names;
}

Result<std::shared_ptr<Stream>> LogStoreImpl::GetStream(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(name);
  if (it != streams_.end()) return std::shared_ptr<Stream>(it->second);
  if (read_only() && ValidateStreamName(name).ok()) {
    auto exists = context_->fs->Exists(io::JoinPath(streams_dir_, name));
    if (exists.ok() && *exists) {
      EDDY_ASSIGN_OR_RETURN(auto stream, LoadStream(name));
      streams_[name] = stream;
      return std::shared_ptr<Stream>(stream);
    }
  }
  return NotFound("stream " + name + " does not exist");
}

Result<size_t> LogStoreImpl::EnforceRetention() {
  std::vector<std::shared_ptr<StreamImpl>> streams;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, stream] : streams_) streams.push_back(stream);
  }
  // One failing stream (e.g. poisoned) does not stop retention of the others.
  size_t total = 0;
  Status first_error;
  for (const auto& stream : streams) {
    auto dropped = stream->EnforceRetention();
    if (dropped.ok()) {
      total += *dropped;
    } else if (first_error.ok()) {
      first_error = dropped.status().WithContext("retention of stream " + stream->name());
    }
  }
  if (!first_error.ok()) return first_error;
  return total;
}

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& path,
                                                 LogStoreOptions options) {
  auto context = std::make_shared<StoreContext>();
  context->fs = options.file_system ? options.file_system : io::DefaultFileSystem();
  context->clock = options.clock ? options.clock : &SystemClock::Instance();
  if (options.segment_bytes < 1024) options.segment_bytes = 1024;
  if (options.index_interval_bytes == 0) options.index_interval_bytes = 1;
  context->options = options;
  auto store = std::make_unique<LogStoreImpl>(context, path);
  Status status = store->Open();
  if (!status.ok()) return status.WithContext("opening log store " + path);
  return std::unique_ptr<LogStore>(std::move(store));
}

Status ValidateStreamName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgument("stream name must have 1 to 128 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return InvalidArgument("stream name '" + name + "' may use only [a-zA-Z0-9_.-]");
  }
  if (name[0] == '.') return InvalidArgument("stream name must not start with '.'");
  return Status::Ok();
}

}  // namespace eddy::log
