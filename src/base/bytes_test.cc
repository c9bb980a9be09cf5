#include "base/bytes.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "base/byte_cursor.h"

namespace eddy {
namespace {

TEST(BytesTest, FixedAndVarintRoundTrip) {
  std::string out;
  PutFixed8(out, 0xab);
  PutFixed16(out, 0xbeef);
  PutFixed32(out, 0xdeadbeef);
  PutFixed64(out, 0x0123456789abcdefULL);
  std::vector<uint64_t> unsigned_values = {
      0, 1, 127, 128, 300, 1ULL << 35, std::numeric_limits<uint64_t>::max()};
  std::vector<int64_t> signed_values = {
      0, -1, 1, -64, 64, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
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
  ByteReader short_prefix(
      "\x05"
      "abc");
  EXPECT_EQ(short_prefix.ReadLengthPrefixed().status().code(), ErrorCode::kCorruption);
  std::string overlong(11, '\xff');
  ByteReader varint(overlong);
  EXPECT_FALSE(varint.ReadVarint64().ok());
  std::string overflow = std::string(9, '\xff') + "\x02";
  ByteReader overflow_reader(overflow);
  EXPECT_FALSE(overflow_reader.ReadVarint64().ok());
}

// Every varint length, read with exactly its bytes left (the per-byte checked path) and with
// more after it (the path that checks ten bytes at once); a varint cut short at every length
// is an error naming the truncation, wherever it ends.
TEST(BytesTest, VarintsOfEveryLengthReadTheSameNearAndFarFromTheEnd) {
  for (int bits = 0; bits <= 64; ++bits) {
    const uint64_t value = bits == 64 ? std::numeric_limits<uint64_t>::max()
                                      : (bits == 0 ? 0 : (uint64_t{1} << (bits - 1)) | 1);
    std::string encoded;
    PutVarint64(encoded, value);
    SCOPED_TRACE(encoded.size());
    ByteReader exact(encoded);
    auto read = exact.ReadVarint64();
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, value);
    EXPECT_TRUE(exact.empty());
    const std::string padded = encoded + std::string(12, '\x7f');
    ByteReader far(padded);
    read = far.ReadVarint64();
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(*read, value);
    EXPECT_EQ(far.remaining(), 12u);
    for (size_t cut = 0; cut < encoded.size(); ++cut) {
      ByteReader truncated(std::string_view(encoded).substr(0, cut));
      auto failed = truncated.ReadVarint64();
      ASSERT_FALSE(failed.ok());
      EXPECT_EQ(failed.status().code(), ErrorCode::kCorruption);
      EXPECT_NE(failed.status().message().find("truncated input: reading varint"),
                std::string::npos)
          << failed.status().ToString();
    }
  }
  // Random values of every width, followed by random bytes (which must not be read).
  std::mt19937_64 random(20261206);
  for (int i = 0; i < 20'000; ++i) {
    const int bits = static_cast<int>(random() % 65);
    const uint64_t value = bits == 0 ? 0 : random() >> (64 - bits);
    std::string encoded;
    PutVarint64(encoded, value);
    const size_t size = encoded.size();
    for (int pad = static_cast<int>(random() % 12); pad > 0; --pad) {
      encoded.push_back(static_cast<char>(random()));
    }
    ByteReader reader(encoded);
    auto read = reader.ReadVarint64();
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(*read, value);
    ASSERT_EQ(reader.consumed(), size);
  }
  // Eleven continuation bytes and a tenth byte over 1: errors with or without bytes after.
  for (const std::string& bad : {std::string(10, '\xff'), std::string(9, '\xff') + "\x02"}) {
    ByteReader alone(bad);
    EXPECT_EQ(alone.ReadVarint64().status().code(), ErrorCode::kCorruption);
    const std::string more = bad + "\x01\x01";
    ByteReader followed(more);
    EXPECT_EQ(followed.ReadVarint64().status().code(), ErrorCode::kCorruption);
  }
}

// ByteCursor reads what ByteReader reads: the same values and lengths, and false exactly where
// ByteReader reports an error, for varints of every length cut anywhere, overlong or
// overflowing, and for length-prefixed strings.
TEST(BytesTest, CursorAcceptsExactlyWhatTheReaderAccepts) {
  std::mt19937_64 random(20261207);
  for (int i = 0; i < 50'000; ++i) {
    std::string bytes;
    const int bits = static_cast<int>(random() % 65);
    PutVarint64(bytes, bits == 0 ? 0 : random() >> (64 - bits));
    for (int pad = static_cast<int>(random() % 12); pad > 0; --pad) {
      bytes.push_back(static_cast<char>(random()));
    }
    switch (random() % 4) {
      case 0:  // cut anywhere
        bytes.resize(random() % (bytes.size() + 1));
        break;
      case 1:  // continuation bits set on the first bytes (overlong, overflowing)
        for (size_t k = 0, n = random() % 11; k < n && k < bytes.size(); ++k) bytes[k] |= 0x80;
        break;
      default:
        break;
    }
    ByteReader reader(bytes);
    ByteCursor cursor(bytes);
    auto read = reader.ReadVarint64();
    uint64_t value = 0;
    ASSERT_EQ(cursor.Varint(&value), read.ok()) << i;
    if (read.ok()) {
      ASSERT_EQ(value, *read);
      ASSERT_EQ(cursor.remaining(), reader.remaining());
    }
    ByteReader prefixed_reader(bytes);
    ByteCursor prefixed_cursor(bytes);
    auto text = prefixed_reader.ReadLengthPrefixed();
    std::string_view view;
    ASSERT_EQ(prefixed_cursor.LengthPrefixed(&view), text.ok()) << i;
    if (text.ok()) {
      ASSERT_EQ(view, *text);
    }
  }
}

}  // namespace
}  // namespace eddy
