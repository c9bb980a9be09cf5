// What the Kinesis and DynamoDB Streams handlers share: the change log, the clock, the
// iterator codec, the identity the API presents (region, account), limits, and the hooks that
// render stored records for clients.
//
// Stream metadata conventions (the eddy: tags) are the log's vocabulary (log/stream_tags.h);
// the API uses them under the same names.
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
#include "log/stream_tags.h"

namespace eddy::api {

using log::kReservedTagPrefix;
using log::kTagCdc;
using log::kTagFormat;
using log::kTagKeyColumns;
using log::kTagStreamMode;
using log::kTagTable;
using log::kTagViewType;

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

using log::IsCdcStream;
using log::StreamTag;

}  // namespace eddy::api
