// StreamImpl: describe, validation, poisoning, and helpers every piece of the stream shares.
#include "log/stream_state.h"

#include "log/chunking.h"
#include "log/kinesis.h"

namespace eddy::log::internal {

std::shared_ptr<logging::Logger> Logger() { return logging::Get("log"); }

void WriteIndexFile(io::FileSystem& fs, const std::string& segment_path,
                    const SegmentSummary& summary) {
  auto index_file = fs.Open(SegmentIndexPath(segment_path), io::OpenMode::kCreateOrTruncate);
  if (index_file.ok()) (*index_file)->Append(EncodeIndex(summary)).IgnoreError();
}

void AddToSummary(SegmentSummary& summary, const FrameFields& frame, uint64_t offset, size_t size,
                  uint32_t interval) {
  const SequenceNumber sequence = frame.sequence;
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

Result<Shard*> RouteToOpenShard(const std::vector<Shard*>& open_shards,
                                const AppendRecord& record) {
  // One open shard covering every hash key (a 1-shard stream) takes every record: MD5 of the
  // partition key (a tenth of a snapshot's CPU) would only confirm it. Hash keys are routed on,
  // never stored, so skipping the hash changes nothing a reader sees.
  if (open_shards.size() == 1 &&
      open_shards.front()->meta.hash_range == HashKeyRange{HashKey{}, HashKey::Max()}) {
    return open_shards.front();
  }
  HashKey key = record.explicit_hash_key ? *record.explicit_hash_key
                                         : HashKey::FromPartitionKey(record.partition_key);
  for (Shard* shard : open_shards) {
    if (shard->meta.hash_range.Contains(key)) return shard;
  }
  return Internal("no open shard covers hash key " + key.ToString());
}

Result<Admission> AdmitByPosition(const SourcePosition& end, const SourcePosition& high) {
  if (end.empty() || high.empty()) return Admission::kNew;
  auto order = end.CompareTransaction(high);
  if (order == std::partial_ordering::unordered) {
    return InvalidArgument("source position " + end.ToString() +
                           " is of a different source kind than the stream's " + high.ToString());
  }
  return order <= 0 ? Admission::kDuplicate : Admission::kNew;
}

std::string StreamImpl::ShardDir(ShardIndex index) const {
  return io::JoinPath(dir_, FormatShardId(index.value()));
}

void StreamImpl::MarkDeleted() {
  std::lock_guard lock(mu_);
  deleted_ = true;
  cv_.notify_all();
}

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

Status StreamImpl::CheckNotAppenderThread() const {
  if (appender_thread_.load() == std::this_thread::get_id()) {
    return FailedPrecondition("this thread holds an open TransactionAppender on stream " + name_ +
                              ": commit or abort it before appending otherwise");
  }
  return Status::Ok();
}

Status StreamImpl::ValidateLocked(const std::vector<AppendRecord>& records, bool chunk) const {
  for (const auto& record : records) {
    if (record.partition_key.empty()) return InvalidArgument("partition key must not be empty");
    if (record.partition_key.size() + kChunkHeaderBytes + 64 > meta_.options.max_record_bytes) {
      return InvalidArgument("partition key of " + std::to_string(record.partition_key.size()) +
                             " bytes leaves no room for a payload within the max record size");
    }
    if (!chunk &&
        record.partition_key.size() + record.payload.size() > meta_.options.max_record_bytes) {
      return InvalidArgument("record of " +
                             std::to_string(record.partition_key.size() + record.payload.size()) +
                             " bytes exceeds the stream's max record size of " +
                             std::to_string(meta_.options.max_record_bytes) + " bytes");
    }
  }
  return Status::Ok();
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

ShardInfo StreamImpl::InfoLocked(const Shard& shard) const {
  // The public API passes shard indexes as uint32_t.
  auto raw = [](std::optional<ShardIndex> index) -> std::optional<uint32_t> {
    if (!index) return std::nullopt;
    return index->value();
  };
  ShardInfo info;
  info.index = shard.meta.index.value();
  info.id = FormatShardId(info.index);
  info.parent_index = raw(shard.meta.parent_index);
  info.adjacent_parent_index = raw(shard.meta.adjacent_parent_index);
  for (ShardIndex child : shard.meta.child_indexes) info.child_indexes.push_back(child.value());
  info.hash_range = shard.meta.hash_range;
  info.creation_nanos = shard.meta.creation_nanos;
  info.starting_sequence = shard.meta.starting_sequence;
  info.ending_sequence = shard.meta.ending_sequence;
  info.open = shard.meta.open;
  info.trim_horizon = shard.TrimHorizon();
  info.last_sequence = shard.last_sequence;
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
  auto it = shards_.find(ShardIndex(shard_index));
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

}  // namespace eddy::log::internal
