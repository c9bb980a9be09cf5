#include "engine/admin_request.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <vector>

#include "engine/sink_config.h"
#include "log/kinesis.h"
#include "source/snapshot_signal.h"

namespace eddy::engine {
namespace {

bool IsSinkNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

std::string Shown(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string shown;
  for (char c : text.substr(0, kMax)) {
    shown +=
        (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  }
  if (text.size() > kMax) shown += "...";
  return shown;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    segments.push_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return segments;
}

AdminError MethodNotAllowed(std::string_view method, std::string_view path, std::string allow) {
  AdminError error;
  error.http_status = 405;
  error.code = "MethodNotAllowed";
  error.message =
      fmt::format("{} {} is not supported; this path allows {}", Shown(method), Shown(path), allow);
  error.allow = std::move(allow);
  return error;
}

std::string_view JsonTypeName(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// Parses `body` as one JSON object; `parser` owns the result.
std::optional<AdminError> ParseObject(simdjson::dom::parser& parser, std::string_view body,
                                      simdjson::dom::object* out) {
  if (body.size() > kMaxAdminBodyBytes) {
    return AdminBadRequest(
        fmt::format("request body is {} bytes; the limit is {}", body.size(), kMaxAdminBodyBytes));
  }
  simdjson::dom::element document;
  if (auto error = parser.parse(body.data(), body.size()).get(document); error) {
    return AdminBadRequest(std::string("request body is not valid JSON (") +
                           simdjson::error_message(error) +
                           "); send a JSON object with Content-Type: application/json");
  }
  if (document.get_object().get(*out)) {
    return AdminBadRequest(std::string("request body must be a JSON object, not ") +
                           std::string(JsonTypeName(document.type())));
  }
  return std::nullopt;
}

std::optional<AdminError> CheckKnown(simdjson::dom::object object,
                                     const std::vector<std::string_view>& known) {
  for (auto field : object) {
    bool found = false;
    for (auto name : known) found = found || field.key == name;
    if (!found) {
      std::string names;
      for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
      return AdminBadRequest(
          fmt::format("field '{}' is not known; the fields are {}", Shown(field.key), names));
    }
  }
  return std::nullopt;
}

std::optional<AdminError> StringField(simdjson::dom::object object, std::string_view name,
                                      std::optional<std::string>* out) {
  simdjson::dom::element value;
  if (object.at_key(name).get(value)) return std::nullopt;  // absent
  if (value.is_null()) return std::nullopt;
  std::string_view text;
  if (value.get_string().get(text)) {
    return AdminBadRequest(
        fmt::format("field '{}' must be a string, not {}", name, JsonTypeName(value.type())));
  }
  *out = std::string(text);
  return std::nullopt;
}

// The "settings" member: an object of names to strings, numbers or booleans (numbers and
// booleans become their text, as TOML values do); with `lists`, a list of strings becomes
// its comma-separated text. A name already in `out` is an error (`twice` says where).
std::optional<AdminError> SettingsField(simdjson::dom::object object, bool lists,
                                        std::map<std::string, std::string>* out,
                                        std::string_view twice) {
  simdjson::dom::element settings;
  if (object.at_key("settings").get(settings) || settings.is_null()) return std::nullopt;
  simdjson::dom::object entries;
  if (settings.get_object().get(entries)) {
    return AdminBadRequest(
        fmt::format("field 'settings' must be an object of setting names to values, not {}",
                    JsonTypeName(settings.type())));
  }
  for (auto entry : entries) {
    std::string key(entry.key);
    std::string value;
    switch (entry.value.type()) {
      case simdjson::dom::element_type::STRING:
        value = std::string(std::string_view(entry.value));
        break;
      case simdjson::dom::element_type::INT64:
        value = std::to_string(int64_t(entry.value));
        break;
      case simdjson::dom::element_type::UINT64:
        value = std::to_string(uint64_t(entry.value));
        break;
      case simdjson::dom::element_type::DOUBLE:
        value = fmt::format("{}", double(entry.value));
        break;
      case simdjson::dom::element_type::BOOL:
        value = bool(entry.value) ? "true" : "false";
        break;
      case simdjson::dom::element_type::ARRAY:
        if (lists) {
          for (auto element : simdjson::dom::array(entry.value)) {
            std::string_view text;
            if (element.get_string().get(text)) {
              return AdminBadRequest(
                  fmt::format("field 'settings.{}' must be a list of strings", Shown(key)));
            }
            value += (value.empty() ? "" : ",") + std::string(text);
          }
          break;
        }
        [[fallthrough]];
      default:
        return AdminBadRequest(
            fmt::format("field 'settings.{}' must be a string, number or boolean, not {}",
                        Shown(key), JsonTypeName(entry.value.type())));
    }
    if (key.empty()) return AdminBadRequest("field 'settings' has an empty setting name");
    if (!out->emplace(key, std::move(value)).second) {
      return AdminBadRequest(
          fmt::format("field 'settings.{}' is {}; give it once", Shown(key), twice));
    }
  }
  return std::nullopt;
}

}  // namespace

AdminError AdminBadRequest(std::string message) {
  return {400, "BadRequest", std::move(message), ""};
}
AdminError AdminNotFound(std::string message) { return {404, "NotFound", std::move(message), ""}; }
AdminError AdminConflict(std::string message) { return {409, "Conflict", std::move(message), ""}; }

std::optional<AdminError> ParseAdminRoute(std::string_view method, std::string_view path,
                                          AdminRoute* out) {
  std::string_view rest = path;
  if (rest.substr(0, kAdminPrefix.size()) != kAdminPrefix) {
    return AdminNotFound(fmt::format("no admin resource at {}; the admin API is under {}",
                                     Shown(path), kAdminPrefix));
  }
  rest.remove_prefix(kAdminPrefix.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::vector<std::string_view> segments = Segments(rest);
  auto not_found = [&] {
    return AdminNotFound(
        fmt::format("no admin resource at {}; the resources are {}sources, {}streams, {}sinks and "
                    "{}sinks/NAME (with /pause, /resume, /reset)",
                    Shown(path), kAdminPrefix, kAdminPrefix, kAdminPrefix, kAdminPrefix));
  };
  *out = AdminRoute{};
  if (!segments.empty() && (segments[0] == "streams" || segments[0] == "sources")) {
    bool streams = segments[0] == "streams";
    if (segments.size() == 1) {
      if (method == "GET") {
        out->operation = streams ? AdminOperation::kListStreams : AdminOperation::kListSources;
      } else if (method == "POST") {
        out->operation = streams ? AdminOperation::kCreateStream : AdminOperation::kCreateSource;
      } else {
        return MethodNotAllowed(method, path, "GET, POST");
      }
      return std::nullopt;
    }
    bool tail = streams && segments.size() == 3 && segments[2] == "tail";
    bool snapshots = streams && segments.size() == 3 && segments[2] == "snapshots";
    if (segments.size() != 2 && !tail && !snapshots) return not_found();
    std::string_view name = segments[1];
    if (name.empty() || name.size() > 128 ||
        !std::all_of(name.begin(), name.end(), IsSinkNameCharacter)) {
      return AdminNotFound(fmt::format(
          "no {} named '{}': names are 1-128 characters of letters, digits, '_', '.', '-' "
          "(GET {}{} lists them)",
          streams ? "stream" : "source", Shown(name), kAdminPrefix, segments[0]));
    }
    out->name = std::string(name);
    if (tail) {
      if (method != "GET") return MethodNotAllowed(method, path, "GET");
      out->operation = AdminOperation::kTailStream;
      return std::nullopt;
    }
    if (snapshots) {
      if (method == "GET") {
        out->operation = AdminOperation::kGetSnapshots;
      } else if (method == "POST") {
        out->operation = AdminOperation::kRequestSnapshot;
      } else {
        return MethodNotAllowed(method, path, "GET, POST");
      }
      return std::nullopt;
    }
    if (method == "GET") {
      out->operation = streams ? AdminOperation::kGetStream : AdminOperation::kGetSource;
    } else if (method == "DELETE") {
      out->operation = streams ? AdminOperation::kDeleteStream : AdminOperation::kDeleteSource;
    } else {
      return MethodNotAllowed(method, path, "GET, DELETE");
    }
    return std::nullopt;
  }
  if (segments.empty() || segments[0] != "sinks") return not_found();
  if (segments.size() == 1) {
    if (method == "GET") {
      out->operation = AdminOperation::kListSinks;
    } else if (method == "POST") {
      out->operation = AdminOperation::kCreateSink;
    } else {
      return MethodNotAllowed(method, path, "GET, POST");
    }
    return std::nullopt;
  }
  std::string_view name = segments[1];
  if (name.empty() || name.size() > 128 ||
      !std::all_of(name.begin(), name.end(), IsSinkNameCharacter)) {
    return AdminNotFound(fmt::format(
        "no sink named '{}': sink names are 1-128 characters of letters, digits, '_', '.', '-' "
        "(GET {}sinks lists them)",
        Shown(name), kAdminPrefix));
  }
  out->sink = std::string(name);
  if (segments.size() == 2) {
    if (method == "GET") {
      out->operation = AdminOperation::kGetSink;
    } else if (method == "DELETE") {
      out->operation = AdminOperation::kDeleteSink;
    } else {
      return MethodNotAllowed(method, path, "GET, DELETE");
    }
    return std::nullopt;
  }
  if (segments.size() != 3) return not_found();
  if (segments[2] == "pause") {
    out->operation = AdminOperation::kPauseSink;
  } else if (segments[2] == "resume") {
    out->operation = AdminOperation::kResumeSink;
  } else if (segments[2] == "reset") {
    out->operation = AdminOperation::kResetSink;
  } else {
    return not_found();
  }
  if (method != "POST") return MethodNotAllowed(method, path, "POST");
  return std::nullopt;
}

Result<log::StartPosition> ParseResetTarget(std::string_view to) {
  if (to == "trim-horizon" || to == "TRIM_HORIZON") return log::StartPosition::TrimHorizon();
  if (to == "latest" || to == "LATEST") return log::StartPosition::Latest();
  auto sequence = log::ParseSequenceNumber(to);
  if (!sequence.ok()) {
    return InvalidArgument("'" + Shown(to) +
                           "' must be trim-horizon, latest or a sequence number (as GetRecords "
                           "shows it, or the plain counter)");
  }
  return log::StartPosition::AtSequence(sequence->sequence);
}

std::optional<AdminError> ParseResetBody(std::string_view body, log::StartPosition* out) {
  *out = log::StartPosition::TrimHorizon();
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, body, &object)) return error;
  if (auto error = CheckKnown(object, {"to"})) return error;
  std::optional<std::string> to;
  if (auto error = StringField(object, "to", &to)) return error;
  if (!to) return std::nullopt;
  auto parsed = ParseResetTarget(*to);
  if (!parsed.ok()) return AdminBadRequest("field 'to': " + parsed.status().message());
  *out = *parsed;
  return std::nullopt;
}

std::optional<AdminError> ParseSnapshotRequestBody(std::string_view body,
                                                   SnapshotRequestBody* out) {
  *out = SnapshotRequestBody{};
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, body, &object)) return error;
  if (auto error = CheckKnown(object, {"tables", "where"})) return error;
  constexpr size_t kMaxTables = 1000;
  simdjson::dom::element tables;
  if (object.at_key("tables").get(tables) || tables.is_null()) {
    return AdminBadRequest(
        "field 'tables' is required: a list of the tables to snapshot, as the stream's tables "
        "are written (\"schema.table\" or \"database.table\")");
  }
  simdjson::dom::array list;
  if (tables.get_array().get(list)) {
    return AdminBadRequest(fmt::format("field 'tables' must be a list of table names, not {}",
                                       JsonTypeName(tables.type())));
  }
  for (auto element : list) {
    std::string_view text;
    if (element.get_string().get(text) || text.empty()) {
      return AdminBadRequest("field 'tables' must hold non-empty strings (table names)");
    }
    if (out->tables.size() >= kMaxTables) {
      return AdminBadRequest(fmt::format("field 'tables' names more than {} tables", kMaxTables));
    }
    out->tables.emplace_back(text);
  }
  if (out->tables.empty()) {
    return AdminBadRequest("field 'tables' names no table: give at least one");
  }
  std::optional<std::string> where;
  if (auto error = StringField(object, "where", &where)) return error;
  if (where) out->where = std::move(*where);
  out->data = source::SnapshotRequestData(out->tables, out->where);
  Result<source::SnapshotSignal> checked =
      source::ParseSnapshotSignal("request", "execute-snapshot", out->data);
  if (!checked.ok()) return AdminBadRequest(checked.status().message());
  return std::nullopt;
}

