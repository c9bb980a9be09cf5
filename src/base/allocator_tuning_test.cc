#include "base/allocator_tuning.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <stdlib.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/sanitizer.h"

namespace eddy {
namespace {

// The tunables an operator sets win over the built-in thresholds.
TEST(AllocatorTuningTest, LeavesTheAllocatorToGlibcTunablesThatNameIt) {
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2", 1), 0);
  const AllocatorTuning tuning = TuneAllocator();
  unsetenv("GLIBC_TUNABLES");
  EXPECT_EQ(tuning, kSanitizedBuild ? AllocatorTuning::kNotApplicable
                                    : AllocatorTuning::kLeftToEnvironment);
}

// After tuning, blocks of a few megabytes come from the heap (no mapping of their own) and a
// freed one is reused: what spares the kernel's page faults on every batch.
TEST(AllocatorTuningTest, BlocksOfAFewMegabytesComeFromTheHeapAndAreReused) {
  if (kSanitizedBuild) {
    EXPECT_EQ(TuneAllocator(), AllocatorTuning::kNotApplicable);
    return;
  }
  ASSERT_EQ(TuneAllocator(), AllocatorTuning::kApplied);
  constexpr size_t kBlock = 3 << 20;
  const size_t mapped_before = static_cast<size_t>(mallinfo2().hblks);
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) {
    void* block = std::malloc(kBlock);
    ASSERT_NE(block, nullptr);
    std::memset(block, i, kBlock);
    blocks.push_back(block);
  }
  EXPECT_EQ(static_cast<size_t>(mallinfo2().hblks), mapped_before)
      << "a block below the mapping threshold got a mapping of its own";
  for (void* block : blocks) std::free(block);
  // Freed at the top of the heap and under the trim threshold: kept for the next allocation.
  const size_t kept = mallinfo2().fordblks;
  EXPECT_GE(kept, size_t{4} * kBlock - (size_t{1} << 20));
}

}  // namespace
}  // namespace eddy
