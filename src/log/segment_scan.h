// Sequential frame scanning over a segment file, shared by recovery, readers and tools.
// Thread safety: stateless; the File must support concurrent ReadAt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "io/file_system.h"
#include "log/segment_format.h"

namespace eddy::log {

struct ScanOutcome {
  uint64_t stop_offset = 0;  // offset after the last frame visited (or where a stop was asked)
  uint64_t frames = 0;
  // Why the scan ended before `end`: kIncomplete (a torn frame) or kCorrupt; kOk otherwise.
  FrameStatus status = FrameStatus::kOk;
  std::string error;
};

// Visits frames in [start, end) of `file`. `visit(record, offset, frame_size)` returns false to
// stop before the frame (stop_offset = its offset). With decode = false records are not
// decoded (only CRC-checked) and `record` is empty.
Result<ScanOutcome> ScanFrames(const io::File& file, uint64_t start, uint64_t end, bool decode,
                               const std::function<bool(Record&, uint64_t, size_t)>& visit);

}  // namespace eddy::log
