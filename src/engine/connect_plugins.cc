#include "engine/connect_plugins.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <vector>

#include "api/json_writer.h"
#include "engine/config.h"
#include "engine/debezium_config.h"

namespace eddy::engine {
namespace {

constexpr std::string_view kPostgres = "io.debezium.connector.postgresql.PostgresConnector";
constexpr std::string_view kMysql = "io.debezium.connector.mysql.MySqlConnector";
constexpr std::string_view kMariaDb = "io.debezium.connector.mariadb.MariaDbConnector";

// Which connectors a property applies to.
enum Applies : uint8_t { kAll = 7, kPostgresOnly = 1, kBinlogOnly = 6 };

struct Definition {
  const char* name;
  const char* type;  // Connect's ConfigDef.Type: STRING, INT, LONG, BOOLEAN, LIST, PASSWORD
  bool required;
  const char* default_value;  // nullptr: none (JSON null)
  const char* importance;     // HIGH, MEDIUM, LOW
  const char* group;
  const char* display_name;
  const char* documentation;
  Applies applies;
};

// The properties eddy maps or accepts (engine/debezium_config.cc), in Connect's group order.
const std::vector<Definition>& Definitions() {
  static const std::vector<Definition> kDefinitions = {
      {"name", "STRING", true, nullptr, "HIGH", "Common", "Connector name",
       "Globally unique name of the connector; it also names the eddy source and Kafka sink.",
       kAll},
      {"connector.class", "STRING", true, nullptr, "HIGH", "Common", "Connector class",
       "The Debezium connector class eddy runs in its place.", kAll},
      {"tasks.max", "INT", false, "1", "HIGH", "Common", "Tasks max",
       "Accepted; eddy runs one capture (task 0) per connector.", kAll},
      {"key.converter", "STRING", false, nullptr, "LOW", "Common", "Key converter class",
       "Accepted; eddy writes Debezium's JSON keys.", kAll},
      {"value.converter", "STRING", false, nullptr, "LOW", "Common", "Value converter class",
       "Accepted; eddy writes Debezium's JSON envelope.", kAll},
      {"key.converter.schemas.enable", "BOOLEAN", false, "true", "LOW", "Common", "Key schemas",
       "Accepted as Connect's JsonConverter setting.", kAll},
      {"value.converter.schemas.enable", "BOOLEAN", false, "true", "LOW", "Common", "Value schemas",
       "false: the envelope without its schema part (format debezium).", kAll},
      {"topic.prefix", "STRING", true, nullptr, "HIGH", "Connector", "Topic prefix",
       "Prefix of every topic name; also names the eddy stream. Cannot change later.", kAll},
      {"database.hostname", "STRING", true, nullptr, "HIGH", "Connection", "Hostname",
       "Host of the source database.", kAll},
      {"database.port", "INT", false, nullptr, "HIGH", "Connection", "Port",
       "Port of the source database (the driver's default when empty).", kAll},
      {"database.user", "STRING", false, nullptr, "HIGH", "Connection", "User",
       "User eddy connects as (replication rights needed).", kAll},
      {"database.password", "PASSWORD", false, nullptr, "HIGH", "Connection", "Password",
       "Password of database.user.", kAll},
      {"database.dbname", "STRING", false, nullptr, "HIGH", "Connection", "Database",
       "Database to capture.", kAll},
      {"database.server.id", "LONG", false, nullptr, "LOW", "Connection", "Server id",
       "Replica server id eddy uses on the binlog connection (1-4294967295).", kBinlogOnly},
      {"slot.name", "STRING", false, "debezium", "MEDIUM", "Connection", "Slot",
       "Logical replication slot eddy creates and reads.", kPostgresOnly},
      {"publication.name", "STRING", false, "dbz_publication", "MEDIUM", "Connection",
       "Publication", "Publication of the captured tables.", kPostgresOnly},
      {"plugin.name", "STRING", false, "pgoutput", "MEDIUM", "Connection", "Plugin",
       "Logical decoding plugin; eddy decodes pgoutput only.", kPostgresOnly},
      {"database.include.list", "LIST", false, nullptr, "HIGH", "Filters", "Databases",
       "Databases to capture (one database names the source's).", kBinlogOnly},
      {"table.include.list", "LIST", false, nullptr, "HIGH", "Filters", "Include tables",
       "Tables to capture, as schema.table regular expressions eddy turns into globs.", kAll},
      {"table.exclude.list", "LIST", false, nullptr, "HIGH", "Filters", "Exclude tables",
       "Tables not to capture.", kAll},
      {"column.include.list", "LIST", false, nullptr, "MEDIUM", "Filters", "Include columns",
       "Columns to keep, as schema.table.column expressions.", kAll},
      {"column.exclude.list", "LIST", false, nullptr, "MEDIUM", "Filters", "Exclude columns",
       "Columns to drop.", kAll},
      {"message.key.columns", "STRING", false, nullptr, "MEDIUM", "Filters", "Key columns",
       "Columns making the Kafka message key, per table.", kAll},
      {"snapshot.mode", "STRING", false, "initial", "MEDIUM", "Connector", "Snapshot mode",
       "initial, initial_only, no_data (never, schema_only), when_needed or always.", kAll},
      {"tombstones.on.delete", "BOOLEAN", false, "true", "MEDIUM", "Connector", "Tombstones",
       "Whether a delete is followed by a tombstone.", kAll},
      {"provide.transaction.metadata", "BOOLEAN", false, "false", "LOW", "Connector",
       "Transaction metadata", "BEGIN/END records and each event's transaction block.", kAll},
      {"heartbeat.interval.ms", "INT", false, "0", "MEDIUM", "Connector", "Heartbeat interval",
       "Heartbeat records on an idle stream; 0 (off) or 100 to 86400000.", kAll},
      {"skipped.operations", "LIST", false, "t", "LOW", "Connector", "Skipped operations",
       "Operations not published (c, u, d, t; none).", kAll},
      {"include.schema.changes", "BOOLEAN", false, "true", "LOW", "Connector", "Schema changes",
       "eddy always publishes MySQL schema changes (true only).", kBinlogOnly},
      {"schema.history.internal.kafka.topic", "STRING", false, nullptr, "LOW", "Connector",
       "Schema history topic", "Accepted; eddy keeps schema history in its log.", kBinlogOnly},
      {"schema.history.internal.kafka.bootstrap.servers", "STRING", false, nullptr, "LOW",
       "Connector", "Schema history servers", "Accepted; not used.", kBinlogOnly},
  };
  return kDefinitions;
}

uint8_t Bit(const std::string& connector_class) {
  if (connector_class == kPostgres) return 1;
  if (connector_class == kMysql) return 2;
  return 4;
}

std::vector<Definition> DefinitionsOf(const std::string& connector_class) {
  std::vector<Definition> out;
  for (const auto& definition : Definitions()) {
    if ((definition.applies & Bit(connector_class)) != 0) out.push_back(definition);
  }
  return out;
}

void WriteDefinition(api::JsonWriter& json, const Definition& definition, int order) {
  json.BeginObject();
  json.Member("name", definition.name);
  json.Member("type", definition.type);
  json.MemberBool("required", definition.required);
  json.Key("default_value");
  if (definition.default_value == nullptr) {
    json.Null();
  } else {
    json.String(definition.default_value);
  }
  json.Member("importance", definition.importance);
  json.Member("documentation", definition.documentation);
  json.Member("group", definition.group);
  json.Member("width", "MEDIUM");
  json.Member("display_name", definition.display_name);
  json.Key("dependents");
  json.BeginArray();
  json.EndArray();
  json.MemberInt("order", order);
  json.EndObject();
}

// Connect's normalization: a name ending in "Connector" is compared without it.
std::string_view Normalized(std::string_view name) {
  constexpr std::string_view kSuffix = "Connector";
  if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) {
    name.remove_suffix(kSuffix.size());
  }
  return name;
}

}  // namespace

