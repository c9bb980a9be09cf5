// AWS Signature Version 4: the one implementation of the signing algorithm, shared by the
// stream API's signature verification (api/sigv4.h) and the outbound clients' request signing
// (aws/request_signer.h: S3, Kinesis).
//
// The steps, as AWS specifies them:
//   1. canonical request: method, canonical URI, canonical query, canonical headers, signed
//      header names, payload hash (CanonicalRequest);
//   2. string to sign: algorithm, X-Amz-Date, credential scope, SHA-256 of step 1
//      (StringToSign);
//   3. signing key: HMAC chain over "AWS4"+secret, date, region, service, "aws4_request"
//      (SigningKey);
//   4. signature: lowercase hex HMAC-SHA256 of step 2 under step 3's key (Signature).
//
// URI rules: the canonical URI is the request path with every byte outside A-Z a-z 0-9 - _ . ~
// and '/' percent-encoded once (existing %XX escapes are decoded first, so a path given
// encoded or raw gives the same result). This is S3's rule (no double encoding) and matches
// every other service whose paths hold only unreserved characters (Kinesis, DynamoDB: "/").
// The canonical query sorts the parameters by encoded name, then value, each encoded once.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::aws {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
// The payload hash value that leaves the body out of the signature (S3 over TLS).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Header lists as HTTP carries them; names in any case (matched case-insensitively).
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// `text` with ASCII letters lowercased (header names, URL scheme and host).
std::string AsciiLower(std::string_view text);

// Lowercase hex SHA-256 of `bytes` (the payload hash of a signed body).
std::string Sha256Hex(std::string_view bytes);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);

// Percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ (and '/' when `keep_slash`), upper
// case hex, as SigV4 requires.
std::string UriEncode(std::string_view text, bool keep_slash);
// Decodes %XX escapes (a malformed escape is kept literally); '+' stays '+'.
std::string UriDecode(std::string_view text);

// The canonical URI of a request path ("" becomes "/").
std::string CanonicalUri(std::string_view path);
// The canonical query string of a raw query (without '?').
std::string CanonicalQuery(std::string_view query);
// A header value trimmed, with runs of spaces collapsed to one.
std::string CanonicalHeaderValue(std::string_view value);

struct CanonicalRequestParts {
  std::string_view method;
  std::string_view path;   // as sent (percent-encoded or not)
  std::string_view query;  // as sent, without '?'
  const HeaderList* headers = nullptr;
  // Lowercase names, sorted, each present in `headers` (several headers of one name are
  // joined with ',' in their order).
  const std::vector<std::string>* signed_headers = nullptr;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string_view payload_hash;
};
std::string CanonicalRequest(const CanonicalRequestParts& parts);

// "yyyymmdd/region/service/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);
// `amz_date` is the X-Amz-Date value (yyyymmddTHHMMSSZ).
std::string StringToSign(std::string_view amz_date, std::string_view credential_scope,
                         std::string_view canonical_request);
// Raw 32-byte key; `date` is yyyymmdd.
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);
// Lowercase hex.
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

}  // namespace eddy::aws
