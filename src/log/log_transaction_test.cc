// Transactions appended in parts (Stream::BeginTransaction / TransactionAppender).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "log/chunking.h"
#include "log/log_store.h"
#include "log/log_test_util.h"
#include "log/segment_format.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::Payloads;
using testing::PgPosition;
using testing::ReadAll;
using testing::Unordered;

using Clock = std::chrono::steady_clock;

// Every payload in every shard, sorted (shard-independent comparison).
std::multiset<std::string> AllPayloads(Stream& stream) {
  std::multiset<std::string> all;
  for (const auto& shard : stream.Describe().shards) {
    for (auto& payload : Payloads(ReadAll(stream, shard.index))) all.insert(payload);
  }
  return all;
}

// Files (name -> size) under the stream directory, recursively one level (shard dirs).
std::map<std::string, uint64_t> Files(io::FileSystem& fs, const std::string& stream_dir) {
  std::map<std::string, uint64_t> files;
  auto names = fs.List(stream_dir);
  if (!names.ok()) return files;
  for (const auto& name : *names) {
    std::string path = io::JoinPath(stream_dir, name);
    auto is_dir = fs.IsDirectory(path);
    if (is_dir.ok() && *is_dir) {
      auto inner_names = fs.List(path);
      if (!inner_names.ok()) continue;
      std::vector<std::string> inners = std::move(*inner_names);
      for (const auto& inner : inners) {
        if (inner.size() > 4 && inner.substr(inner.size() - 4) == ".idx") continue;  // a cache
        std::string file = io::JoinPath(path, inner);
        files[file] = *fs.FileSize(file);
      }
    } else {
      files[path] = *fs.FileSize(path);
    }
  }
  return files;
}

std::vector<AppendRecord> Part(const std::string& tag, int count, size_t payload_bytes = 0) {
  std::vector<AppendRecord> records;
  for (int i = 0; i < count; ++i) {
    std::string payload = tag + "-" + std::to_string(i);
    if (payload.size() < payload_bytes) payload.resize(payload_bytes, 'p');
    records.push_back(MakeRecord("key" + std::to_string(i % 17), payload));
  }
  return records;
}

std::multiset<std::string> PayloadSet(const std::vector<std::vector<AppendRecord>>& parts) {
  std::multiset<std::string> all;
  for (const auto& part : parts) {
    for (const auto& record : part) all.insert(record.payload);
  }
  return all;
}

TEST(LogTransactionTest, PartsAcrossShardsBecomeVisibleAllAtOnce) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(3));
  ASSERT_TRUE(stream->AppendTransaction(Part("before", 6), PgPosition(1)).ok());
  LogStoreOptions read_only = env.options;
  read_only.read_only = true;
  auto other = *LogStore::Open("/data", read_only);
  auto view = *other->GetStream("s");
  auto baseline = AllPayloads(*stream);
  auto described = stream->Describe();

  auto appender = stream->BeginTransaction();
  ASSERT_TRUE(appender.ok()) << appender.status().ToString();
  std::vector<std::vector<AppendRecord>> parts = {Part("a", 20), Part("b", 1), Part("c", 33)};
  for (const auto& part : parts) {
    ASSERT_TRUE((*appender)->Append(part).ok());
    // Nothing is visible, here or in another process.
    EXPECT_EQ(AllPayloads(*stream), baseline);
    EXPECT_EQ(AllPayloads(*view), baseline);
    EXPECT_EQ(view->HighestDurablePosition(), PgPosition(1));
    auto now = stream->Describe();
    for (size_t i = 0; i < now.shards.size(); ++i) {
      EXPECT_EQ(now.shards[i].last_sequence, described.shards[i].last_sequence);
      EXPECT_EQ(now.shards[i].bytes, described.shards[i].bytes);
    }
  }
  auto committed = (*appender)->Commit(PgPosition(2));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_FALSE(committed->duplicate);
  EXPECT_EQ(committed->record_count, 54u);
  EXPECT_EQ(committed->first_sequence.value(), 7u);
  EXPECT_EQ(committed->last_sequence.value(), 60u);
  auto expected = baseline;
  for (auto& payload : PayloadSet(parts)) expected.insert(payload);
  EXPECT_EQ(AllPayloads(*stream), expected);
  EXPECT_EQ(AllPayloads(*view), expected);
  EXPECT_EQ(view->HighestDurablePosition(), PgPosition(2));
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(2));
  // Consecutive numbers per shard in input order across parts; every shard got some.
  std::map<std::string, int> order;  // payload -> input index
  int n = 0;
  for (const auto& part : parts) {
    for (const auto& record : part) order[record.payload] = n++;
  }
  for (uint32_t shard = 0; shard < 3; ++shard) {
    auto records = ReadAll(*stream, shard);
    int last_index = -1;
    uint64_t last_sequence = 0;
    size_t in_transaction = 0;
    for (const auto& record : records) {
      auto it = order.find(record.payload);
      if (it == order.end()) continue;
      ++in_transaction;
      EXPECT_GT(it->second, last_index);
      EXPECT_GT(record.sequence.value(), last_sequence);
      last_index = it->second;
      last_sequence = record.sequence.value();
    }
    EXPECT_GT(in_transaction, 0u) << "shard " << shard;
  }
  // The appender is finished.
  EXPECT_EQ((*appender)->Append(Part("late", 1)).code(), ErrorCode::kFailedPrecondition);
  // Survives a reopen.
  appender->reset();
  stream.reset();
  view.reset();
  other.reset();
  env.CrashAndReopen();
  EXPECT_EQ(AllPayloads(*env.Get("s")), expected);
}

