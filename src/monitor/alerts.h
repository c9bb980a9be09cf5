// Alerts: thresholds on what the operator of an eddy watches, evaluated in the server
// (engine/console_monitor.h runs Evaluate at every sample), shown in the console
// (`GET /admin/v1/alerts`), logged once when raised and once when cleared, exported as
// `eddy_alert_active{alert, stream|sink}` (1 while active, 0 once cleared) and optionally
// posted to a webhook (alert_notifier.h). docs/alerts.md describes each alert.
//
//   alert            subject  raised while
//   slot_lag_bytes   stream   eddy_source_lag_bytes >= slot_lag_bytes (0: off)
//   wal_status       stream   the PostgreSQL slot's wal_status is unreserved or lost
//   sink_lag_seconds sink     the sink's lag in seconds >= sink_lag_seconds (0: off)
//   sink_failed      sink     the sink is FAILED
//   capture_failed   stream   the stream's capture ended with an error
//
// Settings come from `[alerts]` in the TOML config and from `PATCH /admin/v1/alerts`, both
// through ApplyAlertSetting: one parser, errors that name the key and say how to write it.
//
// Thread safety: AlertEvaluator's methods may be called from any thread (one mutex).
#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace eddy::monitor {

struct AlertSettings {
  int64_t slot_lag_bytes = int64_t{1} << 30;  // 1 GiB; 0: off
  bool wal_status = true;
  double sink_lag_seconds = 300;  // 0: off
  bool sink_failed = true;
  bool capture_failed = true;
  // http:// or https:// URL each raised and cleared alert is POSTed to; empty: none.
  std::string webhook_url;
  // How often the metrics are sampled for the charts and the alerts evaluated (1 s .. 60 s).
  // Set at start only (the history's ring is sized by it).
  std::chrono::milliseconds sample_interval{5000};
};

// The keys, in the order GET /admin/v1/alerts lists them.
const std::vector<std::string_view>& AlertSettingKeys();
// Sets `key` from its text ("300", "1.5", "true", "10s", a URL). kInvalidArgument naming
// the key and how to write it; an unknown key lists the known ones.
[[nodiscard]] Status ApplyAlertSetting(AlertSettings& settings, std::string_view key,
                                       std::string_view text);
// `current` changed by a JSON object of keys to numbers, booleans or strings (the body of
// PATCH /admin/v1/alerts: {"sink_lag_seconds": 1, "webhook_url": "http://..."}). The body is
// untrusted bytes (fuzz_alert_settings.cc): at most 64 KiB; kInvalidArgument names what is
// wrong (not JSON, not an object, a key, its value). `sample_interval` is refused: it sizes the
// history at start, so it is set in the config file only. `applied`, when given, receives each
// key the body set with its text (what DATA/alert-settings keeps: alert_settings_file.h).
[[nodiscard]] Result<AlertSettings> PatchAlertSettings(
    const AlertSettings& current, std::string_view body,
    std::map<std::string, std::string>* applied = nullptr);
// The settings as key -> text, in AlertSettingKeys() order (the webhook URL without
// credentials).
std::vector<std::pair<std::string, std::string>> AlertSettingTexts(const AlertSettings& settings);

// Values are fixed: they are the `alert` label and the JSON's "alert".
enum class AlertKind : uint8_t {
  kSlotLagBytes = 0,
  kWalStatus = 1,
  kSinkLagSeconds = 2,
  kSinkFailed = 3,
  kCaptureFailed = 4,
};
std::string_view AlertKindName(AlertKind kind);  // "slot_lag_bytes", ...

// What the evaluator looks at, gathered by the owner at each sample.
struct StreamHealth {
  std::string stream;
  std::string source;
  std::optional<int64_t> source_lag_bytes;  // eddy_source_lag_bytes; unknown: nullopt
  std::string wal_status;                   // pg_replication_slots.wal_status; "" unknown
  std::string capture_state;                // Engine::StreamView::capture_state
  std::string capture_error;
};
struct SinkHealth {
  std::string sink;
  std::string stream;
  std::string state;  // consume::SinkStateName
  std::string reason;
  double lag_seconds = 0;
};
struct Health {
  std::vector<StreamHealth> streams;
  std::vector<SinkHealth> sinks;
};

// Fills source_lag_bytes and wal_status of `health`'s streams from a Collect() of the
// metrics registry (eddy_source_lag_bytes, eddy_source_slot_wal_status).
void AddMetricHealth(const std::vector<prometheus::MetricFamily>& families, Health* health);

struct Alert {
  AlertKind kind = AlertKind::kSinkFailed;
  std::string subject_kind;  // "stream" or "sink": the label naming the subject
  std::string subject;       // its name
  std::string message;       // what is wrong and what to look at, for the operator
  double value = 0;          // the measured value (lag), 1 for a state alert
  double threshold = 0;      // the threshold (0 for a state alert)
  int64_t since_nanos = 0;   // when it was raised
};

struct AlertChange {
  bool raised = true;  // false: cleared
  Alert alert;
  int64_t at_nanos = 0;
};

// {"alert", "state": "raised"|"cleared", "stream"|"sink": NAME, "message", "value",
//  "threshold", "since", "time"} (times in RFC 3339 UTC): the webhook's body.
std::string AlertChangeJson(const AlertChange& change);
// {"alert", "stream"|"sink", "message", "value", "threshold", "since"} for GET.
std::string AlertJson(const Alert& alert);

class AlertEvaluator {
 public:
  // Registers eddy_alert_active in `registry` (the process registry, or a test's own).
  explicit AlertEvaluator(AlertSettings settings, prometheus::Registry* registry = nullptr);
  AlertEvaluator(const AlertEvaluator&) = delete;
  AlertEvaluator& operator=(const AlertEvaluator&) = delete;

  // Evaluates every alert on `health` at `now_nanos`; returns the alerts raised and cleared
  // since the previous call (each logged once). An alert whose subject is gone is cleared.
  std::vector<AlertChange> Evaluate(int64_t now_nanos, const Health& health);

  // The active alerts, ordered by kind and subject.
  std::vector<Alert> Active() const;
  AlertSettings settings() const;
  // New thresholds apply from the next Evaluate.
  void SetSettings(AlertSettings settings);

 private:
  using Key = std::pair<AlertKind, std::string>;  // kind, subject
  void SetGauge(const Alert& alert, double value);

  mutable std::mutex mu_;
  AlertSettings settings_;
  std::map<Key, Alert> active_;
  prometheus::Family<prometheus::Gauge>& active_family_;
};

}  // namespace eddy::monitor
