#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "api/api_context.h"
#include "api/metrics_endpoint.h"
#include "api/record_rendering.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "consume/sink_settings.h"
#include "engine/admin_api.h"
#include "engine/admin_console.h"
#include "engine/connect_api.h"
#include "engine/control_auth.h"
#include "engine/debezium_config.h"
#include "engine/dsql_api.h"
#include "engine/runtime_sinks.h"
#include "engine/shaping_stream.h"
#include "engine/sink_config.h"
#include "engine/supervisor.h"
#include "io/file_system.h"
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
  // `report_end`: whether ending by itself is reported to the supervisor (WaitForEnd); a
  // stream created at run time only shows it in its state.
  CaptureComponent(std::string stream, std::unique_ptr<Capture> capture, bool report_end = true)
      : name_(std::move(stream)), capture_(std::move(capture)), report_end_(report_end) {}
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
      if (report_end_) ended();
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
  const Capture& capture() const { return *capture_; }

 private:
  std::string name_;
  std::unique_ptr<Capture> capture_;
  bool report_end_ = true;
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
  engine->rendering_ = api::StandardRecordRendering(config.api.region);

  // Every sink is checked before anything starts: settings, scheme, the destination's own
  // settings (its factory does no I/O). Sinks created at run time (DATA/runtime-sinks) come
  // after the configured ones; a configured sink of the same name wins.
  auto runtime = LoadRuntimeResources(io::DefaultFileSystem(), config.data_dir);
  if (!runtime.ok()) return runtime.status();
  std::string runtime_file = io::JoinPath(config.data_dir, std::string(kRuntimeSinksFile));
  engine->configured_sources_ = ConfiguredSources(config);
  for (const auto& recorded : runtime->sources) {
    SourceConfig source;
    source.name = recorded.name;
    source.url = recorded.url;
    for (const auto& [key, value] : recorded.settings) {
      EDDY_RETURN_IF_ERROR(ApplySourceSetting(source, key, value).WithContext(runtime_file));
    }
    bool configured = false;
    for (const auto& existing : engine->configured_sources_)
      configured |= existing.name == source.name;
    if (configured) {
      logger->warn(
          "source={} is configured and was also created at run time: the configured "
          "one is used",
          source.name);
      continue;
    }
    engine->runtime_sources_.push_back(std::move(source));
  }
  for (const auto& recorded : runtime->streams) {
    StreamConfig stream;
    stream.name = recorded.name;
    stream.source = recorded.source;
    for (const auto& [key, value] : recorded.settings) {
      EDDY_RETURN_IF_ERROR(ApplyStreamSetting(stream, key, value).WithContext(runtime_file));
    }
    // A Kafka Connect connector's stream takes its column shaping from the connector's
    // configuration again (the recorded settings hold no shaping).
    if (auto it = stream.annotations.find("connect.config"); it != stream.annotations.end()) {
      auto mapped = MapDebeziumConnector(it->second, "connector '" + stream.name + "'", "", false);
      if (!mapped.ok()) return mapped.status().WithContext(runtime_file);
      const StreamConfig& shaped = mapped->streams.front();
      stream.include_columns = shaped.include_columns;
      stream.exclude_columns = shaped.exclude_columns;
      stream.masks = shaped.masks;
      stream.keys = shaped.keys;
    }
    bool configured = false;
    for (const auto& existing : config.streams) configured |= existing.name == stream.name;
    if (configured) {
      logger->warn(
          "stream={} is configured and was also created at run time: the configured "
          "one is used",
          stream.name);
      continue;
    }
    engine->runtime_streams_.push_back(std::move(stream));
  }
  for (const auto& configured : config.sinks) {
    engine->configured_sink_names_.push_back(configured.name);
  }
  std::vector<consume::SinkSpec> sinks = config.sinks;
  for (auto& created : runtime->sinks) {
    if (std::find(engine->configured_sink_names_.begin(), engine->configured_sink_names_.end(),
                  created.name) != engine->configured_sink_names_.end()) {
      logger->warn(
          "sink={} is configured and was also created at run time: the configured "
          "one runs (DELETE /admin/v1/sinks/{} cannot remove it; remove the entry by "
          "removing the [[sink]] table, restarting and deleting it)",
          created.name, created.name);
      continue;
    }
    engine->runtime_sinks_.push_back(created);
    sinks.push_back(std::move(created));
  }
  for (const auto& spec : sinks) {
    auto prepared = engine->PrepareSink(spec);
    if (!prepared.ok()) {
      if (!engine->IsRuntimeSink(spec.name)) return prepared.status();
      return prepared.status().WithContext(
          "sink '" + spec.name + "' (created at run time, recorded in " +
          io::JoinPath(config.data_dir, std::string(kRuntimeSinksFile)) + ")");
    }
    engine->prepared_sinks_.push_back(std::move(*prepared));
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
  for (const auto& stream : config.streams) EDDY_RETURN_IF_ERROR(engine->EnsureLogStream(stream));
  for (const auto& stream : engine->runtime_streams_) {
    EDDY_RETURN_IF_ERROR(engine->EnsureLogStream(stream));
  }

  // The console's history and alerts: created before the API serves them (admin_api.cc),
  // sampling once everything started.
  {
    ConsoleMonitor::Options monitor_options;
    monitor_options.alerts = config.alerts;
    // Thresholds changed through PATCH /admin/v1/alerts before a restart apply over [alerts].
    EDDY_ASSIGN_OR_RETURN(
        monitor_options.alert_overrides,
        monitor::LoadAlertSettingOverrides(io::DefaultFileSystem(), config.data_dir));
    EDDY_RETURN_IF_ERROR(monitor::ApplyAlertSettingOverrides(monitor_options.alerts,
                                                             monitor_options.alert_overrides));
    if (!monitor_options.alert_overrides.empty()) {
      std::string keys;
      for (const auto& [key, text] : monitor_options.alert_overrides) {
        keys += (keys.empty() ? "" : ",") + key;
      }
      logging::Get("alerts")->info(
          "alert settings changed through the admin API apply over [alerts] keys={} file={}", keys,
          io::JoinPath(config.data_dir, std::string(monitor::kAlertSettingsFile)));
    }
    monitor_options.data_dir = config.data_dir;
    monitor_options.region = config.api.region;
    monitor_options.tls = !config.api.tls_cert.empty();
    engine->monitor_ = std::make_unique<ConsoleMonitor>(engine.get(), monitor_options);
  }

  if (config.api.enabled) {
    api::ServerOptions options;
    options.listen = config.api.listen;
    options.region = config.api.region;
    options.tls_cert = config.api.tls_cert;
    options.tls_key = config.api.tls_key;
    // One authentication for the control plane (bearer token or SigV4, one verifier); with
    // [api] access_key_id the stream API verifies the same signatures.
    std::shared_ptr<const ControlAuth> auth = ControlAuth::Make(config.api);
    options.verifier = auth->DataApiVerifier();
    options.routes.push_back(api::MetricsRoute());
    options.routes.push_back(AdminHttpRoute(engine.get(), auth));
    options.routes.push_back(AdminConsoleRoute());
    options.routes.push_back(
        DsqlHttpRoute(engine.get(), auth, config.api.region, options.account_id));
    for (auto& route : ConnectHttpRoutes(engine.get(), auth)) {
      options.routes.push_back(std::move(route));
    }
    if (!auth->required() && !IsLoopbackListen(config.api.listen)) {
      logger->warn(
          "api listen={} is reachable beyond this machine and the control plane "
          "(/admin/v1/, /connectors, /stream/) has no authentication: anyone who "
          "reaches the port can pause, reset, create and delete sources, streams and "
          "sinks; set [api] admin_token (or EDDY_ADMIN_TOKEN) or [api] access_key_id "
          "and secret_access_key",
          config.api.listen);
    }
    auto server = api::Server::Start(options, engine->store_);
    if (!server.ok())
      return server.status().WithContext("starting the API on " + config.api.listen);
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

  // Configured streams capture configured sources; with one source the numbering is the
  // one of a single-source eddy (slots `<slot_name>` or `<slot_name>_<stream>`).
  if (!engine->configured_sources_.empty()) {
    std::map<std::string, std::pair<size_t, size_t>> per_source;  // name -> (next, count)
    std::vector<SourceConfig> stream_sources;
    for (const auto& stream : config.streams) {
      EDDY_ASSIGN_OR_RETURN(SourceConfig source,
                            SourceOfStream(engine->configured_sources_, stream));
      per_source[source.name].second++;
      stream_sources.push_back(std::move(source));
    }
    for (size_t i = 0; i < config.streams.size(); ++i) {
      auto& [next, count] = per_source[stream_sources[i].name];
      EDDY_RETURN_IF_ERROR(
          engine->StartStreamCapture(stream_sources[i], config.streams[i], next++, count, true));
    }
  }
  std::unique_lock admin_lock(engine->admin_mu_);  // the API serves already
  for (const auto& stream : engine->runtime_streams_) {
    std::vector<SourceConfig> all = engine->AllSourcesLocked();
    auto source = SourceOfStream(all, stream);
    if (!source.ok()) {
      return source.status().WithContext("stream created at run time (recorded in " + runtime_file +
                                         ")");
    }
    auto state = stream.annotations.find("connect.state");
    if (state != stream.annotations.end() &&
        (state->second == "PAUSED" || state->second == "STOPPED")) {
      continue;  // a paused or stopped connector: its capture starts on resume
    }
    auto [index, count] = engine->RuntimeStreamSlot(stream);
    EDDY_RETURN_IF_ERROR(engine->StartStreamCapture(*source, stream, index, count, false));
  }
  admin_lock.unlock();

  // On error the engine's destructor stops what started.
  EDDY_RETURN_IF_ERROR(engine->StartSinks());

  engine->retention_thread_ = std::thread([raw = engine.get()] {
    NameCurrentThread("log-retention");
    raw->RetentionLoop();
  });
  engine->monitor_->StartSampling();
  return engine;
}

Result<Engine::PreparedSink> Engine::PrepareSink(const consume::SinkSpec& spec) {
  PreparedSink prepared;
  prepared.spec = spec;
  prepared.spec.data_dir = config_.data_dir;
  services_.destinations.ApplyDefaults(prepared.spec);
  EDDY_ASSIGN_OR_RETURN(consume::SinkSpec runner_spec,
                        services_.destinations.RunnerSpec(prepared.spec));
  EDDY_ASSIGN_OR_RETURN(prepared.settings, consume::ParseSinkSettings(runner_spec));
  if (!prepared.settings.filter.empty()) {
    if (!services_.make_filter) {
      return InvalidArgument("sink '" + prepared.spec.name +
                             "' setting filter: this build has no filter pattern matcher; "
                             "remove the filter setting");
    }
    auto filter = services_.make_filter(prepared.spec, prepared.settings);
    if (!filter.ok()) {
      return filter.status().WithContext("sink '" + prepared.spec.name + "' setting filter");
    }
    prepared.filter = std::move(*filter);
  }
  EDDY_ASSIGN_OR_RETURN(prepared.destination, services_.destinations.Create(prepared.spec));
  if (auto batching = prepared.destination->Batching()) {
    prepared.settings.batch_size = batching->batch_size;
    prepared.settings.batch_bytes = batching->batch_bytes;
    prepared.settings.max_batching_window = batching->window;
  }
  return prepared;
}

Status Engine::StartStreamCapture(const SourceConfig& source, const StreamConfig& stream_config,
                                  size_t stream_index, size_t stream_count, bool end_stops_engine) {
  EngineConfig source_config = config_;
  source_config.source = source;
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
      options.connector = url->kind == source::SourceKind::kPostgres
                              ? model::ConnectorKind::kPostgres
                          : url->scheme == "mariadb" ? model::ConnectorKind::kMariadb
                                                     : model::ConnectorKind::kMysql;
      options.server_name = url->database;
    }
    std::shared_ptr<ShapingStream> shaping =
        MakeShapingStream(std::move(stream), std::move(options));
    if (stream_config.heartbeat_interval_ms > 0) heartbeat_stream = shaping;
    stream = std::move(shaping);
  }
  auto capture = StartCapture(source_config, stream_config, stream_index, stream_count, stream,
                              std::move(schemas));
  if (!capture.ok()) {
    return capture.status().WithContext("starting the capture for stream '" + stream_config.name +
                                        "'");
  }
  supervisor_->Add(std::make_unique<CaptureComponent>(stream_config.name, std::move(*capture),
                                                      end_stops_engine));
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
  for (auto& prepared : prepared_sinks_) EDDY_RETURN_IF_ERROR(StartSink(prepared));
  prepared_sinks_.clear();
  return Status::Ok();
}

