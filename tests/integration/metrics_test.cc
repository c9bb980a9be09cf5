// `GET /metrics` of the real `eddy` binary capturing from throwaway PostgreSQL and MariaDB
// servers (src/localdb): the values move as rows are written (events by op and table, lag,
// slot status, log and API counters), both the API port and --metrics-listen serve them, and
// `promtool check metrics` (Debian's prometheus package) accepts the real output.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"
#include "localdb/process.h"

namespace eddy {
namespace {

using std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// One HTTP/1.1 request with Connection: close; the body of the reply, or nullopt when the
// connection failed or the status was not 200.
std::optional<std::string> HttpRequest(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string_view rest = request;
  while (!rest.empty()) {
    ssize_t sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (sent <= 0) break;
    rest.remove_prefix(static_cast<size_t>(sent));
  }
  std::string reply;
  char buffer[65536];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (reply.rfind("HTTP/1.1 200", 0) != 0) return std::nullopt;
  size_t body = reply.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return reply.substr(body + 4);
}

std::optional<std::string> GetMetrics(uint16_t port) {
  return HttpRequest(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// The value of the sample line `series` ("name{labels}"), or nullopt when absent.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

// Runs promtool check metrics on `text`; its exit status and output.
std::pair<int, std::string> Promtool(const std::string& text, const std::string& dir) {
  std::string input = dir + "/metrics.txt";
  std::ofstream(input) << text;
  std::string command = "/usr/bin/promtool check metrics < " + input + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-metrics-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // The test fails, never skips, without the checker it relies on.
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool"))
        << "promtool is missing: install Debian's prometheus package (it ships /usr/bin/promtool)";
  }
  void TearDown() override {
    eddy_.Stop(SIGKILL, std::chrono::seconds(5));
    std::filesystem::remove_all(dir_);
  }

  // Starts `eddy run` with both ports on free ports and waits for them to be logged.
  void StartEddy(std::vector<std::string> args) {
    log_path_ = dir_ + "/eddy.log";
    args.insert(args.begin(), {EDDY_BINARY, "run"});
    args.insert(args.end(), {"--api-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"});
    auto child = localdb::ChildProcess::Start(localdb::ChildOptions{args, {}, log_path_, {}, 9});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    eddy_ = std::move(*child);
    std::regex api("API on http://127\\.0\\.0\\.1:([0-9]+)");
    std::regex metrics("Prometheus metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline && (api_port_ == 0 || metrics_port_ == 0)) {
      std::string log = ReadFile(log_path_);
      std::smatch match;
      if (std::regex_search(log, match, api)) api_port_ = std::stoi(match[1]);
      if (std::regex_search(log, match, metrics)) metrics_port_ = std::stoi(match[1]);
      ASSERT_FALSE(eddy_.TryWait().has_value()) << "eddy exited: " << log;
      // Waiting for another process's log line: there is nothing to block on.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(api_port_, 0) << ReadFile(log_path_);
    ASSERT_NE(metrics_port_, 0) << ReadFile(log_path_);
  }

  // Fetches /metrics from the separate port until `ready` holds for it or the deadline.
  std::string MetricsWhen(const std::function<bool(const std::string&)>& ready,
                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = steady_clock::now() + timeout;
    std::string text;
    while (steady_clock::now() < deadline) {
      if (auto fetched = GetMetrics(metrics_port_)) {
        text = *fetched;
        if (ready(text)) return text;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "metrics never got ready; last:\n"
                  << text << "\nlog:\n"
                  << ReadFile(log_path_);
    return text;
  }

  // The API port serves the same registry beside the Kinesis API, and promtool accepts it.
  void CheckApiPortAndPromtool(const std::string& stream) {
    std::string list =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: "
        "Kinesis_20131202.ListStreams\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Date: "
        "20240101T000000Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/"
        "kinesis/aws4_request, SignedHeaders=host, Signature=00\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    auto listed = HttpRequest(api_port_, list);
    ASSERT_TRUE(listed.has_value());
    EXPECT_NE(listed->find(stream), std::string::npos) << *listed;
    auto text = GetMetrics(api_port_);
    ASSERT_TRUE(text.has_value());
    EXPECT_GE(Sample(*text,
                     "eddy_api_requests_total{operation=\"ListStreams\",service=\"kinesis\","
                     "status=\"200\"}")
                  .value_or(0),
              1)
        << *text;
    EXPECT_TRUE(Sample(*text,
                       "eddy_api_request_duration_seconds_count{operation=\"ListStreams\","
                       "service=\"kinesis\"}")
                    .has_value())
        << *text;
    EXPECT_NE(text->find("eddy_build_info{commit=\""), std::string::npos) << *text;
    auto [code, output] = Promtool(*text, dir_);
    EXPECT_EQ(code, 0) << "promtool check metrics:\n" << output << "\non:\n" << *text;
    EXPECT_EQ(output, "") << *text;
  }

  void StopEddy() {
    int status = eddy_.Stop(SIGTERM, std::chrono::seconds(60));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << localdb::DescribeWaitStatus(status) << "\n"
        << ReadFile(log_path_);
  }

  std::string dir_;
  std::string log_path_;
  localdb::ChildProcess eddy_;
  uint16_t api_port_ = 0;
  uint16_t metrics_port_ = 0;
};

TEST_F(MetricsTest, PostgresCaptureMovesTheMetricsAndPromtoolAcceptsThem) {
  auto postgres = localdb::LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  ASSERT_TRUE((*postgres)->Execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)").ok());
  ASSERT_TRUE((*postgres)->Execute("INSERT INTO items VALUES (1, 'before start')").ok());
  StartEddy({"--source", (*postgres)->Url(), "--data-dir", dir_ + "/data", "--stream", "items",
             "--tables", "public.items"});

  const std::string events =
      "eddy_capture_events_total{op=\"%\",stream=\"items\",table=\"public.items\"}";
  auto op = [&](const char* code) {
    std::string series = events;
    series.replace(series.find('%'), 1, code);
    return series;
  };
  // The snapshot row, then the slot is reported once streaming starts.
  std::string text = MetricsWhen([&](const std::string& t) {
    return Sample(t, op("r")) == 1 &&
           Sample(t, "eddy_source_slot_wal_status{status=\"reserved\",stream=\"items\"}") == 1;
  });
  EXPECT_EQ(Sample(text, "eddy_snapshot_rows_total{stream=\"items\",table=\"public.items\"}"), 1)
      << text;
  EXPECT_EQ(Sample(text, "eddy_snapshot_tables_remaining{stream=\"items\"}"), 0) << text;
  EXPECT_EQ(Sample(text, "eddy_source_slot_wal_status{status=\"lost\",stream=\"items\"}"), 0)
      << text;

  ASSERT_TRUE((*postgres)->Execute("INSERT INTO items VALUES (2, 'two'), (3, 'three')").ok());
  ASSERT_TRUE((*postgres)->Execute("UPDATE items SET name = 'uno' WHERE id = 1").ok());
  ASSERT_TRUE((*postgres)->Execute("DELETE FROM items WHERE id = 3").ok());
  text = MetricsWhen([&](const std::string& t) { return Sample(t, op("d")) == 1; });
  EXPECT_EQ(Sample(text, op("c")), 2) << text;
  EXPECT_EQ(Sample(text, op("u")), 1) << text;
  EXPECT_EQ(Sample(text, "eddy_capture_transactions_total{stream=\"items\"}"), 3) << text;
  EXPECT_EQ(Sample(text, "eddy_capture_commit_to_durable_seconds_count{stream=\"items\"}"), 3)
      << text;
  auto lag = Sample(text, "eddy_capture_lag_seconds{stream=\"items\"}");
  ASSERT_TRUE(lag.has_value()) << text;
  EXPECT_GE(*lag, 0);
  EXPECT_LT(*lag, 60) << text;
  EXPECT_GT(Sample(text, "eddy_capture_last_durable_commit_timestamp_seconds{stream=\"items\"}")
                .value_or(0),
            1.6e9)
      << text;
  // The snapshot (one record) and four changes; the snapshot and the changes are separate
  // commits (the changes may be group-committed), each with at least one fsync.
  EXPECT_EQ(Sample(text, "eddy_log_appended_records_total{stream=\"items\"}"), 5) << text;
  EXPECT_GT(Sample(text, "eddy_log_appended_bytes_total{stream=\"items\"}").value_or(0), 0) << text;
  EXPECT_GE(Sample(text, "eddy_log_fsync_duration_seconds_count").value_or(0), 2) << text;
  EXPECT_GE(Sample(text, "eddy_log_commit_duration_seconds_count{stream=\"items\"}").value_or(0), 2)
      << text;
  // The slot's byte lag is measured on its own connection, polled: present and small.
  text = MetricsWhen([&](const std::string& t) {
    return Sample(t, "eddy_source_lag_bytes{stream=\"items\"}").has_value();
  });
  EXPECT_LT(Sample(text, "eddy_source_lag_bytes{stream=\"items\"}").value_or(-1), 64 << 20) << text;
  EXPECT_GE(Sample(text, "eddy_source_lag_bytes{stream=\"items\"}").value_or(-1), 0) << text;

  CheckApiPortAndPromtool("items");
  StopEddy();
}

TEST_F(MetricsTest, MariadbCaptureMovesTheMetricsAndPromtoolAcceptsThem) {
  auto mariadb = localdb::LocalMariadb::Start();
  ASSERT_TRUE(mariadb.ok()) << mariadb.status().ToString();
  ASSERT_TRUE(
      (*mariadb)->Execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)", "eddy").ok());
  ASSERT_TRUE((*mariadb)->Execute("INSERT INTO items VALUES (1, 'before start')", "eddy").ok());
  StartEddy({"--source", (*mariadb)->Url(), "--data-dir", dir_ + "/data", "--stream", "items",
             "--tables", "eddy.items"});

  auto op = [](const char* code) {
    return std::string("eddy_capture_events_total{op=\"") + code +
           "\",stream=\"items\",table=\"eddy.items\"}";
  };
  std::string text = MetricsWhen([&](const std::string& t) { return Sample(t, op("r")) == 1; });
  EXPECT_EQ(Sample(text, "eddy_snapshot_rows_total{stream=\"items\",table=\"eddy.items\"}"), 1)
      << text;
  EXPECT_EQ(Sample(text, "eddy_snapshot_tables_remaining{stream=\"items\"}"), 0) << text;

  ASSERT_TRUE(
      (*mariadb)->Execute("INSERT INTO items VALUES (2, 'two'), (3, 'three')", "eddy").ok());
  ASSERT_TRUE((*mariadb)->Execute("UPDATE items SET name = 'uno' WHERE id = 1", "eddy").ok());
  ASSERT_TRUE((*mariadb)->Execute("DELETE FROM items WHERE id = 3", "eddy").ok());
  text = MetricsWhen([&](const std::string& t) { return Sample(t, op("d")) == 1; });
  EXPECT_EQ(Sample(text, op("c")), 2) << text;
  EXPECT_EQ(Sample(text, op("u")), 1) << text;
  EXPECT_EQ(Sample(text, "eddy_capture_transactions_total{stream=\"items\"}"), 3) << text;
  EXPECT_EQ(Sample(text, "eddy_capture_commit_to_durable_seconds_count{stream=\"items\"}"), 3)
      << text;
  auto lag = Sample(text, "eddy_capture_lag_seconds{stream=\"items\"}");
  ASSERT_TRUE(lag.has_value()) << text;
  EXPECT_LT(*lag, 60) << text;
  // Binlog bytes behind the durable position, polled on its own connection: present, and
  // small (heartbeats move the durable position up to the end of an idle binlog).
  text = MetricsWhen([&](const std::string& t) {
    return Sample(t, "eddy_source_lag_bytes{stream=\"items\"}").has_value();
  });
  EXPECT_GE(Sample(text, "eddy_source_lag_bytes{stream=\"items\"}").value_or(-1), 0) << text;
  EXPECT_LT(Sample(text, "eddy_source_lag_bytes{stream=\"items\"}").value_or(-1), 1 << 20) << text;

  CheckApiPortAndPromtool("items");
  StopEddy();
}

}  // namespace
}  // namespace eddy
