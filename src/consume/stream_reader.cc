#include "consume/stream_reader.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "log/chunking.h"
#include "log/kinesis.h"

namespace eddy::consume {
namespace {

constexpr size_t kReadAheadRecords = 256;
// Buffers kept for reuse; more are freed (a consumer holding many batches).
constexpr size_t kPooledBuffers = 16;

// Segment-byte buffers (log::ReadViewBatch) recycled between reads: a buffer returns here
// when the last holder (a shard cursor or a StreamBatch, on any thread) lets it go.
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  std::shared_ptr<log::ReadViewBatch> Acquire() {
    std::unique_ptr<log::ReadViewBatch> buffer;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        buffer = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (buffer == nullptr) buffer = std::make_unique<log::ReadViewBatch>();
    std::weak_ptr<BufferPool> pool = weak_from_this();
    return std::shared_ptr<log::ReadViewBatch>(buffer.release(), [pool](log::ReadViewBatch* b) {
      std::unique_ptr<log::ReadViewBatch> owned(b);
      if (auto alive = pool.lock()) alive->Release(std::move(owned));
    });
  }

 private:
  void Release(std::unique_ptr<log::ReadViewBatch> buffer) {
    buffer->Clear();
    std::lock_guard lock(mu_);
    if (free_.size() < kPooledBuffers) free_.push_back(std::move(buffer));
  }

  std::mutex mu_;
  std::vector<std::unique_ptr<log::ReadViewBatch>> free_;  // guarded by mu_
};

// A record reassembled from a chunk group, owned: the views of its ReadRecordView point here.
struct OwnedRecord {
  log::Record record;
  std::string position;  // encoded
};

// One shard of the stream as the reader follows it.
struct ShardCursor {
  uint32_t index = 0;
  int64_t creation_nanos = 0;
  std::vector<uint32_t> parents;  // read to their ends before this shard
  // Null once the shard needs no more reading when the reader began (a finished shard of the
  // checkpoint, a closed shard under LATEST); `position` is then its checkpoint.
  std::unique_ptr<log::ShardReader> reader;
  SequenceNumber position;
  log::Reassembler reassembler;
  std::optional<SequenceNumber> pending_head;  // a chunk group read in part
  // Whole records not returned yet: buffered[head..]. buffered[i] points into the first buffer
  // of `holders` (from holder_at on) whose `end` is above i.
  std::vector<ReadRecordView> buffered;
  struct Holder {
    size_t end = 0;
    std::shared_ptr<const void> buffer;
  };
  std::vector<Holder> holders;
  size_t head = 0;
  size_t holder_at = 0;
  bool read_to_end = false;  // the shard is closed and read to its end
  bool caught_up = false;    // in the current Next call: nothing more durable

  bool Empty() const { return head == buffered.size(); }
  const ReadRecordView& Front() const { return buffered[head]; }
  // The buffer Front() points into.
  const std::shared_ptr<const void>& FrontBuffer() {
    while (holders[holder_at].end <= head) ++holder_at;
    return holders[holder_at].buffer;
  }
  // Adds records [buffered.size() before the call, now) as pointing into `buffer`.
  void AddHolder(std::shared_ptr<const void> buffer) {
    if (!holders.empty() && holders.back().buffer == buffer) {
      holders.back().end = buffered.size();
    } else {
      holders.push_back(Holder{buffered.size(), std::move(buffer)});
    }
  }
  bool Finished() const { return read_to_end && Empty() && !pending_head; }
  ShardCheckpoint Position() const {
    if (!Empty()) return {Front().record.sequence, false};
    if (pending_head) return {*pending_head, false};
    if (reader) return {reader->next_sequence(), read_to_end};
    return {position, read_to_end};
  }
};

size_t RecordBytes(const log::RecordView& record) {
  return record.partition_key.size() + record.payload.size();
}

std::vector<uint32_t> ParentsOf(const log::ShardInfo& shard) {
  std::vector<uint32_t> parents;
  if (shard.parent_index) parents.push_back(*shard.parent_index);
  if (shard.adjacent_parent_index) parents.push_back(*shard.adjacent_parent_index);
  return parents;
}

class StreamReaderImpl final : public StreamReader {
 public:
  StreamReaderImpl(std::shared_ptr<log::Stream> stream, StreamReaderOptions options)
      : stream_(std::move(stream)), options_(options) {
    options_.max_records = std::max<size_t>(1, options_.max_records);
    options_.max_bytes = std::max<size_t>(1, options_.max_bytes);
  }