TEST(LogTransactionTest, WaitingReaderSeesNothingUntilCommit) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  auto reader = *stream->OpenReader(0, StartPosition::Latest());
  auto probe = *stream->OpenReader(0, StartPosition::Latest());
  std::vector<std::string> seen;
  std::thread waiter([&] {
    ASSERT_TRUE(reader->WaitForData(Clock::now() + std::chrono::seconds(60)).ok());
    auto batch = reader->Read(ReadLimits{});
    ASSERT_TRUE(batch.ok());
    seen = Payloads(batch->records);
  });
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("x", 5)).ok());
  ASSERT_TRUE(appender->Append(Part("y", 5)).ok());
  // A wait with a deadline finds nothing while the parts are unpublished.
  ASSERT_TRUE(probe->WaitForData(Clock::now() + std::chrono::milliseconds(100)).ok());
  EXPECT_TRUE(probe->Read(ReadLimits{})->records.empty());
  ASSERT_TRUE(appender->Commit(PgPosition(7)).ok());
  waiter.join();
  // The waiter woke on the commit and read the whole transaction in one batch.
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "x-0");
  EXPECT_EQ(seen.back(), "y-4");
}

TEST(LogTransactionTest, AbortAndDestroyLeaveTheStreamAsBefore) {
  FaultStore env;
  env.options.segment_bytes = 2048;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  ASSERT_TRUE(stream->AppendTransaction(Part("base", 10), PgPosition(1)).ok());
  const std::string dir = "/data/streams/s";
  auto files = Files(env.fs, dir);
  auto baseline = AllPayloads(*stream);
  {
    auto appender = *stream->BeginTransaction();
    ASSERT_TRUE(appender->Append(Part("gone", 50, 100)).ok());  // rolls segments
    EXPECT_NE(Files(env.fs, dir), files);
    ASSERT_TRUE(appender->Abort().ok());
    EXPECT_TRUE(appender->Abort().ok());  // idempotent
    EXPECT_EQ(appender->Commit(PgPosition(5)).status().code(), ErrorCode::kFailedPrecondition);
  }
  EXPECT_EQ(Files(env.fs, dir), files);
  EXPECT_EQ(AllPayloads(*stream), baseline);
  {
    auto appender = *stream->BeginTransaction();
    ASSERT_TRUE(appender->Append(Part("dropped", 50, 100)).ok());
  }  // destroyed without Commit: aborted
  EXPECT_EQ(Files(env.fs, dir), files);
  EXPECT_EQ(AllPayloads(*stream), baseline);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(1));
  // Later appends work and numbering continues where the committed log ended.
  auto appended = stream->AppendTransaction(Part("after", 3), PgPosition(2));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->records.front().sequence.value(), 11u);
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("next", 4)).ok());
  auto committed = appender->Commit(PgPosition(3));
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->first_sequence.value(), 14u);
  auto expected = baseline;
  for (auto& p : PayloadSet({Part("after", 3), Part("next", 4)})) expected.insert(p);
  EXPECT_EQ(AllPayloads(*stream), expected);
  stream.reset();
  appender.reset();
  env.CrashAndReopen();
  EXPECT_EQ(AllPayloads(*env.Get("s")), expected);
}

