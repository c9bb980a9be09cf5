#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
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

TEST(LogStoreTest, AppendAndReadBackInOrder) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("orders", Unordered(1));
  for (int i = 0; i < 10; ++i) {
    auto appended = stream->Append(MakeRecord("k", "v" + std::to_string(i)));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    EXPECT_EQ(appended->sequence.value(), static_cast<uint64_t>(i + 1));
  }
  auto records = ReadAll(*stream, 0);
  ASSERT_EQ(records.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(records[i].payload, "v" + std::to_string(i));
    EXPECT_EQ(records[i].partition_key, "k");
    EXPECT_EQ(records[i].arrival_nanos, env.clock.NowNanos());
  }
  auto info = stream->Describe();
  EXPECT_EQ(info.shards.size(), 1u);
  EXPECT_EQ(info.shards[0].id, "shardId-000000000000");
  EXPECT_EQ(info.shards[0].last_sequence.value(), 10u);
}

TEST(LogStoreTest, PartitioningFollowsHashRangesAndSequencesIncreasePerShard) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(4));
  std::map<std::string, uint32_t> shard_of_key;
  for (int i = 0; i < 200; ++i) {
    std::string key = "key" + std::to_string(i % 37);
    auto appended = stream->Append(MakeRecord(key, std::to_string(i)));
    ASSERT_TRUE(appended.ok());
    HashKey hash = HashKey::FromPartitionKey(key);
    EXPECT_TRUE(EvenHashKeyRange(appended->shard_index, 4).Contains(hash));
    auto [it, inserted] = shard_of_key.emplace(key, appended->shard_index);
    EXPECT_EQ(it->second, appended->shard_index);
  }
  size_t total = 0;
  for (uint32_t shard = 0; shard < 4; ++shard) {
    auto records = ReadAll(*stream, shard);
    for (size_t i = 1; i < records.size(); ++i) {
      EXPECT_LT(records[i - 1].sequence, records[i].sequence);
    }
    total += records.size();
  }
  EXPECT_EQ(total, 200u);
  // An explicit hash key overrides MD5.
  AppendRecord record = MakeRecord("anything", "x");
  record.explicit_hash_key = HashKey::Max();
  EXPECT_EQ(stream->Append(record)->shard_index, 3u);
}

TEST(LogStoreTest, StreamAdministration) {
  FaultStore env;
  env.Open();
  StreamOptions options = Unordered(2);
  options.tags = {{"format", "debezium"}, {"view_type", "NEW_AND_OLD_IMAGES"}};
  ASSERT_TRUE(env.store->CreateStream("a", options).ok());
  EXPECT_EQ(env.store->CreateStream("a", options).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(env.store->CreateStream("bad/name", options).status().code(),
            ErrorCode::kInvalidArgument);
  StreamOptions ordered;
  ordered.ordering = OrderingMode::kOrdered;
  ordered.shard_count = 3;
  EXPECT_EQ(env.store->CreateStream("o", ordered).status().code(), ErrorCode::kInvalidArgument);
  ordered.shard_count = 1;
  ASSERT_TRUE(env.store->CreateStream("o", ordered).ok());
  EXPECT_EQ(env.store->ListStreams(), (std::vector<std::string>{"a", "o"}));
  env.CrashAndReopen();
  EXPECT_EQ(env.store->ListStreams(), (std::vector<std::string>{"a", "o"}));
  auto info = env.Get("a")->Describe();
  EXPECT_EQ(info.options.tags.at("format"), "debezium");
  EXPECT_EQ(info.shards.size(), 2u);
  EXPECT_EQ(env.Get("o")->Describe().options.ordering, OrderingMode::kOrdered);
  EXPECT_EQ(env.Get("o")->SplitShard(0, HashKey{1, 0}).status().code(),
            ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(env.store->DeleteStream("a").ok());
  EXPECT_EQ(env.store->GetStream("a").status().code(), ErrorCode::kNotFound);
  env.CrashAndReopen();
  EXPECT_EQ(env.store->ListStreams(), (std::vector<std::string>{"o"}));
}

TEST(LogStoreTest, SecondWriterIsRefused) {
  FaultStore env;
  env.Open();
  auto second = LogStore::Open("/data", env.options);
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
}

TEST(LogStoreTest, GroupCommitBatchesConcurrentAppenders) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  env.fs.SetSyncLatency(std::chrono::microseconds(500));  // a disk flush takes time
  uint64_t syncs_before = env.fs.sync_count();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto appended = stream->Append(
            MakeRecord("t" + std::to_string(t), std::to_string(t) + ":" + std::to_string(i)));
        if (!appended.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  uint64_t syncs = env.fs.sync_count() - syncs_before;
  // Without batching every append would cost 2 syncs (its shard file + the journal); with 8
  // appenders overlapping on slow flushes, batches hold several appends each.
  EXPECT_LT(syncs, 1u * kThreads * kPerThread);
  // Per-appender order is preserved in each shard.
  size_t total = 0;
  for (uint32_t shard = 0; shard < 2; ++shard) {
    std::map<std::string, int> last;
    for (const auto& record : ReadAll(*stream, shard)) {
      int i = std::stoi(record.payload.substr(record.payload.find(':') + 1));
      auto it = last.find(record.partition_key);
      if (it != last.end()) {
        EXPECT_EQ(i, it->second + 1);
      }
      last[record.partition_key] = i;
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread));
}

TEST(LogStoreTest, AcknowledgedRecordsSurviveCrash) {
  FaultStore env;
  env.options.segment_bytes = 2048;  // several segments
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(3));
  std::map<uint32_t, std::vector<std::string>> expected;
  for (int i = 0; i < 300; ++i) {
    std::string payload(50 + i % 30, static_cast<char>('a' + i % 26));
    payload += std::to_string(i);
    auto appended = stream->Append(MakeRecord("k" + std::to_string(i % 11), payload));
    ASSERT_TRUE(appended.ok());
    expected[appended->shard_index].push_back(payload);
  }
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  for (uint32_t shard = 0; shard < 3; ++shard) {
    EXPECT_EQ(Payloads(ReadAll(*stream, shard)), expected[shard]) << "shard " << shard;
  }
  // Appends continue after recovery with higher sequence numbers.
  auto appended = stream->Append(MakeRecord("k0", "after"));
  ASSERT_TRUE(appended.ok());
  EXPECT_GT(appended->sequence.value(), 300u);
}

// A clean close leaves each active segment an index of its committed part: the next open reads
// that instead of scanning the segment (a large share of a restart on a big log), and finds
// every record.
TEST(LogStoreTest, CleanCloseIndexesTheActiveSegmentsAndTheNextOpenReadsLittle) {
  FaultStore env;
  env.options.index_interval_bytes = 512;  // several index entries per segment
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  std::map<uint32_t, std::vector<std::string>> expected;
  for (int i = 0; i < 400; ++i) {
    std::string payload(100 + i % 40, static_cast<char>('a' + i % 26));
    payload += std::to_string(i);
    auto appended = stream->Append(MakeRecord("k" + std::to_string(i % 13), payload));
    ASSERT_TRUE(appended.ok());
    expected[appended->shard_index].push_back(payload);
  }
  stream.reset();
  env.store.reset();  // the clean close
  uint64_t segment_bytes = 0;
  for (uint32_t shard = 0; shard < 2; ++shard) {
    const std::string segment =
        "/data/streams/s/shardId-00000000000" + std::to_string(shard) + "/" + SegmentFileName(1);
    segment_bytes += *env.fs.FileSize(segment);
    auto index = env.fs.ReadFile(SegmentIndexPath(segment));
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    auto summary = DecodeIndex(*index);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_EQ(summary->record_count, expected[shard].size());
    EXPECT_EQ(summary->bytes, *env.fs.FileSize(segment));
  }
  // Bytes an open reads with the indexes, then without them (the commit journal and the
  // stream's metadata are read either way): the indexes spare almost all of the segments.
  uint64_t before = env.fs.bytes_read();
  env.Open();
  const uint64_t with_index = env.fs.bytes_read() - before;
  env.store.reset();  // (writes the same indexes again)
  for (uint32_t shard = 0; shard < 2; ++shard) {
    ASSERT_TRUE(env.fs
                    .Remove(SegmentIndexPath("/data/streams/s/shardId-00000000000" +
                                             std::to_string(shard) + "/" + SegmentFileName(1)))
                    .ok());
  }
  before = env.fs.bytes_read();
  env.Open();
  const uint64_t without_index = env.fs.bytes_read() - before;
  EXPECT_GE(without_index, with_index + segment_bytes * 9 / 10)
      << "with the indexes " << with_index << " bytes, without " << without_index;
  env.store.reset();
  env.Open();
  stream = env.Get("s");
  for (uint32_t shard = 0; shard < 2; ++shard) {
    EXPECT_EQ(Payloads(ReadAll(*stream, shard)), expected[shard]) << "shard " << shard;
  }
  auto info = stream->Describe();  // sequences are the stream's, across its shards
  EXPECT_EQ(std::max(info.shards[0].last_sequence.value(), info.shards[1].last_sequence.value()),
            400u);
  auto appended = stream->Append(MakeRecord("k0", "after"));
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->sequence.value(), 401u);
}

