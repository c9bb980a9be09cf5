#include "sink/objects/object_name.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace eddy::sink::objects {

namespace {

template <typename Int>
bool ReadNumber(std::string_view text, Int* out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string ObjectName(const ObjectNameParts& parts, std::string_view extension) {
  int64_t nanos = parts.first_arrival_nanos;
  int64_t seconds = nanos >= 0 ? nanos / 1'000'000'000 : (nanos + 1) / 1'000'000'000 - 1;
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "-%u-%04d-%02d-%02d-%02d-%02d-%02d-%06u-%020llu",
                parts.version, utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, parts.first_shard,
                static_cast<unsigned long long>(parts.first_sequence));
  return parts.stream + buffer + std::string(extension);
}

std::optional<ObjectNameParts> ParseObjectName(std::string_view name, std::string_view stream,
                                               std::string_view extension) {
  if (!name.starts_with(stream) || !name.ends_with(extension)) return std::nullopt;
  std::string_view rest =
      name.substr(stream.size(), name.size() - stream.size() - extension.size());
  // -V-YYYY-MM-DD-HH-mm-SS-SHARD-SEQUENCE
  if (rest.empty() || rest.front() != '-') return std::nullopt;
  rest.remove_prefix(1);
  std::string_view fields[9];
  for (int i = 0; i < 9; ++i) {
    size_t dash = rest.find('-');
    if (i < 8 && dash == std::string_view::npos) return std::nullopt;
    fields[i] = i < 8 ? rest.substr(0, dash) : rest;
    if (i < 8) rest.remove_prefix(dash + 1);
  }
  ObjectNameParts parts;
  parts.stream = std::string(stream);
  int date[6];
  if (!ReadNumber(fields[0], &parts.version)) return std::nullopt;
  for (int i = 0; i < 6; ++i) {
    if (!ReadNumber(fields[1 + i], &date[i])) return std::nullopt;
  }
  if (fields[7].size() != 6 || !ReadNumber(fields[7], &parts.first_shard)) return std::nullopt;
  if (fields[8].size() != 20 || !ReadNumber(fields[8], &parts.first_sequence)) return std::nullopt;
  std::tm utc{};
  utc.tm_year = date[0] - 1900;
  utc.tm_mon = date[1] - 1;
  utc.tm_mday = date[2];
  utc.tm_hour = date[3];
  utc.tm_min = date[4];
  utc.tm_sec = date[5];
  parts.first_arrival_nanos = static_cast<int64_t>(timegm(&utc)) * 1'000'000'000;
  return parts;
}

}  // namespace eddy::sink::objects
