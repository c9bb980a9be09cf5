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
