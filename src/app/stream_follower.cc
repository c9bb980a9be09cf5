#include "app/stream_follower.h"

#include "api/api_context.h"
#include "format/json.h"
#include "log/kinesis.h"
#include "model/event_codec.h"

namespace eddy::app {

Result<std::unique_ptr<StreamFollower>> StreamFollower::Create(std::shared_ptr<log::Stream> stream,
                                                               FollowerOptions options) {
  std::unique_ptr<StreamFollower> follower(new StreamFollower());
  follower->stream_ = std::move(stream);
  follower->options_ = std::move(options);
  follower->info_ = follower->stream_->Describe();
  follower->cdc_ = api::IsCdcStream(follower->info_);
  if (follower->cdc_) {
    std::string format = follower->options_.format.empty()
                             ? api::StreamTag(follower->info_, api::kTagFormat, "native")
                             : follower->options_.format;
    std::string view = follower->options_.view_type.empty()
                           ? api::StreamTag(follower->info_, api::kTagViewType, "NEW_AND_OLD_IMAGES")
                           : follower->options_.view_type;
    EDDY_ASSIGN_OR_RETURN(follower->renderer_, format::MakeRenderer(format));
    EDDY_ASSIGN_OR_RETURN(follower->view_, format::ParseViewType(view));
  }
  return follower;
}

Status StreamFollower::OpenNewShards() {
  info_ = stream_->Describe();
  for (const auto& shard : info_.shards) {
    if (cursors_.count(shard.index) || shard.expired) continue;
    log::StartPosition start = options_.start;
    if (opened_once_) {
      // Shards that appear while following (resharding) are read from their beginning.
      start = log::StartPosition::TrimHorizon();
    } else if (start.type == log::IteratorType::kAtSequenceNumber) {
      // A sequence-number start applies to every shard: each begins at its first record at or
      // after it (or at its end when it has none).
      if (shard.last_sequence.value() == 0 || shard.last_sequence < start.sequence) {
        start = log::StartPosition::Latest();
      } else {
        start = log::StartPosition::AtSequence(std::max(start.sequence, shard.trim_horizon));
      }
    }
    auto reader = stream_->OpenReader(shard.index, start);
    if (!reader.ok()) return reader.status().WithContext("opening " + shard.id);
    ShardCursor cursor;
    cursor.shard_index = shard.index;
    cursor.creation_nanos = shard.creation_nanos;
    cursor.reader = std::move(*reader);
    cursors_.emplace(shard.index, std::move(cursor));
  }
  opened_once_ = true;
  return Status::Ok();
}

Status StreamFollower::Refill(ShardCursor& cursor) {
  while (cursor.buffered.empty() && !cursor.finished) {
    log::ReadLimits limits;
    limits.max_records = 1000;
    limits.max_bytes = 8u << 20;
    EDDY_ASSIGN_OR_RETURN(log::ReadBatch batch, cursor.reader->Read(limits));
    for (auto& record : batch.records) {
      EDDY_ASSIGN_OR_RETURN(auto whole, cursor.reassembler.Add(std::move(record)));
      if (whole) cursor.buffered.push_back(std::move(*whole));
    }
    if (batch.end_of_shard) cursor.finished = true;
    if (batch.records.empty()) break;  // caught up
  }
  return Status::Ok();
}

Status StreamFollower::Poll(const std::function<void(const std::string& line)>& emit) {
  return PollRecords([&](const log::Record& record, const std::string& sequence,
                         uint32_t shard_index) -> Status {
    EDDY_ASSIGN_OR_RETURN(std::string line, Render(record, sequence, shard_index));
    if (!line.empty()) emit(line);
    return Status::Ok();
  });
}

Status StreamFollower::PollRecords(const RecordCallback& each) {
  EDDY_RETURN_IF_ERROR(OpenNewShards());
  while (true) {
    ShardCursor* next = nullptr;
    for (auto& [index, cursor] : cursors_) {
      EDDY_RETURN_IF_ERROR(Refill(cursor));
      if (cursor.buffered.empty()) continue;
      if (next == nullptr || cursor.buffered.front().sequence < next->buffered.front().sequence) {
        next = &cursor;
      }
    }
    if (next == nullptr) return Status::Ok();
    log::Record record = std::move(next->buffered.front());
    next->buffered.pop_front();
    std::string sequence =
        log::FormatSequenceNumber(record.sequence, next->shard_index, next->creation_nanos);
    EDDY_RETURN_IF_ERROR(each(record, sequence, next->shard_index));
  }
}

void StreamFollower::WaitForData(std::chrono::steady_clock::time_point deadline) {
  for (auto& [index, cursor] : cursors_) {
    if (!cursor.finished) {
      // A failed wait only means the next Poll re-reads sooner.
      cursor.reader->WaitForData(deadline).IgnoreError();
      return;
    }
  }
}

Result<std::string> StreamFollower::Render(const log::Record& record, const std::string& sequence,
                                          uint32_t shard_index) {
  if (cdc_) {
    auto event = model::DecodeEvent(record.payload);
    if (!event.ok()) {
      return event.status().WithContext("record " + sequence + " of " +
                                        log::FormatShardId(shard_index));
    }
    format::RecordContext context;
    context.sequence_number = sequence;
    return renderer_->Render(*event, view_, context);  // "" when the format has no record
  }
  format::JsonWriter writer;
  writer.BeginObject();
  writer.Member("SequenceNumber", sequence);
  writer.Member("ShardId", log::FormatShardId(shard_index));
  writer.Member("PartitionKey", record.partition_key);
  writer.Member("Data", format::Base64Encode(record.payload));
  writer.MemberInt("ApproximateArrivalTimestamp", record.arrival_nanos / 1'000'000);
  writer.EndObject();
  return writer.Take();
}

}  // namespace eddy::app
