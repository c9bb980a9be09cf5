// `eddy tail --dedupe` through the real binary: a CDC stream written directly to a data
// directory (duplicates, a delete, a chunked record across shards), then the latest image per
// key as the binary prints it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace eddy
