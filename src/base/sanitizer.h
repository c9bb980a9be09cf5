#pragma once

// Whether this build runs under a sanitizer (ASan/UBSan or TSan). Tests that drive large
// workloads scale them by it: sanitized code runs 5-20x slower, and those tests are about
// the shape of the work (a transaction spilling, parts appended), not its size.

#include <cstddef>

namespace eddy {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// `plain` in a plain build, `sanitized` under a sanitizer.
constexpr size_t ScaledForSanitizers(size_t plain, size_t sanitized) {
  return kSanitizedBuild ? sanitized : plain;
}

}  // namespace eddy
