// `eddy status --data-dir DIR`: what a running (or the last) `eddy run` on DIR reports about
// its captures (state, positions, counts, snapshot progress), and each stream's shards and
// durable position, read from the log without disturbing the writer.
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "log/log_store.h"

namespace eddy::app {

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
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
