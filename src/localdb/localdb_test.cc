// Integration tests of the throwaway servers: they start, answer SQL with the promised settings,
// run side by side, and leave nothing running or on disk after Stop, after the scripts' tool is
// stopped with SIGTERM, and after that tool is killed outright.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace eddy::localdb {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Pids whose parent is `parent` (from /proc/*/stat).
std::set<pid_t> ChildrenOf(pid_t parent) {
  std::set<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.insert(std::stoi(name));
  }
  return children;
}

// True when `pid` is gone or a zombie.
bool ProcessGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string stat;
  std::getline(in, stat);
  size_t close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

template <typename Predicate>
bool WaitFor(Predicate predicate, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return predicate();
}

std::string QueryOne(PgSession& session, const std::string& sql) {
  Result<SqlRows> rows = session.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) return "<none>";
  return *rows->rows[0][0];
}

std::string QueryOne(MariadbSession& session, const std::string& sql) {
  Result<SqlRows> rows = session.Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok() || rows->rows.empty() || !rows->rows[0][0]) return "<none>";
  return *rows->rows[0][0];
}

TEST(LocalPostgresTest, StartsWithLogicalWalAndStopsLeavingNothing) {
  const auto started = std::chrono::steady_clock::now();
  auto server = LocalPostgres::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const auto startup = std::chrono::steady_clock::now() - started;
  std::cout << "postgres startup ms="
            << std::chrono::duration_cast<milliseconds>(startup).count() << "\n";
  EXPECT_LT(startup, seconds(30)) << "startup should take seconds";
  LocalPostgres& postgres = **server;
  EXPECT_EQ(postgres.Url(),
            "postgresql://eddy:eddy@127.0.0.1:" + std::to_string(postgres.port()) + "/eddy");
  auto session = postgres.Connect();
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(QueryOne(*session, "SHOW wal_level"), "logical");
  EXPECT_EQ(QueryOne(*session, "SHOW max_replication_slots"), "16");
  EXPECT_EQ(QueryOne(*session, "SELECT current_database()"), "eddy");
  EXPECT_EQ(QueryOne(*session, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"),
            "true");
  EXPECT_EQ(QueryOne(*session, "SELECT current_setting('server_version_num')::int / 10000"), "15");
  if (geteuid() == 0) {
    struct stat info {};
    ASSERT_EQ(stat((postgres.dir() + "/data").c_str(), &info), 0);
    EXPECT_NE(info.st_uid, 0u) << "postgres must not run as root";
  }
  // The unix socket works too.
  ASSERT_FALSE(postgres.socket_dir().empty());
  SqlEndpoint socket_endpoint = postgres.Endpoint();
  socket_endpoint.host.clear();
  socket_endpoint.unix_socket = postgres.socket_dir();
  auto over_socket = PgSession::Connect(socket_endpoint);
  ASSERT_TRUE(over_socket.ok()) << over_socket.status().ToString();

  const pid_t pid = postgres.pid();
  const std::string dir = postgres.dir();
  const std::set<pid_t> backends = ChildrenOf(pid);
  EXPECT_FALSE(backends.empty()) << "the postmaster has helper processes";
  *session = std::move(*over_socket);  // keep one session open across the stop
  ASSERT_TRUE(postgres.Stop().ok());
  EXPECT_TRUE(ProcessGone(pid));
  for (pid_t backend : backends) {
    EXPECT_TRUE(WaitFor([&] { return ProcessGone(backend); }, seconds(10))) << backend;
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(postgres.Stop().ok()) << "Stop is idempotent";
}

TEST(LocalPostgresTest, StartsMisconfiguredOnRequest) {
  LocalPostgresOptions options;
  options.wal_level = "replica";
  options.max_replication_slots = 0;
  options.settings = {{"max_connections", "20"}};
  auto server = LocalPostgres::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto session = (*server)->Connect();
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(QueryOne(*session, "SHOW wal_level"), "replica");
  EXPECT_EQ(QueryOne(*session, "SHOW max_replication_slots"), "0");
  EXPECT_EQ(QueryOne(*session, "SHOW max_connections"), "20");
}

TEST(LocalPostgresTest, CreatesCaptureUser) {
  auto server = LocalPostgres::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  LocalPostgres& postgres = **server;
  ASSERT_TRUE(postgres.Execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)").ok());
  auto url = postgres.CreateCaptureUser();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, "postgresql://eddy_capture:capture@127.0.0.1:" +
                      std::to_string(postgres.port()) + "/eddy");
  SqlEndpoint endpoint = postgres.Endpoint();
  endpoint.user = "eddy_capture";
  endpoint.password = "capture";
  auto session = PgSession::Connect(endpoint);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(QueryOne(*session, "SELECT rolreplication::text FROM pg_roles WHERE rolname = current_user"),
            "true");
  EXPECT_EQ(QueryOne(*session, "SELECT count(*) FROM t"), "1");

  PostgresCaptureUser plain;
  plain.name = "no_replication";
  plain.replication = false;
  ASSERT_TRUE(postgres.CreateCaptureUser(plain).ok());
  auto again = postgres.CreateCaptureUser(plain);
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists) << again.status().ToString();
}

