// `eddy tail --dedupe`: reads a CDC stream, reassembles chunked records, and prints the
// latest image per primary key (last writer wins by commit ts_ns, then log order; see
// app/dedupe.h and docs/formats/consumers.md).
//
//   - without --follow: reads every record durable now, then prints one line per live key,
//     ordered by the (commit time, sequence number) of its winning change; deleted keys are
//     not printed;
//   - with --follow: every window, prints one line per key (or truncated table) that changed
//     during the window: the winning change's record (a delete record when the key was
//     removed, the truncate record for a truncated table).
// Lines are the winning change rendered in the stream's format and view type (or --format /
// --view-type); formats without a record for it (dynamodb and truncates) print nothing.
// A summary goes to stderr at the end.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "app/shutdown.h"
#include "base/status.h"
#include "log/log_store.h"

namespace eddy::app {

struct DedupeTailOptions {
  std::string format;     // empty: the stream's
  std::string view_type;  // empty: the stream's
  log::StartPosition start = log::StartPosition::TrimHorizon();
  bool follow = false;
  int64_t window_ms = 1000;  // --follow: how often changed keys are printed
};

struct DedupeTailStats {
  uint64_t records = 0;  // change records read (after reassembly)
  uint64_t applied = 0;
  uint64_t stale = 0;    // duplicates and changes superseded by a newer one
  uint64_t keyless = 0;  // row changes of tables without a key (not printed)
  uint64_t ignored = 0;  // schema changes, messages, BEGIN/END, heartbeats
  uint64_t printed = 0;
};

// Runs until done (no --follow) or until `shutdown` is requested. Writes lines to `out`.
Result<DedupeTailStats> RunDedupeTail(std::shared_ptr<log::Stream> stream,
                                      const DedupeTailOptions& options,
                                      const ShutdownSignal* shutdown, std::FILE* out);

}  // namespace eddy::app
