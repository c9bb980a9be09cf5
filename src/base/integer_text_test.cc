#include "base/integer_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace eddy {
namespace {

// What std::from_chars says of the whole text.
bool FromChars(std::string_view text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

TEST(IntegerTextTest, AgreesWithFromChars) {
  std::vector<std::string> texts = {"",
                                    "-",
                                    "0",
                                    "-0",
                                    "+1",
                                    "007",
                                    "42",
                                    "-42",
                                    " 1",
                                    "1 ",
                                    "1a",
                                    "999999999999999999",
                                    "-999999999999999999",
                                    "9223372036854775807",
                                    "-9223372036854775808",
                                    "9223372036854775808",
                                    "-9223372036854775809",
                                    "00000000000000000000001",
                                    "1.5"};
  std::mt19937_64 random(11);
  for (int i = 0; i < 2000; ++i) {
    std::string text = random() % 3 == 0 ? "-" : "";
    const size_t length = random() % 22;
    for (size_t j = 0; j < length; ++j) {
      text += random() % 50 == 0 ? 'x' : static_cast<char>('0' + random() % 10);
    }
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    int64_t expected = 0;
    int64_t actual = 0;
    const bool expected_ok = FromChars(text, expected);
    ASSERT_EQ(ParseInt64Text(text, actual), expected_ok) << "'" << text << "'";
    if (expected_ok) {
      EXPECT_EQ(actual, expected) << text;
    }
  }
}

}  // namespace
}  // namespace eddy
