// AWS Signature Version 4: parsing of the Authorization header, and the hook where signature
// verification plugs in.
//
// By default eddy parses the header and rejects missing or malformed ones exactly as AWS (and
// kinesalite) do, without verifying the signature: local endpoints are used with dummy
// credentials. A CredentialVerifier in the server options is called with the parsed header
// and the request; MakeStaticCredentialVerifier verifies signatures against configured
// credentials (HTTP/1.1 Host or HTTP/2 :authority, as the JS SDK signs over h2).
//
// Thread safety: stateless functions; a CredentialVerifier must be callable concurrently.
#pragma once

#include <functional>
#include <map>
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

// The payload rule of the Kinesis and DynamoDB Streams APIs (and of eddy's control plane):
// the body is part of what is signed. A client may send its hash in x-amz-content-sha256 (the
// JS SDKs do, S3-style); `UNSIGNED-PAYLOAD` (or a STREAMING-* value) there would leave the
// body out of the signature, so anyone on the path could change it: refused with AWS's
// InvalidSignatureException (400) saying the payload must be signed. With `verify_hash` the
// header, when present, must also be the SHA-256 of the body (the signature covers the
// header's value, so a hash of another body would let that body through); without it (no
// signature is verified) only the literal values are refused, at no hashing cost.
std::optional<ApiError> CheckSignedPayload(const HttpRequest& request, bool verify_hash);

// Optional verification; returns an error (e.g. UnrecognizedClientException,
// InvalidSignatureException) to reject the request.
using CredentialVerifier =
    std::function<std::optional<ApiError>(const SigV4Authorization&, const HttpRequest&)>;

// Verifies signatures against a fixed set of credentials (access key id -> secret key):
// rebuilds the canonical request (method, path, sorted query, the signed headers — `host`
// taken from HTTP/2's :authority when there is no Host header — and the SHA-256 of the body),
// derives the signing key from the credential scope and compares in constant time. Unknown
// access keys answer UnrecognizedClientException, mismatches InvalidSignatureException; an
// unsigned payload or one whose x-amz-content-sha256 is not the body's hash is refused first
// (CheckSignedPayload with verify_hash).
CredentialVerifier MakeStaticCredentialVerifier(std::map<std::string, std::string> secrets);

// Hex SHA-256 and the SigV4 signature, exposed for tests; the algorithm is aws/sigv4.h's.
std::string Sha256Hex(std::string_view bytes);
std::string SigV4Signature(std::string_view secret, const SigV4Authorization& scope,
                           std::string_view amz_date, std::string_view canonical_request);
// The canonical request for `request` as signed with `signed_headers`.
std::string SigV4CanonicalRequest(const HttpRequest& request,
                                  const std::vector<std::string>& signed_headers);

}  // namespace eddy::api