  Status OpenAt(const std::optional<Checkpoint>& checkpoint) {
    log::StreamInfo info = stream_->Describe();
    for (const log::ShardInfo& shard : info.shards) {
      if (checkpoint) {
        EDDY_RETURN_IF_ERROR(AddFromCheckpoint(shard, *checkpoint));
      } else {
        EDDY_RETURN_IF_ERROR(AddFromStart(shard));
      }
    }
    if (checkpoint) {
      // A shard the checkpoint still reads but the stream no longer lists expired: every
      // record of it was dropped by retention before the consumer got it.
      for (const auto& [index, position] : checkpoint->shards) {
        if (!position.finished && cursors_.count(index) == 0) {
          return Trimmed("consumer checkpoint position " + std::to_string(position.next.value()) +
                         " of " + log::FormatShardId(index) + " in stream " + stream_->name() +
                         ": the shard's records were all dropped by retention");
        }
      }
    }
    return Status::Ok();
  }

  Status Next(std::vector<ReadRecord>* out) override {
    EDDY_RETURN_IF_ERROR(NextViews(&copied_));
    out->reserve(out->size() + copied_.records.size());
    for (const ReadRecordView& view : copied_.records) {
      auto record = view.ToReadRecord();
      if (!record.ok()) {
        return record.status().WithContext(
            "record " + std::to_string(view.record.sequence.value()) + " of " +
            log::FormatShardId(view.shard_index) + " of stream " + stream_->name());
      }
      out->push_back(std::move(*record));
    }
    copied_.Clear();
    return Status::Ok();
  }

  Status NextViews(StreamBatch* batch) override {
    batch->Clear();
    // The commit number first: a commit after this point wakes WaitForCommit even when this
    // call already returned its records.
    seen_commit_ = stream_->CommitNumber();
    EDDY_RETURN_IF_ERROR(Discover());
    for (auto& [index, cursor] : cursors_) cursor.caught_up = false;
    size_t count = 0;
    size_t bytes = 0;
    while (count < options_.max_records) {
      EDDY_RETURN_IF_ERROR(RefillEmpty());
      ShardCursor* best = nullptr;
      for (ShardCursor* cursor : by_index_) {
        if (cursor->Empty() || Blocked(*cursor)) continue;
        SequenceNumber front = cursor->Front().record.sequence;
        // Records committed after the call began wait for the next call: up to `bound_`,
        // every shard's records are known, so the merge is exact.
        if (front.value() > bound_) continue;
        if (best == nullptr || front < best->Front().record.sequence) best = cursor;
      }
      if (best == nullptr) break;
      // Takes the run of `best`'s records that stay below every other shard's next record:
      // the merge order without comparing shards again for each record.
      uint64_t limit = bound_;
      for (ShardCursor* cursor : by_index_) {
        if (cursor == best || cursor->Empty() || Blocked(*cursor)) continue;
        limit = std::min(limit, cursor->Front().record.sequence.value() - 1);
      }
      bool stop = false;
      while (!best->Empty() && count < options_.max_records) {
        const ReadRecordView& front = best->Front();
        if (front.record.sequence.value() > limit) break;
        size_t size = RecordBytes(front.record);
        if (count > 0 && bytes + size > options_.max_bytes) {
          stop = true;
          break;
        }
        last_returned_ = std::max(last_returned_, front.record.sequence.value());
        batch->records.push_back(front);
        batch->Hold(best->FrontBuffer());
        ++best->head;
        ++count;
        bytes += size;
      }
      if (stop) break;
    }
    return Status::Ok();
  }

  Checkpoint checkpoint() const override {
    Checkpoint result;
    for (const auto& [index, cursor] : cursors_) result.shards[index] = cursor.Position();
    return result;
  }

  Status WaitForCommit(std::chrono::steady_clock::time_point deadline) override {
    for (const auto& [index, cursor] : cursors_) {
      if (!cursor.Empty() && !Blocked(cursor)) return Status::Ok();  // already here
    }
    return stream_->WaitForCommit(seen_commit_, deadline);
  }

