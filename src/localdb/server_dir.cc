#include "localdb/server_dir.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "base/logging.h"

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

namespace {

constexpr char kOwnerFile[] = "owner.pid";

// Deletes `<base>/<prefix>-XXXXXX` directories whose owning process is gone: a test killed by
// a timeout or a crash leaves its server directory behind (the kernel stops the server, but
// only a live owner can delete files). Directories without an owner file, or whose owner still
// exists (or cannot be signalled), are left alone.
void SweepAbandonedDirs(const std::string& base, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::error_code error;
  for (fs::directory_iterator it(base, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + 7 || name.compare(0, prefix.size() + 1, prefix + "-") != 0) {
      continue;
    }
    std::ifstream in(it->path() / kOwnerFile);
    long pid = 0;
    if (!(in >> pid) || pid <= 0) continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
    if (!ignored) {
      logging::Get("localdb")->info("removed abandoned server dir={} owner_pid={}",
                                    it->path().string(), pid);
    }
  }
}

}  // namespace

Result<ServerDir> ServerDir::Create(const std::string& requested, const std::string& prefix,
                                    const std::optional<RunAs>& owner) {
  namespace fs = std::filesystem;
  std::string path;
  if (requested.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    SweepAbandonedDirs(base, prefix);
    std::string pattern = base + "/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
      return IoError("cannot create a temporary directory under " + base + ": " +
                     std::strerror(errno) + "; set TMPDIR to a writable directory");
    }
    path = buffer.data();
    std::ofstream(path + "/" + kOwnerFile) << getpid() << "\n";
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

Status LaunchOnFreePort(const std::function<Status(uint16_t)>& launch) {
  Status launched = Status::Ok();
  for (int attempt = 0; attempt < 5; ++attempt) {
    EDDY_ASSIGN_OR_RETURN(uint16_t port, PickFreePort());
    launched = launch(port);
    if (launched.ok() || launched.message().find("Address already in use") == std::string::npos) {
      break;
    }
  }
  return launched;
}

std::string StableHash(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

std::string FileStamp(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return "";
  return std::to_string(info.st_size) + "-" + std::to_string(info.st_mtime);
}

namespace {

// The template cache root, or "" when it cannot be used safely: it must be a real directory
// owned by us and writable by nobody else (templates are copied into servers' data dirs).
std::string TemplateRoot() {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  std::string root = base + "/eddy-localdb-templates-" + std::to_string(geteuid());
  if (mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) return "";
  struct stat info {};
  if (lstat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != geteuid() ||
      (info.st_mode & 022) != 0) {
    return "";
  }
  return root;
}

Status CopyTree(const std::string& from, const std::string& to,
                const std::optional<RunAs>& run_as) {
  ChildOptions copy;
  copy.argv = {"/bin/cp", "-a", from, to};
  copy.run_as = run_as;
  return RunToCompletion(copy, std::chrono::seconds(120));
}

}  // namespace

Status InitializeFromTemplate(const std::string& key, const std::string& data_dir,
                              const std::optional<RunAs>& run_as,
                              const std::function<Status(const std::string&)>& initialize) {
  namespace fs = std::filesystem;
  const char* disabled = std::getenv("EDDY_LOCALDB_NO_TEMPLATE");
  const std::string root = (disabled != nullptr && *disabled != '\0') ? "" : TemplateRoot();
  if (root.empty()) return initialize(data_dir);
  const std::string final_dir = root + "/" + key;
  std::error_code error;
  if (!fs::exists(final_dir + "/ready", error)) {
    std::string pattern = root + "/building-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) return initialize(data_dir);
    const std::string building = buffer.data();
    if (run_as.has_value() && chown(building.c_str(), run_as->uid, run_as->gid) != 0) {
      fs::remove_all(building, error);
      return initialize(data_dir);
    }
    Status made = initialize(building + "/data");
    if (!made.ok()) {
      fs::remove_all(building, error);
      return made;
    }
    std::ofstream(building + "/ready") << key << "\n";
    // Atomic publish; if another process won the race, its template is as good as ours.
    if (rename(building.c_str(), final_dir.c_str()) != 0) fs::remove_all(building, error);
  }
  Status copied = CopyTree(final_dir + "/data", data_dir, run_as);
  if (copied.ok()) return Status::Ok();
  fs::remove_all(data_dir, error);
  return initialize(data_dir);
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

std::string LocalServerUrl(const std::string& scheme, const std::string& user,
                           const std::string& password, uint16_t port,
                           const std::string& database) {
  return scheme + "://" + PercentEncodeUrlPart(user) + ":" + PercentEncodeUrlPart(password) +
         "@127.0.0.1:" + std::to_string(port) + "/" + PercentEncodeUrlPart(database);
}

Result<std::optional<RunAs>> ServerUser(const std::string& system_user) {
  if (geteuid() != 0) return std::optional<RunAs>();
  EDDY_ASSIGN_OR_RETURN(RunAs user, LookUpUser(system_user));
  return std::optional<RunAs>(user);
}

}  // namespace eddy::localdb
