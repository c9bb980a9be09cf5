#include "source/postgres/copy_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace eddy::source::postgres {
namespace {

using Values = std::vector<std::optional<std::string_view>>;

// The fields a byte-at-a-time reading finds: split at every tab, "\\N" a NULL, a field with a
// backslash unescaped (here only "\\\\" and "\\t" occur, which stand for "\\" and a tab).
std::vector<std::optional<std::string>> ReferenceFields(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::vector<std::optional<std::string>> fields;
  std::string field;
  auto finish = [&] {
    if (field == "\\N") {
      fields.emplace_back(std::nullopt);
    } else {
      std::string value;
      for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 1 < field.size()) {
          value += field[i + 1] == 't' ? '\t' : field[i + 1];
          ++i;
        } else {
          value += field[i];
        }
      }
      fields.emplace_back(value);
    }
    field.clear();
  };
  for (char c : line) {
    if (c == '\t') {
      finish();
    } else {
      field += c;
    }
  }
  finish();
  return fields;
}

// Rows of every length around the 16-byte blocks the split scans, tabs and backslashes
// anywhere (at block edges too): the same fields as the byte-at-a-time reading.
TEST(CopyText, BlockScanFindsTheFieldsOfEveryLayout) {
  std::mt19937 random(5);
  const std::string pieces[] = {"a", "bc", "\\\\", "\\t", "\\N", "xyz0123456789", "", "\u00e9"};
  Values values;
  std::string scratch;
  for (int round = 0; round < 5000; ++round) {
    std::string line;
    const size_t fields = 1 + random() % 12;
    for (size_t f = 0; f < fields; ++f) {
      if (f > 0) line += '\t';
      const size_t parts = random() % 5;
      for (size_t p = 0; p < parts; ++p) line += pieces[random() % std::size(pieces)];
    }
    if (random() % 2 == 0) line += '\n';
    const auto expected = ReferenceFields(line);
    ASSERT_TRUE(SplitCopyTextRow(line, expected.size(), values, scratch).ok()) << line;
    ASSERT_EQ(values.size(), expected.size()) << line;
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(values[i].has_value(), expected[i].has_value()) << line << " field " << i;
      if (values[i].has_value()) {
        EXPECT_EQ(*values[i], *expected[i]) << line << " field " << i;
      }
    }
    EXPECT_EQ(SplitCopyTextRow(line, expected.size() + 1, values, scratch).code(),
              ErrorCode::kCorruption);
    if (expected.size() > 1) {
      EXPECT_EQ(SplitCopyTextRow(line, expected.size() - 1, values, scratch).code(),
                ErrorCode::kCorruption);
    }
  }
}

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
