// AWS Signature Version 4: parsing of the Authorization header, and the hook where signature
// verification plugs in.
//
// Today eddy parses the header and rejects missing or malformed ones exactly as AWS (and
// kinesalite) do, but does not verify the signature: local endpoints are used with dummy
// credentials, and the JS SDK over HTTP/2 signs the `:authority` pseudo-header, which a
// verifier must reconstruct from the HTTP/2 request. A CredentialVerifier set in the server
// options is called with the parsed header and the request; that is where verification
// against configured credentials goes.
//
// Thread safety: stateless functions; a CredentialVerifier must be callable concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "api/http.h"

namespace eddy::api {

struct SigV4Authorization {
  std::string access_key_id;
  std::string date;     // yyyymmdd from the credential scope
  std::string region;   // e.g. us-east-1
  std::string service;  // kinesis, dynamodb
  std::vector<std::string> signed_headers;
  std::string signature;  // lowercase hex
};

// Parses and checks the request's authentication. Returns the parsed header, or the AWS error:
// MissingAuthenticationTokenException (no Authorization header and no X-Amz-Algorithm query
// parameter), IncompleteSignatureException (a required part is missing or malformed, or no
// X-Amz-Date/Date header), InvalidSignatureException (both header and query authentication).
// Query-string (presigned) authentication is not supported and answers
// MissingAuthenticationTokenException's sibling IncompleteSignatureException.
struct SigV4Outcome {
  std::optional<SigV4Authorization> authorization;
  std::optional<ApiError> error;
};
SigV4Outcome ParseSigV4(const HttpRequest& request);

// Optional verification; returns an error (e.g. UnrecognizedClientException,
// InvalidSignatureException) to reject the request.
using CredentialVerifier =
    std::function<std::optional<ApiError>(const SigV4Authorization&, const HttpRequest&)>;

}  // namespace eddy::api
