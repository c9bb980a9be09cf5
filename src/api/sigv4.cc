#include "api/sigv4.h"

#include <cctype>
#include <string_view>

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
      outcome.error = MakeApiError("MissingAuthenticationTokenException",
                                   "Missing Authentication Token", 403);
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
    parameters = comma == std::string_view::npos ? std::string_view() : parameters.substr(comma + 1);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = Trim(part.substr(0, equals));
    std::string_view value = Trim(part.substr(equals + 1));
    if (name == "Credential") credential = value;
    else if (name == "SignedHeaders") signed_headers = value;
    else if (name == "Signature") signature = value;
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
    outcome.error = MakeApiError(
        "IncompleteSignatureException",
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '" + std::string(*credential) + "'");
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
