#include "monitor/metrics_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "api/json_writer.h"

namespace eddy::monitor {
namespace {

const std::string* LabelValue(const prometheus::ClientMetric& metric, std::string_view name) {
  for (const auto& label : metric.label) {
    if (label.name == name) return &label.value;
  }
  return nullptr;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

constexpr float kNoPoint = std::numeric_limits<float>::quiet_NaN();

}  // namespace

std::vector<Observation> ObserveMetrics(const std::vector<prometheus::MetricFamily>& families,
                                        const ObservedScope& scope) {
  std::vector<Observation> out;
  // Per source: the sum of its streams' event counters, and the largest lags.
  std::map<std::string, double> source_events;
  std::map<std::string, double> source_lag_seconds;
  std::map<std::string, double> source_lag_bytes;
  for (const auto& family : families) {
    const std::string& metric_name = family.name;
    for (const auto& metric : family.metric) {
      if (metric_name.rfind("eddy_sink_", 0) == 0) {
        const std::string* sink = LabelValue(metric, "sink");
        if (sink == nullptr || !Contains(scope.sinks, *sink)) continue;
        if (metric_name == "eddy_sink_lag_records") {
          out.push_back({"sink", *sink, "lag_records", metric.gauge.value, false});
        } else if (metric_name == "eddy_sink_lag_seconds") {
          out.push_back({"sink", *sink, "lag_seconds", metric.gauge.value, false});
        } else if (metric_name == "eddy_sink_delivered_records_total") {
          out.push_back({"sink", *sink, "records_per_second", metric.counter.value, true});
        }
        continue;
      }
      const std::string* stream = LabelValue(metric, "stream");
      if (stream == nullptr) continue;
      auto source = scope.source_of_stream.find(*stream);
      if (source == scope.source_of_stream.end()) continue;
      const std::string& source_name = source->second;
      if (metric_name == "eddy_log_appended_records_total") {
        out.push_back({"stream", *stream, "records_per_second", metric.counter.value, true});
      } else if (metric_name == "eddy_log_appended_bytes_total") {
        out.push_back({"stream", *stream, "bytes_per_second", metric.counter.value, true});
      } else if (metric_name == "eddy_capture_lag_seconds") {
        out.push_back({"stream", *stream, "capture_lag_seconds", metric.gauge.value, false});
        if (!source_name.empty()) {
          double& lag = source_lag_seconds[source_name];
          lag = std::max(lag, metric.gauge.value);
        }
      } else if (metric_name == "eddy_source_lag_bytes") {
        out.push_back({"stream", *stream, "source_lag_bytes", metric.gauge.value, false});
        if (!source_name.empty()) {
          double& lag = source_lag_bytes[source_name];
          lag = std::max(lag, metric.gauge.value);
        }
      } else if (metric_name == "eddy_capture_events_total" && !source_name.empty()) {
        source_events[source_name] += metric.counter.value;
      }
    }
  }
  for (const auto& [source, total] : source_events) {
    out.push_back({"source", source, "events_per_second", total, true});
  }
  for (const auto& [source, lag] : source_lag_seconds) {
    out.push_back({"source", source, "lag_seconds", lag, false});
  }
  for (const auto& [source, lag] : source_lag_bytes) {
    out.push_back({"source", source, "lag_bytes", lag, false});
  }
  return out;
}

MetricsHistory::MetricsHistory(Options options) : options_(options) {
  if (options_.interval < std::chrono::seconds(1)) options_.interval = std::chrono::seconds(1);
  auto window = std::chrono::duration_cast<std::chrono::milliseconds>(options_.window);
  slots_ = static_cast<size_t>(window / options_.interval) + 1;
  times_.assign(slots_, 0);
}

void MetricsHistory::Record(int64_t now_nanos, const std::vector<Observation>& observations) {
  std::lock_guard lock(mu_);
  size_t slot = next_;
  next_ = (next_ + 1) % slots_;
  times_[slot] = now_nanos;
  // The slot's old values leave the window.
  for (auto it = series_.begin(); it != series_.end();) {
    SeriesState& state = it->second;
    if (!std::isnan(state.values[slot])) --state.points;
    state.values[slot] = kNoPoint;
    // Removed when it has no point left and was not seen for a whole window (a counter keeps
    // its previous total until then, so a quiet series resumes its rate).
    if (state.points == 0 &&
        (!state.has_total ||
         now_nanos - state.last_total_nanos > std::chrono::nanoseconds(options_.window).count())) {
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& observation : observations) {
    Key key{observation.kind, observation.name, observation.measure};
    auto it = series_.find(key);
    if (it == series_.end()) {
      if (series_.size() >= options_.max_series) {
        ++dropped_series_;
        continue;
      }
      it = series_.emplace(std::move(key), SeriesState{}).first;
      it->second.values.assign(slots_, kNoPoint);
    }
    SeriesState& state = it->second;
    double value = observation.value;
    if (observation.counter) {
      bool had_total = state.has_total;
      double previous = state.last_total;
      int64_t previous_nanos = state.last_total_nanos;
      state.has_total = true;
      state.last_total = observation.value;
      state.last_total_nanos = now_nanos;
      if (!had_total || now_nanos <= previous_nanos || observation.value < previous) continue;
      value =
          (observation.value - previous) * 1e9 / static_cast<double>(now_nanos - previous_nanos);
    }
    if (std::isnan(value)) continue;
    if (std::isnan(state.values[slot])) ++state.points;
    state.values[slot] = static_cast<float>(value);
  }
}

std::vector<MetricsHistory::Series> MetricsHistory::Query(std::string_view kind,
                                                          std::string_view name,
                                                          int64_t since_nanos) const {
  std::lock_guard lock(mu_);
  std::vector<Series> out;
  for (const auto& [key, state] : series_) {
    const auto& [series_kind, series_name, measure] = key;
    if (!kind.empty() && series_kind != kind) continue;
    if (!name.empty() && series_name != name) continue;
    Series series{series_kind, series_name, measure, {}};
    for (size_t i = 0; i < slots_; ++i) {
      size_t slot = (next_ + i) % slots_;  // oldest first
      if (times_[slot] == 0 || times_[slot] < since_nanos) continue;
      float value = state.values[slot];
      if (std::isnan(value)) continue;
      series.points.push_back({times_[slot] / 1'000'000, static_cast<double>(value)});
    }
    out.push_back(std::move(series));
  }
  return out;
}

size_t MetricsHistory::series_count() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

uint64_t MetricsHistory::dropped_series() const {
  std::lock_guard lock(mu_);
  return dropped_series_;
}

std::string HistoryJson(const MetricsHistory& history,
                        const std::vector<MetricsHistory::Series>& series) {
  api::JsonWriter json;
  json.BeginObject();
  json.Key("interval_seconds");
  json.RawValue(fmt::format("{:g}", history.interval().count() / 1000.0));
  json.MemberInt("window_seconds",
                 static_cast<int64_t>((history.slots() - 1) * history.interval().count() / 1000));
  json.Key("series");
  json.BeginArray();
  for (const auto& one : series) {
    json.BeginObject();
    json.Member("kind", one.kind);
    json.Member("name", one.name);
    json.Member("measure", one.measure);
    json.Key("points");
    json.BeginArray();
    for (const auto& point : one.points) {
      json.BeginArray();
      json.Int(point.time_ms);
      json.RawValue(std::isfinite(point.value) ? fmt::format("{:.6g}", point.value) : "0");
      json.EndArray();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return json.Take();
}

}  // namespace eddy::monitor
