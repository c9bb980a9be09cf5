// `eddy tail --dedupe` through the real binary: a CDC stream written directly to a data
// directory (duplicates, a delete, a chunked record across shards), then the latest image per
// key as the binary prints it. And `eddy run` against a throwaway PostgreSQL with transaction
// metadata, heartbeats and a column exclusion, read back with `eddy tail` (--dedupe too).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "localdb/local_postgres.h"
#include "log/log_store.h"
#include "model/event_codec.h"

namespace eddy {
namespace {

model::ChangeEvent Change(model::Operation op, int64_t id, const std::string& note, int64_t commit_ns) {
  model::ChangeEvent event;
  event.op = op;
  event.table = {"shop", "public", "orders"};
  event.key = {{"id", model::Value::Int64(id)}};
  model::Row row{{"id", model::Value::Int64(id)}, {"note", model::Value::Text(note)}};
  if (op == model::Operation::kDelete) {
    event.before = row;
  } else {
    event.after = row;
  }
  event.commit_time_ns = commit_ns;
  event.capture_time_ns = commit_ns + 1;
  event.transaction_id = std::to_string(commit_ns);
  event.source.connector = model::ConnectorKind::kPostgres;
  event.position = SourcePosition(PostgresPosition{Lsn(static_cast<uint64_t>(commit_ns)),
                                                   Lsn(static_cast<uint64_t>(commit_ns))});
  return event;
}

log::AppendRecord Record(const model::ChangeEvent& event) {
  log::AppendRecord record;
  record.partition_key = event.PartitionKey();
  record.payload = model::EncodeEvent(event);
  record.position = event.position;
  return record;
}

struct Output {
  int exit_code = -1;
  std::vector<std::string> lines;
  std::string err;
};

Output RunEddy(const std::string& args, const std::string& dir) {
  std::string err_path = dir + "/tail.err";
  std::string command = std::string(EDDY_BINARY) + " " + args + " 2>" + err_path;
  Output output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  std::string text;
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  int status = pclose(pipe);
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) output.lines.push_back(line);
  std::ifstream err(err_path);
  output.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return output;
}

class TailDedupeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/eddy-tail-dedupe-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TailDedupeTest, PrintsTheLatestImagePerKey) {
  std::string big(5000, 'z');  // larger than the 1 KiB record limit: chunked
  {
    auto store = log::LogStore::Open(dir_ + "/data");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    log::StreamOptions options;
    options.shard_count = 2;
    options.max_record_bytes = 1024;
    options.tags["eddy:cdc"] = "true";
    options.tags["eddy:format"] = "native";
    options.tags["eddy:view_type"] = "NEW_AND_OLD_IMAGES";
    auto stream = (*store)->CreateStream("orders", options);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    using model::Operation;
    ASSERT_TRUE((*stream)->AppendTransaction({Record(Change(Operation::kInsert, 1, "a", 100)),
                                              Record(Change(Operation::kInsert, 2, "b", 100)),
                                              Record(Change(Operation::kInsert, 3, big, 100))},
                                             Change(Operation::kInsert, 0, "", 100).position).ok());
    ASSERT_TRUE((*stream)->AppendTransaction({Record(Change(Operation::kUpdate, 1, "a2", 200)),
                                              Record(Change(Operation::kDelete, 2, "b", 200))},
                                             Change(Operation::kInsert, 0, "", 200).position).ok());
    // An at-least-once duplicate of the first insert, appended after the update.
    ASSERT_TRUE((*stream)->AppendTransaction({Record(Change(Operation::kInsert, 1, "a", 100))},
                                             SourcePosition()).ok());
  }
  std::string data = dir_ + "/data";

  Output plain = RunEddy("tail --data-dir " + data + " --stream orders", dir_);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.lines.size(), 6u);

  Output deduped = RunEddy("tail --data-dir " + data + " --stream orders --dedupe", dir_);
  ASSERT_EQ(deduped.exit_code, 0) << deduped.err;
  ASSERT_EQ(deduped.lines.size(), 2u) << deduped.err;
  // Ordered by the winning change's commit time: row 3 (t=100, reassembled whole), row 1 (t=200).
  EXPECT_NE(deduped.lines[0].find("\"id\":3"), std::string::npos) << deduped.lines[0].substr(0, 200);
  EXPECT_NE(deduped.lines[0].find(big), std::string::npos);
  EXPECT_NE(deduped.lines[1].find("\"id\":1"), std::string::npos);
  EXPECT_NE(deduped.lines[1].find("\"note\":\"a2\""), std::string::npos) << deduped.lines[1];
  EXPECT_NE(deduped.err.find("records=6 applied=5 stale=1 keyless=0 ignored=0 printed=2"),
            std::string::npos) << deduped.err;

  // Another format, and a usage error.
  Output dynamodb = RunEddy("tail --data-dir " + data + " --stream orders --dedupe --format dynamodb", dir_);
  ASSERT_EQ(dynamodb.exit_code, 0) << dynamodb.err;
  ASSERT_EQ(dynamodb.lines.size(), 2u);
  EXPECT_NE(dynamodb.lines[1].find("\"eventName\":\"MODIFY\""), std::string::npos);
  Output bad = RunEddy("tail --data-dir " + data + " --stream orders --dedupe --dedupe-window soon", dir_);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
}

