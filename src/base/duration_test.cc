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
