// Pieces shared by the local servers: their working directory, a free TCP port, and the
// user a server runs as.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "localdb/process.h"

namespace eddy::localdb {

// The directory a throwaway server lives in. Either a fresh `prefix`-XXXXXX directory under
// $TMPDIR (or /tmp), or a directory the caller named, which must be absent or empty (we
// delete it when the server stops, so we refuse to take over one holding anything).
class ServerDir {
 public:
  ServerDir() = default;
  ~ServerDir();  // removes the directory unless Release()d
  ServerDir(const ServerDir&) = delete;
  ServerDir& operator=(const ServerDir&) = delete;
  ServerDir(ServerDir&& other) noexcept;
  ServerDir& operator=(ServerDir&& other) noexcept;

  // `requested` empty: a new temp dir. Owned by `owner` when given (so a server running as
  // that user may write it).
  static Result<ServerDir> Create(const std::string& requested, const std::string& prefix,
                                  const std::optional<RunAs>& owner);

  const std::string& path() const { return path_; }
  // Deletes the directory tree now.
  Status Remove();
  // Keeps the directory on destruction.
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0). Another
// process may take it before the server binds; callers retry on "Address already in use".
Result<uint16_t> PickFreePort();

// Launches a server on a freshly picked port: `launch(port)`, again on another port (up to five
// tries in all) when it failed because the port was taken before the server bound it ("Address
// already in use" in its message). Returns the last attempt's status.
Status LaunchOnFreePort(const std::function<Status(uint16_t)>& launch);

// The user servers run as: nullopt when we are not root (they run as us); the named system
// user when we are root, since PostgreSQL refuses to run as root.
Result<std::optional<RunAs>> ServerUser(const std::string& system_user);

// Fills `data_dir` (which must not exist; its parent is owned by `run_as`) with an initialised
// data directory. The first call for a `key` runs `initialize(dir)` into a template under
// $TMPDIR/eddy-localdb-templates-<uid>/<key> (made atomically: built in a temp dir, renamed
// into place); later calls, also from other processes, copy the template (`cp -a`, as
// `run_as`), which is much cheaper than initdb / mariadb-install-db. The key must cover
// everything that shapes the result (program version, superuser, password). Falls back to
// `initialize(data_dir)` when the cache directory is unsafe (not ours, writable by others) or
// EDDY_LOCALDB_NO_TEMPLATE is set.
Status InitializeFromTemplate(const std::string& key, const std::string& data_dir,
                              const std::optional<RunAs>& run_as,
                              const std::function<Status(const std::string&)>& initialize);

// A stable 64-bit FNV-1a hash in hex, for template keys.
std::string StableHash(const std::string& text);

// "size-mtime" of a file (to key templates by the installed program's version); "" if absent.
std::string FileStamp(const std::string& path);

// Percent-encodes everything but RFC 3986 unreserved characters (for URL user, password, db).
std::string PercentEncodeUrlPart(const std::string& text);

// "<scheme>://user:password@127.0.0.1:<port>/<database>", each part percent-encoded: the URL of
// a local server reached over TCP.
std::string LocalServerUrl(const std::string& scheme, const std::string& user,
                           const std::string& password, uint16_t port, const std::string& database);

// The longest path a unix socket can have (sun_path minus the terminator).
inline constexpr size_t kMaxUnixSocketPath = 107;

}  // namespace eddy::localdb
