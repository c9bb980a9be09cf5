// Durations as settings spell them: plain seconds, as the AWS APIs name them
// (`MaximumBatchingWindowInSeconds=60` -> "60", "0.5"), or eddy's duration strings with a unit
// ("500ms", "30s", "5m", "1h").
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string_view>

#include "base/status.h"

namespace eddy {

// "30" and "1.5" are seconds; "<digits>ms|s|m|h" carries its unit. At most 3 decimals for
// plain seconds (millisecond resolution), no sign, no exponent, at most 9 integer digits.
// InvalidArgument names the text and shows the accepted spellings.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace eddy
