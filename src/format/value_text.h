// Text forms of temporal values shared by the renderers (docs/formats/native.md).
//
//   date          2024-01-15 | -0043-03-15 (44 BC) | +10000-01-01 | infinity | -infinity
//                 | 0000-00-00 (MySQL zero date)
//   time          10:15:30.000000 | -838:59:59.000000 (MySQL) | 24:00:00.000000
//   timetz        10:15:30.000000+05:30 | 10:15:30.000000Z
//   timestamp     2024-01-15T10:15:30.123456 (naive, no zone)
//   timestamptz   2024-01-15T10:15:30.123456Z
//   interval      ISO 8601 duration with signed parts: P1Y2M3DT4H5M6.000007S, P-1M, PT0S
// Years outside 0000..9999 use ISO 8601 expanded form: a sign and at least four digits.
#pragma once

#include <cstdint>
#include <string>

#include "model/value.h"

namespace eddy::format {

// Temporal values count microseconds (model::TimestampValue, TimeValue, IntervalValue).
inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

std::string FormatDate(const model::DateValue& date);
std::string FormatTime(int64_t micros);
std::string FormatTimeTz(const model::TimeTzValue& time);
std::string FormatTimestamp(const model::TimestampValue& timestamp);
// FormatTimestamp (utc false) / FormatTimestampTz (utc true) appended to `out`.
void AppendInstant(std::string& out, model::TemporalKind kind, int64_t micros, bool utc);
// The same text written at `out`, which has room for kMaxInstantChars; returns its end.
inline constexpr size_t kMaxInstantChars = 40;
char* WriteInstant(char* out, model::TemporalKind kind, int64_t micros, bool utc);
std::string FormatTimestampTz(const model::TimestampTzValue& timestamp);
std::string FormatInterval(const model::IntervalValue& interval);
// Nanoseconds since the epoch as RFC 3339 UTC with microseconds ("...T10:15:30.123456Z").
std::string FormatEpochNanos(int64_t nanos);

// Floor division and modulo (C++ division truncates toward zero).
inline int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
inline int64_t FloorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

}  // namespace eddy::format
