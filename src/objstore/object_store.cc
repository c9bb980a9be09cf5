#include "objstore/object_store.h"

namespace eddy::objstore {

Status ValidateKey(std::string_view key) {
  auto invalid = [&](std::string_view what) {
    return InvalidArgument("object key '" + std::string(key.substr(0, 200)) + "' " +
                           std::string(what));
  };
  if (key.empty()) return invalid("is empty");
  if (key.size() > kMaxKeyBytes) {
    return invalid("is longer than 1024 bytes; shorten the prefix or the partition values");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() && end != key.size()) return invalid("has an empty path segment (\"//\")");
    if (segment.empty() && end == key.size()) return invalid("ends with '/'");
    if (segment == "." || segment == "..") return invalid("has a '.' or '..' path segment");
    start = end + 1;
  }
  for (char c : key) {
    if (c == '\0' || c == '\n' || c == '\r') {
      return invalid("contains a NUL or line break");
    }
  }
  return Status::Ok();
}

}  // namespace eddy::objstore
