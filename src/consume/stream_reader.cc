#include "consume/stream_reader.h"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "log/chunking.h"
#include "log/kinesis.h"

namespace eddy::consume {
namespace {

constexpr size_t kReadAheadRecords = 256;

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
  std::deque<ReadRecord> buffered;             // whole records not returned yet
  bool read_to_end = false;                    // the shard is closed and read to its end
  bool caught_up = false;                      // in the current Next call: nothing more durable

  bool Finished() const { return read_to_end && buffered.empty() && !pending_head; }
  ShardCheckpoint Position() const {
    if (!buffered.empty()) return {buffered.front().record.sequence, false};
    if (pending_head) return {*pending_head, false};
    if (reader) return {reader->next_sequence(), read_to_end};
    return {position, read_to_end};
  }
};

size_t RecordBytes(const log::Record& record) {
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
      for (auto& [index, cursor] : cursors_) {
        if (cursor.buffered.empty() || Blocked(cursor)) continue;
        SequenceNumber front = cursor.buffered.front().record.sequence;
        // Records committed after the call began wait for the next call: up to `bound_`,
        // every shard's records are known, so the merge is exact.
        if (front.value() > bound_) continue;
        if (best == nullptr || front < best->buffered.front().record.sequence) best = &cursor;
      }
      if (best == nullptr) break;
      size_t size = RecordBytes(best->buffered.front().record);
      if (count > 0 && bytes + size > options_.max_bytes) break;
      last_returned_ = std::max(last_returned_, best->buffered.front().record.sequence.value());
      out->push_back(std::move(best->buffered.front()));
      best->buffered.pop_front();
      ++count;
      bytes += size;
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
      if (!cursor.buffered.empty() && !Blocked(cursor)) return Status::Ok();  // already here
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
    const ReadRecord* oldest = nullptr;
    for (const auto& [index, cursor] : cursors_) {
      if (cursor.buffered.empty() || Blocked(cursor)) continue;
      if (oldest == nullptr || cursor.buffered.front().record.sequence < oldest->record.sequence) {
        oldest = &cursor.buffered.front();
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
    return Status::Ok();
  }

  // Reads ahead in every readable shard that has nothing buffered. Cursors are visited by
  // index, and children have higher indexes than their parents, so a parent that finishes
  // here unblocks its children within the same pass.
  Status RefillEmpty() {
    for (auto& [index, cursor] : cursors_) {
      if (cursor.reader == nullptr || cursor.read_to_end || cursor.caught_up ||
          !cursor.buffered.empty() || Blocked(cursor)) {
        continue;
      }
      EDDY_RETURN_IF_ERROR(Refill(cursor));
    }
    return Status::Ok();
  }

  Status Refill(ShardCursor& cursor) {
    while (cursor.buffered.empty() && !cursor.read_to_end) {
      // Reads ahead of small record limits (the payload bytes stay bounded by max_bytes), so
      // a caller taking one record per Next does not cost one shard read per record.
      log::ReadLimits limits;
      limits.max_records = std::max(options_.max_records, kReadAheadRecords);
      limits.max_bytes = options_.max_bytes;
      auto batch = cursor.reader->Read(limits);
      if (!batch.ok()) {
        return batch.status().WithContext("reading " + log::FormatShardId(cursor.index) +
                                          " of stream " + stream_->name());
      }
      for (log::Record& record : batch->records) {
        SequenceNumber sequence = record.sequence;
        if (record.kind == log::RecordKind::kChunkedHead) cursor.pending_head = sequence;
        auto whole = cursor.reassembler.Add(std::move(record));
        if (!whole.ok()) {
          return whole.status().WithContext("record " + std::to_string(sequence.value()) + " of " +
                                            log::FormatShardId(cursor.index) + " of stream " +
                                            stream_->name());
        }
        if (!cursor.reassembler.pending()) cursor.pending_head.reset();
        if (*whole) {
          ReadRecord out;
          out.shard_index = cursor.index;
          out.shard_creation_nanos = cursor.creation_nanos;
          out.record = std::move(**whole);
          out.next_in_shard = SequenceNumber(sequence.value() + 1);
          cursor.buffered.push_back(std::move(out));
        }
      }
      if (batch->end_of_shard) cursor.read_to_end = true;
      if (batch->records.empty()) {
        cursor.caught_up = true;
        break;
      }
    }
    return Status::Ok();
  }

  std::shared_ptr<log::Stream> stream_;
  StreamReaderOptions options_;
  std::map<uint32_t, ShardCursor> cursors_;
  uint64_t bound_ = 0;          // highest sequence committed when the current Next began
  uint64_t seen_commit_ = 0;    // the stream's commit number when the last Next began
  uint64_t last_returned_ = 0;  // highest sequence Next has returned
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

ShardCheckpoint StreamReader::After(const ReadRecord& record) {
  if (record.next_in_shard.value() != 0) return {record.next_in_shard, false};
  return {SequenceNumber(record.record.sequence.value() + 1), false};
}

}  // namespace eddy::consume
