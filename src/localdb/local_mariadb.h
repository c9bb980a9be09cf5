// A throwaway MariaDB 10.11 server: mariadb-install-db into a fresh directory, mariadbd on its
// own port on 127.0.0.1 and a unix socket in its directory, with the binlog configured for
// capture (log_bin, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL,
// server_id). Waits until it accepts connections; Stop() shuts it down and deletes the
// directory.
//
// Guarantees as for LocalPostgres: the destructor stops the server; if the starting thread dies
// the kernel SIGKILLs mariadbd; runs as the `mysql` system user when we are root; several run
// side by side.
//
// Thread safety: Start and Stop from one thread; const accessors from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "localdb/process.h"
#include "localdb/server_dir.h"
#include "localdb/sql_session.h"

namespace eddy::localdb {

inline constexpr char kMariadbServer[] = "/usr/sbin/mariadbd";
inline constexpr char kMariadbInstallDb[] = "/usr/bin/mariadb-install-db";

struct LocalMariadbOptions {
  std::string dir;  // empty: a fresh temp dir; else a new or empty directory (deleted on Stop)
  // The binlog settings capture needs; tests of `eddy check` change them on purpose.
  bool log_bin = true;
  std::string binlog_format = "ROW";
  std::string binlog_row_image = "FULL";
  std::string binlog_row_metadata = "FULL";
  uint32_t server_id = 1;
  // binlog_expire_logs_seconds; 0 keeps binlogs forever.
  int64_t binlog_expire_logs_seconds = 0;
  // An administrator ('user'@'%', all privileges) and the database created for it.
  std::string user = "eddy";
  std::string password = "eddy";
  std::string database = "eddy";
  // More mariadbd arguments ("--name=value"), appended last (they win).
  std::vector<std::string> extra_arguments;
  std::chrono::seconds startup_timeout{60};
};

// What CreateCaptureUser grants; the defaults are what capture needs.
struct MariadbCaptureUser {
  std::string name = "eddy_capture";
  std::string password = "capture";
  bool replication = true;  // REPLICATION SLAVE, BINLOG MONITOR (= REPLICATION CLIENT)
  bool select = true;       // SELECT, SHOW DATABASES, RELOAD on *.*
};

class LocalMariadb {
 public:
  static Result<std::unique_ptr<LocalMariadb>> Start(const LocalMariadbOptions& options = {});

  ~LocalMariadb();  // Stop(), errors logged
  LocalMariadb(const LocalMariadb&) = delete;
  LocalMariadb& operator=(const LocalMariadb&) = delete;

  // Normal shutdown (SIGTERM; SIGKILL after 30 s), then deletes the directory. Idempotent.
  Status Stop();

  uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return server_.pid(); }
  bool running() const { return server_.running(); }
  const LocalMariadbOptions& options() const { return options_; }

  // mysql://eddy:eddy@127.0.0.1:PORT/eddy (the administrator).
  std::string Url() const;
  std::string UrlFor(const std::string& user, const std::string& password,
                     const std::string& database = "") const;
  SqlEndpoint Endpoint() const;  // administrator over TCP

  // An administrator session to `database` ("" = the default database) for test setup.
  Result<MariadbSession> Connect(const std::string& database = "") const;
  // Connects and runs `sql` (statements separated by ';') as the administrator.
  Status Execute(const std::string& sql, const std::string& database = "") const;

  // Creates a new user 'name'@'%' with the grants described; returns its URL.
  Result<std::string> CreateCaptureUser(const MariadbCaptureUser& user = {}) const;

 private:
  LocalMariadb() = default;
  Status Launch(uint16_t port);
  Status Bootstrap();

  LocalMariadbOptions options_;
  ServerDir dir_;
  std::string data_dir_;
  std::string socket_path_;
  std::string log_path_;
  std::optional<RunAs> run_as_;
  uint16_t port_ = 0;
  ChildProcess server_;
};

}  // namespace eddy::localdb
