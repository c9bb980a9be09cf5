#include "app/tail_dedupe.h"

#include <chrono>
#include <map>

#include "api/api_context.h"
#include "app/dedupe.h"
#include "format/renderer.h"
#include "log/chunking.h"
#include "log/kinesis.h"
#include "model/event_codec.h"

namespace eddy::app {
namespace {

// Every shard of a stream, read to its current end; chunked payloads reassembled.
class ShardSet {
 public:
  ShardSet(std::shared_ptr<log::Stream> stream, log::StartPosition start)
      : stream_(std::move(stream)), start_(start) {}

  Status OpenNewShards() {
    log::StreamInfo info = stream_->Describe();
    for (const auto& shard : info.shards) {
      if (cursors_.count(shard.index) || shard.expired) continue;
      log::StartPosition start = start_;
      if (opened_once_) {
        start = log::StartPosition::TrimHorizon();  // created by resharding while following
      } else if (start.type == log::IteratorType::kAtSequenceNumber) {
        if (shard.last_sequence.value() == 0 || shard.last_sequence < start.sequence) {
          start = log::StartPosition::Latest();
        } else {
          start = log::StartPosition::AtSequence(std::max(start.sequence, shard.trim_horizon));
        }
      }
      auto reader = stream_->OpenReader(shard.index, start);
      if (!reader.ok()) return reader.status().WithContext("opening " + shard.id);
      Cursor cursor;
      cursor.index = shard.index;
      cursor.creation_nanos = shard.creation_nanos;
      cursor.reader = std::move(*reader);
      cursors_.emplace(shard.index, std::move(cursor));
    }
    opened_once_ = true;
    return Status::Ok();
  }

  // Calls `each(record, sequence text)` for every whole record durable now.
  template <typename Each>
  Status Drain(Each&& each) {
    for (auto& [index, cursor] : cursors_) {
      while (!cursor.finished) {
        log::ReadLimits limits;
        limits.max_records = 1000;
        limits.max_bytes = 8u << 20;
        EDDY_ASSIGN_OR_RETURN(log::ReadBatch batch, cursor.reader->Read(limits));
        for (auto& record : batch.records) {
          EDDY_ASSIGN_OR_RETURN(auto whole, cursor.reassembler.Add(std::move(record)));
          if (!whole) continue;
          std::string sequence =
              log::FormatSequenceNumber(whole->sequence, cursor.index, cursor.creation_nanos);
          EDDY_RETURN_IF_ERROR(each(*whole, sequence, cursor.index));
        }
        if (batch.end_of_shard) cursor.finished = true;
        if (batch.records.empty()) break;
      }
    }
    return Status::Ok();
  }

  void WaitForData(std::chrono::steady_clock::time_point deadline) {
    for (auto& [index, cursor] : cursors_) {
      if (!cursor.finished) {
        cursor.reader->WaitForData(deadline).IgnoreError();
        return;
      }
    }
  }

 private:
  struct Cursor {
    uint32_t index = 0;
    int64_t creation_nanos = 0;
    std::unique_ptr<log::ShardReader> reader;
    log::Reassembler reassembler;
    bool finished = false;
  };
  std::shared_ptr<log::Stream> stream_;
  log::StartPosition start_;
  bool opened_once_ = false;
  std::map<uint32_t, Cursor> cursors_;
};

}  // namespace

Result<DedupeTailStats> RunDedupeTail(std::shared_ptr<log::Stream> stream,
                                      const DedupeTailOptions& options,
                                      const ShutdownSignal* shutdown, std::FILE* out) {
  log::StreamInfo info = stream->Describe();
  if (!api::IsCdcStream(info)) {
    return InvalidArgument("--dedupe needs a CDC stream (written by eddy run); '" + info.name +
                           "' holds plain Kinesis records without keys");
  }
  std::string format = options.format.empty() ? api::StreamTag(info, api::kTagFormat, "native")
                                              : options.format;
  std::string view_name = options.view_type.empty()
                              ? api::StreamTag(info, api::kTagViewType, "NEW_AND_OLD_IMAGES")
                              : options.view_type;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<format::Renderer> renderer, format::MakeRenderer(format));
  EDDY_ASSIGN_OR_RETURN(format::ViewType view, format::ParseViewType(view_name));

  DedupeTailStats stats;
  LastWriterWins state;
  auto add = [&](const log::Record& record, const std::string& sequence, uint32_t shard) -> Status {
    auto event = model::DecodeEvent(record.payload);
    if (!event.ok()) {
      return event.status().WithContext("record " + sequence + " of " + log::FormatShardId(shard));
    }
    ++stats.records;
    ChangeOrder order{event->commit_time_ns, record.sequence.value()};
    switch (state.Add(std::move(*event), order, sequence)) {
      case LastWriterWins::Outcome::kApplied: ++stats.applied; break;
      case LastWriterWins::Outcome::kStale: ++stats.stale; break;
      case LastWriterWins::Outcome::kKeyless: ++stats.keyless; break;
      case LastWriterWins::Outcome::kIgnored: ++stats.ignored; break;
    }
    return Status::Ok();
  };
  auto print = [&](const std::vector<const LastWriterWins::Entry*>& entries) {
    for (const auto* entry : entries) {
      format::RecordContext context;
      context.sequence_number = entry->sequence_number;
      std::string line = renderer->Render(entry->event, view, context);
      if (line.empty()) continue;
      std::fwrite(line.data(), 1, line.size(), out);
      std::fputc('\n', out);
      ++stats.printed;
    }
    std::fflush(out);
  };

  ShardSet shards(stream, options.start);
  if (!options.follow) {
    EDDY_RETURN_IF_ERROR(shards.OpenNewShards());
    EDDY_RETURN_IF_ERROR(shards.Drain(add));
    print(state.Live());
    return stats;
  }
  auto window = std::chrono::milliseconds(options.window_ms);
  auto next_flush = std::chrono::steady_clock::now() + window;
  while (shutdown == nullptr || !shutdown->requested()) {
    EDDY_RETURN_IF_ERROR(shards.OpenNewShards());
    EDDY_RETURN_IF_ERROR(shards.Drain(add));
    if (std::chrono::steady_clock::now() >= next_flush) {
      print(state.TakeChanged());
      next_flush = std::chrono::steady_clock::now() + window;
    }
    shards.WaitForData(std::min(next_flush, std::chrono::steady_clock::now() +
                                                std::chrono::milliseconds(200)));
  }
  EDDY_RETURN_IF_ERROR(shards.Drain(add));
  print(state.TakeChanged());
  return stats;
}

}  // namespace eddy::app
