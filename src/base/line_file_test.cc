#include "base/line_file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "base/crc32c.h"

namespace eddy {
namespace {

TEST(LineFile, EveryByteStringRoundTripsThroughOneField) {
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

TEST(LineFile, ABrokenEscapeIsRefused) {
  std::string out;
  EXPECT_FALSE(DecodeEscapedField("%4", &out));
  EXPECT_FALSE(DecodeEscapedField("%zz", &out));
  EXPECT_FALSE(DecodeEscapedField("abc%", &out));
  EXPECT_TRUE(DecodeEscapedField("%41%62", &out));
  EXPECT_EQ(out, "Ab");
}

TEST(LineFile, SplitKeepsEmptyFields) {
  std::vector<std::string_view> fields = SplitEscapedFields("a  b");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[1], "");
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(LineFile, TheCrcTrailerFindsTornAndDamagedFiles) {
  std::string file = "magic 1\nset a b\n";
  AppendCrcTrailer(file);
  Result<std::string_view> body = BodyBeforeCrcTrailer(file);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "magic 1\nset a b\n");
  // The trailer as docs/formats/ write it: eight lower-case hex digits.
  EXPECT_EQ(file.substr(body->size()),
            fmt::format("crc32c {:08x}\n", crc32c::Mask(crc32c::Value(*body))));

  std::string flipped = file;
  flipped[9] ^= 1;
  EXPECT_EQ(BodyBeforeCrcTrailer(flipped).status().message(), "CRC mismatch");
  for (size_t size = 0; size < file.size(); ++size) {
    Result<std::string_view> torn = BodyBeforeCrcTrailer(std::string_view(file).substr(0, size));
    EXPECT_FALSE(torn.ok()) << size;
  }
  EXPECT_FALSE(BodyBeforeCrcTrailer("set a b\ncrc32c 0000000g\n").ok());
}

}  // namespace
}  // namespace eddy
