// `eddy log verify` and `eddy log dump`: operator tools over a data directory, safe to run
// next to a running `eddy run` (they open it read-only).
#include <iostream>

#include "app/commands.h"
#include "log/tools.h"

namespace eddy::app {

void RegisterLogCommand(CLI::App& app, CommandRunner& runner) {
  auto* command = app.add_subcommand("log", "Inspect a change-log data directory");
  command->require_subcommand(1);

  auto data_dir = std::make_shared<std::string>();
  auto* verify = command->add_subcommand(
      "verify", "Check every stream, shard and segment (framing, CRCs, order, indexes); exit 1 "
                "when anything is corrupt");
  verify->add_option("--data-dir", *data_dir, "The data directory")->required();
  verify->callback([&runner, data_dir] {
    runner = [data_dir] {
      Status status = log::VerifyDataDirectory(*data_dir, std::cout);
      if (!status.ok()) {
        std::cerr << "eddy log verify: " << status.message() << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });

  auto dump_options = std::make_shared<log::DumpOptions>();
  auto dump_dir = std::make_shared<std::string>();
  auto* dump = command->add_subcommand(
      "dump", "Print streams, shards (lineage, hash ranges, sequence ranges) and records");
  dump->add_option("--data-dir", *dump_dir, "The data directory")->required();
  dump->add_option("--stream", dump_options->stream, "Only this stream");
  dump->add_option("--shard", dump_options->shard_index, "Only this shard index");
  dump->add_flag("--payloads", dump_options->payloads, "Print payloads (escaped, first 200 bytes)");
  dump->add_option("--max-records", dump_options->max_records, "At most this many records per shard");
  dump->callback([&runner, dump_dir, dump_options] {
    runner = [dump_dir, dump_options] {
      Status status = log::DumpDataDirectory(*dump_dir, *dump_options, std::cout);
      if (!status.ok()) {
        std::cerr << "eddy log dump: " << status.message() << "\n";
        return kExitFailure;
      }
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
