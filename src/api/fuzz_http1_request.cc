// Fuzz target: the HTTP/1.1 request parser on arbitrary bytes, including pipelined requests.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http1_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  eddy::api::Http1Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 65536;
  limits.max_header_count = 32;
  // Parse requests one after another as the connection loop does.
  for (int i = 0; i < 16 && !input.empty(); ++i) {
    eddy::api::HttpRequest request;
    auto result = eddy::api::ParseHttp1Request(input, limits, &request);
    if (result.state != eddy::api::Http1ParseState::kComplete) break;
    if (result.consumed == 0 || result.consumed > input.size()) __builtin_trap();
    (void)eddy::api::Http1KeepAlive(request);
    input.remove_prefix(result.consumed);
  }
  return 0;
}
