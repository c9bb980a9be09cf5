#include "log/kinesis.h"

#include <gtest/gtest.h>

namespace eddy::log {
namespace {

TEST(KinesisTest, ShardIds) {
  EXPECT_EQ(FormatShardId(0), "shardId-000000000000");
  EXPECT_EQ(FormatShardId(42), "shardId-000000000042");
  EXPECT_EQ(*ParseShardId("shardId-000000000042"), 42u);
  EXPECT_FALSE(ParseShardId("shardId-42").ok());
  EXPECT_FALSE(ParseShardId("shard-000000000042").ok());
}

TEST(KinesisTest, HashKeysParseFormatAndMd5) {
  EXPECT_EQ(HashKey::Max().ToString(), "340282366920938463463374607431768211455");
  EXPECT_EQ(*HashKey::Parse("340282366920938463463374607431768211455"), HashKey::Max());
  EXPECT_FALSE(HashKey::Parse("340282366920938463463374607431768211456").ok());
  EXPECT_FALSE(HashKey::Parse("01").ok());
  EXPECT_FALSE(HashKey::Parse("-1").ok());
  EXPECT_EQ(HashKey::Parse("0")->ToString(), "0");
  // MD5("") = d41d8cd98f00b204e9800998ecf8427e
  HashKey empty = HashKey::FromPartitionKey("");
  EXPECT_EQ(empty.high, 0xd41d8cd98f00b204ull);
  EXPECT_EQ(empty.low, 0xe9800998ecf8427eull);
  EXPECT_EQ(empty.ToString(), "281949768489412648962353822266799178366");
}

TEST(KinesisTest, EvenRangesCoverTheSpace) {
  for (uint32_t count : {1u, 2u, 3u, 4u, 7u}) {
    HashKeyRange first = EvenHashKeyRange(0, count);
    EXPECT_EQ(first.start, HashKey{});
    EXPECT_EQ(EvenHashKeyRange(count - 1, count).end, HashKey::Max());
    for (uint32_t i = 0; i + 1 < count; ++i) {
      HashKey end = EvenHashKeyRange(i, count).end;
      HashKey next = EvenHashKeyRange(i + 1, count).start;
      HashKey after = end;
      if (++after.low == 0) ++after.high;
      EXPECT_EQ(after, next) << count << " " << i;
    }
  }
  EXPECT_EQ(EvenHashKeyRange(1, 2).start.ToString(), "170141183460469231731687303715884105728");
}

TEST(KinesisTest, SequenceNumbersHave56DigitsAndKclLayout) {
  int64_t created = 1'700'000'000'000'000'000;
  std::string text = FormatSequenceNumber(SequenceNumber(1), 5, created);
  EXPECT_EQ(text.size(), 56u) << text;
  auto parsed = ParseSequenceNumber(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sequence.value(), 1u);
  EXPECT_TRUE(parsed->has_shard_index);
  EXPECT_EQ(parsed->shard_index, 5u);
  // Renderings order as the counters do (compared as big integers: same length, so as text).
  std::string previous;
  for (uint64_t s : {1ull, 2ull, 9ull, 10ull, 255ull, 256ull, 1ull << 32, 1ull << 40,
                     ~0ull}) {
    std::string current = FormatSequenceNumber(SequenceNumber(s), 3, created);
    EXPECT_EQ(current.size(), 56u);
    EXPECT_LT(previous, current);
    EXPECT_EQ(ParseSequenceNumber(current)->sequence.value(), s);
    previous = current;
  }
  // Plain counters are accepted; junk is not.
  EXPECT_EQ(ParseSequenceNumber("42")->sequence.value(), 42u);
  EXPECT_FALSE(ParseSequenceNumber("42")->has_shard_index);
  EXPECT_FALSE(ParseSequenceNumber("abc").ok());
  EXPECT_FALSE(ParseSequenceNumber("").ok());
  EXPECT_FALSE(ParseSequenceNumber("49646437577108476416916876405831974054683503165746184194").ok());
}

}  // namespace
}  // namespace eddy::log
