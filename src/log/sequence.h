// Arithmetic the log does on sequence numbers, spelled out so that a raw integer never stands
// in for one (SequenceNumber is base/position.h's strong type).
#pragma once

#include "base/position.h"

namespace eddy::log {

// The number after `sequence`: the next one the stream counter gives out.
inline SequenceNumber Next(SequenceNumber sequence) { return SequenceNumber(sequence.value() + 1); }

}  // namespace eddy::log
