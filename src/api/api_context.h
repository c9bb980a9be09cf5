// What the Kinesis and DynamoDB Streams handlers share: the change log, the clock, the
// iterator codec, the identity the API presents (region, account), limits, and the hooks that
// render stored records for clients.
//
// Stream metadata conventions (kept in log::StreamOptions::tags; keys with the reserved
// "eddy:" prefix are internal and never listed by ListTagsForStream):
//   eddy:cdc          "true" for change-data-capture streams created from config: read-only
//                     through the API (PutRecord/PutRecords answer AccessDeniedException),
//                     and the streams DynamoDB Streams operations serve.
//   eddy:format       record format of a CDC stream ("native", "debezium", "dms", "dynamodb").
//   eddy:view_type    StreamViewType of a CDC stream (default NEW_AND_OLD_IMAGES).
//   eddy:table        TableName shown by DynamoDB Streams (default: the stream name).
//   eddy:key_columns  comma-separated key columns: the first is the HASH key, the second the
//                     RANGE key (DynamoDB Streams KeySchema).
//   eddy:stream_mode  PROVISIONED or ON_DEMAND (Kinesis StreamModeDetails).
//
// Thread safety: immutable after construction except what the log itself synchronises.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/iterator_token.h"
#include "base/clock.h"
#include "base/status.h"
#include "log/log_store.h"

namespace eddy::api {

inline constexpr std::string_view kReservedTagPrefix = "eddy:";
inline constexpr std::string_view kTagCdc = "eddy:cdc";
inline constexpr std::string_view kTagFormat = "eddy:format";
inline constexpr std::string_view kTagViewType = "eddy:view_type";
inline constexpr std::string_view kTagTable = "eddy:table";
inline constexpr std::string_view kTagKeyColumns = "eddy:key_columns";
inline constexpr std::string_view kTagStreamMode = "eddy:stream_mode";

// Renders stored records for clients. A hook returns the rendering, std::nullopt to skip the
// record (a format without a representation for it, e.g. DynamoDB Streams and TRUNCATE), or
// an error.
struct RecordRendering {
  using Hook = std::function<Result<std::optional<std::string>>(
      const log::StreamInfo&, const log::Record&, std::string_view sequence_number)>;
  // Kinesis `Data` of a CDC stream's record (plain streams always return the stored payload).
  // Empty: the stored payload as is.
  Hook kinesis_data;
  // One DynamoDB Streams record as a JSON object (eventID, eventName, dynamodb{...}) with the
  // given SequenceNumber. Empty: DynamoDB Streams GetRecords answers InternalServerError
  // saying no renderer is configured.
  Hook dynamodb_record;
};

struct ApiContext {
  log::LogStore* store = nullptr;  // not owned; outlives the server
  const Clock* clock = nullptr;    // not owned
  IteratorCodec iterators{std::string(32, '\0')};
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  uint32_t max_shards_per_stream = 1000;
  RecordRendering rendering;

  int64_t NowMillis() const { return clock->NowMillis(); }
  std::string KinesisStreamArn(std::string_view stream) const {
    return "arn:aws:kinesis:" + region + ":" + account_id + ":stream/" + std::string(stream);
  }
};

// True when the stream's metadata marks it as a CDC stream.
bool IsCdcStream(const log::StreamInfo& info);
// A tag value or `fallback`.
std::string StreamTag(const log::StreamInfo& info, std::string_view key,
                      std::string_view fallback = {});

}  // namespace eddy::api
