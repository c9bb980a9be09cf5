#include "base/position.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(LsnTest, FormatsAndParsesLikePostgres) {
  Lsn lsn((uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(lsn.ToString(), "16/B374D848");
  auto parsed = Lsn::Parse("16/B374D848");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, lsn);
  EXPECT_EQ(Lsn::Parse("0/0")->value(), 0u);
  EXPECT_EQ(Lsn::Parse("FFFFFFFF/FFFFFFFF")->value(), UINT64_MAX);
}

TEST(LsnTest, RejectsMalformedText) {
  for (const char* text : {"", "/", "1/", "/1", "12", "G/1", "1/2/3", "100000000/0", "1 /2"}) {
    auto parsed = Lsn::Parse(text);
    EXPECT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(BinlogPositionTest, OrdersByFileNumberThenOffset) {
  BinlogPosition a{"mysql-bin.000009", 500};
  BinlogPosition b{"mysql-bin.000010", 4};
  BinlogPosition c{"mysql-bin.000010", 120};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  // Numeric, not lexical: 999999 < 1000000 although the string compares greater.
  EXPECT_LT((BinlogPosition{"bin.999999", 1}), (BinlogPosition{"bin.1000000", 1}));
}

TEST(SourcePositionTest, EncodesAndDecodesEveryKind) {
  std::vector<SourcePosition> positions = {
      SourcePosition(),
      SourcePosition(PostgresPosition{Lsn(0x1234567890), Lsn(0x1234567000)}),
      SourcePosition(MysqlPosition{7, {"mariadb-bin.000003", 98765}, Gtid{"0-7-42"}}),
  };
  for (const auto& position : positions) {
    std::string encoded;
    position.EncodeTo(encoded);
    encoded += "trailing";
    std::string_view view = encoded;
    auto decoded = SourcePosition::DecodeFrom(view);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, position);
    EXPECT_EQ(view, "trailing");
  }
}

TEST(SourcePositionTest, DecodingTruncatedBytesFailsCleanly) {
  std::string encoded;
  SourcePosition(MysqlPosition{7, {"mariadb-bin.000003", 98765}, Gtid{"0-7-42"}}).EncodeTo(encoded);
  for (size_t length = 0; length < encoded.size(); ++length) {
    std::string_view view(encoded.data(), length);
    EXPECT_FALSE(SourcePosition::DecodeFrom(view).ok()) << length;
  }
  std::string unknown = "\x09";
  std::string_view view = unknown;
  EXPECT_EQ(SourcePosition::DecodeFrom(view).status().code(), ErrorCode::kCorruption);
}

TEST(SourcePositionTest, ComparesTransactionsOfTheSameKindOnly) {
  SourcePosition early(PostgresPosition{Lsn(100), Lsn(90)});
  SourcePosition late(PostgresPosition{Lsn(200), Lsn(150)});
  EXPECT_TRUE(early.CompareTransaction(late) < 0);
  EXPECT_TRUE(late.CompareTransaction(early) > 0);
  SourcePosition mysql(MysqlPosition{1, {"b.000001", 4}, {}});
  EXPECT_EQ(early.CompareTransaction(mysql), std::partial_ordering::unordered);
}

}  // namespace
}  // namespace eddy
