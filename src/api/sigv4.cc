#include "api/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <string_view>

#include "aws/sigv4.h"

namespace eddy::api {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool TargetHasQueryParameter(const std::string& target, std::string_view name) {
  size_t query = target.find('?');
  if (query == std::string::npos) return false;
  std::string_view rest = std::string_view(target).substr(query + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return false;
}

bool IsDigits(std::string_view text) {
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !text.empty();
}

}  // namespace

SigV4Outcome ParseSigV4(const HttpRequest& request) {
  SigV4Outcome outcome;
  const std::string* header = request.Header("authorization");
  bool query_auth = TargetHasQueryParameter(request.target, "X-Amz-Algorithm");
  if (header == nullptr) {
    if (query_auth) {
      outcome.error = MakeApiError(
          "IncompleteSignatureException",
          "Query-string (presigned) authentication is not supported by this endpoint; sign "
          "requests with the Authorization header.");
    } else {
      outcome.error =
          MakeApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 403);
    }
    return outcome;
  }
  if (query_auth) {
    outcome.error = MakeApiError(
        "InvalidSignatureException",
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
    return outcome;
  }

  std::string_view text = Trim(*header);
  size_t space = text.find(' ');
  std::string_view algorithm = text.substr(0, space);
  std::string_view parameters =
      space == std::string_view::npos ? std::string_view() : text.substr(space + 1);

  std::optional<std::string_view> credential, signed_headers, signature;
  while (!parameters.empty()) {
    size_t comma = parameters.find(',');
    std::string_view part = Trim(parameters.substr(0, comma));
    parameters =
        comma == std::string_view::npos ? std::string_view() : parameters.substr(comma + 1);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = Trim(part.substr(0, equals));
    std::string_view value = Trim(part.substr(equals + 1));
    if (name == "Credential")
      credential = value;
    else if (name == "SignedHeaders")
      signed_headers = value;
    else if (name == "Signature")
      signature = value;
  }

  std::string message;
  if (algorithm != "AWS4-HMAC-SHA256") {
    message += "Unsupported AWS 'algorithm': '" + std::string(algorithm) +
               "'; only AWS4-HMAC-SHA256 is accepted. ";
  }
  if (!credential) message += "Authorization header requires 'Credential' parameter. ";
  if (!signature) message += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers) message += "Authorization header requires 'SignedHeaders' parameter. ";
  if (request.Header("x-amz-date") == nullptr && request.Header("date") == nullptr) {
    message +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!message.empty()) {
    outcome.error = MakeApiError("IncompleteSignatureException",
                                 message + "Authorization=" + std::string(text));
    return outcome;
  }

  // Credential=AKID/yyyymmdd/region/service/aws4_request
  SigV4Authorization parsed;
  std::vector<std::string_view> scope;
  std::string_view rest = *credential;
  while (true) {
    size_t slash = rest.find('/');
    scope.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || !IsDigits(scope[1]) ||
      scope[2].empty() || scope[3].empty() || scope[4] != "aws4_request") {
    outcome.error = MakeApiError("IncompleteSignatureException",
                                 "Credential must have exactly 5 slash-delimited elements, e.g. "
                                 "keyid/date/region/service/term, got '" +
                                     std::string(*credential) + "'");
    return outcome;
  }
  parsed.access_key_id = std::string(scope[0]);
  parsed.date = std::string(scope[1]);
  parsed.region = std::string(scope[2]);
  parsed.service = std::string(scope[3]);
  std::string_view headers_list = *signed_headers;
  while (!headers_list.empty()) {
    size_t semicolon = headers_list.find(';');
    std::string_view name = headers_list.substr(0, semicolon);
    if (!name.empty()) parsed.signed_headers.emplace_back(name);
    if (semicolon == std::string_view::npos) break;
    headers_list.remove_prefix(semicolon + 1);
  }
  parsed.signature = std::string(*signature);
  bool hex = !parsed.signature.empty();
  for (char c : parsed.signature) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) hex = false;
  }
  if (!hex || parsed.signed_headers.empty()) {
    outcome.error = MakeApiError("IncompleteSignatureException",
                                 "Authorization header has an empty or non-hexadecimal Signature "
                                 "or an empty SignedHeaders list. Authorization=" +
                                     std::string(text));
    return outcome;
  }
  outcome.authorization = std::move(parsed);
  return outcome;
}

}  // namespace eddy::api

