// The standard RecordRendering: CDC stream payloads are canonical change events
// (model/event_codec.h) rendered at read time in the stream's format and view type
// (eddy:format, eddy:view_type) by src/format's renderers; plain Kinesis streams return their
// payloads unchanged. DynamoDB Streams records use the "dynamodb" renderer.
//
// Thread safety: the returned hooks may be called concurrently (renderers are immutable and
// created once per format under a lock).
#pragma once

#include <string>

#include "api/api_context.h"

namespace eddy::api {

RecordRendering StandardRecordRendering(std::string region);

}  // namespace eddy::api
