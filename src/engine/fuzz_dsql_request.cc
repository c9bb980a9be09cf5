// Fuzz target: any bytes as a DSQL CreateStream body and as a request target (path and
// query) either parse or give a clean DSQL error; nothing crashes. Both come from the network.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/dsql_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  eddy::engine::DsqlCreateRequest create;
  if (auto error = eddy::engine::ParseDsqlCreateBody(text, &create)) {
    if (error->http_status != 400 || error->type != "ValidationException" ||
        error->fields.empty()) {
      std::abort();
    }
    if (eddy::engine::RenderDsqlError(*error).empty()) std::abort();
  } else if (create.stream_name.empty() || create.format != "JSON") {
    std::abort();
  }
  eddy::engine::DsqlRoute route;
  for (std::string_view method : {"GET", "POST", "DELETE"}) {
    if (auto error = eddy::engine::ParseDsqlRoute(method, text, &route)) {
      if (error->type.empty() || error->message.empty()) std::abort();
    }
  }
  return 0;
}
