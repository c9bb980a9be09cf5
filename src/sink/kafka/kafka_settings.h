// The settings a Kafka destination owns, parsed once from a consume::SinkSpec
// (docs/sinks/kafka.md has the table). The runner's settings (batch_size, format, ...) are the
// runner's; `format` and `view_type` are read here too, because a primary-key change is
// re-rendered as a delete and a create in the sink's format.
//
//   kafka://HOST:PORT[,HOST:PORT...]?topic_prefix=NAME[&setting=value...]
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "format/renderer.h"

namespace eddy::sink::kafka {

// One `message.key.columns` entry: tables whose "<schema>.<table>" (PostgreSQL) or
// "<database>.<table>" (MySQL/MariaDB) fully matches `table`, keyed by `columns`.
struct KeyColumnsRule {
  std::string table_text;  // as written, for messages
  std::regex table;
  std::vector<std::string> columns;
};

// How many threads render a large batch's Kafka records (`render_threads`).
enum class RenderThreads : uint8_t {
  kAuto,  // two where the machine has three cores or more, else one
  kOne,   // the lane alone
  kTwo,   // the lane and a helper, each half of the batch
};

struct KafkaSettings {
  // "host:port,host:port" (librdkafka's bootstrap.servers).
  std::string bootstrap_servers;
  // Debezium's topic.prefix: the first part of every topic name. Required.
  std::string topic_prefix;
  // A template replacing Debezium's `<prefix>.<schema|database>.<table>`: {prefix},
  // {database}, {schema} ({database} where the source has no schemas) and {table} are
  // replaced; empty: Debezium's names.
  std::string topic_template;
  std::vector<KeyColumnsRule> key_columns;
  bool tombstones_on_delete = true;
  // Debezium's skipped.operations: the operations not published, any of 'c' (create), 'u'
  // (update), 'd' (delete), 't' (truncate); snapshot reads are always published. Debezium's
  // default skips truncates; "none" publishes everything.
  std::string skipped_operations = "t";
  // A Kafka transaction per batch holding the records and the sink's checkpoint; false:
  // at-least-once with the idempotent producer.
  bool exactly_once = true;
  std::string transactional_id;     // default "eddy.<topic_prefix>.<sink name>"
  std::string offsets_topic;        // default "__eddy_offsets.<topic_prefix>.<sink name>"
  std::string schema_change_topic;  // default "<topic_prefix>"
  std::string transaction_topic;    // default "<topic_prefix>.transaction"
  std::string heartbeat_topic;      // default "__debezium-heartbeat.<topic_prefix>"
  // For topics eddy creates through the admin API; nullopt: the cluster's default.
  std::optional<int32_t> partitions;
  std::optional<int16_t> replication_factor;
  // How long one attempt (connect, produce a batch, commit) may take before the batch fails
  // retriably and the sink goes IMPAIRED.
  std::chrono::milliseconds delivery_timeout{30'000};
  RenderThreads render_threads = RenderThreads::kAuto;
  // `kafka.NAME=VALUE` settings, NAME passed to librdkafka as is, in name order.
  std::vector<std::pair<std::string, std::string>> librdkafka;
  // The runner's `format` (default debezium-schema for this sink) and view type.
  std::string format = "debezium-schema";
  format::ViewType view_type = format::ViewType::kNewAndOldImages;
  std::string sink_name;
};

// Parses and checks every setting; InvalidArgument names the key (or the URL part) and what is
// accepted. No I/O.
Result<KafkaSettings> ParseKafkaSettings(const consume::SinkSpec& spec);

// The defaults this destination gives the runner's settings (format=debezium-schema: Kafka
// Connect's JsonConverter default), applied by the engine to specs that leave them unset.
std::vector<std::pair<std::string, std::string>> KafkaRunnerDefaults();

// Debezium's topic-name rule: characters outside [A-Za-z0-9._-] become '_'; at most 249.
std::string SanitizeTopicName(std::string_view name);

}  // namespace eddy::sink::kafka