// An index from an earlier clean close covers a prefix of what is committed now (a crash came
// before the next close): the prefix comes from it, the rest from a scan.
TEST(LogStoreTest, AnActiveIndexFromAnEarlierCloseCoversAPrefixAndTheRestIsScanned) {
  FaultStore env;
  env.options.index_interval_bytes = 512;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::vector<std::string> expected;
  auto append = [&](int count) {
    for (int i = 0; i < count; ++i) {
      expected.push_back("record-" + std::to_string(expected.size()) + std::string(80, 'x'));
      ASSERT_TRUE(stream->Append(MakeRecord("k", expected.back())).ok());
    }
  };
  append(100);
  stream.reset();
  env.store.reset();
  const std::string index_path =
      SegmentIndexPath("/data/streams/s/shardId-000000000000/" + SegmentFileName(1));
  {
    // Made durable, so that the crash below keeps this one and not the next close's.
    auto index = env.fs.ReadFile(index_path);
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE(env.fs.WriteFileAtomically(index_path, *index).ok());
  }
  env.Open();
  stream = env.Get("s");
  append(150);
  stream.reset();
  env.CrashAndReopen();
  auto summary = DecodeIndex(*env.fs.ReadFile(index_path));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->record_count, 100u);  // the prefix's index is what the open found
  stream = env.Get("s");
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), expected);
  EXPECT_EQ(stream->Describe().shards[0].last_sequence.value(), 250u);
  auto appended = stream->Append(MakeRecord("k", "after"));
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->sequence.value(), 251u);
}

// Commits rewrite an active segment's index as it grows (LogStoreOptions::active_index_bytes),
// so an open after a process crash, with no clean close, scans only what came after it.
TEST(LogStoreTest, CommitsKeepTheActiveIndexSoAnOpenAfterACrashScansLittle) {
  FaultStore env;
  env.options.index_interval_bytes = 512;
  env.options.active_index_bytes = 4096;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::vector<std::string> expected;
  for (int i = 0; i < 400; ++i) {
    expected.push_back("r" + std::to_string(i) + std::string(150, 'z'));
    ASSERT_TRUE(stream->Append(MakeRecord("k", expected.back())).ok());
  }
  const std::string segment = "/data/streams/s/shardId-000000000000/" + SegmentFileName(1);
  const uint64_t segment_size = *env.fs.FileSize(segment);
  // What the commits left, while the store is still open.
  auto index = env.fs.ReadFile(SegmentIndexPath(segment));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto summary = DecodeIndex(*index);
  ASSERT_TRUE(summary.ok());
  EXPECT_GT(summary->record_count, 300u);
  EXPECT_LE(summary->bytes, segment_size);
  EXPECT_GT(summary->bytes + 4096 + 200, segment_size);  // within a stride of the end
  // A process crash keeps the file system's pages: the index is made durable to stand for
  // that, and the crash below (which drops what was not synced) forgets the close's rewrite.
  ASSERT_TRUE(env.fs.WriteFileAtomically(SegmentIndexPath(segment), *index).ok());
  stream.reset();
  uint64_t before = env.fs.bytes_read();
  env.CrashAndReopen();
  const uint64_t with_index = env.fs.bytes_read() - before;
  stream = env.Get("s");
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), expected);
  // The same open without an index (the commit journal is read either way) reads the segment.
  stream.reset();
  env.store.reset();
  ASSERT_TRUE(env.fs.Remove(SegmentIndexPath(segment)).ok());
  before = env.fs.bytes_read();
  env.Open();
  const uint64_t without_index = env.fs.bytes_read() - before;
  EXPECT_GE(without_index, with_index + segment_size * 3 / 4)
      << "with the index " << with_index << " bytes, without " << without_index;
  stream = env.Get("s");
  auto appended = stream->Append(MakeRecord("k", "after"));
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->sequence.value(), 401u);
}

// An index that does not describe the segment's committed bytes (torn, past the committed end,
// ending inside a frame) is ignored: the segment is scanned as without one.
TEST(LogStoreTest, AnActiveIndexThatDoesNotFitTheSegmentIsIgnored) {
  FaultStore env;
  env.options.index_interval_bytes = 512;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::vector<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    expected.push_back("r" + std::to_string(i) + std::string(100, 'y'));
    ASSERT_TRUE(stream->Append(MakeRecord("k", expected.back())).ok());
  }
  stream.reset();
  env.store.reset();
  const std::string segment = "/data/streams/s/shardId-000000000000/" + SegmentFileName(1);
  const uint64_t segment_size = *env.fs.FileSize(segment);
  auto good = DecodeIndex(*env.fs.ReadFile(SegmentIndexPath(segment)));
  ASSERT_TRUE(good.ok());
  SegmentSummary beyond = *good;
  beyond.bytes += 1000;
  SegmentSummary inside_a_frame = *good;
  inside_a_frame.bytes -= 7;
  SegmentSummary wrong_last = *good;
  wrong_last.last_sequence = SequenceNumber(good->last_sequence.value() - 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"torn", EncodeIndex(*good).substr(0, 40)},
      {"past the committed end", EncodeIndex(beyond)},
      {"ending inside a frame", EncodeIndex(inside_a_frame)},
      {"a last record that is not there", EncodeIndex(wrong_last)},
  };
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(env.fs.WriteFileAtomically(SegmentIndexPath(segment), bytes).ok());
    const uint64_t before = env.fs.bytes_read();
    env.Open();
    EXPECT_GE(env.fs.bytes_read() - before, segment_size - kSegmentHeaderBytes);  // scanned
    stream = env.Get("s");
    EXPECT_EQ(Payloads(ReadAll(*stream, 0)), expected);
    EXPECT_EQ(stream->Describe().shards[0].last_sequence.value(), 60u);
    stream.reset();
    env.store.reset();
  }
}

