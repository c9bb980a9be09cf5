#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy {
namespace {

// Known answers from RFC 3720 (iSCSI) appendix B.4.
TEST(Crc32cTest, MatchesPublishedVectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones), 0x62a8ab43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c::Value(ascending), 0x46dd794eu);
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
}

// Every length from 0 to 13,000 bytes (the three-run paths of 80, 256 and 4096 bytes and
// their remainders) at several alignments, against the bit-by-bit definition.
TEST(Crc32cTest, EveryLengthAndAlignmentMatchesTheDefinition) {
  std::string data(13'100, '\0');
  uint32_t seed = 12345;
  for (char& byte : data) {
    seed = seed * 1103515245u + 12345u;
    byte = static_cast<char>(seed >> 16);
  }
  auto reference = [](const char* bytes, size_t size) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < size; ++i) {
      crc ^= static_cast<uint8_t>(bytes[i]);
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
    }
    return ~crc;
  };
  for (size_t offset : {0u, 1u, 3u, 8u}) {
    uint32_t expected = 0xffffffffu;  // the reference, one byte further per length
    for (size_t size = 0; size <= 13'000; ++size) {
      if (size > 0) {
        expected ^= static_cast<uint8_t>(data[offset + size - 1]);
        for (int bit = 0; bit < 8; ++bit) {
          expected = (expected >> 1) ^ ((expected & 1) ? 0x82f63b78u : 0);
        }
      }
      ASSERT_EQ(crc32c::Value(data.data() + offset, size), ~expected) << offset << " " << size;
    }
    EXPECT_EQ(crc32c::Value(data.data() + offset, 13'000), reference(data.data() + offset, 13'000));
  }
}

TEST(Crc32cTest, ExtendEqualsWholeAndMaskRoundTrips) {
  std::string data = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t partial = crc32c::Value(data.data(), split);
    EXPECT_EQ(crc32c::Extend(partial, data.data() + split, data.size() - split),
              crc32c::Value(data));
  }
  uint32_t crc = crc32c::Value(data);
  EXPECT_NE(crc32c::Mask(crc), crc);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(crc)), crc);
}

}  // namespace
}  // namespace eddy
