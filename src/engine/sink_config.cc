#include "engine/sink_config.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace eddy::engine {
namespace {

bool IsNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: %XX and '+' for space.
Result<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      int high = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return InvalidArgument("'" + std::string(text) +
                               "' has a '%' not followed by two hex digits; encode '%' as %25");
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Moves the query parameters of spec->url into spec->settings (name= and stream= into their
// fields) and removes the query from the URL. `where` prefixes errors.
Status TakeQuery(consume::SinkSpec* spec, const std::string& where) {
  auto question = spec->url.find('?');
  if (question == std::string::npos) return Status::Ok();
  std::string query = spec->url.substr(question + 1);
  auto fragment = query.find('#');
  if (fragment != std::string::npos) query.resize(fragment);
  spec->url.resize(question);
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string_view pair = std::string_view(query).substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    auto equals = pair.find('=');
    if (equals == std::string_view::npos) {
      return InvalidArgument(where + "query parameter '" + std::string(pair) +
                             "' has no value; write key=value");
    }
    auto key_decoded = UrlDecode(pair.substr(0, equals));
    auto value_decoded = UrlDecode(pair.substr(equals + 1));
    if (!key_decoded.ok()) return InvalidArgument(where + key_decoded.status().message());
    if (!value_decoded.ok()) return InvalidArgument(where + value_decoded.status().message());
    std::string key = std::move(*key_decoded);
    std::string value = std::move(*value_decoded);
    if (key == "name") {
      spec->name = value;
    } else if ((key == "stream" && !UrlScheme(spec->url).starts_with("kinesis+")) ||
               key == "source_stream") {
      // A Kinesis target names the stream it puts into as ?stream= (a destination setting);
      // its sink reads ?source_stream=, the `stream` key or the only stream.
      spec->stream = value;
    } else if (key == "url") {
      return InvalidArgument(where + "query parameter 'url' is not a setting");
    } else if (!spec->settings.emplace(key, value).second) {
      return InvalidArgument(where + "setting '" + key +
                             "' is given twice (in the url's query and as a key, or twice in the "
                             "query); keep one");
    }
  }
  return Status::Ok();
}

std::string DefaultName(std::string_view scheme, size_t ordinal) {
  std::string name(scheme);
  for (char& c : name) {
    if (!IsNameCharacter(c)) c = '-';
  }
  return name + "-" + std::to_string(ordinal);
}

std::string Where(std::string_view file_name, const toml::node& node) {
  std::string where(file_name);
  if (node.source().begin.line > 0) where += " line " + std::to_string(node.source().begin.line);
  return where + ": ";
}

// `type = "kafka"` with `bootstrap_servers = "HOST:PORT,..."` instead of a url: the same sink
// as url = "kafka://HOST:PORT,...".
Status UrlFromType(consume::SinkSpec& spec, const std::string& where) {
  auto type = spec.settings.find("type");
  if (type == spec.settings.end()) return Status::Ok();
  // `type = "postgresql"` names the replica sink; its url carries the connection.
  if (type->second == "postgresql") {
    std::string_view scheme = UrlScheme(spec.url);
    if (scheme != "postgresql" && scheme != "postgres") {
      return InvalidArgument(where + "type = \"postgresql\" needs url = "
                             "\"postgresql://USER:PASSWORD@HOST:PORT/DATABASE?schema=SCHEMA\"");
    }
    spec.settings.erase(type);
    return Status::Ok();
  }
  // `type = "mysql"` / `"mariadb"`: the replica sink into MySQL/MariaDB; the url connects.
  if (type->second == "mysql" || type->second == "mariadb") {
    std::string_view scheme = UrlScheme(spec.url);
    if (scheme != "mysql" && scheme != "mariadb") {
      return InvalidArgument(where + "type = \"" + type->second + "\" needs url = \"" +
                             type->second + "://USER:PASSWORD@HOST:PORT/DATABASE\"");
    }
    spec.settings.erase(type);
    return Status::Ok();
  }
  if (type->second != "kafka") {
    return InvalidArgument(where + "'sink.type' = \"" + type->second +
                           "\" is not a sink type; use type = \"kafka\", \"postgresql\", \"mysql\" "
                           "or \"mariadb\", or set url");
  }
  auto servers = spec.settings.find("bootstrap_servers");
  if (spec.url.empty()) {
    if (servers == spec.settings.end() || servers->second.empty()) {
      return InvalidArgument(where + "type = \"kafka\" needs bootstrap_servers = \"HOST:PORT,...\"");
    }
    spec.url = "kafka://" + servers->second;
  } else if (UrlScheme(spec.url) != "kafka") {
    return InvalidArgument(where + "type = \"kafka\" but url is '" + spec.url + "'; keep one");
  }
  if (servers != spec.settings.end()) spec.settings.erase(servers);
  spec.settings.erase("type");
  return Status::Ok();
}

}  // namespace