// The process dies with the appender open: its destructor never runs a rollback (simulated by
// failing every truncate and remove), then the machine loses what was not fsync'd.
void CrashWithOpenAppender(FaultStore& env, std::unique_ptr<TransactionAppender> appender) {
  env.fs.InjectFault(io::FaultOperation::kTruncate, IoError("process died"), "", 0, UINT32_MAX);
  env.fs.InjectFault(io::FaultOperation::kRemove, IoError("process died"), "", 0, UINT32_MAX);
  appender.reset();
  env.CrashAndReopen();
}

TEST(LogTransactionTest, CrashBeforeCommitLeavesNothingEvenAfterSegmentRolls) {
  for (bool rolls : {false, true}) {
    SCOPED_TRACE(rolls ? "with segment rolls (parts partly fsync'd)" : "without rolls");
    FaultStore env;
    env.options.segment_bytes = rolls ? 2048 : 64u << 20;
    env.Open();
    auto stream = *env.store->CreateStream("s", Unordered(2));
    ASSERT_TRUE(stream->AppendTransaction(Part("base", 10), PgPosition(1)).ok());
    auto baseline = AllPayloads(*stream);
    auto files = Files(env.fs, "/data/streams/s");
    auto appender = *stream->BeginTransaction();
    for (int p = 0; p < 4; ++p) {
      ASSERT_TRUE(appender->Append(Part("p" + std::to_string(p), 30, 120)).ok());
    }
    if (rolls) {
      // Rolled segments (and the bytes of the full ones) are durable before the crash.
      EXPECT_GT(Files(env.fs, "/data/streams/s").size(), files.size());
    }
    stream.reset();
    CrashWithOpenAppender(env, std::move(appender));
    stream = env.Get("s");
    EXPECT_EQ(AllPayloads(*stream), baseline);
    EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(1));
    EXPECT_EQ(Files(env.fs, "/data/streams/s"), files);  // tails truncated, segments removed
    // The stream works and numbers from the committed end.
    auto appended = stream->Append(MakeRecord("k", "after"));
    ASSERT_TRUE(appended.ok());
    EXPECT_EQ(appended->sequence.value(), 11u);
  }
}

TEST(LogTransactionTest, CrashAfterCommitKeepsEverything) {
  FaultStore env;
  env.options.segment_bytes = 2048;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(3));
  auto appender = *stream->BeginTransaction();
  std::vector<std::vector<AppendRecord>> parts;
  for (int p = 0; p < 5; ++p) {
    parts.push_back(Part("p" + std::to_string(p), 40, 90));
    ASSERT_TRUE(appender->Append(parts.back()).ok());
  }
  ASSERT_TRUE(appender->Commit(PgPosition(9)).ok());
  appender.reset();
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(AllPayloads(*stream), PayloadSet(parts));
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(9));
  // Sequence numbers strictly increase per shard across the rolled segments.
  for (uint32_t shard = 0; shard < 3; ++shard) {
    uint64_t last = 0;
    for (const auto& record : ReadAll(*stream, shard)) {
      EXPECT_GT(record.sequence.value(), last);
      last = record.sequence.value();
    }
  }
}

TEST(LogTransactionTest, DuplicateEndPositionDiscardsTheParts) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  ASSERT_TRUE(stream->AppendTransaction(Part("first", 4), PgPosition(10)).ok());
  auto files = Files(env.fs, "/data/streams/s");
  auto baseline = AllPayloads(*stream);
  for (uint64_t end : {10u, 5u}) {
    auto appender = *stream->BeginTransaction();
    ASSERT_TRUE(appender->Append(Part("again", 4)).ok());
    auto result = appender->Commit(PgPosition(end));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->duplicate);
    EXPECT_EQ(result->record_count, 0u);
    EXPECT_EQ(Files(env.fs, "/data/streams/s"), files);
    EXPECT_EQ(AllPayloads(*stream), baseline);
  }
  // A different source kind is refused and discarded.
  {
    auto appender = *stream->BeginTransaction();
    ASSERT_TRUE(appender->Append(Part("mysql", 2)).ok());
    MysqlPosition mysql;
    mysql.end.file = "binlog.000001";
    mysql.end.offset = 4;
    EXPECT_EQ(appender->Commit(SourcePosition(mysql)).status().code(),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(Files(env.fs, "/data/streams/s"), files);
  }
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("new", 4)).ok());
  auto result = appender->Commit(PgPosition(11));
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->duplicate);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(11));
  // An empty position disables the check and keeps the high-water mark.
  appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("unpositioned", 1)).ok());
  ASSERT_TRUE(appender->Commit(SourcePosition()).ok());
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(11));
  EXPECT_EQ(AllPayloads(*stream).size(), 4u + 4u + 1u);
}

