#include "base/backoff.h"

#include <gtest/gtest.h>

namespace eddy {
namespace {

TEST(BackoffTest, GrowsExponentiallyWithinJitterAndCaps) {
  Backoff backoff({std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 2.0, 0.5}, 7);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    int64_t delay = backoff.NextDelay().count();
    EXPECT_LE(delay, ceiling);
    EXPECT_GE(delay, ceiling / 2);
  }
  EXPECT_EQ(backoff.attempts(), 7u);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff({std::chrono::milliseconds(50), std::chrono::milliseconds(5000), 3.0, 0.0}, 1);
  EXPECT_EQ(backoff.NextDelay().count(), 50);
  EXPECT_EQ(backoff.NextDelay().count(), 150);
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0u);
  EXPECT_EQ(backoff.NextDelay().count(), 50);
}

TEST(BackoffTest, ManyFailuresNeverOverflow) {
  Backoff backoff({std::chrono::milliseconds(10), std::chrono::milliseconds(2000), 2.0, 1.0}, 3);
  for (int i = 0; i < 10000; ++i) {
    int64_t delay = backoff.NextDelay().count();
    ASSERT_GE(delay, 0);
    ASSERT_LE(delay, 2000);
  }
}

}  // namespace
}  // namespace eddy
