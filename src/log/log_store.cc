#include "log/log_store.h"

namespace eddy::log {

Result<std::unique_ptr<LogStore>> LogStore::Open(const std::string& path, LogStoreOptions) {
  return Unimplemented("log store at " + path + ": implementation in progress");
}

Status ValidateStreamName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgument("stream name must have 1 to 128 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return InvalidArgument("stream name '" + name + "' may use only [a-zA-Z0-9_.-]");
  }
  return Status::Ok();
}

}  // namespace eddy::log
