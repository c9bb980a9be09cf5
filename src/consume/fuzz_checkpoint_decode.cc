// Fuzz target: DecodeConsumerState and DecodeCheckpoint must return a value or an error for any
// bytes, never crash. The input is also decoded with a correct CRC put in its last four bytes,
// so that mutations reach the fields behind the CRC check. A state or checkpoint that decodes
// must survive a re-encode/decode round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "consume/checkpoint_format.h"

namespace {

void CheckState(std::string_view bytes) {
  auto state = eddy::consume::DecodeConsumerState(bytes);
  if (!state.ok()) {
    auto code = state.status().code();
    if (code != eddy::ErrorCode::kCorruption && code != eddy::ErrorCode::kFailedPrecondition) {
      std::abort();
    }
    return;
  }
  std::string encoded = eddy::consume::EncodeConsumerState(*state);
  auto again = eddy::consume::DecodeConsumerState(encoded);
  if (!again.ok() || eddy::consume::EncodeConsumerState(*again) != encoded) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckState(bytes);
  if (bytes.size() >= 4) {
    std::string framed(bytes.substr(0, bytes.size() - 4));
    eddy::PutFixed32(framed, eddy::crc32c::Mask(eddy::crc32c::Value(framed)));
    CheckState(framed);
  }
  auto checkpoint = eddy::consume::DecodeCheckpoint(bytes);
  if (checkpoint.ok()) {
    auto again = eddy::consume::DecodeCheckpoint(eddy::consume::EncodeCheckpoint(*checkpoint));
    if (!again.ok() || !(*again == *checkpoint)) std::abort();
  } else if (checkpoint.status().code() != eddy::ErrorCode::kCorruption) {
    std::abort();
  }
  return 0;
}
