// MetricsHistory: the last hour of the rates and lags the console charts, kept in the server's
// memory so that a page opened late still shows the past hour (`GET /admin/v1/history`,
// docs/admin-api.md).
//
// Sampling: the owner (engine/console_monitor.h) calls Record every `interval` (5 s by
// default) with the values read from the metrics registry (ObserveMetrics). Gauges are kept
// as they are; counters (`counter = true`) as their rate per second since the previous
// sample (a counter that went down, a restart of its owner, gives no point for that sample).
//
// Memory is bounded and allocated per series when the series first appears: a ring of
// `window / interval + 1` slots (721 at 5 s) holding one 8-byte sample time per slot and one
// 4-byte float per slot and series, at most `max_series` series (512 by default): at most
// 721 * (8 + 4 * 512) bytes = 1.5 MB at 5 s (7.4 MB at the shortest interval, 1 s), plus the
// series' names. Series beyond `max_series` are
// not kept (counted in dropped_series()); a series observed in no slot of the window is
// removed.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace eddy::monitor {

// One value of one series at one sample.
struct Observation {
  std::string kind;     // "stream", "sink" or "source"
  std::string name;     // the stream's, sink's or source's name
  std::string measure;  // "records_per_second", "lag_records", ... (ObserveMetrics lists them)
  double value = 0;
  bool counter = false;  // a running total: the history keeps its rate per second
};

// What the engine runs now: series of other names (deleted sinks, whose metrics stay in the
// registry) are not observed.
struct ObservedScope {
  std::map<std::string, std::string> source_of_stream;  // every stream -> its source ("" none)
  std::vector<std::string> sinks;
};

// The series the console charts, from a Collect() of the metrics registry:
//   stream  records_per_second   eddy_log_appended_records_total{stream} (rate)
//   stream  bytes_per_second     eddy_log_appended_bytes_total{stream} (rate)
//   stream  capture_lag_seconds  eddy_capture_lag_seconds{stream}
//   stream  source_lag_bytes     eddy_source_lag_bytes{stream}
//   sink    lag_records          eddy_sink_lag_records{sink}
//   sink    lag_seconds          eddy_sink_lag_seconds{sink}
//   sink    records_per_second   eddy_sink_delivered_records_total{sink} (rate)
//   source  events_per_second    eddy_capture_events_total of its streams (rate of the sum)
//   source  lag_seconds          the largest eddy_capture_lag_seconds of its streams
//   source  lag_bytes            the largest eddy_source_lag_bytes of its streams
std::vector<Observation> ObserveMetrics(const std::vector<prometheus::MetricFamily>& families,
                                        const ObservedScope& scope);

class MetricsHistory {
 public:
  struct Options {
    std::chrono::milliseconds interval{5000};  // the owner's sampling period, >= 1 s
    std::chrono::seconds window{3600};
    size_t max_series = 512;
  };
  explicit MetricsHistory(Options options);
  MetricsHistory(const MetricsHistory&) = delete;
  MetricsHistory& operator=(const MetricsHistory&) = delete;

  // One sample taken at `now_nanos` (Unix ns; later than the previous one). Series not in
  // `observations` get no point in this sample.
  void Record(int64_t now_nanos, const std::vector<Observation>& observations);

  struct Point {
    int64_t time_ms = 0;  // Unix ms of the sample
    double value = 0;
  };
  struct Series {
    std::string kind;
    std::string name;
    std::string measure;
    std::vector<Point> points;  // oldest first
  };
  // The series of `kind` and `name` (empty: any) with their points at or after
  // `since_nanos`, ordered by kind, name and measure.
  std::vector<Series> Query(std::string_view kind, std::string_view name,
                            int64_t since_nanos) const;

  size_t slots() const { return slots_; }
  std::chrono::milliseconds interval() const { return options_.interval; }
  size_t series_count() const;
  uint64_t dropped_series() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, name, measure
  struct SeriesState {
    std::vector<float> values;  // per slot; NaN: no point
    size_t points = 0;          // non-NaN values
    bool has_total = false;     // counters: the previous total and its time
    double last_total = 0;
    int64_t last_total_nanos = 0;
  };

  Options options_;
  size_t slots_;
  mutable std::mutex mu_;
  std::vector<int64_t> times_;  // per slot: sample time in Unix ns, 0 when empty
  size_t next_ = 0;             // the slot the next sample takes
  std::map<Key, SeriesState> series_;
  uint64_t dropped_series_ = 0;
};

// {"interval_seconds": 5, "window_seconds": 3600, "series": [{"kind", "name", "measure",
//   "points": [[time_ms, value], ...]}]}
std::string HistoryJson(const MetricsHistory& history,
                        const std::vector<MetricsHistory::Series>& series);

}  // namespace eddy::monitor
