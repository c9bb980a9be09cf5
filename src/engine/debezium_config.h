// `eddy run --debezium-config FILE`: a Debezium connector configuration (the JSON posted to
// Kafka Connect, `{"name":..,"config":{..}}` or the bare config map) mapped onto eddy's
// source, stream, shaping and Kafka sink, so a Debezium deployment moves over without
// rewriting its configuration. Every property eddy does not support is named in the error
// instead of being ignored (docs/migrating-from-debezium.md has the table).
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/config.h"

namespace eddy::engine {

// Maps the connector configuration in `json` onto a configuration with one source, one stream
// (named after topic.prefix) and one Kafka sink writing to `kafka_bootstrap`
// ("HOST:PORT,..."). InvalidArgument naming the property (or every unsupported property at
// once) on anything eddy cannot honour. `file_name` prefixes messages. With `require_kafka`
// false an empty `kafka_bootstrap` maps no sink (the changes stay in the eddy stream; the
// Kafka Connect API without a [kafka] cluster).
Result<EngineConfig> MapDebeziumConnector(std::string_view json, std::string_view file_name,
                                          std::string_view kafka_bootstrap,
                                          bool require_kafka = true);

// What MapDebeziumConnector refuses, property by property (Kafka Connect's
// /connector-plugins/{class}/config/validate): each problem names its property and carries
// the message MapDebeziumConnector would give for it; the first one is the error it gives.
// Empty: the configuration maps. An error (not a problem list) only when `json` is no
// configuration at all (not a JSON object, 'config' not an object).
struct DebeziumPropertyProblem {
  std::string property;
  std::string message;
};
Result<std::vector<DebeziumPropertyProblem>> DebeziumConnectorProblems(
    std::string_view json, std::string_view file_name, std::string_view kafka_bootstrap,
    bool require_kafka = true);

}  // namespace eddy::engine
