#include "source/source_url.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace eddy::source {
namespace {

constexpr std::string_view kShape = "scheme://user:password@host:port/database?name=value";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// libpq's own keyword list, so a typo fails at parse time with the name of the bad key.
const std::set<std::string>& LibpqKeywords() {
  static const std::set<std::string> keywords = [] {
    std::set<std::string> out;
    PQconninfoOption* options = PQconndefaults();
    if (options != nullptr) {
      for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
        out.insert(option->keyword);
      }
      PQconninfoFree(options);
    }
    return out;
  }();
  return keywords;
}

const std::set<std::string>& MysqlKeywords() {
  static const std::set<std::string> keywords = {"connect_timeout", "read_timeout",
                                                 "write_timeout",   "ssl_mode",
                                                 "sslmode",         "ssl_ca",
                                                 "ssl_cert",        "ssl_key",
                                                 "charset"};
  return keywords;
}

Result<std::string> DecodePart(std::string_view text, std::string_view part) {
  Result<std::string> decoded = PercentDecode(text);
  if (!decoded.ok()) {
    return InvalidArgument("source URL " + std::string(part) + ": " + decoded.status().message());
  }
  return decoded;
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kPostgres:
      return "postgresql";
    case SourceKind::kMysql:
      return "mysql";
  }
  return "unknown";
}

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return InvalidArgument("truncated percent escape at offset " + std::to_string(i) +
                               " (write a literal '%' as %25)");
      }
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) {
        return InvalidArgument("bad percent escape at offset " + std::to_string(i) +
                               " (expected %XX with hex digits; write a literal '%' as %25)");
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<SourceUrl> ParseSourceUrl(std::string_view url) {
  SourceUrl parsed;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgument("source URL has no scheme: expected " + std::string(kShape) +
                           " with scheme postgresql, postgres, mysql or mariadb");
  }
  parsed.scheme = Lower(url.substr(0, scheme_end));
  if (parsed.scheme == "postgresql" || parsed.scheme == "postgres") {
    parsed.kind = SourceKind::kPostgres;
    parsed.port = kDefaultPostgresPort;
  } else if (parsed.scheme == "mysql" || parsed.scheme == "mariadb") {
    parsed.kind = SourceKind::kMysql;
    parsed.port = kDefaultMysqlPort;
  } else {
    return InvalidArgument("source URL scheme '" + parsed.scheme +
                           "' is not supported; use postgresql://, postgres://, mysql:// or "
                           "mariadb://");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) {
    return InvalidArgument("source URL has a '#' fragment; percent-encode '#' as %23");
  }
  std::string_view query;
  if (size_t question = rest.find('?'); question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  std::string_view authority = rest;
  std::string_view path;
  // The path starts at the first '/' after the user info (a raw '/' in a password would
  // otherwise be taken for the path; it must be written %2F).
  const size_t at = authority.rfind('@');
  const size_t slash = authority.find('/', at == std::string_view::npos ? 0 : at);
  if (slash != std::string_view::npos) {
    path = authority.substr(slash + 1);
    authority = authority.substr(0, slash);
  }
  std::string_view host_port = authority;
  if (at != std::string_view::npos && at < authority.size()) {
    std::string_view user_info = authority.substr(0, at);
    host_port = authority.substr(at + 1);
    const size_t colon = user_info.find(':');
    EDDY_ASSIGN_OR_RETURN(parsed.user, DecodePart(user_info.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      parsed.has_password = true;
      Result<std::string> password = PercentDecode(user_info.substr(colon + 1));
      if (!password.ok()) {
        return InvalidArgument("source URL password has a bad percent escape (the password is "
                               "not shown); write a literal '%' as %25");
      }
      parsed.password = std::move(*password);
    }
  }
  std::string_view port_text;
  const bool bracketed = !host_port.empty() && host_port.front() == '[';
  if (bracketed) {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("source URL host: '[' of an IPv6 address is not closed by ']'");
    }
    parsed.host = std::string(host_port.substr(1, close - 1));
    std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return InvalidArgument("source URL host: expected ':port' after ']'");
      }
      port_text = after.substr(1);
      if (port_text.empty()) return InvalidArgument("source URL port is empty after ':'");
    }
  } else {
    const size_t colon = host_port.rfind(':');
    EDDY_ASSIGN_OR_RETURN(parsed.host, DecodePart(host_port.substr(0, colon), "host"));
    if (colon != std::string_view::npos) {
      port_text = host_port.substr(colon + 1);
      if (port_text.empty()) return InvalidArgument("source URL port is empty after ':'");
    }
  }
  if (parsed.host.find(',') != std::string::npos) {
    return InvalidArgument("source URL names several hosts ('" + parsed.host +
                           "'); give exactly one");
  }
  if (bracketed) {
    // IPv6: hex digits, ':' and '.', then an optional %zone.
    const size_t zone = parsed.host.find('%');
    const std::string address = parsed.host.substr(0, zone);
    const std::string zone_name = zone == std::string::npos ? "" : parsed.host.substr(zone + 1);
    if (address.find(':') == std::string::npos ||
        address.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos ||
        (zone != std::string::npos &&
         (zone_name.empty() || !std::all_of(zone_name.begin(), zone_name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         })))) {
      return InvalidArgument("source URL host '[" + parsed.host + "]' is not an IPv6 address");
    }
  } else if (!std::all_of(parsed.host.begin(), parsed.host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                      c == '_';
             })) {
    return InvalidArgument("source URL host '" + parsed.host +
                           "' is not a host name or IPv4 address (write IPv6 addresses in "
                           "brackets: [::1])");
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("source URL port '" + std::string(port_text) +
                             "' is not a number from 1 to 65535");
    }
    const int port = std::stoi(std::string(port_text));
    if (port < 1 || port > 65535) {
      return InvalidArgument("source URL port " + std::string(port_text) +
                             " is out of range (1-65535)");
    }
    parsed.port = static_cast<uint16_t>(port);
  }
  EDDY_ASSIGN_OR_RETURN(parsed.database, DecodePart(path, "database"));
  if (parsed.database.find('/') != std::string::npos) {
    return InvalidArgument("source URL database '" + parsed.database +
                           "' contains '/'; the path is one database name");
  }

  if (!query.empty()) {
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string_view::npos) end = query.size();
      std::string_view pair = query.substr(start, end - start);
      start = end + 1;
      if (pair.empty()) continue;
      const size_t equals = pair.find('=');
      if (equals == std::string_view::npos) {
        return InvalidArgument("source URL parameter '" + std::string(pair) +
                               "' has no value; write name=value");
      }
      Result<std::string> key = PercentDecode(pair.substr(0, equals), true);
      Result<std::string> value = PercentDecode(pair.substr(equals + 1), true);
      if (!key.ok() || !value.ok()) {
        return InvalidArgument("source URL parameter '" + std::string(pair.substr(0, equals)) +
                               "' has a bad percent escape");
      }
      if (*key == "password" || *key == "user" || *key == "dbname" || *key == "port") {
        return InvalidArgument("source URL parameter '" + *key +
                               "' belongs in the URL itself (" + std::string(kShape) + ")");
      }
      if (parsed.kind == SourceKind::kPostgres) {
        if (LibpqKeywords().count(*key) == 0) {
          return InvalidArgument("source URL parameter '" + *key +
                                 "' is not a libpq connection parameter (for example sslmode, "
                                 "connect_timeout, application_name)");
        }
        if (*key == "host" && !parsed.host.empty()) {
          return InvalidArgument("source URL gives a host twice (in the URL and as ?host=)");
        }
        if (*key == "replication") {
          return InvalidArgument("source URL parameter 'replication' is set by eddy itself");
        }
      } else if (MysqlKeywords().count(*key) == 0) {
        return InvalidArgument("source URL parameter '" + *key +
                               "' is not a MySQL connection parameter; known: connect_timeout, "
                               "read_timeout, write_timeout, ssl_mode, ssl_ca, ssl_cert, ssl_key, "
                               "charset");
      }
      parsed.parameters.emplace_back(std::move(*key), std::move(*value));
    }
  }
  if (parsed.host.empty()) {
    if (parsed.kind == SourceKind::kMysql) {
      return InvalidArgument("source URL has no host: expected " + std::string(kShape));
    }
    if (parsed.Parameter("host").empty()) {
      return InvalidArgument("source URL has no host: expected " + std::string(kShape) +
                             " (or postgresql://user@/db?host=/socket/dir for a unix socket)");
    }
  }
  return parsed;
}

