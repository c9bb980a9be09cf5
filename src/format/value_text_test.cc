#include "format/value_text.h"

#include <gtest/gtest.h>

namespace eddy::format {
namespace {

using model::DateValue;
using model::TemporalKind;

TEST(FormatDateTest, FiniteBcFarFutureAndSpecial) {
  EXPECT_EQ(FormatDate(DateValue::FromCivil(2024, 1, 15)), "2024-01-15");
  EXPECT_EQ(FormatDate(DateValue::FromCivil(1, 1, 1)), "0001-01-01");
  // 44 BC is astronomical year -43.
  EXPECT_EQ(FormatDate(DateValue::FromCivil(-43, 3, 15)), "-0043-03-15");
  EXPECT_EQ(FormatDate(DateValue::FromCivil(0, 2, 29)), "0000-02-29");  // 1 BC, a leap year
  EXPECT_EQ(FormatDate(DateValue::FromCivil(-4713, 11, 24)), "-4713-11-24");
  EXPECT_EQ(FormatDate(DateValue::FromCivil(10000, 1, 1)), "+10000-01-01");
  EXPECT_EQ(FormatDate(DateValue{TemporalKind::kPositiveInfinity, 0}), "infinity");
  EXPECT_EQ(FormatDate(DateValue{TemporalKind::kNegativeInfinity, 0}), "-infinity");
  EXPECT_EQ(FormatDate(DateValue{TemporalKind::kZero, 0}), "0000-00-00");
}

TEST(FormatTimeTest, PostgresAndMysqlRanges) {
  EXPECT_EQ(FormatTime(0), "00:00:00.000000");
  EXPECT_EQ(FormatTime(((10 * 60 + 15) * 60 + 30) * 1000000LL + 5), "10:15:30.000005");
  EXPECT_EQ(FormatTime(86400000000LL), "24:00:00.000000");
  EXPECT_EQ(FormatTime(-((838 * 60 + 59) * 60 + 59) * 1000000LL), "-838:59:59.000000");
  EXPECT_EQ(FormatTime(-1), "-00:00:00.000001");
  EXPECT_EQ(FormatTimeTz({3600000000LL, 19800}), "01:00:00.000000+05:30");
  EXPECT_EQ(FormatTimeTz({0, -12600}), "00:00:00.000000-03:30");
  EXPECT_EQ(FormatTimeTz({0, 0}), "00:00:00.000000Z");
  EXPECT_EQ(FormatTimeTz({0, -(3600 + 61)}), "00:00:00.000000-01:01:01");
}

TEST(FormatTimestampTest, MicrosecondsBeforeAndAfterEpoch) {
  int64_t micros = model::DaysFromCivil({2024, 1, 15}) * 86400000000LL +
                   ((10 * 60 + 15) * 60 + 30) * 1000000LL + 123456;
  EXPECT_EQ(FormatTimestamp({TemporalKind::kFinite, micros}), "2024-01-15T10:15:30.123456");
  EXPECT_EQ(FormatTimestampTz({TemporalKind::kFinite, micros}), "2024-01-15T10:15:30.123456Z");
  EXPECT_EQ(FormatTimestampTz({TemporalKind::kFinite, -1}), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp({TemporalKind::kPositiveInfinity, 0}), "infinity");
  EXPECT_EQ(FormatTimestampTz({TemporalKind::kNegativeInfinity, 0}), "-infinity");
  EXPECT_EQ(FormatTimestamp({TemporalKind::kZero, 0}), "0000-00-00T00:00:00.000000");
  int64_t bc = model::DaysFromCivil({-99, 6, 1}) * 86400000000LL;
  EXPECT_EQ(FormatTimestampTz({TemporalKind::kFinite, bc}), "-0099-06-01T00:00:00.000000Z");
  EXPECT_EQ(FormatEpochNanos(1700000000123456789), "2023-11-14T22:13:20.123456Z");
}

TEST(FormatIntervalTest, Iso8601WithSignedParts) {
  EXPECT_EQ(FormatInterval({0, 0, 0}), "PT0S");
  EXPECT_EQ(FormatInterval({14, 3, ((4 * 60 + 5) * 60 + 6) * 1000000LL + 7}),
            "P1Y2M3DT4H5M6.000007S");
  EXPECT_EQ(FormatInterval({-1, 0, 0}), "P-1M");
  EXPECT_EQ(FormatInterval({0, -2, -90 * 60 * 1000000LL}), "P-2DT-1H-30M");
  EXPECT_EQ(FormatInterval({0, 0, 500000}), "PT0.5S");
}

}  // namespace
}  // namespace eddy::format
