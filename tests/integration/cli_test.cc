// Runs the real `eddy` binary as operators and scripts do, against throwaway PostgreSQL and
// MariaDB servers (src/localdb), and checks exit codes and output.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace eddy {
namespace {

using std::chrono::steady_clock;

// A child process with stdout and stderr sent to files, so a long-running child never blocks
// on a full pipe.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& output_prefix)
      : stdout_path_(output_prefix + ".out"), stderr_path_(output_prefix + ".err") {
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The exit code once the child exits, or nullopt at the deadline.
  std::optional<int> Wait(std::chrono::seconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (!status_) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (steady_clock::now() >= deadline) return std::nullopt;
      // Waiting for a child process: waitpid has no timeout, so check it at a short interval.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status_;
  }
  void Signal(int number) { kill(pid_, number); }
  std::string Stdout() const { return ReadFile(stdout_path_); }
  std::string Stderr() const { return ReadFile(stderr_path_); }
  static std::string ReadFile(const std::string& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
  };
  Outcome RunEddy(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    args.insert(args.begin(), EDDY_BINARY);
    Child child(args, dir_ + "/run" + std::to_string(++runs_));
    auto code = child.Wait(timeout);
    EXPECT_TRUE(code.has_value()) << "eddy did not exit within the deadline";
    return Outcome{code.value_or(-1), child.Stdout(), child.Stderr()};
  }
  std::unique_ptr<Child> StartEddy(std::vector<std::string> args) {
    args.insert(args.begin(), EDDY_BINARY);
    return std::make_unique<Child>(args, dir_ + "/run" + std::to_string(++runs_));
  }
  static size_t CountLines(const std::string& text, const std::string& needle = "") {
    size_t count = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.find(needle) != std::string::npos) ++count;
    }
    return count;
  }
  // Runs `eddy tail` until it prints `expected` lines containing `needle` or the deadline.
  std::string TailUntil(const std::string& data_dir, const std::string& stream, size_t expected,
                        const std::string& needle, std::chrono::seconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    std::string out;
    Outcome tail;
    while (steady_clock::now() < deadline) {
      // Until `eddy run` has created the stream, tail fails with "no eddy log" / not found.
      tail = RunEddy({"tail", "--data-dir", data_dir, "--stream", stream});
      if (tail.code == 0) {
        out = tail.out;
        if (CountLines(out, needle) >= expected) return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(tail.code, 0) << tail.err;
    return out;
  }

  std::string dir_;
  int runs_ = 0;
};

TEST_F(CliTest, VersionHelpAndUsageErrors) {
  auto version = RunEddy({"version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("eddy ", 0), 0u) << version.out;
  auto help = RunEddy({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* command : {"check", "run", "tail", "demo", "serve", "log", "version"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
  }
  EXPECT_EQ(RunEddy({"run", "--no-such-flag"}).code, 2);
  auto missing = RunEddy({"run", "--source", "postgresql://u@127.0.0.1/db", "--data-dir", dir_});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("--stream"), std::string::npos) << missing.err;
}

TEST_F(CliTest, ConfigErrorsNameTheKeyAndLine) {
  std::ofstream(dir_ + "/eddy.toml") << "data_dir = \"" << dir_ << "/data\"\n"
                                     << "[source]\nurl = \"postgresql://u@127.0.0.1/db\"\n"
                                     << "[[stream]]\nname = \"s\"\nshards = \"four\"\n";
  auto run = RunEddy({"run", "--config", dir_ + "/eddy.toml"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("line 6: 'stream.shards' must be an integer"), std::string::npos) << run.err;
}

TEST_F(CliTest, CheckPostgresGoodBadAndUnreachable) {
  auto good = localdb::LocalPostgres::Start();
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  auto ok = RunEddy({"check", "--source", (*good)->Url()});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("wal_level"), std::string::npos) << ok.out;

  localdb::LocalPostgresOptions options;
  options.wal_level = "replica";
  auto misconfigured = localdb::LocalPostgres::Start(options);
  ASSERT_TRUE(misconfigured.ok()) << misconfigured.status().ToString();
  auto bad = RunEddy({"check", "--source", (*misconfigured)->Url()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("wal_level"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("ALTER SYSTEM SET wal_level = logical"), std::string::npos) << bad.out;

  auto wrong_password = RunEddy(
      {"check", "--source", "postgresql://eddy:wrong@127.0.0.1:" + std::to_string((*good)->port()) + "/eddy"});
  EXPECT_EQ(wrong_password.code, 1);
  EXPECT_EQ(CountLines(wrong_password.err), 1u) << wrong_password.err;
  EXPECT_EQ(wrong_password.err.find("wrong"), std::string::npos) << "password leaked: " << wrong_password.err;
  auto malformed = RunEddy({"check", "--source", "ftp://x"});
  EXPECT_EQ(malformed.code, 2) << malformed.err;
}

TEST_F(CliTest, CheckMariadbGoodAndStatementFormat) {
  auto good = localdb::LocalMariadb::Start();
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  auto ok = RunEddy({"check", "--source", (*good)->Url()});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  localdb::LocalMariadbOptions options;
  options.binlog_format = "STATEMENT";
  auto statement = localdb::LocalMariadb::Start(options);
  ASSERT_TRUE(statement.ok()) << statement.status().ToString();
  auto bad = RunEddy({"check", "--source", (*statement)->Url()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("binlog_format"), std::string::npos) << bad.out;
}

// `eddy run` captures into the log, `eddy tail` reads it from another process, SIGTERM stops
// cleanly, and a restart neither loses nor repeats a change.
TEST_F(CliTest, RunCapturesPostgresTailReadsAndRestartIsExactlyOnce) {
  auto postgres = localdb::LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  ASSERT_TRUE((*postgres)->Execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)").ok());
  ASSERT_TRUE((*postgres)->Execute("INSERT INTO items VALUES (1, 'before start')").ok());
  std::string data_dir = dir_ + "/data";
  std::vector<std::string> run_args = {"run", "--source", (*postgres)->Url(), "--data-dir", data_dir,
                                       "--stream", "items", "--tables", "public.items",
                                       "--api-listen", "127.0.0.1:0"};
  {
    auto run = StartEddy(run_args);
    // The snapshot row, then streamed changes.
    std::string out = TailUntil(data_dir, "items", 1, "\"op\":\"r\"", std::chrono::seconds(60));
    ASSERT_EQ(CountLines(out, "\"op\":\"r\""), 1u) << out << run->Stderr();
    ASSERT_TRUE((*postgres)->Execute("INSERT INTO items VALUES (2, 'two'), (3, 'three')").ok());
    ASSERT_TRUE((*postgres)->Execute("UPDATE items SET name = 'uno' WHERE id = 1").ok());
    ASSERT_TRUE((*postgres)->Execute("DELETE FROM items WHERE id = 3").ok());
    out = TailUntil(data_dir, "items", 1, "\"op\":\"d\"", std::chrono::seconds(60));
    EXPECT_EQ(CountLines(out, "\"op\":\"c\""), 2u) << out;
    EXPECT_EQ(CountLines(out, "\"op\":\"u\""), 1u) << out;
    EXPECT_EQ(CountLines(out, "\"op\":\"d\""), 1u) << out;
    // `eddy status` shows the running capture's progress and the stream's durable position.
    auto deadline = steady_clock::now() + std::chrono::seconds(30);
    Outcome status;
    while (steady_clock::now() < deadline) {
      status = RunEddy({"status", "--data-dir", data_dir});
      if (status.out.find("state=streaming") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("stream=items state=streaming"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("stream items: open_shards=4"), std::string::npos) << status.out;
    run->Signal(SIGTERM);
    auto code = run->Wait(std::chrono::seconds(60));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << run->Stderr();
    EXPECT_NE(run->Stderr().find("stopped cleanly"), std::string::npos) << run->Stderr();
  }
  // Changes made while eddy is down are captured after the restart, exactly once.
  ASSERT_TRUE((*postgres)->Execute("INSERT INTO items VALUES (4, 'while down')").ok());
  {
    auto run = StartEddy(run_args);
    std::string out = TailUntil(data_dir, "items", 1, "while down", std::chrono::seconds(60));
    ASSERT_EQ(CountLines(out, "while down"), 1u) << out << run->Stderr();
    EXPECT_EQ(CountLines(out), 6u) << out;  // r, c, c, u, d, c: nothing repeated
    EXPECT_EQ(CountLines(out, "\"op\":\"r\""), 1u) << "snapshot repeated: " << out;
    run->Signal(SIGINT);
    auto code = run->Wait(std::chrono::seconds(60));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << run->Stderr();
  }
  auto verify = RunEddy({"log", "verify", "--data-dir", data_dir});
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
}

TEST_F(CliTest, DemoCapturesBothDatabasesAndStopsCleanly) {
  auto demo = RunEddy({"demo", "--duration", "10", "--api-listen", "127.0.0.1:0", "--rate", "10"},
                      std::chrono::seconds(180));
  EXPECT_EQ(demo.code, 0) << demo.err;
  EXPECT_GT(CountLines(demo.out, "[postgres] {\"type\":\"full\""), 5u) << demo.out << demo.err;
  EXPECT_GT(CountLines(demo.out, "[mariadb]  {\"type\":\"full\""), 5u) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("aws --endpoint-url http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(demo.err.find("nothing left running"), std::string::npos) << demo.err;
}

}  // namespace
}  // namespace eddy
