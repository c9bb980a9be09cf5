#include "engine/connect_request.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

namespace eddy::engine {

std::string ConnectShardId(uint32_t shard) { return fmt::format("shardId-{:012}", shard); }

std::optional<uint32_t> ParseConnectShardId(std::string_view text) {
  constexpr std::string_view kPrefix = "shardId-";
  if (text.size() != kPrefix.size() + 12 || text.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

Result<std::vector<ConnectOffsetChange>> ParseConnectOffsets(std::string_view body,
                                                             const std::string& server,
                                                             const std::string& sink) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array offsets;
  if (parser.parse(body.data(), body.size()).get(root) ||
      root["offsets"].get_array().get(offsets)) {
    return InvalidArgument(
        "the body must be {\"offsets\": [{\"partition\": {...}, \"offset\": {...}}]}, as GET "
        "/connectors/NAME/offsets returns it");
  }
  std::vector<ConnectOffsetChange> changes;
  for (simdjson::dom::element entry : offsets) {
    simdjson::dom::object partition;
    if (entry["partition"].get_object().get(partition)) {
      return InvalidArgument("each entry of \"offsets\" needs a \"partition\" object");
    }
    std::string_view partition_server;
    std::string_view partition_sink;
    std::string_view shard;
    if (partition["server"].get_string().get(partition_server) || partition_server != server) {
      return InvalidArgument("partition \"server\" must be \"" + server +
                             "\" (the connector's topic.prefix)");
    }
    if (partition[kConnectSinkPartitionKey].get_string().get(partition_sink)) {
      return InvalidArgument(
          "partition {\"server\": \"" + server +
          "\"} is the capture position: eddy's change log holds each change once by its source "
          "position, so the capture resumes where the log ends and its offset cannot be set. "
          "Set where the Kafka sink delivers from instead: the partitions with \"" +
          std::string(kConnectSinkPartitionKey) + "\" and \"shard\"");
    }
    if (sink.empty() || partition_sink != sink) {
      return InvalidArgument("partition \"" + std::string(kConnectSinkPartitionKey) +
                             "\" must be \"" + sink + "\" (the connector's Kafka sink)" +
                             (sink.empty() ? "; this connector has none" : ""));
    }
    std::optional<uint32_t> shard_index;
    if (partition["shard"].get_string().get(shard) || !(shard_index = ParseConnectShardId(shard))) {
      return InvalidArgument(
          "partition \"shard\" must be a shard id like \"shardId-000000000000\"");
    }
    ConnectOffsetChange change;
    change.shard = *shard_index;
    simdjson::dom::element offset;
    if (entry["offset"].get(offset)) {
      return InvalidArgument(
          "each entry of \"offsets\" needs \"offset\": {\"next_sequence\": N} or null (the "
          "shard's beginning)");
    }
    if (!offset.is_null()) {
      uint64_t next = 0;
      std::string_view text;
      if (!offset["next_sequence"].get_uint64().get(next)) {
        change.next = next;
      } else if (!offset["next_sequence"].get_string().get(text) && !text.empty() &&
                 text.size() <= 19 && std::all_of(text.begin(), text.end(), [](char c) {
                   return c >= '0' && c <= '9';
                 })) {
        change.next = std::stoull(std::string(text));
      } else {
        return InvalidArgument(
            "\"offset\" must be {\"next_sequence\": N} (a whole number) or null (the shard's "
            "beginning)");
      }
    }
    changes.push_back(change);
  }
  return changes;
}

}  // namespace eddy::engine
