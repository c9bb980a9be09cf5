#include "engine/debezium_config.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>

namespace eddy::engine {

namespace {

// Properties accepted without effect on eddy: Connect's own plumbing, and settings whose only
// meaning is what eddy always does.
const std::set<std::string, std::less<>> kAcceptedAsIs = {
    "tasks.max",
    "key.converter",
    "value.converter",
    "key.converter.schemas.enable",  // read below
    "value.converter.schemas.enable",
    "plugin.name",                          // checked below: pgoutput only
    "include.schema.changes",               // checked below: true only
    "schema.history.internal.kafka.topic",  // eddy keeps schema history in its log
    "schema.history.internal.kafka.bootstrap.servers",
    "database.server.name",  // the pre-2.0 name of topic.prefix
    "topic.prefix",
    "connector.class",
    "name",
};

const std::set<std::string, std::less<>> kMapped = {
    "database.hostname",
    "database.port",
    "database.user",
    "database.password",
    "database.dbname",
    "database.include.list",
    "table.include.list",
    "table.exclude.list",
    "column.include.list",
    "column.exclude.list",
    "message.key.columns",
    "tombstones.on.delete",
    "provide.transaction.metadata",
    "heartbeat.interval.ms",
    "snapshot.mode",
    "skipped.operations",
    "slot.name",
    "publication.name",
    "database.server.id",
};

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

// A Debezium include/exclude regular expression as eddy's glob: `\.` is a dot, `.*` is `*`;
// other regular-expression syntax has no glob equivalent.
Result<std::string> RegexToGlob(std::string_view property, std::string_view regex) {
  std::string glob;
  for (size_t i = 0; i < regex.size(); ++i) {
    char c = regex[i];
    if (c == '\\' && i + 1 < regex.size() && regex[i + 1] == '.') {
      glob.push_back('.');
      ++i;
    } else if (c == '.' && i + 1 < regex.size() && regex[i + 1] == '*') {
      glob.push_back('*');
      ++i;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '$' || c == '-') {
      glob.push_back(c);
    } else {
      return InvalidArgument("'" + std::string(property) + "' entry '" + std::string(regex) +
                             "' uses regular-expression syntax eddy's table and column globs do "
                             "not have (eddy accepts names, '\\.' and '.*'); list the names");
    }
  }
  return glob;
}

Result<std::vector<std::string>> Globs(std::string_view property, std::string_view value) {
  std::vector<std::string> globs;
  for (const std::string& entry : SplitList(value)) {
    EDDY_ASSIGN_OR_RETURN(std::string glob, RegexToGlob(property, entry));
    globs.push_back(std::move(glob));
  }
  return globs;
}

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

namespace {

// The mapping; with `problems` every property's problem is collected there (in the order the
// checks run, so the first is the error MapDebeziumConnector gives) and the mapping goes on;
// without, the first problem is returned.
Result<EngineConfig> Map(std::string_view json, std::string_view file_name,
                         std::string_view kafka_bootstrap, bool require_kafka,
                         std::vector<DebeziumPropertyProblem>* problems) {
  const std::string where = std::string(file_name) + ": ";
  // The problem of `property`: returned when not collecting, else recorded (Ok: go on).
  auto fail = [&](std::string_view property, Status status) -> Status {
    if (problems == nullptr) return status;
    problems->push_back({std::string(property), std::string(status.message())});
    return Status::Ok();
  };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return InvalidArgument(where +
                           "not a JSON object; give the connector configuration as "
                           "posted to Kafka Connect ({\"name\":...,\"config\":{...}})");
  }
  std::string connector_name;
  simdjson::dom::object config_object;
  simdjson::dom::element nested;
  if (root["config"].get(nested) == simdjson::SUCCESS) {
    if (!nested.is_object()) return InvalidArgument(where + "'config' is not a JSON object");
    config_object = nested.get_object().value_unsafe();
    std::string_view name;
    if (root["name"].get_string().get(name) == simdjson::SUCCESS)
      connector_name = std::string(name);
  } else {
    config_object = root.get_object().value_unsafe();
  }
  // Connect passes every value as a string; numbers and booleans are accepted too.
  std::map<std::string, std::string> properties;
  for (auto field : config_object) {
    std::string key(field.key);
    std::string value;
    if (field.value.is_string()) {
      value = std::string(field.value.get_string().value_unsafe());
    } else if (field.value.is_bool()) {
      value = field.value.get_bool().value_unsafe() ? "true" : "false";
    } else if (field.value.is_int64()) {
      value = std::to_string(field.value.get_int64().value_unsafe());
    } else if (field.value.is_uint64()) {
      value = std::to_string(field.value.get_uint64().value_unsafe());
    } else {
      EDDY_RETURN_IF_ERROR(fail(key, InvalidArgument(where + "property '" + key +
                                                     "' must be a string, number or boolean")));
      continue;
    }
    properties[key] = std::move(value);
  }
  if (connector_name.empty() && properties.count("name")) connector_name = properties["name"];

