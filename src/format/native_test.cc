#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "format/json.h"
#include "format/renderers.h"
#include "format/sample_events.h"
#include "model/testing.h"

namespace eddy::format {
namespace {

using model::TemporalKind;
using model::Value;

std::string Native(const Value& value) {
  JsonWriter writer;
  WriteNativeValue(writer, value);
  return writer.Take();
}

TEST(NativeValueTest, EveryValueType) {
  EXPECT_EQ(Native(Value::Null()), "null");
  EXPECT_EQ(Native(Value::Bool(true)), "true");
  EXPECT_EQ(Native(Value::Int64(-42)), "-42");
  EXPECT_EQ(Native(Value::Int64(9007199254740992)), "9007199254740992");       // 2^53
  EXPECT_EQ(Native(Value::Int64(9007199254740993)), "\"9007199254740993\"");   // 2^53 + 1
  EXPECT_EQ(Native(Value::Int64(-9007199254740993)), "\"-9007199254740993\"");
  EXPECT_EQ(Native(Value::Int64(std::numeric_limits<int64_t>::min())), "\"-9223372036854775808\"");
  EXPECT_EQ(Native(Value::Uint64(18446744073709551615u)), "\"18446744073709551615\"");
  EXPECT_EQ(Native(Value::Uint64(7)), "7");
  EXPECT_EQ(Native(Value::Float32(1.1f)), "1.1");
  EXPECT_EQ(Native(Value::Float64(0.1)), "0.1");
  EXPECT_EQ(Native(Value::Float64(-0.0)), "-0");
  EXPECT_EQ(Native(Value::Float64(1e300)), "1e+300");
  EXPECT_EQ(Native(Value::Float64(std::nan(""))), "\"NaN\"");
  EXPECT_EQ(Native(Value::Float32(std::numeric_limits<float>::infinity())), "\"Infinity\"");
  EXPECT_EQ(Native(Value::Float64(-std::numeric_limits<double>::infinity())), "\"-Infinity\"");
  EXPECT_EQ(Native(Value::Decimal("123456789012345678901234567890.0100")),
            "\"123456789012345678901234567890.0100\"");
  EXPECT_EQ(Native(Value::Decimal("NaN")), "\"NaN\"");
  EXPECT_EQ(Native(Value::Decimal("-Infinity")), "\"-Infinity\"");
  EXPECT_EQ(Native(Value::Text("a\"\\\n\x01")), R"("a\"\\\n\u0001")");
  EXPECT_EQ(Native(Value::Bytes(std::string("\x00\xff\x10", 3))), "\"AP8Q\"");
  EXPECT_EQ(Native(Value::Date(model::DateValue::FromCivil(-43, 3, 15))), "\"-0043-03-15\"");
  EXPECT_EQ(Native(Value::Date({TemporalKind::kPositiveInfinity, 0})), "\"infinity\"");
  EXPECT_EQ(Native(Value::Date({TemporalKind::kZero, 0})), "\"0000-00-00\"");
  EXPECT_EQ(Native(Value::Time(-3020399000000)), "\"-838:59:59.000000\"");
  EXPECT_EQ(Native(Value::TimeTz({45000000000, 3600})), "\"12:30:00.000000+01:00\"");
  EXPECT_EQ(Native(Value::Timestamp({TemporalKind::kFinite, 1700000000123456})),
            "\"2023-11-14T22:13:20.123456\"");
  EXPECT_EQ(Native(Value::TimestampTz({TemporalKind::kFinite, 1700000000123456})),
            "\"2023-11-14T22:13:20.123456Z\"");
  EXPECT_EQ(Native(Value::TimestampTz({TemporalKind::kNegativeInfinity, 0})), "\"-infinity\"");
  EXPECT_EQ(Native(Value::Interval({13, 1, 1000000})), "\"P1Y1M1DT1S\"");
  auto uuid = model::UuidValue::Parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  ASSERT_TRUE(uuid.ok());
  EXPECT_EQ(Native(Value::Uuid(*uuid)), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  EXPECT_EQ(Native(Value::Json("{ \"a\" : [1, 2.50, 12345678901234567890] }")),
            R"({"a":[1,2.50,12345678901234567890]})");
  EXPECT_EQ(Native(Value::Json("{not json")), R"("{not json")");
  EXPECT_EQ(Native(Value::Enum("paid")), "\"paid\"");
  EXPECT_EQ(Native(Value::Bits("0101")), "\"0101\"");
  EXPECT_EQ(Native(Value::Array({Value::Array({Value::Int64(1), Value::Null()}),
                                 Value::Array({Value::Int64(3), Value::Int64(4)})})),
            "[[1,null],[3,4]]");
  EXPECT_EQ(Native(Value::TypedText("inet", "10.0.0.0/8")), "\"10.0.0.0/8\"");
  EXPECT_EQ(Native(Value::Unavailable()), "\"__eddy_unavailable_value\"");
}

TEST(NativeRendererTest, DsqlShapeForPostgresInsert) {
  auto renderer = MakeRenderer("native");
  ASSERT_TRUE(renderer.ok());
  auto samples = testing::SampleEvents();
  EXPECT_EQ((*renderer)->Render(samples[0].event, ViewType::kNewAndOldImages),
            R"({"type":"full","op":"c","before":null,"after":{"id":1001,"customer":"Zoë \"Z\" O'Neil\n","amount":"19.90","status":"new","placed_at":"2023-11-14T22:13:20.123456Z","note":null},)"
            R"("source":{"version":"1.0","connector":"postgresql","ts_ms":1700000000123,"ts_ns":1700000000123456789,"txId":"7421","db":"shop","schema":"public","table":"orders","lsn":"16/B374D848","commit_lsn":"16/B374E000"},)"
            R"("ts_ms":1700000000223,"ts_ns":1700000000223456000})");
}

TEST(NativeRendererTest, GoldenFilesPerOperationAndViewType) { testing::CheckGoldenFiles("native"); }

TEST(NativeRendererTest, RandomEventsRenderValidJson) {
  uint64_t seed = model::testing::TestSeed();
  std::mt19937_64 random(seed);
  auto renderer = MakeRenderer("native");
  ASSERT_TRUE(renderer.ok());
  for (int i = 0; i < 2000; ++i) {
    model::ChangeEvent event = model::testing::RandomEvent(random);
    for (ViewType view : {ViewType::kNewAndOldImages, ViewType::kKeysOnly}) {
      std::string json = (*renderer)->Render(event, view);
      ASSERT_TRUE(MinifyJson(json).has_value()) << "seed=" << seed << " i=" << i << " " << json;
    }
  }
}

TEST(RendererFactoryTest, UnknownFormatAndViewTypes) {
  auto unknown = MakeRenderer("avro");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("native"), std::string::npos);
  EXPECT_EQ(*ParseViewType("NEW_AND_OLD_IMAGES"), ViewType::kNewAndOldImages);
  EXPECT_EQ(*ParseViewType("keys-only"), ViewType::kKeysOnly);
  EXPECT_FALSE(ParseViewType("ALL").ok());
}

}  // namespace
}  // namespace eddy::format
