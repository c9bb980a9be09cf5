#include "sink/kafka/kafka_settings.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "base/duration.h"
#include "base/setting_parse.h"
#include "consume/sink_settings.h"

namespace eddy::sink::kafka {

namespace {

constexpr std::string_view kLibrdkafkaPrefix = "kafka.";
constexpr size_t kMaxTopicLength = 249;

// The keys this destination owns (besides kafka.NAME), in the order the docs list them.
constexpr std::array<std::string_view, 16> kOwnKeys = {
    "topic_prefix",        "topic",
    "message.key.columns", "tombstones_on_delete",
    "exactly_once",        "transactional_id",
    "offsets_topic",       "schema_change_topic",
    "transaction_topic",   "heartbeat_topic",
    "partitions",          "replication_factor",
    "delivery_timeout",    "render_threads",
    "format",              "skipped.operations"};

// librdkafka properties the sink sets itself: overriding them would break what it promises.
constexpr std::array<std::string_view, 5> kReservedLibrdkafka = {
    "bootstrap.servers", "transactional.id", "enable.idempotence", "partitioner", "acks"};

Status Invalid(std::string_view key, std::string_view value, std::string_view fix) {
  return InvalidArgument("kafka setting '" + std::string(key) + "' is \"" + std::string(value) +
                         "\"; " + std::string(fix));
}

Result<bool> ParseBool(std::string_view key, std::string_view text) {
  return ParseBoolSetting("kafka", key, text);
}

bool IsTopicName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxTopicLength && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
}

Status ParseBootstrap(std::string_view url, KafkaSettings& settings) {
  std::string shown(url.substr(0, url.find('?')));
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("sink URL '" + shown + "': " + std::string(what) +
                           "; write kafka://HOST:PORT[,HOST:PORT...]?topic_prefix=NAME");
  };
  constexpr std::string_view kScheme = "kafka://";
  if (!url.starts_with(kScheme)) return invalid("the scheme is not kafka");
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return invalid("no broker is given");
  if (rest.find('@') != std::string_view::npos) {
    return invalid(
        "credentials in the URL are not supported (use kafka.sasl.username and "
        "kafka.sasl.password)");
  }
  std::string servers;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view broker = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t colon = broker.rfind(':');
    if (broker.empty() || colon == std::string_view::npos || colon == 0) {
      return invalid("broker '" + std::string(broker) + "' is not HOST:PORT");
    }
    std::string_view host = broker.substr(0, colon);
    std::string_view port = broker.substr(colon + 1);
    bool port_ok =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!port_ok || std::stoi(std::string(port)) == 0 || std::stoi(std::string(port)) > 65535) {
      return invalid("the port of '" + std::string(broker) + "' is not a number from 1 to 65535");
    }
    for (char c : host) {
      if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '"' || c == '\\') {
        return invalid("host '" + std::string(host) + "' contains characters hosts do not have");
      }
    }
    if (!servers.empty()) servers += ",";
    servers += std::string(broker);
  }
  settings.bootstrap_servers = std::move(servers);
  return Status::Ok();
}

// Debezium's message.key.columns: "<table regex>:<column>,<column>;<table regex>:...".
Status ParseKeyColumns(std::string_view text, KafkaSettings& settings) {
  constexpr std::string_view kKey = "message.key.columns";
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t semicolon = rest.find(';');
    std::string_view entry = rest.substr(0, semicolon);
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
    if (entry.empty()) continue;
    size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size()) {
      return Invalid(kKey, text,
                     "write TABLE:COLUMN[,COLUMN...] entries separated by ';', like "
                     "public.orders:customer_id,id (TABLE is a regular expression over "
                     "schema.table or database.table)");
    }
    KeyColumnsRule rule;
    rule.table_text = std::string(entry.substr(0, colon));
    try {
      rule.table = std::regex(rule.table_text, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      return Invalid(
          kKey, text,
          "'" + rule.table_text + "' is not a regular expression (" + error.what() + ")");
    }
    std::string_view columns = entry.substr(colon + 1);
    while (!columns.empty()) {
      size_t comma = columns.find(',');
      std::string_view column = columns.substr(0, comma);
      columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
      while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
      while (!column.empty() && column.back() == ' ') column.remove_suffix(1);
      if (column.empty()) return Invalid(kKey, text, "a column name is empty");
      rule.columns.emplace_back(column);
    }
    settings.key_columns.push_back(std::move(rule));
  }
  return Status::Ok();
}