std::string SourceUrl::Parameter(std::string_view name) const {
  for (const auto& [key, value] : parameters) {
    if (key == name) return value;
  }
  return "";
}

std::string SourceUrl::ToString() const {
  std::string out = scheme + "://";
  if (!user.empty() || has_password) {
    out += Encode(user);
    if (has_password) out += ":****";
    out += "@";
  }
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += Encode(host);
  }
  const uint16_t default_port =
      kind == SourceKind::kPostgres ? kDefaultPostgresPort : kDefaultMysqlPort;
  if (!host.empty() || port != default_port) out += ":" + std::to_string(port);
  out += "/" + Encode(database);
  char separator = '?';
  for (const auto& [key, value] : parameters) {
    out += separator;
    out += Encode(key) + "=" + Encode(value);
    separator = '&';
  }
  return out;
}

localdb::SqlEndpoint SourceUrl::ToEndpoint() const {
  localdb::SqlEndpoint endpoint;
  endpoint.host = host;
  endpoint.port = port;
  endpoint.user = user;
  endpoint.password = password;
  endpoint.database = database;
  for (const auto& [key, value] : parameters) {
    if (kind == SourceKind::kPostgres && key == "host") {
      endpoint.unix_socket = value;
      continue;
    }
    endpoint.parameters.emplace_back(key, value);
  }
  return endpoint;
}

}  // namespace eddy::source
