#include "api/sequence_format.h"

#include <gtest/gtest.h>

#include <random>

#include "log/kinesis.h"

namespace eddy::api {
namespace {

// The fast rendering must equal the log's definition everywhere, including the extremes.
TEST(SequenceFormat, EqualsLogRendering) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("EDDY_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("seed=%llu (EDDY_TEST_SEED replays)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  std::vector<std::tuple<uint64_t, uint32_t, int64_t>> cases = {
      {0, 0, 0}, {1, 0, 0}, {~uint64_t{0}, ~uint32_t{0}, INT64_MAX}, {5, 7, -1},
      {1ULL << 48, 15, 1'700'000'000'000'000'000}};
  for (int i = 0; i < 20000; ++i) {
    uint64_t sequence = random() >> (random() % 64);
    cases.emplace_back(sequence, static_cast<uint32_t>(random() >> (random() % 64)),
                       static_cast<int64_t>(random() >> 1));
  }
  for (auto [sequence, shard, created] : cases) {
    ASSERT_EQ(FormatSequenceNumberFast(SequenceNumber(sequence), shard, created),
              log::FormatSequenceNumber(SequenceNumber(sequence), shard, created))
        << sequence << " " << shard << " " << created;
  }
}

// The limb renderer equals the full rendering over runs of consecutive numbers, gaps, repeats,
// descending steps, the extremes and the counter's wrap.
TEST(SequenceFormat, RendererEqualsLogRendering) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("EDDY_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::printf("seed=%llu (EDDY_TEST_SEED replays)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  std::vector<std::tuple<uint64_t, uint32_t, int64_t>> shards = {
      {0, 0, 0}, {~uint64_t{0} - 3000, ~uint32_t{0}, INT64_MAX}, {99, 7, -1},
      {999'999, 3, 1'700'000'000'000'000'000}};
  for (int i = 0; i < 50; ++i) {
    shards.emplace_back(random() >> (random() % 64), static_cast<uint32_t>(random() >> (random() % 64)),
                        static_cast<int64_t>(random() >> 1));
  }
  for (auto [first, shard, created] : shards) {
    SequenceRenderer renderer(shard, created);
    uint64_t sequence = first;
    for (int i = 0; i < 2000; ++i) {
      std::string rendered;
      renderer.Append(rendered, SequenceNumber(sequence));
      ASSERT_EQ(rendered, log::FormatSequenceNumber(SequenceNumber(sequence), shard, created))
          << sequence << " " << shard << " " << created;
      switch (random() % 20) {
        case 0: sequence += random() % 1000; break;   // a gap (or a repeat)
        case 1: sequence -= random() % 10; break;      // backwards
        default: sequence += 1; break;                 // consecutive
      }
    }
  }
  // Arbitrary values in any order through one renderer (lengths and leading limbs change).
  SequenceRenderer any(~uint32_t{0}, 1'700'000'000'000'000'000);
  for (int i = 0; i < 20000; ++i) {
    uint64_t sequence = random() >> (random() % 64);
    std::string rendered;
    any.Append(rendered, SequenceNumber(sequence));
    ASSERT_EQ(rendered, log::FormatSequenceNumber(SequenceNumber(sequence), ~uint32_t{0},
                                                  1'700'000'000'000'000'000))
        << sequence;
  }
  // Wrap-around of the 64-bit counter renders correctly too.
  SequenceRenderer renderer(1, 1);
  std::string a, b;
  renderer.Append(a, SequenceNumber(~uint64_t{0}));
  renderer.Append(b, SequenceNumber(0));
  EXPECT_EQ(a, log::FormatSequenceNumber(SequenceNumber(~uint64_t{0}), 1, 1));
  EXPECT_EQ(b, log::FormatSequenceNumber(SequenceNumber(0), 1, 1));
}

}  // namespace
}  // namespace eddy::api
