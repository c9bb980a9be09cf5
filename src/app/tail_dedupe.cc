#include "app/tail_dedupe.h"

#include <chrono>

#include "app/dedupe.h"
#include "app/stream_follower.h"
#include "format/renderer.h"
#include "log/kinesis.h"
#include "model/event_codec.h"

namespace eddy::app {

Result<DedupeTailStats> RunDedupeTail(std::shared_ptr<log::Stream> stream,
                                      const DedupeTailOptions& options,
                                      const ShutdownSignal* shutdown, std::FILE* out) {
  FollowerOptions follower_options;
  follower_options.format = options.format;
  follower_options.view_type = options.view_type;
  follower_options.start = options.start;
  const std::string stream_name = stream->name();
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<StreamFollower> follower,
                        StreamFollower::Create(std::move(stream), follower_options));
  if (!follower->cdc()) {
    return InvalidArgument("--dedupe needs a CDC stream (written by eddy run); '" + stream_name +
                           "' holds plain Kinesis records without keys");
  }
  const format::Renderer& renderer = *follower->renderer();
  const format::ViewType view = follower->view_type();

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
      std::string line = renderer.Render(entry->event, view, context);
      if (line.empty()) continue;
      std::fwrite(line.data(), 1, line.size(), out);
      std::fputc('\n', out);
      ++stats.printed;
    }
    std::fflush(out);
  };

  if (!options.follow) {
    EDDY_RETURN_IF_ERROR(follower->PollRecords(add));
    print(state.Live());
    return stats;
  }
  auto window = std::chrono::milliseconds(options.window_ms);
  auto next_flush = std::chrono::steady_clock::now() + window;
  while (shutdown == nullptr || !shutdown->requested()) {
    EDDY_RETURN_IF_ERROR(follower->PollRecords(add));
    if (std::chrono::steady_clock::now() >= next_flush) {
      print(state.TakeChanged());
      next_flush = std::chrono::steady_clock::now() + window;
    }
    follower->WaitForData(std::min(next_flush, std::chrono::steady_clock::now() +
                                                   std::chrono::milliseconds(200)));
  }
  EDDY_RETURN_IF_ERROR(follower->PollRecords(add));
  print(state.TakeChanged());
  return stats;
}

}  // namespace eddy::app
