// Decimal integer text to int64_t on the snapshots' hot path (every key and integer column).
//
// ParseInt64Text accepts what std::from_chars accepts for a whole int64_t (an optional '-',
// then one or more digits, nothing else, within range) and gives the same value; the common
// case of up to 18 digits is a loop the compiler inlines, longer text goes to std::from_chars.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace eddy {

inline bool ParseInt64Text(std::string_view text, int64_t& value) {
  const bool negative = !text.empty() && text[0] == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 18) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  }
  int64_t magnitude = 0;  // 18 digits cannot overflow
  for (char c : digits) {
    const unsigned digit = static_cast<unsigned char>(c) - unsigned{'0'};
    if (digit > 9) return false;
    magnitude = magnitude * 10 + digit;
  }
  value = negative ? -magnitude : magnitude;
  return true;
}

}  // namespace eddy
