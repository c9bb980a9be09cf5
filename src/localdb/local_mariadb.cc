#include "localdb/local_mariadb.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <thread>

#include "base/logging.h"

namespace eddy::localdb {
namespace {

std::string MysqlLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

Result<std::unique_ptr<LocalMariadb>> LocalMariadb::Start(const LocalMariadbOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<LocalMariadb> server(new LocalMariadb());
  server->options_ = options;
  EDDY_ASSIGN_OR_RETURN(server->run_as_, ServerUser("mysql"));
  EDDY_ASSIGN_OR_RETURN(server->dir_, ServerDir::Create(options.dir, "eddy-my", server->run_as_));
  const std::string& dir = server->dir_.path();
  server->data_dir_ = dir + "/data";
  server->log_path_ = dir + "/server.log";
  server->socket_path_ = dir + "/mysqld.sock";
  if (server->socket_path_.size() > kMaxUnixSocketPath) {
    return InvalidArgument("directory path " + dir + " is too long for a unix socket (max " +
                           std::to_string(kMaxUnixSocketPath - 12) + " characters); use a shorter "
                           "--dir or TMPDIR");
  }

  // Our own tmpdir: with the shared /tmp, parallel bootstraps occasionally lost their temporary
  // tables ("Unknown table 'mysql.tmp_user_sys'").
  const std::string tmp_dir = dir + "/tmp";
  if (mkdir(tmp_dir.c_str(), 0700) != 0 ||
      (server->run_as_.has_value() &&
       chown(tmp_dir.c_str(), server->run_as_->uid, server->run_as_->gid) != 0)) {
    return IoError("cannot create " + tmp_dir + ": " + std::strerror(errno));
  }
  auto run_install_db = [&](const std::string& data_dir) -> Status {
    ChildOptions install;
    install.argv = {kMariadbInstallDb,
                    "--no-defaults",
                    "--datadir=" + data_dir,
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    "--tmpdir=" + tmp_dir,
                    // Passed on to the bootstrap server: small files, fast start.
                    "--innodb-log-file-size=8M",
                    "--innodb-buffer-pool-size=16M"};
    install.log_path = dir + "/install-db.log";
    install.run_as = server->run_as_;
    Status installed = RunToCompletion(install, std::chrono::seconds(120));
    if (installed.ok()) return installed;
    // Seen once in ~100 runs under heavy parallel load (an ASan build); the tool starts a
    // bootstrap server, so give it one more try from scratch, saying so.
    logging::Get("localdb")->warn("mariadb-install-db failed, retrying once: {}",
                                  installed.message());
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
    return RunToCompletion(install, std::chrono::seconds(120));
  };
  // The accounts are made after start, so only the programs' versions shape the data dir.
  const std::string key = "mariadb-" + StableHash(std::string(FileStamp(kMariadbServer)) + "|" +
                                                  FileStamp(kMariadbInstallDb));
  Status installed =
      InitializeFromTemplate(key, server->data_dir_, server->run_as_, run_install_db);
  if (!installed.ok()) {
    return installed.WithContext(
        "mariadb-install-db in " + dir +
        (server->run_as_ ? " (as user mysql: every parent directory must be searchable by it)"
                         : ""));
  }

  EDDY_RETURN_IF_ERROR(LaunchOnFreePort([&](uint16_t port) { return server->Launch(port); }));
  EDDY_RETURN_IF_ERROR(server->Bootstrap());
  logging::Get("localdb")->info(
      "mariadb started port={} dir={} pid={} startup_ms={}", server->port_, dir,
      server->server_.pid(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count());
  return server;
}

Status LocalMariadb::Launch(uint16_t port) {
  port_ = port;
  ChildOptions child;
  child.argv = {kMariadbServer,
                "--no-defaults",
                "--datadir=" + data_dir_,
                "--port=" + std::to_string(port),
                "--bind-address=127.0.0.1",
                "--socket=" + socket_path_,
                "--pid-file=" + dir_.path() + "/mysqld.pid",
                "--skip-name-resolve",
                "--tmpdir=" + dir_.path() + "/tmp",
                "--server-id=" + std::to_string(options_.server_id),
                "--binlog-format=" + options_.binlog_format,
                "--binlog-row-image=" + options_.binlog_row_image,
                "--binlog-row-metadata=" + options_.binlog_row_metadata,
                "--binlog-expire-logs-seconds=" + std::to_string(options_.binlog_expire_logs_seconds),
                // A throwaway server: no fsync per commit, small memory.
                "--innodb-flush-log-at-trx-commit=0",
                "--sync-binlog=0",
                "--innodb-log-file-size=8M",
                "--innodb-buffer-pool-size=32M",
                "--max-connections=100",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"};
  if (options_.log_bin) child.argv.push_back("--log-bin=" + data_dir_ + "/binlog");
  for (const std::string& argument : options_.extra_arguments) child.argv.push_back(argument);
  child.log_path = log_path_;
  child.run_as = run_as_;
  child.death_signal = SIGKILL;
  EDDY_ASSIGN_OR_RETURN(server_, ChildProcess::Start(child));

  SqlEndpoint root;
  root.unix_socket = socket_path_;
  root.user = "root";
  const auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  Status last = Status::Ok();
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> status = server_.TryWait()) {
      return FailedPrecondition("mariadbd exited during startup (" + DescribeWaitStatus(*status) +
                                "); its log ends with:\n" + TailOfFile(log_path_, 15));
    }
    Result<MariadbSession> session = MariadbSession::Connect(root, std::chrono::seconds(2));
    if (session.ok()) return Status::Ok();
    last = session.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_.Stop(SIGKILL, std::chrono::seconds(10));
  return Timeout("mariadbd did not accept connections within " +
                 std::to_string(options_.startup_timeout.count()) + " s (" + last.message() +
                 "); its log ends with:\n" + TailOfFile(log_path_, 15));
}

Status LocalMariadb::Bootstrap() {
  SqlEndpoint root;
  root.unix_socket = socket_path_;
  root.user = "root";
  EDDY_ASSIGN_OR_RETURN(MariadbSession session, MariadbSession::Connect(root));
  const std::string account = MysqlLiteral(options_.user) + "@'%'";
  return session.Execute("CREATE USER " + account + " IDENTIFIED BY " +
                         MysqlLiteral(options_.password) + "; GRANT ALL PRIVILEGES ON *.* TO " +
                         account + " WITH GRANT OPTION; CREATE DATABASE " +
                         QuoteMysqlIdentifier(options_.database));
}

LocalMariadb::~LocalMariadb() {
  Status stopped = Stop();
  if (!stopped.ok()) logging::Get("localdb")->warn("mariadb stop failed: {}", stopped.message());
}

Status LocalMariadb::Stop() {
  if (server_.running()) {
    int status = server_.Stop(SIGTERM, std::chrono::seconds(30));
    logging::Get("localdb")->info("mariadb stopped port={} {}", port_, DescribeWaitStatus(status));
  }
  return dir_.Remove();
}

std::string LocalMariadb::UrlFor(const std::string& user, const std::string& password,
                                 const std::string& database) const {
  return LocalServerUrl("mysql", user, password, port_,
                        database.empty() ? options_.database : database);
}

std::string LocalMariadb::Url() const {
  return UrlFor(options_.user, options_.password, options_.database);
}

SqlEndpoint LocalMariadb::Endpoint() const {
  SqlEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  endpoint.user = options_.user;
  endpoint.password = options_.password;
  endpoint.database = options_.database;
  return endpoint;
}

Result<MariadbSession> LocalMariadb::Connect(const std::string& database) const {
  SqlEndpoint endpoint = Endpoint();
  if (!database.empty()) endpoint.database = database;
  return MariadbSession::Connect(endpoint);
}

Status LocalMariadb::Execute(const std::string& sql, const std::string& database) const {
  EDDY_ASSIGN_OR_RETURN(MariadbSession session, Connect(database));
  return session.Execute(sql);
}

Result<std::string> LocalMariadb::CreateCaptureUser(const MariadbCaptureUser& user) const {
  EDDY_ASSIGN_OR_RETURN(MariadbSession session, Connect());
  const std::string account = MysqlLiteral(user.name) + "@'%'";
  std::string sql = "CREATE USER " + account + " IDENTIFIED BY " + MysqlLiteral(user.password);
  std::vector<std::string> privileges;
  if (user.select) {
    privileges.insert(privileges.end(), {"SELECT", "SHOW DATABASES", "RELOAD"});
  }
  if (user.replication) {
    privileges.insert(privileges.end(), {"REPLICATION SLAVE", "BINLOG MONITOR"});
  }
  if (!privileges.empty()) {
    std::string list;
    for (const std::string& privilege : privileges) {
      if (!list.empty()) list += ", ";
      list += privilege;
    }
    sql += "; GRANT " + list + " ON *.* TO " + account;
  }
  EDDY_RETURN_IF_ERROR(session.Execute(sql));
  return UrlFor(user.name, user.password);
}

}  // namespace eddy::localdb
