#include "monitor/alerts.h"

#include <gtest/gtest.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::monitor {
namespace {

constexpr int64_t kStart = 1'700'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

std::string Text(prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

Health OneSink(double lag_seconds, std::string state = "ACTIVE") {
  Health health;
  health.sinks.push_back({"hook", "orders", std::move(state), "", lag_seconds});
  return health;
}

TEST(AlertSettings, ParsesEachKeyAndNamesTheKeyInErrors) {
  AlertSettings settings;
  ASSERT_TRUE(ApplyAlertSetting(settings, "sink_lag_seconds", "2.5").ok());
  EXPECT_EQ(settings.sink_lag_seconds, 2.5);
  ASSERT_TRUE(ApplyAlertSetting(settings, "slot_lag_bytes", "1048576").ok());
  EXPECT_EQ(settings.slot_lag_bytes, 1048576);
  ASSERT_TRUE(ApplyAlertSetting(settings, "wal_status", "false").ok());
  EXPECT_FALSE(settings.wal_status);
  ASSERT_TRUE(ApplyAlertSetting(settings, "sample_interval", "2s").ok());
  EXPECT_EQ(settings.sample_interval, std::chrono::seconds(2));
  ASSERT_TRUE(ApplyAlertSetting(settings, "webhook_url", "http://127.0.0.1:9/hook").ok());

  Status bad = ApplyAlertSetting(settings, "sink_lag_seconds", "-1");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("'sink_lag_seconds'"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("number of seconds"), std::string::npos) << bad.message();
  bad = ApplyAlertSetting(settings, "webhook_url", "ftp://x");
  EXPECT_NE(bad.message().find("http:// or https://"), std::string::npos) << bad.message();
  bad = ApplyAlertSetting(settings, "sample_interval", "2h");
  EXPECT_NE(bad.message().find("1s to 60s"), std::string::npos) << bad.message();
  bad = ApplyAlertSetting(settings, "slot_lag_bytes", "lots");
  EXPECT_NE(bad.message().find("'slot_lag_bytes'"), std::string::npos) << bad.message();
  bad = ApplyAlertSetting(settings, "sink_lag", "1");
  EXPECT_NE(bad.message().find("unknown alerts setting 'sink_lag'"), std::string::npos);
  EXPECT_NE(bad.message().find("sink_lag_seconds"), std::string::npos) << bad.message();
}

TEST(AlertSettings, PatchesFromJsonAndRefusesBadBodies) {
  AlertSettings current;
  auto patched = PatchAlertSettings(current, R"({"sink_lag_seconds": 1, "wal_status": false,
                                               "webhook_url": "http://127.0.0.1:9/a"})");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ(patched->sink_lag_seconds, 1);
  EXPECT_FALSE(patched->wal_status);
  EXPECT_EQ(patched->webhook_url, "http://127.0.0.1:9/a");
  EXPECT_EQ(patched->slot_lag_bytes, current.slot_lag_bytes);  // untouched
  for (auto [body, says] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"{", "not valid JSON"},
           {"[1]", "must be a JSON object"},
           {R"({"sink_lag_seconds": [1]})", "'sink_lag_seconds' must be a number"},
           {R"({"sink_lag_seconds": "soon"})", "'sink_lag_seconds'"},
           {R"({"sample_interval": "1s"})", "set at start only"},
           {R"({"nope": 1})", "unknown alerts setting 'nope'"}}) {
    auto bad = PatchAlertSettings(current, body);
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find(says), std::string::npos) << bad.status().message();
  }
}

TEST(AlertSettings, TextsHideWebhookCredentials) {
  AlertSettings settings;
  ASSERT_TRUE(ApplyAlertSetting(settings, "webhook_url", "https://user:pw@hooks.example/x").ok());
  std::map<std::string, std::string> texts;
  for (const auto& [key, text] : AlertSettingTexts(settings)) texts[key] = text;
  EXPECT_EQ(texts["webhook_url"], "https://***@hooks.example/x");
  EXPECT_EQ(texts["sink_lag_seconds"], "300");
  EXPECT_EQ(texts["sample_interval"], "5s");
  EXPECT_EQ(AlertSettingTexts(settings).size(), AlertSettingKeys().size());
}

