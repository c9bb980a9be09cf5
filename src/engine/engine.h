// Engine: the running parts of `eddy run` / `eddy serve` / `eddy demo` wired together.
//
//   change log (LogStore, read-write, owns the data directory lock)
//     <- source capture (PostgreSQL or MySQL/MariaDB; absent for `eddy serve`)
//     -> stream API server (Kinesis + DynamoDB Streams), retention enforcement
//
// Start() opens the log, creates the configured CDC streams that do not exist yet (tagged so
// the API serves them read-only in their format and view type), starts the API server (with
// `GET /metrics` beside the AWS protocol), the separate metrics port when configured, and the
// retention thread. Stop() stops them in reverse order; the log is closed last, so nothing
// acknowledged is lost on a clean stop (and nothing durable is lost on a crash: see
// src/log/log_store.h).
//
// Thread safety: Start/Stop from one owner thread; accessors from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.h"
#include "api/server.h"
#include "base/status.h"
#include "engine/capture.h"
#include "engine/config.h"
#include "engine/shaping_stream.h"
#include "format/shaping.h"
#include "log/log_store.h"

namespace eddy::engine {

// Stream options and tags for a configured CDC stream.
Result<log::StreamOptions> CdcStreamOptions(const StreamConfig& stream);

// The Shaper for a stream's filters, masks and key overrides (call when HasShaping()).
Result<format::Shaper> MakeShaper(const StreamConfig& stream);

class Engine {
 public:
  // `config` must have passed ValidateForRun, except that an empty source URL starts no
  // capture (`eddy serve`) and no configured stream is required then.
  static Result<std::unique_ptr<Engine>> Start(const EngineConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Status Stop();

  // Waits up to `timeout` for a capture to end by itself (fatal error, or an initial_only
  // snapshot that finished); returns its stream name and Stop() status when one did.
  std::optional<std::pair<std::string, Status>> WaitForCaptureEnd(std::chrono::milliseconds timeout);
  // One progress line per capture, "stream=NAME state=...".
  std::vector<std::string> ProgressLines() const;

  log::LogStore* store() { return store_.get(); }
  // 0 when the API is disabled.
  uint16_t api_port() const { return server_ ? server_->port() : 0; }
  // The separate metrics port (config.metrics.listen); 0 when none.
  uint16_t metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

 private:
  Engine() = default;
  void RetentionLoop();

  EngineConfig config_;
  std::unique_ptr<log::LogStore> store_;
  std::unique_ptr<api::Server> server_;
  std::unique_ptr<api::HttpServer> metrics_server_;  // GET /metrics only
  std::vector<std::pair<std::string, std::unique_ptr<Capture>>> captures_;
  std::unique_ptr<Heartbeater> heartbeater_;  // streams with heartbeat_interval set
  std::thread retention_thread_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace eddy::engine
