// Fuzz target: any bytes read as an Avro object container file (a manifest list read back from
// the object store) either parse or give a clean kCorruption; the records of a parsed file are
// walked with the decoder as a manifest list's longs and strings, which must also fail cleanly.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "avro/avro.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto container = eddy::avro::ReadContainer(bytes);
  if (!container.ok()) {
    if (container.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    return 0;
  }
  eddy::avro::Decoder decoder(container->records);
  while (!decoder.empty()) {
    if (!decoder.String().ok()) break;
    if (!decoder.Long().ok()) break;
    if (!decoder.UnionIndex(2).ok()) break;
  }
  return 0;
}