// Shards load on several threads: a shard that cannot load fails the open with its own error,
// the same whichever thread loaded it, and the others' records are untouched by the attempt.
TEST(LogStoreTest, AShardThatCannotLoadFailsTheOpenWithItsError) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(4));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k" + std::to_string(i), "v" + std::to_string(i))).ok());
  }
  stream.reset();
  env.store.reset();
  const std::string missing = "/data/streams/s/shardId-000000000002/" + SegmentFileName(1);
  std::string kept;
  {
    auto bytes = env.fs.ReadFile(missing);
    ASSERT_TRUE(bytes.ok());
    kept = *bytes;
  }
  ASSERT_TRUE(env.fs.Remove(missing).ok());
  auto opened = LogStore::Open("/data", env.options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("shardId-000000000002"), std::string::npos)
      << opened.status().ToString();
  // Put back, the store opens with every record.
  ASSERT_TRUE(env.fs.WriteFileAtomically(missing, kept).ok());
  env.Open();
  stream = env.Get("s");
  size_t records = 0;
  for (uint32_t shard = 0; shard < 4; ++shard) records += ReadAll(*stream, shard).size();
  EXPECT_EQ(records, 200u);
}

TEST(LogStoreTest, UncommittedTailIsTruncatedOnRecovery) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  ASSERT_TRUE(stream->Append(MakeRecord("k", "durable")).ok());
  // The shard bytes of the next batch are written and synced, but its commit record fails and
  // so does the rollback: the stream poisons itself, the tail stays on disk.
  env.fs.InjectFault(io::FaultOperation::kAppend, IoError("EIO (simulated)"), "commit-");
  env.fs.InjectFault(io::FaultOperation::kTruncate, IoError("EIO (simulated)"), "");
  EXPECT_FALSE(stream->Append(MakeRecord("k", "lost")).ok());
  EXPECT_EQ(stream->Append(MakeRecord("k", "x")).status().code(), ErrorCode::kFailedPrecondition);
  // A torn frame after it too.
  std::string segment = "/data/streams/s/shardId-000000000000/" + SegmentFileName(1);
  {
    auto file = env.fs.Open(segment, io::OpenMode::kReadWrite);
    ASSERT_TRUE((*file)->Append(std::string("\x12\x34\x56", 3)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  uint64_t size_before = *env.fs.FileSize(segment);
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), std::vector<std::string>{"durable"});
  EXPECT_LT(*env.fs.FileSize(segment), size_before);
  ASSERT_TRUE(stream->Append(MakeRecord("k", "next")).ok());
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), (std::vector<std::string>{"durable", "next"}));
}

TEST(LogStoreTest, CrashDuringCommitLosesNothingAcknowledged) {
  // Crash at every sync point of a batch: whatever survives is a prefix of whole batches and
  // includes every acknowledged one.
  for (uint32_t skip = 0; skip < 4; ++skip) {
    FaultStore env;
    env.Open();
    auto stream = *env.store->CreateStream("s", Unordered(2));
    std::vector<AppendRecord> first = {MakeRecord("a", "1"), MakeRecord("b", "2"),
                                       MakeRecord("c", "3")};
    ASSERT_TRUE(stream->AppendTransaction(first, PgPosition(10)).ok());
    env.fs.InjectFault(io::FaultOperation::kSync, IoError("power lost"), "", skip, UINT32_MAX);
    std::vector<AppendRecord> second = {MakeRecord("a", "4"), MakeRecord("b", "5"),
                                        MakeRecord("c", "6")};
    auto result = stream->AppendTransaction(second, PgPosition(20));
    stream.reset();
    env.CrashAndReopen();
    stream = env.Get("s");
    size_t total = ReadAll(*stream, 0).size() + ReadAll(*stream, 1).size();
    if (result.ok()) {
      EXPECT_EQ(total, 6u) << "skip " << skip;
    } else {
      EXPECT_TRUE(total == 3u || total == 6u) << "skip " << skip << " total " << total;
    }
    EXPECT_GE(total, 3u);
    auto high = stream->HighestDurablePosition();
    EXPECT_EQ(high, total == 6u ? PgPosition(20) : PgPosition(10));
  }
}

TEST(LogStoreTest, MidSegmentCorruptionIsReportedAndEarlierRecordsStayReadable) {
  FaultStore env;
  env.options.segment_bytes = 4096;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'x') + std::to_string(i))).ok());
  }
  std::string segment = "/data/streams/s/shardId-000000000000/" + SegmentFileName(1);
  uint64_t size = *env.fs.FileSize(segment);
  ASSERT_GT(size, 2000u);
  // Corrupt a byte in the middle of the first (sealed) segment.
  ASSERT_TRUE(env.fs.CorruptByte(segment, size / 2).ok());
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  Status error;
  auto records = ReadAll(*stream, 0, StartPosition::TrimHorizon(), &error);
  EXPECT_GT(records.size(), 3u);
  EXPECT_LT(records.size(), 100u);
  EXPECT_EQ(error.code(), ErrorCode::kCorruption);
  EXPECT_NE(error.message().find(segment), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("offset"), std::string::npos);
  // Records in later segments are still readable by sequence.
  auto later = ReadAll(*stream, 0, StartPosition::AtSequence(SequenceNumber(90)));
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later.front().sequence.value(), 90u);
}