std::string_view UrlScheme(std::string_view url) {
  auto separator = url.find("://");
  return separator == std::string_view::npos ? std::string_view() : url.substr(0, separator);
}

Result<std::vector<consume::SinkSpec>> ParseSinkTables(
    const std::vector<const toml::table*>& tables, std::string_view file_name) {
  std::vector<consume::SinkSpec> sinks;
  for (size_t i = 0; i < tables.size(); ++i) {
    const toml::table& table = *tables[i];
    consume::SinkSpec spec;
    for (const auto& [key_name, node] : table) {
      std::string key(key_name.str());
      std::string where = Where(file_name, node);
      std::string value;
      if (const auto* text = node.as_string()) {
        value = text->get();
      } else if (const auto* integer = node.as_integer()) {
        value = std::to_string(integer->get());
      } else if (const auto* boolean = node.as_boolean()) {
        value = boolean->get() ? "true" : "false";
      } else if (const auto* floating = node.as_floating_point()) {
        std::ostringstream text_out;
        text_out << floating->get();
        value = text_out.str();
      } else {
        return InvalidArgument(where + "'sink." + key +
                               "' must be a string, number or boolean (settings are flat: "
                               "write header_Authorization = \"...\", not a table)");
      }
      if (key == "name") {
        spec.name = value;
      } else if (key == "stream") {
        spec.stream = value;
      } else if (key == "url") {
        spec.url = value;
      } else {
        spec.settings.emplace(key, value);
      }
    }
    std::string where = Where(file_name, table) + "[[sink]] #" + std::to_string(i + 1) + ": ";
    EDDY_RETURN_IF_ERROR(UrlFromType(spec, where));
    if (spec.url.empty()) {
      return InvalidArgument(where + "'sink.url' is missing; set url = \"webhook+https://...\"");
    }
    EDDY_RETURN_IF_ERROR(TakeQuery(&spec, where));
    if (spec.name.empty()) spec.name = DefaultName(UrlScheme(spec.url), sinks.size() + 1);
    sinks.push_back(std::move(spec));
  }
  return sinks;
}

Result<consume::SinkSpec> ParseSinkUrl(std::string_view url, size_t ordinal) {
  consume::SinkSpec spec;
  spec.url = std::string(url);
  std::string where = "--sink '" + std::string(url.substr(0, url.find('?'))) + "': ";
  EDDY_RETURN_IF_ERROR(TakeQuery(&spec, where));
  if (spec.name.empty()) spec.name = DefaultName(UrlScheme(spec.url), ordinal);
  return spec;
}

Status ResolveSinks(std::vector<consume::SinkSpec>& sinks, const std::vector<std::string>& streams,
                    bool require_configured_stream) {
  std::set<std::string> names;
  for (auto& spec : sinks) {
    std::string where = "sink '" + spec.name + "': ";
    if (spec.name.empty() || spec.name.size() > 128 ||
        !std::all_of(spec.name.begin(), spec.name.end(), IsNameCharacter)) {
      return InvalidArgument(where +
                             "name must be 1-128 characters of letters, digits, '_', '.', '-'; "
                             "set name = \"...\" (or ?name=... on --sink)");
    }
    if (!names.insert(spec.name).second) {
      return InvalidArgument(where + "defined twice; give each sink its own name");
    }
    if (UrlScheme(spec.url).empty()) {
      return InvalidArgument(where + "url '" + spec.url +
                             "' has no scheme; write it like webhook+https://host/path");
    }
    if (spec.stream.empty()) {
      if (streams.size() != 1) {
        return InvalidArgument(where +
                               "which stream does it read? set stream = \"NAME\" (or "
                               "?stream=NAME on --sink); the configuration has " +
                               std::to_string(streams.size()) + " streams");
      }
      spec.stream = streams.front();
    } else if (require_configured_stream &&
               std::find(streams.begin(), streams.end(), spec.stream) == streams.end()) {
      std::string known;
      for (const auto& stream : streams) known += (known.empty() ? "" : ", ") + stream;
      return InvalidArgument(where + "stream '" + spec.stream +
                             "' is not configured; configured streams: " + known);
    }
  }
  return Status::Ok();
}

}  // namespace eddy::engine