  Backlog backlog() override {
    Backlog result;
    log::StreamInfo info = stream_->Describe();
    uint64_t high = 0;
    for (const auto& shard : info.shards) high = std::max(high, shard.last_sequence.value());
    // Records come out in sequence order across shards, so what is left is what was
    // committed after the last record returned (sequence numbers are one counter per
    // stream; a chunk fragment counts as a record). Before the first record, the lowest
    // unfinished checkpoint position stands for it.
    uint64_t position = last_returned_;
    if (position == 0) {
      uint64_t lowest = UINT64_MAX;
      for (const auto& [index, cursor] : cursors_) {
        ShardCheckpoint at = cursor.Position();
        if (!at.finished) lowest = std::min(lowest, at.next.value());
      }
      position = lowest == UINT64_MAX ? high : (lowest == 0 ? 0 : lowest - 1);
    }
    result.records = high > position ? high - position : 0;
    if (result.records == 0) return result;
    // The oldest record not returned: the lowest-numbered one the shards have next. A failed
    // read leaves it unknown (0); the next Next call reports the error.
    for (auto& [index, cursor] : cursors_) cursor.caught_up = false;
    if (!RefillEmpty().ok()) return result;
    const ReadRecordView* oldest = nullptr;
    for (const auto& [index, cursor] : cursors_) {
      if (cursor.Empty() || Blocked(cursor)) continue;
      if (oldest == nullptr || cursor.Front().record.sequence < oldest->record.sequence) {
        oldest = &cursor.Front();
      }
    }
    if (oldest != nullptr) result.oldest_arrival_nanos = oldest->record.arrival_nanos;
    return result;
  }

 private:
  // True while one of the shard's parents has records this reader has not returned.
  bool Blocked(const ShardCursor& cursor) const {
    for (uint32_t parent : cursor.parents) {
      auto it = cursors_.find(parent);
      if (it != cursors_.end() && !it->second.Finished()) return true;
    }
    return false;
  }

  Status OpenShard(ShardCursor& cursor, const log::StartPosition& start) {
    auto reader = stream_->OpenReader(cursor.index, start);
    if (!reader.ok()) {
      return reader.status().WithContext("opening " + log::FormatShardId(cursor.index) +
                                         " of stream " + stream_->name());
    }
    cursor.reader = std::move(*reader);
    return Status::Ok();
  }

  ShardCursor& AddCursor(const log::ShardInfo& shard) {
    ShardCursor& cursor = cursors_[shard.index];
    cursor.index = shard.index;
    cursor.creation_nanos = shard.creation_nanos;
    cursor.parents = ParentsOf(shard);
    IndexCursors();
    return cursor;
  }

  // Marks a shard as needing no reading: a closed shard whose end the reader starts past.
  static void FinishWithoutReader(ShardCursor& cursor, const log::ShardInfo& shard) {
    uint64_t end =
        shard.ending_sequence ? shard.ending_sequence->value() : shard.last_sequence.value();
    cursor.position = SequenceNumber(std::max(end + 1, shard.starting_sequence.value()));
    cursor.read_to_end = true;
  }

  // A shard at its beginning: the records it got since it was created must all still be
  // there (kTrimmed otherwise), since the consumer has never read them.
  Status AddAtBeginning(const log::ShardInfo& shard) {
    ShardCursor& cursor = AddCursor(shard);
    return OpenShard(cursor, log::StartPosition::AtSequence(shard.starting_sequence));
  }

  Status AddFromStart(const log::ShardInfo& shard) {
    ShardCursor& cursor = AddCursor(shard);
    const log::StartPosition& start = options_.start;
    switch (start.type) {
      case log::IteratorType::kTrimHorizon:
      case log::IteratorType::kAtTimestamp:
        return OpenShard(cursor, start);
      case log::IteratorType::kLatest:
        if (!shard.open) {
          FinishWithoutReader(cursor, shard);
          return Status::Ok();
        }
        return OpenShard(cursor, start);
      case log::IteratorType::kAtSequenceNumber:
      case log::IteratorType::kAfterSequenceNumber: {
        // Applies to every shard: each begins at its first record at or after the target
        // (sequence numbers are one counter per stream, so the target may lie in another
        // shard), or at its end when it has none.
        uint64_t target = start.sequence.value() +
                          (start.type == log::IteratorType::kAfterSequenceNumber ? 1 : 0);
        if (shard.last_sequence.value() == 0 || shard.last_sequence.value() < target) {
          if (!shard.open) {
            FinishWithoutReader(cursor, shard);
            return Status::Ok();
          }
          return OpenShard(cursor, log::StartPosition::Latest());
        }
        return OpenShard(cursor, log::StartPosition::AtSequence(
                                     SequenceNumber(std::max(target, shard.trim_horizon.value()))));
      }
    }
    return InvalidArgument("unknown start position type");
  }

