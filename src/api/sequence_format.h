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

}  // namespace eddy::api
