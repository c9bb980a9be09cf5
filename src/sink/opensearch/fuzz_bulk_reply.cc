// Fuzz target: any bytes as an OpenSearch server's reply (a _bulk reply, an error body) parse
// into item results or give a clean error, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sink/opensearch/bulk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t expected : {size_t{0}, size_t{1}, size_t{3}}) {
    auto items = eddy::sink::opensearch::ParseBulkResponse(text, expected);
    if (items.ok() && items->size() != expected) std::abort();
    if (!items.ok() && items.status().code() != eddy::ErrorCode::kCorruption) std::abort();
    if (items.ok()) {
      for (const auto& item : *items) {
        if (item.status < 100 || item.status > 599) std::abort();
        eddy::sink::opensearch::ClassifyItem(eddy::sink::opensearch::ActionKind::kIndex, item);
      }
    }
  }
  for (int status : {400, 401, 429, 500}) {
    eddy::Status error =
        eddy::sink::opensearch::ErrorFromReply("_bulk", status, text, "http://h:9200");
    if (error.ok() || error.message().empty()) std::abort();
  }
  return 0;
}