Status Engine::StartSink(PreparedSink& prepared) {
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
  EDDY_ASSIGN_OR_RETURN(
      auto runner,
      consume::SinkRunner::Start(prepared.spec, prepared.settings, *stream, checkpoints_.get(),
                                 std::move(prepared.destination), options));
  supervisor_->Add(std::make_unique<SinkComponent>(std::move(runner)));
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
  {
    // Waits for an admin change in progress; none starts after this.
    std::lock_guard admin_lock(admin_mu_);
    admin_closed_ = true;
  }
  // Destinations opened for sinks that never started (a later one failed).
  for (auto& prepared : prepared_sinks_) {
    if (prepared.opened) prepared.destination->Close().IgnoreError();
  }
  prepared_sinks_.clear();
  // Retention reads the log and the checkpoints: it stops before them.
  if (retention_thread_.joinable()) retention_thread_.join();
  // The console's sampling reads the sinks and streams: it stops before them.
  if (monitor_) monitor_->StopSampling();
  // Sinks drain first, then captures and heartbeats (the only writers), the API, the log last.
  Status first_error = supervisor_->StopAll();
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
  if (!supervisor_) return statuses;
  supervisor_->Visit([&](const Component& component) {
    if (component.kind() != ComponentKind::kSink) return;
    statuses.push_back(static_cast<const SinkComponent&>(component).runner()->status());
  });
  return statuses;
}

