#include "app/tail_dedupe.h"

#include <chrono>

#include "app/dedupe.h"
#include "app/record_printer.h"
#include "consume/stream_reader.h"
#include "format/renderer.h"
#include "log/kinesis.h"
#include "model/event_codec.h"

namespace eddy::app {

Result<DedupeTailStats> RunDedupeTail(std::shared_ptr<log::Stream> stream,
                                      const DedupeTailOptions& options,
                                      const ShutdownSignal* shutdown, std::FILE* out) {
  EDDY_ASSIGN_OR_RETURN(
      RecordPrinter printer,
      RecordPrinter::Create(stream->Describe(), {options.format, options.view_type}));
  if (!printer.cdc()) {
    return InvalidArgument("--dedupe needs a CDC stream (written by eddy run); '" + stream->name() +
                           "' holds plain Kinesis records without keys");
  }
  consume::StreamReaderOptions reader_options;
  reader_options.start = options.start;
  EDDY_ASSIGN_OR_RETURN(std::unique_ptr<consume::StreamReader> reader,
                        consume::StreamReader::Open(std::move(stream), reader_options));
  const format::Renderer& renderer = *printer.renderer();
  const format::ViewType view = printer.view_type();

  DedupeTailStats stats;
  LastWriterWins state;
  auto add = [&](const consume::ReadRecord& read) -> Status {
    const log::Record& record = read.record;
    std::string sequence =
        log::FormatSequenceNumber(record.sequence, read.shard_index, read.shard_creation_nanos);
    auto event = model::DecodeEvent(record.payload);
    if (!event.ok()) {
      return event.status().WithContext("record " + sequence + " of " +
                                        log::FormatShardId(read.shard_index));
    }
    ++stats.records;
    ChangeOrder order{event->commit_time_ns, record.sequence.value()};
    switch (state.Add(std::move(*event), order, sequence)) {
      case LastWriterWins::Outcome::kApplied:
        ++stats.applied;
        break;
      case LastWriterWins::Outcome::kStale:
        ++stats.stale;
        break;
      case LastWriterWins::Outcome::kKeyless:
        ++stats.keyless;
        break;
      case LastWriterWins::Outcome::kIgnored:
        ++stats.ignored;
        break;
    }
    return Status::Ok();
  };
  // Every record durable now.
  std::vector<consume::ReadRecord> batch;
  auto read_all = [&]() -> Status {
    while (true) {
      batch.clear();
      EDDY_RETURN_IF_ERROR(reader->Next(&batch));
      if (batch.empty()) return Status::Ok();
      for (const auto& read : batch) EDDY_RETURN_IF_ERROR(add(read));
    }
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
    EDDY_RETURN_IF_ERROR(read_all());
    print(state.Live());
    return stats;
  }
  auto window = std::chrono::milliseconds(options.window_ms);
  auto next_flush = std::chrono::steady_clock::now() + window;
  while (shutdown == nullptr || !shutdown->requested()) {
    EDDY_RETURN_IF_ERROR(read_all());
    if (std::chrono::steady_clock::now() >= next_flush) {
      print(state.TakeChanged());
      next_flush = std::chrono::steady_clock::now() + window;
    }
    // A failed wait only means the next read comes sooner (and reports a lasting problem).
    reader
        ->WaitForCommit(
            std::min(next_flush, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)))
        .IgnoreError();
  }
  EDDY_RETURN_IF_ERROR(read_all());
  print(state.TakeChanged());
  return stats;
}

}  // namespace eddy::app