TEST(LogStoreTest, FullDiskStopsAppendsKeepsDataAndRecovers) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", "r" + std::to_string(i))).ok());
    acknowledged.push_back("r" + std::to_string(i));
  }
  env.fs.SetCapacity(env.fs.BytesUsed() + 300);
  Status failure;
  for (int i = 20; i < 200; ++i) {
    auto appended = stream->Append(MakeRecord("k", std::string(40, 'y') + std::to_string(i)));
    if (!appended.ok()) {
      failure = appended.status();
      break;
    }
    acknowledged.push_back(std::string(40, 'y') + std::to_string(i));
  }
  ASSERT_EQ(failure.code(), ErrorCode::kNoSpace) << failure.ToString();
  EXPECT_TRUE(failure.IsRetriable());
  EXPECT_EQ(stream->Append(MakeRecord("k", std::string(400, 'z'))).status().code(),
            ErrorCode::kNoSpace);
  // A small record may still fit; either way nothing acknowledged is affected.
  stream->Append(MakeRecord("k", "probe")).status().IgnoreError();
  // Space returns: appends resume on the same stream object.
  env.fs.SetCapacity(0);
  ASSERT_TRUE(stream->Append(MakeRecord("k", "after")).ok());
  acknowledged.push_back("after");
  std::vector<std::string> read;
  for (uint32_t s = 0; s < 2; ++s) {
    for (auto& p : Payloads(ReadAll(*stream, s))) read.push_back(p);
  }
  // "probe" may or may not have fit; everything acknowledged is there.
  std::set<std::string> got(read.begin(), read.end());
  for (const auto& p : acknowledged) EXPECT_TRUE(got.count(p)) << p;
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  std::set<std::string> after_crash;
  for (uint32_t s = 0; s < 2; ++s) {
    for (auto& p : Payloads(ReadAll(*stream, s))) after_crash.insert(p);
  }
  EXPECT_EQ(after_crash, got);
}

TEST(LogStoreTest, FailedFsyncPoisonsUntilReopen) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  ASSERT_TRUE(stream->Append(MakeRecord("k", "one")).ok());
  env.fs.InjectFault(io::FaultOperation::kSync, IoError("EIO (simulated)"), "shardId");
  EXPECT_EQ(stream->Append(MakeRecord("k", "two")).status().code(), ErrorCode::kIoError);
  auto refused = stream->Append(MakeRecord("k", "three"));
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("reopen"), std::string::npos);
  stream.reset();
  env.Open();  // no crash: a plain reopen recovers
  stream = env.Get("s");
  ASSERT_TRUE(stream->Append(MakeRecord("k", "four")).ok());
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), (std::vector<std::string>{"one", "four"}));
}

// AppendTransactionReusing appends exactly what AppendTransaction appends (duplicates
// included) and hands the records back for their memory; records without a position of their
// own are stored with none.
TEST(LogStoreTest, AppendTransactionReusingHandsTheRecordsBack) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::vector<AppendRecord> records = {MakeRecord("a", std::string(300, 'x')),
                                       MakeRecord("b", "second")};
  auto result = stream->AppendTransactionReusing(&records, PgPosition(10));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->duplicate);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_GE(records[0].payload.capacity(), 300u);
  records = {MakeRecord("c", "again")};
  EXPECT_TRUE(stream->AppendTransactionReusing(&records, PgPosition(10))->duplicate);
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)),
            (std::vector<std::string>{std::string(300, 'x'), "second"}));
  EXPECT_TRUE(ReadAll(*stream, 0)[0].position.empty());
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(10));
}

TEST(LogStoreTest, ExactlyOnceBySourcePosition) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  auto tx = [](uint64_t lsn) {
    return std::vector<AppendRecord>{MakeRecord("a", "a" + std::to_string(lsn), PgPosition(lsn)),
                                     MakeRecord("b", "b" + std::to_string(lsn), PgPosition(lsn))};
  };
  auto first = stream->AppendTransaction(tx(100), PgPosition(100));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->records.size(), 2u);
  EXPECT_TRUE(stream->AppendTransaction(tx(100), PgPosition(100))->duplicate);
  EXPECT_TRUE(stream->AppendTransaction(tx(50), PgPosition(50))->duplicate);
  EXPECT_FALSE(stream->AppendTransaction(tx(200), PgPosition(200))->duplicate);
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(200));
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(200));
  EXPECT_TRUE(stream->AppendTransaction(tx(200), PgPosition(200))->duplicate);
  EXPECT_FALSE(stream->AppendTransaction(tx(300), PgPosition(300))->duplicate);
  size_t total = ReadAll(*stream, 0).size() + ReadAll(*stream, 1).size();
  EXPECT_EQ(total, 6u);
  // A different source kind is refused, not silently accepted.
  MysqlPosition mysql;
  mysql.end = BinlogPosition{"bin.000001", 4};
  EXPECT_EQ(stream->AppendTransaction(tx(400), SourcePosition(mysql)).status().code(),
            ErrorCode::kInvalidArgument);
}

// A transaction with no records (a snapshot of an empty table, a source that only moves its
// position) still moves the durable position, and survives a crash.
TEST(LogStoreTest, EmptyTransactionAdvancesTheDurablePosition) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  auto empty = stream->AppendTransaction({}, PgPosition(100));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_FALSE(empty->duplicate);
  EXPECT_TRUE(empty->records.empty());
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(100));
  EXPECT_TRUE(stream->AppendTransaction({}, PgPosition(100))->duplicate);
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(stream->HighestDurablePosition(), PgPosition(100));
  EXPECT_TRUE(
      stream->AppendTransaction({MakeRecord("a", "x", PgPosition(90))}, PgPosition(90))->duplicate);
  EXPECT_EQ(ReadAll(*stream, 0).size() + ReadAll(*stream, 1).size(), 0u);
}

TEST(LogStoreTest, FailedTransactionIsInvisibleEverywhere) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(4));
  std::vector<AppendRecord> records;
  for (int i = 0; i < 40; ++i) records.push_back(MakeRecord("k" + std::to_string(i), "x"));
  env.fs.InjectFault(io::FaultOperation::kAppend, IoError("EIO"), "commit-");
  env.fs.InjectFault(io::FaultOperation::kTruncate, IoError("EIO"), "");
  EXPECT_FALSE(stream->AppendTransaction(records, PgPosition(5)).ok());
  // Shard files hold the transaction's bytes (fsync'd), but no commit covers them.
  for (uint32_t shard = 0; shard < 4; ++shard) EXPECT_TRUE(ReadAll(*stream, shard).empty());
  LogStoreOptions read_only = env.options;
  read_only.read_only = true;
  auto other = LogStore::Open("/data", read_only);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto other_stream = *(*other)->GetStream("s");
  for (uint32_t shard = 0; shard < 4; ++shard) EXPECT_TRUE(ReadAll(*other_stream, shard).empty());
  EXPECT_TRUE(other_stream->HighestDurablePosition().empty());
}

