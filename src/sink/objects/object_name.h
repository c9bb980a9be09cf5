// The name of an object the objects sink writes (docs/formats/object-names.md):
//
//   <prefix><stream>-<version>-YYYY-MM-DD-HH-mm-SS-<shard>-<sequence><extension>
//   cdc/2026/12/04/17/orders-1-2026-12-04-17-05-09-000000-00000000000000001234.json.gz
//
// Firehose's suffix with its random <id> replaced by the position of the object's first record
// in the log: <shard> the shard index (6 digits), <sequence> its sequence number (20 digits),
// both zero-padded so names of one prefix sort in log order within a shard. The timestamp is
// the first record's arrival time (UTC). Everything in the name comes from the first record,
// so writing the same records again gives the same key (the exactly-once argument of
// docs/sinks/objects.md).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::sink::objects {

struct ObjectNameParts {
  std::string stream;
  uint32_t version = 1;
  int64_t first_arrival_nanos = 0;
  uint32_t first_shard = 0;
  uint64_t first_sequence = 0;
};

// The file name (no prefix) for `parts` with `extension` (".json.gz").
std::string ObjectName(const ObjectNameParts& parts, std::string_view extension);

// Reads a name back (the last path segment of a key); nullopt when it is not one of eddy's
// names for `stream` with `extension`.
std::optional<ObjectNameParts> ParseObjectName(std::string_view name, std::string_view stream,
                                               std::string_view extension);

}  // namespace eddy::sink::objects
