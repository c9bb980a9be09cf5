// What consumers of the log rely on beyond reading one shard: retention holds for registered
// consumers (RetentionHolds), and the stream-level wait for new commits (Stream::WaitForCommit)
// in process and in a read-only store following a writer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "log/log_store.h"
#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::PgPosition;
using testing::ReadAll;

constexpr int64_t kHour = 3600LL * 1'000'000'000;

StreamOptions Unordered(uint32_t shards) {
  StreamOptions options;
  options.shard_count = shards;
  options.retention_nanos = kHour;
  return options;
}

// A key routed to `shard` of a stream with `shards` even shards.
std::string KeyFor(Stream& stream, uint32_t shard) {
  const HashKeyRange range = stream.Describe().shards.at(shard).hash_range;
  for (int i = 0;; ++i) {
    std::string key = "key" + std::to_string(i);
    if (range.Contains(HashKey::FromPartitionKey(key))) return key;
  }
}

TEST(LogConsumerTest, RetentionKeepsWhatARegisteredConsumerHasNotDelivered) {
  FaultStore env;
  env.options.segment_bytes = 1024;  // about 8 records of 100 bytes per segment
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  const std::string held_key = KeyFor(*stream, 0);
  const std::string free_key = KeyFor(*stream, 1);
  std::vector<uint64_t> held_sequences;
  for (int i = 0; i < 40; ++i) {
    auto held = stream->Append(MakeRecord(held_key, std::string(100, 'h')));
    ASSERT_TRUE(held.ok());
    held_sequences.push_back(held->sequence.value());
    ASSERT_TRUE(stream->Append(MakeRecord(free_key, std::string(100, 'f'))).ok());
  }
  env.clock.Advance(2 * kHour);  // everything is past retention

  // The consumer of shard 0 has delivered the first 20 records: the segment holding the 21st
  // and every later one stay, whatever their age; shard 1 is not held and is dropped.
  RetentionHolds holds;
  const uint64_t keep_from = held_sequences[20];
  holds.keep_from[0] = SequenceNumber(keep_from);
  auto dropped = stream->EnforceRetention(holds);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_GT(*dropped, 0u);
  auto shard0 = *stream->DescribeShard(0);
  EXPECT_GT(shard0.trim_horizon.value(), held_sequences.front());  // older segments went
  EXPECT_LE(shard0.trim_horizon.value(), keep_from);               // the held one did not
  auto undelivered = ReadAll(*stream, 0, StartPosition::AtSequence(SequenceNumber(keep_from)));
  ASSERT_EQ(undelivered.size(), 20u);
  EXPECT_EQ(undelivered.front().sequence.value(), keep_from);
  EXPECT_EQ(undelivered.back().sequence.value(), held_sequences.back());
  EXPECT_TRUE(ReadAll(*stream, 1).empty());
  EXPECT_EQ((*stream->DescribeShard(1)).trim_horizon.value(),
            (*stream->DescribeShard(1)).last_sequence.value() + 1);

  // The hold survives nothing by itself: it is the caller's to pass on every call. Once the
  // consumer has delivered everything, the rest goes (the active segment is rolled away).
  holds.keep_from[0] = SequenceNumber(held_sequences.back() + 1);
  ASSERT_TRUE(stream->EnforceRetention(holds).ok());
  EXPECT_TRUE(ReadAll(*stream, 0).empty());
  EXPECT_EQ(
      stream->OpenReader(0, StartPosition::AtSequence(SequenceNumber(keep_from))).status().code(),
      ErrorCode::kTrimmed);

  // What a hold kept is durable like any other data: it survives a crash.
  ASSERT_TRUE(stream->Append(MakeRecord(held_key, "fresh")).ok());
  env.clock.Advance(2 * kHour);
  holds.keep_from[0] = SequenceNumber(held_sequences.back() + 1);
  ASSERT_TRUE(stream->EnforceRetention(holds).ok());
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  auto kept = ReadAll(*stream, 0);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.front().payload, "fresh");
}

