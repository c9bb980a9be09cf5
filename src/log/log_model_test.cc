// Randomized model test: long random sequences of append / read / trim / split / merge /
// crash / reopen against a simple in-memory model. Prints its seed; EDDY_TEST_SEED replays.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "log/chunking.h"
#include "log/log_store.h"
#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using testing::FaultStore;
using testing::MakeRecord;
using testing::PgPosition;

struct ModelRecord {
  uint64_t sequence;
  std::string key;
  std::string payload;
  int64_t arrival;
};

struct ModelShard {
  bool open = true;
  HashKeyRange range;
  std::vector<ModelRecord> records;  // not yet trimmed
};

class ModelTest {
 public:
  explicit ModelTest(uint64_t seed) : random_(seed) {}

  void Run(int steps) {
    env_.options.segment_bytes = 1024 + random_() % 2048;
    env_.options.commit_journal_bytes = 1024 + random_() % 4096;
    env_.options.index_interval_bytes = 64 + random_() % 512;
    env_.Open();
    StreamOptions options;
    options.shard_count = 1 + random_() % 3;
    options.retention_nanos = 100'000'000'000;  // 100 s of manual clock
    options.max_record_bytes = 1024;
    stream_ = *env_.store->CreateStream("m", options);
    for (uint32_t i = 0; i < options.shard_count; ++i) {
      shards_[i].range = EvenHashKeyRange(i, options.shard_count);
    }
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      int op = static_cast<int>(random_() % 100);
      if (op < 38) {
        Append();
      } else if (op < 45) {
        AppendInParts();
      } else if (op < 75) {
        Read();
      } else if (op < 82) {
        Trim();
      } else if (op < 86) {
        Split();
      } else if (op < 89) {
        Merge();
      } else if (op < 95) {
        Crash(false);
      } else {
        Crash(true);
      }
      if (random_() % 4 == 0) env_.clock.Advance(static_cast<int64_t>(random_() % 20'000'000'000));
    }
    for (auto& [index, shard] : shards_) CheckShard(index, StartPosition::TrimHorizon());
  }

 private:
  std::vector<AppendRecord> MakeTransaction(uint64_t lsn) {
    std::vector<AppendRecord> records;
    int count = 1 + static_cast<int>(random_() % 5);
    for (int i = 0; i < count; ++i) {
      std::string key = "key" + std::to_string(random_() % 20);
      size_t size = random_() % 8 == 0 ? 1500 + random_() % 3000 : random_() % 200;
      std::string payload = "tx" + std::to_string(lsn) + "." + std::to_string(i) + ":";
      payload.append(size, static_cast<char>('a' + random_() % 26));
      records.push_back(MakeRecord(key, payload, PgPosition(lsn)));
    }
    return records;
  }

  void Apply(const std::vector<AppendRecord>& records, const AppendResult& result) {
    ASSERT_EQ(result.records.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      uint32_t shard = result.records[i].shard_index;
      ASSERT_TRUE(shards_.count(shard));
      ASSERT_TRUE(shards_[shard].open);
      ASSERT_TRUE(shards_[shard].range.Contains(HashKey::FromPartitionKey(records[i].partition_key)));
      auto& list = shards_[shard].records;
      if (!list.empty()) {
        ASSERT_GT(result.records[i].sequence.value(), list.back().sequence);
      }
      list.push_back(ModelRecord{result.records[i].sequence.value(), records[i].partition_key,
                                 records[i].payload, env_.clock.NowNanos()});
    }
  }

  void Append() {
    if (random_() % 10 == 0 && durable_lsn_ > 0) {
      // Re-append an old transaction: a no-op.
      uint64_t old = 1 + random_() % durable_lsn_;
      auto result = stream_->AppendTransaction(MakeTransaction(old), PgPosition(old));
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_TRUE(result->duplicate);
      return;
    }
    uint64_t lsn = ++lsn_;
    auto records = MakeTransaction(lsn);
    auto result = stream_->AppendTransaction(records, PgPosition(lsn));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_FALSE(result->duplicate);
    Apply(records, *result);
    durable_lsn_ = lsn;
  }

  // A transaction appended in parts (TransactionAppender), with Reads (in-process and through
  // the read-only viewer) between parts that must not see any of it, then commit, duplicate
  // commit, abort, destruction, or a crash with the appender open.
  void AppendInParts() {
    auto appender = stream_->BeginTransaction();
    ASSERT_TRUE(appender.ok()) << appender.status().ToString();
    uint64_t lsn = lsn_ + 1;
    std::vector<AppendRecord> all;
    int parts = 1 + static_cast<int>(random_() % 4);
    for (int p = 0; p < parts; ++p) {
      auto part = MakeTransaction(lsn);
      for (auto& record : part) record.payload.insert(0, "p" + std::to_string(p));
      all.insert(all.end(), part.begin(), part.end());
      ASSERT_TRUE((*appender)->Append(std::move(part)).ok());
      if (random_() % 2 == 0) Read();  // the model holds none of it: nothing may show
      if (::testing::Test::HasFatalFailure()) return;
    }
    switch (random_() % 6) {
      case 0:
        ASSERT_TRUE((*appender)->Abort().ok());
        return;
      case 1:
        appender->reset();  // destroyed without Commit
        return;
      case 2: {
        // The process dies mid-transaction: no rollback runs, unsynced bytes are lost.
        env_.fs.InjectFault(io::FaultOperation::kTruncate, IoError("died"), "", 0, UINT32_MAX);
        env_.fs.InjectFault(io::FaultOperation::kRemove, IoError("died"), "", 0, UINT32_MAX);
        appender->reset();
        Crash(false);
        return;
      }
      case 3:
        if (durable_lsn_ > 0) {
          auto result = (*appender)->Commit(PgPosition(1 + random_() % durable_lsn_));
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          EXPECT_TRUE(result->duplicate);
          return;
        }
        break;
      default:
        break;
    }
    lsn_ = lsn;
    auto result = (*appender)->Commit(PgPosition(lsn));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_FALSE(result->duplicate);
    durable_lsn_ = lsn;
    // Records got consecutive numbers in input order (a chunked record takes one per piece).
    uint64_t sequence = result->first_sequence.value();
    uint64_t pieces = 0;
    for (const auto& record : all) {
      HashKey key = HashKey::FromPartitionKey(record.partition_key);
      uint32_t target = UINT32_MAX;
      for (auto& [index, shard] : shards_) {
        if (shard.open && shard.range.Contains(key)) target = index;
      }
      ASSERT_NE(target, UINT32_MAX);
      shards_[target].records.push_back(ModelRecord{sequence, record.partition_key,
                                                    record.payload, env_.clock.NowNanos()});
      uint64_t n = SplitPayload(record.partition_key, record.payload, 1024).size();
      sequence += n;
      pieces += n;
    }
    EXPECT_EQ(result->record_count, pieces);
    EXPECT_EQ(result->last_sequence.value(), sequence - 1);
  }

  // Reads the shard from `start` with the reassembler and compares with the model.
  void CheckShard(uint32_t index, StartPosition start, Stream* through = nullptr) {
    const ModelShard& shard = shards_[index];
    if (through == nullptr) through = stream_.get();
    auto reader = through->OpenReader(index, start);
    if (!reader.ok()) {
      ASSERT_EQ(reader.status().code(), ErrorCode::kNotFound) << reader.status().ToString();
      ASSERT_TRUE(shard.records.empty() && !shard.open);
      return;
    }
    std::vector<ModelRecord> expected;
    for (const auto& record : shard.records) {
      bool take = false;
      switch (start.type) {
        case IteratorType::kTrimHorizon:
          take = true;
          break;
        case IteratorType::kLatest:
          take = false;
          break;
        case IteratorType::kAtSequenceNumber:
          take = record.sequence >= start.sequence.value();
          break;
        case IteratorType::kAfterSequenceNumber:
          take = record.sequence > start.sequence.value();
          break;
        case IteratorType::kAtTimestamp:
          take = record.arrival >= start.timestamp_nanos;
          break;
      }
      if (take) expected.push_back(record);
    }
    std::vector<Record> got;
    Reassembler reassembler;
    ReadLimits limits;
    limits.max_records = 1 + random_() % 20;
    limits.max_bytes = 100 + random_() % 20000;
    for (int guard = 0; guard < 100000; ++guard) {
      auto batch = (*reader)->Read(limits);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      for (auto& record : batch->records) {
        auto whole = reassembler.Add(std::move(record));
        ASSERT_TRUE(whole.ok()) << whole.status().ToString();
        if (*whole) got.push_back(std::move(**whole));
      }
      if (batch->end_of_shard) {
        ASSERT_FALSE(shard.open);
        break;
      }
      if (batch->records.empty()) break;
    }
    ASSERT_EQ(got.size(), expected.size()) << "shard " << index;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].partition_key, expected[i].key);
      ASSERT_EQ(got[i].payload, expected[i].payload);
    }
  }

  void Read() {
    std::vector<uint32_t> indexes;
    for (auto& [index, shard] : shards_) indexes.push_back(index);
    uint32_t index = indexes[random_() % indexes.size()];
    const auto& records = shards_[index].records;
    StartPosition start = StartPosition::TrimHorizon();
    switch (random_() % 5) {
      case 0:
        break;
      case 1:
        start = StartPosition::Latest();
        break;
      case 2:
      case 3:
        if (!records.empty()) {
          uint64_t sequence = records[random_() % records.size()].sequence;
          start = random_() % 2 ? StartPosition::AtSequence(SequenceNumber(sequence))
                                : StartPosition::AfterSequence(SequenceNumber(sequence));
        }
        break;
      case 4:
        if (!records.empty()) {
          start = StartPosition::AtTimestamp(records[random_() % records.size()].arrival -
                                             static_cast<int64_t>(random_() % 2));
        }
        break;
    }
    // A third of the reads go through a read-only store, as another process would.
    if (random_() % 3 == 0) {
      if (!viewer_) OpenViewer();
      CheckShard(index, start, viewer_stream_.get());
    } else {
      CheckShard(index, start);
    }
  }

  void OpenViewer() {
    LogStoreOptions options = env_.options;
    options.read_only = true;
    auto viewer = LogStore::Open("/data", options);
    ASSERT_TRUE(viewer.ok()) << viewer.status().ToString();
    viewer_ = std::move(*viewer);
    auto stream = viewer_->GetStream("m");
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    viewer_stream_ = *stream;
  }

  void Trim() {
    env_.clock.Advance(static_cast<int64_t>(random_() % 60'000'000'000));
    auto dropped = stream_->EnforceRetention();
    ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
    int64_t cutoff = env_.clock.NowNanos() - 100'000'000'000;
    for (auto& [index, shard] : shards_) {
      auto info = stream_->DescribeShard(index);
      ASSERT_TRUE(info.ok());
      if (info->expired) {
        for (const auto& record : shard.records) ASSERT_LT(record.arrival, cutoff);
        shard.records.clear();
        continue;
      }
      uint64_t horizon = info->trim_horizon.value();
      auto& records = shard.records;
      while (!records.empty() && records.front().sequence < horizon) {
        // Only records past retention may go.
        ASSERT_LT(records.front().arrival, cutoff);
        records.erase(records.begin());
      }
    }
  }

  void Split() {
    std::vector<uint32_t> open;
    for (auto& [index, shard] : shards_) {
      if (shard.open) open.push_back(index);
    }
    uint32_t parent = open[random_() % open.size()];
    HashKeyRange range = shards_[parent].range;
    if (range.start == range.end) return;
    // A key strictly inside (start, end].
    HashKey key = range.start;
    key.high += (range.end.high - range.start.high) / 2;
    if (key == range.start) key.low = range.start.low + 1 + (range.end.low - range.start.low) / 2;
    if (!(range.start < key && key <= range.end)) return;
    auto children = stream_->SplitShard(parent, key);
    ASSERT_TRUE(children.ok()) << children.status().ToString();
    shards_[parent].open = false;
    HashKey before = key;
    if (before.low == 0) --before.high;
    --before.low;
    shards_[(*children)[0]].range = HashKeyRange{range.start, before};
    shards_[(*children)[1]].range = HashKeyRange{key, range.end};
  }

  void Merge() {
    for (auto& [a, first] : shards_) {
      for (auto& [b, second] : shards_) {
        if (a == b || !first.open || !second.open) continue;
        HashKey next = first.range.end;
        if (next == HashKey::Max()) continue;
        if (++next.low == 0) ++next.high;
        if (next != second.range.start) continue;
        auto child = stream_->MergeShards(a, b);
        ASSERT_TRUE(child.ok()) << child.status().ToString();
        HashKeyRange merged{first.range.start, second.range.end};
        first.open = false;
        second.open = false;
        shards_[*child].range = merged;
        return;
      }
    }
  }

  void Crash(bool with_fault) {
    std::vector<AppendRecord> uncertain;
    uint64_t uncertain_lsn = 0;
    if (with_fault) {
      switch (random_() % 3) {
        case 0:
          env_.fs.InjectFault(io::FaultOperation::kSync, IoError("EIO (simulated)"), "",
                              static_cast<uint32_t>(random_() % 3), 1);
          break;
        case 1:
          env_.fs.InjectFault(io::FaultOperation::kAppend, IoError("EIO (simulated)"),
                              random_() % 2 ? "commit-" : "shardId", 0, 1);
          break;
        case 2:
          env_.fs.SetCapacity(env_.fs.BytesUsed() + random_() % 200);
          break;
      }
      uncertain_lsn = ++lsn_;
      uncertain = MakeTransaction(uncertain_lsn);
      auto result = stream_->AppendTransaction(uncertain, PgPosition(uncertain_lsn));
      env_.fs.SetCapacity(0);
      if (result.ok()) {
        Apply(uncertain, *result);
        durable_lsn_ = uncertain_lsn;
        uncertain.clear();
      }
    }
    stream_.reset();
    viewer_stream_.reset();
    viewer_.reset();
    env_.CrashAndReopen();
    if (::testing::Test::HasFatalFailure()) return;
    stream_ = env_.Get("m");
    ASSERT_TRUE(stream_ != nullptr);
    if (!uncertain.empty()) {
      // A failed transaction is either wholly durable or wholly absent.
      SourcePosition high = stream_->HighestDurablePosition();
      bool present = high == PgPosition(uncertain_lsn);
      size_t found = 0;
      std::string marker = "tx" + std::to_string(uncertain_lsn) + ".";
      for (auto& [index, shard] : shards_) {
        Status error;
        for (const auto& record : testing::ReadAll(*stream_, index, StartPosition::TrimHorizon(),
                                                   &error)) {
          if (record.payload.rfind(marker, 0) == 0) ++found;
        }
        ASSERT_TRUE(error.ok() || (error.code() == ErrorCode::kNotFound && !shard.open))
            << error.ToString();
      }
      if (present) {
        ASSERT_GT(found, 0u);
        durable_lsn_ = uncertain_lsn;
        // Adopt it into the model: re-read to learn where it went.
        for (auto& [index, shard] : shards_) {
          for (const auto& record : testing::ReadAll(*stream_, index)) {
            if (record.payload.rfind(marker, 0) == 0 && record.kind != RecordKind::kFragment) {
              if (record.kind == RecordKind::kChunkedHead) {
                // Reassemble by re-reading from its sequence.
                auto reader = *stream_->OpenReader(index, StartPosition::AtSequence(record.sequence));
                Reassembler reassembler;
                std::optional<Record> whole;
                while (!whole) {
                  auto batch = *reader->Read(ReadLimits{1, 1u << 30});
                  ASSERT_FALSE(batch.records.empty());
                  whole = *reassembler.Add(std::move(batch.records[0]));
                }
                shard.records.push_back(ModelRecord{record.sequence.value(), whole->partition_key,
                                                    whole->payload, whole->arrival_nanos});
              } else {
                shard.records.push_back(ModelRecord{record.sequence.value(), record.partition_key,
                                                    record.payload, record.arrival_nanos});
              }
            }
          }
        }
      } else {
        ASSERT_EQ(found, 0u) << "a failed transaction is half visible";
      }
    }
  }

  std::mt19937_64 random_;
  FaultStore env_;
  std::shared_ptr<Stream> stream_;
  std::unique_ptr<LogStore> viewer_;  // read-only, like `eddy tail` in another process
  std::shared_ptr<Stream> viewer_stream_;
  std::map<uint32_t, ModelShard> shards_;
  uint64_t lsn_ = 0;
  uint64_t durable_lsn_ = 0;
};

uint64_t SeedFromEnvironment(uint64_t fallback) {
  const char* text = std::getenv("EDDY_TEST_SEED");
  return text ? std::strtoull(text, nullptr, 10) : fallback;
}

TEST(LogModelTest, RandomOperationsMatchTheModel) {
  uint64_t base = SeedFromEnvironment(std::random_device{}());
  int runs = std::getenv("EDDY_TEST_SEED") ? 1 : 6;
  for (int run = 0; run < runs; ++run) {
    uint64_t seed = base + static_cast<uint64_t>(run);
    std::cout << "LogModelTest seed=" << seed << " (replay with EDDY_TEST_SEED=" << seed << ")"
              << std::endl;
    SCOPED_TRACE("EDDY_TEST_SEED=" + std::to_string(seed));
    ModelTest test(seed);
    test.Run(1000);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace eddy::log
