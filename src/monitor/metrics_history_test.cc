#include "monitor/metrics_history.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace eddy::monitor {
namespace {

constexpr int64_t kStart = 1'700'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

MetricsHistory::Options FiveSecondsForAMinute() {
  MetricsHistory::Options options;
  options.interval = std::chrono::seconds(5);
  options.window = std::chrono::seconds(60);
  options.max_series = 4;
  return options;
}

const MetricsHistory::Series* Find(const std::vector<MetricsHistory::Series>& all,
                                   std::string_view measure) {
  for (const auto& series : all) {
    if (series.measure == measure) return &series;
  }
  return nullptr;
}

TEST(MetricsHistory, KeepsGaugesAndTheRatesOfCounters) {
  MetricsHistory history(FiveSecondsForAMinute());
  EXPECT_EQ(history.slots(), 13u);  // 60 s / 5 s + 1
  for (int i = 0; i < 4; ++i) {
    history.Record(kStart + i * 5 * kSecond,
                   {{"sink", "hook", "lag_records", 10.0 * i, false},
                    {"sink", "hook", "records_per_second", 100.0 * i, true}});
  }
  auto all = history.Query("sink", "hook", 0);
  ASSERT_EQ(all.size(), 2u);
  const auto* lag = Find(all, "lag_records");
  ASSERT_NE(lag, nullptr);
  ASSERT_EQ(lag->points.size(), 4u);
  EXPECT_EQ(lag->points[0].time_ms, kStart / 1'000'000);
  EXPECT_EQ(lag->points[3].value, 30);
  // 100 more records every 5 s: 20 per second, from the second sample on.
  const auto* rate = Find(all, "records_per_second");
  ASSERT_NE(rate, nullptr);
  ASSERT_EQ(rate->points.size(), 3u);
  EXPECT_DOUBLE_EQ(rate->points[0].value, 20);
  EXPECT_EQ(rate->points[0].time_ms, (kStart + 5 * kSecond) / 1'000'000);
}

TEST(MetricsHistory, ForgetsWhatIsOlderThanTheWindowAndFiltersByTime) {
  MetricsHistory history(FiveSecondsForAMinute());
  for (int i = 0; i < 30; ++i) {
    history.Record(kStart + i * 5 * kSecond,
                   {{"stream", "orders", "capture_lag_seconds", static_cast<double>(i), false}});
  }
  auto all = history.Query("", "", 0);
  ASSERT_EQ(all.size(), 1u);
  ASSERT_EQ(all[0].points.size(), 13u);  // the ring's slots
  EXPECT_EQ(all[0].points.front().value, 17);
  EXPECT_EQ(all[0].points.back().value, 29);
  auto recent = history.Query("stream", "orders", kStart + 27 * 5 * kSecond);
  ASSERT_EQ(recent[0].points.size(), 3u);
  EXPECT_TRUE(history.Query("sink", "", 0).empty());
}

TEST(MetricsHistory, CounterThatWentDownGivesNoPointAndResumes) {
  MetricsHistory history(FiveSecondsForAMinute());
  history.Record(kStart, {{"stream", "s", "records_per_second", 1000, true}});
  history.Record(kStart + 5 * kSecond, {{"stream", "s", "records_per_second", 10, true}});
  history.Record(kStart + 10 * kSecond, {{"stream", "s", "records_per_second", 60, true}});
  auto all = history.Query("stream", "s", 0);
  ASSERT_EQ(all[0].points.size(), 1u);
  EXPECT_DOUBLE_EQ(all[0].points[0].value, 10);
}

TEST(MetricsHistory, BoundsTheSeriesAndDropsSeriesGoneForAWindow) {
  MetricsHistory history(FiveSecondsForAMinute());
  std::vector<Observation> many;
  for (int i = 0; i < 6; ++i)
    many.push_back({"sink", "s" + std::to_string(i), "lag_records", 1, false});
  history.Record(kStart, many);
  EXPECT_EQ(history.series_count(), 4u);
  EXPECT_EQ(history.dropped_series(), 2u);
  // Nothing observed for a whole window: the series leave and new ones fit again.
  for (int i = 1; i <= 13; ++i) history.Record(kStart + i * 5 * kSecond, {});
  EXPECT_EQ(history.series_count(), 0u);
  history.Record(kStart + 14 * 5 * kSecond, {many[5]});
  EXPECT_EQ(history.series_count(), 1u);
}

TEST(MetricsHistory, ObservesTheRegistryForWhatRunsNow) {
  prometheus::Registry registry;
  auto& appended =
      prometheus::BuildCounter().Name("eddy_log_appended_records_total").Register(registry);
  appended.Add({{"stream", "orders"}}).Increment(50);
  appended.Add({{"stream", "deleted"}}).Increment(5);
  auto& lag = prometheus::BuildGauge().Name("eddy_sink_lag_records").Register(registry);
  lag.Add({{"stream", "orders"}, {"sink", "hook"}}).Set(7);
  lag.Add({{"stream", "orders"}, {"sink", "gone"}}).Set(9);
  auto& source_lag = prometheus::BuildGauge().Name("eddy_source_lag_bytes").Register(registry);
  source_lag.Add({{"stream", "orders"}}).Set(100);
  source_lag.Add({{"stream", "items"}}).Set(300);
  auto& events = prometheus::BuildCounter().Name("eddy_capture_events_total").Register(registry);
  events.Add({{"stream", "orders"}, {"op", "c"}, {"table", "public.orders"}}).Increment(3);
  events.Add({{"stream", "items"}, {"op", "u"}, {"table", "public.items"}}).Increment(4);

  ObservedScope scope;
  scope.source_of_stream = {{"orders", "pg"}, {"items", "pg"}};
  scope.sinks = {"hook"};
  auto observed = ObserveMetrics(registry.Collect(), scope);
  auto value = [&](std::string_view kind, std::string_view name,
                   std::string_view measure) -> std::optional<double> {
    for (const auto& o : observed) {
      if (o.kind == kind && o.name == name && o.measure == measure) return o.value;
    }
    return std::nullopt;
  };
  EXPECT_EQ(value("stream", "orders", "records_per_second"), 50);
  EXPECT_EQ(value("stream", "deleted", "records_per_second"), std::nullopt);
  EXPECT_EQ(value("sink", "hook", "lag_records"), 7);
  EXPECT_EQ(value("sink", "gone", "lag_records"), std::nullopt);
  EXPECT_EQ(value("source", "pg", "lag_bytes"), 300);
  EXPECT_EQ(value("source", "pg", "events_per_second"), 7);
}

TEST(MetricsHistory, RendersJson) {
  MetricsHistory history(FiveSecondsForAMinute());
  history.Record(kStart, {{"sink", "hook", "lag_seconds", 1.5, false}});
  EXPECT_EQ(HistoryJson(history, history.Query("", "", 0)),
            "{\"interval_seconds\":5,\"window_seconds\":60,\"series\":[{\"kind\":\"sink\","
            "\"name\":\"hook\",\"measure\":\"lag_seconds\",\"points\":[[1700000000000,1.5]]}]}");
}

}  // namespace
}  // namespace eddy::monitor