// Runs `wait` on another thread once it has started, runs `act`, and returns how long the wait
// took after `act` began (or the full time when `act` did not end it).
template <typename Wait, typename Act>
std::chrono::steady_clock::duration WaitWhile(Wait wait, Act act) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  std::chrono::steady_clock::time_point ended;
  std::thread waiter([&] {
    {
      std::lock_guard lock(mu);
      started = true;
    }
    cv.notify_all();
    wait();
    ended = std::chrono::steady_clock::now();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  const auto acted = std::chrono::steady_clock::now();
  act();
  waiter.join();
  return ended - acted;
}

TEST(LogConsumerTest, WaitForCommitWakesOnCommitsOptionChangesAndDeletion) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(4));
  uint64_t seen = stream->CommitNumber();
  // Nothing new: the wait honours its deadline.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->WaitForCommit(seen, start + std::chrono::milliseconds(50)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(stream->CommitNumber(), seen);

  const auto deadline = std::chrono::seconds(30);
  auto wait = [&] {
    ASSERT_TRUE(stream->WaitForCommit(seen, std::chrono::steady_clock::now() + deadline).ok());
  };
  // A commit in any shard wakes a stream-level waiter.
  auto took = WaitWhile(wait, [&] {
    ASSERT_TRUE(stream->AppendTransaction({MakeRecord("a", "1")}, PgPosition(1)).ok());
  });
  EXPECT_LT(took, deadline / 2);
  EXPECT_GT(stream->CommitNumber(), seen);
  // A commit number already past `seen` returns at once.
  ASSERT_TRUE(stream->WaitForCommit(seen, std::chrono::steady_clock::now() + deadline).ok());

  seen = stream->CommitNumber();
  took = WaitWhile(wait, [&] { ASSERT_TRUE(stream->UpdateOptions(2 * kHour, 0, {}).ok()); });
  EXPECT_LT(took, deadline / 2);
  EXPECT_GT(stream->CommitNumber(), seen);

  seen = stream->CommitNumber();
  took = WaitWhile(wait, [&] { ASSERT_TRUE(stream->SplitShard(0, HashKey{0, 1 << 20}).ok()); });
  EXPECT_LT(took, deadline / 2);

  seen = stream->CommitNumber();
  took = WaitWhile(wait, [&] { ASSERT_TRUE(env.store->DeleteStream("s").ok()); });
  EXPECT_LT(took, deadline / 2);
}

// A read-only store follows the writer through a directory watch: its periodic re-check is set
// far beyond the deadline, so a wait that ends early was woken by the watch.
void ExpectReadOnlyWaitWokenByWriter(LogStore& writer, const std::string& path,
                                     LogStoreOptions read_only) {
  read_only.read_only = true;
  read_only.follow_recheck_millis = 600'000;
  auto stream = *writer.CreateStream("s", Unordered(2));
  auto view = LogStore::Open(path, read_only);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  auto follower = *(*view)->GetStream("s");
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t seen = follower->CommitNumber();
    const auto deadline = std::chrono::seconds(30);
    auto took = WaitWhile(
        [&] {
          ASSERT_TRUE(
              follower->WaitForCommit(seen, std::chrono::steady_clock::now() + deadline).ok());
        },
        [&] {
          ASSERT_TRUE(stream
                          ->AppendTransaction({MakeRecord("k" + std::to_string(round), "v")},
                                              PgPosition(round + 1))
                          .ok());
        });
    EXPECT_LT(took, deadline / 2);
    EXPECT_GT(follower->CommitNumber(), seen);
    EXPECT_EQ(follower->HighestDurablePosition(), PgPosition(round + 1));
  }
}

TEST(LogConsumerTest, ReadOnlyWaitForCommitIsWokenByTheWriterInMemory) {
  FaultStore env;
  env.Open();
  ExpectReadOnlyWaitWokenByWriter(*env.store, "/data", env.options);
}

TEST(LogConsumerTest, ReadOnlyWaitForCommitIsWokenByTheWriterThroughInotify) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("eddy_log_wait_commit_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = *LogStore::Open(dir);
    ExpectReadOnlyWaitWokenByWriter(*store, dir, LogStoreOptions{});
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::log
