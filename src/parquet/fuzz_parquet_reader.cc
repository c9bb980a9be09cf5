// Fuzz target: the Parquet reader must read a file or return kCorruption (or
// kFailedPrecondition for what it does not support) for any bytes, never crash, read out of
// bounds or allocate without bound.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parquet/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto reader = eddy::parquet::ParquetReader::Open(bytes);
  auto acceptable = [](const eddy::Status& status) {
    return status.code() == eddy::ErrorCode::kCorruption ||
           status.code() == eddy::ErrorCode::kFailedPrecondition;
  };
  if (!reader.ok()) {
    if (!acceptable(reader.status())) std::abort();
    return 0;
  }
  auto rows = reader->ReadRows();
  if (!rows.ok()) {
    if (!acceptable(rows.status())) std::abort();
    return 0;
  }
  if (rows->size() != reader->row_count()) std::abort();
  return 0;
}
