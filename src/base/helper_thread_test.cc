#include "base/helper_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace eddy {
namespace {

// Each task runs on the helper thread, once, and Wait returns only after it ran.
TEST(HelperThreadTest, RunsEachTaskOnItsThreadAndWaitReturnsAfterIt) {
  HelperThread helper;
  const std::thread::id owner = std::this_thread::get_id();
  std::vector<int> seen;
  for (int i = 0; i < 100; ++i) {
    std::thread::id ran_on;
    helper.Run([&, i] {
      ran_on = std::this_thread::get_id();
      seen.push_back(i);
    });
    helper.Wait();
    EXPECT_NE(ran_on, owner);
    ASSERT_EQ(seen.size(), static_cast<size_t>(i + 1));
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
}

// Wait without a task returns at once; destroying a helper with nothing to do joins cleanly.
TEST(HelperThreadTest, WaitWithoutATaskReturnsAndDestructionJoins) {
  std::atomic<int> runs{0};
  {
    HelperThread helper;
    helper.Wait();
    helper.Run([&] { runs++; });
    helper.Wait();
  }
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace eddy
