// eddy's configuration: one TOML file (docs/configuration.md) plus command-line overrides.
//
// Why TOML: the Debian-packaged toml++ reports the line and column of every value, so errors
// can name the key and line; TOML has no indentation pitfalls and keeps integers and strings
// apart, which matters for ports, server ids and sizes. See docs/design/config.md.
//
// Parsing is strict: unknown keys are errors (a typo must not silently fall back to a
// default), every error names the key and its line, and says what values are allowed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consume/sink.h"
#include "monitor/alerts.h"

namespace eddy::engine {

struct SourceConfig {
  // The source's name: streams name it (`[[stream]] source`), the admin API and the DSQL
  // stream API address it (a DSQL "cluster"). 1-128 of [A-Za-z0-9_.-]; a lone `[source]`
  // table without one is named kDefaultSourceName.
  std::string name;
  // postgresql://user:pass@host:port/db?... or mysql:// / mariadb:// (see src/source/README.md).
  std::string url;
  // PostgreSQL: replication slot and publication, created when missing.
  std::string slot_name = "eddy";
  std::string publication_name = "eddy";
  // initial | initial_only | no_data | when_needed | always
  std::string snapshot_mode = "initial";
  // blocking (one consistent transaction) | incremental (DBLog chunks while streaming);
  // docs/snapshots.md.
  std::string snapshot_type = "blocking";
  // Rows per chunk of an incremental snapshot (and per FETCH of a blocking one).
  uint32_t snapshot_chunk_size = 10000;
  // PostgreSQL: the Debezium-style signal table ("schema.table", columns id, type, data) whose
  // inserts start, pause, resume and stop incremental snapshots; "" = none.
  std::string signal_table;
  // Connections the blocking snapshot reads with (PostgreSQL: ctid ranges of every table over
  // that many connections sharing the exported snapshot); 1..64.
  uint32_t snapshot_parallelism = 1;
  // MySQL/MariaDB: the table incremental snapshots write their watermarks to ("database.table",
  // created when missing); "" = "<url database>.eddy_watermark".
  std::string watermark_table;
  // MySQL/MariaDB: the replica server_id eddy registers with; unique among replicas.
  uint32_t server_id = 0;
};

// A column mask: [[stream.mask]] columns = "public.users.email", kind = "hash", salt = "..."
struct MaskConfig {
  std::string columns;         // "<schema or database>.<table>.<column>" glob
  std::string kind = "asterisks";  // asterisks | hash | truncate
  uint32_t length = 8;         // asterisks count / characters kept
  std::string salt;            // hash only
};

// A message key override: [[stream.key]] table = "public.orders", columns = ["customer_id"]
struct KeyConfig {
  std::string table;  // qualified table glob
  std::vector<std::string> columns;
};

struct StreamConfig {
  std::string name;
  // The source the stream captures (a `[[source]]` name); empty: the only source.
  std::string source;
  std::string format = "native";                // native | debezium | dms | dynamodb
  std::string view_type = "NEW_AND_OLD_IMAGES";  // KEYS_ONLY | NEW_IMAGE | OLD_IMAGE | ...
  std::vector<std::string> tables;              // "schema.table"; empty means every table
  std::string ordering = "UNORDERED";           // ORDERED (one shard) | UNORDERED
  uint32_t shards = 4;
  uint32_t retention_hours = 24;
  uint32_t max_record_kib = 1024;
  // Shaping, applied before events are stored (format/shaping.h): an excluded column or a
  // masked value never reaches the disk.
  std::vector<std::string> exclude_tables;
  std::vector<std::string> include_columns;  // "<table>.<column>" globs; empty: all
  std::vector<std::string> exclude_columns;
  std::vector<MaskConfig> masks;
  std::vector<KeyConfig> keys;
  // Transaction metadata: BEGIN/END records per source transaction and the transaction block
  // on each change (engine/shaping_stream.h).
  bool transaction_metadata = false;
  // Heartbeat records when the stream had no record for this long; 0 = off. Configured as a
  // duration string: heartbeat_interval = "10s" ("500ms", "10s", "5m", "1h"; 100ms..24h).
  int64_t heartbeat_interval_ms = 0;

  // Control-plane facts kept with a stream created at run time (the DSQL stream API's
  // identifier, ARNs, client token, creation time: keys "dsql.*"; a Kafka Connect
  // connector's name, configuration and state: "connect.*"); never read by the capture.
  std::map<std::string, std::string> annotations;

  // Whether the capture writes through a ShapingStream (shaping, transaction metadata or
  // heartbeats configured).
  bool NeedsShapingStream() const {
    return HasShaping() || transaction_metadata || heartbeat_interval_ms > 0;
  }

  bool HasShaping() const {
    return !exclude_tables.empty() || !include_columns.empty() || !exclude_columns.empty() ||
           !masks.empty() || !keys.empty();
  }
};

struct ApiConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1:4567";
  std::string region = "us-east-1";
  // PEM files; both set makes the port HTTPS-only (HTTP/1.1 and h2 by ALPN), neither is
  // plain HTTP. Checked when the server starts (file names and OpenSSL's reason on error).
  std::string tls_cert;
  std::string tls_key;
  // Bearer token the admin API (/admin/v1/, docs/admin-api.md) requires; empty: none.
  // `[api] admin_token`, or the EDDY_ADMIN_TOKEN environment variable when that is unset.
  std::string admin_token;
  // SigV4 credentials the control plane (and then the Kinesis/DynamoDB Streams API) requires
  // (engine/control_auth.h): `[api] access_key_id` and `[api] secret_access_key`, or the
  // EDDY_API_SECRET_ACCESS_KEY environment variable when the secret is unset. Both or neither.
  std::string access_key_id;
  std::string secret_access_key;
};