// ---- Verification (the SigV4 algorithm itself is aws/sigv4.h) ------------------------------

namespace eddy::api {

std::string Sha256Hex(std::string_view bytes) { return aws::Sha256Hex(bytes); }

std::optional<ApiError> CheckSignedPayload(const HttpRequest& request, bool verify_hash) {
  const std::string* hash = request.Header("x-amz-content-sha256");
  if (hash == nullptr) return std::nullopt;
  std::string value = *hash;
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (value == "unsigned-payload" || value.rfind("streaming-", 0) == 0) {
    return MakeApiError(
        "InvalidSignatureException",
        "x-amz-content-sha256: " + hash->substr(0, 64) +
            " is not accepted: this API requires a signed payload, so the request body must "
            "be covered by the signature. Send the hex SHA-256 of the body in "
            "x-amz-content-sha256 (or leave the header out) and sign the request again; the "
            "AWS SDKs and the aws CLI do this by default for Kinesis and DynamoDB Streams.");
  }
  if (verify_hash && value != aws::Sha256Hex(request.body)) {
    return MakeApiError(
        "InvalidSignatureException",
        "The x-amz-content-sha256 header is not the SHA-256 of the request body: the body was "
        "changed after it was signed, or the client hashed another body. Sign the request "
        "again over the body it sends.");
  }
  return std::nullopt;
}

std::string SigV4CanonicalRequest(const HttpRequest& request,
                                  const std::vector<std::string>& signed_headers) {
  std::string_view target = request.target.empty() ? std::string_view("/") : request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  // HTTP/2 carries the host as :authority; clients sign it as `host`.
  const aws::HeaderList* headers = &request.headers;
  aws::HeaderList with_authority;
  if (request.Header("host") == nullptr && !request.authority.empty()) {
    with_authority = request.headers;
    with_authority.emplace_back("host", request.authority);
    if (request.Header(":authority") == nullptr) {
      with_authority.emplace_back(":authority", request.authority);
    }
    headers = &with_authority;
  }
  // The payload hash a client put in x-amz-content-sha256 (S3-style clients) is what it
  // signed; otherwise the body's hash. The verifier checks first that the header is the
  // body's hash (CheckSignedPayload).
  const std::string* payload_hash = request.Header("x-amz-content-sha256");
  std::string body_hash;
  if (payload_hash == nullptr) body_hash = aws::Sha256Hex(request.body);
  aws::CanonicalRequestParts parts;
  parts.method = request.method;
  parts.path = path;
  parts.query = query;
  parts.headers = headers;
  parts.signed_headers = &signed_headers;
  parts.payload_hash = payload_hash != nullptr ? std::string_view(*payload_hash) : body_hash;
  return aws::CanonicalRequest(parts);
}

std::string SigV4Signature(std::string_view secret, const SigV4Authorization& scope,
                           std::string_view amz_date, std::string_view canonical_request) {
  return aws::Signature(
      aws::SigningKey(secret, scope.date, scope.region, scope.service),
      aws::StringToSign(amz_date, aws::CredentialScope(scope.date, scope.region, scope.service),
                        canonical_request));
}

CredentialVerifier MakeStaticCredentialVerifier(std::map<std::string, std::string> secrets) {
  return [secrets = std::move(secrets)](const SigV4Authorization& authorization,
                                        const HttpRequest& request) -> std::optional<ApiError> {
    auto secret = secrets.find(authorization.access_key_id);
    if (secret == secrets.end()) {
      return MakeApiError("UnrecognizedClientException",
                          "The security token included in the request is invalid.");
    }
    if (auto unsigned_payload = CheckSignedPayload(request, true)) return unsigned_payload;
    const std::string* date = request.Header("x-amz-date");
    if (date == nullptr) date = request.Header("date");
    std::string expected =
        SigV4Signature(secret->second, authorization, date ? *date : "",
                       SigV4CanonicalRequest(request, authorization.signed_headers));
    std::string provided = authorization.signature;
    std::transform(provided.begin(), provided.end(), provided.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (expected.size() != provided.size() ||
        CRYPTO_memcmp(expected.data(), provided.data(), expected.size()) != 0) {
      return MakeApiError("InvalidSignatureException",
                          "The request signature we calculated does not match the signature "
                          "you provided. Check your AWS Secret Access Key and signing method.");
    }
    return std::nullopt;
  };
}

}  // namespace eddy::api
