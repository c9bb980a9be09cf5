// Engine: the running parts of `eddy run` / `eddy serve` / `eddy demo` wired together.
//
//   change log (LogStore, read-write, owns the data directory lock)
//     <- source capture (PostgreSQL or MySQL/MariaDB; absent for `eddy serve`)
//     -> stream API server (Kinesis + DynamoDB Streams), retention enforcement
//     -> sinks (consume::SinkRunner per configured sink, with the consumers' CheckpointStore)
//
// Start() first checks every sink (settings, URL scheme, the destination's own settings), so
// a bad sink starts nothing. It then opens the log, creates the configured CDC streams that do
// not exist yet (tagged so the API serves them read-only in their format and view type),
// starts the API server (with `GET /metrics` beside the AWS protocol) and the separate
// metrics port when configured, the captures, the sinks (each opens its destination: an error stops
// everything started and is returned) and the retention thread. Each running part is a
// component of the engine's Supervisor (engine/supervisor.h), with a typed state. Retention
// keeps what the registered consumers have not delivered (CheckpointStore::Holds). Stop()
// stops in reverse order: the sinks drain first, then captures, API, and the log last, so
// nothing acknowledged is lost on a clean stop (and nothing durable is lost on a crash: see
// src/log/log_store.h).
//
// Thread safety: Start/Stop from one owner thread; accessors from any thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/api_context.h"
#include "api/http_server.h"
#include "api/server.h"
#include "base/status.h"
#include "consume/checkpoint_store.h"
#include "consume/sink_runner.h"
#include "engine/capture.h"
#include "engine/config.h"
#include "engine/console_monitor.h"
#include "engine/destination_registry.h"
#include "engine/shaping_stream.h"
#include "engine/supervisor.h"
#include "format/shaping.h"
#include "log/log_store.h"
#include "schema/schema_history.h"

