// Operator tools behind `eddy log verify` and `eddy log dump`. Both open the data directory
// read-only (safe next to a running writer) and print human-readable lines.
// Thread safety: independent calls may run concurrently; each writes only to its `out`.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "base/status.h"
#include "io/file_system.h"

namespace eddy::log {

// Checks every stream: metadata, commit journal, every segment's framing and CRCs up to the
// committed end, sequence order, index files. Prints one line per stream/shard/segment and
// one per problem ("CORRUPT <file> offset <n>: <what>"). Returns kCorruption when a problem
// was found, OK otherwise.
Status VerifyDataDirectory(const std::string& path, std::ostream& out,
                           io::FileSystem* file_system = nullptr);

struct DumpOptions {
  std::string stream;       // empty: every stream
  int64_t shard_index = -1;  // -1: every shard
  bool payloads = false;    // print payloads (escaped, truncated to 200 bytes)
  uint64_t max_records = UINT64_MAX;  // per shard
};
// Prints the streams, shards (ids, lineage, ranges, sequence ranges) and records
// (sequence, arrival, kind, partition key, source position, payload size).
Status DumpDataDirectory(const std::string& path, const DumpOptions& options, std::ostream& out,
                         io::FileSystem* file_system = nullptr);

}  // namespace eddy::log
