// Fuzz target: the incremental snapshot progress file decodes to a state (which encodes back
// to the same bytes) or fails with Corruption / FailedPrecondition, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "source/incremental_snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto state = eddy::source::DecodeIncrementalSnapshotState(bytes);
  if (!state.ok()) {
    auto code = state.status().code();
    if (code != eddy::ErrorCode::kCorruption && code != eddy::ErrorCode::kFailedPrecondition) {
      std::abort();
    }
    return 0;
  }
  if (eddy::source::EncodeIncrementalSnapshotState(*state) != bytes) std::abort();
  return 0;
}
