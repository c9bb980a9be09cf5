// Fuzz target: any bytes read back from a warehouse as table metadata (metadata.json) or as a
// manifest list or a manifest either parse or give a clean error (kCorruption for damage,
// kFailedPrecondition for tables eddy does not write); a parsed metadata file serializes again.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "iceberg/manifest.h"
#include "iceberg/table_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto metadata = eddy::iceberg::ParseTableMetadata(bytes);
  if (metadata.ok()) {
    (void)eddy::iceberg::TableMetadataJson(*metadata);
  } else if (metadata.status().code() != eddy::ErrorCode::kCorruption &&
             metadata.status().code() != eddy::ErrorCode::kFailedPrecondition) {
    std::abort();
  }
  auto list = eddy::iceberg::ReadManifestList(bytes);
  if (!list.ok() && list.status().code() != eddy::ErrorCode::kCorruption &&
      list.status().code() != eddy::ErrorCode::kFailedPrecondition) {
    std::abort();
  }
  auto manifest = eddy::iceberg::ReadManifest(bytes);
  if (!manifest.ok() && manifest.status().code() != eddy::ErrorCode::kCorruption &&
      manifest.status().code() != eddy::ErrorCode::kFailedPrecondition) {
    std::abort();
  }
  return 0;
}
