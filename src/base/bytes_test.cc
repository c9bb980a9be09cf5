#include "base/bytes.h"

#include <gtest/gtest.h>

#include <limits>

namespace eddy {
namespace {

TEST(BytesTest, FixedAndVarintRoundTrip) {
  std::string out;
  PutFixed8(out, 0xab);
  PutFixed16(out, 0xbeef);
  PutFixed32(out, 0xdeadbeef);
  PutFixed64(out, 0x0123456789abcdefULL);
  std::vector<uint64_t> unsigned_values = {0, 1, 127, 128, 300, 1ULL << 35,
                                           std::numeric_limits<uint64_t>::max()};
  std::vector<int64_t> signed_values = {0, -1, 1, -64, 64, std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max()};
  for (auto v : unsigned_values) PutVarint64(out, v);
  for (auto v : signed_values) PutVarintSigned64(out, v);
  PutLengthPrefixed(out, "hello");

  ByteReader reader(out);
  EXPECT_EQ(*reader.ReadFixed8(), 0xab);
  EXPECT_EQ(*reader.ReadFixed16(), 0xbeef);
  EXPECT_EQ(*reader.ReadFixed32(), 0xdeadbeefu);
  EXPECT_EQ(*reader.ReadFixed64(), 0x0123456789abcdefULL);
  for (auto v : unsigned_values) EXPECT_EQ(*reader.ReadVarint64(), v);
  for (auto v : signed_values) EXPECT_EQ(*reader.ReadVarintSigned64(), v);
  EXPECT_EQ(*reader.ReadLengthPrefixed(), "hello");
  EXPECT_TRUE(reader.empty());
}

TEST(BytesTest, ReaderNeverReadsPastTheEnd) {
  ByteReader empty("");
  EXPECT_EQ(empty.ReadFixed32().status().code(), ErrorCode::kCorruption);
  ByteReader short_prefix("\x05" "abc");
  EXPECT_EQ(short_prefix.ReadLengthPrefixed().status().code(), ErrorCode::kCorruption);
  std::string overlong(11, '\xff');
  ByteReader varint(overlong);
  EXPECT_FALSE(varint.ReadVarint64().ok());
  std::string overflow = std::string(9, '\xff') + "\x02";
  ByteReader overflow_reader(overflow);
  EXPECT_FALSE(overflow_reader.ReadVarint64().ok());
}

}  // namespace
}  // namespace eddy
