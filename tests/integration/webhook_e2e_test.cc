// Push delivery end to end: `eddy run` captures a real PostgreSQL (src/localdb) and delivers
// the stream with `--sink webhook+http://...` to tests/e2e/webhook_receiver.py. Every change
// must reach the receiver, in per-key order (each key's changes in commit order, repeats of a
// retried batch allowed), also across a period in which the receiver fails every request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "api/json_writer.h"
#include "io/file_system.h"
#include "localdb/local_postgres.h"
#include "localdb/process.h"
#include "net/http_client.h"

namespace eddy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string SourceDir() {
  const char* dir = std::getenv("EDDY_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

// What the receiver logged: per key (the row's id), the `v` column of every delivered change,
// in the order the receiver acknowledged them; and how many requests it answered with an error.
struct Delivered {
  std::map<int64_t, std::vector<int64_t>> values_by_key;
  size_t failed_requests = 0;
  size_t records = 0;
};

Delivered ReadReceiverLog(const std::string& path) {
  Delivered delivered;
  auto text = io::DefaultFileSystem()->ReadFile(path);
  if (!text.ok()) return delivered;
  simdjson::dom::parser parser;
  simdjson::dom::parser record_parser;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) break;  // a line still being written
    std::string line = text->substr(start, end - start);
    start = end + 1;
    simdjson::dom::element entry;
    if (parser.parse(line).get(entry) != simdjson::SUCCESS) continue;
    int64_t status = 0;
    if (entry["status"].get(status) != simdjson::SUCCESS || status != 200) {
      ++delivered.failed_requests;
      continue;
    }
    simdjson::dom::array records;
    if (entry["body"]["Records"].get(records) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element record : records) {
      std::string_view data_base64;
      if (record["kinesis"]["data"].get(data_base64) != simdjson::SUCCESS) continue;
      std::string data;
      if (!api::DecodeBase64(data_base64, &data)) continue;
      simdjson::dom::element change;
      if (record_parser.parse(data).get(change) != simdjson::SUCCESS) continue;
      int64_t id = 0;
      int64_t v = 0;
      if (change["after"]["id"].get(id) != simdjson::SUCCESS ||
          change["after"]["v"].get(v) != simdjson::SUCCESS) {
        continue;  // deletes, heartbeats, transaction markers
      }
      delivered.values_by_key[id].push_back(v);
      ++delivered.records;
    }
  }
  return delivered;
}

// Every key got every value 0..last, and never an older value after a newer one except when a
// batch was delivered again (a repeat restarts at a value seen before and runs forward again).
void ExpectCompleteAndInKeyOrder(const Delivered& delivered, int64_t keys, int64_t last) {
  ASSERT_EQ(static_cast<int64_t>(delivered.values_by_key.size()), keys);
  for (const auto& [id, values] : delivered.values_by_key) {
    std::vector<bool> seen(static_cast<size_t>(last + 1), false);
    int64_t highest = -1;
    for (int64_t v : values) {
      ASSERT_GE(v, 0);
      ASSERT_LE(v, last) << "key " << id;
      if (v > highest + 1) {
        ADD_FAILURE() << "key " << id << ": value " << v << " arrived before " << highest + 1;
      }
      highest = std::max(highest, v);
      seen[static_cast<size_t>(v)] = true;
    }
    for (int64_t v = 0; v <= last; ++v) {
      EXPECT_TRUE(seen[static_cast<size_t>(v)]) << "key " << id << " never got value " << v;
    }
  }
}

class WebhookEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-webhook-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    log_path_ = dir_ + "/receiver.jsonl";
    std::string port_file = dir_ + "/receiver.port";
    localdb::ChildOptions options;
    options.argv = {"/usr/bin/python3",
                    SourceDir() + "/tests/e2e/webhook_receiver.py",
                    "--port-file",
                    port_file,
                    "--log",
                    log_path_};
    options.log_path = dir_ + "/receiver.out";
    auto receiver = localdb::ChildProcess::Start(options);
    ASSERT_TRUE(receiver.ok()) << receiver.status().ToString();
    receiver_ = std::move(receiver).value();
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline && port_ == 0) {
      auto text = io::DefaultFileSystem()->ReadFile(port_file);
      if (text.ok() && !text->empty()) port_ = static_cast<uint16_t>(std::stoi(*text));
      if (port_ == 0) std::this_thread::sleep_for(20ms);  // polling a file another process writes
    }
    ASSERT_NE(port_, 0) << "the receiver did not start";
  }
  void TearDown() override {
    if (eddy_pid_ > 0) {
      kill(eddy_pid_, SIGKILL);
      waitpid(eddy_pid_, nullptr, 0);
    }
    receiver_.Stop(SIGKILL, 5s);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void StartEddy(const std::string& source_url) {
    std::vector<std::string> args = {EDDY_BINARY,
                                     "run",
                                     "--source",
                                     source_url,
                                     "--data-dir",
                                     dir_ + "/data",
                                     "--stream",
                                     "items",
                                     "--tables",
                                     "public.items",
                                     "--api-listen",
                                     "127.0.0.1:0",
                                     "--sink",
                                     "webhook+http://127.0.0.1:" + std::to_string(port_) +
                                         "/hook?name=hook&stream=items&batch_size=7"};
    std::string out = dir_ + "/eddy.out";
    std::string err = dir_ + "/eddy.err";
    eddy_pid_ = fork();
    if (eddy_pid_ == 0) {
      int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out_fd, 1);
      dup2(err_fd, 2);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }

  std::string EddyStderr() const {
    auto text = io::DefaultFileSystem()->ReadFile(dir_ + "/eddy.err");
    return text.ok() ? *text : "";
  }

  void ControlReceiver(const std::string& json) {
    auto client = net::HttpClient::Create();
    ASSERT_TRUE(client.ok());
    auto reply =
        (*client)->Post("http://127.0.0.1:" + std::to_string(port_) + "/_control", {}, json);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->status, 200);
  }

  // Reads the receiver's log until `done` holds or the deadline.
  Delivered WaitForDeliveries(const std::function<bool(const Delivered&)>& done,
                              std::chrono::seconds timeout) {
    auto deadline = Clock::now() + timeout;
    Delivered delivered;
    while (Clock::now() < deadline) {
      delivered = ReadReceiverLog(log_path_);
      if (done(delivered)) return delivered;
      std::this_thread::sleep_for(100ms);  // polling a file another process writes
    }
    return delivered;
  }

  std::string dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  localdb::ChildProcess receiver_;
  pid_t eddy_pid_ = -1;
};

bool AllKeysReached(const Delivered& delivered, int64_t keys, int64_t value) {
  if (static_cast<int64_t>(delivered.values_by_key.size()) < keys) return false;
  for (const auto& [id, values] : delivered.values_by_key) {
    if (std::find(values.begin(), values.end(), value) == values.end()) return false;
  }
  return true;
}

TEST_F(WebhookEndToEnd, EveryChangeArrivesInKeyOrderAcrossAFailingReceiver) {
  auto postgres = localdb::LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  constexpr int64_t kKeys = 20;
  ASSERT_TRUE((*postgres)->Execute("CREATE TABLE items (id bigint PRIMARY KEY, v bigint)").ok());
  ASSERT_TRUE((*postgres)
                  ->Execute("INSERT INTO items SELECT g, 0 FROM generate_series(1, " +
                            std::to_string(kKeys) + ") g")
                  .ok());
  StartEddy((*postgres)->Url());

  // The snapshot (v = 0) first: changes made before it would be folded into it.
  Delivered snapshot =
      WaitForDeliveries([&](const Delivered& d) { return AllKeysReached(d, kKeys, 0); }, 120s);
  ASSERT_TRUE(AllKeysReached(snapshot, kKeys, 0)) << EddyStderr();
  // Then five rounds of updates, each one transaction over every key.
  for (int round = 1; round <= 5; ++round) {
    ASSERT_TRUE((*postgres)->Execute("UPDATE items SET v = v + 1").ok());
  }
  Delivered delivered =
      WaitForDeliveries([&](const Delivered& d) { return AllKeysReached(d, kKeys, 5); }, 120s);
  ASSERT_TRUE(AllKeysReached(delivered, kKeys, 5)) << EddyStderr();
  ExpectCompleteAndInKeyOrder(delivered, kKeys, 5);

  // The receiver fails every request for a while; nothing is lost or reordered meanwhile.
  ControlReceiver(R"({"mode":"status","status":500})");
  for (int round = 6; round <= 8; ++round) {
    ASSERT_TRUE((*postgres)->Execute("UPDATE items SET v = v + 1").ok());
  }
  size_t failures_before = delivered.failed_requests;
  delivered = WaitForDeliveries(
      [&](const Delivered& d) { return d.failed_requests >= failures_before + 3; }, 60s);
  ASSERT_GE(delivered.failed_requests, failures_before + 3) << EddyStderr();
  ControlReceiver(R"({"mode":"ok"})");
  delivered =
      WaitForDeliveries([&](const Delivered& d) { return AllKeysReached(d, kKeys, 8); }, 120s);
  ASSERT_TRUE(AllKeysReached(delivered, kKeys, 8)) << EddyStderr();
  ExpectCompleteAndInKeyOrder(delivered, kKeys, 8);

  kill(eddy_pid_, SIGTERM);
  int status = 0;
  waitpid(eddy_pid_, &status, 0);
  eddy_pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << EddyStderr();
}

}  // namespace
}  // namespace eddy
