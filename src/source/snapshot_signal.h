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

#include <string>
#include <string_view>

#include "base/status.h"
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

}  // namespace eddy::source