TEST(AlertEvaluator, RaisesOnceKeepsAndClearsSinkLag) {
  prometheus::Registry registry;
  AlertSettings settings;
  settings.sink_lag_seconds = 10;
  AlertEvaluator evaluator(settings, &registry);
  EXPECT_TRUE(evaluator.Evaluate(kStart, OneSink(2)).empty());

  auto raised = evaluator.Evaluate(kStart + kSecond, OneSink(12));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_TRUE(raised[0].raised);
  EXPECT_EQ(raised[0].alert.kind, AlertKind::kSinkLagSeconds);
  EXPECT_EQ(raised[0].alert.subject, "hook");
  EXPECT_NE(raised[0].alert.message.find("12.0 s"), std::string::npos) << raised[0].alert.message;
  EXPECT_NE(Text(registry).find("eddy_alert_active{alert=\"sink_lag_seconds\",sink=\"hook\"} 1"),
            std::string::npos)
      << Text(registry);

  // Still above: no new change, the alert keeps its start.
  EXPECT_TRUE(evaluator.Evaluate(kStart + 2 * kSecond, OneSink(20)).empty());
  ASSERT_EQ(evaluator.Active().size(), 1u);
  EXPECT_EQ(evaluator.Active()[0].since_nanos, kStart + kSecond);

  auto cleared = evaluator.Evaluate(kStart + 3 * kSecond, OneSink(1));
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_FALSE(cleared[0].raised);
  EXPECT_TRUE(evaluator.Active().empty());
  EXPECT_NE(Text(registry).find("eddy_alert_active{alert=\"sink_lag_seconds\",sink=\"hook\"} 0"),
            std::string::npos);
}

TEST(AlertEvaluator, StateAlertsAndThresholdsOff) {
  prometheus::Registry registry;
  AlertSettings settings;
  settings.slot_lag_bytes = 1000;
  AlertEvaluator evaluator(settings, &registry);
  Health health = OneSink(0, "FAILED");
  health.sinks[0].reason = "HTTP 404 from the function";
  StreamHealth stream;
  stream.stream = "orders";
  stream.source = "pg";
  stream.source_lag_bytes = 5000;
  stream.wal_status = "unreserved";
  stream.capture_state = "failed";
  stream.capture_error = "slot dropped";
  health.streams.push_back(stream);
  auto changes = evaluator.Evaluate(kStart, health);
  ASSERT_EQ(changes.size(), 4u);
  std::vector<AlertKind> kinds;
  for (const auto& change : changes) kinds.push_back(change.alert.kind);
  EXPECT_EQ(kinds, (std::vector<AlertKind>{AlertKind::kSlotLagBytes, AlertKind::kWalStatus,
                                           AlertKind::kSinkFailed, AlertKind::kCaptureFailed}));
  for (const auto& change : changes) {
    if (change.alert.kind == AlertKind::kSinkFailed) {
      EXPECT_NE(change.alert.message.find("HTTP 404"), std::string::npos);
    }
    if (change.alert.kind == AlertKind::kCaptureFailed) {
      EXPECT_NE(change.alert.message.find("slot dropped"), std::string::npos);
    }
  }
  // Turned off: every alert clears at the next evaluation.
  settings.slot_lag_bytes = 0;
  settings.wal_status = false;
  settings.sink_failed = false;
  settings.capture_failed = false;
  evaluator.SetSettings(settings);
  changes = evaluator.Evaluate(kStart + kSecond, health);
  EXPECT_EQ(changes.size(), 4u);
  for (const auto& change : changes) EXPECT_FALSE(change.raised);
}

TEST(AlertEvaluator, SubjectGoneClearsItsAlert) {
  prometheus::Registry registry;
  AlertEvaluator evaluator(AlertSettings{}, &registry);
  ASSERT_EQ(evaluator.Evaluate(kStart, OneSink(0, "FAILED")).size(), 1u);
  auto changes = evaluator.Evaluate(kStart + kSecond, Health{});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].raised);
}

TEST(AlertEvaluator, ReadsSlotHealthFromTheMetrics) {
  prometheus::Registry registry;
  auto& lag = prometheus::BuildGauge().Name("eddy_source_lag_bytes").Register(registry);
  lag.Add({{"stream", "orders"}}).Set(4096);
  auto& status = prometheus::BuildGauge().Name("eddy_source_slot_wal_status").Register(registry);
  status.Add({{"stream", "orders"}, {"status", "reserved"}}).Set(0);
  status.Add({{"stream", "orders"}, {"status", "lost"}}).Set(1);
  Health health;
  health.streams.push_back({"orders", "pg", std::nullopt, "", "streaming", ""});
  AddMetricHealth(registry.Collect(), &health);
  EXPECT_EQ(health.streams[0].source_lag_bytes, 4096);
  EXPECT_EQ(health.streams[0].wal_status, "lost");
}

TEST(AlertEvaluator, ChangeJson) {
  Alert alert{AlertKind::kSinkFailed, "sink", "hook", "sink hook is FAILED", 1, 0, kStart};
  EXPECT_EQ(AlertChangeJson({true, alert, kStart + kSecond}),
            "{\"alert\":\"sink_failed\",\"sink\":\"hook\",\"message\":\"sink hook is FAILED\","
            "\"value\":1,\"threshold\":0,\"since\":\"2023-11-14T22:13:20Z\",\"state\":\"raised\","
            "\"time\":\"2023-11-14T22:13:21Z\"}");
}

}  // namespace
}  // namespace eddy::monitor
