#include "consume/sink_settings.h"

#include <gtest/gtest.h>

namespace eddy::consume {
namespace {

SinkSpec Spec(std::map<std::string, std::string> settings) {
  SinkSpec spec;
  spec.name = "orders";
  spec.stream = "cdc";
  spec.url = "webhook+http://127.0.0.1:9000/hook";
  spec.data_dir = "/data";
  spec.settings = std::move(settings);
  return spec;
}

TEST(SinkSettingsTest, DefaultsFollowLambdaWithTrimHorizonStart) {
  auto settings = ParseSinkSettings(Spec({}));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->batch_size, 100u);
  EXPECT_EQ(settings->max_batching_window.count(), 0);
  EXPECT_EQ(settings->batch_bytes, 6u << 20);
  EXPECT_EQ(settings->parallelization_factor, 1u);
  EXPECT_EQ(settings->starting_position, StartingPosition::kTrimHorizon);
  EXPECT_EQ(settings->maximum_retry_attempts, -1);
  EXPECT_FALSE(settings->maximum_record_age.has_value());
  EXPECT_FALSE(settings->bisect_batch_on_function_error);
  EXPECT_EQ(settings->on_failure.kind, OnFailureKind::kFile);
  EXPECT_EQ(settings->on_failure.file_path, "/data/failures/orders.jsonl");
  EXPECT_EQ(settings->format, "native");
  EXPECT_FALSE(settings->view_type.has_value());
  EXPECT_EQ(settings->max_backlog, std::chrono::hours(24 * 7));
}

TEST(SinkSettingsTest, ParsesEverySetting) {
  auto settings = ParseSinkSettings(Spec({
      {"batch_size", "500"},
      {"max_batching_window", "5"},
      {"batch_bytes", "1048576"},
      {"parallelization_factor", "4"},
      {"starting_position", "at_timestamp"},
      {"starting_position_timestamp", "1700000000.5"},
      {"maximum_retry_attempts", "3"},
      {"maximum_record_age", "1h"},
      {"bisect_batch_on_function_error", "true"},
      {"on_failure", "dead-letters.jsonl"},
      {"format", "debezium"},
      {"view_type", "NEW_IMAGE"},
      {"max_backlog", "2d"},
      {"filter", R"({"data":{"op":["c"]}})"},
      {"url_timeout", "kept for the destination"},
  }));
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->batch_size, 500u);
  EXPECT_EQ(settings->max_batching_window, std::chrono::seconds(5));
  EXPECT_EQ(settings->batch_bytes, 1048576u);
  EXPECT_EQ(settings->parallelization_factor, 4u);
  EXPECT_EQ(settings->starting_position, StartingPosition::kAtTimestamp);
  EXPECT_EQ(settings->starting_position_timestamp_nanos, 1'700'000'000'500'000'000);
  EXPECT_EQ(settings->maximum_retry_attempts, 3);
  EXPECT_EQ(settings->maximum_record_age, std::chrono::hours(1));
  EXPECT_TRUE(settings->bisect_batch_on_function_error);
  EXPECT_EQ(settings->on_failure.file_path, "/data/failures/dead-letters.jsonl");
  EXPECT_EQ(settings->format, "debezium");
  EXPECT_EQ(settings->view_type, format::ViewType::kNewImage);
  EXPECT_EQ(settings->max_backlog, std::chrono::hours(48));
  EXPECT_EQ(settings->filter, R"({"data":{"op":["c"]}})");
}

TEST(SinkSettingsTest, DurationsTakeSecondsOrDurationStrings) {
  EXPECT_EQ(ParseSinkSettings(Spec({{"max_batching_window", "60"}}))->max_batching_window,
            std::chrono::seconds(60));
  EXPECT_EQ(ParseSinkSettings(Spec({{"max_batching_window", "500ms"}}))->max_batching_window,
            std::chrono::milliseconds(500));
  EXPECT_EQ(ParseSinkSettings(Spec({{"max_batching_window", "5m"}}))->max_batching_window,
            std::chrono::minutes(5));
  EXPECT_FALSE(ParseSinkSettings(Spec({{"maximum_record_age", "-1"}}))->maximum_record_age);
  EXPECT_EQ(ParseSinkSettings(Spec({{"maximum_record_age", "60"}}))->maximum_record_age,
            std::chrono::seconds(60));
}

TEST(SinkSettingsTest, ErrorsNameTheKeyTheValueAndWhatIsAllowed) {
  struct Case {
    const char* key;
    const char* value;
    const char* allowed;
  };
  for (const Case& bad : std::vector<Case>{
           {"batch_size", "0", "1 to 10000"},
           {"batch_size", "10001", "1 to 10000"},
           {"batch_size", "ten", "1 to 10000"},
           {"max_batching_window", "301", "0 to 300 seconds"},
           {"max_batching_window", "1.5", "duration"},
           {"batch_bytes", "7000000", "1 to 6291456"},
           {"parallelization_factor", "11", "1 to 10"},
           {"starting_position", "EARLIEST", "TRIM_HORIZON, LATEST or AT_TIMESTAMP"},
           {"maximum_retry_attempts", "-2", "-1 to 10000"},
           {"maximum_record_age", "59", "60 to 604800"},
           {"maximum_record_age", "604801", "60 to 604800"},
           {"bisect_batch_on_function_error", "yes", "true or false"},
           {"on_failure", "../etc/passwd", "file name"},
           {"format", "avro", "native"},
           {"view_type", "ALL", "NEW_AND_OLD_IMAGES"},
           {"max_backlog", "0", "1 second"},
       }) {
    auto settings = ParseSinkSettings(Spec({{bad.key, bad.value}}));
    ASSERT_FALSE(settings.ok()) << bad.key << "=" << bad.value;
    EXPECT_EQ(settings.status().code(), ErrorCode::kInvalidArgument);
    const std::string message = settings.status().message();
    const std::string named = std::string(bad.key) + " = '" + bad.value + "'";
    EXPECT_NE(message.find("sink 'orders'"), std::string::npos) << message;
    EXPECT_NE(message.find(named), std::string::npos) << message;
    EXPECT_NE(message.find(bad.allowed), std::string::npos) << message;
  }
}

TEST(SinkSettingsTest, AtTimestampNeedsItsTimestampAndOnlyIt) {
  auto missing = ParseSinkSettings(Spec({{"starting_position", "AT_TIMESTAMP"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("starting_position_timestamp"), std::string::npos);
  auto stray = ParseSinkSettings(Spec({{"starting_position_timestamp", "1700000000"}}));
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("only with starting_position = AT_TIMESTAMP"),
            std::string::npos);
}

TEST(SinkSettingsTest, OnFailureUrlIsForTheWebhookModule) {
  auto settings = ParseSinkSettings(Spec({{"on_failure", "https://example.com/dead"}}));
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->on_failure.kind, OnFailureKind::kWebhook);
  EXPECT_EQ(settings->on_failure.url, "https://example.com/dead");
}

TEST(SinkSettingsTest, UnknownKeysAreLeftToTheDestination) {
  SinkSpec spec = Spec({{"batch_size", "10"}, {"timeout", "5s"}, {"header.Authorization", "x"}});
  ASSERT_TRUE(ParseSinkSettings(spec).ok());
  auto rest = DestinationSettings(spec);
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest.count("timeout"), 1u);
  EXPECT_EQ(rest.count("header.Authorization"), 1u);
  EXPECT_TRUE(IsRunnerSetting("batch_size"));
  EXPECT_FALSE(IsRunnerSetting("timeout"));
}

}  // namespace
}  // namespace eddy::consume
