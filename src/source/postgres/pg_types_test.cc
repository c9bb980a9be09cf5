#include "source/postgres/pg_types.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace eddy::source::postgres {
namespace {

using model::TemporalKind;
using model::Value;
using model::ValueType;

Value Decode(uint32_t type_oid, std::string_view text, const TypeRegistry& registry = {}) {
  Result<Value> value = DecodeTextValue(type_oid, text, registry);
  EXPECT_TRUE(value.ok()) << "oid " << type_oid << " text " << text << ": "
                          << value.status().ToString();
  return value.ok() ? *value : Value::Null();
}

void ExpectMalformed(uint32_t type_oid, std::string_view text) {
  Result<Value> value = DecodeTextValue(type_oid, text, {});
  EXPECT_FALSE(value.ok()) << "oid " << type_oid << " accepted " << text;
  if (!value.ok()) {
    EXPECT_EQ(value.status().code(), ErrorCode::kCorruption);
  }
}

constexpr int64_t kMicrosPerDay = 86'400'000'000LL;

TEST(PgTypesTest, BoolAndIntegersAtTheirLimits) {
  EXPECT_EQ(Decode(oid::kBool, "t"), Value::Bool(true));
  EXPECT_EQ(Decode(oid::kBool, "f"), Value::Bool(false));
  EXPECT_EQ(Decode(oid::kInt2, "-32768"), Value::Int64(-32768));
  EXPECT_EQ(Decode(oid::kInt4, "2147483647"), Value::Int64(2147483647));
  EXPECT_EQ(Decode(oid::kInt8, "-9223372036854775808"),
            Value::Int64(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(Decode(oid::kInt8, "9223372036854775807"),
            Value::Int64(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(Decode(oid::kOid, "4294967295"), Value::Int64(4294967295LL));
  ExpectMalformed(oid::kInt8, "9223372036854775808");
  ExpectMalformed(oid::kInt4, "12a");
  ExpectMalformed(oid::kInt4, "");
  ExpectMalformed(oid::kBool, "true");
}

TEST(PgTypesTest, NumericKeepsEveryDigitAndSpecials) {
  std::string thousand = "-" + std::string(500, '9') + "." + std::string(500, '1');
  EXPECT_EQ(Decode(oid::kNumeric, thousand), Value::Decimal(thousand));
  EXPECT_EQ(Decode(oid::kNumeric, "NaN"), Value::Decimal("NaN"));
  EXPECT_EQ(Decode(oid::kNumeric, "Infinity"), Value::Decimal("Infinity"));
  EXPECT_EQ(Decode(oid::kNumeric, "-Infinity"), Value::Decimal("-Infinity"));
  EXPECT_EQ(Decode(oid::kNumeric, "0.000100"), Value::Decimal("0.000100"));
  ExpectMalformed(oid::kNumeric, "1e5");
}

TEST(PgTypesTest, FloatsIncludingSpecials) {
  EXPECT_EQ(Decode(oid::kFloat8, "1.7976931348623157e+308"),
            Value::Float64(std::numeric_limits<double>::max()));
  EXPECT_EQ(Decode(oid::kFloat8, "-0"), Value::Float64(-0.0));
  EXPECT_EQ(Decode(oid::kFloat8, "5e-324"), Value::Float64(std::numeric_limits<double>::denorm_min()));
  EXPECT_EQ(Decode(oid::kFloat8, "Infinity"), Value::Float64(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(Decode(oid::kFloat8, "-Infinity"),
            Value::Float64(-std::numeric_limits<double>::infinity()));
  Value nan = Decode(oid::kFloat8, "NaN");
  ASSERT_EQ(nan.type(), ValueType::kFloat64);
  EXPECT_TRUE(std::isnan(nan.Get<double>()));
  EXPECT_EQ(Decode(oid::kFloat4, "3.4028235e+38"), Value::Float32(std::numeric_limits<float>::max()));
  EXPECT_EQ(Decode(oid::kFloat4, "0.1"), Value::Float32(0.1f));
  ExpectMalformed(oid::kFloat8, "inf");
}

TEST(PgTypesTest, TextAndBytea) {
  std::string text = "tab\tnewline\n quote\" backslash\\ emoji \xF0\x9F\x98\x80 nul-free";
  EXPECT_EQ(Decode(oid::kText, text), Value::Text(text));
  EXPECT_EQ(Decode(oid::kVarchar, ""), Value::Text(""));
  EXPECT_EQ(Decode(oid::kBytea, "\\x00ff10Ab"), Value::Bytes(std::string("\x00\xff\x10\xab", 4)));
  EXPECT_EQ(Decode(oid::kBytea, "\\x"), Value::Bytes(""));
  ExpectMalformed(oid::kBytea, "\\x0");
  ExpectMalformed(oid::kBytea, "\\000");
  ExpectMalformed(oid::kBytea, "\\xzz");
}

TEST(PgTypesTest, DatesIncludingInfinityAndBc) {
  EXPECT_EQ(Decode(oid::kDate, "1970-01-01"), Value::Date({TemporalKind::kFinite, 0}));
  EXPECT_EQ(Decode(oid::kDate, "2024-02-29"), Value::Date(model::DateValue::FromCivil(2024, 2, 29)));
  EXPECT_EQ(Decode(oid::kDate, "0001-01-01 BC"), Value::Date(model::DateValue::FromCivil(0, 1, 1)));
  EXPECT_EQ(Decode(oid::kDate, "4714-11-24 BC"),
            Value::Date(model::DateValue::FromCivil(-4713, 11, 24)));
  EXPECT_EQ(Decode(oid::kDate, "5874897-12-31"),
            Value::Date(model::DateValue::FromCivil(5874897, 12, 31)));
  EXPECT_EQ(Decode(oid::kDate, "infinity"), Value::Date({TemporalKind::kPositiveInfinity, 0}));
  EXPECT_EQ(Decode(oid::kDate, "-infinity"), Value::Date({TemporalKind::kNegativeInfinity, 0}));
  ExpectMalformed(oid::kDate, "2024-13-01");
  ExpectMalformed(oid::kDate, "24-01-01");
  ExpectMalformed(oid::kDate, "2024-01-01x");
}

TEST(PgTypesTest, TimesAndTimestamps) {
  EXPECT_EQ(Decode(oid::kTime, "00:00:00"), Value::Time(0));
  EXPECT_EQ(Decode(oid::kTime, "24:00:00"), Value::Time(kMicrosPerDay));
  EXPECT_EQ(Decode(oid::kTime, "13:45:01.5"), Value::Time(((13 * 60 + 45) * 60 + 1) * 1'000'000LL + 500'000));
  EXPECT_EQ(Decode(oid::kTimeTz, "12:00:00+05:30"),
            Value::TimeTz({12 * 3600 * 1'000'000LL, 19800}));
  EXPECT_EQ(Decode(oid::kTimeTz, "23:59:59.999999-15:59"),
            Value::TimeTz({kMicrosPerDay - 1, -(15 * 3600 + 59 * 60)}));

  EXPECT_EQ(Decode(oid::kTimestamp, "1970-01-02 00:00:00.000001"),
            Value::Timestamp({TemporalKind::kFinite, kMicrosPerDay + 1}));
  EXPECT_EQ(Decode(oid::kTimestamp, "infinity"),
            Value::Timestamp({TemporalKind::kPositiveInfinity, 0}));
  EXPECT_EQ(Decode(oid::kTimestampTz, "-infinity"),
            Value::TimestampTz({TemporalKind::kNegativeInfinity, 0}));
  EXPECT_EQ(Decode(oid::kTimestampTz, "1970-01-01 00:00:00+00"),
            Value::TimestampTz({TemporalKind::kFinite, 0}));
  // A non-UTC offset is still converted to the instant.
  EXPECT_EQ(Decode(oid::kTimestampTz, "1970-01-01 01:00:00+01"),
            Value::TimestampTz({TemporalKind::kFinite, 0}));
  int64_t bc_days = model::DaysFromCivil({-43, 3, 15});
  EXPECT_EQ(Decode(oid::kTimestampTz, "0044-03-15 12:00:00+00 BC"),
            Value::TimestampTz({TemporalKind::kFinite, bc_days * kMicrosPerDay + 12 * 3600 * 1'000'000LL}));
  EXPECT_EQ(Decode(oid::kTimestamp, "4714-11-24 00:00:00 BC"),
            Value::Timestamp({TemporalKind::kFinite, model::DaysFromCivil({-4713, 11, 24}) * kMicrosPerDay}));
  // Beyond int64 microseconds since 1970: kept as the server's text.
  EXPECT_EQ(Decode(oid::kTimestamp, "294276-12-31 23:59:59.999999"),
            Value::TypedText("timestamp", "294276-12-31 23:59:59.999999"));
  ExpectMalformed(oid::kTimestampTz, "2024-01-01 00:00:00");
  ExpectMalformed(oid::kTime, "25:00");
}

TEST(PgTypesTest, IntervalsInPostgresStyle) {
  EXPECT_EQ(Decode(oid::kInterval, "00:00:00"), Value::Interval({0, 0, 0}));
  EXPECT_EQ(Decode(oid::kInterval, "1 year 2 mons 3 days 04:05:06.789"),
            Value::Interval({14, 3, ((4 * 60 + 5) * 60 + 6) * 1'000'000LL + 789'000}));
  EXPECT_EQ(Decode(oid::kInterval, "-1 years -2 mons +3 days -04:05:06"),
            Value::Interval({-14, 3, -((4 * 60 + 5) * 60 + 6) * 1'000'000LL}));
  EXPECT_EQ(Decode(oid::kInterval, "-178000000 years"), Value::Interval({-2136000000, 0, 0}));
  EXPECT_EQ(Decode(oid::kInterval, "1 day -00:00:00.000001"), Value::Interval({0, 1, -1}));
  EXPECT_EQ(Decode(oid::kInterval, "2562047788:00:54.775807"),
            Value::Interval({0, 0, std::numeric_limits<int64_t>::max()}));
  ExpectMalformed(oid::kInterval, "P1Y");
  ExpectMalformed(oid::kInterval, "1 fortnight");
}

TEST(PgTypesTest, UuidJsonBitsAndTypedText) {
  EXPECT_EQ(Decode(oid::kUuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").Get<model::UuidValue>().ToString(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(Decode(oid::kJsonb, "{\"a\": [1, 2]}"), Value::Json("{\"a\": [1, 2]}"));
  EXPECT_EQ(Decode(oid::kJson, "  {\"a\" :1}"), Value::Json("  {\"a\" :1}"));
  EXPECT_EQ(Decode(oid::kBit, "1010"), Value::Bits("1010"));
  EXPECT_EQ(Decode(oid::kVarbit, ""), Value::Bits(""));
  EXPECT_EQ(Decode(869, "192.168.0.1/24"), Value::TypedText("inet", "192.168.0.1/24"));
  EXPECT_EQ(Decode(650, "10.0.0.0/8"), Value::TypedText("cidr", "10.0.0.0/8"));
  EXPECT_EQ(Decode(829, "08:00:2b:01:02:03"), Value::TypedText("macaddr", "08:00:2b:01:02:03"));
  EXPECT_EQ(Decode(oid::kMoney, "$1,000.00"), Value::TypedText("money", "$1,000.00"));
  EXPECT_EQ(Decode(oid::kXml, "<a>b</a>"), Value::TypedText("xml", "<a>b</a>"));
  EXPECT_EQ(Decode(600, "(1,2)"), Value::TypedText("point", "(1,2)"));
  EXPECT_EQ(Decode(718, "<(1,2),3>"), Value::TypedText("circle", "<(1,2),3>"));
  EXPECT_EQ(Decode(3904, "[1,5)"), Value::TypedText("int4range", "[1,5)"));
  EXPECT_EQ(Decode(3910, "empty"), Value::TypedText("tstzrange", "empty"));
  EXPECT_EQ(Decode(99999, "whatever"), Value::TypedText("oid:99999", "whatever"));
  ExpectMalformed(oid::kUuid, "not-a-uuid");
  ExpectMalformed(oid::kBit, "102");
}

TEST(PgTypesTest, ArraysMultiDimensionalWithNullsAndQuotes) {
  EXPECT_EQ(Decode(oid::kInt4Array, "{1,2,3}"),
            Value::Array({Value::Int64(1), Value::Int64(2), Value::Int64(3)}));
  EXPECT_EQ(Decode(oid::kInt4Array, "{}"), Value::Array({}));
  EXPECT_EQ(Decode(oid::kInt4Array, "{{1,NULL},{3,4}}"),
            Value::Array({Value::Array({Value::Int64(1), Value::Null()}),
                          Value::Array({Value::Int64(3), Value::Int64(4)})}));
  EXPECT_EQ(Decode(oid::kInt4Array, "[0:1]={7,8}"), Value::Array({Value::Int64(7), Value::Int64(8)}));
  EXPECT_EQ(Decode(oid::kTextArray, R"({"a,b","say \"hi\"","back\\slash",NULL,"NULL",""," sp "})"),
            Value::Array({Value::Text("a,b"), Value::Text("say \"hi\""), Value::Text("back\\slash"),
                          Value::Null(), Value::Text("NULL"), Value::Text(""), Value::Text(" sp ")}));
  // box uses ';' as its delimiter.
  EXPECT_EQ(Decode(1020, "{(1,1),(0,0);(2,2),(1,1)}"),
            Value::Array({Value::TypedText("box", "(1,1),(0,0)"),
                          Value::TypedText("box", "(2,2),(1,1)")}));
  EXPECT_EQ(Decode(1231, "{NaN,1.5,-Infinity}"),
            Value::Array({Value::Decimal("NaN"), Value::Decimal("1.5"), Value::Decimal("-Infinity")}));
  EXPECT_EQ(Decode(1185, "{\"2024-01-01 00:00:00+00\",infinity}"),
            Value::Array({Value::TimestampTz({TemporalKind::kFinite,
                                              model::DaysFromCivil({2024, 1, 1}) * kMicrosPerDay}),
                          Value::TimestampTz({TemporalKind::kPositiveInfinity, 0})}));
  ExpectMalformed(oid::kInt4Array, "{1,2");
  ExpectMalformed(oid::kInt4Array, "{1,,2}");
  ExpectMalformed(oid::kInt4Array, "{1}x");
  ExpectMalformed(oid::kInt4Array, "1,2");
  ExpectMalformed(oid::kTextArray, "{\"abc}");
  ExpectMalformed(oid::kInt4Array, "{{{{{{{{1}}}}}}}}");
}

TEST(PgTypesTest, EnumsDomainsAndTheirArraysThroughTheRegistry) {
  TypeRegistry registry;
  registry.Add({16400, "public", "mood", 'e', false, 0, 0, ','});
  registry.Add({16401, "public", "_mood", 'b', true, 0, 16400, ','});
  registry.Add({16402, "public", "positive_int", 'd', false, oid::kInt4, 0, ','});
  registry.Add({16403, "public", "_positive_int", 'b', true, 0, 16402, ','});
  registry.Add({16404, "public", "hstore", 'b', false, 0, 0, ','});
  EXPECT_EQ(Decode(16400, "happy", registry), Value::Enum("happy"));
  EXPECT_EQ(Decode(16401, "{happy,\"very sad\"}", registry),
            Value::Array({Value::Enum("happy"), Value::Enum("very sad")}));
  EXPECT_EQ(Decode(16402, "5", registry), Value::Int64(5));
  EXPECT_EQ(Decode(16403, "{5,NULL}", registry), Value::Array({Value::Int64(5), Value::Null()}));
  EXPECT_EQ(Decode(16404, "\"a\"=>\"b\"", registry),
            Value::TypedText("public.hstore", "\"a\"=>\"b\""));

  // Known only from a Type message: a domain over a built-in names the built-in.
  TypeRegistry from_messages;
  from_messages.AddFromTypeMessage(16500, "", "numeric");
  EXPECT_EQ(Decode(16500, "1.50", from_messages), Value::Decimal("1.50"));
  EXPECT_FALSE(from_messages.Knows(16500));
  EXPECT_TRUE(from_messages.Knows(oid::kInt4));
}

TEST(PgTypesTest, DescribeColumnDecodesTypeModifiers) {
  TypeRegistry registry;
  model::Column varchar = DescribeColumn("name", oid::kVarchar, 64 + 4, registry);
  EXPECT_EQ(varchar.type, ValueType::kText);
  EXPECT_EQ(varchar.source_type, "varchar");
  EXPECT_EQ(varchar.length, 64);
  model::Column numeric = DescribeColumn("price", oid::kNumeric, ((12 << 16) | 3) + 4, registry);
  EXPECT_EQ(numeric.type, ValueType::kDecimal);
  EXPECT_EQ(numeric.precision, 12);
  EXPECT_EQ(numeric.scale, 3);
  model::Column plain = DescribeColumn("n", oid::kNumeric, -1, registry);
  EXPECT_FALSE(plain.precision.has_value());
  model::Column array = DescribeColumn("tags", oid::kTextArray, -1, registry);
  EXPECT_EQ(array.type, ValueType::kArray);
  EXPECT_EQ(array.element_type, ValueType::kText);
  model::Column ts = DescribeColumn("at", oid::kTimestampTz, 3, registry);
  EXPECT_EQ(ts.precision, 3);
}

}  // namespace
}  // namespace eddy::source::postgres
