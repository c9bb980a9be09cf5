#include "base/setting_parse.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(SettingParseTest, BoolsAcceptTrueFalseOneZero) {
  EXPECT_TRUE(*ParseBoolSetting("kafka", "k", "true"));
  EXPECT_TRUE(*ParseBoolSetting("kafka", "k", "1"));
  EXPECT_FALSE(*ParseBoolSetting("kafka", "k", "false"));
  EXPECT_FALSE(*ParseBoolSetting("kafka", "k", "0"));
  auto bad = ParseBoolSetting("kafka", "idempotent", "yes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "kafka setting 'idempotent' is \"yes\"; use true or false");
}

TEST(SettingParseTest, IntegersAreCheckedAgainstTheirRange) {
  EXPECT_EQ(*ParseIntegerSetting("objects", "n", "5", 1, 128), 5);
  EXPECT_EQ(*ParseIntegerSetting("objects", "n", "-3", -5, 0), -3);
  for (const char* bad : {"", "0", "129", "5x", " 5", "+5", "99999999999999999999"}) {
    auto parsed = ParseIntegerSetting("objects", "buffer_size_mb", bad, 1, 128);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("use a whole number from 1 to 128"), std::string::npos)
        << parsed.status().message();
  }
  // Long values are cut in the message.
  std::string long_value(1000, '9');
  auto parsed = ParseIntegerSetting("objects", "n", long_value, 1, 2);
  EXPECT_LT(parsed.status().message().size(), 300u);
}

}  // namespace
}  // namespace eddy
