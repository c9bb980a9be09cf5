// One retry classifier and one backoff for the whole codebase: captures reconnecting to their
// database, sinks retrying a destination, clients retrying a peer.
//
// Classification: Status::IsRetriable() is the only classifier (kUnavailable, kTimeout,
// kNoSpace are retried; everything else is permanent). A caller that knows better about one
// of its own peers maps that peer's errors onto these codes where they are produced, never by
// a second classifier at the retry site.
//
// Backoff: exponential with full jitter ("decorrelated" variants are not used: one shape
// everywhere keeps the behaviour predictable). Delay n (n = 0, 1, ...) is drawn uniformly from
// [initial * multiplier^n * (1 - jitter), initial * multiplier^n], capped at `max`.
//
// Thread safety: a Backoff is used by one thread; BackoffPolicy is a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace eddy {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30'000};
  double multiplier = 2.0;
  // Fraction of each delay that is randomized, 0 (none) .. 1 (full jitter).
  double jitter = 0.5;
};

class Backoff {
 public:
  // Without a seed, the next of this thread's seeds (see NextSeed). A Backoff is made for
  // every batch a sink delivers, and most never retry: the jitter's generator is seeded on
  // the first NextDelay.
  explicit Backoff(BackoffPolicy policy = {}, uint64_t seed = NextSeed());
  // Distinct seeds from a per-thread sequence drawn once from std::random_device (reading
  // the device for every Backoff cost a system call or a hardware draw per batch).
  static uint64_t NextSeed();

  // The delay before the next attempt; each call moves one step up.
  std::chrono::milliseconds NextDelay();
  // After a success: the next failure starts again at `initial`.
  void Reset() { attempt_ = 0; }
  // Failures since the last Reset.
  uint32_t attempts() const { return attempt_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  uint64_t seed_;
  std::optional<std::mt19937_64> random_;  // seeded with seed_ on the first NextDelay
  uint32_t attempt_ = 0;
};

}  // namespace eddy
