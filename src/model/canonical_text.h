// The pieces canonical texts are built from (Value::CanonicalText, partition keys).
//
// Stable across releases for the same reason as Value::CanonicalText: the text decides which
// shard a row lands in. Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace eddy::model {

// Appends "<decimal size>:<text>" to `out`, so that no piece can run into the next one.
void AppendLengthPrefixed(std::string& out, std::string_view text);

}  // namespace eddy::model
