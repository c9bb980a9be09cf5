// The log store: opening a data directory, creating, deleting, listing and finding streams.
// Each stream is a StreamImpl (stream_state.h); this file only manages the set of them.
#include "log/log_store.h"

#include <mutex>

#include "log/segment_format.h"
#include "log/stream_format.h"
#include "log/stream_state.h"

namespace eddy::log {
namespace {

using internal::kMetaFile;
using internal::kStreamsDir;
using internal::Logger;
using internal::StoreContext;
using internal::StreamImpl;

// Lock order: mu_ comes before every lock of a stream (stream_state.h).
class LogStoreImpl final : public LogStore {
 public:
  LogStoreImpl(std::shared_ptr<StoreContext> context, std::string path)
      : context_(std::move(context)),
        path_(std::move(path)),
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
  meta.next_shard_index = ShardIndex(options.shard_count);
  CommitRecord commit;
  commit.commit_number = 1;
  commit.meta_version = meta.meta_version;
  commit.commit_nanos = now;
  for (uint32_t i = 0; i < options.shard_count; ++i) {
    ShardMeta shard;
    shard.index = ShardIndex(i);
    shard.hash_range = EvenHashKeyRange(i, options.shard_count);
    shard.creation_nanos = now;
    shard.starting_sequence = SequenceNumber(1);
    meta.shards.push_back(shard);
    std::string shard_dir = io::JoinPath(temp_dir, FormatShardId(i));
    EDDY_RETURN_IF_ERROR(fs->CreateDirectory(shard_dir));
    EDDY_ASSIGN_OR_RETURN(
        auto file, fs->Open(io::JoinPath(shard_dir, SegmentFileName(1)), io::OpenMode::kCreateNew));
    EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(i)));
    EDDY_RETURN_IF_ERROR(file->Sync());
    EDDY_RETURN_IF_ERROR(fs->SyncDirectory(shard_dir));
    commit.shards.push_back(
        ShardCommit{ShardIndex(i), SequenceNumber(1), kSegmentHeaderBytes, SequenceNumber(), 0});
  }
  std::string journal(kJournalMagic, sizeof kJournalMagic);
  EncodeCommitFrame(commit, journal);
  {
    EDDY_ASSIGN_OR_RETURN(
        auto file, fs->Open(io::JoinPath(temp_dir, JournalFileName(1)), io::OpenMode::kCreateNew));
    EDDY_RETURN_IF_ERROR(file->Append(journal));
    EDDY_RETURN_IF_ERROR(file->Sync());
  }
  EDDY_RETURN_IF_ERROR(
      fs->WriteFileAtomically(io::JoinPath(temp_dir, kMetaFile), EncodeStreamMeta(meta)));
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

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& path, LogStoreOptions options) {
  auto context = std::make_shared<StoreContext>();
  context->fs = options.file_system ? options.file_system : io::DefaultFileSystem();
  context->clock = options.clock ? options.clock : &SystemClock::Instance();
  if (options.segment_bytes < 1024) options.segment_bytes = 1024;
  if (options.index_interval_bytes == 0) options.index_interval_bytes = 1;
  if (options.max_parallel_syncs == 0) options.max_parallel_syncs = 1;
  context->options = options;
  context->sync_pool = std::make_unique<internal::SyncPool>(options.max_parallel_syncs);
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
