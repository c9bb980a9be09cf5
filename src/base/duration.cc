#include "base/duration.h"

#include <charconv>
#include <cstdint>
#include <string>

namespace eddy {
namespace {

// Leading decimal digits of `text`.
size_t CountDigits(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  return digits;
}

int64_t ParseDigits(std::string_view digits) {
  int64_t number = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), number);
  return number;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = CountDigits(text);
  std::string_view unit = text.substr(digits);
  int64_t scale = unit == "ms"  ? 1
                  : unit == "s" ? 1000
                  : unit == "m" ? 60'000
                  : unit == "h" ? 3'600'000
                  : unit == "d" ? 86'400'000
                                : 0;
  if (digits == 0 || digits > 9 || scale == 0) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a duration; write digits and a unit (ms, s, m, h, d), "
                           "like \"10s\"");
  }
  return std::chrono::milliseconds(ParseDigits(text.substr(0, digits)) * scale);
}

Result<std::chrono::milliseconds> ParseSecondsOrDuration(std::string_view text) {
  size_t digits = CountDigits(text);
  if (digits > 0 && digits == text.size()) {
    if (digits > 9) {
      return InvalidArgument("'" + std::string(text) + "' is too large a number of seconds");
    }
    return std::chrono::milliseconds(ParseDigits(text) * 1000);
  }
  auto duration = ParseDuration(text);
  if (!duration.ok()) {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a duration; write seconds (\"60\") or digits and a unit "
                           "(ms, s, m, h, d), like \"60s\" or \"5m\"");
  }
  return duration;
}

Result<std::chrono::milliseconds> ParseTimeoutSetting(std::string_view owner, std::string_view key,
                                                      std::string_view text,
                                                      std::chrono::milliseconds max) {
  auto parsed = ParseSecondsOrDuration(text);
  if (!parsed.ok() || parsed->count() < 1 || *parsed > max) {
    return InvalidArgument(std::string(owner) + " setting '" + std::string(key) + "' is \"" +
                           std::string(text) + "\"; use a duration from 1ms to " +
                           std::to_string(max.count() / 1000) +
                           " seconds, as seconds (\"30\") or with a unit (\"500ms\", \"30s\")");
  }
  return *parsed;
}

}  // namespace eddy
