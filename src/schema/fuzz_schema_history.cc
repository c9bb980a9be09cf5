// Fuzz target: ScanSchemaHistory must return a scan or an error for any bytes, never crash.
// The input is also scanned behind a valid magic, and as one entry with a correct CRC (so that
// mutations reach the table schema decoder). Every schema that decodes must survive a
// re-encode/scan round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/crc32c.h"
#include "schema/schema_history_format.h"

namespace {

void Check(std::string_view bytes) {
  auto scan = eddy::schema::ScanSchemaHistory(bytes);
  if (!scan.ok()) {
    if (scan.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    return;
  }
  if (scan->valid_bytes > bytes.size()) std::abort();
  std::string again(eddy::schema::kSchemaHistoryMagic);
  for (const auto& schema : scan->schemas) again += eddy::schema::EncodeSchemaEntry(schema);
  auto rescan = eddy::schema::ScanSchemaHistory(again);
  if (!rescan.ok() || !rescan->problem.empty() || rescan->schemas != scan->schemas) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Check(bytes);
  std::string with_magic(eddy::schema::kSchemaHistoryMagic);
  with_magic += bytes;
  Check(with_magic);
  std::string payload(1, static_cast<char>(eddy::schema::kSchemaEntryVersion));
  payload += bytes;
  std::string framed(eddy::schema::kSchemaHistoryMagic);
  eddy::PutFixed32(framed, static_cast<uint32_t>(payload.size()));
  eddy::PutFixed32(framed, eddy::crc32c::Mask(eddy::crc32c::Value(payload)));
  framed += payload;
  Check(framed);
  return 0;
}
