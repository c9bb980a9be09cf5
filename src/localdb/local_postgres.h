// A throwaway PostgreSQL 15 server: initdb into a fresh directory, start it on its own port on
// 127.0.0.1 (and a unix socket in its directory), wait until it accepts connections, and on
// Stop() shut it down (fast mode) and delete the directory.
//
// Used by integration tests, by `eddy-localdb` for scripts, and by `eddy demo`.
//
// Guarantees:
// - Nothing outlives the owner: the destructor stops the server; if the starting thread dies
//   the kernel sends the postmaster SIGQUIT (immediate shutdown), which also ends its backends.
//   (The directory is left behind in that case: only a live owner can delete it.)
// - Runs as the `postgres` system user when we are root (PostgreSQL refuses root), else as us.
// - Several servers run side by side: each has its own directory and port.
//
// Thread safety: Start and Stop from one thread; the accessors are const and may be called
// from any thread while the object lives. Sessions from Connect() belong to their caller.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "localdb/process.h"
#include "localdb/server_dir.h"
#include "localdb/sql_session.h"

namespace eddy::localdb {

// Where the Debian postgresql-15 package puts its programs.
inline constexpr char kPostgresBinDir[] = "/usr/lib/postgresql/15/bin";

struct LocalPostgresOptions {
  std::string dir;  // empty: a fresh temp dir; else a new or empty directory (deleted on Stop)
  // Capture needs logical; tests of `eddy check` start servers misconfigured on purpose.
  std::string wal_level = "logical";
  int max_replication_slots = 16;
  int max_wal_senders = 16;
  // The superuser and the database created for it.
  std::string superuser = "eddy";
  std::string password = "eddy";
  std::string database = "eddy";
  // More `-c name=value` server settings, applied last (they win).
  std::vector<std::pair<std::string, std::string>> settings;
  std::chrono::seconds startup_timeout{60};
};

// What CreateCaptureUser grants; the defaults are what capture needs.
struct PostgresCaptureUser {
  std::string name = "eddy_capture";
  std::string password = "capture";
  bool replication = true;       // the REPLICATION attribute
  bool select_all_tables = true; // SELECT on every table in schema public (now and later)
};

class LocalPostgres {
 public:
  static Result<std::unique_ptr<LocalPostgres>> Start(const LocalPostgresOptions& options = {});

  ~LocalPostgres();  // Stop(), errors logged
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;

  // Fast shutdown (SIGINT; SIGKILL after 30 s), then deletes the directory. Idempotent.
  Status Stop();

  uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  // The directory holding the unix socket (.s.PGSQL.<port>); empty when the path was too long.
  const std::string& socket_dir() const { return socket_dir_; }
  pid_t pid() const { return postmaster_.pid(); }
  bool running() const { return postmaster_.running(); }
  const LocalPostgresOptions& options() const { return options_; }

  // postgresql://eddy:eddy@127.0.0.1:PORT/eddy (the superuser).
  std::string Url() const;
  // The same server as another user / database ("" keeps the default database).
  std::string UrlFor(const std::string& user, const std::string& password,
                     const std::string& database = "") const;
  SqlEndpoint Endpoint() const;  // superuser over TCP

  // A superuser session to `database` ("" = the default database) for test setup.
  Result<PgSession> Connect(const std::string& database = "") const;
  // Connects and runs `sql` (one or more statements) as the superuser.
  Status Execute(const std::string& sql, const std::string& database = "") const;

  // Creates a new login role as described (AlreadyExists if taken); returns its URL.
  Result<std::string> CreateCaptureUser(const PostgresCaptureUser& user = {}) const;

 private:
  LocalPostgres() = default;
  Status Launch(uint16_t port);

  LocalPostgresOptions options_;
  ServerDir dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  std::optional<RunAs> run_as_;
  uint16_t port_ = 0;
  ChildProcess postmaster_;
};

}  // namespace eddy::localdb
