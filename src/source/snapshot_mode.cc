#include "source/snapshot_mode.h"

#include <string>

namespace eddy::source {

Result<SnapshotMode> ParseSnapshotMode(std::string_view text) {
  if (text == "initial") return SnapshotMode::kInitial;
  if (text == "initial_only") return SnapshotMode::kInitialOnly;
  if (text == "no_data" || text == "never") return SnapshotMode::kNoData;
  if (text == "when_needed") return SnapshotMode::kWhenNeeded;
  if (text == "always") return SnapshotMode::kAlways;
  return InvalidArgument("snapshot mode '" + std::string(text) +
                         "' is not one of initial, initial_only, no_data, when_needed, always");
}

std::string_view SnapshotModeName(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial: return "initial";
    case SnapshotMode::kInitialOnly: return "initial_only";
    case SnapshotMode::kNoData: return "no_data";
    case SnapshotMode::kWhenNeeded: return "when_needed";
    case SnapshotMode::kAlways: return "always";
  }
  return "unknown";
}

}  // namespace eddy::source