// `eddy run` in the background, output to files (a long-running child never blocks on a pipe).
class Background {
 public:
  Background(std::vector<std::string> args, const std::string& prefix) : err_path_(prefix + ".err") {
    pid_ = fork();
    if (pid_ == 0) {
      int out = open((prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(err, 2);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // SIGTERM, then the exit code (or -1 after 60 s).
  int Stop() {
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waitpid has no timeout
    }
    return -1;
  }
  std::string Stderr() const {
    std::ifstream err(err_path_);
    return std::string(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string err_path_;
};

size_t Count(const std::vector<std::string>& lines, const std::string& needle) {
  size_t count = 0;
  for (const auto& line : lines) count += line.find(needle) != std::string::npos ? 1 : 0;
  return count;
}

TEST_F(TailDedupeTest, RunWithTransactionMetadataHeartbeatsAndExcludedColumn) {
  auto postgres = localdb::LocalPostgres::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  ASSERT_TRUE((*postgres)->Execute("CREATE TABLE items (id bigint PRIMARY KEY, name text)").ok());
  ASSERT_TRUE((*postgres)->Execute("CREATE TABLE notes (id bigint PRIMARY KEY, body text, tag text)").ok());
  std::string data = dir_ + "/data";
  {
    std::ofstream config(dir_ + "/eddy.toml");
    config << "data_dir = \"" << data << "\"\n[source]\nurl = \"" << (*postgres)->Url() << "\"\n"
           << "[[stream]]\nname = \"shop\"\ntables = [\"public.items\", \"public.notes\"]\n"
           << "ordering = \"ORDERED\"\nshards = 1\ntransaction_metadata = true\n"
           << "heartbeat_interval = \"200ms\"\nexclude_columns = [\"public.notes.body\"]\n"
           << "[api]\nenabled = false\n";
  }
  Background run({EDDY_BINARY, "run", "--config", dir_ + "/eddy.toml"}, dir_ + "/run");
  // Polls `eddy tail` until a line contains `needle` (the stream appears once eddy run made it).
  auto tail_until = [&](const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    Output tail;
    while (std::chrono::steady_clock::now() < deadline) {
      tail = RunEddy("tail --data-dir " + data + " --stream shop", dir_);
      if (tail.exit_code == 0 && Count(tail.lines, needle) > 0) return tail.lines;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no line with " << needle << ": " << tail.err << run.Stderr();
    return tail.lines;
  };
  // The stream is idle after its (empty) snapshot: heartbeats show it is alive.
  auto lines = tail_until("\"op\":\"h\"");
  ASSERT_TRUE((*postgres)->Execute("BEGIN; INSERT INTO items VALUES (1, 'a'), (2, 'b'); "
                                   "INSERT INTO notes VALUES (1, 'secret-body', 'x'); "
                                   "UPDATE items SET name = 'a2' WHERE id = 1; COMMIT").ok());
  lines = tail_until("\"op\":\"e\"");
  EXPECT_EQ(run.Stop(), 0) << run.Stderr();

  std::vector<std::string> data_lines;
  for (const auto& line : lines) {
    if (line.find("\"op\":\"h\"") == std::string::npos) data_lines.push_back(line);
  }
  ASSERT_EQ(data_lines.size(), 6u) << testing::PrintToString(lines);  // b, c, c, c, u, e
  EXPECT_NE(data_lines[0].find("\"transaction\":{\"status\":\"BEGIN\""), std::string::npos) << data_lines[0];
  for (size_t i = 1; i <= 4; ++i) {
    EXPECT_NE(data_lines[i].find("\"total_order\":" + std::to_string(i) + ","), std::string::npos)
        << data_lines[i];
  }
  EXPECT_NE(data_lines[4].find("\"data_collection_order\":3}"), std::string::npos) << data_lines[4];
  EXPECT_NE(data_lines[5].find("\"status\":\"END\""), std::string::npos) << data_lines[5];
  EXPECT_NE(data_lines[5].find("\"event_count\":4,\"data_collections\":[{\"data_collection\":"
                               "\"public.items\",\"event_count\":3},{\"data_collection\":"
                               "\"public.notes\",\"event_count\":1}]"),
            std::string::npos) << data_lines[5];
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("secret-body"), std::string::npos) << line;
    EXPECT_EQ(line.find("\"body\""), std::string::npos) << line;
  }
  EXPECT_GE(Count(lines, "\"op\":\"h\""), 1u);

  // The latest image per key: items 1 (a2), items 2, notes 1.
  Output deduped = RunEddy("tail --data-dir " + data + " --stream shop --dedupe", dir_);
  ASSERT_EQ(deduped.exit_code, 0) << deduped.err;
  ASSERT_EQ(deduped.lines.size(), 3u) << testing::PrintToString(deduped.lines) << deduped.err;
  EXPECT_EQ(Count(deduped.lines, "\"name\":\"a2\""), 1u);
  EXPECT_EQ(Count(deduped.lines, "\"tag\":\"x\""), 1u);
  // Debezium rendering of the same stream: the transaction topic shape and blocks.
  Output debezium = RunEddy("tail --data-dir " + data + " --stream shop --format debezium", dir_);
  ASSERT_EQ(debezium.exit_code, 0) << debezium.err;
  EXPECT_EQ(Count(debezium.lines, "{\"status\":\"BEGIN\""), 1u);
  EXPECT_EQ(Count(debezium.lines, "\"transaction\":{\"id\":"), 4u);
  // DynamoDB Streams has no BEGIN/END/heartbeat records: only the 4 row changes.
  Output dynamodb = RunEddy("tail --data-dir " + data + " --stream shop --format dynamodb", dir_);
  ASSERT_EQ(dynamodb.exit_code, 0) << dynamodb.err;
  EXPECT_EQ(dynamodb.lines.size(), 4u) << testing::PrintToString(dynamodb.lines);
}

}  // namespace
}  // namespace eddy
