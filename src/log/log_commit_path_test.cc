// The one commit path shared by AppendTransaction batches and TransactionAppender::Commit: the
// exactly-once rule applies the same way to both, and the fsync fan-out of a commit touching
// many shards is bounded by LogStoreOptions::max_parallel_syncs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>

#include "io/fault_file_system.h"
#include "log/log_store.h"
#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::PgPosition;
using testing::ReadAll;
using testing::Unordered;

SourcePosition MysqlAt(uint64_t offset) {
  MysqlPosition mysql;
  mysql.server_id = 1;
  mysql.end = BinlogPosition{"mysql-bin.000001", offset};
  return SourcePosition(mysql);
}

std::vector<AppendRecord> Records(const std::string& prefix, int count) {
  std::vector<AppendRecord> records;
  for (int i = 0; i < count; ++i) {
    records.push_back(MakeRecord(prefix + std::to_string(i), prefix + "-payload"));
  }
  return records;
}

// Commits `records` in parts through a TransactionAppender.
Result<TransactionCommitResult> CommitInParts(Stream& stream, std::vector<AppendRecord> records,
                                              SourcePosition end) {
  EDDY_ASSIGN_OR_RETURN(auto appender, stream.BeginTransaction());
  EDDY_RETURN_IF_ERROR(appender->Append(std::move(records)));
  return appender->Commit(std::move(end));
}

size_t TotalRecords(Stream& stream) {
  size_t total = 0;
  for (const auto& shard : stream.Describe().shards) total += ReadAll(stream, shard.index).size();
  return total;
}

uint64_t TotalBytes(Stream& stream) {
  uint64_t total = 0;
  for (const auto& shard : stream.Describe().shards) total += shard.bytes;
  return total;
}

TEST(LogCommitPathTest, ExactlyOnceRuleIsTheSameForBatchesAndPartedCommits) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));

  // A batch sets the high-water mark; a parted commit at or below it is a duplicate whose
  // parts are discarded (nothing visible, no bytes left behind).
  auto first = stream->AppendTransaction(Records("a", 4), PgPosition(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  const uint64_t bytes = TotalBytes(*stream);
  for (uint64_t at : {10u, 5u}) {
    auto parted = CommitInParts(*stream, Records("dup", 3), PgPosition(at));
    ASSERT_TRUE(parted.ok()) << parted.status().ToString();
    EXPECT_TRUE(parted->duplicate) << "position " << at;
    EXPECT_EQ(parted->record_count, 0u);
  }
  EXPECT_EQ(TotalRecords(*stream), 4u);
  EXPECT_EQ(TotalBytes(*stream), bytes);

  // A parted commit above it moves the mark; a batch at or below the new mark is a duplicate.
  auto parted = CommitInParts(*stream, Records("b", 3), PgPosition(20));
  ASSERT_TRUE(parted.ok()) << parted.status().ToString();
  EXPECT_FALSE(parted->duplicate);
  EXPECT_EQ(parted->record_count, 3u);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(20));
  for (uint64_t at : {20u, 15u}) {
    auto batch = stream->AppendTransaction(Records("dup", 2), PgPosition(at));
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_TRUE(batch->duplicate) << "position " << at;
    EXPECT_TRUE(batch->records.empty());
  }
  EXPECT_EQ(TotalRecords(*stream), 7u);

  // A position of another source kind is refused by both paths with the same error, and the
  // stream keeps working (a parted transaction refused this way is discarded).
  auto batch_kind = stream->AppendTransaction(Records("m", 1), MysqlAt(4));
  auto parted_kind = CommitInParts(*stream, Records("m", 1), MysqlAt(4));
  EXPECT_EQ(batch_kind.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parted_kind.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(batch_kind.status().message(), parted_kind.status().message());
  EXPECT_EQ(TotalRecords(*stream), 7u);

  // An empty position disables the check on both paths and leaves the mark where it was.
  ASSERT_TRUE(stream->AppendTransaction(Records("e", 1), SourcePosition()).ok());
  auto unpositioned = CommitInParts(*stream, Records("f", 1), SourcePosition());
  ASSERT_TRUE(unpositioned.ok());
  EXPECT_FALSE(unpositioned->duplicate);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(20));
  EXPECT_EQ(TotalRecords(*stream), 9u);

  // After a crash both paths see the recovered mark.
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_TRUE(stream->AppendTransaction(Records("x", 1), PgPosition(20))->duplicate);
  EXPECT_TRUE(CommitInParts(*stream, Records("y", 1), PgPosition(19))->duplicate);
  EXPECT_EQ(TotalRecords(*stream), 9u);
}

// Counts concurrent File::Sync calls on files it opened.
class SyncCountingFileSystem final : public io::FileSystem {
 public:
  explicit SyncCountingFileSystem(io::FileSystem* base) : base_(base) {}

