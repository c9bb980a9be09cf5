// ShapingStream: a log::Stream decorator that shapes every change event a capture appends
// (table and column filters, masks, message key overrides; format/shaping.h) before it is
// stored. Shaping at append time means an excluded or masked value never reaches the disk,
// any format, or any reader.
//
// An AppendTransaction whose events are all filtered out still goes through with no records
// and the same end position, so the stream's exactly-once position keeps moving. Everything
// else is forwarded unchanged. Payloads that are not change events are refused (kInternal):
// only captures write through this decorator.
//
// Thread safety: as log::Stream; the Shaper is immutable.
#pragma once

#include <memory>

#include "format/shaping.h"
#include "log/log_store.h"

namespace eddy::engine {

std::shared_ptr<log::Stream> MakeShapingStream(std::shared_ptr<log::Stream> inner,
                                               format::Shaper shaper);

}  // namespace eddy::engine
