// Kafka Connect's connector-plugin resources for the Debezium connectors eddy runs
// (engine/connect_api.h routes them; docs/kafka-connect-api.md):
//
//   GET /connector-plugins/{plugin}/config           [ConfigKeyInfo, ...]: the properties
//                                                    eddy maps, as Connect describes a
//                                                    connector's ConfigDef
//   PUT /connector-plugins/{plugin}/config/validate  ConfigInfos: {name, error_count, groups,
//                                                    configs: [{definition, value: {name,
//                                                    value, recommended_values, errors,
//                                                    visible}}]}
//
// `plugin` is a class name, its simple name or its alias (PostgresConnector, Postgres), as
// Connect resolves them. Validation runs the checks POST /connectors runs (the connector
// name, MapDebeziumConnector property by property, then the source and stream checks), so
// each error is the one creating the connector would give, attached to its property.
//
// Thread safety: stateless functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eddy::engine {

// The connector class `plugin` names, or nullopt when eddy runs no such connector.
std::optional<std::string> ResolveConnectPlugin(std::string_view plugin);

// The JSON array of ConfigKeyInfo of `connector_class` (a resolved class).
std::string ConnectPluginConfigJson(const std::string& connector_class);

// The result of validating the configuration `config` (the body: a JSON object of property ->
// value) for the plugin `plugin` resolved as `connector_class`: the ConfigInfos JSON, or the
// Connect error (status 400 and message) when the body is no configuration or names another
// connector class.
struct ConnectValidation {
  int status = 200;
  std::string body;     // ConfigInfos when status is 200
  std::string message;  // the error otherwise
};
ConnectValidation ValidateConnectConfig(std::string_view plugin, const std::string& connector_class,
                                        std::string_view config, std::string_view kafka_bootstrap);

// Whether `name` can name a connector (and so an eddy source and sink); the message Create
// answers otherwise.
bool IsConnectorName(std::string_view name);
std::string ConnectorNameProblem(const std::string& name);

}  // namespace eddy::engine
