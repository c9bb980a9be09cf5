#include "engine/engine.h"

#include <fmt/format.h>

#include "api/api_context.h"
#include "base/logging.h"
#include "consume/sink_settings.h"
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

Result<std::unique_ptr<Engine>> Engine::Start(const EngineConfig& config, SinkServices services) {
  auto logger = logging::Get("engine");
  std::unique_ptr<Engine> engine(new Engine());
  engine->config_ = config;
  engine->services_ = std::move(services);

  // Every sink is checked before anything starts: settings, scheme, the destination's own
  // settings (its factory does no I/O).
  for (const auto& configured : config.sinks) {
    PreparedSink prepared;
    prepared.spec = configured;
    prepared.spec.data_dir = config.data_dir;
    EDDY_ASSIGN_OR_RETURN(prepared.settings, consume::ParseSinkSettings(prepared.spec));
    if (!prepared.settings.filter.empty()) {
      if (!engine->services_.make_filter) {
        return InvalidArgument("sink '" + prepared.spec.name +
                               "' setting filter: this build has no filter pattern matcher; "
                               "remove the filter setting");
      }
      auto filter = engine->services_.make_filter(prepared.settings.filter);
      if (!filter.ok()) {
        return filter.status().WithContext("sink '" + prepared.spec.name + "' setting filter");
      }
      prepared.filter = std::move(*filter);
    }
    EDDY_ASSIGN_OR_RETURN(prepared.destination,
                          engine->services_.destinations.Create(prepared.spec));
    engine->prepared_sinks_.push_back(std::move(prepared));
  }

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
    auto server = api::Server::Start(options, engine->store_.get());
    if (!server.ok()) return server.status().WithContext("starting the API on " + config.api.listen);
    engine->server_ = std::move(*server);
    logger->info("api listening on port={}", engine->server_->port());
  }

  // On error the engine's destructor stops what started.
  EDDY_RETURN_IF_ERROR(engine->StartSinks());

  engine->retention_thread_ = std::thread([raw = engine.get()] { raw->RetentionLoop(); });
  return engine;
}

Status Engine::StartSinks() {
  auto opened = consume::CheckpointStore::Open(config_.data_dir);
  if (!opened.ok()) {
    // A build without the checkpoint store (consume/interim.cc) runs without sinks.
    if (prepared_sinks_.empty() && opened.status().code() == ErrorCode::kUnimplemented) {
      return Status::Ok();
    }
    return opened.status().WithContext("opening the sinks' checkpoints in " + config_.data_dir);
  }
  checkpoints_ = std::move(*opened);
  for (auto& prepared : prepared_sinks_) {
    auto stream = store_->GetStream(prepared.spec.stream);
    if (!stream.ok()) {
      return stream.status().WithContext("sink '" + prepared.spec.name + "' stream '" +
                                         prepared.spec.stream + "'");
    }
    consume::SinkRunnerOptions options;
    options.filter = prepared.filter;
    options.failure_handler = services_.failure_handler;
    EDDY_ASSIGN_OR_RETURN(auto runner,
                          consume::SinkRunner::Start(prepared.spec, prepared.settings, *stream,
                                                     checkpoints_.get(),
                                                     std::move(prepared.destination), options));
    sinks_.push_back(std::move(runner));
  }
  prepared_sinks_.clear();
  return Status::Ok();
}

void Engine::RetentionLoop() {
  auto logger = logging::Get("engine");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (stop_changed_.wait_for(lock, kRetentionInterval, [this] { return stopping_; })) break;
    lock.unlock();
    for (const auto& name : store_->ListStreams()) {
      auto stream = store_->GetStream(name);
      if (!stream.ok()) continue;  // deleted meanwhile
      log::RetentionHolds holds;
      if (checkpoints_) {
        auto consumer_holds = checkpoints_->Holds(name);
        if (!consumer_holds.ok()) {
          // Without the holds nothing is dropped: a consumer may still need the records.
          logger->error("retention stream={}: reading the consumers' positions: {}", name,
                        consumer_holds.status().ToString());
          continue;
        }
        holds = std::move(*consumer_holds);
      }
      auto dropped = (*stream)->EnforceRetention(holds);
      if (!dropped.ok()) {
        logger->error("retention stream={}: {}", name, dropped.status().ToString());
      } else if (*dropped > 0) {
        logger->info("retention stream={} dropped segments={}", name, *dropped);
      }
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
  // Sinks drain first (their batches in flight finish and are checkpointed).
  for (auto& sink : sinks_) {
    Status status = sink->Stop();
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  // Heartbeats, then the captures: they are the only writers; the log closes after the last
  // append.
  if (heartbeater_) heartbeater_->Stop();
  for (auto& [name, capture] : captures_) {
    Status status = capture->Stop();
    if (!status.ok() && first_error.ok()) first_error = status.WithContext("stream " + name);
  }
  if (server_) server_->Stop();
  if (retention_thread_.joinable()) retention_thread_.join();
  server_.reset();
  sinks_.clear();
  checkpoints_.reset();
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
  for (const auto& sink : SinkStatuses()) {
    std::string line = "sink=" + sink.name + " stream=" + sink.stream +
                       " state=" + std::string(consume::SinkStateName(sink.state)) +
                       " lag_records=" + std::to_string(sink.lag_records) +
                       " lag_seconds=" + fmt::format("{:.3f}", sink.lag_seconds) +
                       " delivered_records=" + std::to_string(sink.delivered_records) +
                       " failed_records=" + std::to_string(sink.failed_records);
    if (!sink.last_delivered_position.empty()) {
      line += " last_delivered_position=" + sink.last_delivered_position.ToString();
    }
    if (!sink.reason.empty()) line += " reason=\"" + sink.reason + "\"";
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<consume::SinkStatus> Engine::SinkStatuses() const {
  std::vector<consume::SinkStatus> statuses;
  for (const auto& sink : sinks_) statuses.push_back(sink->status());
  return statuses;
}

Engine::~Engine() { Stop().IgnoreError(); }

}  // namespace eddy::engine