  std::vector<std::string> unsupported;
  for (const auto& [key, value] : properties) {
    if (kAcceptedAsIs.count(key) || kMapped.count(key)) continue;
    if (key.starts_with("column.mask.with.") && key.ends_with(".chars")) continue;
    unsupported.push_back(key);
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& key : unsupported) list += (list.empty() ? "" : ", ") + key;
    Status status = InvalidArgument(where + "Debezium properties eddy does not support: " + list +
                                    "; remove them (docs/migrating-from-debezium.md lists what "
                                    "eddy maps and what replaces the rest)");
    for (const auto& key : unsupported) EDDY_RETURN_IF_ERROR(fail(key, status));
  }
  auto get = [&](std::string_view key) -> std::string {
    auto it = properties.find(std::string(key));
    return it == properties.end() ? std::string() : it->second;
  };
  // A property's value eddy refuses, and how to fix it.
  auto reject = [&](std::string_view key, std::string_view fix) {
    return fail(key, InvalidArgument(where + "'" + std::string(key) + "' = \"" + get(key) +
                                     "\": " + std::string(fix)));
  };

  EngineConfig config;
  std::string scheme;
  std::string connector_class = get("connector.class");
  if (connector_class == "io.debezium.connector.postgresql.PostgresConnector") {
    scheme = "postgresql";
  } else if (connector_class == "io.debezium.connector.mysql.MySqlConnector") {
    scheme = "mysql";
  } else if (connector_class == "io.debezium.connector.mariadb.MariaDbConnector") {
    scheme = "mariadb";
  } else {
    EDDY_RETURN_IF_ERROR(reject("connector.class",
                                "eddy runs io.debezium.connector.postgresql.PostgresConnector, "
                                "io.debezium.connector.mysql.MySqlConnector and "
                                "io.debezium.connector.mariadb.MariaDbConnector"));
  }
  if (get("database.hostname").empty())
    EDDY_RETURN_IF_ERROR(reject("database.hostname", "set the database host"));
  std::string database = get("database.dbname");
  if (scheme != "postgresql" && database.empty()) {
    auto databases = SplitList(get("database.include.list"));
    if (databases.size() == 1) database = databases.front();
  }
  std::string url = scheme + "://" + PercentEncode(get("database.user"));
  if (!get("database.password").empty()) url += ":" + PercentEncode(get("database.password"));
  url += "@" + get("database.hostname");
  if (!get("database.port").empty()) url += ":" + get("database.port");
  url += "/" + PercentEncode(database);
  config.source.url = url;
  if (!get("plugin.name").empty() && get("plugin.name") != "pgoutput") {
    EDDY_RETURN_IF_ERROR(
        reject("plugin.name", "eddy decodes pgoutput only; use plugin.name=pgoutput"));
  }
  if (!get("include.schema.changes").empty() && get("include.schema.changes") != "true") {
    EDDY_RETURN_IF_ERROR(
        reject("include.schema.changes",
               "eddy always publishes MySQL schema changes; remove the property, or skip "
               "the <prefix> topic in consumers"));
  }
  if (!get("slot.name").empty()) config.source.slot_name = get("slot.name");
  if (!get("publication.name").empty()) config.source.publication_name = get("publication.name");
  if (!get("database.server.id").empty()) {
    const std::string server_id = get("database.server.id");  // `end` points into it
    char* end = nullptr;
    unsigned long id = std::strtoul(server_id.c_str(), &end, 10);
    if (*end != '\0' || id == 0 || id > 4294967295ul) {
      EDDY_RETURN_IF_ERROR(reject("database.server.id", "use a number from 1 to 4294967295"));
    }
    config.source.server_id = static_cast<uint32_t>(id);
  }
  std::string snapshot = get("snapshot.mode");
  if (!snapshot.empty()) {
    static const std::map<std::string, std::string, std::less<>> kSnapshotModes = {
        {"initial", "initial"}, {"initial_only", "initial_only"}, {"no_data", "no_data"},
        {"never", "no_data"},   {"schema_only", "no_data"},       {"when_needed", "when_needed"},
        {"always", "always"}};
    auto it = kSnapshotModes.find(snapshot);
    if (it == kSnapshotModes.end()) {
      EDDY_RETURN_IF_ERROR(
          reject("snapshot.mode",
                 "eddy supports initial, initial_only, no_data (never, schema_only), "
                 "when_needed, always"));
    } else {
      config.source.snapshot_mode = it->second;
    }
  }

