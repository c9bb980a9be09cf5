// Fuzz target: a snapshot signal's data (a signal table row or a request file, untrusted) gives
// a signal or InvalidArgument, never a crash. The first byte picks the signal type.
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
  auto signal = eddy::source::ParseSnapshotSignal("signal:fuzz", type, bytes);
  if (!signal.ok() && signal.status().code() != eddy::ErrorCode::kInvalidArgument) std::abort();
  return 0;
}
