// Fuzz target: any bytes as a PATCH /connectors/{name}/offsets body and as a shard id either
// parse or give a clean error; nothing crashes. Both come from the network.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/connect_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* sink : {"shipping", ""}) {
    auto parsed = eddy::engine::ParseConnectOffsets(text, "shipping", sink);
    if (!parsed.ok()) {
      if (parsed.status().code() != eddy::ErrorCode::kInvalidArgument ||
          parsed.status().message().empty()) {
        std::abort();
      }
    } else if (std::string(sink).empty() && !parsed->empty()) {
      std::abort();  // a connector without a sink has no settable partition
    }
  }
  if (auto shard = eddy::engine::ParseConnectShardId(text)) {
    if (eddy::engine::ConnectShardId(*shard) != text) std::abort();
  }
  return 0;
}