Result<consume::SinkStatus> Engine::FindSinkStatus(const std::string& name) const {
  std::shared_ptr<Component> component =
      supervisor_ ? supervisor_->Find(ComponentKind::kSink, name) : nullptr;
  if (!component) return NotFound("no sink named '" + name + "' runs");
  return static_cast<const SinkComponent&>(*component).runner()->status();
}

Result<consume::ConsumerState> Engine::SavedSinkState(const std::string& name) const {
  if (!checkpoints_) return NotFound("no sink state");
  return checkpoints_->Load(name);
}

bool Engine::IsRuntimeSink(const std::string& name) const {
  std::lock_guard lock(admin_mu_);
  for (const auto& spec : runtime_sinks_) {
    if (spec.name == name) return true;
  }
  return false;
}

Result<bool> Engine::ControlSink(const std::string& name, consume::ControlRequest request,
                                 log::StartPosition to, std::chrono::milliseconds wait) {
  std::shared_ptr<Component> component =
      supervisor_ ? supervisor_->Find(ComponentKind::kSink, name) : nullptr;
  if (!component) return NotFound("no sink named '" + name + "' runs");
  consume::SinkRunner* runner = static_cast<const SinkComponent&>(*component).runner();
  switch (request) {
    case consume::ControlRequest::kPause:
      runner->Pause();
      break;
    case consume::ControlRequest::kResume:
      runner->Resume();
      break;
    case consume::ControlRequest::kReset:
      runner->Reset(to);
      break;
    case consume::ControlRequest::kNone:
      return true;
  }
  return runner->WaitFor(
      [request](const consume::SinkStatus& status) {
        if (status.request_pending) return false;
        switch (request) {
          case consume::ControlRequest::kPause:
            return status.state == consume::SinkState::kPaused;
          case consume::ControlRequest::kResume:
            return status.state != consume::SinkState::kPaused;
          default:
            return true;
        }
      },
      std::chrono::steady_clock::now() + wait);
}

