#include "consume/stream_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "log/kinesis.h"
#include "log/log_test_util.h"

namespace eddy::consume {
namespace {

using log::testing::FaultStore;
using log::testing::MakeRecord;
using log::testing::PgPosition;

log::StreamOptions Unordered(uint32_t shards) {
  log::StreamOptions options;
  options.shard_count = shards;
  return options;
}

StreamReaderOptions Options(size_t max_records = 1000,
                            log::StartPosition start = log::StartPosition::TrimHorizon()) {
  StreamReaderOptions options;
  options.max_records = max_records;
  options.start = start;
  return options;
}

std::unique_ptr<StreamReader> OpenReader(std::shared_ptr<log::Stream> stream,
                                         StreamReaderOptions options,
                                         std::optional<Checkpoint> checkpoint = {}) {
  auto reader = StreamReader::Open(std::move(stream), options, std::move(checkpoint));
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  return reader.ok() ? std::move(*reader) : nullptr;
}

// Calls Next until it returns nothing; every record in the order returned.
std::vector<ReadRecord> Drain(StreamReader& reader) {
  std::vector<ReadRecord> all;
  while (true) {
    std::vector<ReadRecord> batch;
    Status status = reader.Next(&batch);
    EXPECT_TRUE(status.ok()) << status.ToString();
    if (!status.ok() || batch.empty()) return all;
    for (auto& record : batch) all.push_back(std::move(record));
  }
}

std::vector<std::string> Payloads(const std::vector<ReadRecord>& records) {
  std::vector<std::string> payloads;
  for (const auto& record : records) payloads.push_back(record.record.payload);
  return payloads;
}

void ExpectIncreasingSequences(const std::vector<ReadRecord>& records) {
  for (size_t i = 1; i < records.size(); ++i) {
    EXPECT_LT(records[i - 1].record.sequence, records[i].record.sequence) << "at " << i;
  }
}

// Per-key order: payloads are "<key>/<n>"; every key's n must come out 0, 1, 2, ... once each.
void ExpectPerKeyOrder(const std::vector<ReadRecord>& records,
                       const std::map<std::string, int>& expected_counts) {
  std::map<std::string, int> next;
  for (const auto& read : records) {
    const std::string& payload = read.record.payload;
    auto slash = payload.find('/');
    ASSERT_NE(slash, std::string::npos) << payload;
    std::string key = payload.substr(0, slash);
    int n = std::stoi(payload.substr(slash + 1));
    EXPECT_EQ(n, next[key]) << "key " << key << " out of order or repeated at sequence "
                            << read.record.sequence.value() << " in shard " << read.shard_index;
    next[key] = n + 1;
  }
  EXPECT_EQ(next, expected_counts);
}

TEST(StreamReaderTest, MergesShardsBySequenceAndResumesFromItsCheckpoint) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(4));
  std::set<std::string> written;
  int n = 0;
  for (int transaction = 0; transaction < 40; ++transaction) {
    std::vector<log::AppendRecord> records;
    for (int i = 0; i <= transaction % 7; ++i, ++n) {
      std::string payload = "p" + std::to_string(n);
      written.insert(payload);
      records.push_back(MakeRecord("key" + std::to_string(n % 13), payload));
    }
    ASSERT_TRUE(stream->AppendTransaction(std::move(records), PgPosition(transaction + 1)).ok());
  }
  ASSERT_GT(n, 100);

  // Half of it in small steps, then a checkpoint.
  auto reader = OpenReader(stream, Options(7));
  std::vector<ReadRecord> first;
  while (first.size() < static_cast<size_t>(n / 2)) {
    std::vector<ReadRecord> batch;
    ASSERT_TRUE(reader->Next(&batch).ok());
    ASSERT_FALSE(batch.empty());
    EXPECT_LE(batch.size(), 7u);
    for (auto& record : batch) first.push_back(std::move(record));
  }
  ExpectIncreasingSequences(first);
  Checkpoint checkpoint = reader->checkpoint();
  EXPECT_EQ(checkpoint.shards.size(), 4u);