TEST(LocalMariadbTest, StartsWithRowBinlogAndStopsLeavingNothing) {
  const auto started = std::chrono::steady_clock::now();
  auto server = LocalMariadb::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const auto startup = std::chrono::steady_clock::now() - started;
  std::cout << "mariadb startup ms="
            << std::chrono::duration_cast<milliseconds>(startup).count() << "\n";
  EXPECT_LT(startup, seconds(30)) << "startup should take seconds";
  LocalMariadb& mariadb = **server;
  EXPECT_EQ(mariadb.Url(),
            "mysql://eddy:eddy@127.0.0.1:" + std::to_string(mariadb.port()) + "/eddy");
  auto session = mariadb.Connect();
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(QueryOne(*session, "SELECT @@log_bin"), "1");
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_format"), "ROW");
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_row_image"), "FULL");
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_row_metadata"), "FULL");
  EXPECT_EQ(QueryOne(*session, "SELECT @@server_id"), "1");
  EXPECT_EQ(QueryOne(*session, "SELECT DATABASE()"), "eddy");
  EXPECT_NE(QueryOne(*session, "SELECT VERSION()").find("10.11"), std::string::npos);
  if (geteuid() == 0) {
    struct stat info {};
    ASSERT_EQ(stat((mariadb.dir() + "/data").c_str(), &info), 0);
    EXPECT_NE(info.st_uid, 0u) << "mariadbd must not run as root";
  }
  const pid_t pid = mariadb.pid();
  const std::string dir = mariadb.dir();
  ASSERT_TRUE(mariadb.Stop().ok());
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(LocalMariadbTest, StartsMisconfiguredOnRequest) {
  LocalMariadbOptions options;
  options.binlog_format = "STATEMENT";
  options.binlog_row_image = "MINIMAL";
  options.binlog_row_metadata = "MINIMAL";
  options.server_id = 42;
  auto server = LocalMariadb::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto session = (*server)->Connect();
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_format"), "STATEMENT");
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_row_image"), "MINIMAL");
  EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_row_metadata"), "MINIMAL");
  EXPECT_EQ(QueryOne(*session, "SELECT @@server_id"), "42");

  LocalMariadbOptions no_binlog;
  no_binlog.log_bin = false;
  auto plain = LocalMariadb::Start(no_binlog);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto plain_session = (*plain)->Connect();
  ASSERT_TRUE(plain_session.ok());
  EXPECT_EQ(QueryOne(*plain_session, "SELECT @@log_bin"), "0");
}

TEST(LocalMariadbTest, CreatesCaptureUser) {
  auto server = LocalMariadb::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto url = (*server)->CreateCaptureUser();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  SqlEndpoint endpoint = (*server)->Endpoint();
  endpoint.user = "eddy_capture";
  endpoint.password = "capture";
  auto session = MariadbSession::Connect(endpoint);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  const std::string grants = QueryOne(*session, "SHOW GRANTS");
  EXPECT_NE(grants.find("REPLICATION SLAVE"), std::string::npos) << grants;
  EXPECT_NE(grants.find("BINLOG MONITOR"), std::string::npos) << grants;
  EXPECT_NE(grants.find("SELECT"), std::string::npos) << grants;
}

TEST(LocalServersTest, SeveralRunSideBySide) {
  auto postgres_a = LocalPostgres::Start();
  auto postgres_b = LocalPostgres::Start();
  auto mariadb_a = LocalMariadb::Start();
  auto mariadb_b = LocalMariadb::Start();
  ASSERT_TRUE(postgres_a.ok()) << postgres_a.status().ToString();
  ASSERT_TRUE(postgres_b.ok()) << postgres_b.status().ToString();
  ASSERT_TRUE(mariadb_a.ok()) << mariadb_a.status().ToString();
  ASSERT_TRUE(mariadb_b.ok()) << mariadb_b.status().ToString();
  std::set<uint16_t> ports = {(*postgres_a)->port(), (*postgres_b)->port(), (*mariadb_a)->port(),
                              (*mariadb_b)->port()};
  EXPECT_EQ(ports.size(), 4u);
  std::set<std::string> dirs = {(*postgres_a)->dir(), (*postgres_b)->dir(), (*mariadb_a)->dir(),
                                (*mariadb_b)->dir()};
  EXPECT_EQ(dirs.size(), 4u);
  // Each is its own server: a table made in one is absent in the other.
  ASSERT_TRUE((*postgres_a)->Execute("CREATE TABLE only_a (id int)").ok());
  EXPECT_EQ((*postgres_b)->Execute("SELECT * FROM only_a").code(), ErrorCode::kNotFound);
  ASSERT_TRUE((*mariadb_a)->Execute("CREATE TABLE only_a (id int)").ok());
  EXPECT_EQ((*mariadb_b)->Execute("SELECT * FROM only_a").code(), ErrorCode::kNotFound);
}

TEST(LocalServersTest, StartsWithoutTheTemplateCache) {
  // The cached initdb / install-db template is an optimisation; without it servers still start.
  setenv("EDDY_LOCALDB_NO_TEMPLATE", "1", 1);
  auto postgres = LocalPostgres::Start();
  auto mariadb = LocalMariadb::Start();
  unsetenv("EDDY_LOCALDB_NO_TEMPLATE");
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  ASSERT_TRUE(mariadb.ok()) << mariadb.status().ToString();
  EXPECT_TRUE((*postgres)->Execute("SELECT 1").ok());
  EXPECT_TRUE((*mariadb)->Execute("SELECT 1").ok());
}

TEST(LocalServersTest, SweepsDirectoriesOfDeadOwners) {
  // A pid that surely is dead: a child that exited and was reaped.
  pid_t dead = fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) _exit(0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  const std::string base = std::filesystem::temp_directory_path();
  const std::string abandoned = base + "/eddy-pg-Dead" + std::to_string(10 + dead % 90);
  const std::string alive = base + "/eddy-pg-Live" + std::to_string(10 + getpid() % 90);
  const std::string unowned = base + "/eddy-pg-NoOwnr";
  for (const std::string& dir : {abandoned, alive, unowned}) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/data");
  }
  std::ofstream(abandoned + "/owner.pid") << dead << "\n";
  std::ofstream(alive + "/owner.pid") << getpid() << "\n";
  auto server = LocalPostgres::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(abandoned)) << "a dead owner's directory is removed";
  EXPECT_TRUE(std::filesystem::exists(alive)) << "a live owner's directory stays";
  EXPECT_TRUE(std::filesystem::exists(unowned)) << "a directory without owner file stays";
  EXPECT_TRUE(std::filesystem::exists((*server)->dir() + "/owner.pid"));
  std::filesystem::remove_all(alive);
  std::filesystem::remove_all(unowned);
  std::filesystem::remove_all(abandoned);
}

