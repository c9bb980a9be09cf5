// Fuzz target: DecodeEvent must return a value or Corruption for any bytes, never crash; an
// event that decodes must survive a re-encode/decode round trip unchanged. (Byte equality is
// not required: an over-long varint decodes to the same number as the short form.)
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "model/event_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  eddy::Result<eddy::model::ChangeEvent> event = eddy::model::DecodeEvent(bytes);
  if (!event.ok()) {
    if (event.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    return 0;
  }
  auto again = eddy::model::DecodeEvent(eddy::model::EncodeEvent(*event));
  if (!again.ok() || !(*again == *event)) std::abort();
  (void)event->PartitionKey();
  (void)event->DebugString();
  return 0;
}