Status Engine::CreateSink(consume::SinkSpec spec) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; create the sink after it restarts");
  if (std::find(configured_sink_names_.begin(), configured_sink_names_.end(), spec.name) !=
      configured_sink_names_.end()) {
    return AlreadyExists("sink '" + spec.name +
                         "' is configured in the config file; choose another name");
  }
  if (supervisor_->Find(ComponentKind::kSink, spec.name)) {
    return AlreadyExists("sink '" + spec.name +
                         "' exists (created at run time); DELETE it first or choose another name");
  }
  std::vector<consume::SinkSpec> resolved{spec};
  EDDY_RETURN_IF_ERROR(ResolveSinks(resolved, store_->ListStreams(), true));
  spec = resolved.front();
  EDDY_ASSIGN_OR_RETURN(PreparedSink prepared, PrepareSink(spec));
  if (Status opened = prepared.destination->Open(); !opened.ok()) {
    return opened.WithContext("sink '" + spec.name + "'");
  }
  prepared.opened = true;
  std::vector<consume::SinkSpec> recorded = runtime_sinks_;
  recorded.push_back(spec);
  if (Status saved = SaveRuntime(runtime_sources_, runtime_streams_, recorded); !saved.ok()) {
    prepared.destination->Close().IgnoreError();
    return saved.WithContext("recording sink '" + spec.name + "'");
  }
  if (Status started = StartSink(prepared); !started.ok()) {
    if (prepared.opened) prepared.destination->Close().IgnoreError();
    SaveRuntime(runtime_sources_, runtime_streams_, runtime_sinks_).IgnoreError();
    return started;
  }
  runtime_sinks_ = std::move(recorded);
  logger->info("sink={} stream={} created at run time", spec.name, spec.stream);
  return Status::Ok();
}

Status Engine::DeleteSink(const std::string& name) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; delete the sink after it restarts");
  auto it = std::find_if(runtime_sinks_.begin(), runtime_sinks_.end(),
                         [&](const consume::SinkSpec& spec) { return spec.name == name; });
  if (it == runtime_sinks_.end()) {
    if (std::find(configured_sink_names_.begin(), configured_sink_names_.end(), name) !=
        configured_sink_names_.end()) {
      return FailedPrecondition("sink '" + name +
                                "' is configured in the config file; remove its [[sink]] table "
                                "(or --sink flag) and restart eddy");
    }
    return NotFound("no sink named '" + name + "'");
  }
  std::vector<consume::SinkSpec> remaining = runtime_sinks_;
  remaining.erase(remaining.begin() + (it - runtime_sinks_.begin()));
  // Recorded first: a crash after this leaves at most a checkpoint state without its sink,
  // never a sink that starts again after it was deleted.
  EDDY_RETURN_IF_ERROR(SaveRuntime(runtime_sources_, runtime_streams_, remaining));
  runtime_sinks_ = std::move(remaining);
  Status stopped = supervisor_->Remove(ComponentKind::kSink, name);
  if (!stopped.ok() && stopped.code() != ErrorCode::kNotFound) {
    logger->warn("sink={} deleted; stopping it reported: {}", name, stopped.message());
  }
  if (checkpoints_) {
    if (Status removed = checkpoints_->Remove(name);
        !removed.ok() && removed.code() != ErrorCode::kNotFound) {
      return removed.WithContext("sink '" + name + "' deleted, but removing its checkpoint");
    }
  }
  logger->info("sink={} deleted at run time", name);
  return Status::Ok();
}

