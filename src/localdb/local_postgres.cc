#include "localdb/local_postgres.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "base/logging.h"

namespace eddy::localdb {
Result<std::unique_ptr<LocalPostgres>> LocalPostgres::Start(const LocalPostgresOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<LocalPostgres> server(new LocalPostgres());
  server->options_ = options;
  EDDY_ASSIGN_OR_RETURN(server->run_as_, ServerUser("postgres"));
  EDDY_ASSIGN_OR_RETURN(server->dir_, ServerDir::Create(options.dir, "eddy-pg", server->run_as_));
  const std::string& dir = server->dir_.path();
  server->data_dir_ = dir + "/data";
  server->log_path_ = dir + "/server.log";
  // Socket path: DIR/.s.PGSQL.NNNNN must fit sun_path; without it we still have TCP.
  if (dir.size() + 17 <= kMaxUnixSocketPath) server->socket_dir_ = dir;

  const std::string password_file = dir + "/superuser.password";
  {
    std::ofstream out(password_file);
    out << options.password << "\n";
    if (!out) return IoError("cannot write " + password_file);
  }
  if (server->run_as_.has_value() &&
      chown(password_file.c_str(), server->run_as_->uid, server->run_as_->gid) != 0) {
    return IoError("cannot chown " + password_file);
  }
  const std::string initdb_path = std::string(kPostgresBinDir) + "/initdb";
  auto run_initdb = [&](const std::string& data_dir) -> Status {
    ChildOptions initdb;
    initdb.argv = {initdb_path,
                   "--pgdata=" + data_dir,
                   "--username=" + options.superuser,
                   "--pwfile=" + password_file,
                   "--auth-local=trust",
                   "--auth-host=scram-sha-256",
                   "--encoding=UTF8",
                   "--locale=C",
                   "--no-sync",
                   "--no-instructions"};
    initdb.log_path = dir + "/initdb.log";
    initdb.run_as = server->run_as_;
    return RunToCompletion(initdb, std::chrono::seconds(120));
  };
  // initdb's output depends on its version, the superuser and the password only.
  const std::string key =
      "postgres15-" + StableHash(FileStamp(initdb_path) + "|" + FileStamp(std::string(kPostgresBinDir) + "/postgres") + "|" +
                                 options.superuser + "|" + options.password);
  Status initialized =
      InitializeFromTemplate(key, server->data_dir_, server->run_as_, run_initdb);
  std::remove(password_file.c_str());
  if (!initialized.ok()) {
    return initialized.WithContext(
        "initdb in " + dir +
        (server->run_as_ ? " (as user postgres: every parent directory must be searchable by it)"
                         : ""));
  }

  // The port is free when picked but may be taken before the server binds: retry then.
  EDDY_RETURN_IF_ERROR(LaunchOnFreePort([&](uint16_t port) { return server->Launch(port); }));

  if (options.database != "postgres") {
    EDDY_ASSIGN_OR_RETURN(PgSession session, server->Connect("postgres"));
    EDDY_RETURN_IF_ERROR(session.Execute("CREATE DATABASE " + QuotePgIdentifier(options.database)));
  }
  logging::Get("localdb")->info(
      "postgres started port={} dir={} pid={} startup_ms={}", server->port_, dir,
      server->postmaster_.pid(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count());
  return server;
}

Status LocalPostgres::Launch(uint16_t port) {
  port_ = port;
  ChildOptions child;
  child.argv = {std::string(kPostgresBinDir) + "/postgres", "-D", data_dir_};
  auto set = [&](const std::string& name, const std::string& value) {
    child.argv.push_back("-c");
    child.argv.push_back(name + "=" + value);
  };
  set("listen_addresses", "127.0.0.1");
  set("port", std::to_string(port));
  set("unix_socket_directories", socket_dir_);
  set("wal_level", options_.wal_level);
  set("max_replication_slots", std::to_string(options_.max_replication_slots));
  set("max_wal_senders", std::to_string(options_.max_wal_senders));
  // A throwaway server: durability against power loss is not needed; speed is.
  set("fsync", "off");
  set("synchronous_commit", "off");
  set("full_page_writes", "off");
  set("shared_buffers", "16MB");
  set("max_connections", "60");
  set("logging_collector", "off");
  set("log_min_messages", "warning");
  for (const auto& [name, value] : options_.settings) set(name, value);
  child.log_path = log_path_;
  child.run_as = run_as_;
  // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster also ends its backends.
  child.death_signal = SIGQUIT;
  EDDY_ASSIGN_OR_RETURN(postmaster_, ChildProcess::Start(child));

  const std::string port_text = std::to_string(port);
  const char* keywords[] = {"host", "port", "dbname", "connect_timeout", nullptr};
  const char* values[] = {"127.0.0.1", port_text.c_str(), "postgres", "2", nullptr};
  const auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> status = postmaster_.TryWait()) {
      return FailedPrecondition("postgres exited during startup (" + DescribeWaitStatus(*status) +
                                "); its log ends with:\n" + TailOfFile(log_path_, 15));
    }
    if (PQpingParams(keywords, values, 0) == PQPING_OK) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  postmaster_.Stop(SIGQUIT, std::chrono::seconds(10));
  return Timeout("postgres did not accept connections within " +
                 std::to_string(options_.startup_timeout.count()) + " s; its log ends with:\n" +
                 TailOfFile(log_path_, 15));
}

LocalPostgres::~LocalPostgres() {
  Status stopped = Stop();
  if (!stopped.ok()) logging::Get("localdb")->warn("postgres stop failed: {}", stopped.message());
}

Status LocalPostgres::Stop() {
  if (postmaster_.running()) {
    // SIGINT: fast shutdown (roll back sessions, checkpoint, exit).
    int status = postmaster_.Stop(SIGINT, std::chrono::seconds(30));
    logging::Get("localdb")->info("postgres stopped port={} {}", port_, DescribeWaitStatus(status));
  }
  return dir_.Remove();
}

std::string LocalPostgres::UrlFor(const std::string& user, const std::string& password,
                                  const std::string& database) const {
  return LocalServerUrl("postgresql", user, password, port_,
                        database.empty() ? options_.database : database);
}

std::string LocalPostgres::Url() const {
  return UrlFor(options_.superuser, options_.password, options_.database);
}

SqlEndpoint LocalPostgres::Endpoint() const {
  SqlEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  endpoint.user = options_.superuser;
  endpoint.password = options_.password;
  endpoint.database = options_.database;
  return endpoint;
}

Result<PgSession> LocalPostgres::Connect(const std::string& database) const {
  SqlEndpoint endpoint = Endpoint();
  if (!database.empty()) endpoint.database = database;
  return PgSession::Connect(endpoint);
}

Status LocalPostgres::Execute(const std::string& sql, const std::string& database) const {
  EDDY_ASSIGN_OR_RETURN(PgSession session, Connect(database));
  return session.Execute(sql);
}

Result<std::string> LocalPostgres::CreateCaptureUser(const PostgresCaptureUser& user) const {
  EDDY_ASSIGN_OR_RETURN(PgSession session, Connect());
  const std::string role = QuotePgIdentifier(user.name);
  std::string sql = "CREATE ROLE " + role + " LOGIN " +
                    (user.replication ? "REPLICATION" : "NOREPLICATION") + " PASSWORD " +
                    QuotePgLiteral(user.password) + ";";
  // CREATE on the database lets capture create its publication.
  sql += "GRANT CREATE, CONNECT ON DATABASE " + QuotePgIdentifier(options_.database) + " TO " +
         role + ";";
  if (user.select_all_tables) {
    sql += "GRANT USAGE ON SCHEMA public TO " + role +
           "; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role +
           "; ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO " + role + ";";
  }
  EDDY_RETURN_IF_ERROR(session.Execute(sql));
  return UrlFor(user.name, user.password);
}

}  // namespace eddy::localdb