  void Reset() {
    active_ = 0;
    most_ = 0;
    calls_ = 0;
  }
  int most_concurrent() const { return most_.load(); }
  int calls() const { return calls_.load(); }

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override {
    EDDY_ASSIGN_OR_RETURN(auto file, base_->Open(path, mode));
    return std::unique_ptr<io::File>(new CountingFile(this, std::move(file)));
  }
  Status SyncDirectory(const std::string& path) override { return base_->SyncDirectory(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    return base_->RenameNoReplace(from, to);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status RemoveDirectory(const std::string& path) override { return base_->RemoveDirectory(path); }
  Result<std::vector<std::string>> List(const std::string& path) override {
    return base_->List(path);
  }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_->Truncate(path, size);
  }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Result<bool> Exists(const std::string& path) override { return base_->Exists(path); }
  Result<bool> IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Status CreateDirectory(const std::string& path) override { return base_->CreateDirectory(path); }
  Result<std::unique_ptr<io::FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  class CountingFile final : public io::File {
   public:
    CountingFile(SyncCountingFileSystem* fs, std::unique_ptr<io::File> file)
        : fs_(fs), file_(std::move(file)) {}
    Status Append(std::string_view bytes) override { return file_->Append(bytes); }
    Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const override {
      return file_->ReadAt(offset, size, out);
    }
    Status Sync() override {
      int now = ++fs_->active_;
      int most = fs_->most_.load();
      while (now > most && !fs_->most_.compare_exchange_weak(most, now)) {
      }
      ++fs_->calls_;
      Status status = file_->Sync();
      --fs_->active_;
      return status;
    }
    Result<uint64_t> Size() const override { return file_->Size(); }
    Status Truncate(uint64_t size) override { return file_->Truncate(size); }
    const std::string& path() const override { return file_->path(); }

   private:
    SyncCountingFileSystem* fs_;
    std::unique_ptr<io::File> file_;
  };

  io::FileSystem* base_;
  std::atomic<int> active_{0};
  std::atomic<int> most_{0};
  std::atomic<int> calls_{0};
};

struct FanOutCase {
  uint32_t max_parallel_syncs;
  bool parted;
};

class LogSyncFanOutTest : public ::testing::TestWithParam<FanOutCase> {};

TEST_P(LogSyncFanOutTest, CommitOverManyShardsSyncsInParallelWithinTheBound) {
  constexpr uint32_t kShards = 64;
  const FanOutCase param = GetParam();
  io::FaultInjectionFileSystem memory;
  // Every flush takes a while, as on a real disk, so that flushes of one commit overlap.
  memory.SetSyncLatency(std::chrono::milliseconds(2));
  SyncCountingFileSystem fs(&memory);
  LogStoreOptions options;
  options.file_system = &fs;
  options.max_parallel_syncs = param.max_parallel_syncs;
  auto store = *LogStore::Open("/data", options);
  auto stream = *store->CreateStream("wide", Unordered(kShards));
  std::vector<AppendRecord> records = Records("key", 1024);

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    fs.Reset();
    std::set<uint32_t> touched;
    if (param.parted) {
      auto committed = CommitInParts(*stream, records, PgPosition(round + 1));
      ASSERT_TRUE(committed.ok()) << committed.status().ToString();
      EXPECT_EQ(committed->record_count, records.size());
    } else {
      auto appended = stream->AppendTransaction(records, PgPosition(round + 1));
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
      for (const auto& record : appended->records) touched.insert(record.shard_index);
      ASSERT_EQ(touched.size(), kShards);  // 1,024 keys spread over every shard
    }
    // One fsync per touched shard file plus one for the commit journal.
    EXPECT_EQ(fs.calls(), static_cast<int>(kShards) + 1);
    EXPECT_LE(fs.most_concurrent(), static_cast<int>(param.max_parallel_syncs));
    if (param.max_parallel_syncs > 1) {
      // 64 flushes of 2 ms each: helpers join in long before the commit is done.
      EXPECT_GE(fs.most_concurrent(), 2);
    }
  }
  for (const auto& shard : stream->Describe().shards) {
    EXPECT_GT(shard.last_sequence.value(), 0u) << shard.id;  // every shard was touched
  }
}

TEST(LogCommitPathTest, OneFailedFlushAmongManyPoisonsAndNothingBecomesVisible) {
  constexpr uint32_t kShards = 32;
  FaultStore env;
  env.fs.SetSyncLatency(std::chrono::milliseconds(1));
  env.Open();
  auto stream = *env.store->CreateStream("wide", Unordered(kShards));
  ASSERT_TRUE(stream->AppendTransaction(Records("before", 64), PgPosition(1)).ok());
  // The flush of one shard file fails while the others run in parallel helpers.
  env.fs.InjectFault(io::FaultOperation::kSync, IoError("EIO (simulated)"), "shardId-000000000017");
  auto failed = stream->AppendTransaction(Records("lost", 256), PgPosition(2));
  ASSERT_EQ(failed.status().code(), ErrorCode::kIoError);
  EXPECT_NE(failed.status().message().find("shardId-000000000017"), std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(TotalRecords(*stream), 64u);  // the commit record was never written
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(1));
  // Poisoned: both commit paths refuse until the store is reopened.
  EXPECT_EQ(stream->AppendTransaction(Records("x", 1), PgPosition(3)).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(stream->BeginTransaction().status().code(), ErrorCode::kFailedPrecondition);
  stream.reset();
  env.Open();
  stream = env.Get("wide");
  EXPECT_EQ(TotalRecords(*stream), 64u);
  auto again = stream->AppendTransaction(Records("lost", 256), PgPosition(2));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(TotalRecords(*stream), 64u + 256u);
}

INSTANTIATE_TEST_SUITE_P(Bounds, LogSyncFanOutTest,
                         ::testing::Values(FanOutCase{4, false}, FanOutCase{4, true},
                                           FanOutCase{1, false}, FanOutCase{2, true}),
                         [](const ::testing::TestParamInfo<FanOutCase>& param_info) {
                           return std::string(param_info.param.parted ? "Parted" : "Batch") +
                                  "Max" + std::to_string(param_info.param.max_parallel_syncs);
                         });

}  // namespace
}  // namespace eddy::log
