#include "base/allocator_tuning.h"

#include <malloc.h>

#include <cstdlib>
#include <string_view>

#include "base/sanitizer.h"

namespace eddy {

namespace {
constexpr int kMmapThresholdBytes = 32 << 20;  // glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
constexpr int kTrimThresholdBytes = 16 << 20;
}  // namespace

AllocatorTuning TuneAllocator() {
  if constexpr (kSanitizedBuild) return AllocatorTuning::kNotApplicable;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr &&
      std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) {
    return AllocatorTuning::kLeftToEnvironment;
  }
  // mallopt answers 1 on success. Setting either threshold also turns off glibc's dynamic
  // adjustment of both, which is the point: they no longer fall back after a trim.
  if (mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) != 1 ||
      mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes) != 1) {
    return AllocatorTuning::kNotApplicable;
  }
  return AllocatorTuning::kApplied;
}

}  // namespace eddy
