// StreamImpl: retention. Drops whole segments older than the retention period or beyond the
// size limit, except what RetentionHolds keeps for registered consumers.
#include <set>

#include "log/log_metrics.h"
#include "log/stream_state.h"

namespace eddy::log::internal {

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
      EDDY_RETURN_IF_ERROR(RollSegment(*shard, Next(last_sequence_)));
      rolled = true;
    }
    std::vector<std::shared_ptr<Segment>> drop;
    {
      std::lock_guard lock(mu_);
      uint64_t total = shard->Bytes();
      while (shard->segments.size() > (shard->meta.open ? 1u : 0u)) {
        auto& oldest = shard->segments.front();
        bool last = shard->segments.size() == 1;  // only for closed shards
        bool by_age = oldest->summary.record_count == 0 ? (!last || shard->last_arrival < cutoff)
                                                        : oldest->summary.max_arrival < cutoff;
        bool by_size = size_limit > 0 && total > size_limit && (oldest->sealed || last);
        if (!by_age && !by_size) break;
        if (auto hold = holds.keep_from.find(index.value());
            hold != holds.keep_from.end() && oldest->summary.record_count > 0 &&
            oldest->summary.last_sequence >= hold->second) {
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
  EDDY_RETURN_IF_ERROR(CommitLayoutChange());
  std::set<std::string> directories;
  for (const auto& [dir, segment] : all_drops) {
    Logger()->info("retention dropped segment file={} records={} bytes={}", segment->path,
                   segment->summary.record_count, segment->summary.bytes);
    EDDY_RETURN_IF_ERROR(fs->Remove(segment->path));
    RecordRetentionDrop(name_, segment->summary.bytes);
    // A sealed segment may have no index yet.
    fs->Remove(SegmentIndexPath(segment->path)).IgnoreError();
    directories.insert(dir);
  }
  for (const auto& dir : directories) EDDY_RETURN_IF_ERROR(fs->SyncDirectory(dir));
  return all_drops.size();
}

}  // namespace eddy::log::internal
