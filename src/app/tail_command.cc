// `eddy tail`: prints a stream's records as JSON lines on stdout, rendered in the stream's
// format (or --format). Opens the data directory read-only, so it runs beside `eddy run`.
// Without --follow it exits after every durable record; with --follow it keeps printing new
// ones until SIGINT/SIGTERM. --dedupe prints the latest image per primary key instead
// (app/tail_dedupe.h).
#include <cstdio>

#include "app/commands.h"
#include "app/shutdown.h"
#include "app/stream_follower.h"
#include "app/tail_dedupe.h"
#include "engine/config.h"
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
  bool dedupe = false;
  std::string dedupe_window = "1s";
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
  if (flags.dedupe) {
    DedupeTailOptions dedupe;
    dedupe.format = flags.format;
    dedupe.view_type = flags.view_type;
    dedupe.start = options.start;
    dedupe.follow = flags.follow;
    auto window = engine::ParseDurationMillis(flags.dedupe_window);
    if (!window.ok() || *window <= 0) {
      return Fail(InvalidArgument("--dedupe-window '" + flags.dedupe_window +
                                  "' is not a duration like \"1s\" or \"500ms\""),
                  kExitUsage);
    }
    dedupe.window_ms = *window;
    auto stats = RunDedupeTail(*stream, dedupe, &shutdown, stdout);
    if (!stats.ok()) {
      return Fail(stats.status(), stats.status().code() == ErrorCode::kInvalidArgument
                                      ? kExitUsage
                                      : kExitFailure);
    }
    std::fprintf(stderr,
                 "eddy tail --dedupe: records=%llu applied=%llu stale=%llu keyless=%llu "
                 "ignored=%llu printed=%llu\n",
                 static_cast<unsigned long long>(stats->records),
                 static_cast<unsigned long long>(stats->applied),
                 static_cast<unsigned long long>(stats->stale),
                 static_cast<unsigned long long>(stats->keyless),
                 static_cast<unsigned long long>(stats->ignored),
                 static_cast<unsigned long long>(stats->printed));
    return kExitOk;
  }
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
  command->add_flag("--dedupe", flags->dedupe,
                    "Print the latest image per primary key (last writer wins by commit time, "
                    "then log order); deleted keys are left out");
  command->add_option("--dedupe-window", flags->dedupe_window,
                      "With --dedupe --follow: print the keys changed every DURATION (default 1s)");
  command->callback([&runner, flags] {
    runner = [flags] { return Tail(*flags); };
  });
}

}  // namespace eddy::app
