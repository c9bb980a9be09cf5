// StreamImpl: resharding (split, merge) and option changes, both recorded in stream.meta and
// announced to readers by a commit record with the new layout version.
#include <algorithm>

#include "log/stream_state.h"

namespace eddy::log::internal {

Status StreamImpl::CreateShardFiles(ShardIndex index, SequenceNumber base) {
  io::FileSystem* fs = context_->fs;
  std::string dir = ShardDir(index);
  EDDY_RETURN_IF_ERROR(fs->CreateDirectory(dir));
  EDDY_ASSIGN_OR_RETURN(auto file, fs->Open(io::JoinPath(dir, SegmentFileName(base)),
                                            io::OpenMode::kCreateOrTruncate));
  EDDY_RETURN_IF_ERROR(file->Append(EncodeSegmentHeader(index.value())));
  EDDY_RETURN_IF_ERROR(file->Sync());
  EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir));
  return fs->SyncDirectory(dir_);
}

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
                         [&](const ShardMeta& s) { return s.index == ShardIndex(shard_index); });
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
  SequenceNumber base = Next(last_sequence_);
  int64_t now = context_->clock->NowNanos();
  ShardIndex first = meta.next_shard_index;
  std::vector<ShardIndex> children = {first, ShardIndex(first.value() + 1)};
  for (ShardIndex child : children) EDDY_RETURN_IF_ERROR(CreateShardFiles(child, base));
  it->open = false;
  it->ending_sequence = last_sequence_;
  it->child_indexes = children;
  ShardMeta left;
  left.index = first;
  left.parent_index = ShardIndex(shard_index);
  left.hash_range = HashKeyRange{range.start, before};
  left.creation_nanos = now;
  left.starting_sequence = base;
  ShardMeta right = left;
  right.index = children[1];
  right.hash_range = HashKeyRange{new_starting_hash_key, range.end};
  meta.shards.push_back(left);
  meta.shards.push_back(right);
  meta.next_shard_index = ShardIndex(first.value() + 2);
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    Status status = InstallMetaLocked(meta);
    if (!status.ok()) return Poison(status);
  }
  // A commit record with the new layout version tells readers in other processes.
  EDDY_RETURN_IF_ERROR(CommitLayoutChange());
  shards_[ShardIndex(shard_index)]->writer.reset();  // closed: no more appends
  Logger()->info("split shard stream={} parent={} children={},{}", name_,
                 FormatShardId(shard_index), FormatShardId(first), FormatShardId(children[1]));
  return std::vector<uint32_t>{first.value(), children[1].value()};
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
  auto find = [&](ShardIndex index) -> ShardMeta* {
    for (auto& shard : meta.shards) {
      if (shard.index == index && !shard.expired) return &shard;
    }
    return nullptr;
  };
  ShardMeta* a = find(ShardIndex(shard_index));
  ShardMeta* b = find(ShardIndex(adjacent_shard_index));
  if (a == nullptr || b == nullptr || shard_index == adjacent_shard_index) {
    return NotFound("shards to merge must be two existing shards of stream " + name_);
  }
  if (!a->open || !b->open) {
    return InvalidArgument(
        "shard has already been merged or split, and thus is not eligible "
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
  SequenceNumber base = Next(last_sequence_);
  ShardIndex child = meta.next_shard_index;
  EDDY_RETURN_IF_ERROR(CreateShardFiles(child, base));
  for (ShardMeta* parent : {a, b}) {
    parent->open = false;
    parent->ending_sequence = last_sequence_;
    parent->child_indexes = {child};
  }
  ShardMeta shard;
  shard.index = child;
  shard.parent_index = ShardIndex(shard_index);
  shard.adjacent_parent_index = ShardIndex(adjacent_shard_index);
  shard.hash_range = merged;
  shard.creation_nanos = context_->clock->NowNanos();
  shard.starting_sequence = base;
  meta.shards.push_back(shard);
  meta.next_shard_index = ShardIndex(child.value() + 1);
  ++meta.meta_version;
  EDDY_RETURN_IF_ERROR(WriteMeta(meta));
  {
    std::lock_guard lock(mu_);
    Status status = InstallMetaLocked(meta);
    if (!status.ok()) return Poison(status);
  }
  EDDY_RETURN_IF_ERROR(CommitLayoutChange());
  shards_[ShardIndex(shard_index)]->writer.reset();  // closed: no more appends
  shards_[ShardIndex(adjacent_shard_index)]->writer.reset();
  Logger()->info("merged shards stream={} parents={},{} child={}", name_,
                 FormatShardId(shard_index), FormatShardId(adjacent_shard_index),
                 FormatShardId(child));
  return child.value();
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
  return CommitLayoutChange();
}

}  // namespace eddy::log::internal
