// Fuzz target: any bytes as an admin request body (POST /admin/v1/sinks, /sources, /streams,
// .../reset, /streams/{name}/snapshots) and as a request path, and as a DATA/runtime-sinks file,
// either parse or give a clean error; nothing crashes. The bodies come from the network.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/admin_request.h"
#include "engine/debezium_config.h"
#include "engine/runtime_sinks.h"
#include "source/snapshot_signal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  eddy::consume::SinkSpec spec;
  if (auto error = eddy::engine::ParseCreateSinkBody(text, &spec)) {
    if (error->http_status != 400 || error->message.empty()) std::abort();
  } else if (spec.name.empty() || spec.url.empty()) {
    std::abort();
  }
  eddy::log::StartPosition to;
  if (auto error = eddy::engine::ParseResetBody(text, &to)) {
    if (error->http_status != 400) std::abort();
  }
  eddy::engine::SourceConfig source;
  if (auto error = eddy::engine::ParseCreateSourceBody(text, &source)) {
    if (error->http_status != 400 || error->message.empty()) std::abort();
  }
  eddy::engine::StreamConfig stream;
  if (auto error = eddy::engine::ParseCreateStreamBody(text, &stream)) {
    if (error->http_status != 400 || error->message.empty()) std::abort();
  }
  // POST /admin/v1/streams/{name}/snapshots: parsed into a request the signal parser accepts.
  eddy::engine::SnapshotRequestBody snapshot;
  if (auto error = eddy::engine::ParseSnapshotRequestBody(text, &snapshot)) {
    if (error->http_status != 400 || error->message.empty()) std::abort();
  } else if (snapshot.tables.empty() ||
             !eddy::source::ParseSnapshotSignal("fuzz", "execute-snapshot", snapshot.data).ok()) {
    std::abort();
  }
  // A Kafka Connect connector body (POST /connectors): mapped or a clean error.
  auto connector = eddy::engine::MapDebeziumConnector(text, "fuzz", "", false);
  if (!connector.ok() && connector.status().code() != eddy::ErrorCode::kInvalidArgument) {
    std::abort();
  }
  eddy::engine::AdminRoute route;
  (void)eddy::engine::ParseAdminRoute("POST", text, &route);
  auto sinks = eddy::engine::DecodeRuntimeSinks(text, "fuzz");
  if (!sinks.ok() && sinks.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  return 0;
}