  Status AddFromCheckpoint(const log::ShardInfo& shard, const Checkpoint& checkpoint) {
    auto named = checkpoint.shards.find(shard.index);
    if (named == checkpoint.shards.end()) return AddAtBeginning(shard);
    ShardCursor& cursor = AddCursor(shard);
    if (named->second.finished) {
      cursor.position = named->second.next;
      cursor.read_to_end = true;
      return Status::Ok();
    }
    auto reader =
        stream_->OpenReader(shard.index, log::StartPosition::AtSequence(named->second.next));
    if (!reader.ok()) {
      return reader.status().WithContext("consumer checkpoint position " +
                                         std::to_string(named->second.next.value()) + " of " +
                                         shard.id + " in stream " + stream_->name());
    }
    cursor.reader = std::move(*reader);
    return Status::Ok();
  }

  // Picks up shards created by resharding (read from their beginning), forgets finished
  // shards that retention expired, and takes the merge bound for this call.
  Status Discover() {
    log::StreamInfo info = stream_->Describe();
    bound_ = 0;
    std::map<uint32_t, bool> listed;
    for (const log::ShardInfo& shard : info.shards) {
      bound_ = std::max(bound_, shard.last_sequence.value());
      listed[shard.index] = true;
      if (cursors_.count(shard.index) == 0) EDDY_RETURN_IF_ERROR(AddAtBeginning(shard));
    }
    for (auto it = cursors_.begin(); it != cursors_.end();) {
      // An unfinished shard that disappeared stays: its next read reports kTrimmed.
      if (listed.count(it->first) == 0 && it->second.Finished()) {
        it = cursors_.erase(it);
      } else {
        ++it;
      }
    }
    IndexCursors();
    return Status::Ok();
  }

  // by_index_ after cursors_ changed.
  void IndexCursors() {
    by_index_.clear();
    for (auto& [index, cursor] : cursors_) by_index_.push_back(&cursor);
  }

  // Reads ahead in every readable shard that has nothing buffered. Cursors are visited by
  // index, and children have higher indexes than their parents, so a parent that finishes
  // here unblocks its children within the same pass.
  Status RefillEmpty() {
    for (ShardCursor* cursor : by_index_) {
      if (cursor->reader == nullptr || cursor->read_to_end || cursor->caught_up ||
          !cursor->Empty() || Blocked(*cursor)) {
        continue;
      }
      EDDY_RETURN_IF_ERROR(Refill(*cursor));
    }
    return Status::Ok();
  }