// `eddy status` opens the log describe-only: the same shards, sizes, last sequence numbers
// and durable position as a full read-only view, following the writer, without reading a
// single record of the segments (reads of .seg files fail here).
TEST(LogStoreTest, DescribeOnlyStoreDescribesWithoutReadingSegments) {
  FaultStore env;
  env.options.segment_bytes = 4096;  // sealed segments and an active one per shard
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  auto append = [&](int from, int to) {
    for (int t = from; t < to; ++t) {
      std::vector<AppendRecord> records;
      for (int i = 0; i < 4; ++i) {
        records.push_back(MakeRecord("k" + std::to_string(t * 4 + i), std::string(100, 'v')));
      }
      ASSERT_TRUE(stream->AppendTransaction(records, PgPosition(t + 1)).ok());
    }
  };
  append(0, 30);
  LogStoreOptions full_options = env.options;
  full_options.read_only = true;
  auto full = *LogStore::Open("/data", full_options);
  LogStoreOptions describe_options = full_options;
  describe_options.describe_only = true;
  env.fs.InjectFault(io::FaultOperation::kRead, IoError("segment read"), ".seg", 0, UINT32_MAX);
  auto described = LogStore::Open("/data", describe_options);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  auto view = *(*described)->GetStream("s");
  auto same_as_full = [&] {
    env.fs.ClearFaults();
    StreamInfo expected = (*full->GetStream("s"))->Describe();
    env.fs.InjectFault(io::FaultOperation::kRead, IoError("segment read"), ".seg", 0, UINT32_MAX);
    StreamInfo info = view->Describe();
    EXPECT_EQ(info.highest_position, expected.highest_position);
    ASSERT_EQ(info.shards.size(), expected.shards.size());
    for (size_t i = 0; i < info.shards.size(); ++i) {
      EXPECT_EQ(info.shards[i].bytes, expected.shards[i].bytes) << i;
      EXPECT_EQ(info.shards[i].last_sequence, expected.shards[i].last_sequence) << i;
      EXPECT_EQ(info.shards[i].open, expected.shards[i].open) << i;
    }
  };
  same_as_full();
  EXPECT_EQ(view->HighestDurablePosition(), PgPosition(30));
  env.fs.ClearFaults();
  append(30, 60);  // the writer goes on; the describe-only view follows its commits
  env.fs.InjectFault(io::FaultOperation::kRead, IoError("segment read"), ".seg", 0, UINT32_MAX);
  same_as_full();
  EXPECT_EQ(view->HighestDurablePosition(), PgPosition(60));
  EXPECT_EQ(view->OpenReader(0, StartPosition::TrimHorizon()).status().code(),
            ErrorCode::kFailedPrecondition);
  env.fs.ClearFaults();
}

TEST(LogStoreTest, ReadOnlyStoreSeesWholeTransactionsAndFollowsTheWriter) {
  FaultStore env;
  env.options.commit_journal_bytes = 2048;  // force journal rolls
  env.options.segment_bytes = 2048;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(3));
  LogStoreOptions read_only = env.options;
  read_only.read_only = true;
  auto other = *LogStore::Open("/data", read_only);
  auto view = *other->GetStream("s");
  EXPECT_EQ(view->Append(MakeRecord("k", "x")).status().code(), ErrorCode::kFailedPrecondition);
  std::vector<std::unique_ptr<ShardReader>> readers;
  for (uint32_t shard = 0; shard < 3; ++shard) {
    readers.push_back(*view->OpenReader(shard, StartPosition::TrimHorizon()));
  }
  std::map<std::string, int> seen;  // transaction -> records seen so far
  for (int t = 0; t < 60; ++t) {
    std::vector<AppendRecord> records;
    for (int i = 0; i < 5; ++i) {
      records.push_back(MakeRecord("k" + std::to_string(t * 5 + i), "tx" + std::to_string(t)));
    }
    ASSERT_TRUE(stream->AppendTransaction(records, PgPosition(t + 1)).ok());
    for (auto& reader : readers) {
      auto batch = reader->Read(ReadLimits{});
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (const auto& record : batch->records) ++seen[record.payload];
    }
    // After reading every shard, each transaction is seen whole.
    for (const auto& [tx, count] : seen) EXPECT_EQ(count, 5) << tx;
    EXPECT_EQ(seen.size(), static_cast<size_t>(t + 1));
  }
  EXPECT_EQ(view->HighestDurablePosition(), PgPosition(60));
  // Streams created after the read-only open are found too.
  ASSERT_TRUE(env.store->CreateStream("later", Unordered(1)).ok());
  EXPECT_TRUE(other->GetStream("later").ok());
}

TEST(LogStoreTest, IteratorTypes) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::vector<int64_t> times;
  for (int i = 0; i < 10; ++i) {
    times.push_back(env.clock.NowNanos());
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::to_string(i))).ok());
    env.clock.Advance(1'000'000'000);
  }
  auto first = [&](StartPosition start) -> std::string {
    auto records = ReadAll(*stream, 0, start);
    return records.empty() ? "" : records.front().payload;
  };
  EXPECT_EQ(first(StartPosition::TrimHorizon()), "0");
  EXPECT_EQ(first(StartPosition::Latest()), "");
  EXPECT_EQ(first(StartPosition::AtSequence(SequenceNumber(4))), "3");
  EXPECT_EQ(first(StartPosition::AfterSequence(SequenceNumber(4))), "4");
  EXPECT_EQ(first(StartPosition::AtTimestamp(times[6])), "6");
  EXPECT_EQ(first(StartPosition::AtTimestamp(times[6] - 1)), "6");
  EXPECT_EQ(first(StartPosition::AtTimestamp(0)), "0");
  EXPECT_EQ(first(StartPosition::AtTimestamp(env.clock.NowNanos())), "");
  EXPECT_EQ(stream->OpenReader(0, StartPosition::AtTimestamp(env.clock.NowNanos() + 1000))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(stream->OpenReader(7, StartPosition::TrimHorizon()).status().code(),
            ErrorCode::kNotFound);
  // LATEST sees what comes after it.
  auto latest = *stream->OpenReader(0, StartPosition::Latest());
  ASSERT_TRUE(stream->Append(MakeRecord("k", "new")).ok());
  auto batch = *latest->Read(ReadLimits{});
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].payload, "new");
  EXPECT_EQ(batch.next_sequence.value(), 12u);
}

TEST(LogStoreTest, BatchLimitsAndMillisBehind) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'p'))).ok());
    env.clock.Advance(1'000'000);
  }
  auto reader = *stream->OpenReader(0, StartPosition::TrimHorizon());
  auto batch = *reader->Read(ReadLimits{7, 1u << 20});
  EXPECT_EQ(batch.records.size(), 7u);
  EXPECT_EQ(batch.millis_behind_latest, 43);
  batch = *reader->Read(ReadLimits{1000, 350});
  EXPECT_EQ(batch.records.size(), 3u);  // 101 bytes each
  EXPECT_EQ(batch.records.front().sequence.value(), 8u);
  batch = *reader->Read(ReadLimits{1000, 1});
  EXPECT_EQ(batch.records.size(), 1u);  // at least one record
  batch = *reader->Read(ReadLimits{});
  EXPECT_EQ(batch.records.size(), 39u);
  EXPECT_EQ(batch.millis_behind_latest, 0);
  batch = *reader->Read(ReadLimits{});
  EXPECT_TRUE(batch.records.empty());
  EXPECT_FALSE(batch.end_of_shard);
  EXPECT_EQ(batch.next_sequence.value(), 51u);
}

// Reads a whole shard through ReadViews with the given limits, copying each view.
std::vector<Record> ReadAllViews(Stream& stream, uint32_t shard, const ReadLimits& limits,
                                 StartPosition start = StartPosition::TrimHorizon(),
                                 Status* error = nullptr) {
  std::vector<Record> records;
  auto reader = stream.OpenReader(shard, start);
  if (!reader.ok()) {
    if (error) *error = reader.status();
    return records;
  }
  ReadViewBatch batch;
  while (true) {
    Status status = (*reader)->ReadViews(limits, &batch);
    if (!status.ok()) {
      if (error) *error = status;
      return records;
    }
    if (batch.records.empty()) break;
    EXPECT_LE(batch.records.size(), limits.max_records);
    EXPECT_EQ(batch.next_sequence.value(), batch.records.back().sequence.value() + 1);
    for (const RecordView& view : batch.records) {
      auto record = view.ToRecord();
      EXPECT_TRUE(record.ok()) << record.status().ToString();
      if (record.ok()) records.push_back(std::move(*record));
    }
  }
  return records;
}

