#include "sink/opensearch/opensearch_settings.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "base/duration.h"
#include "base/setting_parse.h"
#include "consume/sink_settings.h"
#include "net/client_settings.h"

namespace eddy::sink::opensearch {
namespace {

constexpr std::array<std::string_view, 14> kOwnKeys = {"index",
                                                       "index_rotation",
                                                       "decimal_handling",
                                                       "create_index",
                                                       "bulk_max_documents",
                                                       "bulk_max_bytes",
                                                       "bulk_window",
                                                       "item_retries",
                                                       "request_timeout",
                                                       "connect_timeout",
                                                       "ca_file",
                                                       "username",
                                                       "password",
                                                       "type"};

constexpr std::string_view kUrlForms =
    "write opensearch+http://HOST:PORT or opensearch+https://USER:PASSWORD@HOST:PORT";

Result<int64_t> ParseInteger(std::string_view key, std::string_view text, int64_t min,
                             int64_t max) {
  return ParseIntegerSetting("opensearch", key, text, min, max);
}

Result<bool> ParseBool(std::string_view key, std::string_view text) {
  return ParseBoolSetting("opensearch", key, text);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes of the URL's userinfo (a password with '@' or ':' is written %40, %3A).
Result<std::string> DecodeUserInfo(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || HexDigit(text[i + 1]) < 0 || HexDigit(text[i + 2]) < 0) {
      return InvalidArgument(
          "the user or password in the sink URL has a '%' not followed by two hex digits; "
          "write '%' as %25, '@' as %40, ':' as %3A");
    }
    out.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
    i += 2;
  }
  return out;
}

bool IsBadIndexChar(char c) {
  return c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' ||
         c == '|' || c == ' ' || c == ',' || c == '#' || c == ':' ||
         static_cast<unsigned char>(c) < 0x20;
}

Status ParseEndpoint(std::string_view url, OpenSearchSettings& settings) {
  std::string shown(url.substr(0, url.find_first_of("?#")));
  size_t at_in_shown = shown.find('@');
  if (at_in_shown != std::string::npos) {
    size_t scheme_end = shown.find("://");
    if (scheme_end != std::string::npos)
      shown.replace(scheme_end + 3, at_in_shown - scheme_end - 3, "***");
  }
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + shown + "': " + std::string(what) + "; " +
                           std::string(kUrlForms));
  };
  constexpr std::string_view kPrefix = "opensearch+";
  if (!url.starts_with(kPrefix)) {
    return invalid("the scheme is not opensearch+http or opensearch+https");
  }
  std::string_view rest = url.substr(kPrefix.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string_view scheme;
  if (rest.starts_with("http://")) {
    scheme = "http://";
  } else if (rest.starts_with("https://")) {
    scheme = "https://";
  } else {
    return invalid("the scheme is not opensearch+http or opensearch+https");
  }
  std::string_view after_scheme = rest.substr(scheme.size());
  size_t slash = after_scheme.find('/');
  std::string_view authority = after_scheme.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : after_scheme.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    EDDY_ASSIGN_OR_RETURN(settings.username, DecodeUserInfo(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      EDDY_ASSIGN_OR_RETURN(settings.password, DecodeUserInfo(userinfo.substr(colon + 1)));
    }
    if (settings.username.empty()) return invalid("the user name before '@' is empty");
  }
  if (authority.empty() || authority.front() == ':') return invalid("the host is missing");
  for (char c : authority) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
      return invalid("the host contains spaces or characters that need percent-encoding");
    }
  }
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\') {
      return invalid("the path contains spaces or characters that need percent-encoding");
    }
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.back() != ']') {
    std::string_view port = authority.substr(colon + 1);
    int number = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return invalid("the port is not a number from 1 to 65535");
    }
  }
  settings.endpoint = std::string(scheme) + std::string(authority) + std::string(path);
  return Status::Ok();
}

}  // namespace

Result<IndexRotation> ParseIndexRotation(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "norotation") return IndexRotation::kNoRotation;
  if (lower == "onehour") return IndexRotation::kOneHour;
  if (lower == "oneday") return IndexRotation::kOneDay;
  if (lower == "oneweek") return IndexRotation::kOneWeek;
  if (lower == "onemonth") return IndexRotation::kOneMonth;
  return InvalidArgument("opensearch setting 'index_rotation' is \"" + std::string(text) +
                         "\"; use NoRotation, OneHour, OneDay, OneWeek or OneMonth");
}