namespace eddy::engine {

// Stream options and tags for a configured CDC stream.
Result<log::StreamOptions> CdcStreamOptions(const StreamConfig& stream);

// The Shaper for a stream's filters, masks and key overrides (call when HasShaping()).
Result<format::Shaper> MakeShaper(const StreamConfig& stream);

class Engine {
 public:
  // `config` must have passed ValidateForRun, except that an empty source URL starts no
  // capture (`eddy serve`) and no configured stream is required then.
  // `services` supplies the sink destinations by URL scheme (and the filter and on_failure
  // hooks); without them a configured sink is an error naming its scheme.
  static Result<std::unique_ptr<Engine>> Start(const EngineConfig& config,
                                               SinkServices services = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Status Stop();

  // Waits up to `timeout` for a capture to end by itself (fatal error, or an initial_only
  // snapshot that finished); returns its stream name and Stop() status when one did. Woken by
  // the supervisor, not by polling.
  std::optional<std::pair<std::string, Status>> WaitForCaptureEnd(
      std::chrono::milliseconds timeout);
  // One progress line per capture, "stream=NAME state=...", then one per sink,
  // "sink=NAME stream=S state=ACTIVE lag_records=N lag_seconds=X ...".
  std::vector<std::string> ProgressLines() const;
  std::vector<consume::SinkStatus> SinkStatuses() const;

  // Run-time management of sinks (the admin API, engine/admin_api.h). From any thread; the
  // calls are serialized with each other and with Stop().
  //
  // Pauses, resumes or resets the running sink `name` through the runner's operator
  // controls (the path a request recorded by `eddy sink` reaches too) and waits up to `wait`
  // for it to apply; true when it did. kNotFound for a sink that is not running.
  Result<bool> ControlSink(const std::string& name, consume::ControlRequest request,
                           log::StartPosition to, std::chrono::milliseconds wait);
  // Checks `spec` as a configured sink is checked (names, stream, the runner's settings, the
  // destination registry and the destination's own settings), opens the destination, records
  // the sink in DATA/runtime-sinks (engine/runtime_sinks.h) and starts it under the
  // supervisor. kAlreadyExists when a sink of that name runs (configured or created);
  // kInvalidArgument for a bad spec; the destination's error when it cannot be opened.
  Status CreateSink(consume::SinkSpec spec);
  // Removes a sink created at run time: out of DATA/runtime-sinks, stopped (draining what is
  // in flight), and its checkpoint state removed. kNotFound for an unknown sink;
  // kFailedPrecondition for a sink of the config file (removed there).
  Status DeleteSink(const std::string& name);
  // True when the running sink `name` was created at run time.
  bool IsRuntimeSink(const std::string& name) const;
  // The running sink's status, or kNotFound.
  Result<consume::SinkStatus> FindSinkStatus(const std::string& name) const;
  // The saved state of sink `name` (URL without credentials, checkpoint, counters).
  Result<consume::ConsumerState> SavedSinkState(const std::string& name) const;

  // Sources and streams, configured and created at run time (the admin API and the DSQL
  // stream API, engine/admin_api.h). From any thread; changes are serialized with each other,
  // with the sink changes and with Stop().
  struct SourceView {
    SourceConfig config;
    bool runtime = false;              // created at run time (DATA/runtime-sinks)
    std::vector<std::string> streams;  // the streams capturing it
  };
  struct StreamView {
    StreamConfig config;
    std::string source;  // the source it captures; empty when no capture (eddy serve)
    bool runtime = false;
    // The capture's state (kStopped when no capture runs) and its last error.
    source::CaptureState capture_state = source::CaptureState::kStopped;
    std::string last_error;
    std::string capture_position;   // engine::Capture::Position(); "" when no capture runs
    std::string snapshot_progress;  // engine::Capture::SnapshotProgress()
  };
  std::vector<SourceView> Sources() const;
  std::vector<StreamView> Streams() const;
  Result<StreamView> FindStream(const std::string& name) const;
  // Records a source (name, URL, settings checked as a configured one is) in
  // DATA/runtime-sinks; streams then capture it. kAlreadyExists for a taken name.
  Status CreateSource(SourceConfig source);
  // Removes a source created at run time; kFailedPrecondition while a stream captures it or
  // for a configured one, kNotFound for an unknown one.
  Status DeleteSource(const std::string& name);
  // Checks `stream` (as a configured stream), records it, creates its log stream and starts
  // its capture of `stream.source` (the only source when empty). A stream created at run
  // time always has its own PostgreSQL slot and publication (`<slot_name>_<stream>`), so
  // adding or removing one never renames another's. A capture that fails later shows as
  // the stream's capture_state "failed" and does not stop eddy.
  Status CreateStream(StreamConfig stream);
  // Removes a stream created at run time: out of DATA/runtime-sinks, its capture stopped, its
  // log stream deleted. kFailedPrecondition while a sink reads it or for a configured one.
  // The PostgreSQL slot stays (drop it with pg_drop_replication_slot).
  Status DeleteStream(const std::string& name);
  // Sets (or, with an empty value, removes) the annotation `key` of the run-time stream
  // `name` and records it. kNotFound for an unknown one, kFailedPrecondition for a configured.
  Status SetStreamAnnotation(const std::string& name, const std::string& key,
                             const std::string& value);
  // Stops or starts again the capture of the run-time stream `name` (a paused or stopped
  // Kafka Connect connector). The source keeps its position (slot, GTID): nothing is lost.
  // A stream annotated connect.state PAUSED or STOPPED starts without its capture.
  Status SetCaptureRunning(const std::string& name, bool running);
  // Replaces the settings of the run-time source `source.name` and of the run-time stream
  // `stream.name` that captures it (a Kafka Connect connector's changed configuration), both
  // checked as at creation and recorded in DATA/runtime-sinks; a running capture of the stream
  // is restarted with them, and nothing else is touched (other streams, sinks). The capture
  // resumes at the log's durable position, so nothing is lost or repeated. kNotFound for an
  // unknown one, kInvalidArgument for bad settings (nothing changed then).
  Status UpdateRuntimeCapture(SourceConfig source, StreamConfig stream);
  // Checks `spec` as CreateSink does (names, settings, destination settings), without I/O.
  Status CheckSinkSpec(const consume::SinkSpec& spec);
  // Restarts the run-time sink `name` alone: `spec` (when given) is checked first and
  // recorded as its new definition; then its runner stops (saving its state), `edit` (when
  // given) changes the saved state (its checkpoint: Kafka Connect's offsets of a stopped
  // connector), and the runner starts again from that state, paused if it was. kNotFound for
  // an unknown sink, kFailedPrecondition for a configured one. When the new spec cannot be
  // started the old one is started again and the error returned.
  Status RestartSink(const std::string& name, std::optional<consume::SinkSpec> spec,
                     const std::function<Status(consume::ConsumerState&)>& edit);
  // How the API renders a CDC stream's records (the console's live tail).
  const api::RecordRendering& rendering() const { return rendering_; }
  // `[kafka] bootstrap_servers`; empty when none is configured.
  const std::string& kafka_bootstrap_servers() const { return config_.kafka.bootstrap_servers; }
  // The data directory (captures keep their state in DATA/capture/STREAM).
  const std::string& data_dir() const { return config_.data_dir; }

  // `[dsql] kinesis_endpoint`; empty when none is configured.
  const std::string& dsql_kinesis_endpoint() const { return config_.dsql.kinesis_endpoint; }

  // The console's history, alerts and client commands (engine/console_monitor.h): created
  // before the API serves, sampling once the sinks started, stopped first by Stop().
  ConsoleMonitor* console_monitor() const { return monitor_.get(); }
  // The specs of the configured sinks and of those created at run time.
  std::vector<consume::SinkSpec> SinkSpecs() const;

  log::LogStore* store() { return store_; }
  // 0 when the API is disabled.
  uint16_t api_port() const { return server_ ? server_->port() : 0; }
  // The separate metrics port (config.metrics.listen); 0 when none.
  uint16_t metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

 private:
  Engine() = default;
  void RetentionLoop();
  Status StartSinks();
  // Starts the capture of `stream` from `source`; `end_stops_engine` makes its ending by
  // itself wake WaitForCaptureEnd (configured streams), otherwise it only shows in its state.
  Status StartStreamCapture(const SourceConfig& source, const StreamConfig& stream,
                            size_t stream_index, size_t stream_count, bool end_stops_engine);
  // Creates the log stream of `stream` unless it exists.
  Status EnsureLogStream(const StreamConfig& stream);
  // Every source, configured first (admin lock held).
  std::vector<SourceConfig> AllSourcesLocked() const;
  // DATA/runtime-sinks with these lists (admin lock held).
  Status SaveRuntime(const std::vector<SourceConfig>& sources,
                     const std::vector<StreamConfig>& streams,
                     const std::vector<consume::SinkSpec>& sinks) const;
  // Index and count for the capture of run-time stream `stream`: after the configured
  // streams of its source, and a count of at least 2 (its own slot).
  std::pair<size_t, size_t> RuntimeStreamSlot(const StreamConfig& stream) const;
  // The stream's schema history (schema/schema_history.h), opened once and shared by its
  // capture and sinks.
  Result<std::shared_ptr<schema::SchemaHistory>> StreamSchemas(const std::string& stream);

  EngineConfig config_;
  // Owns the running parts: the log, the API, captures (and their heartbeats), sinks.
  std::unique_ptr<Supervisor> supervisor_ = std::make_unique<Supervisor>();
  log::LogStore* store_ = nullptr;             // owned by the supervisor's log component
  api::Server* server_ = nullptr;              // owned by its API component; null when disabled
  api::HttpServer* metrics_server_ = nullptr;  // GET /metrics only; owned by its component
  SinkServices services_;
  api::RecordRendering rendering_;
  // Checked before anything starts: each sink's settings and destination.
  struct PreparedSink {
    consume::SinkSpec spec;
    consume::SinkSettings settings;
    std::unique_ptr<consume::Destination> destination;
    RecordFilter filter;
    bool opened = false;  // Open succeeded; closed by ~Engine unless a runner took it
  };
  std::vector<PreparedSink> prepared_sinks_;
  // The checks of a sink before it starts (settings, filter, destination without I/O).
  Result<PreparedSink> PrepareSink(const consume::SinkSpec& spec);
  // Starts an opened prepared sink under the supervisor.
  Status StartSink(PreparedSink& prepared);
  std::unique_ptr<consume::CheckpointStore> checkpoints_;  // null when unavailable
  // The admin lock: serializes CreateSink, DeleteSink and Stop's closing of the admin API.
  mutable std::mutex admin_mu_;
  bool admin_closed_ = false;                       // Stop() began; no more changes
  std::vector<std::string> configured_sink_names_;  // from the config file / --sink
  std::vector<consume::SinkSpec> runtime_sinks_;    // as recorded in DATA/runtime-sinks
  std::vector<SourceConfig> configured_sources_;    // ConfiguredSources(config)
  std::vector<SourceConfig> runtime_sources_;       // as recorded in DATA/runtime-sinks
  std::vector<StreamConfig> runtime_streams_;       // as recorded, each with its source
  std::thread retention_thread_;
  std::mutex schemas_mu_;
  std::map<std::string, std::shared_ptr<schema::SchemaHistory>> schemas_;  // by stream
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::unique_ptr<ConsoleMonitor> monitor_;  // see console_monitor()
};

}  // namespace eddy::engine