TEST(LocalServersTest, RefusesNonEmptyDirectory) {
  const std::string dir = std::filesystem::temp_directory_path() / "eddy-localdb-nonempty-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/keep.txt") << "mine";
  LocalPostgresOptions options;
  options.dir = dir;
  auto server = LocalPostgres::Start(options);
  EXPECT_EQ(server.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(dir + "/keep.txt")) << "a refused directory is untouched";
  std::filesystem::remove_all(dir);
}

// Runs `eddy-localdb start KIND --dir DIR --url-file FILE` and waits for the URL.
struct ToolRun {
  ChildProcess process;
  std::string dir;
  std::string url;
};

ToolRun StartTool(const std::string& kind, const std::string& name,
                  const std::vector<std::string>& extra = {}) {
  ToolRun run;
  const std::string base = std::filesystem::temp_directory_path() / ("eddy-tool-" + name + "-" +
                                                                      std::to_string(getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base);
  chmod(base.c_str(), 0755);
  run.dir = base + "/server";
  const std::string url_file = base + "/url";
  ChildOptions options;
  options.argv = {EDDY_LOCALDB_BINARY, "start", kind, "--dir", run.dir, "--url-file", url_file};
  options.argv.insert(options.argv.end(), extra.begin(), extra.end());
  options.log_path = base + "/tool.log";
  auto started = ChildProcess::Start(options);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  if (!started.ok()) return run;
  run.process = std::move(*started);
  const bool ready = WaitFor(
      [&] {
        std::ifstream in(url_file);
        return in && std::getline(in, run.url) && !run.url.empty();
      },
      seconds(60));
  EXPECT_TRUE(ready) << TailOfFile(options.log_path, 20);
  return run;
}

pid_t ServerPidOf(const ToolRun& run) {
  std::set<pid_t> children = ChildrenOf(run.process.pid());
  return children.size() == 1 ? *children.begin() : -1;
}

TEST(EddyLocaldbToolTest, SigtermStopsServerAndCleansUp) {
  for (const std::string kind : {"postgres", "mariadb"}) {
    ToolRun run = StartTool(kind, "term-" + kind);
    ASSERT_FALSE(run.url.empty());
    EXPECT_EQ(run.url.rfind(kind == "postgres" ? "postgresql://eddy:eddy@127.0.0.1:"
                                                : "mysql://eddy:eddy@127.0.0.1:",
                            0),
              0u)
        << run.url;
    const pid_t server_pid = ServerPidOf(run);
    ASSERT_GT(server_pid, 0);
    EXPECT_TRUE(std::filesystem::exists(run.dir));
    const int status = run.process.Stop(SIGTERM, seconds(60));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWaitStatus(status);
    EXPECT_TRUE(WaitFor([&] { return ProcessGone(server_pid); }, seconds(10)));
    EXPECT_FALSE(std::filesystem::exists(run.dir)) << "the tool deletes its directory";
    std::filesystem::remove_all(std::filesystem::path(run.dir).parent_path());
  }
}

TEST(EddyLocaldbToolTest, SetStartsServersMisconfigured) {
  {
    ToolRun run = StartTool("postgres", "set-postgres", {"--set", "wal_level=replica"});
    ASSERT_FALSE(run.url.empty());
    SqlEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = static_cast<uint16_t>(std::stoi(run.url.substr(run.url.rfind(':') + 1)));
    endpoint.user = endpoint.password = endpoint.database = "eddy";
    auto session = PgSession::Connect(endpoint);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    EXPECT_EQ(QueryOne(*session, "SHOW wal_level"), "replica");
    run.process.Stop(SIGTERM, seconds(60));
    std::filesystem::remove_all(std::filesystem::path(run.dir).parent_path());
  }
  {
    ToolRun run = StartTool("mariadb", "set-mariadb",
                            {"--set", "binlog_format=STATEMENT", "--set", "binlog_row_image=MINIMAL"});
    ASSERT_FALSE(run.url.empty());
    SqlEndpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = static_cast<uint16_t>(std::stoi(run.url.substr(run.url.rfind(':') + 1)));
    endpoint.user = endpoint.password = endpoint.database = "eddy";
    auto session = MariadbSession::Connect(endpoint);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_format"), "STATEMENT");
    EXPECT_EQ(QueryOne(*session, "SELECT @@binlog_row_image"), "MINIMAL");
    run.process.Stop(SIGTERM, seconds(60));
    std::filesystem::remove_all(std::filesystem::path(run.dir).parent_path());
  }
}

TEST(EddyLocaldbToolTest, ServerDiesWithKilledParent) {
  for (const std::string kind : {"postgres", "mariadb"}) {
    ToolRun run = StartTool(kind, "kill-" + kind);
    ASSERT_FALSE(run.url.empty());
    const pid_t server_pid = ServerPidOf(run);
    ASSERT_GT(server_pid, 0);
    const std::set<pid_t> server_children = ChildrenOf(server_pid);
    run.process.Stop(SIGKILL, seconds(10));
    EXPECT_TRUE(WaitFor([&] { return ProcessGone(server_pid); }, seconds(20)))
        << kind << " server outlived its killed parent";
    for (pid_t child : server_children) {
      EXPECT_TRUE(WaitFor([&] { return ProcessGone(child); }, seconds(20))) << child;
    }
    std::filesystem::remove_all(std::filesystem::path(run.dir).parent_path());
  }
}

}  // namespace
}  // namespace eddy::localdb