Status Engine::EnsureLogStream(const StreamConfig& stream) {
  auto logger = logging::Get("engine");
  auto existing = store_->GetStream(stream.name);
  if (existing.ok()) {
    log::StreamInfo info = (*existing)->Describe();
    size_t open_shards = 0;
    for (const auto& shard : info.shards) open_shards += shard.open ? 1 : 0;
    if (open_shards != stream.shards && stream.ordering != "ORDERED") {
      logger->warn(
          "stream={} has {} open shards; the configuration asks for {}: keeping the "
          "existing shards (reshard through the API to change them)",
          stream.name, open_shards, stream.shards);
    }
    return Status::Ok();
  }
  if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
  EDDY_ASSIGN_OR_RETURN(log::StreamOptions options, CdcStreamOptions(stream));
  auto created = store_->CreateStream(stream.name, options);
  if (!created.ok()) return created.status().WithContext("creating stream '" + stream.name + "'");
  logger->info("created stream={} shards={} format={} view_type={}", stream.name,
               options.shard_count, stream.format, stream.view_type);
  return Status::Ok();
}

std::vector<SourceConfig> Engine::AllSourcesLocked() const {
  std::vector<SourceConfig> all = configured_sources_;
  all.insert(all.end(), runtime_sources_.begin(), runtime_sources_.end());
  return all;
}

Status Engine::SaveRuntime(const std::vector<SourceConfig>& sources,
                           const std::vector<StreamConfig>& streams,
                           const std::vector<consume::SinkSpec>& sinks) const {
  RuntimeResources resources;
  for (const auto& source : sources) {
    resources.sources.push_back({source.name, source.url, SourceSettings(source)});
  }
  for (const auto& stream : streams) {
    resources.streams.push_back({stream.name, stream.source, StreamSettings(stream)});
  }
  resources.sinks = sinks;
  return SaveRuntimeResources(io::DefaultFileSystem(), config_.data_dir, resources);
}

std::pair<size_t, size_t> Engine::RuntimeStreamSlot(const StreamConfig& stream) const {
  size_t index = 0;
  for (const auto& configured : config_.streams) {
    auto source = SourceOfStream(configured_sources_, configured);
    if (source.ok() && source->name == stream.source) ++index;
  }
  for (const auto& created : runtime_streams_) {
    if (created.name == stream.name) break;
    if (created.source == stream.source) ++index;
  }
  return {index, std::max<size_t>(2, index + 1)};
}

std::vector<Engine::SourceView> Engine::Sources() const {
  std::lock_guard lock(admin_mu_);
  std::vector<SourceView> views;
  for (const auto& source : AllSourcesLocked()) {
    SourceView view;
    view.config = source;
    for (const auto& created : runtime_sources_) view.runtime |= created.name == source.name;
    for (const auto& stream : config_.streams) {
      auto of = SourceOfStream(configured_sources_, stream);
      if (of.ok() && of->name == source.name) view.streams.push_back(stream.name);
    }
    for (const auto& stream : runtime_streams_) {
      if (stream.source == source.name) view.streams.push_back(stream.name);
    }
    views.push_back(std::move(view));
  }
  return views;
}

std::vector<Engine::StreamView> Engine::Streams() const {
  std::vector<StreamView> views;
  {
    std::lock_guard lock(admin_mu_);
    for (const auto& stream : config_.streams) {
      StreamView view;
      view.config = stream;
      if (auto source = SourceOfStream(configured_sources_, stream); source.ok()) {
        view.source = source->name;
      }
      views.push_back(std::move(view));
    }
    for (const auto& stream : runtime_streams_) {
      StreamView view;
      view.config = stream;
      view.source = stream.source;
      view.runtime = true;
      views.push_back(std::move(view));
    }
  }
  for (auto& view : views) {
    std::shared_ptr<Component> component =
        supervisor_ ? supervisor_->Find(ComponentKind::kCapture, view.config.name) : nullptr;
    if (!component) {
      view.capture_state = source::CaptureState::kStopped;
      continue;
    }
    const Capture& capture = static_cast<const CaptureComponent&>(*component).capture();
    view.capture_state = capture.State();
    view.last_error = capture.LastError();
    view.capture_position = capture.Position();
    view.snapshot_progress = capture.SnapshotProgress();
  }
  return views;
}

Result<Engine::StreamView> Engine::FindStream(const std::string& name) const {
  for (auto& view : Streams()) {
    if (view.config.name == name) return view;
  }
  return NotFound("no stream named '" + name + "'");
}

