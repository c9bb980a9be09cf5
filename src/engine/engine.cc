#include "engine/engine.h"

#include <fmt/format.h>

#include <atomic>

#include "api/api_context.h"
#include "api/metrics_endpoint.h"
#include "base/logging.h"
#include "consume/sink_settings.h"
#include "engine/shaping_stream.h"
#include "engine/supervisor.h"
#include "source/source_url.h"

namespace eddy::engine {
namespace {
constexpr auto kRetentionInterval = std::chrono::seconds(60);

// The change log: started first, stopped last.
class LogComponent final : public Component {
 public:
  explicit LogComponent(std::unique_ptr<log::LogStore> store)
      : store_(std::move(store)), name_(store_->path()) {}
  ComponentKind kind() const override { return ComponentKind::kLog; }
  const std::string& name() const override { return name_; }
  ComponentState state() const override {
    std::lock_guard lock(mu_);
    return store_ ? ComponentState::kRunning : ComponentState::kStopped;
  }
  std::string ProgressLine() const override { return ""; }
  Status Stop() override {
    std::unique_ptr<log::LogStore> store;
    {
      std::lock_guard lock(mu_);
      store = std::move(store_);
    }
    return Status::Ok();  // closing releases the directory lock; appends were durable already
  }
  log::LogStore* store() const { return store_.get(); }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<log::LogStore> store_;
  std::string name_;
};

// A listening server: the API port, or the separate metrics port (`GET /metrics` only),
// which stops with the API.
template <typename ServerT>
class ServerComponent final : public Component {
 public:
  ServerComponent(std::string name, std::unique_ptr<ServerT> server)
      : server_(std::move(server)), name_(std::move(name)) {}
  ComponentKind kind() const override { return ComponentKind::kApi; }
  const std::string& name() const override { return name_; }
  ComponentState state() const override {
    return stopped_ ? ComponentState::kStopped : ComponentState::kRunning;
  }
  std::string ProgressLine() const override { return ""; }
  Status Stop() override {
    server_->Stop();
    stopped_ = true;
    return Status::Ok();
  }
  ServerT* server() const { return server_.get(); }

 private:
  std::unique_ptr<ServerT> server_;
  std::string name_;
  std::atomic<bool> stopped_{false};
};
using ApiComponent = ServerComponent<api::Server>;
using MetricsComponent = ServerComponent<api::HttpServer>;

// A capture; it may end by itself (fatal error, finished initial_only snapshot), which a
// watcher thread blocked in WaitUntilFinished reports to the supervisor.
class CaptureComponent final : public Component {
 public:
  CaptureComponent(std::string stream, std::unique_ptr<Capture> capture)
      : name_(std::move(stream)), capture_(std::move(capture)) {}
  ~CaptureComponent() override { Stop().IgnoreError(); }
  ComponentKind kind() const override { return ComponentKind::kCapture; }
  const std::string& name() const override { return name_; }
  ComponentState state() const override {
    std::lock_guard lock(mu_);
    return state_;
  }
  std::string ProgressLine() const override {
    return "stream=" + name_ + " " + capture_->ProgressLine();
  }
  void WatchEnd(std::function<void()> ended) override {
    watcher_ = std::thread([this, ended = std::move(ended)] {
      while (!capture_->WaitUntilFinished(std::chrono::hours(1))) {
      }
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        ended_by_itself_ = true;
      }
      ended();
    });
  }
  Status Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return status_;
      stopping_ = true;
    }
    Status status = capture_->Stop();
    if (watcher_.joinable()) watcher_.join();
    std::lock_guard lock(mu_);
    stopped_ = true;
    status_ = status;
    state_ = !ended_by_itself_ ? ComponentState::kStopped
             : status.ok()     ? ComponentState::kFinished
                               : ComponentState::kFailed;
    return status_;
  }

 private:
  std::string name_;
  std::unique_ptr<Capture> capture_;
  std::thread watcher_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  bool stopped_ = false;
  bool ended_by_itself_ = false;
  Status status_;
  ComponentState state_ = ComponentState::kRunning;
};

// Heartbeat records on an idle stream: a writer like its capture, stopped before it.
class HeartbeatComponent final : public Component {
 public:
  HeartbeatComponent(std::string stream, std::unique_ptr<Heartbeater> heartbeater)
      : name_("heartbeat:" + std::move(stream)), heartbeater_(std::move(heartbeater)) {}
  ComponentKind kind() const override { return ComponentKind::kCapture; }
  const std::string& name() const override { return name_; }
  ComponentState state() const override {
    return stopped_ ? ComponentState::kStopped : ComponentState::kRunning;
  }
  std::string ProgressLine() const override { return ""; }
  Status Stop() override {
    heartbeater_->Stop();
    stopped_ = true;
    return Status::Ok();
  }

