// `eddy status --data-dir DIR`: what a running (or the last) `eddy run` on DIR reports about
// its captures (state, positions, counts, snapshot progress) and sinks, each stream's shards
// and durable position, read from the log without disturbing the writer, and each sink's saved
// state (state, reason, lag in records and seconds, last delivered position).
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "base/clock.h"
#include "consume/checkpoint_store.h"
#include "consume/sink_runner.h"
#include "consume/stream_reader.h"
#include "log/log_store.h"

namespace eddy::app {
namespace {

// Each sink's saved state, with its lag measured from the log (records after its checkpoint,
// age of the oldest). Reading records needs a full view of the log, opened only when there are
// sinks (the stream lines above come from a describe-only view, which stays cheap however
// large the active segments are: `eddy status` is polled while a capture writes).
void PrintSinks(const std::string& data_dir) {
  auto checkpoints = consume::CheckpointStore::Open(data_dir);
  if (!checkpoints.ok()) {
    std::cout << "sinks: " << checkpoints.status().message() << "\n";
    return;
  }
  auto states = (*checkpoints)->List();
  if (!states.ok()) {
    std::cout << "sinks: " << states.status().message() << "\n";
    return;
  }
  if (states->empty()) return;
  log::LogStoreOptions options;
  options.read_only = true;
  auto opened = log::LogStore::Open(data_dir, options);
  if (!opened.ok()) {
    std::cout << "sinks: " << opened.status().message() << "\n";
    return;
  }
  log::LogStore& store = **opened;
  for (const auto& state : *states) {
    std::cout << "sink " << state.name << ": stream=" << state.stream
              << " state=" << consume::SinkStateName(state.state);
    auto stream = store.GetStream(state.stream);
    if (stream.ok()) {
      auto reader = consume::StreamReader::Open(*stream, {}, state.checkpoint);
      if (reader.ok()) {
        consume::StreamReader::Backlog backlog = (*reader)->backlog();
        double seconds =
            backlog.oldest_arrival_nanos == 0
                ? 0.0
                : (SystemClock::Instance().NowNanos() - backlog.oldest_arrival_nanos) / 1e9;
        std::cout << " lag_records=" << backlog.records << " lag_seconds=" << seconds;
      } else {
        std::cout << " lag=unknown (" << reader.status().message() << ")";
      }
    }
    std::cout << " delivered_records=" << state.delivered_records
              << " failed_records=" << state.failed_records << " last_delivered_position="
              << (state.last_delivered_position.empty() ? std::string("-")
                                                        : state.last_delivered_position.ToString());
    if (!state.reason.empty()) std::cout << "\n  reason: " << state.reason;
    std::cout << "\n";
  }
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, CommandRunner& runner) {
  auto data_dir = std::make_shared<std::string>();
  auto* command = app.add_subcommand(
      "status", "Show capture progress and stream positions of a data directory");
  command->add_option("--data-dir", *data_dir, "The data directory")->required();
  command->callback([&runner, data_dir] {
    runner = [data_dir] {
      std::ifstream status_file(*data_dir + "/status");
      if (status_file) {
        std::cout << "capture (from eddy run):\n";
        for (std::string line; std::getline(status_file, line);) std::cout << "  " << line << "\n";
      } else {
        std::cout << "capture: no status file (eddy run has not run on this directory)\n";
      }
      log::LogStoreOptions options;
      options.read_only = true;
      options.describe_only = true;
      auto store = log::LogStore::Open(*data_dir, options);
      if (!store.ok()) {
        std::cerr << "eddy status: " << store.status().message() << "\n";
        return kExitFailure;
      }
      for (const auto& name : (*store)->ListStreams()) {
        auto stream = (*store)->GetStream(name);
        if (!stream.ok()) continue;
        log::StreamInfo info = (*stream)->Describe();
        size_t open_shards = 0;
        uint64_t bytes = 0;
        uint64_t last_sequence = 0;
        for (const auto& shard : info.shards) {
          open_shards += shard.open ? 1 : 0;
          bytes += shard.bytes;
          last_sequence = std::max(last_sequence, shard.last_sequence.value());
        }
        std::cout << "stream " << name << ": open_shards=" << open_shards
                  << " shards=" << info.shards.size() << " last_sequence=" << last_sequence
                  << " bytes=" << bytes << " durable_position=" << info.highest_position.ToString()
                  << "\n";
      }
      PrintSinks(*data_dir);
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
