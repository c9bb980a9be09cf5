#include "base/backoff.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

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

// Backoffs made without a seed (one per delivered batch) jitter independently: their seeds
// differ, on one thread and across threads, and one seed gives one sequence of delays.
TEST(BackoffTest, UnseededBackoffsDrawDistinctSeeds) {
  std::set<uint64_t> seeds;
  for (int i = 0; i < 1000; ++i) seeds.insert(Backoff::NextSeed());
  std::thread other([&] {
    for (int i = 0; i < 1000; ++i) seeds.insert(Backoff::NextSeed());
  });
  other.join();
  EXPECT_EQ(seeds.size(), 2000u);
  const BackoffPolicy policy{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0,
                             1.0};
  Backoff first(policy, 42);
  Backoff second(policy, 42);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(first.NextDelay(), second.NextDelay());
}

}  // namespace
}  // namespace eddy