std::optional<AdminError> ParseCreateSinkBody(std::string_view body, consume::SinkSpec* out) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, body, &object)) return error;
  if (auto error = CheckKnown(object, {"name", "url", "stream", "settings"})) return error;
  std::optional<std::string> name, url, stream;
  if (auto error = StringField(object, "name", &name)) return error;
  if (auto error = StringField(object, "url", &url)) return error;
  if (auto error = StringField(object, "stream", &stream)) return error;
  if (!name || name->empty()) {
    return AdminBadRequest(
        "field 'name' is required: the sink's name (1-128 characters of "
        "letters, digits, '_', '.', '-')");
  }
  if (!url || url->empty()) {
    return AdminBadRequest(
        "field 'url' is required: the destination, like webhook+https://host/path");
  }
  auto spec = ParseSinkUrl(*url, 1);
  if (!spec.ok()) return AdminBadRequest("field 'url': " + spec.status().message());
  spec->name = *name;
  if (stream) spec->stream = *stream;

  if (auto error = SettingsField(object, /*lists=*/false, &spec->settings,
                                 "also given in the url's query")) {
    return error;
  }
  *out = std::move(*spec);
  return std::nullopt;
}

}  // namespace eddy::engine

namespace eddy::engine {

std::optional<AdminError> ParseCreateSourceBody(std::string_view body, SourceConfig* out) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, body, &object)) return error;
  if (auto error = CheckKnown(object, {"name", "url", "settings"})) return error;
  std::optional<std::string> name, url;
  if (auto error = StringField(object, "name", &name)) return error;
  if (auto error = StringField(object, "url", &url)) return error;
  if (!name || name->empty()) {
    return AdminBadRequest(
        "field 'name' is required: the source's name (1-128 characters of "
        "letters, digits, '_', '.', '-')");
  }
  if (!url || url->empty()) {
    return AdminBadRequest(
        "field 'url' is required: the database, like "
        "postgresql://user:pass@host:5432/db or mariadb://user:pass@host:3306/db");
  }
  SourceConfig source;
  source.name = *name;
  source.url = *url;
  std::map<std::string, std::string> settings;
  if (auto error = SettingsField(object, false, &settings, "given twice")) return error;
  for (const auto& [key, value] : settings) {
    if (Status applied = ApplySourceSetting(source, key, value); !applied.ok()) {
      return AdminBadRequest("field 'settings." + key + "': " + applied.message());
    }
  }
  *out = std::move(source);
  return std::nullopt;
}

