// The stream tag vocabulary: metadata kept in log::StreamOptions::tags that tells the layers
// above the log what a stream holds. The log itself never interprets tags; the API, the
// readers of consume/ and the engine (which sets them from config) share these names.
//
//   eddy:cdc          "true" for change-data-capture streams created from config: read-only
//                     through the API (PutRecord/PutRecords answer AccessDeniedException),
//                     and the streams DynamoDB Streams operations serve. Their records'
//                     payloads are encoded change events (model/event_codec.h).
//   eddy:format       record format of a CDC stream ("native", "debezium", "dms", "dynamodb").
//   eddy:view_type    StreamViewType of a CDC stream (default NEW_AND_OLD_IMAGES).
//   eddy:table        TableName shown by DynamoDB Streams (default: the stream name).
//   eddy:key_columns  comma-separated key columns: the first is the HASH key, the second the
//                     RANGE key (DynamoDB Streams KeySchema).
//   eddy:stream_mode  PROVISIONED or ON_DEMAND (Kinesis StreamModeDetails).
// Keys with the reserved "eddy:" prefix are internal: the API never lists them as Kinesis tags
// and rejects them in AddTagsToStream / CreateStream.
//
// Thread safety: constants and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "log/log_store.h"

namespace eddy::log {

inline constexpr std::string_view kReservedTagPrefix = "eddy:";
inline constexpr std::string_view kTagCdc = "eddy:cdc";
inline constexpr std::string_view kTagFormat = "eddy:format";
inline constexpr std::string_view kTagViewType = "eddy:view_type";
inline constexpr std::string_view kTagTable = "eddy:table";
inline constexpr std::string_view kTagKeyColumns = "eddy:key_columns";
inline constexpr std::string_view kTagStreamMode = "eddy:stream_mode";

// A tag value or `fallback`.
inline std::string StreamTag(const StreamInfo& info, std::string_view key,
                             std::string_view fallback = {}) {
  auto it = info.options.tags.find(std::string(key));
  return it == info.options.tags.end() ? std::string(fallback) : it->second;
}

// True when the stream's metadata marks it as a CDC stream.
inline bool IsCdcStream(const StreamInfo& info) { return StreamTag(info, kTagCdc) == "true"; }

}  // namespace eddy::log
