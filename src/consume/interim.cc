// Interim definitions of what the reader's branch implements (consume/stream_reader.cc,
// consume/checkpoint_store.cc): the factory functions (returning kUnimplemented) and
// SinkStateName. CMakeLists.txt compiles this file only while stream_reader.cc is absent;
// delete it once they are merged.
#include "consume/checkpoint_store.h"
#include "consume/sink_runner.h"
#include "consume/stream_reader.h"

namespace eddy::consume {

Result<std::unique_ptr<StreamReader>> StreamReader::Open(std::shared_ptr<log::Stream>,
                                                         StreamReaderOptions,
                                                         std::optional<Checkpoint>) {
  return Unimplemented("this build has no stream reader yet (consume/stream_reader.cc)");
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(const std::string&,
                                                               io::FileSystem*) {
  return Unimplemented("this build has no checkpoint store yet (consume/checkpoint_store.cc)");
}

// Defined with the checkpoint format on the reader's branch (consume/checkpoint_store.cc).
std::string_view SinkStateName(SinkState state) {
  switch (state) {
    case SinkState::kCreating:
      return "CREATING";
    case SinkState::kActive:
      return "ACTIVE";
    case SinkState::kImpaired:
      return "IMPAIRED";
    case SinkState::kPaused:
      return "PAUSED";
    case SinkState::kFailed:
      return "FAILED";
    case SinkState::kDeleting:
      return "DELETING";
  }
  return "CREATING";
}

}  // namespace eddy::consume
