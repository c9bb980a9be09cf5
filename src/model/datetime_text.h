// The wall-clock timestamp text both sources print for finite values, parsed on the snapshots'
// hot path without their general parsers (and without a model::Value).
//
// ParseDatetimeTextMicros accepts exactly "YYYY-MM-DD HH:MM:SS" with an optional ".f" to
// ".ffffff" (digits only; month 1-12, day 1-31, hour 0-23, minute and second 0-59) and gives
// microseconds since 1970-01-01 00:00:00 of that wall clock: DaysFromCivil of the date times a
// day, plus the time of day, as the sources' own parsers compute it. Anything else (other
// widths, signs, BC, infinity, zero dates, leap seconds, time zones) gives nullopt, and the
// caller takes its own parser, which decides and words the error. So the result, where there is
// one, is the one the full parser gives.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "model/value.h"

namespace eddy::model {

namespace datetime_text_internal {
// The number in text[at, at + width) when those are all digits, else -1.
inline int64_t FixedDigits(std::string_view text, size_t at, size_t width) {
  int64_t value = 0;
  for (size_t i = at; i < at + width; ++i) {
    const unsigned digit = static_cast<unsigned char>(text[i]) - unsigned{'0'};
    if (digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
}  // namespace datetime_text_internal

inline std::optional<int64_t> ParseDatetimeTextMicros(std::string_view text) {
  using datetime_text_internal::FixedDigits;
  constexpr size_t kWhole = 19;  // "YYYY-MM-DD HH:MM:SS"
  if (text.size() < kWhole || text.size() == kWhole + 1 || text.size() > kWhole + 7 ||
      text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':' ||
      (text.size() > kWhole && text[kWhole] != '.')) {
    return std::nullopt;
  }
  const int64_t year = FixedDigits(text, 0, 4);
  const int64_t month = FixedDigits(text, 5, 2);
  const int64_t day = FixedDigits(text, 8, 2);
  const int64_t hour = FixedDigits(text, 11, 2);
  const int64_t minute = FixedDigits(text, 14, 2);
  const int64_t second = FixedDigits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  int64_t fraction = 0;
  if (text.size() > kWhole) {
    const size_t digits = text.size() - kWhole - 1;
    fraction = FixedDigits(text, kWhole + 1, digits);
    if (fraction < 0) return std::nullopt;
    for (size_t i = digits; i < 6; ++i) fraction *= 10;
  }
  constexpr int64_t kMicrosPerSecond = 1'000'000;
  const int64_t days =
      DaysFromCivil(CivilDate{year, static_cast<int>(month), static_cast<int>(day)});
  return days * 86'400 * kMicrosPerSecond +
         ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
}

}  // namespace eddy::model
