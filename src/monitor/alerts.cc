#include "monitor/alerts.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <ctime>

#include "api/json_writer.h"
#include "base/duration.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/setting_parse.h"

namespace eddy::monitor {
namespace {

constexpr std::string_view kOwner = "alerts";

std::string Rfc3339(int64_t nanos) {
  std::time_t seconds = static_cast<std::time_t>(nanos / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string Number(double value) {
  if (!std::isfinite(value)) return "0";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{:.3f}", value);
}

// The URL without `user:password@`.
std::string WithoutCredentials(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

Result<double> ParseNonNegativeNumber(std::string_view key, std::string_view text,
                                      std::string_view fix) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value < 0) {
    return InvalidSetting(kOwner, key, text, fix);
  }
  return value;
}

// "5s", or "1500ms" when not whole seconds (ParseDuration's form).
std::string IntervalText(std::chrono::milliseconds interval) {
  if (interval.count() % 1000 == 0) return std::to_string(interval.count() / 1000) + "s";
  return std::to_string(interval.count()) + "ms";
}

void WriteSubject(api::JsonWriter& json, const Alert& alert) {
  json.Member("alert", AlertKindName(alert.kind));
  json.Member(alert.subject_kind, alert.subject);
  json.Member("message", alert.message);
  json.Key("value");
  json.RawValue(Number(alert.value));
  json.Key("threshold");
  json.RawValue(Number(alert.threshold));
  json.Member("since", Rfc3339(alert.since_nanos));
}

}  // namespace

const std::vector<std::string_view>& AlertSettingKeys() {
  static const std::vector<std::string_view> keys = {
      "slot_lag_bytes", "wal_status",  "sink_lag_seconds", "sink_failed",
      "capture_failed", "webhook_url", "sample_interval"};
  return keys;
}

Status ApplyAlertSetting(AlertSettings& settings, std::string_view key, std::string_view text) {
  if (key == "slot_lag_bytes") {
    EDDY_ASSIGN_OR_RETURN(settings.slot_lag_bytes,
                          ParseIntegerSetting(kOwner, key, text, 0, INT64_MAX));
  } else if (key == "wal_status") {
    EDDY_ASSIGN_OR_RETURN(settings.wal_status, ParseBoolSetting(kOwner, key, text));
  } else if (key == "sink_lag_seconds") {
    EDDY_ASSIGN_OR_RETURN(
        settings.sink_lag_seconds,
        ParseNonNegativeNumber(key, text,
                               "write a number of seconds, like 300 or 2.5 (0 turns it off)"));
  } else if (key == "sink_failed") {
    EDDY_ASSIGN_OR_RETURN(settings.sink_failed, ParseBoolSetting(kOwner, key, text));
  } else if (key == "capture_failed") {
    EDDY_ASSIGN_OR_RETURN(settings.capture_failed, ParseBoolSetting(kOwner, key, text));
  } else if (key == "webhook_url") {
    if (!text.empty() && text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0) {
      return InvalidSetting(kOwner, key, text,
                            "write an http:// or https:// URL, like "
                            "\"https://hooks.example.com/eddy\" (empty: no webhook)");
    }
    if (text.find_first_of(" \t\r\n") != std::string_view::npos) {
      return InvalidSetting(kOwner, key, text, "a URL has no spaces; percent-encode them (%20)");
    }
    settings.webhook_url = std::string(text);
  } else if (key == "sample_interval") {
    auto interval = ParseSecondsOrDuration(text);
    if (!interval.ok() || *interval < std::chrono::seconds(1) ||
        *interval > std::chrono::seconds(60)) {
      return InvalidSetting(kOwner, key, text,
                            "write a duration from 1s to 60s, like \"5s\" (plain digits are "
                            "seconds)");
    }
    settings.sample_interval = *interval;
  } else {
    std::string known;
    for (auto candidate : AlertSettingKeys()) {
      known += known.empty() ? "" : ", ";
      known += candidate;
    }
    return InvalidArgument("unknown alerts setting '" + std::string(key) +
                           "'; the settings are: " + known);
  }
  return Status::Ok();
}

Result<AlertSettings> PatchAlertSettings(const AlertSettings& current, std::string_view body,
                                         std::map<std::string, std::string>* applied) {
  constexpr size_t kMaxBody = 64 * 1024;
  if (body.size() > kMaxBody) {
    return InvalidArgument(
        fmt::format("request body is {} bytes; the limit is {}", body.size(), kMaxBody));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (auto error = parser.parse(body.data(), body.size()).get(document); error) {
    return InvalidArgument(std::string("request body is not valid JSON (") +
                           simdjson::error_message(error) +
                           "); send a JSON object like {\"sink_lag_seconds\": 60}");
  }
  simdjson::dom::object object;
  if (document.get_object().get(object)) {
    return InvalidArgument(
        "request body must be a JSON object of alert settings, like {\"sink_lag_seconds\": 60}");
  }
  AlertSettings settings = current;
  for (auto field : object) {
    std::string key(field.key.substr(0, 100));
    if (key == "sample_interval") {
      return InvalidArgument(
          "alerts setting 'sample_interval' is set at start only (it sizes the history): set it "
          "in [alerts] of the config file and restart");
    }
    std::string text;
    switch (field.value.type()) {
      case simdjson::dom::element_type::STRING:
        text = std::string(field.value.get_string().value_unsafe());
        break;
      case simdjson::dom::element_type::INT64:
        text = std::to_string(field.value.get_int64().value_unsafe());
        break;
      case simdjson::dom::element_type::UINT64:
        text = std::to_string(field.value.get_uint64().value_unsafe());
        break;
      case simdjson::dom::element_type::DOUBLE:
        text = fmt::format("{}", field.value.get_double().value_unsafe());
        break;
      case simdjson::dom::element_type::BOOL:
        text = field.value.get_bool().value_unsafe() ? "true" : "false";
        break;
      default:
        return InvalidArgument("alerts setting '" + key +
                               "' must be a number, a boolean or a string");
    }
    EDDY_RETURN_IF_ERROR(ApplyAlertSetting(settings, key, text));
    if (applied != nullptr) (*applied)[key] = std::move(text);
  }
  return settings;
}

std::vector<std::pair<std::string, std::string>> AlertSettingTexts(const AlertSettings& settings) {
  auto flag = [](bool value) { return std::string(value ? "true" : "false"); };
  return {
      {"slot_lag_bytes", std::to_string(settings.slot_lag_bytes)},
      {"wal_status", flag(settings.wal_status)},
      {"sink_lag_seconds", Number(settings.sink_lag_seconds)},
      {"sink_failed", flag(settings.sink_failed)},
      {"capture_failed", flag(settings.capture_failed)},
      {"webhook_url", WithoutCredentials(settings.webhook_url)},
      {"sample_interval", IntervalText(settings.sample_interval)},
  };
}

std::string_view AlertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kSlotLagBytes:
      return "slot_lag_bytes";
    case AlertKind::kWalStatus:
      return "wal_status";
    case AlertKind::kSinkLagSeconds:
      return "sink_lag_seconds";
    case AlertKind::kSinkFailed:
      return "sink_failed";
    case AlertKind::kCaptureFailed:
      return "capture_failed";
  }
  return "unknown";
}

void AddMetricHealth(const std::vector<prometheus::MetricFamily>& families, Health* health) {
  auto find = [&](const prometheus::ClientMetric& metric) -> StreamHealth* {
    for (const auto& label : metric.label) {
      if (label.name != "stream") continue;
      for (auto& stream : health->streams) {
        if (stream.stream == label.value) return &stream;
      }
    }
    return nullptr;
  };
  for (const auto& family : families) {
    if (family.name == "eddy_source_lag_bytes") {
      for (const auto& metric : family.metric) {
        if (StreamHealth* stream = find(metric)) {
          stream->source_lag_bytes = static_cast<int64_t>(metric.gauge.value);
        }
      }
    } else if (family.name == "eddy_source_slot_wal_status") {
      for (const auto& metric : family.metric) {
        if (metric.gauge.value != 1) continue;
        StreamHealth* stream = find(metric);
        if (stream == nullptr) continue;
        for (const auto& label : metric.label) {
          if (label.name == "status") stream->wal_status = label.value;
        }
      }
    }
  }
}

std::string AlertChangeJson(const AlertChange& change) {
  api::JsonWriter json;
  json.BeginObject();
  WriteSubject(json, change.alert);
  json.Member("state", change.raised ? "raised" : "cleared");
  json.Member("time", Rfc3339(change.at_nanos));
  json.EndObject();
  return json.Take();
}

std::string AlertJson(const Alert& alert) {
  api::JsonWriter json;
  json.BeginObject();
  WriteSubject(json, alert);
  json.EndObject();
  return json.Take();
}

AlertEvaluator::AlertEvaluator(AlertSettings settings, prometheus::Registry* registry)
    : settings_(std::move(settings)),
      active_family_(prometheus::BuildGauge()
                         .Name("eddy_alert_active")
                         .Help("1 while an alert is raised, 0 once it cleared (docs/alerts.md)")
                         .Register(registry ? *registry : metrics::Registry())) {}

void AlertEvaluator::SetGauge(const Alert& alert, double value) {
  active_family_
      .Add({{"alert", std::string(AlertKindName(alert.kind))}, {alert.subject_kind, alert.subject}})
      .Set(value);
}

std::vector<AlertChange> AlertEvaluator::Evaluate(int64_t now_nanos, const Health& health) {
  std::lock_guard lock(mu_);
  std::map<Key, Alert> now;
  auto raise = [&](AlertKind kind, const std::string& subject_kind, const std::string& subject,
                   std::string message, double value, double threshold) {
    Alert alert{kind, subject_kind, subject, std::move(message), value, threshold, now_nanos};
    now.emplace(Key{kind, subject}, std::move(alert));
  };
  for (const auto& stream : health.streams) {
    if (settings_.slot_lag_bytes > 0 && stream.source_lag_bytes &&
        *stream.source_lag_bytes >= settings_.slot_lag_bytes) {
      raise(AlertKind::kSlotLagBytes, "stream", stream.stream,
            fmt::format("stream {}: the source holds {} bytes of log eddy has not acknowledged "
                        "(threshold {}); the capture is behind or stopped, and the database "
                        "keeps that log on disk until it catches up",
                        stream.stream, *stream.source_lag_bytes, settings_.slot_lag_bytes),
            static_cast<double>(*stream.source_lag_bytes),
            static_cast<double>(settings_.slot_lag_bytes));
    }
    if (settings_.wal_status &&
        (stream.wal_status == "unreserved" || stream.wal_status == "lost")) {
      raise(AlertKind::kWalStatus, "stream", stream.stream,
            stream.wal_status == "lost"
                ? fmt::format("stream {}: the replication slot's wal_status is lost: PostgreSQL "
                              "removed WAL the slot needed; the stream must be snapshotted again",
                              stream.stream)
                : fmt::format("stream {}: the replication slot's wal_status is unreserved: WAL it "
                              "needs is past max_slot_wal_keep_size and will be removed at the "
                              "next checkpoint unless the capture catches up",
                              stream.stream),
            1, 0);
    }
    if (settings_.capture_failed && stream.capture_state == "failed") {
      raise(AlertKind::kCaptureFailed, "stream", stream.stream,
            fmt::format("stream {}: the capture of source {} failed: {}", stream.stream,
                        stream.source,
                        stream.capture_error.empty() ? "see eddy's log" : stream.capture_error),
            1, 0);
    }
  }
  for (const auto& sink : health.sinks) {
    if (settings_.sink_lag_seconds > 0 && sink.lag_seconds >= settings_.sink_lag_seconds) {
      raise(AlertKind::kSinkLagSeconds, "sink", sink.sink,
            fmt::format("sink {}: the oldest record not delivered is {:.1f} s old (threshold "
                        "{} s); state {}{}{}",
                        sink.sink, sink.lag_seconds, Number(settings_.sink_lag_seconds), sink.state,
                        sink.reason.empty() ? "" : ": ", sink.reason),
            sink.lag_seconds, settings_.sink_lag_seconds);
    }
    if (settings_.sink_failed && sink.state == "FAILED") {
      raise(AlertKind::kSinkFailed, "sink", sink.sink,
            fmt::format("sink {} is FAILED: {}; fix the cause, then resume it (POST "
                        "/admin/v1/sinks/{}/resume)",
                        sink.sink, sink.reason.empty() ? "see eddy's log" : sink.reason, sink.sink),
            1, 0);
    }
  }

  auto logger = logging::Get("alerts");
  std::vector<AlertChange> changes;
  for (auto& [key, alert] : now) {
    auto old = active_.find(key);
    if (old != active_.end()) {
      alert.since_nanos = old->second.since_nanos;  // still the same alert: no new event
      continue;
    }
    logger->warn("alert raised: alert={} {}={} {}", AlertKindName(alert.kind), alert.subject_kind,
                 alert.subject, alert.message);
    SetGauge(alert, 1);
    changes.push_back({true, alert, now_nanos});
  }
  for (const auto& [key, alert] : active_) {
    if (now.count(key)) continue;
    logger->info("alert cleared: alert={} {}={}", AlertKindName(alert.kind), alert.subject_kind,
                 alert.subject);
    SetGauge(alert, 0);
    changes.push_back({false, alert, now_nanos});
  }
  active_ = std::move(now);
  return changes;
}

std::vector<Alert> AlertEvaluator::Active() const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  for (const auto& [key, alert] : active_) out.push_back(alert);
  return out;
}

AlertSettings AlertEvaluator::settings() const {
  std::lock_guard lock(mu_);
  return settings_;
}

void AlertEvaluator::SetSettings(AlertSettings settings) {
  std::lock_guard lock(mu_);
  settings_ = std::move(settings);
}

}  // namespace eddy::monitor
