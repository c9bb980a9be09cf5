#include "consume/outstanding_records.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace eddy::consume {
namespace {

TEST(OutstandingRecordsTest, LowestIsTheFirstNotRemovedPerShard) {
  OutstandingRecords outstanding;
  for (uint64_t s = 1; s <= 5; ++s) outstanding.Add(0, s, static_cast<int64_t>(100 + s));
  outstanding.Add(2, 7, 50);
  EXPECT_EQ(outstanding.size(), 6u);
  EXPECT_TRUE(outstanding.Remove(0, 3));
  EXPECT_FALSE(outstanding.Remove(0, 3));  // once only
  EXPECT_FALSE(outstanding.Remove(1, 3));  // unknown shard
  EXPECT_TRUE(outstanding.Remove(0, 1));
  Checkpoint checkpoint;
  checkpoint.shards[5] = ShardCheckpoint{SequenceNumber(9), true};
  outstanding.LowestInto(&checkpoint, nullptr);
  EXPECT_EQ(checkpoint.shards.at(0).next.value(), 2u);
  EXPECT_EQ(checkpoint.shards.at(2).next.value(), 7u);
  EXPECT_EQ(checkpoint.shards.at(5).next.value(), 9u);  // untouched
  EXPECT_EQ(outstanding.OldestArrivalNanos(), 50);
  EXPECT_EQ(outstanding.size(), 4u);
}

TEST(OutstandingRecordsTest, ExcludedRecordsAreSkipped) {
  OutstandingRecords outstanding;
  for (uint64_t s = 10; s < 20; ++s) outstanding.Add(1, s, 1);
  for (uint64_t s = 10; s < 20; ++s) outstanding.Add(3, s, 1);
  OutstandingRecords::SortedKeys excluding = {{1, 10}, {1, 11}, {1, 13}, {3, 11}};
  Checkpoint checkpoint;
  outstanding.LowestInto(&checkpoint, &excluding);
  EXPECT_EQ(checkpoint.shards.at(1).next.value(), 12u);
  EXPECT_EQ(checkpoint.shards.at(3).next.value(), 10u);
  // Every record of a shard excluded: the shard is left as the caller had it.
  OutstandingRecords one;
  one.Add(4, 8, 1);
  OutstandingRecords::SortedKeys all = {{4, 8}};
  Checkpoint frontier;
  frontier.shards[4] = ShardCheckpoint{SequenceNumber(9), false};
  one.LowestInto(&frontier, &all);
  EXPECT_EQ(frontier.shards.at(4).next.value(), 9u);
}

SinkRecord RecordAt(uint32_t shard, uint64_t sequence) {
  SinkRecord record;
  record.shard_index = shard;
  record.sequence = SequenceNumber(sequence);
  return record;
}

TEST(OutstandingRecordsTest, KeysOfSortsRecordsInReadOrderAndAnyOther) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    // Read order: one counter over the stream, each record in a random shard.
    std::vector<SinkRecord> records;
    uint32_t shards = 1 + random() % 6;
    uint32_t high_shard = round % 10 == 0 ? 70'000 : 0;  // past the counting buckets
    for (uint64_t sequence = 1; sequence <= 1 + random() % 300; ++sequence) {
      records.push_back(RecordAt(high_shard + random() % shards, sequence * 3));
    }
    if (round % 3 == 0) std::shuffle(records.begin(), records.end(), random);  // any order
    OutstandingRecords::SortedKeys expected;
    for (const SinkRecord& record : records) {
      expected.emplace_back(record.shard_index, record.sequence.value());
    }
    std::sort(expected.begin(), expected.end());
    OutstandingRecords::SortedKeys keys = {{9, 9}};  // cleared first
    OutstandingRecords::KeysOf(records, &keys);
    ASSERT_EQ(keys, expected) << "round " << round;
  }
  OutstandingRecords::SortedKeys keys = {{1, 1}};
  OutstandingRecords::KeysOf({}, &keys);
  EXPECT_TRUE(keys.empty());
}

TEST(OutstandingRecordsTest, RandomRemovalsMatchAnOrderedSet) {
  std::mt19937 random(7);
  OutstandingRecords outstanding;
  std::map<uint32_t, std::set<uint64_t>> model;
  std::map<uint32_t, uint64_t> next;
  for (int step = 0; step < 20000; ++step) {
    uint32_t shard = std::uniform_int_distribution<uint32_t>(0, 3)(random);
    if (std::uniform_int_distribution<int>(0, 2)(random) > 0) {
      uint64_t sequence = next[shard] += std::uniform_int_distribution<uint64_t>(1, 3)(random);
      outstanding.Add(shard, sequence, static_cast<int64_t>(sequence));
      model[shard].insert(sequence);
    } else if (!model[shard].empty()) {
      auto it = model[shard].begin();
      std::advance(it, std::uniform_int_distribution<size_t>(0, model[shard].size() - 1)(random));
      ASSERT_TRUE(outstanding.Remove(shard, *it));
      model[shard].erase(it);
    }
    size_t total = 0;
    Checkpoint checkpoint;
    outstanding.LowestInto(&checkpoint, nullptr);
    for (const auto& [index, sequences] : model) {
      total += sequences.size();
      if (sequences.empty()) {
        EXPECT_EQ(checkpoint.shards.count(index), 0u);
      } else {
        ASSERT_EQ(checkpoint.shards.at(index).next.value(), *sequences.begin());
      }
    }
    ASSERT_EQ(outstanding.size(), total);
  }
}

}  // namespace
}  // namespace eddy::consume