Status Engine::CreateSource(SourceConfig source) {
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; create the source after it restarts");
  EDDY_RETURN_IF_ERROR(ValidateSource(source));
  for (const auto& existing : AllSourcesLocked()) {
    if (existing.name == source.name) {
      return AlreadyExists("source '" + source.name + "' exists; choose another name");
    }
  }
  std::vector<SourceConfig> recorded = runtime_sources_;
  recorded.push_back(source);
  EDDY_RETURN_IF_ERROR(SaveRuntime(recorded, runtime_streams_, runtime_sinks_)
                           .WithContext("recording source '" + source.name + "'"));
  runtime_sources_ = std::move(recorded);
  logging::Get("engine")->info("source={} created at run time", source.name);
  return Status::Ok();
}

Status Engine::DeleteSource(const std::string& name) {
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; delete the source after it restarts");
  auto it = std::find_if(runtime_sources_.begin(), runtime_sources_.end(),
                         [&](const SourceConfig& source) { return source.name == name; });
  if (it == runtime_sources_.end()) {
    for (const auto& configured : configured_sources_) {
      if (configured.name == name) {
        return FailedPrecondition("source '" + name +
                                  "' is configured in the config file; remove it there and "
                                  "restart eddy");
      }
    }
    return NotFound("no source named '" + name + "'");
  }
  for (const auto& stream : runtime_streams_) {
    if (stream.source == name) {
      return FailedPrecondition("source '" + name + "' is captured by stream '" + stream.name +
                                "'; delete the stream first");
    }
  }
  std::vector<SourceConfig> remaining = runtime_sources_;
  remaining.erase(remaining.begin() + (it - runtime_sources_.begin()));
  EDDY_RETURN_IF_ERROR(SaveRuntime(remaining, runtime_streams_, runtime_sinks_));
  runtime_sources_ = std::move(remaining);
  logging::Get("engine")->info("source={} deleted at run time", name);
  return Status::Ok();
}

Status Engine::CreateStream(StreamConfig stream) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; create the stream after it restarts");
  EDDY_RETURN_IF_ERROR(ValidateStream(stream));
  for (const auto& existing : config_.streams) {
    if (existing.name == stream.name) {
      return AlreadyExists("stream '" + stream.name +
                           "' is configured in the config file; choose another name");
    }
  }
  for (const auto& existing : runtime_streams_) {
    if (existing.name == stream.name) {
      return AlreadyExists("stream '" + stream.name + "' exists; choose another name");
    }
  }
  if (store_->GetStream(stream.name).ok()) {
    return AlreadyExists("the change log already has a stream named '" + stream.name +
                         "' (created through the Kinesis API?); choose another name");
  }
  EDDY_ASSIGN_OR_RETURN(SourceConfig source, SourceOfStream(AllSourcesLocked(), stream));
  stream.source = source.name;
  std::vector<StreamConfig> recorded = runtime_streams_;
  recorded.push_back(stream);
  EDDY_RETURN_IF_ERROR(SaveRuntime(runtime_sources_, recorded, runtime_sinks_)
                           .WithContext("recording stream '" + stream.name + "'"));
  std::vector<StreamConfig> previous = std::move(runtime_streams_);
  runtime_streams_ = std::move(recorded);
  auto undo = [&](Status error) {
    runtime_streams_ = previous;
    SaveRuntime(runtime_sources_, runtime_streams_, runtime_sinks_).IgnoreError();
    store_->DeleteStream(stream.name).IgnoreError();
    return error;
  };
  if (Status created = EnsureLogStream(stream); !created.ok()) return undo(created);
  auto [index, count] = RuntimeStreamSlot(stream);
  if (Status started = StartStreamCapture(source, stream, index, count, false); !started.ok()) {
    return undo(started);
  }
  logger->info("stream={} source={} created at run time", stream.name, stream.source);
  return Status::Ok();
}

Status Engine::DeleteStream(const std::string& name) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; delete the stream after it restarts");
  auto it = std::find_if(runtime_streams_.begin(), runtime_streams_.end(),
                         [&](const StreamConfig& stream) { return stream.name == name; });
  if (it == runtime_streams_.end()) {
    for (const auto& configured : config_.streams) {
      if (configured.name == name) {
        return FailedPrecondition("stream '" + name +
                                  "' is configured in the config file; remove its [[stream]] "
                                  "table and restart eddy");
      }
    }
    return NotFound("no stream named '" + name + "'");
  }
  std::string readers;
  supervisor_->Visit([&](const Component& component) {
    if (component.kind() != ComponentKind::kSink) return;
    if (static_cast<const SinkComponent&>(component).runner()->status().stream == name) {
      readers += (readers.empty() ? "" : ", ") + component.name();
    }
  });
  if (!readers.empty()) {
    return FailedPrecondition("stream '" + name + "' is read by sinks " + readers +
                              "; delete them first (DELETE /admin/v1/sinks/NAME)");
  }
  std::vector<StreamConfig> remaining = runtime_streams_;
  remaining.erase(remaining.begin() + (it - runtime_streams_.begin()));
  // Recorded first: a crash after this never starts the deleted stream's capture again.
  EDDY_RETURN_IF_ERROR(SaveRuntime(runtime_sources_, remaining, runtime_sinks_));
  runtime_streams_ = std::move(remaining);
  supervisor_->Remove(ComponentKind::kCapture, "heartbeat:" + name).IgnoreError();
  if (Status stopped = supervisor_->Remove(ComponentKind::kCapture, name);
      !stopped.ok() && stopped.code() != ErrorCode::kNotFound) {
    logger->warn("stream={} deleted; stopping its capture reported: {}", name, stopped.message());
  }
  {
    std::lock_guard schemas_lock(schemas_mu_);
    schemas_.erase(name);
  }
  if (Status deleted = store_->DeleteStream(name);
      !deleted.ok() && deleted.code() != ErrorCode::kNotFound) {
    return deleted.WithContext("stream '" + name + "' deleted, but removing its log");
  }
  logger->info("stream={} deleted at run time", name);
  return Status::Ok();
}