// ReadViews returns Read's records (keys, payloads, kinds, positions of every kind, chunk
// groups, many small segments, frames larger than one view read), whatever the limits.
TEST(LogStoreTest, ReadViewsReturnsWhatReadReturns) {
  FaultStore env;
  env.options.segment_bytes = 8192;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::mt19937_64 random(7);
  for (int i = 0; i < 400; ++i) {
    SourcePosition position;
    if (i % 3 == 1) position = PgPosition(1000 + i);
    if (i % 3 == 2) {
      MysqlPosition mysql;
      mysql.server_id = 7;
      mysql.end.file = "binlog.000042";
      mysql.end.offset = 4 + i;
      mysql.gtid.text = i % 2 ? "" : "0-1-" + std::to_string(i);
      position = SourcePosition(std::move(mysql));
    }
    std::string payload(random() % 700, static_cast<char>('a' + i % 26));
    if (i == 100 || i == 250) payload.assign(1'500'000, 'z');  // chunked, frames of 1 MiB
    // A transaction chunks oversized payloads; an empty end position skips the exactly-once
    // check.
    auto appended = stream->AppendTransaction(
        {MakeRecord("key" + std::to_string(i % 17), payload, position)}, SourcePosition());
    ASSERT_TRUE(appended.ok()) << i << ": " << appended.status().ToString();
    env.clock.Advance(1000);
  }
  const std::vector<Record> expected = ReadAll(*stream, 0);
  ASSERT_GT(expected.size(), 400u);
  for (ReadLimits limits : {ReadLimits{}, ReadLimits{1, 1u << 20}, ReadLimits{7, 1u << 20},
                            ReadLimits{1000, 1500}, ReadLimits{3, 1}}) {
    const std::vector<Record> views = ReadAllViews(*stream, 0, limits);
    ASSERT_EQ(views.size(), expected.size()) << limits.max_records << " " << limits.max_bytes;
    for (size_t i = 0; i < views.size(); ++i) {
      ASSERT_EQ(views[i].sequence, expected[i].sequence) << i;
      EXPECT_EQ(views[i].arrival_nanos, expected[i].arrival_nanos) << i;
      EXPECT_EQ(views[i].kind, expected[i].kind) << i;
      EXPECT_EQ(views[i].partition_key, expected[i].partition_key) << i;
      EXPECT_EQ(views[i].payload, expected[i].payload) << i;
      EXPECT_EQ(views[i].position, expected[i].position) << i;
    }
  }
  // From a sequence in the middle of a segment.
  const SequenceNumber middle = expected[expected.size() / 2].sequence;
  auto from_middle =
      ReadAllViews(*stream, 0, ReadLimits{5, 1u << 20}, StartPosition::AtSequence(middle));
  ASSERT_FALSE(from_middle.empty());
  EXPECT_EQ(from_middle.front().sequence, middle);
  EXPECT_EQ(from_middle.size(), expected.size() - expected.size() / 2);
}

TEST(LogStoreTest, ReadViewsReportsCorruptionAfterTheRecordsBeforeIt) {
  FaultStore env;
  env.options.segment_bytes = 4096;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'x') + std::to_string(i))).ok());
  }
  std::string segment = "/data/streams/s/shardId-000000000000/" + SegmentFileName(1);
  uint64_t size = *env.fs.FileSize(segment);
  ASSERT_TRUE(env.fs.CorruptByte(segment, size / 2).ok());
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  Status read_error;
  auto read = ReadAll(*stream, 0, StartPosition::TrimHorizon(), &read_error);
  Status view_error;
  auto views = ReadAllViews(*stream, 0, ReadLimits{}, StartPosition::TrimHorizon(), &view_error);
  EXPECT_EQ(views.size(), read.size());
  EXPECT_GT(views.size(), 3u);
  EXPECT_EQ(view_error.code(), ErrorCode::kCorruption);
  EXPECT_NE(view_error.message().find(segment), std::string::npos) << view_error.message();
  EXPECT_NE(view_error.message().find("offset"), std::string::npos);
}

TEST(LogStoreTest, WaitForDataWakesOnCommitAndHonoursDeadline) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  auto reader = *stream->OpenReader(0, StartPosition::Latest());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader->WaitForData(start + std::chrono::milliseconds(50)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    reader->WaitForData(std::chrono::steady_clock::now() + std::chrono::seconds(30)).IgnoreError();
    woke = true;
  });
  auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->Append(MakeRecord("k", "wake")).ok());
  waiter.join();
  EXPECT_TRUE(woke.load());
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
  EXPECT_EQ(reader->Read(ReadLimits{})->records.size(), 1u);
}

TEST(LogStoreTest, RetentionDropsWholeSegmentsAndTrimmedIsTyped) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  StreamOptions options = Unordered(1);
  options.retention_nanos = 3600LL * 1'000'000'000;
  auto stream = *env.store->CreateStream("s", options);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'o'))).ok());
  }
  auto old_reader = *stream->OpenReader(0, StartPosition::TrimHorizon());
  env.clock.Advance(2 * options.retention_nanos);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Append(MakeRecord("k", "fresh")).ok());
  auto dropped = stream->EnforceRetention();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_GT(*dropped, 0u);
  auto info = *stream->DescribeShard(0);
  EXPECT_EQ(info.trim_horizon.value(), 41u);
  EXPECT_EQ(old_reader->Read(ReadLimits{}).status().code(), ErrorCode::kTrimmed);
  EXPECT_EQ(stream->OpenReader(0, StartPosition::AtSequence(SequenceNumber(3))).status().code(),
            ErrorCode::kTrimmed);
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), std::vector<std::string>(5, "fresh"));
  // Everything expired: the active segment is rolled and dropped too.
  env.clock.Advance(2 * options.retention_nanos);
  ASSERT_TRUE(stream->EnforceRetention().ok());
  EXPECT_TRUE(ReadAll(*stream, 0).empty());
  ASSERT_TRUE(stream->Append(MakeRecord("k", "later")).ok());
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(Payloads(ReadAll(*stream, 0)), std::vector<std::string>{"later"});
  EXPECT_EQ(stream->OpenReader(0, StartPosition::AtSequence(SequenceNumber(44))).status().code(),
            ErrorCode::kTrimmed);
}

TEST(LogStoreTest, RetentionBySize) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  StreamOptions options = Unordered(1);
  options.retention_bytes = 4096;
  auto stream = *env.store->CreateStream("s", options);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 's'))).ok());
  }
  ASSERT_TRUE(stream->EnforceRetention().ok());
  auto info = *stream->DescribeShard(0);
  EXPECT_LE(info.bytes, 4096u + 1200u);
  EXPECT_GT(info.trim_horizon.value(), 1u);
  auto records = ReadAll(*stream, 0);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().sequence.value(), 100u);
  EXPECT_EQ(records.front().sequence, info.trim_horizon);
}