TEST(LogTransactionTest, OtherAppendersWaitUntilTheTransactionEnds) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("tx", 10)).ok());

  std::mutex mu;
  std::condition_variable cv;
  bool append_done = false;
  bool begin_done = false;
  uint64_t other_sequence = 0;
  std::thread plain([&] {
    auto appended = stream->Append(MakeRecord("key1", "plain"));
    std::lock_guard lock(mu);
    if (appended.ok()) other_sequence = appended->sequence.value();
    append_done = true;
    cv.notify_all();
  });
  std::thread second([&] {
    auto next = stream->BeginTransaction();
    if (next.ok()) {
      (*next)->Append(Part("second", 2)).IgnoreError();
      (*next)->Commit(PgPosition(30)).status().IgnoreError();
    }
    std::lock_guard lock(mu);
    begin_done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    EXPECT_FALSE(cv.wait_until(lock, Clock::now() + std::chrono::milliseconds(200),
                               [&] { return append_done || begin_done; }));
  }
  // From the thread driving the appender, appends fail at once instead of waiting for
  // themselves; the appender is unaffected.
  EXPECT_EQ(stream->Append(MakeRecord("k", "self")).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(stream->AppendTransaction(Part("self", 1), PgPosition(15)).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(stream->BeginTransaction().status().code(), ErrorCode::kFailedPrecondition);
  // Resharding is refused and retention is deferred while the appender is open.
  EXPECT_EQ(stream->SplitShard(0, HashKey{0, 1}).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(stream->MergeShards(0, 1).status().code(), ErrorCode::kFailedPrecondition);
  auto retention = stream->EnforceRetention();
  ASSERT_TRUE(retention.ok());
  EXPECT_EQ(*retention, 0u);
  auto committed = appender->Commit(PgPosition(20));
  ASSERT_TRUE(committed.ok());
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_until(lock, Clock::now() + std::chrono::seconds(60),
                              [&] { return append_done && begin_done; }));
  }
  plain.join();
  second.join();
  EXPECT_GT(other_sequence, committed->last_sequence.value());
  EXPECT_EQ(AllPayloads(*stream).size(), 10u + 1u + 2u);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(30));
  // Resharding works again.
  EXPECT_TRUE(stream->SplitShard(0, HashKey{0, 1}).ok());
}

