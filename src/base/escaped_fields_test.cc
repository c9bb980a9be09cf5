#include "base/escaped_fields.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy {
namespace {

TEST(EscapedFields, EveryByteStringRoundTripsThroughOneField) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  for (const std::string& text :
       {std::string(), std::string("plain"), std::string("a b%c\n"), all}) {
    std::string line = "key";
    AppendEscapedField(line, text);
    std::vector<std::string_view> fields = SplitEscapedFields(line);
    ASSERT_EQ(fields.size(), 2u) << line;
    EXPECT_EQ(fields[0], "key");
    EXPECT_EQ(line.find('\n'), std::string::npos);
    std::string decoded;
    ASSERT_TRUE(DecodeEscapedField(fields[1], &decoded));
    EXPECT_EQ(decoded, text);
  }
}

TEST(EscapedFields, ABrokenEscapeIsRefused) {
  std::string out;
  EXPECT_FALSE(DecodeEscapedField("%4", &out));
  EXPECT_FALSE(DecodeEscapedField("%zz", &out));
  EXPECT_FALSE(DecodeEscapedField("abc%", &out));
  EXPECT_TRUE(DecodeEscapedField("%41%62", &out));
  EXPECT_EQ(out, "Ab");
}

TEST(EscapedFields, SplitKeepsEmptyFields) {
  std::vector<std::string_view> fields = SplitEscapedFields("a  b");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[1], "");
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

}  // namespace
}  // namespace eddy
