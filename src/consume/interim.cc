// Interim factory functions for the interfaces whose implementations live on the reader's
// branch (consume/stream_reader.cc, consume/checkpoint_store.cc). CMakeLists.txt compiles this
// file only while stream_reader.cc is absent; delete it once they are merged.
#include "consume/checkpoint_store.h"
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

}  // namespace eddy::consume
