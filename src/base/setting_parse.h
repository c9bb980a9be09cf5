// Settings given as text (sink URL query parameters, config values): one parser per kind, so
// every sink reports a bad value the same way:
//   <owner> setting '<key>' is "<value>"; <how to write it>
// `owner` names the sink or part ("kafka", "objects", ...). Values in messages are cut to 200
// characters.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace eddy {

// "true" or "1", "false" or "0".
[[nodiscard]] Result<bool> ParseBoolSetting(std::string_view owner, std::string_view key,
                                            std::string_view text);

// A decimal integer in [min, max].
[[nodiscard]] Result<int64_t> ParseIntegerSetting(std::string_view owner, std::string_view key,
                                                  std::string_view text, int64_t min, int64_t max);

// The error above, for a setting-specific check the caller makes itself.
Status InvalidSetting(std::string_view owner, std::string_view key, std::string_view text,
                      std::string_view fix);

}  // namespace eddy
