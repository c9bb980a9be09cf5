#include "log/tools.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "log/log_store.h"
#include "log/log_test_util.h"
#include "log/segment_format.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::PgPosition;

TEST(LogToolsTest, VerifyAndDumpDescribeTheLog) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  StreamOptions options;
  options.shard_count = 2;
  options.tags["format"] = "native";
  auto stream = *env.store->CreateStream("orders", options);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(stream->AppendTransaction({MakeRecord("k" + std::to_string(i), std::string(80, 'd'),
                                                      PgPosition(i + 1))},
                                          PgPosition(i + 1))
                    .ok());
  }
  std::ostringstream verify;
  Status status = VerifyDataDirectory("/data", verify, &env.fs);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << verify.str();
  EXPECT_NE(verify.str().find("OK: 1 streams, 0 problems"), std::string::npos) << verify.str();

  std::ostringstream dump;
  DumpOptions dump_options;
  dump_options.payloads = true;
  ASSERT_TRUE(DumpDataDirectory("/data", dump_options, dump, &env.fs).ok());
  EXPECT_NE(dump.str().find("stream orders ordering=UNORDERED"), std::string::npos) << dump.str();
  EXPECT_NE(dump.str().find("tag format=native"), std::string::npos);
  EXPECT_NE(dump.str().find("shardId-000000000001 open"), std::string::npos);
  EXPECT_NE(dump.str().find("key=k7 position=lsn 0/8"), std::string::npos) << dump.str();

  // Corrupt a byte in a sealed segment: verify names the file and offset.
  std::string segment = "/data/streams/orders/shardId-000000000000/" + SegmentFileName(1);
  ASSERT_TRUE(env.fs.CorruptByte(segment, 200).ok());
  std::ostringstream bad;
  status = VerifyDataDirectory("/data", bad, &env.fs);
  EXPECT_EQ(status.code(), ErrorCode::kCorruption);
  EXPECT_NE(bad.str().find("CORRUPT " + segment + " offset"), std::string::npos) << bad.str();
}

TEST(LogToolsTest, ReaderInAnotherProcessSeesWholeTransactions) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("eddy_log_process_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = *LogStore::Open(dir);
  StreamOptions options;
  options.shard_count = 4;
  auto stream = *store->CreateStream("s", options);
  constexpr int kRecords = 64;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The other process: read-only open next to the writer, wait for the transaction.
    LogStoreOptions read_only;
    read_only.read_only = true;
    auto view = LogStore::Open(dir, read_only);
    if (!view.ok()) ::_exit(10);
    auto other = (*view)->GetStream("s");
    if (!other.ok()) ::_exit(11);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int seen = 0;
    std::vector<std::unique_ptr<ShardReader>> readers;
    for (uint32_t shard = 0; shard < 4; ++shard) {
      readers.push_back(*(*other)->OpenReader(shard, StartPosition::TrimHorizon()));
    }
    auto round = [&]() {
      int count = 0;
      for (auto& reader : readers) {
        auto batch = reader->Read(ReadLimits{});
        if (!batch.ok()) ::_exit(13);
        count += static_cast<int>(batch->records.size());
      }
      return count;
    };
    while (seen == 0 && std::chrono::steady_clock::now() < deadline) {
      if (!readers[0]->WaitForData(std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(100)).ok()) {
        ::_exit(12);
      }
      seen += round();
    }
    // Once any record of the transaction is visible, its commit is durable, so one more pass
    // (the commit may have landed between two shards' reads) finds all of them.
    if (seen > 0 && seen < kRecords) seen += round();
    ::_exit(seen == kRecords ? 0 : 15);
  }
  std::vector<AppendRecord> records;
  for (int i = 0; i < kRecords; ++i) {
    records.push_back(MakeRecord("key" + std::to_string(i), "v"));
  }
  ASSERT_TRUE(stream->AppendTransaction(records, PgPosition(1)).ok());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  stream.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::log