  // The rest from the checkpoint, in a new reader: every record exactly once, in order.
  auto resumed = OpenReader(stream, Options(1000), checkpoint);
  std::vector<ReadRecord> rest = Drain(*resumed);
  std::vector<ReadRecord> all = first;
  for (auto& record : rest) all.push_back(record);
  ExpectIncreasingSequences(all);
  ASSERT_EQ(all.size(), static_cast<size_t>(n));
  std::vector<std::string> payloads = Payloads(all);
  std::set<std::string> read(payloads.begin(), payloads.end());
  EXPECT_EQ(read, written);
  // The original reader finds the same rest.
  EXPECT_EQ(Payloads(Drain(*reader)), Payloads(rest));
  // Caught up: every shard's checkpoint is past its last record; none is finished (all open).
  auto info = stream->Describe();
  Checkpoint end = resumed->checkpoint();
  for (const auto& shard : info.shards) {
    EXPECT_EQ(end.shards[shard.index].next.value(), shard.last_sequence.value() + 1);
    EXPECT_FALSE(end.shards[shard.index].finished);
  }
  EXPECT_EQ(end, reader->checkpoint());
  // Records carry their shard and its creation time; After() is just past them.
  for (const auto& record : all) {
    EXPECT_EQ(record.shard_creation_nanos, info.shards[record.shard_index].creation_nanos);
    EXPECT_EQ(StreamReader::After(record).next.value(), record.record.sequence.value() + 1);
  }
}

TEST(StreamReaderTest, SplitAndMergeWhileReadingKeepPerKeyOrder) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  std::map<std::string, int> counts;
  auto append_round = [&](int keys) {
    std::vector<log::AppendRecord> records;
    for (int k = 0; k < keys; ++k) {
      std::string key = "k" + std::to_string(k);
      records.push_back(MakeRecord(key, key + "/" + std::to_string(counts[key]++)));
    }
    ASSERT_TRUE(stream->AppendTransaction(std::move(records), {}).ok());
  };
  auto reader = OpenReader(stream, Options(5));
  std::vector<ReadRecord> all;
  auto read_once = [&] {
    std::vector<ReadRecord> batch;
    ASSERT_TRUE(reader->Next(&batch).ok());
    for (auto& record : batch) all.push_back(std::move(record));
  };

  for (int i = 0; i < 5; ++i) append_round(20);
  read_once();  // the parent is left half read
  log::HashKeyRange range0 = log::EvenHashKeyRange(0, 2);
  auto children = stream->SplitShard(0, log::HashKey{range0.end.high / 2, 0});
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  for (int i = 0; i < 5; ++i) append_round(20);
  read_once();
  auto merged = stream->MergeShards((*children)[0], (*children)[1]);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  for (int i = 0; i < 5; ++i) append_round(20);
  read_once();
  auto whole = stream->MergeShards(*merged, 1);  // the merged child and shard 1 are adjacent
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  for (int i = 0; i < 5; ++i) append_round(20);
  for (auto& record : Drain(*reader)) all.push_back(std::move(record));

  ExpectIncreasingSequences(all);
  ExpectPerKeyOrder(all, counts);
  // Every closed shard is finished in the checkpoint; the last child is open.
  Checkpoint checkpoint = reader->checkpoint();
  for (const auto& shard : stream->Describe().shards) {
    EXPECT_EQ(checkpoint.shards[shard.index].finished, !shard.open) << shard.id;
  }
  // A reader from the start of the same stream sees the same records in the same order.
  auto again = OpenReader(stream, Options(3));
  EXPECT_EQ(Payloads(Drain(*again)), Payloads(all));
}

TEST(StreamReaderTest, ConcurrentReshardsAndAppendsKeepPerKeyOrder) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  constexpr int kRounds = 300;
  constexpr int kKeys = 16;
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    std::map<std::string, int> counts;
    std::vector<uint32_t> children;
    for (int round = 0; round < kRounds; ++round) {
      std::vector<log::AppendRecord> records;
      for (int k = 0; k < kKeys; ++k) {
        std::string key = "k" + std::to_string(k);
        records.push_back(MakeRecord(key, key + "/" + std::to_string(counts[key]++)));
      }
      if (!stream->AppendTransaction(std::move(records), {}).ok()) writer_failed = true;
      if (round == 100) {
        log::HashKeyRange range0 = log::EvenHashKeyRange(0, 2);
        auto split = stream->SplitShard(0, log::HashKey{range0.end.high / 2, 0});
        if (split.ok())
          children = *split;
        else
          writer_failed = true;
      } else if (round == 200) {
        if (!stream->MergeShards(children[0], children[1]).ok()) writer_failed = true;
      }
    }
  });
  auto reader = OpenReader(stream, Options(37));
  std::vector<ReadRecord> all;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (all.size() < static_cast<size_t>(kRounds * kKeys) &&
         std::chrono::steady_clock::now() < deadline) {
    std::vector<ReadRecord> batch;
    ASSERT_TRUE(reader->Next(&batch).ok());
    if (batch.empty()) {
      ASSERT_TRUE(
          reader->WaitForCommit(std::chrono::steady_clock::now() + std::chrono::milliseconds(500))
              .ok());
    }
    for (auto& record : batch) all.push_back(std::move(record));
  }
  writer.join();
  ASSERT_FALSE(writer_failed.load());
  ExpectIncreasingSequences(all);
  std::map<std::string, int> expected;
  for (int k = 0; k < kKeys; ++k) expected["k" + std::to_string(k)] = kRounds;
  ExpectPerKeyOrder(all, expected);
}

