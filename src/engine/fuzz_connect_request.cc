// Fuzz target: any bytes as a PATCH /connectors/{name}/offsets body, as a shard id and as the
// body of PUT /connector-plugins/{plugin}/config/validate either parse or give a clean error;
// nothing crashes. All come from the network.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/connect_plugins.h"
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
  for (const char* plugin : {"PostgresConnector", "io.debezium.connector.mysql.MySqlConnector"}) {
    auto connector_class = eddy::engine::ResolveConnectPlugin(plugin);
    if (!connector_class) std::abort();
    for (const char* kafka : {"", "127.0.0.1:9092"}) {
      auto validation = eddy::engine::ValidateConnectConfig(plugin, *connector_class, text, kafka);
      if (validation.status == 200 ? validation.body.empty() : validation.message.empty()) {
        std::abort();
      }
    }
  }
  return 0;
}