TEST(LogStoreTest, CrashBetweenRetentionCommitAndFileRemovalRecovers) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  StreamOptions options = Unordered(1);
  options.retention_nanos = 1'000'000'000;
  auto stream = *env.store->CreateStream("s", options);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(100, 'r'))).ok());
  }
  ASSERT_TRUE(stream->SplitShard(0, HashKey{1, 0}).ok());
  env.clock.Advance(5'000'000'000);
  ASSERT_TRUE(stream->Append(MakeRecord("k", "fresh")).ok());
  // Removing the first dropped file fails: the new layout is already committed.
  env.fs.InjectFault(io::FaultOperation::kRemove, IoError("EIO (simulated)"), ".seg");
  EXPECT_FALSE(stream->EnforceRetention().ok());
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  EXPECT_EQ(stream->Describe().shards.size(), 2u);  // the parent expired
  size_t total = 0;
  for (const auto& shard : stream->Describe().shards) total += ReadAll(*stream, shard.index).size();
  EXPECT_EQ(total, 1u);
  ASSERT_TRUE(stream->EnforceRetention().ok());
  ASSERT_TRUE(stream->Append(MakeRecord("k", "more")).ok());
}

TEST(LogStoreTest, OversizedPayloadsAreChunkedAndReassembled) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  std::string big(3'500'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 1000);
  auto result = stream->AppendTransaction(
      {MakeRecord("k", "small1"), MakeRecord("k", big), MakeRecord("k", "small2")}, PgPosition(1));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto raw = ReadAll(*stream, 0);
  ASSERT_EQ(raw.size(), 2u + 4u);  // head + 3 fragments for 3.5 MB at 1 MiB
  EXPECT_EQ(raw[1].kind, RecordKind::kChunkedHead);
  EXPECT_EQ(raw[2].kind, RecordKind::kFragment);
  for (const auto& record : raw) {
    EXPECT_LE(record.partition_key.size() + record.payload.size(), kDefaultMaxRecordBytes);
  }
  EXPECT_EQ(result->records[1].sequence, raw[1].sequence);
  Reassembler reassembler;
  std::vector<std::string> whole;
  for (auto& record : raw) {
    auto out = reassembler.Add(std::move(record));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    if (*out) whole.push_back((*out)->payload);
  }
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0], "small1");
  EXPECT_TRUE(whole[1] == big);
  EXPECT_EQ(whole[2], "small2");
  // Plain Kinesis appends refuse oversized records.
  EXPECT_EQ(stream->Append(MakeRecord("k", big)).status().code(), ErrorCode::kInvalidArgument);
  // A corrupted fragment is detected by the reassembly CRC.
  auto again = ReadAll(*stream, 0);
  again[3].payload[5] ^= 1;
  Reassembler checker;
  Status failure;
  for (auto& record : again) {
    auto out = checker.Add(std::move(record));
    if (!out.ok()) failure = out.status();
  }
  EXPECT_EQ(failure.code(), ErrorCode::kCorruption);
}

TEST(LogStoreTest, SplitAndMergeKeepLineageAndPerKeyOrder) {
  FaultStore env;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(2));
  auto put = [&](const std::string& key, const std::string& payload) {
    auto appended = stream->Append(MakeRecord(key, payload));
    EXPECT_TRUE(appended.ok());
    return *appended;
  };
  for (int i = 0; i < 20; ++i) put("key" + std::to_string(i % 5), "before" + std::to_string(i));
  HashKeyRange range0 = EvenHashKeyRange(0, 2);
  HashKey middle{range0.end.high / 2, 0};
  EXPECT_EQ(stream->SplitShard(0, range0.start).status().code(), ErrorCode::kInvalidArgument);
  auto children = stream->SplitShard(0, middle);
  ASSERT_TRUE(children.ok()) << children.status().ToString();
  EXPECT_EQ(*children, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(stream->SplitShard(0, middle).status().code(), ErrorCode::kInvalidArgument);
  auto parent = *stream->DescribeShard(0);
  EXPECT_FALSE(parent.open);
  ASSERT_TRUE(parent.ending_sequence.has_value());
  auto left = *stream->DescribeShard(2);
  auto right = *stream->DescribeShard(3);
  EXPECT_EQ(left.parent_index, 0u);
  EXPECT_EQ(left.hash_range.start, range0.start);
  EXPECT_EQ(right.hash_range.start, middle);
  EXPECT_EQ(right.hash_range.end, range0.end);
  EXPECT_GT(left.starting_sequence, *parent.ending_sequence);
  for (int i = 20; i < 40; ++i) put("key" + std::to_string(i % 5), "after" + std::to_string(i));
  // Per-key order: reading each parent to its end, then its children, yields every key's
  // records in append order.
  std::map<std::string, std::vector<int>> order;
  std::vector<uint32_t> queue = {0, 1};
  std::set<uint32_t> done;
  while (!queue.empty()) {
    uint32_t shard = queue.front();
    queue.erase(queue.begin());
    if (done.count(shard)) continue;
    auto info = *stream->DescribeShard(shard);
    if (info.parent_index && !done.count(*info.parent_index)) {
      queue.push_back(shard);
      continue;
    }
    auto reader = *stream->OpenReader(shard, StartPosition::TrimHorizon());
    while (true) {
      auto batch = *reader->Read(ReadLimits{});
      for (const auto& record : batch.records) {
        std::string digits = record.payload.substr(record.payload.find_first_of("0123456789"));
        order[record.partition_key].push_back(std::stoi(digits));
      }
      if (batch.end_of_shard) {
        for (uint32_t child : batch.child_indexes) queue.push_back(child);
        break;
      }
      if (batch.records.empty()) break;
    }
    done.insert(shard);
  }
  for (const auto& [key, sequence] : order) {
    EXPECT_TRUE(std::is_sorted(sequence.begin(), sequence.end())) << key;
    EXPECT_EQ(sequence.size(), 8u) << key;
  }
  // Merge the two children back; then merge requires adjacency.
  EXPECT_EQ(stream->MergeShards(2, 1).status().code(), ErrorCode::kInvalidArgument);
  auto merged = stream->MergeShards(3, 2);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  auto child = *stream->DescribeShard(*merged);
  EXPECT_EQ(child.parent_index, 3u);
  EXPECT_EQ(child.adjacent_parent_index, 2u);
  EXPECT_EQ(child.hash_range, range0);
  put("key1", "merged");
  stream.reset();
  env.CrashAndReopen();
  stream = env.Get("s");
  auto info = stream->Describe();
  EXPECT_EQ(info.shards.size(), 5u);
  size_t open = 0;
  for (const auto& shard : info.shards) open += shard.open ? 1 : 0;
  EXPECT_EQ(open, 2u);
  size_t total = 0;
  for (const auto& shard : info.shards) total += ReadAll(*stream, shard.index).size();
  EXPECT_EQ(total, 41u);
}

