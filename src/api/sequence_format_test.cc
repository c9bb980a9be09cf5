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

}  // namespace
}  // namespace eddy::api
