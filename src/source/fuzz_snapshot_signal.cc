// Fuzz target: a snapshot signal's data (a signal table row or a request file, untrusted) gives
// a signal or InvalidArgument, never a crash. The first byte picks the signal type. The same
// bytes as a watermark row's data parse to a watermark that formats back to itself, or to none.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "source/snapshot_signal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"execute-snapshot", "stop-snapshot", "pause-snapshot",
                                 "resume-snapshot",  "log",           "bogus"};
  std::string_view type = kTypes[data[0] % 6];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  // A watermark table row's data (anyone who can write the table can write it).
  auto watermark = eddy::source::ParseWatermark(bytes);
  if (watermark.has_value() &&
      eddy::source::ParseWatermark(eddy::source::FormatWatermark(*watermark)) != watermark) {
    std::abort();
  }
  auto signal = eddy::source::ParseSnapshotSignal("signal:fuzz", type, bytes);
  if (!signal.ok() && signal.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
  return 0;
}
