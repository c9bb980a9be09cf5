#include "format/value_text.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace eddy::format {

namespace {

// `value` in decimal, zero-padded to at least `width` digits (snprintf's "%0*llu" without its
// cost: these run for every temporal value a renderer writes).
void AppendPadded(std::string& out, uint64_t value, int width) {
  char buffer[24];
  char* end = buffer + sizeof(buffer);
  char* begin = end;
  do {
    *--begin = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (end - begin < width) *--begin = '0';
  out.append(begin, end);
}

void AppendYear(std::string& out, int64_t year) {
  if (year < 0 || year > 9999) out.push_back(year < 0 ? '-' : '+');
  AppendPadded(out, year < 0 ? static_cast<uint64_t>(-(year + 1)) + 1 : static_cast<uint64_t>(year),
               4);
}

void AppendCivil(std::string& out, int64_t days) {
  model::CivilDate civil = model::CivilFromDays(days);
  AppendYear(out, civil.year);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(civil.month), 2);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(civil.day), 2);
}

// |micros| as H:MM:SS.ffffff with at least two hour digits.
void AppendClock(std::string& out, uint64_t micros) {
  uint64_t seconds = micros / kMicrosPerSecond;
  AppendPadded(out, seconds / 3600, 2);
  out.push_back(':');
  AppendPadded(out, seconds / 60 % 60, 2);
  out.push_back(':');
  AppendPadded(out, seconds % 60, 2);
  out.push_back('.');
  AppendPadded(out, micros % kMicrosPerSecond, 6);
}

uint64_t Magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
}

// The char* forms behind AppendInstant: written in place, two digits per step.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char* WriteTwoDigits(char* out, uint64_t value) {  // value < 100
  std::memcpy(out, kDigitPairs + 2 * value, 2);
  return out + 2;
}

char* WritePadded(char* out, uint64_t value, int width) {
  char buffer[24];
  char* end = buffer + sizeof(buffer);
  char* begin = end;
  do {
    *--begin = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (end - begin < width) *--begin = '0';
  std::memcpy(out, begin, static_cast<size_t>(end - begin));
  return out + (end - begin);
}

char* WriteCivil(char* out, int64_t days) {
  model::CivilDate civil = model::CivilFromDays(days);
  const int64_t year = civil.year;
  if (year >= 0 && year <= 9999) {
    out = WriteTwoDigits(out, static_cast<uint64_t>(year) / 100);
    out = WriteTwoDigits(out, static_cast<uint64_t>(year) % 100);
  } else {
    *out++ = year < 0 ? '-' : '+';
    out = WritePadded(out, Magnitude(year), 4);
  }
  *out++ = '-';
  out = WriteTwoDigits(out, static_cast<uint64_t>(civil.month));
  *out++ = '-';
  return WriteTwoDigits(out, static_cast<uint64_t>(civil.day));
}

// micros < one day, as HH:MM:SS.ffffff.
char* WriteDayClock(char* out, uint64_t micros) {
  const uint64_t seconds = micros / kMicrosPerSecond;
  const uint64_t fraction = micros % kMicrosPerSecond;
  out = WriteTwoDigits(out, seconds / 3600);
  *out++ = ':';
  out = WriteTwoDigits(out, seconds / 60 % 60);
  *out++ = ':';
  out = WriteTwoDigits(out, seconds % 60);
  *out++ = '.';
  out = WriteTwoDigits(out, fraction / 10000);
  out = WriteTwoDigits(out, fraction / 100 % 100);
  return WriteTwoDigits(out, fraction % 100);
}

std::string FormatInstant(model::TemporalKind kind, int64_t micros, bool utc) {
  std::string out;
  AppendInstant(out, kind, micros, utc);
  return out;
}

}  // namespace

