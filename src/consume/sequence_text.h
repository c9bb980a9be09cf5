// SequenceText: the Kinesis text form of one shard's sequence numbers, exactly as
// log::FormatSequenceNumber gives it, without a 192-bit division per record (it was a tenth of
// a sink runner's control thread on the push path).
//
// The text is the decimal of a 192-bit value in which only bits 80..143 depend on the sequence
// number, so the value is base + sequence * 2^80. The base comes from log::FormatSequenceNumber
// once per shard; each text is then nine multiplications and carries in base 10^9. The
// constructor checks the result against log::FormatSequenceNumber for a few sequences and, if
// they ever differ (the layout changed), Format calls log::FormatSequenceNumber instead.
//
// Thread safety: immutable after construction; Format may run on any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/position.h"

namespace eddy::consume {

class SequenceText {
 public:
  SequenceText(uint32_t shard_index, int64_t shard_creation_nanos);

  // Writes the text of `sequence` in this shard into `*out` (replacing it; its capacity is
  // reused).
  void Format(SequenceNumber sequence, std::string* out) const;

  int64_t shard_creation_nanos() const { return shard_creation_nanos_; }

 private:
  void Compute(uint64_t sequence, std::string* out) const;

  static constexpr size_t kLimbs = 7;    // 63 decimal digits; 2^192 has 58
  std::array<uint64_t, kLimbs> base_{};  // little-endian limbs in base 10^9
  uint32_t shard_index_;
  int64_t shard_creation_nanos_;
  bool exact_ = false;  // Compute agrees with log::FormatSequenceNumber
};

}  // namespace eddy::consume
