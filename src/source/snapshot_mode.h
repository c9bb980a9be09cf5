// When a capture takes a consistent snapshot before streaming: one vocabulary for every source
// (config key `source.snapshot_mode`). Serialized nowhere; the names are the contract.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace eddy::source {

enum class SnapshotMode : uint8_t {
  kInitial = 0,      // snapshot when the log has no position for this source (default)
  kInitialOnly = 1,  // snapshot, then stop without streaming
  kNoData = 2,       // never snapshot; stream from the stored or the server's current position
  kWhenNeeded = 3,   // as initial, and again when the stored position is gone (PostgreSQL slot
                     // missing or lost; MySQL binlog purged)
  kAlways = 4,       // snapshot on every start
};

// "initial", "initial_only", "no_data" (also "never"), "when_needed", "always".
Result<SnapshotMode> ParseSnapshotMode(std::string_view text);
std::string_view SnapshotModeName(SnapshotMode mode);

}  // namespace eddy::source