Status CheckTopic(std::string_view key, const std::string& value) {
  if (!IsTopicName(value)) {
    return Invalid(key, value, "a Kafka topic name is 1-249 characters of A-Z a-z 0-9 . _ -");
  }
  return Status::Ok();
}

}  // namespace

std::string SanitizeTopicName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.size() > kMaxTopicLength) out.resize(kMaxTopicLength);
  return out;
}

std::vector<std::pair<std::string, std::string>> KafkaRunnerDefaults() {
  return {{"format", "debezium-schema"}};
}

Result<KafkaSettings> ParseKafkaSettings(const consume::SinkSpec& spec) {
  KafkaSettings settings;
  settings.sink_name = spec.name;
  EDDY_RETURN_IF_ERROR(ParseBootstrap(spec.url, settings));
  for (const auto& [key, value] : spec.settings) {
    if (key.starts_with(kLibrdkafkaPrefix)) {
      std::string name = key.substr(kLibrdkafkaPrefix.size());
      if (name.empty()) {
        return InvalidArgument(
            "kafka setting 'kafka.': name a librdkafka property, like "
            "kafka.compression.type=lz4");
      }
      if (std::find(kReservedLibrdkafka.begin(), kReservedLibrdkafka.end(), name) !=
          kReservedLibrdkafka.end()) {
        return InvalidArgument("kafka setting '" + key +
                               "': eddy sets this librdkafka property itself (the URL's brokers, "
                               "exactly_once, transactional_id, the Java-compatible partitioner); "
                               "remove the setting");
      }
      settings.librdkafka.emplace_back(std::move(name), value);
    } else if (key == "topic_prefix") {
      EDDY_RETURN_IF_ERROR(CheckTopic(key, value));
      settings.topic_prefix = value;
    } else if (key == "topic") {
      if (value.empty()) return Invalid(key, value, "give a topic name or template");
      std::string probe = value;
      for (std::string_view placeholder : {"{prefix}", "{database}", "{schema}", "{table}"}) {
        for (size_t at = probe.find(placeholder); at != std::string::npos;
             at = probe.find(placeholder)) {
          probe.replace(at, placeholder.size(), "x");
        }
      }
      if (!IsTopicName(probe)) {
        return Invalid(key, value,
                       "use topic-name characters (A-Z a-z 0-9 . _ -) and the placeholders "
                       "{prefix}, {database}, {schema}, {table}");
      }
      settings.topic_template = value;
    } else if (key == "message.key.columns") {
      EDDY_RETURN_IF_ERROR(ParseKeyColumns(value, settings));
    } else if (key == "skipped.operations") {
      std::string operations;
      if (value != "none") {
        std::string_view rest = value;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view op = rest.substr(0, comma);
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          while (!op.empty() && op.front() == ' ') op.remove_prefix(1);
          while (!op.empty() && op.back() == ' ') op.remove_suffix(1);
          if (op.size() != 1 || std::string_view("cudt").find(op[0]) == std::string_view::npos) {
            return Invalid(key, value, "use a comma-separated list of c, u, d, t, or none");
          }
          operations += op[0];
        }
      }
      settings.skipped_operations = operations;
    } else if (key == "tombstones_on_delete") {
      EDDY_ASSIGN_OR_RETURN(settings.tombstones_on_delete, ParseBool(key, value));
    } else if (key == "exactly_once") {
      EDDY_ASSIGN_OR_RETURN(settings.exactly_once, ParseBool(key, value));
    } else if (key == "transactional_id") {
      if (value.empty() || value.size() > 255) {
        return Invalid(key, value, "use 1-255 characters, stable across restarts of this sink");
      }
      settings.transactional_id = value;
    } else if (key == "offsets_topic") {
      EDDY_RETURN_IF_ERROR(CheckTopic(key, value));
      settings.offsets_topic = value;
    } else if (key == "schema_change_topic") {
      EDDY_RETURN_IF_ERROR(CheckTopic(key, value));
      settings.schema_change_topic = value;
    } else if (key == "transaction_topic") {
      EDDY_RETURN_IF_ERROR(CheckTopic(key, value));
      settings.transaction_topic = value;
    } else if (key == "heartbeat_topic") {
      EDDY_RETURN_IF_ERROR(CheckTopic(key, value));
      settings.heartbeat_topic = value;
    } else if (key == "partitions") {
      char* end = nullptr;
      long parsed = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || parsed < 1 || parsed > 100000) {
        return Invalid(key, value, "use a partition count from 1 to 100000");
      }
      settings.partitions = static_cast<int32_t>(parsed);
    } else if (key == "replication_factor") {
      char* end = nullptr;
      long parsed = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || parsed < 1 || parsed > 32767) {
        return Invalid(key, value, "use a replication factor from 1 to the number of brokers");
      }
      settings.replication_factor = static_cast<int16_t>(parsed);
    } else if (key == "delivery_timeout") {
      auto parsed = ParseSecondsOrDuration(value);
      if (!parsed.ok() || parsed->count() < 100 || parsed->count() > 900'000) {
        return Invalid(key, value,
                       "use a duration from 100ms to 900 seconds, as seconds (\"30\") or with a "
                       "unit (\"500ms\", \"30s\")");
      }
      settings.delivery_timeout = *parsed;
    } else if (key == "render_threads") {
      if (value == "auto") {
        settings.render_threads = RenderThreads::kAuto;
      } else if (value == "1") {
        settings.render_threads = RenderThreads::kOne;
      } else if (value == "2") {
        settings.render_threads = RenderThreads::kTwo;
      } else {
        return Invalid(key, value,
                       "use auto (two threads where the machine has three cores or more), 1 or 2");
      }
    } else if (key == "format") {
      settings.format = value;  // the runner checks the name
    } else if (key == "view_type") {
      auto view = format::ParseViewType(value);
      if (!view.ok()) return view.status().WithContext("kafka setting 'view_type'");
      settings.view_type = *view;
    } else if (!consume::IsRunnerSetting(key)) {
      std::string known;
      for (std::string_view own : kOwnKeys) known += std::string(own) + ", ";
      return InvalidArgument("unknown kafka setting '" + key + "'; the kafka sink knows " + known +
                             "kafka.PROPERTY (any librdkafka property) and the sink settings of "
                             "docs/sinks/kafka.md");
    }
  }
  if (settings.exactly_once) {
    // The checkpoint committed with a batch is one position per shard: with several lanes a
    // lane behind another holds every shard's position back, so a restart would repeat the
    // other lane's committed batches. One lane delivers in order and the position is exact
    // (a transactional producer commits one batch at a time anyway).
    auto lanes = spec.settings.find("parallelization_factor");
    if (lanes != spec.settings.end() && lanes->second != "1") {
      return InvalidArgument("kafka setting 'parallelization_factor' is \"" + lanes->second +
                             "\" with exactly_once: exactly-once delivery commits one batch at "
                             "a time in order; remove parallelization_factor (or set "
                             "exactly_once=false for concurrent batches)");
    }
  }
  if (settings.topic_prefix.empty()) {
    return InvalidArgument(
        "kafka setting 'topic_prefix' is missing; every topic name starts with it, as Debezium's "
        "topic.prefix: add ?topic_prefix=NAME to the sink URL (or topic_prefix = \"NAME\")");
  }
  std::string tail = settings.topic_prefix + "." + spec.name;
  if (settings.transactional_id.empty()) settings.transactional_id = "eddy." + tail;
  if (settings.offsets_topic.empty()) {
    settings.offsets_topic = SanitizeTopicName("__eddy_offsets." + tail);
  }
  if (settings.schema_change_topic.empty()) settings.schema_change_topic = settings.topic_prefix;
  if (settings.transaction_topic.empty()) {
    settings.transaction_topic = SanitizeTopicName(settings.topic_prefix + ".transaction");
  }
  if (settings.heartbeat_topic.empty()) {
    settings.heartbeat_topic = SanitizeTopicName("__debezium-heartbeat." + settings.topic_prefix);
  }
  return settings;
}

}  // namespace eddy::sink::kafka
