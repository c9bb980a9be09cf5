#include "engine/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "base/duration.h"
#include "engine/sink_config.h"
#include "source/source_url.h"

namespace eddy::engine {
namespace {

// Levenshtein distance, for "did you mean" suggestions on unknown keys.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Reads one TOML table into a struct, key by key, remembering the file for messages.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, std::string_view file_name)
      : table_(table), path_(std::move(path)), file_name_(file_name) {}

  // Each Read* consumes a key; Finish() reports keys nobody consumed.
  Status ReadString(const char* key, std::string& out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Status::Ok();
    if (const auto* value = node->as_string()) {
      out = value->get();
      return Status::Ok();
    }
    return Error(*node, key, "must be a string (in double quotes)");
  }

  Status ReadBool(const char* key, bool& out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Status::Ok();
    if (const auto* value = node->as_boolean()) {
      out = value->get();
      return Status::Ok();
    }
    return Error(*node, key, "must be true or false");
  }

  Status ReadUnsigned(const char* key, uint32_t& out, uint32_t minimum, uint32_t maximum) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Status::Ok();
    const auto* value = node->as_integer();
    if (value == nullptr) return Error(*node, key, "must be an integer (without quotes)");
    int64_t number = value->get();
    if (number < minimum || number > maximum) {
      return Error(*node, key,
                   "is " + std::to_string(number) + "; it must be between " +
                       std::to_string(minimum) + " and " + std::to_string(maximum));
    }
    out = static_cast<uint32_t>(number);
    return Status::Ok();
  }

  Status ReadStringList(const char* key, std::vector<std::string>& out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Status::Ok();
    const auto* array = node->as_array();
    if (array == nullptr)
      return Error(*node, key, "must be a list of strings, like [\"public.orders\"]");
    out.clear();
    for (const auto& element : *array) {
      const auto* text = element.as_string();
      if (text == nullptr) return Error(element, key, "must contain only strings");
      out.push_back(text->get());
    }
    return Status::Ok();
  }