Status Engine::SetStreamAnnotation(const std::string& name, const std::string& key,
                                   const std::string& value) {
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; try again after it restarts");
  std::vector<StreamConfig> recorded = runtime_streams_;
  for (auto& stream : recorded) {
    if (stream.name != name) continue;
    if (value.empty()) {
      stream.annotations.erase(key);
    } else {
      stream.annotations[key] = value;
    }
    EDDY_RETURN_IF_ERROR(SaveRuntime(runtime_sources_, recorded, runtime_sinks_));
    runtime_streams_ = std::move(recorded);
    return Status::Ok();
  }
  return NotFound("no stream named '" + name + "' was created at run time");
}

Status Engine::SetCaptureRunning(const std::string& name, bool running) {
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; try again after it restarts");
  auto it = std::find_if(runtime_streams_.begin(), runtime_streams_.end(),
                         [&](const StreamConfig& stream) { return stream.name == name; });
  if (it == runtime_streams_.end()) {
    return NotFound("no stream named '" + name + "' was created at run time");
  }
  bool runs = supervisor_->Find(ComponentKind::kCapture, name) != nullptr;
  if (!running) {
    supervisor_->Remove(ComponentKind::kCapture, "heartbeat:" + name).IgnoreError();
    if (runs) {
      if (Status stopped = supervisor_->Remove(ComponentKind::kCapture, name);
          !stopped.ok() && stopped.code() != ErrorCode::kNotFound) {
        logging::Get("engine")->warn("stream={} capture stopped; it reported: {}", name,
                                     stopped.message());
      }
    }
    return Status::Ok();
  }
  if (runs) {  // restart: a failed capture starts again
    supervisor_->Remove(ComponentKind::kCapture, "heartbeat:" + name).IgnoreError();
    supervisor_->Remove(ComponentKind::kCapture, name).IgnoreError();
  }
  EDDY_ASSIGN_OR_RETURN(SourceConfig source, SourceOfStream(AllSourcesLocked(), *it));
  auto [index, count] = RuntimeStreamSlot(*it);
  return StartStreamCapture(source, *it, index, count, false);
}

std::vector<consume::SinkSpec> Engine::SinkSpecs() const {
  std::lock_guard lock(admin_mu_);
  std::vector<consume::SinkSpec> specs = config_.sinks;
  specs.insert(specs.end(), runtime_sinks_.begin(), runtime_sinks_.end());
  return specs;
}

Status Engine::UpdateRuntimeCapture(SourceConfig source, StreamConfig stream) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; try again after it restarts");
  EDDY_RETURN_IF_ERROR(ValidateSource(source));
  EDDY_RETURN_IF_ERROR(ValidateStream(stream));
  std::vector<SourceConfig> sources = runtime_sources_;
  auto source_it = std::find_if(sources.begin(), sources.end(),
                                [&](const SourceConfig& s) { return s.name == source.name; });
  if (source_it == sources.end()) {
    return NotFound("no source named '" + source.name + "' was created at run time");
  }
  std::vector<StreamConfig> streams = runtime_streams_;
  auto stream_it = std::find_if(streams.begin(), streams.end(),
                                [&](const StreamConfig& s) { return s.name == stream.name; });
  if (stream_it == streams.end()) {
    return NotFound("no stream named '" + stream.name + "' was created at run time");
  }
  if (stream_it->source != source.name) {
    return InvalidArgument("stream '" + stream.name + "' captures source '" + stream_it->source +
                           "', not '" + source.name + "'");
  }
  stream.source = source.name;
  *source_it = source;
  *stream_it = stream;
  // Recorded first: a crash after this starts the capture with the new settings.
  EDDY_RETURN_IF_ERROR(SaveRuntime(sources, streams, runtime_sinks_));
  runtime_sources_ = std::move(sources);
  runtime_streams_ = std::move(streams);
  if (!supervisor_->Find(ComponentKind::kCapture, stream.name)) {
    logger->info("stream={} source={} settings changed; its capture is not running", stream.name,
                 source.name);
    return Status::Ok();  // paused or stopped: it starts with the new settings on resume
  }
  supervisor_->Remove(ComponentKind::kCapture, "heartbeat:" + stream.name).IgnoreError();
  if (Status stopped = supervisor_->Remove(ComponentKind::kCapture, stream.name);
      !stopped.ok() && stopped.code() != ErrorCode::kNotFound) {
    logger->warn("stream={} capture stopped for new settings; it reported: {}", stream.name,
                 stopped.message());
  }
  auto [index, count] = RuntimeStreamSlot(stream);
  EDDY_RETURN_IF_ERROR(StartStreamCapture(source, stream, index, count, false));
  logger->info("stream={} source={} restarted with changed settings", stream.name, source.name);
  return Status::Ok();
}

