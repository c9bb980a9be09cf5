// Process-wide settings of glibc's allocator, made once at start-up.
//
// glibc's malloc serves a block of at least M_MMAP_THRESHOLD bytes with its own mmap (and
// munmap on free), and returns the free memory at the top of a heap to the kernel once it
// exceeds M_TRIM_THRESHOLD. Both start low (128 KiB) and rise only once the process frees a
// large mapping, so they depend on what the process did before. eddy's steady state allocates
// and frees blocks of one to a few megabytes per batch (librdkafka's produce requests, a
// batch's SinkRecord vector, a rendering arena); while the thresholds are low, each of them is
// a fresh mapping whose pages the kernel faults in and zeroes again: `eddy serve` delivering
// 1,000,000 records to Kafka took 75,000 page faults, 17,000 with the thresholds fixed
// (docs/benchmarks.md, "glibc malloc's thresholds fixed at start-up").
//
// TuneAllocator fixes the mapping threshold at glibc's own ceiling for it (32 MiB) and the trim
// threshold at 16 MiB: blocks below 32 MiB come from the heap and their memory is reused; at
// most 16 MiB of free memory per malloc arena stays with the process beyond what it uses.
//
// Threads: call from main() before any thread starts. An operator's GLIBC_TUNABLES naming a
// glibc.malloc setting wins: the call then changes nothing. Sanitizer builds keep their own
// allocator; the call does nothing there either.
#pragma once

namespace eddy {

// What TuneAllocator did, for a start-up log line.
enum class AllocatorTuning {
  kApplied,            // the thresholds above are set
  kLeftToEnvironment,  // GLIBC_TUNABLES sets glibc.malloc: left as the operator chose
  kNotApplicable,      // a sanitizer's allocator, or mallopt refused
};

AllocatorTuning TuneAllocator();

}  // namespace eddy