std::optional<AdminError> ParseCreateStreamBody(std::string_view body, StreamConfig* out) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (auto error = ParseObject(parser, body, &object)) return error;
  if (auto error = CheckKnown(object, {"name", "source", "settings"})) return error;
  std::optional<std::string> name, source;
  if (auto error = StringField(object, "name", &name)) return error;
  if (auto error = StringField(object, "source", &source)) return error;
  if (!name || name->empty()) {
    return AdminBadRequest(
        "field 'name' is required: the stream's name (1-128 characters of "
        "letters, digits, '_', '.', '-')");
  }
  StreamConfig stream;
  stream.name = *name;
  if (source) stream.source = *source;
  std::map<std::string, std::string> settings;
  if (auto error = SettingsField(object, true, &settings, "given twice")) return error;
  for (const auto& [key, value] : settings) {
    if (key.rfind("dsql.", 0) == 0) {
      return AdminBadRequest("field 'settings." + key +
                             "': dsql.* settings are kept by the "
                             "DSQL stream API (POST /stream/CLUSTER); remove it");
    }
    if (Status applied = ApplyStreamSetting(stream, key, value); !applied.ok()) {
      return AdminBadRequest("field 'settings." + key + "': " + applied.message());
    }
  }
  *out = std::move(stream);
  return std::nullopt;
}

}  // namespace eddy::engine
