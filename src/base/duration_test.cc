#include "base/duration.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("10s"), milliseconds(10'000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("7d"), milliseconds(604'800'000));
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* bad : {"", "10", "s", "1.5s", "-1s", "10 s", "10sec", "1234567890s"}) {
    auto parsed = ParseDuration(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(DurationTest, PlainDigitsAreSeconds) {
  EXPECT_EQ(*ParseSecondsOrDuration("60"), milliseconds(60'000));
  EXPECT_EQ(*ParseSecondsOrDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseSecondsOrDuration("60s"), milliseconds(60'000));
  EXPECT_EQ(*ParseSecondsOrDuration("250ms"), milliseconds(250));
  EXPECT_FALSE(ParseSecondsOrDuration("-1").ok());
  EXPECT_FALSE(ParseSecondsOrDuration("1.5").ok());
  EXPECT_FALSE(ParseSecondsOrDuration("abc").ok());
}

}  // namespace
}  // namespace eddy

namespace eddy {
namespace {

TEST(DurationTest, TimeoutSettingNamesTheSettingAndTheRange) {
  auto seconds = ParseTimeoutSetting("webhook", "timeout", "30", std::chrono::milliseconds(60'000));
  ASSERT_TRUE(seconds.ok());
  EXPECT_EQ(*seconds, std::chrono::milliseconds(30'000));
  EXPECT_EQ(*ParseTimeoutSetting("kinesis", "t", "500ms", std::chrono::milliseconds(1000)),
            std::chrono::milliseconds(500));
  for (const char* bad : {"0", "0ms", "61", "soon"}) {
    auto parsed = ParseTimeoutSetting("webhook", "timeout", bad, std::chrono::milliseconds(60'000));
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("webhook setting 'timeout'"), std::string::npos);
    EXPECT_NE(parsed.status().message().find("from 1ms to 60 seconds"), std::string::npos);
  }
}

}  // namespace
}  // namespace eddy
