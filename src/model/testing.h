// Test helpers: random and sample change events for round-trip, fuzz-seed and rendering tests
// in any module (library eddy_model_testing; link it only from tests and benchmarks).
#pragma once

#include <cstdint>
#include <random>

#include "model/event.h"

namespace eddy::model::testing {

// A random value of any type (arrays nest up to `max_depth`), including edge cases:
// NaN/±Infinity, ±infinity and zero dates, negative times, invalid UTF-8, empty strings.
Value RandomValue(std::mt19937_64& random, int max_depth = 2);

// A random, shape-consistent event of any operation with a PostgreSQL or MySQL position.
ChangeEvent RandomEvent(std::mt19937_64& random);

// The seed for randomized tests: EDDY_TEST_SEED when set, otherwise from std::random_device.
// Prints "seed=N (replay with EDDY_TEST_SEED=N)" to stderr.
uint64_t TestSeed();

}  // namespace eddy::model::testing