TEST(StreamReaderTest, ChunkGroupCutAcrossNextCallsResumesAtItsHead) {
  FaultStore env;
  env.Open();
  log::StreamOptions options = Unordered(1);
  options.max_record_bytes = 1024;
  auto stream = *env.store->CreateStream("s", options);
  std::string big(3000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  auto appended = stream->AppendTransaction(
      {MakeRecord("k", "d1"), MakeRecord("k", big), MakeRecord("k", "d2")}, PgPosition(1));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  const SequenceNumber head = appended->records[1].sequence;
  const SequenceNumber after_group = appended->records[2].sequence;
  ASSERT_GT(after_group.value(), head.value() + 2);  // the group has fragments

  // One record per call and reads of 1500 bytes: the first shard read ends inside the group.
  StreamReaderOptions small = Options(1);
  small.max_bytes = 1500;
  auto reader = OpenReader(stream, small);
  std::vector<ReadRecord> batch;
  ASSERT_TRUE(reader->Next(&batch).ok());
  ASSERT_EQ(Payloads(batch), std::vector<std::string>{"d1"});
  Checkpoint checkpoint = reader->checkpoint();
  EXPECT_EQ(checkpoint.shards[0].next, head);  // not the fragment after the head
  EXPECT_FALSE(checkpoint.shards[0].finished);

  // Resumed at the head, the group comes out whole, with the head's sequence number.
  auto resumed = OpenReader(stream, Options(), checkpoint);
  auto rest = Drain(*resumed);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_TRUE(rest[0].record.payload == big);
  EXPECT_EQ(rest[0].record.kind, log::RecordKind::kData);
  EXPECT_EQ(rest[0].record.sequence, head);
  EXPECT_EQ(StreamReader::After(rest[0]).next, after_group);
  EXPECT_EQ(rest[1].record.payload, "d2");

  // The first reader goes on with the group, then d2.
  batch.clear();
  ASSERT_TRUE(reader->Next(&batch).ok());
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_TRUE(batch[0].record.payload == big);
  EXPECT_EQ(reader->checkpoint().shards[0].next, after_group);
  batch.clear();
  ASSERT_TRUE(reader->Next(&batch).ok());
  EXPECT_EQ(Payloads(batch), std::vector<std::string>{"d2"});
}

// NextViews hands out the records Next does, as views whose buffers the batch keeps alive:
// batches held across many later reads (their buffers must not be reused) and released on
// another thread still hold the right bytes, chunk groups included.
TEST(StreamReaderTest, ViewsStayValidWhileTheirBatchIsHeld) {
  FaultStore env;
  env.options.segment_bytes = 4096;
  env.Open();
  log::StreamOptions options = Unordered(3);
  options.max_record_bytes = 1024;
  auto stream = *env.store->CreateStream("s", options);
  for (int t = 0; t < 30; ++t) {
    std::vector<log::AppendRecord> records;
    for (int i = 0; i < 10; ++i) {
      const std::string key = "k" + std::to_string((t * 10 + i) % 23);
      std::string payload = key + "/" + std::to_string(t * 10 + i) + "/";
      payload.append(i == 3 ? 2500 : 60 + i * 7, static_cast<char>('a' + t % 26));
      records.push_back(MakeRecord(key, payload));
    }
    ASSERT_TRUE(stream->AppendTransaction(std::move(records), PgPosition(100 + t)).ok());
  }
  const std::vector<ReadRecord> expected = Drain(*OpenReader(stream, Options()));
  ASSERT_EQ(expected.size(), 300u);

  auto reader = OpenReader(stream, Options(7));
  std::vector<std::unique_ptr<StreamBatch>> held;
  while (true) {
    auto batch = std::make_unique<StreamBatch>();
    ASSERT_TRUE(reader->NextViews(batch.get()).ok());
    if (batch->records.empty()) break;
    held.push_back(std::move(batch));
  }
  size_t at = 0;
  for (const auto& batch : held) {
    for (const ReadRecordView& view : batch->records) {
      ASSERT_LT(at, expected.size());
      const ReadRecord& want = expected[at++];
      EXPECT_EQ(view.record.sequence, want.record.sequence);
      EXPECT_EQ(view.record.payload, want.record.payload);
      EXPECT_EQ(view.record.partition_key, want.record.partition_key);
      EXPECT_EQ(view.shard_index, want.shard_index);
      EXPECT_EQ(view.next_in_shard, want.next_in_shard);
      auto copy = view.ToReadRecord();
      ASSERT_TRUE(copy.ok()) << copy.status().ToString();
      EXPECT_EQ(copy->record.position, want.record.position);
    }
  }
  EXPECT_EQ(at, expected.size());
  // Released on another thread while this one reads on: the buffers go back to the pool.
  std::thread releaser([&] { held.clear(); });
  auto again = OpenReader(stream, Options(50));
  StreamBatch batch;
  size_t count = 0;
  do {
    ASSERT_TRUE(again->NextViews(&batch).ok());
    for (const ReadRecordView& view : batch.records) {
      ASSERT_LT(count, expected.size());
      EXPECT_EQ(view.record.payload, expected[count++].record.payload);
    }
  } while (!batch.records.empty());
  releaser.join();
  EXPECT_EQ(count, expected.size());
}

TEST(StreamReaderTest, StartPositions) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  std::vector<log::AppendedRecord> appended;
  auto append = [&](const std::string& payload) {
    auto result = stream->Append(MakeRecord("key-" + payload, payload));
    ASSERT_TRUE(result.ok());
    appended.push_back(*result);
  };
  for (int i = 0; i < 10; ++i) append("early" + std::to_string(i));
  env.clock.Advance(1'000'000'000);
  const int64_t later = env.clock.NowNanos();
  for (int i = 0; i < 10; ++i) append("late" + std::to_string(i));

  auto trim_horizon = OpenReader(stream, Options());
  auto latest = OpenReader(stream, Options(1000, log::StartPosition::Latest()));
  auto at_time = OpenReader(stream, Options(1000, log::StartPosition::AtTimestamp(later)));
  const SequenceNumber eleventh = appended[10].sequence;
  auto at_sequence = OpenReader(stream, Options(1000, log::StartPosition::AtSequence(eleventh)));
  auto after_sequence =
      OpenReader(stream, Options(1000, log::StartPosition::AfterSequence(eleventh)));

  EXPECT_EQ(Drain(*trim_horizon).size(), 20u);
  EXPECT_TRUE(Drain(*latest).empty());
  auto late = Drain(*at_time);
  ASSERT_EQ(late.size(), 10u);
  for (const auto& record : late) EXPECT_EQ(record.record.payload.rfind("late", 0), 0u);
  auto from_eleventh = Drain(*at_sequence);
  ASSERT_EQ(from_eleventh.size(), 10u);
  EXPECT_EQ(from_eleventh.front().record.sequence, eleventh);
  auto after_eleventh = Drain(*after_sequence);
  ASSERT_EQ(after_eleventh.size(), 9u);
  EXPECT_GT(after_eleventh.front().record.sequence, eleventh);

  // New records reach every reader, whatever it started at.
  append("new");
  for (auto* reader :
       {trim_horizon.get(), latest.get(), at_time.get(), at_sequence.get(), after_sequence.get()}) {
    EXPECT_EQ(Payloads(Drain(*reader)), std::vector<std::string>{"new"});
  }
}

TEST(StreamReaderTest, CheckpointBehindRetentionIsTrimmed) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  log::StreamOptions options = Unordered(1);
  options.retention_nanos = 3600LL * 1'000'000'000;
  auto stream = *env.store->CreateStream("s", options);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'o'))).ok());
  }
  auto reader = OpenReader(stream, Options(5));
  auto idle = OpenReader(stream, Options());
  std::vector<ReadRecord> batch;
  ASSERT_TRUE(reader->Next(&batch).ok());
  ASSERT_EQ(batch.size(), 5u);
  Checkpoint checkpoint = reader->checkpoint();
  EXPECT_EQ(checkpoint.shards[0].next.value(), 6u);

  env.clock.Advance(2 * options.retention_nanos);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Append(MakeRecord("k", "fresh")).ok());
  auto dropped = stream->EnforceRetention();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  ASSERT_GT(*dropped, 0u);

  auto resumed = StreamReader::Open(stream, Options(), checkpoint);
  ASSERT_FALSE(resumed.ok());
  EXPECT_EQ(resumed.status().code(), ErrorCode::kTrimmed);
  EXPECT_NE(resumed.status().message().find("shardId-000000000000"), std::string::npos)
      << resumed.status().message();
  // A running reader whose position retention passed gets the same typed error from Next.
  std::vector<ReadRecord> none;
  EXPECT_EQ(idle->Next(&none).code(), ErrorCode::kTrimmed);
  EXPECT_TRUE(none.empty());
  // The reader that read ahead returns what it holds; its position is past the horizon.
  EXPECT_EQ(Drain(*reader).size(), 40u);
  // TRIM_HORIZON still opens, at what is left.
  auto fresh = OpenReader(stream, Options());
  EXPECT_EQ(Payloads(Drain(*fresh)), std::vector<std::string>(5, "fresh"));
}

