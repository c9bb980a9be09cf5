// Fuzz target: the Thrift compact decoder must return a tree or Corruption for any bytes, never
// crash, read out of bounds or allocate without bound.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parquet/thrift_compact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  size_t consumed = 0;
  eddy::Result<eddy::parquet::thrift::Node> node =
      eddy::parquet::thrift::CompactReader::ReadStruct(bytes, &consumed);
  if (!node.ok()) {
    if (node.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    return 0;
  }
  if (consumed > size) std::abort();
  return 0;
}
