// `eddy tail`: prints a stream's records as JSON lines on stdout, rendered in the stream's
// format (or --format). Opens the data directory read-only, so it runs beside `eddy run`.
// Without --follow it exits after every durable record; with --follow it keeps printing new
// ones until SIGINT/SIGTERM.
#include <cstdio>

#include "app/commands.h"
#include "app/shutdown.h"
#include "app/stream_follower.h"
#include "log/kinesis.h"

namespace eddy::app {
namespace {

struct TailFlags {
  std::string data_dir;
  std::string stream;
  std::string from = "trim-horizon";
  bool follow = false;
  std::string format;
  std::string view_type;
};

int Fail(const Status& status, int code = kExitFailure) {
  std::fprintf(stderr, "eddy tail: %s\n", status.message().c_str());
  return code;
}

int Tail(const TailFlags& flags) {
  FollowerOptions options;
  options.format = flags.format;
  options.view_type = flags.view_type;
  if (flags.from == "trim-horizon") {
    options.start = log::StartPosition::TrimHorizon();
  } else if (flags.from == "latest") {
    options.start = log::StartPosition::Latest();
  } else {
    auto parsed = log::ParseSequenceNumber(flags.from);
    if (!parsed.ok()) {
      return Fail(InvalidArgument("--from '" + flags.from +
                                  "' is neither trim-horizon, latest nor a sequence number"),
                  kExitUsage);
    }
    options.start = log::StartPosition::AtSequence(parsed->sequence);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  log::LogStoreOptions store_options;
  store_options.read_only = true;
  auto store = log::LogStore::Open(flags.data_dir, store_options);
  if (!store.ok()) return Fail(store.status());
  auto stream = (*store)->GetStream(flags.stream);
  if (!stream.ok()) return Fail(stream.status());
  auto follower = StreamFollower::Create(*stream, options);
  if (!follower.ok()) return Fail(follower.status(), kExitUsage);

  auto print = [](const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  };
  while (true) {
    if (Status status = (*follower)->Poll(print); !status.ok()) return Fail(status);
    std::fflush(stdout);
    if (!flags.follow || shutdown.requested()) break;
    (*follower)->WaitForData(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    if (shutdown.requested()) break;
  }
  return kExitOk;
}

}  // namespace

void RegisterTailCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<TailFlags>();
  auto* command = app.add_subcommand(
      "tail", "Print a stream's records as JSON lines (safe beside a running eddy run)");
  command->add_option("--data-dir", flags->data_dir, "The data directory")->required();
  command->add_option("--stream", flags->stream, "The stream")->required();
  command->add_option("--from", flags->from, "trim-horizon (default), latest, or a sequence number");
  command->add_flag("--follow", flags->follow, "Keep printing new records until interrupted");
  command->add_option("--format", flags->format,
                      "native|debezium|debezium-schema|dms|dynamodb (default: the stream's)");
  command->add_option("--view-type", flags->view_type,
                      "NEW_AND_OLD_IMAGES|NEW_IMAGE|OLD_IMAGE|KEYS_ONLY (default: the stream's)");
  command->callback([&runner, flags] {
    runner = [flags] { return Tail(*flags); };
  });
}

}  // namespace eddy::app
