#include "base/helper_thread.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <string>
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

// The helper thread carries the name it was given (what top -H and per-thread CPU figures
// show); a name longer than Linux keeps is cut at 15 bytes, not refused.
TEST(HelperThreadTest, ThreadCarriesItsNameCutToWhatLinuxKeeps) {
  auto name_of_helper = [](HelperThread& helper) {
    char name[32] = {};
    helper.Run([&] { pthread_getname_np(pthread_self(), name, sizeof(name)); });
    helper.Wait();
    return std::string(name);
  };
  HelperThread named("kafka-render");
  EXPECT_EQ(name_of_helper(named), "kafka-render");
  HelperThread long_named("a-name-longer-than-fifteen-bytes");
  EXPECT_EQ(name_of_helper(long_named), "a-name-longer-t");
  HelperThread unnamed;
  EXPECT_EQ(name_of_helper(unnamed), "helper");
}

}  // namespace
}  // namespace eddy