  // Returns the sub-table `key` or nullptr; a non-table value is an error.
  Result<const toml::table*> ReadTable(const char* key) {
    const toml::node* node = Take(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (const auto* table = node->as_table()) return table;
    return Error(*node, key, "must be a table ([" + Qualified(key) + "])");
  }

  // Returns the array of tables `key` ([[key]] entries); a lone table is accepted as one entry.
  Result<std::vector<const toml::table*>> ReadTableList(const char* key) {
    std::vector<const toml::table*> tables;
    const toml::node* node = Take(key);
    if (node == nullptr) return tables;
    if (const auto* table = node->as_table()) {
      tables.push_back(table);
      return tables;
    }
    const auto* array = node->as_array();
    if (array == nullptr)
      return Error(*node, key, "must be a list of tables ([[" + Qualified(key) + "]])");
    for (const auto& element : *array) {
      const auto* table = element.as_table();
      if (table == nullptr)
        return Error(element, key, "must contain only tables ([[" + Qualified(key) + "]])");
      tables.push_back(table);
    }
    return tables;
  }

  Status Finish(const std::vector<std::string_view>& known) const {
    for (const auto& [key, node] : table_) {
      if (consumed_.count(std::string(key.str()))) continue;
      std::string message = "unknown key '" + Qualified(key.str()) + "'";
      std::string_view best;
      size_t best_distance = 3;
      for (auto candidate : known) {
        size_t distance = EditDistance(key.str(), candidate);
        if (distance < best_distance) {
          best_distance = distance;
          best = candidate;
        }
      }
      if (!best.empty()) {
        message += "; did you mean '" + Qualified(best) + "'?";
      } else {
        message += "; allowed keys here:";
        for (auto candidate : known) message += " " + std::string(candidate);
      }
      return InvalidArgument(Where(node) + message);
    }
    return Status::Ok();
  }

  std::string Qualified(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  std::string Where(const toml::node& node) const {
    std::string where(file_name_);
    if (node.source().begin.line > 0) where += " line " + std::to_string(node.source().begin.line);
    return where + ": ";
  }

 private:
  const toml::node* Take(const char* key) {
    consumed_.insert(key);
    return table_.get(key);
  }
  Status Error(const toml::node& node, std::string_view key, const std::string& what) const {
    return InvalidArgument(Where(node) + "'" + Qualified(key) + "' " + what);
  }

  const toml::table& table_;
  std::string path_;
  std::string_view file_name_;
  std::set<std::string> consumed_;
};

Status OneOf(std::string_view where, std::string_view key, const std::string& value,
             std::initializer_list<std::string_view> allowed) {
  for (auto candidate : allowed) {
    if (value == candidate) return Status::Ok();
  }
  std::string message =
      std::string(where) + "'" + std::string(key) + "' is '" + value + "'; allowed values:";
  for (auto candidate : allowed) message += " " + std::string(candidate);
  return InvalidArgument(message);
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string part(text.substr(start, comma - start));
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (!part.empty()) parts.push_back(part);
    start = comma + 1;
  }
  return parts;
}

Status ParseSourceTable(const toml::table& table, std::string_view file_name,
                        SourceConfig& source) {
  TableReader source_reader(table, "source", file_name);
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("name", source.name));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("url", source.url));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("slot_name", source.slot_name));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("publication_name", source.publication_name));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("snapshot_mode", source.snapshot_mode));
  EDDY_RETURN_IF_ERROR(source_reader.ReadUnsigned("server_id", source.server_id, 1, 4294967295u));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("snapshot_type", source.snapshot_type));
  EDDY_RETURN_IF_ERROR(
      source_reader.ReadUnsigned("snapshot_chunk_size", source.snapshot_chunk_size, 1, 10000000));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("signal_table", source.signal_table));
  EDDY_RETURN_IF_ERROR(source_reader.ReadString("watermark_table", source.watermark_table));
  EDDY_RETURN_IF_ERROR(
      source_reader.ReadUnsigned("snapshot_parallelism", source.snapshot_parallelism, 1, 64));
  EDDY_RETURN_IF_ERROR(
      source_reader.Finish({"name", "url", "slot_name", "publication_name", "snapshot_mode",
                            "server_id", "snapshot_type", "snapshot_chunk_size", "signal_table",
                            "watermark_table", "snapshot_parallelism"}));
  EDDY_RETURN_IF_ERROR(OneOf(source_reader.Where(table), "source.snapshot_type",
                             source.snapshot_type, {"blocking", "incremental"}));
  if (!source.snapshot_mode.empty()) {
    EDDY_RETURN_IF_ERROR(OneOf(source_reader.Where(table), "source.snapshot_mode",
                               source.snapshot_mode,
                               {"initial", "initial_only", "no_data", "when_needed", "always"}));
  }
  return Status::Ok();
}