 private:
  std::string name_;
  std::unique_ptr<Heartbeater> heartbeater_;
  std::atomic<bool> stopped_{false};
};

class SinkComponent final : public Component {
 public:
  explicit SinkComponent(std::unique_ptr<consume::SinkRunner> runner)
      : runner_(std::move(runner)) {}
  ComponentKind kind() const override { return ComponentKind::kSink; }
  const std::string& name() const override { return runner_->name(); }
  ComponentState state() const override {
    return stopped_ ? ComponentState::kStopped : ComponentState::kRunning;
  }
  std::string ProgressLine() const override {
    consume::SinkStatus sink = runner_->status();
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
    return line;
  }
  Status Stop() override {
    Status status = runner_->Stop();
    stopped_ = true;
    return status;
  }
  consume::SinkRunner* runner() const { return runner_.get(); }

 private:
  std::unique_ptr<consume::SinkRunner> runner_;
  std::atomic<bool> stopped_{false};
};

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
    engine->services_.destinations.ApplyDefaults(prepared.spec);
    EDDY_ASSIGN_OR_RETURN(consume::SinkSpec runner_spec,
                          engine->services_.destinations.RunnerSpec(prepared.spec));
    EDDY_ASSIGN_OR_RETURN(prepared.settings, consume::ParseSinkSettings(runner_spec));
    if (!prepared.settings.filter.empty()) {
      if (!engine->services_.make_filter) {
        return InvalidArgument("sink '" + prepared.spec.name +
                               "' setting filter: this build has no filter pattern matcher; "
                               "remove the filter setting");
      }
      auto filter = engine->services_.make_filter(prepared.spec, prepared.settings);
      if (!filter.ok()) {
        return filter.status().WithContext("sink '" + prepared.spec.name + "' setting filter");
      }
      prepared.filter = std::move(*filter);
    }
    EDDY_ASSIGN_OR_RETURN(prepared.destination,
                          engine->services_.destinations.Create(prepared.spec));
    if (auto batching = prepared.destination->Batching()) {
      prepared.settings.batch_size = batching->batch_size;
      prepared.settings.batch_bytes = batching->batch_bytes;
      prepared.settings.max_batching_window = batching->window;
    }
    engine->prepared_sinks_.push_back(std::move(prepared));
  }
  // Then every destination is opened (reachable, credentials, ...), still before anything
  // starts; the engine's destructor closes the opened ones when one fails.
  for (auto& prepared : engine->prepared_sinks_) {
    if (Status opened = prepared.destination->Open(); !opened.ok()) {
      return opened.WithContext("sink '" + prepared.spec.name + "'");
    }
    prepared.opened = true;
  }

  {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<log::LogStore> store,
                          log::LogStore::Open(config.data_dir));
    auto log = std::make_unique<LogComponent>(std::move(store));
    engine->store_ = log->store();
    engine->supervisor_->Add(std::move(log));
  }
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

  if (config.api.enabled) {
    api::ServerOptions options;
    options.listen = config.api.listen;
    options.region = config.api.region;
    options.tls_cert = config.api.tls_cert;
    options.tls_key = config.api.tls_key;
    options.routes.push_back(api::MetricsRoute());
    auto server = api::Server::Start(options, engine->store_);
    if (!server.ok()) return server.status().WithContext("starting the API on " + config.api.listen);
    auto api_component = std::make_unique<ApiComponent>("api", std::move(*server));
    engine->server_ = api_component->server();
    engine->supervisor_->Add(std::move(api_component));
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
    auto metrics = std::make_unique<MetricsComponent>("metrics", std::move(*server));
    engine->metrics_server_ = metrics->server();
    engine->supervisor_->Add(std::move(metrics));
    logger->info("metrics listening on port={}", engine->metrics_server_->port());
  }

  if (!config.source.url.empty()) {
    for (size_t i = 0; i < config.streams.size(); ++i) {
      EDDY_RETURN_IF_ERROR(
          engine->AddCapture(config, config.streams[i], i, config.streams.size()));
    }
  }

  // On error the engine's destructor stops what started.
  EDDY_RETURN_IF_ERROR(engine->StartSinks());

  engine->retention_thread_ = std::thread([raw = engine.get()] { raw->RetentionLoop(); });
  return engine;
}