TEST(LogTransactionTest, OversizedRecordsAreChunkedWithinParts) {
  FaultStore env;
  env.Open();
  StreamOptions options = Unordered(1);
  options.max_record_bytes = 4096;
  auto stream = *env.store->CreateStream("s", options);
  std::string big(20'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 13 + i / 100);
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append({MakeRecord("k", "small1"), MakeRecord("k", big)}).ok());
  ASSERT_TRUE(appender->Append({MakeRecord("k", big + "2"), MakeRecord("k", "small2")}).ok());
  auto committed = appender->Commit(PgPosition(1));
  ASSERT_TRUE(committed.ok());
  auto raw = ReadAll(*stream, 0);
  EXPECT_EQ(committed->record_count, raw.size());
  EXPECT_GT(raw.size(), 4u);
  for (const auto& record : raw) {
    EXPECT_LE(record.partition_key.size() + record.payload.size(), options.max_record_bytes);
  }
  Reassembler reassembler;
  std::vector<std::string> whole;
  for (auto& record : raw) {
    auto out = reassembler.Add(std::move(record));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    if (*out) whole.push_back((*out)->payload);
  }
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[0], "small1");
  EXPECT_TRUE(whole[1] == big);
  EXPECT_TRUE(whole[2] == big + "2");
  EXPECT_EQ(whole[3], "small2");
  // An invalid record aborts the appender; later calls report that error.
  auto bad = *stream->BeginTransaction();
  ASSERT_TRUE(bad->Append(Part("ok", 3)).ok());
  EXPECT_EQ(bad->Append({MakeRecord("", "no key")}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad->Commit(PgPosition(2)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadAll(*stream, 0).size(), raw.size());
  EXPECT_TRUE(stream->Append(MakeRecord("k", "still works")).ok());
}

TEST(LogTransactionTest, CommittedRollsAreReadableInProcessFromAnotherProcessAndAfterReopen) {
  FaultStore env;
  env.options.segment_bytes = 4096;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  ASSERT_TRUE(stream->Append(MakeRecord("k", "first")).ok());
  LogStoreOptions read_only = env.options;
  read_only.read_only = true;
  auto other = *LogStore::Open("/data", read_only);
  auto view = *other->GetStream("s");
  auto reader = *view->OpenReader(0, StartPosition::TrimHorizon());
  ASSERT_EQ(reader->Read(ReadLimits{})->records.size(), 1u);
  auto appender = *stream->BeginTransaction();
  std::vector<std::vector<AppendRecord>> parts;
  for (int p = 0; p < 3; ++p) {
    parts.push_back(Part("r" + std::to_string(p), 100, 200));  // ~20 KB: several segments
    ASSERT_TRUE(appender->Append(parts.back()).ok());
    EXPECT_TRUE(reader->Read(ReadLimits{})->records.empty());
  }
  ASSERT_TRUE(appender->Commit(PgPosition(3)).ok());
  EXPECT_GT(stream->Describe().shards[0].bytes, 3u * 4096);
  auto expected = PayloadSet(parts);
  expected.insert("first");
  EXPECT_EQ(AllPayloads(*stream), expected);
  std::multiset<std::string> followed = {"first"};
  while (true) {
    auto batch = reader->Read(ReadLimits{});
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (batch->records.empty()) break;
    for (auto& p : Payloads(batch->records)) followed.insert(p);
  }
  EXPECT_EQ(followed, expected);
  // Appends after the transaction continue in its last segment.
  ASSERT_TRUE(stream->Append(MakeRecord("k", "last")).ok());
  expected.insert("last");
  reader.reset();
  view.reset();
  other.reset();
  appender.reset();
  stream.reset();
  env.Open();  // plain reopen: sealed segments come from their index files
  EXPECT_EQ(AllPayloads(*env.Get("s")), expected);
}

TEST(LogTransactionTest, NoSpaceDuringAPartAbortsAndTheStreamKeepsWorking) {
  FaultStore env;
  env.options.segment_bytes = 4096;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  ASSERT_TRUE(stream->AppendTransaction(Part("base", 10), PgPosition(1)).ok());
  auto files = Files(env.fs, "/data/streams/s");
  auto baseline = AllPayloads(*stream);
  uint64_t used = env.fs.BytesUsed();
  env.fs.SetCapacity(used + 6000);
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("fits", 5)).ok());
  Status failure = appender->Append(Part("too-big", 200, 100));
  EXPECT_EQ(failure.code(), ErrorCode::kNoSpace) << failure.ToString();
  EXPECT_EQ(appender->Append(Part("more", 1)).code(), ErrorCode::kNoSpace);
  EXPECT_EQ(appender->Commit(PgPosition(2)).status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(Files(env.fs, "/data/streams/s"), files);
  EXPECT_EQ(env.fs.BytesUsed(), used);
  EXPECT_EQ(AllPayloads(*stream), baseline);
  // Not poisoned: a small append fits without freeing space, and everything works once it
  // returns.
  ASSERT_TRUE(stream->Append(MakeRecord("k", "small")).ok());
  env.fs.SetCapacity(0);
  auto again = *stream->BeginTransaction();
  ASSERT_TRUE(again->Append(Part("later", 200, 100)).ok());
  ASSERT_TRUE(again->Commit(PgPosition(2)).ok());
  EXPECT_EQ(AllPayloads(*stream).size(), 10u + 1u + 200u);
}

TEST(LogTransactionTest, FailedCommitRecordDiscardsTheTransaction) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  ASSERT_TRUE(stream->AppendTransaction(Part("base", 4), PgPosition(1)).ok());
  auto files = Files(env.fs, "/data/streams/s");
  auto appender = *stream->BeginTransaction();
  ASSERT_TRUE(appender->Append(Part("x", 8)).ok());
  env.fs.InjectFault(io::FaultOperation::kAppend, NoSpace("ENOSPC (simulated)"), "commit-");
  EXPECT_EQ(appender->Commit(PgPosition(2)).status().code(), ErrorCode::kNoSpace);
  EXPECT_EQ(Files(env.fs, "/data/streams/s"), files);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(1));
  ASSERT_TRUE(stream->AppendTransaction(Part("y", 2), PgPosition(2)).ok());
  EXPECT_EQ(AllPayloads(*stream).size(), 6u);
}