bool IsResourceName(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

Result<EngineConfig> ParseConfig(std::string_view text, std::string_view file_name) {
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& error) {
    return InvalidArgument(std::string(file_name) + " line " +
                           std::to_string(error.source().begin.line) + " column " +
                           std::to_string(error.source().begin.column) +
                           ": not valid TOML: " + std::string(error.description()));
  }

  EngineConfig config;
  TableReader reader(root, "", file_name);
  EDDY_RETURN_IF_ERROR(reader.ReadString("data_dir", config.data_dir));

  // `[source]` (one table) or `[[source]]` (a list of named sources).
  if (const toml::node* node = root.get("source"); node != nullptr && node->is_array()) {
    EDDY_ASSIGN_OR_RETURN(auto sources, reader.ReadTableList("source"));
    for (size_t i = 0; i < sources.size(); ++i) {
      SourceConfig source;
      EDDY_RETURN_IF_ERROR(ParseSourceTable(*sources[i], file_name, source));
      if (source.name.empty()) {
        return InvalidArgument(TableReader(*sources[i], "source", file_name).Where(*sources[i]) +
                               "[[source]] number " + std::to_string(i + 1) +
                               " has no 'name'; add name = \"orders-db\" (streams name it "
                               "with source = \"orders-db\")");
      }
      config.sources.push_back(std::move(source));
    }
  } else {
    EDDY_ASSIGN_OR_RETURN(const toml::table* source, reader.ReadTable("source"));
    if (source != nullptr)
      EDDY_RETURN_IF_ERROR(ParseSourceTable(*source, file_name, config.source));
  }

  EDDY_ASSIGN_OR_RETURN(auto streams, reader.ReadTableList("stream"));
  for (size_t i = 0; i < streams.size(); ++i) {
    const toml::table& table = *streams[i];
    StreamConfig stream;
    TableReader stream_reader(table, "stream", file_name);
    EDDY_RETURN_IF_ERROR(stream_reader.ReadString("name", stream.name));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadString("source", stream.source));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadString("format", stream.format));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadString("view_type", stream.view_type));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadStringList("tables", stream.tables));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadString("ordering", stream.ordering));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadUnsigned("shards", stream.shards, 1, 1024));
    EDDY_RETURN_IF_ERROR(
        stream_reader.ReadUnsigned("retention_hours", stream.retention_hours, 1, 8760));
    EDDY_RETURN_IF_ERROR(
        stream_reader.ReadUnsigned("max_record_kib", stream.max_record_kib, 1, 10240));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadStringList("exclude_tables", stream.exclude_tables));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadStringList("include_columns", stream.include_columns));
    EDDY_RETURN_IF_ERROR(stream_reader.ReadStringList("exclude_columns", stream.exclude_columns));
    EDDY_RETURN_IF_ERROR(
        stream_reader.ReadBool("transaction_metadata", stream.transaction_metadata));
    {
      std::string interval;
      EDDY_RETURN_IF_ERROR(stream_reader.ReadString("heartbeat_interval", interval));
      if (!interval.empty()) {
        auto millis = ParseDurationMillis(interval);
        if (!millis.ok() || *millis < 100 || *millis > 24 * 3600 * 1000) {
          return InvalidArgument(stream_reader.Where(table) + "'stream.heartbeat_interval' is \"" +
                                 interval +
                                 "\"; use a duration between \"100ms\" and \"24h\", "
                                 "like \"10s\" (units ms, s, m, h)");
        }
        stream.heartbeat_interval_ms = *millis;
      }
    }
    EDDY_ASSIGN_OR_RETURN(auto masks, stream_reader.ReadTableList("mask"));
    for (const toml::table* mask_table : masks) {
      MaskConfig mask;
      TableReader mask_reader(*mask_table, "stream.mask", file_name);
      EDDY_RETURN_IF_ERROR(mask_reader.ReadString("columns", mask.columns));
      EDDY_RETURN_IF_ERROR(mask_reader.ReadString("kind", mask.kind));
      EDDY_RETURN_IF_ERROR(mask_reader.ReadUnsigned("length", mask.length, 0, 1024));
      EDDY_RETURN_IF_ERROR(mask_reader.ReadString("salt", mask.salt));
      EDDY_RETURN_IF_ERROR(mask_reader.Finish({"columns", "kind", "length", "salt"}));
      std::string where = mask_reader.Where(*mask_table);
      if (mask.columns.empty()) {
        return InvalidArgument(
            where + "[[stream.mask]] needs columns = \"schema.table.column\" (globs allowed)");
      }
      EDDY_RETURN_IF_ERROR(
          OneOf(where, "stream.mask.kind", mask.kind, {"asterisks", "hash", "truncate"}));
      stream.masks.push_back(std::move(mask));
    }
    EDDY_ASSIGN_OR_RETURN(auto keys, stream_reader.ReadTableList("key"));
    for (const toml::table* key_table : keys) {
      KeyConfig key;
      TableReader key_reader(*key_table, "stream.key", file_name);
      EDDY_RETURN_IF_ERROR(key_reader.ReadString("table", key.table));
      EDDY_RETURN_IF_ERROR(key_reader.ReadStringList("columns", key.columns));
      EDDY_RETURN_IF_ERROR(key_reader.Finish({"table", "columns"}));
      if (key.table.empty() || key.columns.empty()) {
        return InvalidArgument(
            key_reader.Where(*key_table) +
            "[[stream.key]] needs table = \"schema.table\" and columns = [\"...\"]");
      }
      stream.keys.push_back(std::move(key));
    }
    EDDY_RETURN_IF_ERROR(stream_reader.Finish(
        {"name", "source", "format", "view_type", "tables", "ordering", "shards", "retention_hours",
         "max_record_kib", "exclude_tables", "include_columns", "exclude_columns", "mask", "key",
         "transaction_metadata", "heartbeat_interval"}));
    std::string where = stream_reader.Where(table);
    if (stream.name.empty()) {
      return InvalidArgument(where + "[[stream]] number " + std::to_string(i + 1) +
                             " has no 'name'; add name = \"my-stream\"");
    }
    config.streams.push_back(std::move(stream));
  }

  EDDY_ASSIGN_OR_RETURN(const toml::table* api, reader.ReadTable("api"));
  if (api != nullptr) {
    TableReader api_reader(*api, "api", file_name);
    EDDY_RETURN_IF_ERROR(api_reader.ReadBool("enabled", config.api.enabled));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("listen", config.api.listen));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("region", config.api.region));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("tls_cert", config.api.tls_cert));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("tls_key", config.api.tls_key));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("metrics_listen", config.metrics.listen));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("admin_token", config.api.admin_token));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("access_key_id", config.api.access_key_id));
    EDDY_RETURN_IF_ERROR(api_reader.ReadString("secret_access_key", config.api.secret_access_key));
    EDDY_RETURN_IF_ERROR(
        api_reader.Finish({"enabled", "listen", "region", "tls_cert", "tls_key", "metrics_listen",
                           "admin_token", "access_key_id", "secret_access_key"}));
    if (config.api.tls_cert.empty() != config.api.tls_key.empty()) {
      return InvalidArgument(api_reader.Where(*api) +
                             "'api.tls_cert' and 'api.tls_key' go together: set both (PEM "
                             "certificate chain and private key) for HTTPS, or neither");
    }
    auto listen = ParseListenAddress(config.api.listen);
    if (!listen.ok()) {
      return InvalidArgument(api_reader.Where(*api) + "'api.listen' " + listen.status().message());
    }
    if (!config.metrics.listen.empty()) {
      if (auto metrics_listen = ParseListenAddress(config.metrics.listen); !metrics_listen.ok()) {
        return InvalidArgument(api_reader.Where(*api) + "'api.metrics_listen' " +
                               metrics_listen.status().message());
      }
    }
  }

  EDDY_ASSIGN_OR_RETURN(const toml::table* metrics, reader.ReadTable("metrics"));
  if (metrics != nullptr) {
    TableReader metrics_reader(*metrics, "metrics", file_name);
    std::string listen;
    EDDY_RETURN_IF_ERROR(metrics_reader.ReadString("listen", listen));
    EDDY_RETURN_IF_ERROR(metrics_reader.Finish({"listen"}));
    if (!config.metrics.listen.empty() && !listen.empty() && listen != config.metrics.listen) {
      return InvalidArgument(metrics_reader.Where(*metrics) + "'metrics.listen' (" + listen +
                             ") and 'api.metrics_listen' (" + config.metrics.listen +
                             ") name the same setting: keep one");
    }
    if (!listen.empty()) {
      if (auto parsed = ParseListenAddress(listen); !parsed.ok()) {
        return InvalidArgument(metrics_reader.Where(*metrics) + "'metrics.listen' " +
                               parsed.status().message());
      }
      config.metrics.listen = listen;
    }
  }

  EDDY_ASSIGN_OR_RETURN(const toml::table* kafka, reader.ReadTable("kafka"));
  if (kafka != nullptr) {
    TableReader kafka_reader(*kafka, "kafka", file_name);
    EDDY_RETURN_IF_ERROR(
        kafka_reader.ReadString("bootstrap_servers", config.kafka.bootstrap_servers));
    EDDY_RETURN_IF_ERROR(kafka_reader.Finish({"bootstrap_servers"}));
  }

  EDDY_ASSIGN_OR_RETURN(const toml::table* dsql, reader.ReadTable("dsql"));
  if (dsql != nullptr) {
    TableReader dsql_reader(*dsql, "dsql", file_name);
    EDDY_RETURN_IF_ERROR(dsql_reader.ReadString("kinesis_endpoint", config.dsql.kinesis_endpoint));
    EDDY_RETURN_IF_ERROR(dsql_reader.Finish({"kinesis_endpoint"}));
    const std::string& endpoint = config.dsql.kinesis_endpoint;
    bool http = endpoint.rfind("http://", 0) == 0 || endpoint.rfind("https://", 0) == 0;
    if (!endpoint.empty() && (!http || endpoint.find_first_of("?#") != std::string::npos)) {
      return InvalidArgument(dsql_reader.Where(*dsql) + "'dsql.kinesis_endpoint' is '" + endpoint +
                             "'; it must be the Kinesis endpoint's URL without a query, "
                             "https://kinesis.REGION.amazonaws.com or http://HOST:PORT");
    }
  }

  EDDY_ASSIGN_OR_RETURN(const toml::table* logging, reader.ReadTable("log"));
  if (logging != nullptr) {
    TableReader log_reader(*logging, "log", file_name);
    EDDY_RETURN_IF_ERROR(log_reader.ReadString("level", config.logging.level));
    EDDY_RETURN_IF_ERROR(log_reader.ReadString("format", config.logging.format));
    EDDY_RETURN_IF_ERROR(log_reader.Finish({"level", "format"}));
    EDDY_RETURN_IF_ERROR(OneOf(log_reader.Where(*logging), "log.level", config.logging.level,
                               {"trace", "debug", "info", "warn", "error", "off"}));
    EDDY_RETURN_IF_ERROR(
        OneOf(log_reader.Where(*logging), "log.format", config.logging.format, {"text", "json"}));
  }

  // [alerts]: every key through monitor::ApplyAlertSetting, the parser the admin API uses too.
  EDDY_ASSIGN_OR_RETURN(const toml::table* alerts, reader.ReadTable("alerts"));
  if (alerts != nullptr) {
    TableReader alerts_reader(*alerts, "alerts", file_name);
    for (const auto& [key, node] : *alerts) {
      std::string value_text;
      if (const auto* value = node.as_string()) {
        value_text = value->get();
      } else if (const auto* integer = node.as_integer()) {
        value_text = std::to_string(integer->get());
      } else if (const auto* number = node.as_floating_point()) {
        value_text = fmt::format("{}", number->get());
      } else if (const auto* flag = node.as_boolean()) {
        value_text = flag->get() ? "true" : "false";
      } else {
        return InvalidArgument(alerts_reader.Where(node) + "'alerts." + std::string(key.str()) +
                               "' must be a number, a boolean or a string");
      }
      if (Status applied = monitor::ApplyAlertSetting(config.alerts, key.str(), value_text);
          !applied.ok()) {
        return InvalidArgument(alerts_reader.Where(node) + applied.message());
      }
    }
  }

  EDDY_ASSIGN_OR_RETURN(auto sink_tables, reader.ReadTableList("sink"));
  EDDY_ASSIGN_OR_RETURN(config.sinks, ParseSinkTables(sink_tables, file_name));

  EDDY_RETURN_IF_ERROR(reader.Finish(
      {"data_dir", "source", "stream", "api", "metrics", "kafka", "dsql", "log", "sink", "alerts"}));
  return config;
}

