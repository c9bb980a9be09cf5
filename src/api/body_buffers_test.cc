#include "api/body_buffers.h"

#include <gtest/gtest.h>

namespace eddy::api {
namespace {

void Drain() {
  while (PooledBodyBytes() > 0) TakeBodyBuffer();
}

TEST(BodyBuffers, ReusesLargeBuffersWithinBounds) {
  Drain();
  EXPECT_EQ(TakeBodyBuffer().capacity(), std::string().capacity());  // empty pool: a new string

  std::string big(1 << 20, 'x');
  const char* memory = big.data();
  size_t capacity = big.capacity();
  ReturnBodyBuffer(std::move(big));
  EXPECT_EQ(PooledBodyBytes(), capacity);
  std::string again = TakeBodyBuffer();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(again.capacity(), capacity);
  EXPECT_EQ(again.data(), memory);  // the same memory, not a copy
  EXPECT_EQ(PooledBodyBytes(), 0u);

  std::string small(100, 'x');  // malloc serves these well: not pooled
  ReturnBodyBuffer(std::move(small));
  EXPECT_EQ(PooledBodyBytes(), 0u);
  std::string huge;
  huge.reserve(kMaxRetainedBodyBuffer + 1);
  ReturnBodyBuffer(std::move(huge));
  EXPECT_EQ(PooledBodyBytes(), 0u);

  // At most kMaxRetainedBodyBytes stay idle in total.
  for (int i = 0; i < 6; ++i) {
    std::string buffer;
    buffer.reserve(15u << 20);
    ReturnBodyBuffer(std::move(buffer));
  }
  EXPECT_LE(PooledBodyBytes(), kMaxRetainedBodyBytes);
  EXPECT_GE(PooledBodyBytes(), 4 * (15u << 20));

  // The largest idle buffer is handed out first.
  std::string medium;
  medium.reserve(1u << 20);
  Drain();
  ReturnBodyBuffer(std::move(medium));
  std::string large;
  large.reserve(8u << 20);
  size_t large_capacity = large.capacity();
  ReturnBodyBuffer(std::move(large));
  EXPECT_EQ(TakeBodyBuffer().capacity(), large_capacity);
  Drain();
}

}  // namespace
}  // namespace eddy::api
