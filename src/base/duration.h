// Durations as eddy's configuration and command line write them.
//
// Two spellings, one parser for the whole codebase:
// - eddy's duration strings: digits and a unit, "500ms", "10s", "5m", "1h", "7d";
// - plain seconds, as the AWS APIs name their settings (MaximumBatchingWindowInSeconds=60 is
//   `max_batching_window = 60`): only where a setting accepts both (ParseSecondsOrDuration).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string_view>

#include "base/status.h"

namespace eddy {

// "<digits><unit>", unit ms, s, m, h or d; at most 9 digits. kInvalidArgument otherwise, with
// a message saying how to write one.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Plain digits are seconds ("60"); anything else is ParseDuration's form ("60s", "5m").
Result<std::chrono::milliseconds> ParseSecondsOrDuration(std::string_view text);

// A timeout setting of `owner` ("webhook", "kinesis"): ParseSecondsOrDuration's form, from 1 ms
// to `max`. kInvalidArgument names the setting, its value and the accepted range.
Result<std::chrono::milliseconds> ParseTimeoutSetting(std::string_view owner, std::string_view key,
                                                      std::string_view text,
                                                      std::chrono::milliseconds max);

}  // namespace eddy
