// The pure request parsing of Kafka Connect's REST API (engine/connect_api.h), kept apart so it
// can be fuzzed (fuzz_connect_request.cc): bytes from the network either parse or give a
// message that says what is wrong; nothing crashes.
//
// Thread safety: stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::engine {

// The partition key naming an eddy connector's Kafka sink in its offsets.
inline constexpr std::string_view kConnectSinkPartitionKey = "eddy_sink";

// "shardId-000000000007" for shard 7 (the Kinesis API's shard ids), and back.
std::string ConnectShardId(uint32_t shard);
std::optional<uint32_t> ParseConnectShardId(std::string_view text);

// One partition of a PATCH /connectors/{name}/offsets body: a shard of the connector's Kafka
// sink and the next sequence number it delivers (none: the shard's beginning).
struct ConnectOffsetChange {
  uint32_t shard = 0;
  std::optional<uint64_t> next;
};

// Parses {"offsets": [{"partition": {"server": SERVER, "eddy_sink": SINK, "shard":
// "shardId-..."}, "offset": {"next_sequence": N} | null}, ...]} for the connector whose
// topic.prefix is `server` and whose Kafka sink is `sink` (empty: it has none).
// kInvalidArgument naming what is wrong: a bad shape, another server or sink, the capture
// partition {"server": SERVER} (its position is the log's and cannot be set), a bad shard id
// or offset.
Result<std::vector<ConnectOffsetChange>> ParseConnectOffsets(std::string_view body,
                                                             const std::string& server,
                                                             const std::string& sink);

}  // namespace eddy::engine