Result<EngineConfig> LoadConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return NotFound("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  std::stringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

Status ApplyOverrides(EngineConfig& config, const ConfigOverrides& overrides) {
  if (overrides.source_url) {
    if (!config.sources.empty()) {
      return InvalidArgument(
          "--source adds a lone source, but the config file has [[source]] "
          "tables; add the source there as another [[source]] with a name");
    }
    config.source.url = *overrides.source_url;
  }
  if (overrides.data_dir) config.data_dir = *overrides.data_dir;
  if (overrides.api_listen) {
    auto listen = ParseListenAddress(*overrides.api_listen);
    if (!listen.ok()) return InvalidArgument("--api-listen " + listen.status().message());
    config.api.listen = *overrides.api_listen;
    config.api.enabled = true;
  }
  if (overrides.metrics_listen) {
    auto listen = ParseListenAddress(*overrides.metrics_listen);
    if (!listen.ok()) return InvalidArgument("--metrics-listen " + listen.status().message());
    config.metrics.listen = *overrides.metrics_listen;
  }
  bool stream_flags =
      overrides.format || overrides.view_type || overrides.tables || overrides.shards;
  StreamConfig* target = nullptr;
  if (overrides.stream_name) {
    for (auto& stream : config.streams) {
      if (stream.name == *overrides.stream_name) target = &stream;
    }
    if (target == nullptr) {
      StreamConfig added;
      added.name = *overrides.stream_name;
      config.streams.push_back(std::move(added));
      target = &config.streams.back();
    }
  } else if (stream_flags) {
    if (config.streams.size() != 1) {
      return InvalidArgument(
          "--format/--view-type/--tables/--shards need --stream NAME to say which stream they "
          "change (the configuration has " +
          std::to_string(config.streams.size()) + " streams)");
    }
    target = &config.streams.front();
  }
  if (target != nullptr) {
    if (overrides.format) target->format = *overrides.format;
    if (overrides.view_type) target->view_type = *overrides.view_type;
    if (overrides.tables) target->tables = SplitCommaList(*overrides.tables);
    if (overrides.shards) target->shards = *overrides.shards;
  }
  for (size_t i = 0; i < overrides.sink_urls.size(); ++i) {
    EDDY_ASSIGN_OR_RETURN(consume::SinkSpec spec, ParseSinkUrl(overrides.sink_urls[i], i + 1));
    config.sinks.push_back(std::move(spec));
  }
  std::vector<std::string> stream_names;
  for (const auto& stream : config.streams) stream_names.push_back(stream.name);
  for (auto& sink : config.sinks) {
    if (sink.stream.empty() && stream_names.size() == 1) sink.stream = stream_names.front();
  }
  return Status::Ok();
}

std::vector<SourceConfig> ConfiguredSources(const EngineConfig& config) {
  if (!config.sources.empty()) return config.sources;
  if (config.source.url.empty()) return {};
  SourceConfig source = config.source;
  if (source.name.empty()) source.name = std::string(kDefaultSourceName);
  return {source};
}

Result<SourceConfig> SourceOfStream(const std::vector<SourceConfig>& sources,
                                    const StreamConfig& stream) {
  std::string names;
  for (const auto& source : sources) {
    if (!stream.source.empty() && source.name == stream.source) return source;
    names += (names.empty() ? "" : ", ") + source.name;
  }
  if (stream.source.empty() && sources.size() == 1) return sources.front();
  if (sources.empty()) {
    return InvalidArgument("stream '" + stream.name +
                           "': no source is configured; add a "
                           "[[source]] table (or create one: POST /admin/v1/sources)");
  }
  if (stream.source.empty()) {
    return InvalidArgument("stream '" + stream.name + "': there are several sources (" + names +
                           "); say which one it captures with source = \"NAME\"");
  }
  return InvalidArgument("stream '" + stream.name + "': source '" + stream.source +
                         "' is not configured; the sources are: " + names);
}

Status ValidateSource(const SourceConfig& source) {
  std::string where = "source '" + source.name + "': ";
  if (!IsResourceName(source.name)) {
    return InvalidArgument(where +
                           "name must be 1-128 characters of letters, digits, '_', '.', '-'");
  }
  if (source.url.empty()) {
    return InvalidArgument(where +
                           "no url; set url = \"postgresql://user:pass@host:port/db\" (or "
                           "mysql://...)");
  }
  if (auto url = source::ParseSourceUrl(source.url); !url.ok()) {
    return InvalidArgument(where + "url: " + url.status().message());
  }
  EDDY_RETURN_IF_ERROR(
      OneOf(where, "snapshot_type", source.snapshot_type, {"blocking", "incremental"}));
  if (!source.snapshot_mode.empty()) {
    EDDY_RETURN_IF_ERROR(OneOf(where, "snapshot_mode", source.snapshot_mode,
                               {"initial", "initial_only", "no_data", "when_needed", "always"}));
  }
  return Status::Ok();
}

Status ValidateStream(const StreamConfig& stream) {
  std::string where = "stream '" + stream.name + "': ";
  // Kinesis stream names: 1-128 characters of [a-zA-Z0-9_.-].
  if (!IsResourceName(stream.name)) {
    return InvalidArgument(where +
                           "name must be 1-128 characters of letters, digits, '_', '.', '-'");
  }
  EDDY_RETURN_IF_ERROR(
      OneOf(where, "format", stream.format, {"native", "debezium", "dms", "dynamodb"}));
  EDDY_RETURN_IF_ERROR(OneOf(where, "view_type", stream.view_type,
                             {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}));
  EDDY_RETURN_IF_ERROR(OneOf(where, "ordering", stream.ordering, {"ORDERED", "UNORDERED"}));
  if (stream.shards < 1 || stream.shards > 1024) {
    return InvalidArgument(where + "shards must be between 1 and 1024");
  }
  if (stream.ordering == "ORDERED" && stream.shards != 1) {
    return InvalidArgument(where +
                           "ordering ORDERED keeps total commit order in one shard; set "
                           "shards = 1 or use ordering = \"UNORDERED\"");
  }
  for (const auto& table : stream.tables) {
    if (table.find('.') == std::string::npos) {
      return InvalidArgument(where + "table '" + table +
                             "' must be qualified as schema.table (PostgreSQL) or "
                             "database.table (MySQL)");
    }
  }
  return Status::Ok();
}

Status ValidateForRun(const EngineConfig& config) {
  std::vector<SourceConfig> sources = ConfiguredSources(config);
  if (sources.empty()) {
    return InvalidArgument(
        "no source: pass --source postgresql://user:pass@host:port/db (or "
        "mysql://...), or set [source] url (or [[source]] tables) in the "
        "config file");
  }
  if (config.data_dir.empty()) {
    return InvalidArgument(
        "no data directory: pass --data-dir DIR or set data_dir in the config file");
  }
  // With [[source]] tables eddy may start without streams and wait for streams created
  // through the control plane; the lone source form keeps asking for one.
  if (config.streams.empty() && config.sources.empty()) {
    return InvalidArgument("no stream: pass --stream NAME or add a [[stream]] table with a name");
  }
  if (config.api.access_key_id.empty() != config.api.secret_access_key.empty()) {
    return InvalidArgument(
        "'api.access_key_id' and 'api.secret_access_key' go together: set both (the SigV4 "
        "credentials the control plane and the stream API then require; the secret may come "
        "from EDDY_API_SECRET_ACCESS_KEY), or neither");
  }
  std::set<std::string> source_names;
  for (const auto& source : sources) {
    EDDY_RETURN_IF_ERROR(ValidateSource(source));
    if (!source_names.insert(source.name).second) {
      return InvalidArgument("source '" + source.name + "': defined twice");
    }
  }
  std::set<std::string> names;
  for (const auto& stream : config.streams) {
    EDDY_RETURN_IF_ERROR(ValidateStream(stream));
    if (!names.insert(stream.name).second) {
      return InvalidArgument("stream '" + stream.name + "': defined twice");
    }
    EDDY_RETURN_IF_ERROR(SourceOfStream(sources, stream).status());
  }
  std::vector<consume::SinkSpec> sinks = config.sinks;
  std::vector<std::string> stream_names;
  for (const auto& stream : config.streams) stream_names.push_back(stream.name);
  EDDY_RETURN_IF_ERROR(ResolveSinks(sinks, stream_names, /*require_configured_stream=*/true));
  return Status::Ok();
}

namespace {

Status ParseUnsignedSetting(std::string_view where, const std::string& key,
                            const std::string& value, uint32_t minimum, uint32_t maximum,
                            uint32_t& out) {
  uint64_t number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || number < minimum ||
      number > maximum) {
    return InvalidArgument(std::string(where) + "'" + key + "' is '" + value +
                           "'; it must be a whole number between " + std::to_string(minimum) +
                           " and " + std::to_string(maximum));
  }
  out = static_cast<uint32_t>(number);
  return Status::Ok();
}

std::string JoinComma(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : ",") + part;
  return joined;
}

}  // namespace

