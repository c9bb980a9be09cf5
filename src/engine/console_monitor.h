// ConsoleMonitor: the server side of the web console beyond the current numbers. A thread
// samples the metrics registry and the engine's sinks and streams every `[alerts]
// sample_interval` (5 s), keeps the last hour of rates and lags (monitor::MetricsHistory,
// at most 1.5 MB at 5 s, 7.4 MB at 1 s), evaluates the alerts (monitor::AlertEvaluator: logged,
// exported as eddy_alert_active) and hands raised and cleared alerts to the webhook
// (monitor::AlertNotifier, which never blocks the sampling).
//
// It serves, behind the admin API's authentication (admin_api.cc calls Handle), the requests
// of docs/admin-api.md:
//   GET   /admin/v1/history[?kind=stream|sink|source][&name=NAME][&since_ms=UNIX_MS]
//   GET   /admin/v1/alerts          {"settings": {...}, "active": [...]}
//   PATCH /admin/v1/alerts          {"sink_lag_seconds": 60, ...}: changes thresholds, kept in
//                                   DATA/alert-settings (monitor/alert_settings_file.h) before
//                                   they apply, so they survive a restart
//   GET   /admin/v1/clients[?stream=NAME]  the aws CLI, boto3 and kcat commands per stream
//
// Lifetime: created by the engine before its API serves, sampling from StartSampling until
// StopSampling (Engine::Stop calls it before stopping anything, since a sample reads the
// sinks and streams); `engine` outlives it.
// Thread safety: Handle from the server's connection threads, concurrently; SampleOnce from
// one thread at a time (the sampling thread, or a test).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/http.h"
#include "base/clock.h"
#include "io/file_system.h"
#include "monitor/alert_notifier.h"
#include "monitor/alert_settings_file.h"
#include "monitor/alerts.h"
#include "monitor/metrics_history.h"

namespace eddy::engine {

class Engine;

class ConsoleMonitor {
 public:
  struct Options {
    // The settings in force at start: the config file's [alerts] with `alert_overrides`
    // applied.
    monitor::AlertSettings alerts;
    // The keys patched before (DATA/alert-settings), and where a PATCH keeps them: empty
    // `data_dir` keeps nothing (tests).
    monitor::AlertSettingOverrides alert_overrides;
    std::string data_dir;
    io::FileSystem* file_system = io::DefaultFileSystem();
    std::string region = "us-east-1";  // for the client commands
    bool tls = false;                  // the API port speaks HTTPS
    const Clock* clock = &SystemClock::Instance();
  };
  ConsoleMonitor(Engine* engine, Options options);
  ~ConsoleMonitor();
  ConsoleMonitor(const ConsoleMonitor&) = delete;
  ConsoleMonitor& operator=(const ConsoleMonitor&) = delete;

  void StartSampling();
  // Stops the thread and the webhook (what is queued for it is dropped). Idempotent.
  void StopSampling();
  // One sample: history, alerts, webhook.
  void SampleOnce();

  // Serves the paths above; false for any other path (the admin API answers it).
  bool Handle(const api::HttpRequest& request, api::HttpResponse* response);

  const monitor::MetricsHistory& history() const { return history_; }
  const monitor::AlertEvaluator& alerts() const { return alerts_; }

 private:
  void Loop();
  // Replaces the webhook when the URL changed (empty: none).
  void UseWebhook(const std::string& url);
  void HandleHistory(const api::HttpRequest& request, api::HttpResponse* response);
  void HandleAlerts(const api::HttpRequest& request, api::HttpResponse* response);
  void HandleClients(const api::HttpRequest& request, api::HttpResponse* response);

  Engine* engine_;
  Options options_;
  monitor::MetricsHistory history_;
  monitor::AlertEvaluator alerts_;
  std::mutex patch_mu_;    // one PATCH at a time: read, save, apply; guards alert_overrides
  std::mutex webhook_mu_;  // guards notifier_ and webhook_url_
  std::unique_ptr<monitor::AlertNotifier> notifier_;
  std::string webhook_url_;
  std::mutex mu_;
  std::condition_variable stop_changed_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eddy::engine
