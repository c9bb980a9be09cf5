#include "aws/request_signer.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

namespace eddy::aws {
namespace {

bool Unsigned(const std::string& lowercase_name) {
  return lowercase_name == "authorization" || lowercase_name == "user-agent" ||
         lowercase_name == "expect" || lowercase_name == "content-length" ||
         lowercase_name == "transfer-encoding" || lowercase_name == "x-amzn-trace-id";
}

void Replace(HeaderList* headers, std::string_view lowercase_name, std::string value) {
  headers->erase(std::remove_if(headers->begin(), headers->end(),
                                [&](const auto& header) {
                                  return AsciiLower(header.first) == lowercase_name;
                                }),
                 headers->end());
  headers->emplace_back(std::string(lowercase_name), std::move(value));
}

}  // namespace

Result<UrlParts> SplitUrl(std::string_view url) {
  UrlParts parts;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgument("URL '" + std::string(url) + "' has no scheme: use http:// or https://");
  }
  parts.scheme = AsciiLower(url.substr(0, scheme_end));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return InvalidArgument("URL '" + std::string(url) + "' has scheme '" + parts.scheme +
                           "': use http:// or https://");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) {
    return InvalidArgument("URL '" + std::string(url) + "' has no host");
  }
  std::string host(authority);
  std::string_view default_port = parts.scheme == "https" ? ":443" : ":80";
  size_t bracket = host.rfind(']');
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket) &&
      std::string_view(host).substr(colon) == default_port) {
    host.resize(colon);
  }
  parts.host = AsciiLower(host);
  size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  size_t question = rest.find('?');
  parts.path = std::string(rest.substr(0, question));
  if (parts.path.empty()) parts.path = "/";
  if (question != std::string_view::npos) parts.query = std::string(rest.substr(question + 1));
  return parts;
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

Status SignRequest(const SigningInput& input, HeaderList* headers) {
  if (input.credentials == nullptr || input.credentials->access_key_id.empty() ||
      input.credentials->secret_access_key.empty()) {
    return InvalidArgument("signing an AWS request needs an access key id and a secret key");
  }
  if (input.region.empty()) return InvalidArgument("signing an AWS request needs a region");
  if (input.service.empty()) return InvalidArgument("signing an AWS request needs a service");
  if (input.payload_hash.empty()) {
    return InvalidArgument("signing an AWS request needs a payload hash (or UNSIGNED-PAYLOAD)");
  }
  auto url = SplitUrl(input.url);
  if (!url.ok()) return url.status();

  bool has_host = std::any_of(headers->begin(), headers->end(), [](const auto& header) {
    return AsciiLower(header.first) == "host";
  });
  if (!has_host) headers->emplace_back("host", url->host);
  std::string amz_date = AmzDate(input.time);
  Replace(headers, "x-amz-date", amz_date);
  if (input.add_content_sha256) {
    Replace(headers, "x-amz-content-sha256", std::string(input.payload_hash));
  }
  if (!input.credentials->session_token.empty()) {
    Replace(headers, "x-amz-security-token", input.credentials->session_token);
  }
  headers->erase(std::remove_if(headers->begin(), headers->end(),
                                [](const auto& header) {
                                  return AsciiLower(header.first) == "authorization";
                                }),
                 headers->end());

  std::vector<std::string> signed_headers;
  for (const auto& [name, value] : *headers) {
    std::string lower = AsciiLower(name);
    if (!Unsigned(lower)) signed_headers.push_back(std::move(lower));
  }
  std::sort(signed_headers.begin(), signed_headers.end());
  signed_headers.erase(std::unique(signed_headers.begin(), signed_headers.end()),
                       signed_headers.end());

  CanonicalRequestParts parts;
  parts.method = input.method;
  parts.path = url->path;
  parts.query = url->query;
  parts.headers = headers;
  parts.signed_headers = &signed_headers;
  parts.payload_hash = input.payload_hash;
  std::string date = amz_date.substr(0, 8);
  std::string scope = CredentialScope(date, input.region, input.service);
  std::string signature =
      Signature(SigningKey(input.credentials->secret_access_key, date, input.region, input.service),
                StringToSign(amz_date, scope, CanonicalRequest(parts)));
  std::string names;
  for (const std::string& name : signed_headers) {
    if (!names.empty()) names += ';';
    names += name;
  }
  std::string authorization(kSigV4Algorithm);
  authorization.append(" Credential=").append(input.credentials->access_key_id);
  authorization.append("/").append(scope).append(", SignedHeaders=").append(names);
  authorization.append(", Signature=").append(signature);
  headers->emplace_back("authorization", std::move(authorization));
  return Status::Ok();
}

}  // namespace eddy::aws
