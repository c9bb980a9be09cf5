// HttpClient: the one HTTP client of eddy's outbound protocols (webhooks, S3, Kinesis,
// OpenSearch), on Debian's libcurl.
//
// One client owns one CURL easy handle, so consecutive requests to the same host reuse the
// connection (HTTP/1.1 keep-alive; TLS sessions resumed). Redirects are not followed: a 3xx is
// returned as it is and the caller decides.
//
// Errors, mapped where they are produced so Status::IsRetriable is the only classifier:
//   connection refused, reset, DNS failure, peer closed mid-reply  -> kUnavailable (retriable)
//   connect or request timeout                                     -> kTimeout (retriable)
//   TLS certificate verification failed, unreadable CA             -> kFailedPrecondition,
//                                                                     the message says the fix
//   malformed URL, unsupported scheme, bad header                  -> kInvalidArgument
//   reply larger than max_response_bytes                           -> kResourceExhausted
//   cancelled through HttpClientOptions::cancel                    -> kAborted
// An HTTP reply of any status is a value (HttpResponse), not an error.
//
// TLS: the peer's certificate and host name are always verified; `ca_pem` (bytes of a PEM
// bundle, read by the caller through io::FileSystem) replaces the system's CA store.
//
// Thread safety: a client is used by one thread at a time (callers that deliver concurrently
// keep one client per thread, or a pool). `cancel` may be set from any thread.
// Lifetime: curl_global_init runs once per process, on the first Create.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace eddy::net {

struct HttpClientOptions {
  // Whole request (connect, send, wait, receive).
  std::chrono::milliseconds request_timeout{30'000};
  // TCP connect plus TLS handshake.
  std::chrono::milliseconds connect_timeout{10'000};
  // PEM CA bundle that replaces the system store for https:// (empty: the system store).
  std::string ca_pem;
  std::string user_agent = "eddy";
  // Replies with bodies above this are cut off with kResourceExhausted.
  size_t max_response_bytes = 16u << 20;
  // When set to true (from any thread), a running request stops with kAborted at libcurl's
  // next progress check (about once a second while idle), and later requests fail at once.
  // Not owned; must outlive the client.
  const std::atomic<bool>* cancel = nullptr;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lowercase, in arrival order (of the final response)
  std::string body;
  // Connections opened for this request: 0 when an open one was reused.
  long new_connections = 0;

  // The first header named `lowercase_name`, or nullptr.
  const std::string* Header(std::string_view lowercase_name) const;
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request. `url` is http:// or https://; `headers` are sent as given (a Content-Type
  // for bodies is the caller's). The body is sent with Content-Length.
  Result<HttpResponse> Send(std::string_view method, std::string_view url,
                            const HttpHeaders& headers, std::string_view body);

  Result<HttpResponse> Post(std::string_view url, const HttpHeaders& headers,
                            std::string_view body) {
    return Send("POST", url, headers, body);
  }
  Result<HttpResponse> Put(std::string_view url, const HttpHeaders& headers,
                           std::string_view body) {
    return Send("PUT", url, headers, body);
  }
  Result<HttpResponse> Get(std::string_view url, const HttpHeaders& headers = {}) {
    return Send("GET", url, headers, {});
  }

  // Connects to the URL's host and port (and completes the TLS handshake, verifying the
  // certificate, for https) without sending a request: a start-up check that an endpoint is
  // reachable. Errors as for Send. The connection is not reused for requests.
  Status CheckConnection(std::string_view url);

  const HttpClientOptions& options() const { return options_; }

 private:
  explicit HttpClient(HttpClientOptions options) : options_(std::move(options)) {}
  // Resets the handle and sets the options every transfer shares.
  void Prepare(const std::string& url, char* error_buffer, void* transfer);

  HttpClientOptions options_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace eddy::net