Status ApplySourceSetting(SourceConfig& source, const std::string& key, const std::string& value) {
  std::string where = "source '" + source.name + "': ";
  if (key == "slot_name") {
    source.slot_name = value;
  } else if (key == "publication_name") {
    source.publication_name = value;
  } else if (key == "snapshot_mode") {
    EDDY_RETURN_IF_ERROR(
        OneOf(where, key, value, {"initial", "initial_only", "no_data", "when_needed", "always"}));
    source.snapshot_mode = value;
  } else if (key == "snapshot_type") {
    EDDY_RETURN_IF_ERROR(OneOf(where, key, value, {"blocking", "incremental"}));
    source.snapshot_type = value;
  } else if (key == "snapshot_chunk_size") {
    EDDY_RETURN_IF_ERROR(
        ParseUnsignedSetting(where, key, value, 1, 10000000, source.snapshot_chunk_size));
  } else if (key == "signal_table") {
    source.signal_table = value;
  } else if (key == "server_id") {
    EDDY_RETURN_IF_ERROR(ParseUnsignedSetting(where, key, value, 0, 4294967295u, source.server_id));
  } else {
    return InvalidArgument(where + "unknown setting '" + key +
                           "'; the settings are slot_name, publication_name, snapshot_mode, "
                           "snapshot_type, snapshot_chunk_size, signal_table, server_id");
  }
  return Status::Ok();
}

