#include "sink/replica/source_type.h"

#include <charconv>

namespace eddy::sink::replica {

SourceTypeName SplitSourceType(std::string_view type) {
  SourceTypeName out;
  if (type.ends_with(" unsigned")) {
    out.is_unsigned = true;
    type.remove_suffix(std::string_view(" unsigned").size());
  }
  size_t open = type.find('(');
  out.base = std::string(type.substr(0, open));
  if (open != std::string_view::npos) {
    std::string_view inside = type.substr(open + 1);
    inside = inside.substr(0, inside.find(')'));
    size_t comma = inside.find(',');
    int value = 0;
    std::string_view a = inside.substr(0, comma);
    if (std::from_chars(a.data(), a.data() + a.size(), value).ec == std::errc()) out.first = value;
    if (comma != std::string_view::npos) {
      std::string_view b = inside.substr(comma + 1);
      if (std::from_chars(b.data(), b.data() + b.size(), value).ec == std::errc()) {
        out.second = value;
      }
    }
  }
  return out;
}

}  // namespace eddy::sink::replica