  std::string prefix = get("topic.prefix");
  if (prefix.empty()) prefix = get("database.server.name");
  if (prefix.empty())
    EDDY_RETURN_IF_ERROR(reject("topic.prefix", "set it: every topic name starts with it"));
  StreamConfig stream;
  stream.name = prefix;
  for (char& c : stream.name) {
    if (!IsNameCharacter(c)) c = '_';
  }
  stream.format = "debezium";
  for (auto [key, target] :
       {std::pair<const char*, std::vector<std::string>*>{"table.include.list", &stream.tables},
        {"table.exclude.list", &stream.exclude_tables},
        {"column.include.list", &stream.include_columns},
        {"column.exclude.list", &stream.exclude_columns}}) {
    auto globs = Globs(key, get(key));
    if (!globs.ok()) {
      EDDY_RETURN_IF_ERROR(fail(key, globs.status()));
    } else {
      *target = std::move(*globs);
    }
  }
  for (const auto& [key, value] : properties) {
    if (!key.starts_with("column.mask.with.") || !key.ends_with(".chars")) continue;
    std::string count = key.substr(17, key.size() - 17 - 6);
    char* end = nullptr;
    unsigned long length = std::strtoul(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || length > 1024) {
      EDDY_RETURN_IF_ERROR(fail(key, InvalidArgument(where + "'" + key +
                                                     "': write column.mask.with.N.chars with N "
                                                     "0-1024")));
      continue;
    }
    auto globs = Globs(key, value);
    if (!globs.ok()) {
      EDDY_RETURN_IF_ERROR(fail(key, globs.status()));
      continue;
    }
    std::vector<std::string> columns = std::move(*globs);
    for (auto& column : columns) {
      MaskConfig mask;
      mask.columns = std::move(column);
      mask.kind = "asterisks";
      mask.length = static_cast<uint32_t>(length);
      stream.masks.push_back(std::move(mask));
    }
  }
  std::string transaction_metadata = get("provide.transaction.metadata");
  if (transaction_metadata == "true") {
    stream.transaction_metadata = true;
  } else if (!transaction_metadata.empty() && transaction_metadata != "false") {
    EDDY_RETURN_IF_ERROR(reject("provide.transaction.metadata", "use true or false"));
  }
  std::string heartbeat = get("heartbeat.interval.ms");
  if (!heartbeat.empty()) {
    char* end = nullptr;
    long long millis = std::strtoll(heartbeat.c_str(), &end, 10);
    if (*end != '\0' || millis < 0 || (millis > 0 && millis < 100) || millis > 86'400'000) {
      EDDY_RETURN_IF_ERROR(reject("heartbeat.interval.ms", "use 0 (off) or 100 to 86400000"));
    }
    stream.heartbeat_interval_ms = millis;
  }
  config.streams.push_back(std::move(stream));

  if (kafka_bootstrap.empty() && !require_kafka) return config;
  if (kafka_bootstrap.empty()) {
    return InvalidArgument(where +
                           "which Kafka cluster? pass --kafka-bootstrap HOST:PORT[,...] "
                           "(Debezium takes it from the Connect worker)");
  }
  consume::SinkSpec sink;
  sink.name = connector_name.empty() ? "debezium" : connector_name;
  for (char& c : sink.name) {
    if (!IsNameCharacter(c)) c = '_';
  }
  sink.stream = config.streams.front().name;
  sink.url = "kafka://" + std::string(kafka_bootstrap);
  sink.settings["topic_prefix"] = prefix;
  std::string schemas = get("value.converter.schemas.enable");
  sink.settings["format"] = schemas == "false" ? "debezium" : "debezium-schema";
  if (!get("message.key.columns").empty()) {
    sink.settings["message.key.columns"] = get("message.key.columns");
  }
  if (!get("tombstones.on.delete").empty()) {
    sink.settings["tombstones_on_delete"] = get("tombstones.on.delete");
  }
  if (properties.count("skipped.operations")) {
    sink.settings["skipped.operations"] =
        get("skipped.operations").empty() ? "none" : get("skipped.operations");
  }
  config.sinks.push_back(std::move(sink));
  return config;
}

}  // namespace

Result<EngineConfig> MapDebeziumConnector(std::string_view json, std::string_view file_name,
                                          std::string_view kafka_bootstrap, bool require_kafka) {
  return Map(json, file_name, kafka_bootstrap, require_kafka, nullptr);
}

Result<std::vector<DebeziumPropertyProblem>> DebeziumConnectorProblems(
    std::string_view json, std::string_view file_name, std::string_view kafka_bootstrap,
    bool require_kafka) {
  std::vector<DebeziumPropertyProblem> problems;
  auto mapped = Map(json, file_name, kafka_bootstrap, require_kafka, &problems);
  if (!mapped.ok()) return mapped.status();  // not a configuration at all
  return problems;
}

}  // namespace eddy::engine
