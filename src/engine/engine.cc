#include "engine/engine.h"

#include "api/api_context.h"
#include "api/metrics_endpoint.h"
#include "base/logging.h"
#include "engine/shaping_stream.h"
#include "source/source_url.h"

namespace eddy::engine {
namespace {
constexpr auto kRetentionInterval = std::chrono::seconds(60);
}  // namespace

Result<log::StreamOptions> CdcStreamOptions(const StreamConfig& stream) {
  log::StreamOptions options;
  options.ordering =
      stream.ordering == "ORDERED" ? log::OrderingMode::kOrdered : log::OrderingMode::kUnordered;
  options.shard_count = stream.ordering == "ORDERED" ? 1 : stream.shards;
  options.retention_nanos = static_cast<int64_t>(stream.retention_hours) * 3600 * 1'000'000'000;
  options.max_record_bytes = stream.max_record_kib * 1024u;
  options.tags[std::string(api::kTagCdc)] = "true";
  options.tags[std::string(api::kTagFormat)] = stream.format;
  options.tags[std::string(api::kTagViewType)] = stream.view_type;
  if (!stream.tables.empty()) {
    std::string tables;
    for (const auto& table : stream.tables) tables += (tables.empty() ? "" : ",") + table;
    options.tags["eddy:tables"] = tables;
  }
  return options;
}

Result<format::Shaper> MakeShaper(const StreamConfig& stream) {
  format::ShapingRules rules;
  rules.include_tables = stream.tables;
  rules.exclude_tables = stream.exclude_tables;
  rules.include_columns = stream.include_columns;
  rules.exclude_columns = stream.exclude_columns;
  for (const auto& mask : stream.masks) {
    format::MaskRule rule;
    rule.column_pattern = mask.columns;
    rule.kind = mask.kind == "hash"       ? format::MaskKind::kHash
                : mask.kind == "truncate" ? format::MaskKind::kTruncate
                                          : format::MaskKind::kAsterisks;
    rule.length = static_cast<int>(mask.length);
    rule.salt = mask.salt;
    rules.masks.push_back(std::move(rule));
  }
  for (const auto& key : stream.keys) {
    rules.key_overrides.push_back(format::KeyOverride{key.table, key.columns});
  }
  auto shaper = format::Shaper::Make(std::move(rules));
  if (!shaper.ok()) return shaper.status().WithContext("stream '" + stream.name + "' shaping");
  return shaper;
}

Result<std::unique_ptr<Engine>> Engine::Start(const EngineConfig& config) {
  auto logger = logging::Get("engine");
  std::unique_ptr<Engine> engine(new Engine());
  engine->config_ = config;

  EDDY_ASSIGN_OR_RETURN(engine->store_, log::LogStore::Open(config.data_dir));
  for (const auto& stream : config.streams) {
    auto existing = engine->store_->GetStream(stream.name);
    if (existing.ok()) {
      log::StreamInfo info = (*existing)->Describe();
      size_t open_shards = 0;
      for (const auto& shard : info.shards) open_shards += shard.open ? 1 : 0;
      if (open_shards != stream.shards && stream.ordering != "ORDERED") {
        logger->warn("stream={} has {} open shards; the configuration asks for {}: keeping the "
                     "existing shards (reshard through the API to change them)",
                     stream.name, open_shards, stream.shards);
      }
      continue;
    }
    if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
    EDDY_ASSIGN_OR_RETURN(log::StreamOptions options, CdcStreamOptions(stream));
    auto created = engine->store_->CreateStream(stream.name, options);
    if (!created.ok()) return created.status().WithContext("creating stream '" + stream.name + "'");
    logger->info("created stream={} shards={} format={} view_type={}", stream.name,
                 options.shard_count, stream.format, stream.view_type);
  }

  std::vector<Heartbeater::Entry> heartbeat_entries;
  if (!config.source.url.empty()) {
    for (size_t i = 0; i < config.streams.size(); ++i) {
      const StreamConfig& stream_config = config.streams[i];
      EDDY_ASSIGN_OR_RETURN(std::shared_ptr<log::Stream> stream,
                            engine->store_->GetStream(stream_config.name));
      if (stream_config.NeedsShapingStream()) {
        ShapingStreamOptions options;
        if (stream_config.HasShaping()) {
          EDDY_ASSIGN_OR_RETURN(options.shaper, MakeShaper(stream_config));
        }
        options.transaction_metadata = stream_config.transaction_metadata;
        if (auto url = source::ParseSourceUrl(config.source.url); url.ok()) {
          options.connector = url->kind == source::SourceKind::kPostgres ? model::ConnectorKind::kPostgres
                              : url->scheme == "mariadb"                  ? model::ConnectorKind::kMariadb
                                                                          : model::ConnectorKind::kMysql;
          options.server_name = url->database;
        }
        std::shared_ptr<ShapingStream> shaping = MakeShapingStream(std::move(stream), std::move(options));
        if (stream_config.heartbeat_interval_ms > 0) {
          heartbeat_entries.push_back({shaping, stream_config.heartbeat_interval_ms * 1'000'000});
        }
        stream = std::move(shaping);
      }
      auto capture = StartCapture(config, stream_config, i, config.streams.size(), stream);
      if (!capture.ok()) {
        return capture.status().WithContext("starting the capture for stream '" +
                                            stream_config.name + "'");
      }
      engine->captures_.emplace_back(stream_config.name, std::move(*capture));
    }
  }
  if (!heartbeat_entries.empty()) {
    engine->heartbeater_ = std::make_unique<Heartbeater>(std::move(heartbeat_entries));
  }

  if (config.api.enabled) {
    api::ServerOptions options;
    options.listen = config.api.listen;
    options.region = config.api.region;
    options.tls_cert = config.api.tls_cert;
    options.tls_key = config.api.tls_key;
    options.routes.push_back(api::MetricsRoute());
    auto server = api::Server::Start(options, engine->store_.get());
    if (!server.ok()) return server.status().WithContext("starting the API on " + config.api.listen);
    engine->server_ = std::move(*server);
    logger->info("api listening on port={}", engine->server_->port());
  }
  if (!config.metrics.listen.empty()) {
    api::HttpServerOptions options;
    options.listen = config.metrics.listen;
    api::HttpRoutes routes;
    routes.Add(api::MetricsRoute());
    auto server = api::HttpServer::Start(options, routes.ToHandler());
    if (!server.ok()) {
      return server.status().WithContext("starting the metrics port on " + config.metrics.listen);
    }
    engine->metrics_server_ = std::move(*server);
    logger->info("metrics listening on port={}", engine->metrics_server_->port());
  }

  engine->retention_thread_ = std::thread([raw = engine.get()] { raw->RetentionLoop(); });
  return engine;
}

void Engine::RetentionLoop() {
  auto logger = logging::Get("engine");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (stop_changed_.wait_for(lock, kRetentionInterval, [this] { return stopping_; })) break;
    lock.unlock();
    auto dropped = store_->EnforceRetention();
    if (!dropped.ok()) {
      logger->error("retention: {}", dropped.status().ToString());
    } else if (*dropped > 0) {
      logger->info("retention dropped segments={}", *dropped);
    }
    lock.lock();
  }
}