TEST(LogTransactionTest, CrashAtEverySyncPointIsAllOrNothing) {
  // Fail every fsync from the k-th on (a dying disk), then crash: the transaction is either
  // wholly there (only if Commit returned OK... or its commit record made it) or wholly gone.
  int commits = 0;
  int failures = 0;
  for (uint32_t skip = 0; skip < 12; ++skip) {
    SCOPED_TRACE("skip " + std::to_string(skip));
    FaultStore env;
    env.options.segment_bytes = 2048;
    env.Open();
    auto stream = *env.store->CreateStream("s", Unordered(2));
    ASSERT_TRUE(stream->AppendTransaction(Part("base", 6), PgPosition(1)).ok());
    auto appender = *stream->BeginTransaction();
    env.fs.InjectFault(io::FaultOperation::kSync, IoError("EIO (simulated)"), "", skip,
                       UINT32_MAX);
    std::vector<std::vector<AppendRecord>> parts;
    bool ok = true;
    for (int p = 0; p < 3 && ok; ++p) {
      parts.push_back(Part("p" + std::to_string(p), 20, 100));
      ok = appender->Append(parts.back()).ok();
    }
    bool committed = ok && appender->Commit(PgPosition(2)).ok();
    ++(committed ? commits : failures);
    if (!ok || !committed) {
      // The disk keeps failing: later appends fail too (poisoned by a failed fsync of data,
      // or failing their own fsync).
      auto code = stream->Append(MakeRecord("k", "x")).status().code();
      EXPECT_TRUE(code == ErrorCode::kFailedPrecondition || code == ErrorCode::kIoError)
          << static_cast<int>(code);
    }
    appender.reset();
    stream.reset();
    env.CrashAndReopen();
    stream = env.Get("s");
    auto all = AllPayloads(*stream);
    auto base = PayloadSet({Part("base", 6)});
    auto whole = base;
    for (auto& p : PayloadSet(parts)) whole.insert(p);
    if (committed) {
      EXPECT_EQ(all, whole);
      EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(2));
    } else {
      EXPECT_TRUE(all == base || (ok && all == whole)) << all.size();
      EXPECT_EQ(stream->HighestDurablePosition(), all == base ? PgPosition(1) : PgPosition(2));
    }
    ASSERT_TRUE(stream->Append(MakeRecord("k", "after")).ok());
  }
  // The sweep covers failures during parts (segment rolls), at commit, and none at all.
  EXPECT_GT(failures, 3);
  EXPECT_GT(commits, 0);
}

// AppendReusing writes the part like Append and hands the records back with their memory kept
// (a snapshot refills them part after part), across segment rolls whose full segments flush in
// the background until the commit; a 1-shard stream and a 3-shard stream read back the same.
TEST(LogTransactionTest, AppendReusingHandsTheRecordsBackAndWritesTheSame) {
  for (uint32_t shards : {1u, 3u}) {
    SCOPED_TRACE(std::to_string(shards) + " shards");
    FaultStore env;
    env.options.segment_bytes = 2048;
    env.Open();
    auto stream = *env.store->CreateStream("s", Unordered(shards));
    auto appender = *stream->BeginTransaction();
    std::vector<std::vector<AppendRecord>> parts;
    std::vector<AppendRecord> records;
    for (int p = 0; p < 4; ++p) {
      parts.push_back(Part("p" + std::to_string(p), 25, 100));
      records = parts.back();
      ASSERT_TRUE(appender->AppendReusing(&records).ok());
      ASSERT_EQ(records.size(), parts.back().size());
      for (const AppendRecord& record : records) EXPECT_GE(record.payload.capacity(), 100u);
    }
    EXPECT_TRUE(AllPayloads(*stream).empty());  // nothing visible before the commit
    ASSERT_TRUE(appender->Commit(PgPosition(3)).ok());
    appender.reset();
    EXPECT_EQ(AllPayloads(*stream), PayloadSet(parts));
    stream.reset();
    env.CrashAndReopen();
    stream = env.Get("s");
    EXPECT_EQ(AllPayloads(*stream), PayloadSet(parts));
    EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(3));
  }
}

TEST(LogTransactionTest, ReadOnlyStoreCannotBegin) {
  FaultStore env;
  env.Open();
  ASSERT_TRUE(env.store->CreateStream("s", Unordered(1)).ok());
  LogStoreOptions read_only = env.options;
  read_only.read_only = true;
  auto other = *LogStore::Open("/data", read_only);
  auto view = *other->GetStream("s");
  EXPECT_EQ(view->BeginTransaction().status().code(), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace eddy::log
