#include "source/postgres/copy_text.h"

#include <gtest/gtest.h>

namespace eddy::source::postgres {
namespace {

using Values = std::vector<std::optional<std::string_view>>;

TEST(CopyText, SplitsColumnsAndNulls) {
  Values values;
  std::string scratch;
  ASSERT_TRUE(SplitCopyTextRow("1\tabc\t\\N\t\n", 4, values, scratch).ok());
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0], "1");
  EXPECT_EQ(values[1], "abc");
  EXPECT_FALSE(values[2].has_value());
  EXPECT_EQ(values[3], "");  // an empty string is not NULL
}

TEST(CopyText, UnescapesWhatCopyEscapes) {
  Values values;
  std::string scratch;
  // A backslash, the control characters, octal and hex bytes, and "\N" inside a longer value.
  ASSERT_TRUE(SplitCopyTextRow("a\\\\b\tx\\ty\\nz\\r\\b\\f\\v\t\\101\\x42\\7\t\\\\N\tq\\.", 5,
                               values, scratch)
                  .ok());
  ASSERT_EQ(values.size(), 5u);
  EXPECT_EQ(values[0], "a\\b");
  EXPECT_EQ(values[1], "x\ty\nz\r\b\f\v");
  EXPECT_EQ(values[2], std::string_view("AB\x07", 3));
  EXPECT_EQ(values[3], "\\N");
  EXPECT_EQ(values[4], "q.");
}

TEST(CopyText, WrongShapesAreCorruption) {
  Values values;
  std::string scratch;
  EXPECT_EQ(SplitCopyTextRow("1\t2\n", 3, values, scratch).code(), ErrorCode::kCorruption);
  EXPECT_EQ(SplitCopyTextRow("1\t2\t3\n", 2, values, scratch).code(), ErrorCode::kCorruption);
  EXPECT_EQ(SplitCopyTextRow("abc\\", 1, values, scratch).code(), ErrorCode::kCorruption);
  EXPECT_EQ(SplitCopyTextRow("\\xZ", 1, values, scratch).code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace eddy::source::postgres