Status Engine::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return Status::Ok();
    stopping_ = true;
    stopped_ = true;
  }
  stop_changed_.notify_all();
  Status first_error;
  // Heartbeats first, then the captures: they are the only writers; the log closes after the
  // last append.
  if (heartbeater_) heartbeater_->Stop();
  for (auto& [name, capture] : captures_) {
    Status status = capture->Stop();
    if (!status.ok() && first_error.ok()) first_error = status.WithContext("stream " + name);
  }
  if (server_) server_->Stop();
  if (metrics_server_) metrics_server_->Stop();
  if (retention_thread_.joinable()) retention_thread_.join();
  server_.reset();
  metrics_server_.reset();
  captures_.clear();
  heartbeater_.reset();
  store_.reset();
  return first_error;
}

std::optional<std::pair<std::string, Status>> Engine::WaitForCaptureEnd(
    std::chrono::milliseconds timeout) {
  if (captures_.empty()) {
    std::unique_lock lock(mutex_);
    stop_changed_.wait_for(lock, timeout, [this] { return stopping_; });
    return std::nullopt;
  }
  // Each capture gets a share of the timeout; one capture is the common case.
  auto share = timeout / static_cast<int>(captures_.size());
  for (auto& [name, capture] : captures_) {
    if (capture->WaitUntilFinished(share)) return std::make_pair(name, capture->Stop());
  }
  return std::nullopt;
}

std::vector<std::string> Engine::ProgressLines() const {
  std::vector<std::string> lines;
  for (const auto& [name, capture] : captures_) {
    lines.push_back("stream=" + name + " " + capture->ProgressLine());
  }
  return lines;
}

Engine::~Engine() { Stop().IgnoreError(); }

}  // namespace eddy::engine