Status Engine::CheckSinkSpec(const consume::SinkSpec& spec) {
  std::vector<consume::SinkSpec> resolved{spec};
  EDDY_RETURN_IF_ERROR(ResolveSinks(resolved, store_->ListStreams(), true));
  return PrepareSink(resolved.front()).status();
}

Status Engine::RestartSink(const std::string& name, std::optional<consume::SinkSpec> spec,
                           const std::function<Status(consume::ConsumerState&)>& edit) {
  auto logger = logging::Get("engine");
  std::lock_guard lock(admin_mu_);
  if (admin_closed_) return Unavailable("eddy is stopping; try again after it restarts");
  auto it = std::find_if(runtime_sinks_.begin(), runtime_sinks_.end(),
                         [&](const consume::SinkSpec& recorded) { return recorded.name == name; });
  if (it == runtime_sinks_.end()) {
    if (std::find(configured_sink_names_.begin(), configured_sink_names_.end(), name) !=
        configured_sink_names_.end()) {
      return FailedPrecondition("sink '" + name +
                                "' is configured in the config file; change it there and "
                                "restart eddy");
    }
    return NotFound("no sink named '" + name + "'");
  }
  const consume::SinkSpec old_spec = *it;
  consume::SinkSpec new_spec = spec ? *spec : old_spec;
  new_spec.name = name;
  if (spec) {
    std::vector<consume::SinkSpec> resolved{new_spec};
    EDDY_RETURN_IF_ERROR(ResolveSinks(resolved, store_->ListStreams(), true));
    new_spec = resolved.front();
  }
  // Checked before the running sink stops: a bad spec changes nothing.
  EDDY_ASSIGN_OR_RETURN(PreparedSink prepared, PrepareSink(new_spec));
  if (Status stopped = supervisor_->Remove(ComponentKind::kSink, name);
      !stopped.ok() && stopped.code() != ErrorCode::kNotFound) {
    logger->warn("sink={} stopped for a restart; it reported: {}", name, stopped.message());
  }
  Status result = Status::Ok();
  if (edit && checkpoints_) {
    auto state = checkpoints_->Load(name);
    if (state.ok()) {
      result = edit(*state);
      if (result.ok()) result = checkpoints_->Save(*state);
    } else if (state.status().code() != ErrorCode::kNotFound) {
      result = state.status();
    } else {
      // Never delivered: a fresh state with the edit starts where the edit says.
      consume::ConsumerState fresh;
      fresh.name = name;
      fresh.stream = new_spec.stream;
      result = edit(fresh);
      if (result.ok()) result = checkpoints_->Save(fresh);
    }
  }
  if (spec && result.ok()) {
    std::vector<consume::SinkSpec> recorded = runtime_sinks_;
    for (auto& entry : recorded) {
      if (entry.name == name) entry = new_spec;
    }
    result = SaveRuntime(runtime_sources_, runtime_streams_, recorded);
    if (result.ok()) runtime_sinks_ = std::move(recorded);
  }
  auto start = [&](PreparedSink& sink) -> Status {
    if (!sink.opened) {
      EDDY_RETURN_IF_ERROR(sink.destination->Open().WithContext("sink '" + name + "'"));
      sink.opened = true;
    }
    Status started = StartSink(sink);
    if (!started.ok() && sink.opened) sink.destination->Close().IgnoreError();
    return started;
  };
  if (!result.ok()) {
    // The old definition runs again; the change is refused.
    auto old_prepared = PrepareSink(old_spec);
    if (old_prepared.ok()) start(*old_prepared).IgnoreError();
    return result;
  }
  if (Status started = start(prepared); !started.ok()) {
    if (spec) {
      for (auto& entry : runtime_sinks_) {
        if (entry.name == name) entry = old_spec;
      }
      SaveRuntime(runtime_sources_, runtime_streams_, runtime_sinks_).IgnoreError();
      auto old_prepared = PrepareSink(old_spec);
      if (old_prepared.ok()) start(*old_prepared).IgnoreError();
    }
    return started;
  }
  logger->info("sink={} restarted{}", name, spec ? " with a changed definition" : "");
  return Status::Ok();
}

Engine::~Engine() { Stop().IgnoreError(); }

}  // namespace eddy::engine