std::map<std::string, std::string> SourceSettings(const SourceConfig& source) {
  return {{"slot_name", source.slot_name},
          {"publication_name", source.publication_name},
          {"snapshot_mode", source.snapshot_mode},
          {"snapshot_type", source.snapshot_type},
          {"snapshot_chunk_size", std::to_string(source.snapshot_chunk_size)},
          {"signal_table", source.signal_table},
          {"server_id", std::to_string(source.server_id)}};
}

Status ApplyStreamSetting(StreamConfig& stream, const std::string& key, const std::string& value) {
  std::string where = "stream '" + stream.name + "': ";
  if (key.rfind("dsql.", 0) == 0 || key.rfind("connect.", 0) == 0) {
    stream.annotations[key] = value;
  } else if (key == "format") {
    EDDY_RETURN_IF_ERROR(OneOf(where, key, value, {"native", "debezium", "dms", "dynamodb"}));
    stream.format = value;
  } else if (key == "view_type") {
    EDDY_RETURN_IF_ERROR(
        OneOf(where, key, value, {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}));
    stream.view_type = value;
  } else if (key == "tables") {
    stream.tables = SplitCommaList(value);
  } else if (key == "exclude_tables") {
    stream.exclude_tables = SplitCommaList(value);
  } else if (key == "ordering") {
    EDDY_RETURN_IF_ERROR(OneOf(where, key, value, {"ORDERED", "UNORDERED"}));
    stream.ordering = value;
  } else if (key == "shards") {
    EDDY_RETURN_IF_ERROR(ParseUnsignedSetting(where, key, value, 1, 1024, stream.shards));
  } else if (key == "retention_hours") {
    EDDY_RETURN_IF_ERROR(ParseUnsignedSetting(where, key, value, 1, 8760, stream.retention_hours));
  } else if (key == "max_record_kib") {
    EDDY_RETURN_IF_ERROR(ParseUnsignedSetting(where, key, value, 1, 10240, stream.max_record_kib));
  } else if (key == "transaction_metadata") {
    EDDY_RETURN_IF_ERROR(OneOf(where, key, value, {"true", "false"}));
    stream.transaction_metadata = value == "true";
  } else if (key == "heartbeat_interval") {
    if (value.empty() || value == "0") {
      stream.heartbeat_interval_ms = 0;
      return Status::Ok();
    }
    auto millis = ParseDurationMillis(value);
    if (!millis.ok() || *millis < 100 || *millis > 24 * 3600 * 1000) {
      return InvalidArgument(where + "'heartbeat_interval' is '" + value +
                             "'; use a duration between 100ms and 24h, like 10s, or 0 for none");
    }
    stream.heartbeat_interval_ms = *millis;
  } else {
    return InvalidArgument(where + "unknown setting '" + key +
                           "'; the settings are format, view_type, tables, exclude_tables, "
                           "ordering, shards, retention_hours, max_record_kib, "
                           "transaction_metadata, heartbeat_interval");
  }
  return Status::Ok();
}