// Prometheus metrics (docs/operations/metrics.md). `GET /metrics` is always served on the API
// port; `listen` ("host:port", `[metrics] listen`, also accepted as `[api] metrics_listen`,
// or --metrics-listen) serves it on a port of its own as well. Empty: no separate port.
struct MetricsConfig {
  std::string listen;
};

// `[kafka] bootstrap_servers`: the Kafka cluster of connectors created through the Kafka
// Connect API (docs/kafka-connect-api.md); empty: their changes stay in eddy streams.
struct KafkaConfig {
  std::string bootstrap_servers;
};

// `[dsql] kinesis_endpoint`: the Kinesis endpoint ("https://kinesis.REGION.amazonaws.com",
// "http://HOST:PORT") whose existing streams the DSQL stream API's CreateStream targets
// (docs/dsql-stream-api.md): the `targetDefinition` ARN then names a stream there, and the
// changes reach it through a Kinesis sink (src/sink/kinesis/, AWS credentials from the
// environment). Empty: the ARN names an eddy stream on the API port.
struct DsqlConfig {
  std::string kinesis_endpoint;
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
  std::string format = "text"; // text | json
};

inline constexpr std::string_view kDefaultSourceName = "default";

struct EngineConfig {
  std::string data_dir;
  // The lone `[source]` table or `--source URL` (the form of one source per process).
  SourceConfig source;
  // `[[source]]` tables: several sources in one process, each named; every stream names
  // its source. Either this or `source` is set, never both (ValidateForRun).
  std::vector<SourceConfig> sources;
  std::vector<StreamConfig> streams;
  // `[[sink]]` tables and `--sink URL` flags (engine/sink_config.h); settings are checked when
  // the engine starts (consume::ParseSinkSettings and the destination's factory).
  std::vector<consume::SinkSpec> sinks;
  ApiConfig api;
  MetricsConfig metrics;
  KafkaConfig kafka;
  DsqlConfig dsql;
  LoggingConfig logging;
  // `[alerts]`: thresholds, webhook and sampling of the console (monitor/alerts.h).
  monitor::AlertSettings alerts;
};

// Parses TOML text; `file_name` is used in error messages ("eddy.toml line 7: ...").
Result<EngineConfig> ParseConfig(std::string_view text, std::string_view file_name);
Result<EngineConfig> LoadConfigFile(const std::string& path);

// Command-line values that override the file. Unset optionals leave the file's value.
struct ConfigOverrides {
  std::optional<std::string> source_url;
  std::optional<std::string> data_dir;
  std::optional<std::string> stream_name;
  std::optional<std::string> api_listen;
  std::optional<std::string> metrics_listen;
  std::optional<std::string> format;
  std::optional<std::string> view_type;
  std::optional<std::string> tables;  // comma-separated "a.b,c.d"
  std::optional<uint32_t> shards;
  std::vector<std::string> sink_urls;  // --sink URL, repeatable
};

// Applies overrides: --stream NAME selects (or adds) the stream the stream-level flags apply
// to; without --stream they apply to the only configured stream, and are an error when there
// are several. --sink URLs are added to the file's sinks, and every sink without a stream
// gets the only configured stream.
Status ApplyOverrides(EngineConfig& config, const ConfigOverrides& overrides);

// Checks the whole configuration for `eddy run`: required values present, enumerations valid,
// ranges respected, stream names unique and well-formed. Messages name the key.
Status ValidateForRun(const EngineConfig& config);

// The configured sources: the `[[source]]` tables, or the lone `[source]` / `--source` (named
// kDefaultSourceName unless it has a name); empty when none has a URL.
std::vector<SourceConfig> ConfiguredSources(const EngineConfig& config);

// The source `stream` captures among `sources`: the one it names, or the only one when it
// names none. kInvalidArgument naming the stream and the choices otherwise.
Result<SourceConfig> SourceOfStream(const std::vector<SourceConfig>& sources,
                                    const StreamConfig& stream);

// The checks of one source (name, URL scheme, enumerations) and of one stream (name, format,
// view type, ordering, shards, tables), shared by the config file and the admin API.
Status ValidateSource(const SourceConfig& source);
Status ValidateStream(const StreamConfig& stream);

// Sources and streams as text settings: the form DATA/runtime-sinks records them in
// (engine/runtime_sinks.h) and the admin API's "settings" object takes. Apply* parses one
// setting (kInvalidArgument naming the key and the allowed values); *Settings gives every
// setting of a value back (name, url and source excluded). Streams created at run time take
// format, view_type, tables, exclude_tables, ordering, shards, retention_hours,
// max_record_kib, transaction_metadata, heartbeat_interval and "dsql.*" / "connect.*"
// annotations; column
// shaping (masks, keys, columns) is for the config file.
Status ApplySourceSetting(SourceConfig& source, const std::string& key, const std::string& value);
std::map<std::string, std::string> SourceSettings(const SourceConfig& source);
Status ApplyStreamSetting(StreamConfig& stream, const std::string& key, const std::string& value);
std::map<std::string, std::string> StreamSettings(const StreamConfig& stream);

// Parses a duration "<digits><unit>", unit ms, s, m, h or d ("10s", "500ms") into milliseconds
// (eddy::ParseDuration, base/duration.h).
Result<int64_t> ParseDurationMillis(std::string_view text);

// Splits "host:port"; port 0 is allowed (choose a free port).
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace eddy::engine
