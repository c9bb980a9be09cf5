#include "base/backoff.h"

#include <algorithm>
#include <cmath>

namespace eddy {

uint64_t Backoff::NextSeed() {
  // splitmix64 over a per-thread counter that starts at a random_device draw.
  thread_local uint64_t state =
      (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Backoff::Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), seed_(seed) {
  policy_.multiplier = std::max(1.0, policy_.multiplier);
  policy_.jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  if (policy_.max < policy_.initial) policy_.max = policy_.initial;
}

std::chrono::milliseconds Backoff::NextDelay() {
  const double initial = static_cast<double>(policy_.initial.count());
  const double cap = static_cast<double>(policy_.max.count());
  // Stop growing the exponent once the cap is reached, so it never overflows.
  double ceiling = initial * std::pow(policy_.multiplier, std::min<uint32_t>(attempt_, 64));
  ceiling = std::min(ceiling, cap);
  if (attempt_ < UINT32_MAX) ++attempt_;
  const double floor = ceiling * (1.0 - policy_.jitter);
  std::uniform_real_distribution<double> pick(floor, std::max(floor, ceiling));
  if (!random_) random_.emplace(seed_);
  return std::chrono::milliseconds(static_cast<int64_t>(pick(*random_)));
}

}  // namespace eddy
