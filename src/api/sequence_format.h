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

// Renders the sequence numbers of one shard's records (a GetRecords or PutRecords reply)
// without 128-bit division: the counter sits at bit 80 of the 56-digit number, so the number
// is C + counter * 2^80 with C fixed per shard. C is converted once (by AppendSequenceNumber);
// each record then costs a multiplication and an addition in base 10^9 limbs with 64-bit
// arithmetic, and only the limbs that differ from the previous record's are turned into
// digits again (close counters share the upper digits). Same output as AppendSequenceNumber
// for every input, in any order.
class SequenceRenderer {
 public:
  SequenceRenderer(uint32_t shard_index, int64_t shard_creation_nanos);
  void Append(std::string& out, SequenceNumber sequence);

 private:
  static constexpr int kLimbs = 8;  // 72 digits: C (56 digits) + counter * 2^80 (< 2^144)
  uint64_t base_[kLimbs] = {};      // C in base 10^9, least significant limb first
  // The previous rendering: its limbs, the index of its most significant non-zero limb (-1:
  // none yet) and its text.
  uint64_t last_limbs_[kLimbs] = {};
  int last_top_ = -1;
  char text_[kLimbs * 9] = {};
  size_t text_length_ = 0;
};

}  // namespace eddy::api