std::map<std::string, std::string> StreamSettings(const StreamConfig& stream) {
  std::map<std::string, std::string> settings = {
      {"format", stream.format},
      {"view_type", stream.view_type},
      {"ordering", stream.ordering},
      {"shards", std::to_string(stream.shards)},
      {"retention_hours", std::to_string(stream.retention_hours)},
      {"max_record_kib", std::to_string(stream.max_record_kib)},
      {"transaction_metadata", stream.transaction_metadata ? "true" : "false"},
      {"heartbeat_interval", stream.heartbeat_interval_ms > 0
                                 ? std::to_string(stream.heartbeat_interval_ms) + "ms"
                                 : "0"}};
  if (!stream.tables.empty()) settings["tables"] = JoinComma(stream.tables);
  if (!stream.exclude_tables.empty()) settings["exclude_tables"] = JoinComma(stream.exclude_tables);
  for (const auto& [key, value] : stream.annotations) settings[key] = value;
  return settings;
}

Result<int64_t> ParseDurationMillis(std::string_view text) {
  EDDY_ASSIGN_OR_RETURN(std::chrono::milliseconds duration, ParseDuration(text));
  return static_cast<int64_t>(duration.count());
}

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgument("'" + std::string(text) + "' must be HOST:PORT, like 127.0.0.1:4567");
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto port_text = text.substr(colon + 1);
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("'" + std::string(text) + "' has an invalid port; use 0-65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace eddy::engine
