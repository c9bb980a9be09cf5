#include "sink/kinesis/kinesis_settings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "base/duration.h"
#include "base/setting_parse.h"
#include "consume/sink_settings.h"
#include "net/client_settings.h"
#include "sink/kinesis/put_records.h"

namespace eddy::sink::kinesis {
namespace {

constexpr std::array<std::string_view, 7> kOwnKeys = {
    "stream",          "region",  "max_record_bytes", "request_timeout",
    "connect_timeout", "ca_file", "entry_retries"};

bool IsStreamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool IsRegion(std::string_view value) {
  return !value.empty() && value.size() <= 32 &&
         std::all_of(value.begin(), value.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

Result<int64_t> ParseInteger(std::string_view key, std::string_view text, int64_t min,
                             int64_t max) {
  return ParseIntegerSetting("kinesis", key, text, min, max);
}

Status ParseEndpoint(std::string_view url, KinesisSettings& settings) {
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + std::string(url.substr(0, url.find('?'))) +
                           "': " + std::string(what) +
                           "; write kinesis+https://kinesis.REGION.amazonaws.com?stream=NAME or "
                           "kinesis+http://HOST:PORT?stream=NAME");
  };
  constexpr std::string_view kPrefix = "kinesis+";
  if (!url.starts_with(kPrefix)) return invalid("the scheme is not kinesis+http or kinesis+https");
  std::string_view rest = url.substr(kPrefix.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string_view after_scheme;
  if (rest.starts_with("http://")) {
    after_scheme = rest.substr(7);
  } else if (rest.starts_with("https://")) {
    after_scheme = rest.substr(8);
  } else {
    return invalid("the scheme is not kinesis+http or kinesis+https");
  }
  size_t slash = after_scheme.find('/');
  std::string_view authority = after_scheme.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "/" : after_scheme.substr(slash);
  if (authority.empty() || authority.front() == ':') return invalid("the host is missing");
  if (authority.find('@') != std::string_view::npos) {
    return invalid(
        "credentials in the URL are not supported (use AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)");
  }
  if (path != "/") return invalid("Kinesis takes no path after the host");
  for (char c : authority) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
      return invalid("the host contains spaces or characters that need percent-encoding");
    }
  }
  size_t colon = authority.rfind(':');
  std::string_view host = authority;
  if (colon != std::string_view::npos && authority.back() != ']') {
    std::string_view port = authority.substr(colon + 1);
    int number = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return invalid("the port is not a number from 1 to 65535");
    }
    host = authority.substr(0, colon);
  }
  settings.endpoint =
      std::string(rest.substr(0, rest.find("://") + 3)) + std::string(authority) + "/";
  // kinesis.REGION.amazonaws.com (or .amazonaws.com.cn): the region is in the host.
  constexpr std::string_view kHostPrefix = "kinesis.";
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.starts_with(kHostPrefix) && host.ends_with(suffix) &&
        host.size() > kHostPrefix.size() + suffix.size()) {
      std::string_view region =
          host.substr(kHostPrefix.size(), host.size() - kHostPrefix.size() - suffix.size());
      if (region.ends_with(".api")) region.remove_suffix(4);  // kinesis.R.api.aws style
      if (IsRegion(region)) {
        settings.region = std::string(region);
        settings.aws_endpoint = true;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<KinesisSettings> ParseKinesisSettings(const consume::SinkSpec& spec) {
  KinesisSettings settings;
  EDDY_RETURN_IF_ERROR(ParseEndpoint(spec.url, settings));
  std::string url_region = settings.region;
  for (const auto& [key, value] : spec.settings) {
    if (key == "stream") {
      if (value.empty() || value.size() > 128 ||
          !std::all_of(value.begin(), value.end(), IsStreamNameChar)) {
        return InvalidArgument("kinesis setting 'stream' is \"" + value +
                               "\"; a Kinesis stream name is 1-128 of A-Z a-z 0-9 _ . -");
      }
      settings.stream = value;
    } else if (key == "region") {
      if (!IsRegion(value)) {
        return InvalidArgument("kinesis setting 'region' is \"" + value +
                               "\"; use an AWS region name like us-east-1");
      }
      if (!url_region.empty() && value != url_region) {
        return InvalidArgument("kinesis setting 'region' is \"" + value +
                               "\" but the endpoint's host names region " + url_region +
                               "; remove the setting or make them agree");
      }
      settings.region = value;
    } else if (key == "max_record_bytes") {
      EDDY_ASSIGN_OR_RETURN(int64_t bytes, ParseInteger(key, value, 1024, 10 << 20));
      settings.max_record_bytes = static_cast<size_t>(bytes);
    } else if (net::IsClientSetting(key)) {
      EDDY_RETURN_IF_ERROR(net::ParseClientSetting("kinesis", key, value, settings));
    } else if (key == "entry_retries") {
      EDDY_ASSIGN_OR_RETURN(int64_t retries, ParseInteger(key, value, 0, 100));
      settings.entry_retries = static_cast<int>(retries);
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown kinesis setting '" + key + "'; the kinesis sink knows " +
                             known + "and the sink settings of docs/sinks/kinesis.md");
    }
  }
  if (settings.stream.empty()) {
    return InvalidArgument("sink URL '" + spec.url.substr(0, spec.url.find('?')) +
                           "': the target stream is missing; add ?stream=NAME (the Kinesis "
                           "stream to put records into)");
  }
  if (settings.connect_timeout > settings.request_timeout) {
    settings.connect_timeout = settings.request_timeout;
  }
  return settings;
}

}  // namespace eddy::sink::kinesis