char* WriteInstant(char* out, model::TemporalKind kind, int64_t micros, bool utc) {
  auto literal = [out](std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    return out + text.size();
  };
  switch (kind) {
    case model::TemporalKind::kPositiveInfinity:
      return literal("infinity");
    case model::TemporalKind::kNegativeInfinity:
      return literal("-infinity");
    case model::TemporalKind::kZero:
      return literal(utc ? "0000-00-00T00:00:00.000000Z" : "0000-00-00T00:00:00.000000");
    case model::TemporalKind::kFinite:
      break;
  }
  out = WriteCivil(out, FloorDiv(micros, kMicrosPerDay));
  *out++ = 'T';
  out = WriteDayClock(out, static_cast<uint64_t>(FloorMod(micros, kMicrosPerDay)));
  if (utc) *out++ = 'Z';
  return out;
}

void AppendInstant(std::string& out, model::TemporalKind kind, int64_t micros, bool utc) {
  char buffer[kMaxInstantChars];
  out.append(buffer, WriteInstant(buffer, kind, micros, utc));
}

std::string FormatDate(const model::DateValue& date) {
  switch (date.kind) {
    case model::TemporalKind::kPositiveInfinity:
      return "infinity";
    case model::TemporalKind::kNegativeInfinity:
      return "-infinity";
    case model::TemporalKind::kZero:
      return "0000-00-00";
    case model::TemporalKind::kFinite:
      break;
  }
  std::string out;
  AppendCivil(out, date.days);
  return out;
}

std::string FormatTime(int64_t micros) {
  std::string out;
  if (micros < 0) out.push_back('-');
  AppendClock(out, Magnitude(micros));
  return out;
}

std::string FormatTimeTz(const model::TimeTzValue& time) {
  std::string out = FormatTime(time.micros);
  if (time.utc_offset_seconds == 0) {
    out.push_back('Z');
    return out;
  }
  int64_t offset = time.utc_offset_seconds;
  out.push_back(offset < 0 ? '-' : '+');
  uint64_t magnitude = Magnitude(offset);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%02llu:%02llu",
                static_cast<unsigned long long>(magnitude / 3600),
                static_cast<unsigned long long>(magnitude / 60 % 60));
  out += buffer;
  if (magnitude % 60 != 0) {
    std::snprintf(buffer, sizeof(buffer), ":%02llu",
                  static_cast<unsigned long long>(magnitude % 60));
    out += buffer;
  }
  return out;
}

std::string FormatTimestamp(const model::TimestampValue& timestamp) {
  return FormatInstant(timestamp.kind, timestamp.micros, false);
}

std::string FormatTimestampTz(const model::TimestampTzValue& timestamp) {
  return FormatInstant(timestamp.kind, timestamp.micros, true);
}

std::string FormatEpochNanos(int64_t nanos) {
  return FormatInstant(model::TemporalKind::kFinite, FloorDiv(nanos, 1000), true);
}

std::string FormatInterval(const model::IntervalValue& interval) {
  std::string out = "P";
  int64_t years = interval.months / 12;
  int64_t months = interval.months % 12;
  if (years != 0) out += std::to_string(years) + "Y";
  if (months != 0) out += std::to_string(months) + "M";
  if (interval.days != 0) out += std::to_string(interval.days) + "D";
  int64_t micros = interval.micros;
  if (micros != 0) {
    out.push_back('T');
    // Each part carries the sign, as PostgreSQL's iso_8601 interval style prints.
    const char* sign = micros < 0 ? "-" : "";
    uint64_t magnitude = Magnitude(micros);
    uint64_t hours = magnitude / (3600 * kMicrosPerSecond);
    uint64_t minutes = magnitude / (60 * kMicrosPerSecond) % 60;
    uint64_t seconds = magnitude / kMicrosPerSecond % 60;
    uint64_t fraction = magnitude % kMicrosPerSecond;
    if (hours != 0) out += sign + std::to_string(hours) + "H";
    if (minutes != 0) out += sign + std::to_string(minutes) + "M";
    if (seconds != 0 || fraction != 0) {
      out += sign + std::to_string(seconds);
      if (fraction != 0) {
        char buffer[16];
        std::snprintf(buffer, sizeof(buffer), ".%06llu", static_cast<unsigned long long>(fraction));
        std::string digits = buffer;
        while (digits.back() == '0') digits.pop_back();
        out += digits;
      }
      out.push_back('S');
    }
  }
  if (out == "P") out = "PT0S";
  return out;
}

}  // namespace eddy::format
