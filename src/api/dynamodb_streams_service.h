// DynamoDB Streams operations (target prefix DynamoDBStreams_20120810, JSON 1.0) over eddy's
// CDC streams (streams tagged eddy:cdc=true; see api_context.h). Identities are in the forms
// the AWS clients and the KCL DynamoDB Streams adapter parse:
//   StreamArn    arn:aws:dynamodb:<region>:<account>:table/<TableName>/stream/<StreamLabel>
//   StreamLabel  the stream's creation time, UTC "2015-05-20T20:51:10.252"
//   ShardId      shardId-<20-digit shard creation epoch millis>-<8 hex digits shard index>
//                (the adapter reads the part after the first '-' as the creation time)
//   SequenceNumber  "1" followed by the 20-digit eddy sequence counter (21 digits, within
//                the 21..40 the model allows; ordered like the counter within a shard)
// Iterators are signed tokens (iterator_token.h) valid for 15 minutes.
//
// Thread safety: Handle may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_context.h"
#include "api/api_error.h"
#include "api/json_input.h"
#include "api/json_writer.h"

namespace eddy::api {

class DynamoDbStreamsService {
 public:
  explicit DynamoDbStreamsService(const ApiContext* context) : context_(context) {}

  static bool Knows(std::string_view operation);
  std::optional<ApiError> Handle(std::string_view operation, RequestBody& input, JsonWriter& out);

  static constexpr int64_t kIteratorLifetimeMillis = 15 * 60 * 1000;

 private:
  const ApiContext* context_;
};

// Identity helpers (exposed for tests and for the renderer hook).
std::string DynamoDbStreamLabel(int64_t creation_nanos);
std::string DynamoDbShardId(uint32_t shard_index, int64_t shard_creation_nanos);
// The shard index from a DynamoDbShardId; nullopt for other text.
std::optional<uint32_t> ParseDynamoDbShardId(std::string_view shard_id);
std::string DynamoDbSequenceNumber(uint64_t sequence);
std::optional<uint64_t> ParseDynamoDbSequenceNumber(std::string_view text);

}  // namespace eddy::api
