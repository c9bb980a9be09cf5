#include "base/setting_parse.h"

#include <charconv>
#include <string>

namespace eddy {

Status InvalidSetting(std::string_view owner, std::string_view key, std::string_view text,
                      std::string_view fix) {
  return InvalidArgument(std::string(owner) + " setting '" + std::string(key) + "' is \"" +
                         std::string(text.substr(0, 200)) + "\"; " + std::string(fix));
}

Result<bool> ParseBoolSetting(std::string_view owner, std::string_view key, std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return InvalidSetting(owner, key, text, "use true or false");
}

Result<int64_t> ParseIntegerSetting(std::string_view owner, std::string_view key,
                                    std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidSetting(
        owner, key, text,
        "use a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

}  // namespace eddy
