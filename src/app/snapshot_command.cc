// `eddy snapshot --data-dir D --stream S --tables T[,T...] [--where COND] [--wait]
// [--timeout 60s]`: asks the running capture of stream S for an incremental snapshot of the
// tables (docs/snapshots.md). The request is an execute-snapshot `data` JSON written to
// D/capture/S/snapshot-requests/<id>.request (source/snapshot_signal.h); the capture persists it
// and renames it to .accepted (or writes .rejected saying why), and renames it to .done when the
// snapshot completes. This command returns once the request is accepted (exit 0) or rejected
// (exit 1); with --wait, once the snapshot is done. A request no capture took within the timeout
// is withdrawn (exit 1): no `eddy run` serves that stream.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "base/duration.h"
#include "io/file_system.h"
#include "source/snapshot_signal.h"

namespace eddy::app {
namespace {

struct SnapshotFlags {
  std::string data_dir;
  std::string stream;
  std::vector<std::string> tables;
  std::string where;
  bool wait = false;
  std::string timeout = "60s";
};

constexpr auto kPoll = std::chrono::milliseconds(100);

int Run(const SnapshotFlags& flags) {
  auto timeout = ParseDuration(flags.timeout);
  if (!timeout.ok()) {
    std::cerr << "eddy snapshot: --timeout: " << timeout.status().message() << "\n";
    return kExitUsage;
  }
  if (flags.tables.empty()) {
    std::cerr << "eddy snapshot: --tables names no table\n";
    return kExitUsage;
  }
  std::string data = source::SnapshotRequestData(flags.tables, flags.where);
  // Checked here too, so a bad request fails before it is written.
  auto parsed = source::ParseSnapshotSignal("request", "execute-snapshot", data);
  if (!parsed.ok()) {
    std::cerr << "eddy snapshot: " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  io::FileSystem* fs = io::DefaultFileSystem();
  std::string capture_dir = io::JoinPath(io::JoinPath(flags.data_dir, "capture"), flags.stream);
  auto submitted = source::SubmitSnapshotRequest(
      fs, capture_dir, data, std::chrono::duration_cast<std::chrono::milliseconds>(*timeout));
  if (!submitted.ok()) {
    const Status& status = submitted.status();
    if (status.code() == ErrorCode::kNotFound) {
      std::cerr << "eddy snapshot: " << capture_dir << " does not exist: no capture of stream '"
                << flags.stream << "' ran on this data directory (check --data-dir and --stream)\n";
    } else if (status.code() == ErrorCode::kUnavailable) {
      std::cerr << "eddy snapshot: no running capture of stream '" << flags.stream
                << "' took the request within " << flags.timeout << " (is `eddy run` running on "
                << flags.data_dir << "?); the request is withdrawn\n";
    } else {
      std::cerr << "eddy snapshot: " << status.message() << "\n";
    }
    return kExitFailure;
  }
  const std::string& id = *submitted;
  std::cout << "snapshot request " << id << " accepted by the capture of stream " << flags.stream
            << "\n";
  if (!flags.wait) return kExitOk;
  while (source::SnapshotRequestState(fs, capture_dir, id) != "done") {
    std::this_thread::sleep_for(kPoll);
  }
  std::cout << "snapshot request " << id << " done\n";
  return kExitOk;
}

}  // namespace

void RegisterSnapshotCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<SnapshotFlags>();
  auto* command = app.add_subcommand(
      "snapshot", "Ask the running capture for an incremental snapshot of some tables");
  command->add_option("--data-dir", flags->data_dir, "The data directory of `eddy run`")
      ->required();
  command->add_option("--stream", flags->stream, "The stream whose capture takes the snapshot")
      ->required();
  command
      ->add_option("--tables", flags->tables,
                   "Tables to snapshot (schema.table / database.table), comma-separated")
      ->required()
      ->delimiter(',');
  command->add_option("--where", flags->where,
                      "SQL condition limiting the rows read (Debezium's additional-conditions)");
  command->add_flag("--wait", flags->wait, "Return only when the snapshot is done");
  command->add_option("--timeout", flags->timeout,
                      "How long to wait for a capture to accept the request (default 60s)");
  command->callback([&runner, flags] { runner = [flags] { return Run(*flags); }; });
}

}  // namespace eddy::app
