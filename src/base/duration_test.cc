#include "base/duration.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsPlainSecondsAndUnits) {
  EXPECT_EQ(*ParseDuration("30"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("0.5"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("1.25"), milliseconds(1250));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7'200'000));
}

TEST(ParseDuration, RejectsOtherSpellingsNamingTheText) {
  for (const char* text :
       {"", "s", "-1", "1.", ".5", "1.2345", "10x", "1e3", "1 s", "1234567890"}) {
    auto parsed = ParseDuration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(std::string("'") + text + "'"), std::string::npos)
        << parsed.status().message();
  }
}

}  // namespace
}  // namespace eddy
