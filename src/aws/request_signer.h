// Signs outgoing AWS requests with SigV4 (aws/sigv4.h): the piece the S3 and Kinesis clients
// call once per request, just before handing it to net::HttpClient.
//
//   aws::HeaderList headers = {{"content-type", "application/x-amz-json-1.1"},
//                              {"x-amz-target", "Kinesis_20131202.PutRecords"}};
//   aws::SigningInput input{"POST", url, aws::Sha256Hex(body), &credentials, region,
//                           "kinesis", std::chrono::system_clock::now()};
//   Status signed_ok = aws::SignRequest(input, &headers);   // then client->Send(...)
//
// SignRequest adds (replacing any of the same name): `host` (from the URL when absent),
// `x-amz-date`, `x-amz-content-sha256` (unless add_content_sha256 is false; S3 requires it,
// other services accept it), `x-amz-security-token` (when the credentials carry a session
// token) and `authorization`. Every header in the list is signed except user-agent, expect,
// content-length, transfer-encoding and x-amzn-trace-id (which proxies and the HTTP layer may
// change); send the headers exactly as returned.
//
// Thread safety: pure function; the credentials are read only.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "base/status.h"

namespace eddy::aws {

struct SigningInput {
  std::string_view method;        // "GET", "PUT", "POST"
  std::string_view url;           // http(s)://host[:port]/path?query, as it will be sent
  std::string_view payload_hash;  // Sha256Hex(body) or kUnsignedPayload
  const Credentials* credentials = nullptr;
  std::string_view region;
  std::string_view service;  // "s3", "kinesis"
  std::chrono::system_clock::time_point time;
  bool add_content_sha256 = true;
};

// The parts of a URL that signing reads. `host` is the Host header value: the authority
// without a default port (80 for http, 443 for https) and without user info.
struct UrlParts {
  std::string scheme;
  std::string host;
  std::string path;   // "/" when empty
  std::string query;  // without '?'
};
// kInvalidArgument for a URL that is not http(s)://host...
Result<UrlParts> SplitUrl(std::string_view url);

// "yyyymmddTHHMMSSZ" (UTC).
std::string AmzDate(std::chrono::system_clock::time_point time);

// Adds the signing headers to `headers` (see above). kInvalidArgument for a bad URL, missing
// credentials, an empty region or service.
Status SignRequest(const SigningInput& input, HeaderList* headers);

}  // namespace eddy::aws
