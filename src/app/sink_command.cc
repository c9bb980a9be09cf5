// `eddy sink list|pause|resume|reset --data-dir D [--name N] [--to trim-horizon|latest|SEQUENCE]`:
// shows and steers the sinks of a data directory through their consumer states
// (consume::CheckpointStore, DATA/consumers/).
//
// How a request reaches a sink: pause, resume and reset record a ControlRequest in the sink's
// saved state. A running eddy's sink reads its state at least once a second and before each
// checkpoint write, applies the request, and saves its state without it; a stopped eddy
// applies it when the sink next starts. This command waits up to a few seconds to report
// which of the two happened.
#include <chrono>
#include <cstdio>
#include <thread>

#include "app/commands.h"
#include "consume/checkpoint_store.h"
#include "consume/sink_runner.h"
#include "engine/admin_request.h"
#include "io/file_system.h"
#include "log/kinesis.h"

namespace eddy::app {
namespace {

constexpr auto kApplyWait = std::chrono::seconds(3);
constexpr auto kApplyPoll = std::chrono::milliseconds(100);

struct SinkFlags {
  std::string data_dir;
  std::string name;
  std::string to = "trim-horizon";
};

std::string FormatTime(int64_t nanos) {
  if (nanos == 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(nanos / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

int List(const SinkFlags& flags) {
  auto store = consume::CheckpointStore::Open(flags.data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "eddy sink list: %s\n", store.status().message().c_str());
    return kExitFailure;
  }
  auto states = (*store)->List();
  if (!states.ok()) {
    std::fprintf(stderr, "eddy sink list: %s\n", states.status().message().c_str());
    return kExitFailure;
  }
  if (states->empty()) {
    std::printf("no sinks in %s\n", flags.data_dir.c_str());
    return kExitOk;
  }
  for (const auto& state : *states) {
    std::printf(
        "%s stream=%s state=%s since=%s delivered_records=%llu failed_records=%llu "
        "last_delivered_position=%s url=%s",
        state.name.c_str(), state.stream.c_str(),
        std::string(consume::SinkStateName(state.state)).c_str(),
        FormatTime(state.state_since_nanos).c_str(),
        static_cast<unsigned long long>(state.delivered_records),
        static_cast<unsigned long long>(state.failed_records),
        state.last_delivered_position.empty() ? "-"
                                              : state.last_delivered_position.ToString().c_str(),
        state.url.c_str());
    if (state.request != consume::ControlRequest::kNone) std::printf(" request=pending");
    if (!state.holds_retention) std::printf(" holds_retention=false");
    if (!state.reason.empty()) std::printf("\n  reason: %s", state.reason.c_str());
    std::printf("\n");
  }
  return kExitOk;
}

int Request(const SinkFlags& flags, consume::ControlRequest request, const char* verb) {
  log::StartPosition to;
  if (request == consume::ControlRequest::kReset) {
    auto parsed = engine::ParseResetTarget(flags.to);
    if (!parsed.ok()) {
      std::fprintf(stderr, "eddy sink %s: --to %s\n", verb, parsed.status().message().c_str());
      return kExitUsage;
    }
    to = *parsed;
  }
  auto store = consume::CheckpointStore::Open(flags.data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "eddy sink %s: %s\n", verb, store.status().message().c_str());
    return kExitFailure;
  }
  auto state = (*store)->Load(flags.name);
  if (!state.ok()) {
    std::fprintf(stderr, "eddy sink %s: %s%s\n", verb, state.status().message().c_str(),
                 state.status().code() == ErrorCode::kNotFound
                     ? " (`eddy sink list --data-dir DIR` shows the sinks)"
                     : "");
    return kExitFailure;
  }
  // Holding the data directory's lock while recording keeps an eddy from starting halfway;
  // failing to take it means an eddy is running there.
  auto lock = io::DefaultFileSystem()->LockFile(io::JoinPath(flags.data_dir, "LOCK"));
  state->request = request;
  state->reset_to = to;
  if (Status saved = (*store)->Save(*state); !saved.ok()) {
    std::fprintf(stderr, "eddy sink %s: %s\n", verb, saved.message().c_str());
    return kExitFailure;
  }
  if (lock.ok()) {
    std::printf(
        "sink %s: %s recorded; eddy is not running on %s, so it applies when the sink "
        "next starts\n",
        flags.name.c_str(), verb, flags.data_dir.c_str());
    return kExitOk;
  }
  // The running sink adopts a request before each of its own saves, but a save that read the
  // state just before this one was written can still replace it: when the request is gone
  // without its effect showing, it is recorded again (at most twice).
  auto applied = [&](const consume::ConsumerState& current) {
    switch (request) {
      case consume::ControlRequest::kPause:
        return current.state == consume::SinkState::kPaused;
      case consume::ControlRequest::kResume:
        return current.state != consume::SinkState::kPaused;
      default:
        return true;  // a reset leaves no lasting mark; the request was taken
    }
  };
  int reissued = 0;
  auto deadline = std::chrono::steady_clock::now() + kApplyWait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kApplyPoll);
    auto current = (*store)->Load(flags.name);
    if (!current.ok() || current->request != consume::ControlRequest::kNone) continue;
    if (applied(*current)) {
      std::printf("sink %s: %s applied by the running eddy (state %s)\n", flags.name.c_str(), verb,
                  std::string(consume::SinkStateName(current->state)).c_str());
      return kExitOk;
    }
    if (reissued < 2) {
      ++reissued;
      current->request = request;
      current->reset_to = to;
      (*store)->Save(*current).IgnoreError();  // the next round looks again
    }
  }
  std::printf(
      "sink %s: %s recorded; the running eddy has not applied it yet (it does within a "
      "second while the sink runs; `eddy sink list` shows request=pending until then)\n",
      flags.name.c_str(), verb);
  return kExitOk;
}

}  // namespace

void RegisterSinkCommand(CLI::App& app, CommandRunner& runner) {
  auto* sink = app.add_subcommand("sink", "Show and steer the sinks of a data directory");
  sink->require_subcommand(1);

  auto list_flags = std::make_shared<SinkFlags>();
  auto* list = sink->add_subcommand("list", "List the sinks: state, reason, position, counts");
  list->add_option("--data-dir", list_flags->data_dir, "The data directory")->required();
  list->callback([&runner, list_flags] { runner = [list_flags] { return List(*list_flags); }; });

  struct Control {
    const char* name;
    const char* help;
    consume::ControlRequest request;
  };
  for (const Control& control : {
           Control{"pause", "Pause a sink (its checkpoint holds)", consume::ControlRequest::kPause},
           Control{"resume", "Resume a paused or failed sink", consume::ControlRequest::kResume},
           Control{"reset", "Move a sink to trim-horizon, latest or a sequence number",
                   consume::ControlRequest::kReset},
       }) {
    auto flags = std::make_shared<SinkFlags>();
    auto* command = sink->add_subcommand(control.name, control.help);
    command->add_option("--data-dir", flags->data_dir, "The data directory")->required();
    command->add_option("--name", flags->name, "The sink's name")->required();
    if (control.request == consume::ControlRequest::kReset) {
      command->add_option("--to", flags->to, "trim-horizon (default), latest or SEQUENCE");
    }
    const char* verb = control.name;
    consume::ControlRequest request = control.request;
    command->callback([&runner, flags, request, verb] {
      runner = [flags, request, verb] { return Request(*flags, request, verb); };
    });
  }
}

}  // namespace eddy::app
