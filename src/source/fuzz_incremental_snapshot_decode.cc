// Fuzz target: the incremental snapshot progress file decodes to a state (which encodes back
// to the same bytes when they are the current version, and to a current-version file of the
// same state when they are an older one) or fails with Corruption / FailedPrecondition, never a
// crash.
#include <cstdint>
#include <cstdlib>
#include <string>
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
  std::string encoded = eddy::source::EncodeIncrementalSnapshotState(*state);
  if (static_cast<uint8_t>(bytes[8]) == eddy::source::kIncrementalSnapshotVersion) {
    if (encoded != bytes) std::abort();
    return 0;
  }
  auto again = eddy::source::DecodeIncrementalSnapshotState(encoded);
  if (!again.ok() || !(*again == *state)) std::abort();
  return 0;
}
