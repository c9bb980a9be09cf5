#include "log/segment_scan.h"

#include <algorithm>

namespace eddy::log {

Result<ScanOutcome> ScanFrames(const io::File& file, uint64_t start, uint64_t end, bool decode,
                               const std::function<bool(Record&, uint64_t, size_t)>& visit) {
  constexpr size_t kChunk = 1u << 20;
  ScanOutcome outcome;
  outcome.stop_offset = start;
  // Reused across calls on this thread: a fresh 1 MiB buffer per read costs page faults.
  // Scans never nest on one thread (visitors do not scan).
  thread_local std::string buffer_storage;
  std::string_view buffer;  // valid bytes in buffer_storage
  size_t position = 0;      // within buffer
  Record record;
  uint64_t offset = start;
  while (offset < end) {
    size_t available = buffer.size() - position;
    std::string_view view = buffer.substr(position);
    FrameDecode frame = DecodeFrame(view, decode ? &record : nullptr);
    if (frame.status == FrameStatus::kIncomplete) {
      uint64_t remaining_in_file = end - offset;
      if (available >= remaining_in_file) {
        outcome.status = FrameStatus::kIncomplete;
        outcome.error = "torn frame: " + std::to_string(remaining_in_file) +
                        " bytes at the end do not form a whole record";
        break;
      }
      size_t want = static_cast<size_t>(
          std::min<uint64_t>(std::max<size_t>(kChunk, frame.size), remaining_in_file));
      if (buffer_storage.size() < want) buffer_storage.resize(want);
      EDDY_ASSIGN_OR_RETURN(size_t got, file.ReadAt(offset, want, buffer_storage.data()));
      buffer = std::string_view(buffer_storage.data(), got);
      position = 0;
      if (got == 0) {
        outcome.status = FrameStatus::kIncomplete;
        outcome.error = "file ends before the expected end offset " + std::to_string(end);
        break;
      }
      continue;
    }
    if (frame.status == FrameStatus::kCorrupt) {
      if (available < kFrameHeaderBytes || offset + frame.size > end) {
        // Not enough bytes buffered to judge; treated as corrupt anyway (length field read).
      }
      outcome.status = FrameStatus::kCorrupt;
      outcome.error = frame.error;
      break;
    }
    if (offset + frame.size > end) {
      outcome.status = FrameStatus::kIncomplete;
      outcome.error = "frame crosses the end offset " + std::to_string(end);
      break;
    }
    if (!visit(record, offset, frame.size)) {
      outcome.stop_offset = offset;
      return outcome;
    }
    ++outcome.frames;
    offset += frame.size;
    position += frame.size;
    outcome.stop_offset = offset;
  }
  return outcome;
}

}  // namespace eddy::log
