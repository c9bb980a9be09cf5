// StreamImpl: resolving a reader's start position and reading one shard in sequence order;
// ShardReader is a cursor over ReadShard.
#include <algorithm>

#include "log/segment_scan.h"
#include "log/stream_state.h"

namespace eddy::log::internal {
namespace {

class ShardReaderImpl final : public ShardReader {
 public:
  ShardReaderImpl(std::shared_ptr<StreamImpl> stream, ShardIndex shard, SequenceNumber next)
      : stream_(std::move(stream)), shard_(shard), next_(next) {}
  Result<ReadBatch> Read(const ReadLimits& limits) override {
    resume_.valid = false;
    return stream_->ReadShard(shard_, &next_, limits);
  }
  Status ReadViews(const ReadLimits& limits, ReadViewBatch* batch) override {
    return stream_->ReadShardViews(shard_, &next_, limits, batch, &resume_);
  }
  Status WaitForData(std::chrono::steady_clock::time_point deadline) override {
    return stream_->WaitForShardData(shard_, next_, deadline);
  }
  SequenceNumber next_sequence() const override { return next_; }
  uint32_t shard_index() const override { return shard_.value(); }

 private:
  std::shared_ptr<StreamImpl> stream_;
  ShardIndex shard_;
  SequenceNumber next_;
  StreamImpl::ReadResume resume_;
};

// The bytes a view read takes from a segment at a time: a few hundred records of the usual
// size, so a read limited to a few records does not copy much more than it returns.
constexpr size_t kViewReadBytes = 256u << 10;

}  // namespace

std::unique_ptr<ShardReader> NewShardReader(std::shared_ptr<StreamImpl> stream, ShardIndex shard,
                                            SequenceNumber next) {
  return std::make_unique<ShardReaderImpl>(std::move(stream), shard, next);
}

Result<std::shared_ptr<io::File>> StreamImpl::ReadHandle(Segment& segment) {
  // Called with mu_ held.
  if (!segment.file) {
    EDDY_ASSIGN_OR_RETURN(auto file, context_->fs->Open(segment.path, io::OpenMode::kReadOnly));
    segment.file = std::move(file);
  }
  return segment.file;
}

Result<SequenceNumber> StreamImpl::FindTimestamp(Shard& shard, int64_t timestamp) {
  // Called with mu_ held. First record with arrival >= timestamp.
  for (auto& segment : shard.segments) {
    if (segment->summary.record_count == 0 || segment->summary.max_arrival < timestamp) continue;
    const auto& entries = segment->summary.entries;
    uint64_t start = kSegmentHeaderBytes;
    for (const auto& entry : entries) {
      if (entry.arrival_nanos < timestamp) start = entry.offset;
    }
    EDDY_ASSIGN_OR_RETURN(auto file, ReadHandle(*segment));
    std::optional<SequenceNumber> found;
    EDDY_ASSIGN_OR_RETURN(ScanOutcome outcome,
                          ScanFrames(*file, start, segment->summary.bytes, true,
                                     [&](Record& record, uint64_t, size_t) {
                                       if (record.arrival_nanos >= timestamp) {
                                         found = record.sequence;
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
  return Next(shard.last_sequence);
}

Result<SequenceNumber> StreamImpl::ResolveStart(Shard& shard, const StartPosition& start) {
  switch (start.type) {
    case IteratorType::kTrimHorizon:
      return shard.TrimHorizon();
    case IteratorType::kLatest:
      return Next(shard.last_sequence);
    case IteratorType::kAtSequenceNumber:
    case IteratorType::kAfterSequenceNumber: {
      SequenceNumber sequence(start.sequence.value() +
                              (start.type == IteratorType::kAfterSequenceNumber ? 1 : 0));
      if (shard.Trimmed(sequence)) {
        return Trimmed("sequence number " + std::to_string(start.sequence.value()) + " of " +
                       FormatShardId(shard.meta.index) + " is behind the trim horizon " +
                       std::to_string(shard.TrimHorizon().value()) + " (dropped by retention)");
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
  if (read_only() && context_->options.describe_only) {
    return FailedPrecondition(
        "the log store is open to describe streams only; open it without "
        "describe_only to read records");
  }
  EDDY_RETURN_IF_ERROR(Refresh());
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  auto it = shards_.find(ShardIndex(shard_index));
  if (it == shards_.end() || it->second->meta.expired) {
    return NotFound("shard " + FormatShardId(shard_index) + " does not exist in stream " + name_);
  }
  EDDY_ASSIGN_OR_RETURN(SequenceNumber next, ResolveStart(*it->second, start));
  return NewShardReader(shared_from_this(), ShardIndex(shard_index), next);
}

Result<StreamImpl::SegmentSpan> StreamImpl::LocateSegment(ShardIndex shard_index,
                                                          SequenceNumber next) {
  SegmentSpan span;
  std::lock_guard lock(mu_);
  if (deleted_) return NotFound("stream " + name_ + " was deleted");
  auto it = shards_.find(shard_index);
  if (it == shards_.end()) return NotFound("shard " + FormatShardId(shard_index) + " is gone");
  Shard& shard = *it->second;
  span.shard_last_arrival = shard.last_arrival;
  if (shard.meta.expired || shard.Trimmed(next)) {
    return Trimmed("position " + std::to_string(next.value()) + " of " +
                   FormatShardId(shard_index) + " is behind the trim horizon " +
                   std::to_string(shard.TrimHorizon().value()) + " (dropped by retention)");
  }
  if (next > shard.last_sequence) {
    span.caught_up = true;
    if (!shard.meta.open) {
      span.end_of_shard = true;
      for (ShardIndex child : shard.meta.child_indexes) span.child_indexes.push_back(child.value());
    }
    return span;
  }
  auto& segments = shard.segments;
  auto pos = std::upper_bound(
      segments.begin(), segments.end(), next,
      [](SequenceNumber s, const std::shared_ptr<Segment>& seg) { return s < seg->base; });
  size_t index = pos == segments.begin() ? 0 : static_cast<size_t>(pos - segments.begin()) - 1;
  Segment& segment = *segments[index];
  if (index + 1 < segments.size()) span.next_base = segments[index + 1]->base;
  auto handle = ReadHandle(segment);
  if (!handle.ok()) {
    if (handle.status().code() == ErrorCode::kNotFound) {
      // Only retention removes a committed segment (seen late by a read-only store).
      return Trimmed("segment " + segment.path + " holding position " +
                     std::to_string(next.value()) + " was dropped by retention");
    }
    return handle.status();
  }
  span.file = std::move(*handle);
  span.end = segment.summary.bytes;
  span.corrupt_offset = segment.corrupt_offset;
  span.corrupt_reason = segment.corrupt_reason;
  if (span.corrupt_offset && *span.corrupt_offset < span.end) span.end = *span.corrupt_offset;
  span.segment_base = segment.base;
  span.offset = kSegmentHeaderBytes;
  const auto& entries = segment.summary.entries;
  auto entry =
      std::upper_bound(entries.begin(), entries.end(), next,
                       [](SequenceNumber s, const IndexEntry& e) { return s < e.sequence; });
  if (entry != entries.begin()) span.offset = std::prev(entry)->offset;
  span.last_sequence = shard.last_sequence;
  span.path = segment.path;
  return span;
}

Result<ReadBatch> StreamImpl::ReadShard(ShardIndex shard_index, SequenceNumber* next,
                                        const ReadLimits& limits) {
  EDDY_RETURN_IF_ERROR(Refresh());
  ReadBatch batch;
  size_t bytes = 0;
  int64_t last_returned_arrival = 0;
  int64_t shard_last_arrival = 0;
  bool caught_up = false;
  while (batch.records.size() < limits.max_records && (bytes < limits.max_bytes)) {
    auto located = LocateSegment(shard_index, *next);
    if (!located.ok()) {
      if (!batch.records.empty()) break;  // returned first; the next read reports it
      return located.status();
    }
    SegmentSpan& span = *located;
    shard_last_arrival = span.shard_last_arrival;
    if (span.caught_up) {
      caught_up = true;
      batch.end_of_shard = span.end_of_shard;
      batch.child_indexes = std::move(span.child_indexes);
      break;
    }
    const SequenceNumber last_sequence = span.last_sequence;
    const uint64_t end = span.end;
    bool limit_hit = false;
    EDDY_ASSIGN_OR_RETURN(
        ScanOutcome outcome,
        ScanFrames(*span.file, span.offset, end, true, [&](Record& record, uint64_t, size_t) {
          const SequenceNumber sequence = record.sequence;
          if (sequence < *next) return true;
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
          *next = Next(sequence);
          batch.records.push_back(std::move(record));
          return true;
        }));
    if (limit_hit) break;
    if (outcome.status != FrameStatus::kOk ||
        (span.corrupt_offset && outcome.stop_offset >= end && end == *span.corrupt_offset)) {
      if (!batch.records.empty()) break;
      uint64_t at = outcome.status != FrameStatus::kOk ? outcome.stop_offset : *span.corrupt_offset;
      std::string reason = outcome.status != FrameStatus::kOk ? outcome.error : span.corrupt_reason;
      return Corruption("segment " + span.path + " offset " + std::to_string(at) + ": " + reason);
    }
    if (span.next_base) {
      *next = std::max(*next, *span.next_base);
    } else if (*next <= last_sequence) {
      // The active segment ended before the committed last sequence: it was truncated.
      return Corruption("segment " + span.path + " ends at offset " + std::to_string(end) +
                        " before committed sequence " + std::to_string(last_sequence.value()));
    }
  }
  batch.next_sequence = *next;
  if (!caught_up && !batch.records.empty()) {
    batch.millis_behind_latest =
        std::max<int64_t>(0, (shard_last_arrival - last_returned_arrival) / 1'000'000);
  }
  return batch;
}

Status StreamImpl::ReadShardViews(ShardIndex shard_index, SequenceNumber* next,
                                  const ReadLimits& limits, ReadViewBatch* batch,
                                  ReadResume* resume) {
  EDDY_RETURN_IF_ERROR(Refresh());
  batch->Clear();
  size_t bytes = 0;
  int64_t last_returned_arrival = 0;
  int64_t shard_last_arrival = 0;
  bool caught_up = false;
  // One segment's records per call: the views point into one buffer read from one file.
  while (batch->records.empty()) {
    EDDY_ASSIGN_OR_RETURN(SegmentSpan span, LocateSegment(shard_index, *next));
    shard_last_arrival = span.shard_last_arrival;
    if (span.caught_up) {
      caught_up = true;
      batch->end_of_shard = span.end_of_shard;
      batch->child_indexes = std::move(span.child_indexes);
      break;
    }
    uint64_t offset = span.offset;
    const uint64_t end = span.end;
    const SequenceNumber last_sequence = span.last_sequence;
    const SequenceNumber segment_base = span.segment_base;
    const std::string& path = span.path;
    if (resume->valid && resume->segment_base == segment_base && resume->sequence == *next &&
        resume->offset >= offset && resume->offset <= end) {
      offset = resume->offset;
    }
    resume->valid = false;
    // Reads [offset, end) a buffer at a time; the records of the first buffer that has any
    // are returned (frames before *next are skipped).
    uint64_t at = offset;
    size_t want = kViewReadBytes;
    bool limit_hit = false;
    while (at < end && batch->records.empty()) {
      const size_t size = static_cast<size_t>(std::min<uint64_t>(want, end - at));
      if (batch->bytes.size() < size) batch->bytes.resize(size);
      const uint64_t read_from = at;
      EDDY_ASSIGN_OR_RETURN(size_t got, span.file->ReadAt(read_from, size, batch->bytes.data()));
      const std::string_view buffer(batch->bytes.data(), got);
      size_t position = 0;
      while (true) {
        RecordView view;
        FrameDecode frame = DecodeFrameView(buffer.substr(position), &view);
        if (frame.status == FrameStatus::kIncomplete) {
          if (read_from + got >= end || got < size) {
            if (!batch->records.empty()) break;  // returned first; the next read reports it
            const uint64_t left = end - at;
            return Corruption(
                "segment " + path + " offset " + std::to_string(at) + ": " +
                (got < size ? "file ends before the expected end offset " + std::to_string(end)
                            : "torn frame: " + std::to_string(left) +
                                  " bytes at the end do not form a whole record"));
          }
          // Not whole in this buffer: read again from its start (larger when it is larger).
          if (position == 0) want = std::max(want, frame.size);
          break;
        }
        if (frame.status == FrameStatus::kCorrupt) {
          if (!batch->records.empty()) break;
          return Corruption("segment " + path + " offset " + std::to_string(at) + ": " +
                            frame.error);
        }
        const SequenceNumber sequence = view.sequence;
        if (sequence > last_sequence) {
          limit_hit = true;
          break;
        }
        if (sequence >= *next) {
          const size_t record_bytes = view.partition_key.size() + view.payload.size();
          if (!batch->records.empty() && (batch->records.size() >= limits.max_records ||
                                          bytes + record_bytes > limits.max_bytes)) {
            limit_hit = true;
            break;
          }
          bytes += record_bytes;
          last_returned_arrival = view.arrival_nanos;
          *next = Next(sequence);
          batch->records.push_back(view);
        }
        position += frame.size;
        at += frame.size;
        if (at >= end) break;
      }
      if (limit_hit) break;
    }
    if (!batch->records.empty()) {
      // `at` is where the frame of *next starts (or the segment's end).
      if (at < end) *resume = ReadResume{true, segment_base, *next, at};
      if (limit_hit || at < end) break;
    }
    if (limit_hit) break;
    // The segment was read to its end.
    if (span.corrupt_offset && end == *span.corrupt_offset) {
      if (!batch->records.empty()) break;
      return Corruption("segment " + path + " offset " + std::to_string(end) + ": " +
                        span.corrupt_reason);
    }
    if (span.next_base) {
      *next = std::max(*next, *span.next_base);
    } else if (*next <= last_sequence) {
      if (!batch->records.empty()) break;
      // The active segment ended before the committed last sequence: it was truncated.
      return Corruption("segment " + path + " ends at offset " + std::to_string(end) +
                        " before committed sequence " + std::to_string(last_sequence.value()));
    }
  }
  batch->next_sequence = *next;
  if (!caught_up && !batch->records.empty()) {
    batch->millis_behind_latest =
        std::max<int64_t>(0, (shard_last_arrival - last_returned_arrival) / 1'000'000);
  }
  return Status::Ok();
}

bool StreamImpl::ShardReadyLocked(ShardIndex shard_index, SequenceNumber next) const {
  if (deleted_ || !poisoned_.ok()) return true;
  auto it = shards_.find(shard_index);
  if (it == shards_.end()) return true;
  const Shard& shard = *it->second;
  return shard.last_sequence >= next || !shard.meta.open || shard.meta.expired;
}

Status StreamImpl::WaitForShardData(ShardIndex shard_index, SequenceNumber next,
                                    std::chrono::steady_clock::time_point deadline) {
  return WaitUntil([&] { return ShardReadyLocked(shard_index, next); }, deadline);
}

}  // namespace eddy::log::internal

namespace eddy::log {

Status ShardReader::ReadViews(const ReadLimits& limits, ReadViewBatch* batch) {
  batch->Clear();
  EDDY_ASSIGN_OR_RETURN(ReadBatch read, Read(limits));
  // Every record's key, encoded position and payload into one buffer, then the views (once
  // the buffer is complete, so they never point into memory it left when growing).
  batch->bytes.clear();
  std::vector<size_t> position_sizes;
  position_sizes.reserve(read.records.size());
  for (const Record& record : read.records) {
    batch->bytes += record.partition_key;
    const size_t before = batch->bytes.size();
    record.position.EncodeTo(batch->bytes);
    position_sizes.push_back(batch->bytes.size() - before);
    batch->bytes += record.payload;
  }
  const std::string_view bytes = batch->bytes;
  size_t at = 0;
  for (size_t i = 0; i < read.records.size(); ++i) {
    const Record& record = read.records[i];
    RecordView view;
    view.sequence = record.sequence;
    view.arrival_nanos = record.arrival_nanos;
    view.kind = record.kind;
    view.partition_key = bytes.substr(at, record.partition_key.size());
    at += record.partition_key.size();
    view.position = bytes.substr(at, position_sizes[i]);
    at += position_sizes[i];
    view.payload = bytes.substr(at, record.payload.size());
    at += record.payload.size();
    batch->records.push_back(view);
  }
  batch->next_sequence = read.next_sequence;
  batch->end_of_shard = read.end_of_shard;
  batch->child_indexes = std::move(read.child_indexes);
  batch->millis_behind_latest = read.millis_behind_latest;
  return Status::Ok();
}

}  // namespace eddy::log