Result<IndexTemplate> ParseIndexTemplate(std::string_view text) {
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("opensearch setting 'index' is \"" + std::string(text) +
                           "\": " + std::string(what) +
                           "; write lower-case text with ${db}, ${schema} and ${table}, "
                           "e.g. index = \"cdc-${table}\"");
  };
  if (text.empty()) return invalid("it is empty");
  if (text.size() > 200) return invalid("it is longer than 200 characters");
  IndexTemplate parsed;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i).starts_with("${")) {
      size_t close = text.find('}', i);
      if (close == std::string_view::npos) return invalid("a '${' is not closed by '}'");
      std::string_view name = text.substr(i + 2, close - i - 2);
      IndexTemplate::Piece piece;
      if (name == "db") {
        piece.part = IndexTemplate::Part::kDatabase;
      } else if (name == "schema") {
        piece.part = IndexTemplate::Part::kSchema;
      } else if (name == "table") {
        piece.part = IndexTemplate::Part::kTable;
      } else {
        return invalid("${" + std::string(name) + "} is not a placeholder");
      }
      parsed.pieces.push_back(std::move(piece));
      i = close + 1;
      continue;
    }
    char c = text[i];
    if (IsBadIndexChar(c)) {
      return invalid(std::string("an index name cannot hold '") + c + "'");
    }
    if (c >= 'A' && c <= 'Z') return invalid("index names are lower case");
    if (parsed.pieces.empty() || parsed.pieces.back().part != IndexTemplate::Part::kLiteral) {
      parsed.pieces.push_back({});
    }
    parsed.pieces.back().text.push_back(c);
    ++i;
  }
  const IndexTemplate::Piece& first = parsed.pieces.front();
  if (first.part == IndexTemplate::Part::kLiteral &&
      (first.text[0] == '-' || first.text[0] == '_' || first.text[0] == '+')) {
    return invalid("an index name cannot start with '-', '_' or '+'");
  }
  return parsed;
}

Result<OpenSearchSettings> ParseOpenSearchSettings(const consume::SinkSpec& spec) {
  OpenSearchSettings settings;
  EDDY_RETURN_IF_ERROR(ParseEndpoint(spec.url, settings));
  bool url_user = !settings.username.empty();
  for (const auto& [key, value] : spec.settings) {
    if (key == "index") {
      EDDY_ASSIGN_OR_RETURN(settings.index, ParseIndexTemplate(value));
      settings.index_text = value;
    } else if (key == "index_rotation") {
      EDDY_ASSIGN_OR_RETURN(settings.rotation, ParseIndexRotation(value));
    } else if (key == "decimal_handling") {
      if (value == "string") {
        settings.decimals = DecimalMode::kString;
      } else if (value == "number" || value == "double") {
        settings.decimals = DecimalMode::kNumber;
      } else {
        return InvalidArgument("opensearch setting 'decimal_handling' is \"" + value +
                               "\"; use string (exact digits, the default) or number");
      }
    } else if (key == "create_index") {
      EDDY_ASSIGN_OR_RETURN(settings.create_index, ParseBool(key, value));
    } else if (key == "bulk_max_documents") {
      EDDY_ASSIGN_OR_RETURN(int64_t documents, ParseInteger(key, value, 1, 100'000));
      settings.bulk_max_documents = static_cast<uint32_t>(documents);
    } else if (key == "bulk_max_bytes") {
      EDDY_ASSIGN_OR_RETURN(int64_t bytes, ParseInteger(key, value, 1024, int64_t{100} << 20));
      settings.bulk_max_bytes = static_cast<uint64_t>(bytes);
    } else if (key == "bulk_window") {
      if (value == "0") {
        settings.bulk_window = std::chrono::milliseconds(0);
      } else {
        auto window = ParseSecondsOrDuration(value);
        if (!window.ok() || *window > std::chrono::minutes(5)) {
          return InvalidArgument("opensearch setting 'bulk_window' is \"" + value +
                                 "\"; use 0, seconds or a duration like 200ms, at most 5m");
        }
        settings.bulk_window = *window;
      }
    } else if (key == "item_retries") {
      EDDY_ASSIGN_OR_RETURN(int64_t retries, ParseInteger(key, value, 0, 100));
      settings.item_retries = static_cast<int>(retries);
    } else if (net::IsClientSetting(key)) {
      EDDY_RETURN_IF_ERROR(net::ParseClientSetting("opensearch", key, value, settings));
    } else if (key == "username" || key == "password") {
      if (url_user) {
        return InvalidArgument("opensearch setting '" + key +
                               "' is set and the sink URL has a user too; keep one");
      }
      (key == "username" ? settings.username : settings.password) = value;
    } else if (key == "type") {
      if (value != "opensearch") {
        return InvalidArgument("opensearch sink: type is \"" + value +
                               "\"; use type = \"opensearch\" or leave it out");
      }
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown opensearch setting '" + key +
                             "'; the opensearch sink knows " + known +
                             "and the sink settings of docs/sinks/opensearch.md");
    }
  }
  if (settings.index.pieces.empty()) {
    EDDY_ASSIGN_OR_RETURN(settings.index, ParseIndexTemplate(settings.index_text));
  }
  if (settings.username.empty() && !settings.password.empty()) {
    return InvalidArgument("opensearch setting 'password' is set without 'username'; set both");
  }
  if (settings.connect_timeout > settings.request_timeout) {
    settings.connect_timeout = settings.request_timeout;
  }
  return settings;
}

}  // namespace eddy::sink::opensearch
