#include "consume/sequence_text.h"

#include <gtest/gtest.h>

#include <random>

#include "log/kinesis.h"
#include "model/testing.h"

namespace eddy::consume {
namespace {

// Equal to log::FormatSequenceNumber for random shards, creation times and sequence numbers,
// and for the edges (0, limb boundaries, the largest sequence number).
TEST(SequenceTextTest, EqualsTheLogsFormatting) {
  std::mt19937_64 random(model::testing::TestSeed());
  std::string text;
  for (int shard_case = 0; shard_case < 50; ++shard_case) {
    uint32_t shard_index = shard_case < 3 ? static_cast<uint32_t>(shard_case) * 0x7FFFFFFFu
                                          : static_cast<uint32_t>(random());
    int64_t creation = shard_case == 0 ? 0 : static_cast<int64_t>(random() >> 1);
    SequenceText formatter(shard_index, creation);
    for (uint64_t sequence :
         {uint64_t{0}, uint64_t{1}, uint64_t{999'999'999}, uint64_t{1'000'000'000},
          uint64_t{999'999'999'999'999'999}, uint64_t{1'000'000'000'000'000'000}, ~uint64_t{0}}) {
      formatter.Format(SequenceNumber(sequence), &text);
      EXPECT_EQ(text, log::FormatSequenceNumber(SequenceNumber(sequence), shard_index, creation))
          << "shard " << shard_index << " creation " << creation << " sequence " << sequence;
    }
    for (int i = 0; i < 200; ++i) {
      uint64_t sequence = random() >> (random() % 64);
      formatter.Format(SequenceNumber(sequence), &text);
      ASSERT_EQ(text, log::FormatSequenceNumber(SequenceNumber(sequence), shard_index, creation))
          << "shard " << shard_index << " creation " << creation << " sequence " << sequence;
    }
  }
}

}  // namespace
}  // namespace eddy::consume