  Status Refill(ShardCursor& cursor) {
    cursor.buffered.clear();
    cursor.holders.clear();
    cursor.head = 0;
    cursor.holder_at = 0;
    // Reads ahead of small record limits (the payload bytes stay bounded by max_bytes), so
    // a caller taking one record per Next does not cost one shard read per record. A view
    // read stops at a segment's end, so this reads on until the read-ahead is reached.
    const size_t target_records = std::max(options_.max_records, kReadAheadRecords);
    size_t buffered_bytes = 0;
    while (!cursor.read_to_end && cursor.buffered.size() < target_records &&
           (cursor.Empty() || buffered_bytes < options_.max_bytes)) {
      log::ReadLimits limits;
      limits.max_records = target_records - cursor.buffered.size();
      limits.max_bytes = options_.max_bytes - std::min(options_.max_bytes, buffered_bytes);
      std::shared_ptr<log::ReadViewBatch> buffer = pool_->Acquire();
      Status read = cursor.reader->ReadViews(limits, buffer.get());
      if (!read.ok()) {
        return read.WithContext("reading " + log::FormatShardId(cursor.index) + " of stream " +
                                stream_->name());
      }
      for (const log::RecordView& view : buffer->records) {
        const SequenceNumber sequence = view.sequence;
        buffered_bytes += RecordBytes(view);
        if (view.kind == log::RecordKind::kData && !cursor.reassembler.pending()) {
          ReadRecordView out;
          out.shard_index = cursor.index;
          out.shard_creation_nanos = cursor.creation_nanos;
          out.record = view;
          out.next_in_shard = SequenceNumber(sequence.value() + 1);
          cursor.buffered.push_back(out);
          continue;
        }
        // Chunk groups (and anything arriving while one is open) go through the reassembler,
        // which needs owned records; a whole group comes out as an owned record.
        if (view.kind == log::RecordKind::kChunkedHead) cursor.pending_head = sequence;
        auto record = view.ToRecord();
        Result<std::optional<log::Record>> whole =
            record.ok() ? cursor.reassembler.Add(std::move(*record))
                        : Result<std::optional<log::Record>>(record.status());
        if (!whole.ok()) {
          return whole.status().WithContext("record " + std::to_string(sequence.value()) + " of " +
                                            log::FormatShardId(cursor.index) + " of stream " +
                                            stream_->name());
        }
        if (!cursor.reassembler.pending()) cursor.pending_head.reset();
        if (*whole) {
          auto owned = std::make_shared<OwnedRecord>();
          owned->record = std::move(**whole);
          owned->record.position.EncodeTo(owned->position);
          ReadRecordView out;
          out.shard_index = cursor.index;
          out.shard_creation_nanos = cursor.creation_nanos;
          out.record.sequence = owned->record.sequence;
          out.record.arrival_nanos = owned->record.arrival_nanos;
          out.record.kind = owned->record.kind;
          out.record.partition_key = owned->record.partition_key;
          out.record.position = owned->position;
          out.record.payload = owned->record.payload;
          out.next_in_shard = SequenceNumber(sequence.value() + 1);
          cursor.AddHolder(buffer);  // the records before it
          cursor.buffered.push_back(out);
          cursor.AddHolder(std::move(owned));
        }
      }
      cursor.AddHolder(buffer);
      if (buffer->end_of_shard) cursor.read_to_end = true;
      if (buffer->records.empty()) {
        cursor.caught_up = true;
        break;
      }
    }
    return Status::Ok();
  }

  std::shared_ptr<log::Stream> stream_;
  StreamReaderOptions options_;
  std::map<uint32_t, ShardCursor> cursors_;
  // cursors_'s cursors in index order (map nodes do not move): the merge visits every shard
  // for each run of records it takes, which a vector does without a tree walk per step.
  std::vector<ShardCursor*> by_index_;
  uint64_t bound_ = 0;          // highest sequence committed when the current Next began
  uint64_t seen_commit_ = 0;    // the stream's commit number when the last Next began
  uint64_t last_returned_ = 0;  // highest sequence Next has returned
  std::shared_ptr<BufferPool> pool_ = std::make_shared<BufferPool>();
  StreamBatch copied_;  // Next's views before they are copied out
};

}  // namespace

Result<std::unique_ptr<StreamReader>> StreamReader::Open(std::shared_ptr<log::Stream> stream,
                                                         StreamReaderOptions options,
                                                         std::optional<Checkpoint> checkpoint) {
  if (stream == nullptr) return InvalidArgument("StreamReader::Open needs a stream");
  // An empty checkpoint is a consumer that never delivered anything: it starts at `start`.
  if (checkpoint && checkpoint->shards.empty()) checkpoint.reset();
  auto reader = std::make_unique<StreamReaderImpl>(std::move(stream), options);
  EDDY_RETURN_IF_ERROR(reader->OpenAt(checkpoint));
  return std::unique_ptr<StreamReader>(std::move(reader));
}

Result<ReadRecord> ReadRecordView::ToReadRecord() const {
  ReadRecord out;
  out.shard_index = shard_index;
  out.shard_creation_nanos = shard_creation_nanos;
  EDDY_ASSIGN_OR_RETURN(out.record, record.ToRecord());
  out.next_in_shard = next_in_shard;
  return out;
}

ShardCheckpoint StreamReader::After(const ReadRecord& record) {
  if (record.next_in_shard.value() != 0) return {record.next_in_shard, false};
  return {SequenceNumber(record.record.sequence.value() + 1), false};
}

}  // namespace eddy::consume