Status Engine::AddCapture(const EngineConfig& source_config, const StreamConfig& stream_config,
                          size_t stream_index, size_t stream_count) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<log::Stream> stream, store_->GetStream(stream_config.name));
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<model::SchemaRegistry> schemas,
                        StreamSchemas(stream_config.name));
  std::shared_ptr<ShapingStream> heartbeat_stream;
  if (stream_config.NeedsShapingStream()) {
    ShapingStreamOptions options;
    if (stream_config.HasShaping()) {
      EDDY_ASSIGN_OR_RETURN(options.shaper, MakeShaper(stream_config));
      schemas = MakeShapingSchemaRegistry(std::move(schemas), *options.shaper);
    }
    options.transaction_metadata = stream_config.transaction_metadata;
    if (auto url = source::ParseSourceUrl(source_config.source.url); url.ok()) {
      options.connector = url->kind == source::SourceKind::kPostgres ? model::ConnectorKind::kPostgres
                          : url->scheme == "mariadb"                  ? model::ConnectorKind::kMariadb
                                                                      : model::ConnectorKind::kMysql;
      options.server_name = url->database;
    }
    std::shared_ptr<ShapingStream> shaping = MakeShapingStream(std::move(stream), std::move(options));
    if (stream_config.heartbeat_interval_ms > 0) heartbeat_stream = shaping;
    stream = std::move(shaping);
  }
  auto capture = StartCapture(source_config, stream_config, stream_index, stream_count, stream,
                              std::move(schemas));
  if (!capture.ok()) {
    return capture.status().WithContext("starting the capture for stream '" + stream_config.name +
                                        "'");
  }
  supervisor_->Add(std::make_unique<CaptureComponent>(stream_config.name, std::move(*capture)));
  if (heartbeat_stream) {
    std::vector<Heartbeater::Entry> entries;
    entries.push_back({heartbeat_stream, stream_config.heartbeat_interval_ms * 1'000'000});
    supervisor_->Add(std::make_unique<HeartbeatComponent>(
        stream_config.name, std::make_unique<Heartbeater>(std::move(entries))));
  }
  return Status::Ok();
}

Result<std::shared_ptr<schema::SchemaHistory>> Engine::StreamSchemas(const std::string& stream) {
  std::lock_guard lock(schemas_mu_);
  auto it = schemas_.find(stream);
  if (it != schemas_.end()) return it->second;
  auto opened = schema::SchemaHistory::Open(schema::SchemaHistoryPath(store_->path(), stream));
  if (!opened.ok()) {
    return opened.status().WithContext("opening the table schemas of stream '" + stream + "'");
  }
  schemas_[stream] = *opened;
  return *opened;
}

Status Engine::StartSinks() {
  auto opened = consume::CheckpointStore::Open(config_.data_dir);
  if (!opened.ok()) {
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
    EDDY_ASSIGN_OR_RETURN(options.schemas, StreamSchemas(prepared.spec.stream));
    options.destination_open = prepared.opened;
    prepared.opened = false;  // the runner closes it from now on
    options.filter = prepared.filter;
    options.failure_handler = services_.failure_handler;
    EDDY_ASSIGN_OR_RETURN(auto runner,
                          consume::SinkRunner::Start(prepared.spec, prepared.settings, *stream,
                                                     checkpoints_.get(),
                                                     std::move(prepared.destination), options));
    auto component = std::make_unique<SinkComponent>(std::move(runner));
    sinks_.push_back(component->runner());
    supervisor_->Add(std::move(component));
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
  // Destinations opened for sinks that never started (a later one failed).
  for (auto& prepared : prepared_sinks_) {
    if (prepared.opened) prepared.destination->Close().IgnoreError();
  }
  prepared_sinks_.clear();
  // Retention reads the log and the checkpoints: it stops before them.
  if (retention_thread_.joinable()) retention_thread_.join();
  // Sinks drain first, then captures and heartbeats (the only writers), the API, the log last.
  Status first_error = supervisor_->StopAll();
  sinks_.clear();
  server_ = nullptr;
  metrics_server_ = nullptr;
  store_ = nullptr;
  supervisor_.reset();
  checkpoints_.reset();
  return first_error;
}

std::optional<std::pair<std::string, Status>> Engine::WaitForCaptureEnd(
    std::chrono::milliseconds timeout) {
  return supervisor_->WaitForEnd(timeout);
}

std::vector<std::string> Engine::ProgressLines() const {
  return supervisor_ ? supervisor_->ProgressLines() : std::vector<std::string>();
}

std::vector<consume::SinkStatus> Engine::SinkStatuses() const {
  std::vector<consume::SinkStatus> statuses;
  for (const auto& sink : sinks_) statuses.push_back(sink->status());
  return statuses;
}

Engine::~Engine() { Stop().IgnoreError(); }

}  // namespace eddy::engine