bool IsConnectorName(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string ConnectorNameProblem(const std::string& name) {
  return "connector name '" + name +
         "' must be 1-128 characters of letters, digits, '_', '.', '-' (it names the eddy "
         "source and sink)";
}

std::optional<std::string> ResolveConnectPlugin(std::string_view plugin) {
  for (std::string_view candidate : {kPostgres, kMysql, kMariaDb}) {
    std::string_view simple = candidate.substr(candidate.rfind('.') + 1);
    if (plugin == candidate || plugin == simple || plugin == Normalized(simple)) {
      return std::string(candidate);
    }
  }
  return std::nullopt;
}

std::string ConnectPluginConfigJson(const std::string& connector_class) {
  api::JsonWriter json;
  json.BeginArray();
  int order = 1;
  for (const auto& definition : DefinitionsOf(connector_class)) {
    WriteDefinition(json, definition, order++);
  }
  json.EndArray();
  return json.Take();
}

ConnectValidation ValidateConnectConfig(std::string_view plugin, const std::string& connector_class,
                                        std::string_view config, std::string_view kafka_bootstrap) {
  ConnectValidation result;
  auto refuse = [&](std::string message) {
    result.status = 400;
    result.message = std::move(message);
    return result;
  };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(config);
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || root.get_object().get(object)) {
    return refuse(
        "the body must be the connector's configuration, a JSON object of property names to "
        "values, like {\"connector.class\": \"" +
        connector_class + "\", \"name\": \"inventory\", ...}");
  }
  // The values as text, as the mapper reads them (strings; numbers and booleans too).
  std::map<std::string, std::string> values;
  for (auto field : object) {
    std::string_view text;
    if (field.value.get_string().get(text) == simdjson::SUCCESS) {
      values[std::string(field.key)] = std::string(text);
    } else {
      values[std::string(field.key)] = simdjson::minify(field.value);
    }
  }
  auto included = values.find("connector.class");
  if (included == values.end()) {
    return refuse("Connector config has no connector type: set \"connector.class\": \"" +
                  connector_class + "\"");
  }
  if (!Normalized(included->second).ends_with(Normalized(plugin))) {
    return refuse("Included connector type " + included->second + " does not match request type " +
                  std::string(plugin));
  }
  // The checks of POST /connectors, in its order (connect_api.cc Create).
  std::map<std::string, std::vector<std::string>> errors;
  std::string name = values.count("name") ? values["name"] : "";
  if (!values.count("name")) {
    errors["name"].push_back("Missing required configuration \"name\" which has no default value.");
  } else if (!IsConnectorName(name)) {
    errors["name"].push_back(ConnectorNameProblem(name));
  }
  api::JsonWriter quoted;
  quoted.String(name);
  std::string recorded =
      "{\"name\":" + quoted.Take() + ",\"config\":" + std::string(simdjson::minify(root)) + "}";
  std::string where = "connector '" + name + "'";
  auto problems = DebeziumConnectorProblems(recorded, where, kafka_bootstrap, false);
  if (!problems.ok()) return refuse(std::string(problems.status().message()));
  for (const auto& problem : *problems) errors[problem.property].push_back(problem.message);
  if (problems->empty()) {
    // What CreateSource and CreateStream check on the mapped parts.
    auto mapped = MapDebeziumConnector(recorded, where, kafka_bootstrap, false);
    if (mapped.ok()) {
      SourceConfig source = mapped->source;
      source.name = IsConnectorName(name) ? name : "connector";
      if (Status checked = ValidateSource(source); !checked.ok()) {
        errors["database.hostname"].push_back(std::string(checked.message()));
      }
      StreamConfig stream = mapped->streams.front();
      stream.source = source.name;
      if (Status checked = ValidateStream(stream); !checked.ok()) {
        errors["topic.prefix"].push_back(std::string(checked.message()));
      }
    }
  }

  std::vector<Definition> definitions = DefinitionsOf(connector_class);
  // Properties of the body without a definition: the masks (valid) and what eddy refuses.
  // Their names live in `extra_names`, complete before the definitions point into it.
  std::vector<std::string> extra_names;
  for (const auto& [key, value] : values) {
    bool known = std::any_of(definitions.begin(), definitions.end(),
                             [&](const Definition& d) { return key == d.name; });
    if (!known) extra_names.push_back(key);
  }
  for (const auto& key : extra_names) {
    bool mask = key.starts_with("column.mask.with.") && key.ends_with(".chars");
    definitions.push_back(Definition{
        key.c_str(), "STRING", false, nullptr, "LOW", mask ? "Filters" : "Not supported by eddy",
        key.c_str(),
        mask ? "Columns masked with N asterisks." : "A property eddy does not map; remove it.",
        kAll});
  }
  int error_count = 0;
  for (const auto& [key, messages] : errors) error_count += static_cast<int>(messages.size());
  std::vector<std::string> groups;
  for (const auto& definition : definitions) {
    if (std::find(groups.begin(), groups.end(), definition.group) == groups.end()) {
      groups.emplace_back(definition.group);
    }
  }
  api::JsonWriter json;
  json.BeginObject();
  json.Member("name", connector_class);
  json.MemberInt("error_count", error_count);
  json.Key("groups");
  json.BeginArray();
  for (const auto& group : groups) json.String(group);
  json.EndArray();
  json.Key("configs");
  json.BeginArray();
  int order = 1;
  for (const Definition& definition : definitions) {
    std::string key = definition.name;
    json.BeginObject();
    json.Key("definition");
    WriteDefinition(json, definition, order++);
    json.Key("value");
    json.BeginObject();
    json.Member("name", key);
    json.Key("value");
    auto value = values.find(key);
    if (value != values.end() && std::string_view(definition.type) == "PASSWORD") {
      json.String("[hidden]");
    } else if (value != values.end()) {
      json.String(value->second);
    } else if (definition.default_value != nullptr) {
      json.String(definition.default_value);
    } else {
      json.Null();
    }
    json.Key("recommended_values");
    json.BeginArray();
    json.EndArray();
    json.Key("errors");
    json.BeginArray();
    if (auto found = errors.find(key); found != errors.end()) {
      for (const auto& message : found->second) json.String(message);
    }
    json.EndArray();
    json.MemberBool("visible", true);
    json.EndObject();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  result.body = json.Take();
  return result;
}

}  // namespace eddy::engine
