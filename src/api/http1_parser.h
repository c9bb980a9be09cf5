// A bounds-checked HTTP/1.1 request parser for untrusted bytes.
//
// Parse() looks at the bytes received so far on a connection and either asks for more, returns
// one complete request (and how many bytes it used, so pipelined requests follow), or rejects
// the input with the HTTP status to answer before closing the connection. It is stateless:
// callers pass the whole unconsumed buffer each time, which keeps it simple to reason about;
// the header limit bounds the rescanning cost.
//
// Supported: request line `METHOD SP target SP HTTP/1.x`, header fields, a body framed by
// Content-Length. Not supported (answered 501): Transfer-Encoding (AWS SDKs send
// Content-Length for JSON requests).
//
// Thread safety: stateless functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "api/http.h"

namespace eddy::api {

struct Http1Limits {
  size_t max_header_bytes = 32 * 1024;       // request line + header fields + blank line
  size_t max_header_count = 128;
  size_t max_body_bytes = 12 * 1024 * 1024;  // PutRecords allows 10 MiB of records + base64
};

enum class Http1ParseState { kNeedMore, kComplete, kError };

struct Http1ParseResult {
  Http1ParseState state = Http1ParseState::kNeedMore;
  size_t consumed = 0;        // kComplete: bytes used by the request
  bool headers_complete = false;  // kNeedMore: headers parsed, body still arriving
  bool expect_continue = false;   // the client sent `Expect: 100-continue`
  int error_status = 0;       // kError: 400, 413, 431, 501, 505
  std::string error_message;  // kError: for the log and the response body
};

// Parses one request from the front of `buffer` into `request` (filled only on kComplete).
Http1ParseResult ParseHttp1Request(std::string_view buffer, const Http1Limits& limits,
                                   HttpRequest* request);

// True when the connection stays open after this request (HTTP/1.1 default, `Connection:`).
bool Http1KeepAlive(const HttpRequest& request);

// Serialises a response with Content-Length and the given headers.
std::string SerializeHttp1Response(const HttpResponse& response, bool keep_alive);
// The status line and headers only (up to the blank line), for sending a large body from
// where it is instead of copying it behind the head.
std::string SerializeHttp1ResponseHead(const HttpResponse& response, bool keep_alive);

}  // namespace eddy::api
