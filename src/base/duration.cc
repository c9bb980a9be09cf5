#include "base/duration.h"

#include <cstdint>
#include <string>

namespace eddy {

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return InvalidArgument("'" + std::string(text) +
                           "' is not a duration; write seconds (\"30\", \"0.5\") or digits and a "
                           "unit ms, s, m, h (\"500ms\", \"30s\", \"5m\")");
  };
  size_t digits = 0;
  int64_t whole = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    whole = whole * 10 + (text[digits] - '0');
    ++digits;
  }
  if (digits == 0 || digits > 9) return invalid();
  std::string_view rest = text.substr(digits);
  if (rest.empty()) return std::chrono::milliseconds(whole * 1000);
  if (rest.front() == '.') {
    rest.remove_prefix(1);
    if (rest.empty() || rest.size() > 3) return invalid();
    int64_t millis = 0;
    for (size_t i = 0; i < 3; ++i) {
      int digit = 0;
      if (i < rest.size()) {
        if (rest[i] < '0' || rest[i] > '9') return invalid();
        digit = rest[i] - '0';
      }
      millis = millis * 10 + digit;
    }
    return std::chrono::milliseconds(whole * 1000 + millis);
  }
  int64_t scale = rest == "ms"  ? 1
                  : rest == "s" ? 1000
                  : rest == "m" ? 60'000
                  : rest == "h" ? 3'600'000
                                : 0;
  if (scale == 0) return invalid();
  return std::chrono::milliseconds(whole * scale);
}

}  // namespace eddy
