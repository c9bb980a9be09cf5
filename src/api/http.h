// HTTP request/response values shared by the HTTP/1.1 and HTTP/2 front ends and the API
// handlers. Header names are stored lowercase (HTTP/2 requires it; HTTP/1.1 is
// case-insensitive), so lookups use lowercase names.
//
// Thread safety: plain values.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::api {

struct HttpRequest {
  std::string method;
  std::string target;  // request-target (HTTP/1.1) or :path (HTTP/2)
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase
  std::string body;
  std::string authority;  // HTTP/2 :authority (HTTP/1.1 carries Host as a header)
  int http_major = 1;  // 1 or 2
  int http_minor = 1;

  // First header named `lowercase_name`, or nullptr.
  const std::string* Header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return &value;
    }
    return nullptr;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase
  std::string body;
};

// Called once per complete request, on the connection's thread; must not throw.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

// The reason phrase for the status codes the server produces.
std::string_view HttpReasonPhrase(int status);

}  // namespace eddy::api
