#include "sink/objects/prefix_expression.h"

#include <gtest/gtest.h>

#include <map>

namespace eddy::sink::objects {
namespace {

// 2026-12-04T17:05:09Z
constexpr int64_t kArrival = 1'796'403'909'000'000'000;

FieldLookup Fields(std::map<std::string, std::optional<std::string>> values) {
  return [values](std::string_view name) -> Result<std::optional<std::string>> {
    auto it = values.find(std::string(name));
    if (it == values.end())
      return InvalidArgument("the record has no field '" + std::string(name) + "'");
    return it->second;
  };
}

TEST(PrefixExpressionTest, TimestampsAndHiveLayouts) {
  auto expression = PrefixExpression::Parse(
      "table=!{partitionKeyFromQuery:source.table}/dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH}/",
      PrefixKind::kData, "prefix");
  ASSERT_TRUE(expression.ok()) << expression.status().ToString();
  EXPECT_TRUE(expression->has_timestamp());
  ASSERT_EQ(expression->fields().size(), 1u);
  auto value = expression->Evaluate(kArrival, Fields({{"source.table", "orders"}}));
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "table=orders/dt=2026-12-04/h=17/");

  auto firehose = PrefixExpression::Parse("cdc/!{timestamp:yyyy/MM/dd/HH/}'x'mm''ss",
                                          PrefixKind::kData, "prefix");
  ASSERT_TRUE(firehose.ok()) << firehose.status().ToString();
  EXPECT_EQ(*firehose->Evaluate(kArrival, Fields({})), "cdc/2026/12/04/17/'x'mm''ss");
  auto quoted =
      PrefixExpression::Parse("!{timestamp:yyyy'-quoted-'MM''ss}", PrefixKind::kData, "prefix");
  ASSERT_TRUE(quoted.ok()) << quoted.status().ToString();
  EXPECT_EQ(*quoted->Evaluate(kArrival, Fields({})), "2026-quoted-12'09");
}

TEST(PrefixExpressionTest, PartitionValuesCannotEscapeTheirSegment) {
  auto expression = PrefixExpression::Parse("r=!{partitionKeyFromQuery:after.region}/",
                                            PrefixKind::kData, "prefix");
  ASSERT_TRUE(expression.ok());
  EXPECT_EQ(*expression->Evaluate(kArrival, Fields({{"after.region", "../etc/x y"}})),
            "r=..%2Fetc%2Fx%20y/");
  EXPECT_EQ(*expression->Evaluate(kArrival, Fields({{"after.region", ".."}})), "r=%2E%2E/");
  EXPECT_EQ(*expression->Evaluate(kArrival, Fields({{"after.region", std::nullopt}})),
            "r=__HIVE_DEFAULT_PARTITION__/");
  EXPECT_EQ(*expression->Evaluate(kArrival, Fields({{"after.region", ""}})),
            "r=__HIVE_DEFAULT_PARTITION__/");
  auto missing = expression->Evaluate(kArrival, Fields({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("after.region"), std::string::npos);
  auto too_long = expression->Evaluate(kArrival, Fields({{"after.region", std::string(600, 'a')}}));
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidArgument);
}

TEST(PrefixExpressionTest, ErrorPrefixRules) {
  auto error = PrefixExpression::Parse("errors/!{firehose:error-output-type}/", PrefixKind::kError,
                                       "error_prefix");
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(*error->Evaluate(kArrival, Fields({}), "processing-failed"),
            "errors/processing-failed/");
  EXPECT_FALSE(PrefixExpression::Parse("errors/", PrefixKind::kError, "error_prefix").ok());
  EXPECT_FALSE(
      PrefixExpression::Parse("!{firehose:error-output-type}/", PrefixKind::kData, "prefix").ok());
  EXPECT_FALSE(PrefixExpression::Parse("!{firehose:error-output-type}/!{partitionKeyFromQuery:a}/",
                                       PrefixKind::kError, "error_prefix")
                   .ok());
}

TEST(PrefixExpressionTest, BadExpressionsSayWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& bad : {
           Case{"a/!{timestamp:yyyy", "not closed"},
           Case{"!{timestamp:YYYY}", "'YYYY'"},
           Case{"!{timestamp:}", "empty pattern"},
           Case{"!{timestamp:yyyy'}", "unclosed quote"},
           Case{"!{firehose:random-string}", "duplicate object"},
           Case{"!{partitionKeyFromLambda:x}", "Lambda"},
           Case{"!{partitionKeyFromQuery:a..b}", "dotted path"},
           Case{"!{partitionKeyFromQuery:.a}", "dotted path"},
           Case{"!{nope:x}", "namespace 'nope'"},
           Case{"!{timestamp}", "NAMESPACE:ARGUMENT"},
           Case{"a\\b", "backslash"},
       }) {
    auto parsed = PrefixExpression::Parse(bad.text, PrefixKind::kData, "prefix");
    ASSERT_FALSE(parsed.ok()) << bad.text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(bad.says), std::string::npos)
        << bad.text << ": " << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("'prefix'"), std::string::npos);
  }
  EXPECT_FALSE(PrefixExpression::Parse(std::string(513, 'a'), PrefixKind::kData, "prefix").ok());
}

}  // namespace
}  // namespace eddy::sink::objects
