// The log's metrics probe (base/metrics.h), called from the commit path and retention:
//
//   eddy_log_fsync_duration_seconds                 histogram: each fsync of a segment file
//                                                   or the commit journal on the commit path
//   eddy_log_commit_duration_seconds{stream}        histogram: one durable commit (a group
//                                                   commit or a transaction appended in parts):
//                                                   encoding, writes, fsyncs, commit record
//   eddy_log_appended_records_total{stream}         counter: records made durable (chunks count
//                                                   one each)
//   eddy_log_appended_bytes_total{stream}           counter: their bytes in the segment files
//                                                   (frames: headers, keys and payloads)
//   eddy_log_retention_dropped_segments_total{stream}  counter
//   eddy_log_retention_dropped_bytes_total{stream}     counter
//
// Cost: one call per commit, per fsync and per dropped segment; a stream's metrics are
// resolved through a small map under a mutex (no allocation once a stream has been seen).
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "io/file_system.h"

namespace eddy::log {

// file.Sync(), timed into eddy_log_fsync_duration_seconds (failures too: a slow failing disk
// is what the histogram is for).
[[nodiscard]] Status TimedSync(io::File& file);

// A commit of `records` records and `bytes` segment bytes to `stream` became durable; it
// started at `started`.
void RecordLogCommit(const std::string& stream, uint64_t records, uint64_t bytes,
                     std::chrono::steady_clock::time_point started);

// Retention removed one segment of `bytes` bytes from `stream`.
void RecordRetentionDrop(const std::string& stream, uint64_t bytes);

}  // namespace eddy::log