TEST(LogStoreTest, ClosedShardExpiresAfterRetention) {
  FaultStore env;
  env.Open();
  StreamOptions options = Unordered(1);
  options.retention_nanos = 1'000'000'000;
  auto stream = *env.store->CreateStream("s", options);
  ASSERT_TRUE(stream->Append(MakeRecord("k", "old")).ok());
  ASSERT_TRUE(stream->SplitShard(0, HashKey{1, 0}).ok());
  env.clock.Advance(5'000'000'000);
  ASSERT_TRUE(stream->EnforceRetention().ok());
  auto info = stream->Describe();
  EXPECT_EQ(info.shards.size(), 2u);  // the parent expired
  EXPECT_EQ(stream->OpenReader(0, StartPosition::TrimHorizon()).status().code(),
            ErrorCode::kNotFound);
  stream.reset();
  env.CrashAndReopen();
  EXPECT_EQ(env.Get("s")->Describe().shards.size(), 2u);
}

TEST(LogStoreTest, RecoveryReadsIndexesNotSealedSegments) {
  FaultStore env;
  env.options.segment_bytes = 8192;
  env.options.commit_journal_bytes = 16384;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(200, 'b'))).ok());
  }
  uint64_t log_bytes = stream->DescribeShard(0)->bytes;
  ASSERT_GT(log_bytes, 400'000u);
  stream.reset();
  uint64_t before = env.fs.bytes_read();
  env.Open();  // clean restart: index files are present
  uint64_t recovery_read = env.fs.bytes_read() - before;
  // At most the active segment, the current commit journal, the indexes and the metadata;
  // not the whole log.
  EXPECT_LT(recovery_read, 8192u + 16384u + 12'000u) << "log bytes " << log_bytes;
  EXPECT_EQ(testing::ReadAll(*env.Get("s"), 0).size(), 2000u);
}

TEST(LogStoreTest, MissingIndexFilesAreRebuilt) {
  FaultStore env;
  env.options.segment_bytes = 1024;
  env.Open();
  auto stream = *env.store->CreateStream("s", Unordered(1));
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(stream->Append(MakeRecord("k", std::string(90, 'i'))).ok());
  }
  stream.reset();
  // Index files are never fsync'd: a crash drops them, and recovery rebuilds them.
  env.CrashAndReopen();
  auto names = *env.fs.List("/data/streams/s/shardId-000000000000");
  size_t segments = 0;
  size_t indexes = 0;
  for (const auto& name : names) {
    segments += name.ends_with(".seg");
    indexes += name.ends_with(".idx");
  }
  EXPECT_GT(segments, 3u);
  EXPECT_EQ(indexes, segments - 1);
  stream = env.Get("s");
  EXPECT_EQ(ReadAll(*stream, 0).size(), 60u);
  EXPECT_EQ(
      ReadAll(*stream, 0, StartPosition::AtSequence(SequenceNumber(33))).front().sequence.value(),
      33u);
}

TEST(LogStoreTest, ReadOnlyWaitWakesOnCommitThroughInotify) {
  // A real directory: inotify watches the real file system. The read-only store's periodic
  // re-check is set far beyond the deadline, so a wait that ends early with data was woken by
  // the directory watch (or found the commit already there at its first check).
  std::string dir =
      std::filesystem::temp_directory_path() / ("eddy_log_inotify_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = *LogStore::Open(dir);
  auto stream = *store->CreateStream("s", Unordered(1));
  LogStoreOptions read_only;
  read_only.read_only = true;
  read_only.follow_recheck_millis = 600'000;
  auto view = *LogStore::Open(dir, read_only);
  auto other = *view->GetStream("s");
  auto reader = *other->OpenReader(0, StartPosition::Latest());
  // Nothing committed: the wait honours its deadline.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(reader->WaitForData(start + std::chrono::milliseconds(50)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_TRUE(reader->Read(ReadLimits{})->records.empty());
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::mutex mu;
    std::condition_variable cv;
    bool waiting = false;
    std::chrono::steady_clock::time_point woke;
    Status waited;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::thread waiter([&] {
      {
        std::lock_guard lock(mu);
        waiting = true;
      }
      cv.notify_all();
      waited = reader->WaitForData(deadline);
      woke = std::chrono::steady_clock::now();
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return waiting; });
    }
    ASSERT_TRUE(stream->Append(MakeRecord("k", "r" + std::to_string(round))).ok());
    waiter.join();
    ASSERT_TRUE(waited.ok()) << waited.ToString();
    // Returned because of data, long before the deadline (generous bound: a loaded machine).
    ASSERT_LT(woke, deadline - std::chrono::seconds(15));
    auto batch = reader->Read(ReadLimits{});
    ASSERT_TRUE(batch.ok());
    ASSERT_EQ(Payloads(batch->records), std::vector<std::string>{"r" + std::to_string(round)});
  }
  reader.reset();
  other.reset();
  view.reset();
  stream.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

TEST(LogStoreTest, ManyReadOnlyWaitersShareOneWatchAndAllWake) {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("eddy_log_inotify_many_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = *LogStore::Open(dir);
  constexpr uint32_t kShards = 4;
  auto stream = *store->CreateStream("s", Unordered(kShards));
  LogStoreOptions read_only;
  read_only.read_only = true;
  read_only.follow_recheck_millis = 600'000;  // only the watch can wake them
  auto view = *LogStore::Open(dir, read_only);
  auto other = *view->GetStream("s");
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Two waiters per shard; one transaction touching every shard wakes all of them.
    std::vector<std::unique_ptr<ShardReader>> readers;
    for (uint32_t shard = 0; shard < kShards * 2; ++shard) {
      readers.push_back(*other->OpenReader(shard % kShards, StartPosition::Latest()));
    }
    std::mutex mu;
    std::condition_variable cv;
    size_t started = 0;
    std::atomic<size_t> with_data{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<std::thread> waiters;
    for (auto& reader : readers) {
      waiters.emplace_back([&, r = reader.get()] {
        {
          std::lock_guard lock(mu);
          ++started;
        }
        cv.notify_all();
        if (!r->WaitForData(deadline).ok()) return;
        if (std::chrono::steady_clock::now() < deadline - std::chrono::seconds(15)) {
          auto batch = r->Read(ReadLimits{});
          if (batch.ok() && !batch->records.empty()) ++with_data;
        }
      });
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return started == readers.size(); });
    }
    std::vector<AppendRecord> records;
    for (int i = 0; i < 64; ++i) records.push_back(MakeRecord("k" + std::to_string(i), "v"));
    auto appended = stream->AppendTransaction(records, PgPosition(round + 1));
    ASSERT_TRUE(appended.ok());
    std::set<uint32_t> shards;
    for (const auto& record : appended->records) shards.insert(record.shard_index);
    ASSERT_EQ(shards.size(), kShards);  // 64 keys spread over every shard
    for (auto& waiter : waiters) waiter.join();
    EXPECT_EQ(with_data.load(), readers.size());
  }
  other.reset();
  view.reset();
  stream.reset();
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace eddy::log
