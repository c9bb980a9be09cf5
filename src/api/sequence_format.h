// Fast rendering of Kinesis sequence numbers for GetRecords: the same 56-digit decimal as
// log::FormatSequenceNumber (layout in log/kinesis.h), computed with three 64-bit limbs and
// division by 10^19 instead of digit-by-digit long division. The unit test checks equality
// with log::FormatSequenceNumber on random inputs; the log's function stays the definition.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>

#include "base/position.h"

namespace eddy::api {

void AppendSequenceNumber(std::string& out, SequenceNumber sequence, uint32_t shard_index,
                          int64_t shard_creation_nanos);
std::string FormatSequenceNumberFast(SequenceNumber sequence, uint32_t shard_index,
                                     int64_t shard_creation_nanos);

// Renders the sequence numbers of one shard's records in ascending order (a GetRecords reply)
// incrementally: the counter sits at bit 80 of the 56-digit number, so the next record's
// number is the previous one plus 2^80, a 25-digit decimal addition instead of a full
// conversion. Any other step (a gap, or a lower number) falls back to AppendSequenceNumber.
// Same output as AppendSequenceNumber for every input.
class SequenceRenderer {
 public:
  SequenceRenderer(uint32_t shard_index, int64_t shard_creation_nanos)
      : shard_index_(shard_index), shard_creation_nanos_(shard_creation_nanos) {}
  void Append(std::string& out, SequenceNumber sequence);

 private:
  uint32_t shard_index_;
  int64_t shard_creation_nanos_;
  bool have_last_ = false;
  uint64_t last_ = 0;
  // The last rendering, right-aligned in digits_: digits_[start_, kWidth).
  static constexpr size_t kWidth = 64;
  char digits_[kWidth] = {};
  size_t start_ = kWidth;
};

}  // namespace eddy::api
