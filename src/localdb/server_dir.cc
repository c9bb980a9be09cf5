#include "localdb/server_dir.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace eddy::localdb {

ServerDir::~ServerDir() { Remove().IgnoreError(); }  // best effort; nothing to report to

ServerDir::ServerDir(ServerDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

ServerDir& ServerDir::operator=(ServerDir&& other) noexcept {
  if (this != &other) {
    Remove().IgnoreError();  // best effort, as in the destructor
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

Result<ServerDir> ServerDir::Create(const std::string& requested, const std::string& prefix,
                                    const std::optional<RunAs>& owner) {
  namespace fs = std::filesystem;
  std::string path;
  if (requested.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    std::string pattern = base + "/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
      return IoError("cannot create a temporary directory under " + base + ": " +
                     std::strerror(errno) + "; set TMPDIR to a writable directory");
    }
    path = buffer.data();
  } else {
    std::error_code error;
    fs::path absolute = fs::absolute(requested, error);
    if (error) return InvalidArgument("bad directory " + requested + ": " + error.message());
    path = absolute.lexically_normal().string();
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (fs::exists(path, error)) {
      if (!fs::is_directory(path, error)) {
        return InvalidArgument(path + " exists and is not a directory");
      }
      if (!fs::is_empty(path, error)) {
        return InvalidArgument(path + " is not empty; give a new or empty directory (it is "
                               "deleted when the server stops)");
      }
    } else if (!fs::create_directories(path, error)) {
      return IoError("cannot create " + path + ": " + error.message());
    }
  }
  ServerDir dir;
  dir.path_ = path;
  if (owner.has_value() && chown(path.c_str(), owner->uid, owner->gid) != 0) {
    return IoError("cannot chown " + path + " to uid " + std::to_string(owner->uid) + ": " +
                   std::strerror(errno));
  }
  // A server running as another user must reach the directory: 0700 owned by it is enough
  // for the directory itself; its parents must be searchable (checked by the server's start).
  return dir;
}

Status ServerDir::Remove() {
  if (path_.empty()) return Status::Ok();
  std::error_code error;
  std::filesystem::remove_all(path_, error);
  std::string path = path_;
  path_.clear();
  if (error) return IoError("cannot remove " + path + ": " + error.message());
  return Status::Ok();
}

Result<uint16_t> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    int error = errno;
    close(fd);
    return IoError(std::string("cannot bind 127.0.0.1:0: ") + std::strerror(error));
  }
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    close(fd);
    return IoError(std::string("getsockname: ") + std::strerror(error));
  }
  close(fd);
  return static_cast<uint16_t>(ntohs(address.sin_port));
}

std::string PercentEncodeUrlPart(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::optional<RunAs>> ServerUser(const std::string& system_user) {
  if (geteuid() != 0) return std::optional<RunAs>();
  EDDY_ASSIGN_OR_RETURN(RunAs user, LookUpUser(system_user));
  return std::optional<RunAs>(user);
}

}  // namespace eddy::localdb
