// Debezium's snapshot signals, parsed once at the edge: a row of the signal table (`id`,
// `type`, `data`) or an `eddy snapshot` request file (its `data` JSON). Spec:
// docs/formats/snapshot-signal.md; what the capture does with them: docs/snapshots.md.
//
//   type              data (JSON)
//   execute-snapshot  {"data-collections": ["public.orders", ...],       (required, non-empty)
//                      "type": "incremental",                            (optional; the only one)
//                      "additional-conditions": [{"data-collection": "public.orders",
//                                                 "filter": "status = 'open'"}, ...]}
//   stop-snapshot     {"type": "incremental", "data-collections": [...]}  (optional: all tables)
//   pause-snapshot    ignored
//   resume-snapshot   ignored
//   log               {"message": "..."}                                 (logged)
//
// Errors are InvalidArgument saying what is wrong with the signal (the capture logs them and
// goes on). Table names are kept as written; each source resolves them.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "source/incremental_snapshot.h"

namespace eddy::source {

struct SnapshotSignal {
  enum class Kind : uint8_t { kExecute = 0, kControl = 1, kLog = 2 };
  Kind kind = Kind::kLog;
  SnapshotRequest request;  // kExecute (origin "signal:<id>")
  SnapshotControl control;  // kControl
  std::string message;      // kLog
};

// Request files (`eddy snapshot`): `<capture state dir>/snapshot-requests/<id>.request` holds
// an execute-snapshot `data` JSON. The running capture persists the request in its progress
// file and renames the file to `<id>.accepted` (or writes `<id>.rejected` with the error and
// removes the request); when the incremental snapshot completes, `.accepted` becomes `.done`.
inline constexpr std::string_view kSnapshotRequestDirectory = "snapshot-requests";
inline constexpr std::string_view kRequestSuffix = ".request";
inline constexpr std::string_view kAcceptedSuffix = ".accepted";
inline constexpr std::string_view kRejectedSuffix = ".rejected";
inline constexpr std::string_view kDoneSuffix = ".done";

// `origin` names where the signal came from in logs and the progress file ("signal:<id>",
// "request:<id>").
Result<SnapshotSignal> ParseSnapshotSignal(std::string_view origin, std::string_view type,
                                           std::string_view data);

// The execute-snapshot `data` JSON of an `eddy snapshot` request (or an admin API call):
// `tables` as written, each limited by `where` when it is not empty.
std::string SnapshotRequestData(const std::vector<std::string>& tables, std::string_view where);

// Writes `data` (checked with ParseSnapshotSignal first) as a request file in the capture state
// directory `capture_dir` (DATA/capture/STREAM) and waits, polling the directory, until the
// running capture accepted it (returns the request id) or rejected it (InvalidArgument with the
// capture's reason), at most `timeout`: then the request is withdrawn (Unavailable: no capture
// is running). NotFound when `capture_dir` does not exist (no capture of that stream ever ran).
// Any thread; blocks for up to `timeout`.
Result<std::string> SubmitSnapshotRequest(io::FileSystem* fs, const std::string& capture_dir,
                                          const std::string& data,
                                          std::chrono::milliseconds timeout);

// The request's state from its file's suffix: "pending" (.request), "accepted", "rejected",
// "done", or "" when no file of that id exists.
std::string SnapshotRequestState(io::FileSystem* fs, const std::string& capture_dir,
                                 const std::string& id);

}  // namespace eddy::source