TEST(StreamReaderTest, WaitForCommitWakesOnAppendAndReturnsAtDeadline) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(3));
  auto reader = OpenReader(stream, Options(1000, log::StartPosition::Latest()));
  EXPECT_TRUE(Drain(*reader).empty());

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader->WaitForCommit(start + std::chrono::milliseconds(50)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));

  // An append from another thread, to whichever shard its key routes to, wakes the wait.
  std::thread appender([&] { ASSERT_TRUE(stream->Append(MakeRecord("any-key", "wake")).ok()); });
  auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader->WaitForCommit(before + std::chrono::seconds(30)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
  appender.join();
  EXPECT_EQ(Payloads(Drain(*reader)), std::vector<std::string>{"wake"});
}

// `eddy tail --follow` beside `eddy run`: the reader on a read-only store of a real directory
// is woken by the writer's commits (inotify; the periodic re-check is set far beyond the
// deadline) and picks up the writer's reshard, reading the parent before its children.
TEST(StreamReaderTest, ReadOnlyStoreFollowsTheWriterAcrossAReshard) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("eddy_consume_follow_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto writer_store = *log::LogStore::Open(dir);
  auto stream = *writer_store->CreateStream("s", Unordered(2));
  log::LogStoreOptions read_only;
  read_only.read_only = true;
  read_only.follow_recheck_millis = 600'000;
  auto view = *log::LogStore::Open(dir, read_only);
  auto reader = OpenReader(*view->GetStream("s"), Options(1000, log::StartPosition::Latest()));
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(Drain(*reader).empty());
  std::map<std::string, int> counts;
  std::vector<ReadRecord> all;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round == 2) {
      log::HashKeyRange range0 = log::EvenHashKeyRange(0, 2);
      ASSERT_TRUE(stream->SplitShard(0, log::HashKey{range0.end.high / 2, 0}).ok());
      EXPECT_TRUE(Drain(*reader).empty());  // sees the reshard's commit, no records
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    Status waited;
    std::thread waiter([&] { waited = reader->WaitForCommit(deadline); });
    std::vector<log::AppendRecord> records;
    for (int k = 0; k < 8; ++k) {
      std::string key = "k" + std::to_string(k);
      records.push_back(MakeRecord(key, key + "/" + std::to_string(counts[key]++)));
    }
    ASSERT_TRUE(stream->AppendTransaction(std::move(records), {}).ok());
    waiter.join();
    ASSERT_TRUE(waited.ok()) << waited.ToString();
    // Woken by the commit, long before the deadline (a generous bound for a loaded machine).
    EXPECT_LT(std::chrono::steady_clock::now(), deadline - std::chrono::seconds(15));
    auto batch = Drain(*reader);
    EXPECT_EQ(batch.size(), 8u);
    for (auto& record : batch) all.push_back(std::move(record));
  }
  ExpectIncreasingSequences(all);
  ExpectPerKeyOrder(all, counts);
  EXPECT_EQ(reader->checkpoint().shards.size(), 4u);  // the parents and both children
  reader.reset();
  view.reset();
  stream.reset();
  writer_store.reset();
  std::filesystem::remove_all(dir);
}

TEST(StreamReaderTest, BacklogCountsWhatIsNotReturnedYet) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  const int64_t first_arrival = env.clock.NowNanos();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k" + std::to_string(i), "v")).ok());
    env.clock.Advance(1000);
  }
  auto reader = OpenReader(stream, Options(4));
  auto backlog = reader->backlog();
  EXPECT_EQ(backlog.records, 10u);
  EXPECT_EQ(backlog.oldest_arrival_nanos, first_arrival);
  std::vector<ReadRecord> batch;
  ASSERT_TRUE(reader->Next(&batch).ok());
  ASSERT_EQ(batch.size(), 4u);
  backlog = reader->backlog();
  EXPECT_EQ(backlog.records, 6u);
  EXPECT_EQ(backlog.oldest_arrival_nanos, first_arrival + 4000);
  Drain(*reader);
  backlog = reader->backlog();
  EXPECT_EQ(backlog.records, 0u);
  EXPECT_EQ(backlog.oldest_arrival_nanos, 0);
}

}  // namespace
}  // namespace eddy::consume
