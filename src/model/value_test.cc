#include "model/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "model/datetime_text.h"

namespace eddy::model {
namespace {

TEST(CivilDateTest, EpochAndKnownDates) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(DaysFromCivil({2000, 1, 1}), 10957);
  EXPECT_EQ(DaysFromCivil({1969, 12, 31}), -1);
  // 4713 BC (astronomical -4712) January 1 is Julian day 0 in the Julian calendar; in the
  // proleptic Gregorian calendar PostgreSQL's minimum date 4714-11-24 BC is day -2440588.
  EXPECT_EQ(DaysFromCivil({-4713, 11, 24}), -2440588);
  EXPECT_EQ(CivilFromDays(-2440588), (CivilDate{-4713, 11, 24}));
  EXPECT_EQ(CivilFromDays(DaysFromCivil({2024, 2, 29})), (CivilDate{2024, 2, 29}));
}

TEST(CivilDateTest, RoundTripsEveryDayOverAWideRange) {
  for (int64_t days = -3000000; days <= 3000000; days += 7) {
    ASSERT_EQ(DaysFromCivil(CivilFromDays(days)), days) << days;
  }
}

TEST(DatetimeTextTest, CommonShapeParsesAndTheRestIsLeftToTheSources) {
  EXPECT_EQ(ParseDatetimeTextMicros("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(ParseDatetimeTextMicros("1970-01-02 00:00:01.5"), 86'401'500'000);
  EXPECT_EQ(ParseDatetimeTextMicros("1969-12-31 23:59:59.999999"), -1);
  EXPECT_EQ(ParseDatetimeTextMicros("2026-01-01 00:00:00.000120"),
            DaysFromCivil({2026, 1, 1}) * 86'400'000'000 + 120);
  // Day 31 of a 30-day month: what the sources' parsers compute for it too.
  EXPECT_EQ(ParseDatetimeTextMicros("2026-04-31 00:00:00"),
            DaysFromCivil({2026, 4, 31}) * 86'400'000'000);
  for (std::string_view other :
       {"", "infinity", "0000-00-00 00:00:00", "2026-00-01 00:00:00", "2026-01-00 00:00:00",
        "2026-13-01 00:00:00", "2026-01-32 00:00:00", "2026-01-01 24:00:00", "2026-01-01 23:60:00",
        "2026-01-01 23:59:60", "2026-01-01 00:00:00.", "2026-01-01 00:00:00.1234567",
        "2026-01-01 00:00:00+00", "2026-01-01T00:00:00", "12026-01-01 00:00:00",
        "-026-01-01 00:00:00", "2026-01-01 00:00:00 BC", "2026-01-01 0a:00:00",
        "2026-01-01 00:00:00.12x"}) {
    EXPECT_EQ(ParseDatetimeTextMicros(other), std::nullopt) << other;
  }
}

TEST(UuidTest, ParseAndPrint) {
  auto uuid = UuidValue::Parse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  ASSERT_TRUE(uuid.ok()) << uuid.status().ToString();
  EXPECT_EQ(uuid->ToString(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_TRUE(UuidValue::Parse("{a0eebc999c0b4ef8bb6d6bb9bd380a11}").ok());
  EXPECT_FALSE(UuidValue::Parse("a0eebc99").ok());
  EXPECT_FALSE(UuidValue::Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g").ok());
  EXPECT_FALSE(UuidValue::Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1100").ok());
}

TEST(DecimalTest, WellFormed) {
  for (const char* good : {"0", "-1", "12.50", "-0.001", "NaN", "Infinity", "-Infinity",
                           "123456789012345678901234567890.123456789"}) {
    EXPECT_TRUE(DecimalValue::IsWellFormed(good)) << good;
  }
  for (const char* bad : {"", "-", "1.", ".5", "1e5", "1,5", "+1", "nan", "1.2.3"}) {
    EXPECT_FALSE(DecimalValue::IsWellFormed(bad)) << bad;
  }
}

TEST(ValueTest, TypesMatchFactories) {
  EXPECT_EQ(Value().type(), ValueType::kNull);
  EXPECT_EQ(Value::Bool(true).type(), ValueType::kBool);
  EXPECT_EQ(Value::Int64(-1).type(), ValueType::kInt64);
  EXPECT_EQ(Value::Uint64(1).type(), ValueType::kUint64);
  EXPECT_EQ(Value::Float32(1.5f).type(), ValueType::kFloat32);
  EXPECT_EQ(Value::Float64(1.5).type(), ValueType::kFloat64);
  EXPECT_EQ(Value::Decimal("1.50").type(), ValueType::kDecimal);
  EXPECT_EQ(Value::Text("a").type(), ValueType::kText);
  EXPECT_EQ(Value::Bytes("a").type(), ValueType::kBytes);
  EXPECT_EQ(Value::Date(DateValue::FromCivil(2024, 1, 2)).type(), ValueType::kDate);
  EXPECT_EQ(Value::Time(1).type(), ValueType::kTime);
  EXPECT_EQ(Value::TimeTz({1, 3600}).type(), ValueType::kTimeTz);
  EXPECT_EQ(Value::Timestamp({}).type(), ValueType::kTimestamp);
  EXPECT_EQ(Value::TimestampTz({}).type(), ValueType::kTimestampTz);
  EXPECT_EQ(Value::Interval({1, 2, 3}).type(), ValueType::kInterval);
  EXPECT_EQ(Value::Uuid({}).type(), ValueType::kUuid);
  EXPECT_EQ(Value::Json("{}").type(), ValueType::kJson);
  EXPECT_EQ(Value::Enum("red").type(), ValueType::kEnum);
  EXPECT_EQ(Value::Bits("101").type(), ValueType::kBits);
  EXPECT_EQ(Value::Array({Value::Int64(1), Value()}).type(), ValueType::kArray);
  EXPECT_EQ(Value::TypedText("inet", "10.0.0.1").type(), ValueType::kTypedText);
  EXPECT_EQ(Value::Unavailable().type(), ValueType::kUnavailable);
  EXPECT_TRUE(Value::Unavailable().is_unavailable());
  EXPECT_FALSE(Value::Unavailable().is_null());
}

TEST(ValueTest, EqualityIsExactForFloats) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Value::Float64(nan), Value::Float64(nan));
  EXPECT_NE(Value::Float64(0.0), Value::Float64(-0.0));
  EXPECT_NE(Value::Int64(1), Value::Uint64(1));
  EXPECT_NE(Value::Text("1"), Value::Decimal("1"));
  EXPECT_EQ(Value::Array({Value::Array({Value::Int64(1)})}),
            Value::Array({Value::Array({Value::Int64(1)})}));
}

TEST(ValueTest, CanonicalTextSeparatesTypesAndConcatenations) {
  EXPECT_NE(Value::Int64(1).CanonicalText(), Value::Uint64(1).CanonicalText());
  EXPECT_NE(Value::Text("1").CanonicalText(), Value::Decimal("1").CanonicalText());
  EXPECT_NE(Value::Array({Value::Text("a,b")}).CanonicalText(),
            Value::Array({Value::Text("a"), Value::Text("b")}).CanonicalText());
  EXPECT_EQ(Value::Text("abc").CanonicalText(), "7:3:abc");
  EXPECT_EQ(Value::Int64(-42).CanonicalText(), "2:-42");
}

TEST(ValueTest, DebugStringQuotesControlCharacters) {
  EXPECT_EQ(Value::Text("a\"\n").DebugString(), "text(\"a\\\"\\x0a\")");
  EXPECT_EQ(Value::Int64(7).DebugString(), "int64(7)");
}

}  // namespace
}  // namespace eddy::model
