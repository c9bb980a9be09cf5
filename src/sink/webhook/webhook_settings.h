// The settings a webhook destination owns, parsed from a consume::SinkSpec
// (docs/sinks/webhook.md has the table). The runner's settings (batch_size, filter,
// on_failure, ...) are the runner's: they are skipped here, except view_type, which the
// DynamoDB event shape reads too.
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "consume/filter_pattern.h"
#include "consume/sink.h"
#include "format/renderer.h"

namespace eddy::sink::webhook {

// Serialized by name in settings ("kinesis", "dynamodb").
enum class EventShape : uint8_t {
  kKinesis = 0,   // Lambda's Kinesis event: Records[].kinesis{... data: base64}
  kDynamoDb = 1,  // Lambda's DynamoDB Streams event: Records[].dynamodb{Keys, NewImage, ...}
};

struct WebhookSettings {
  // The endpoint without the "webhook+" prefix and without the query string (which holds
  // eddy's settings): "http://host:port/path" or "https://...".
  std::string endpoint;
  EventShape event = EventShape::kKinesis;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  // header.NAME=VALUE, in name order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;  // empty: the system's CA store
  bool report_batch_item_failures = false;
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Overrides the eventSourceARN of every record; empty: built from region, account and the
  // stream's name (see EventSourceArn).
  std::string event_source_arn;
  // For the DynamoDB shape's StreamViewType and images (the runner's `view_type`).
  format::ViewType view_type = format::ViewType::kNewAndOldImages;
};

// Parses and checks every setting; InvalidArgument names the key (or the URL part) and the
// accepted values. No I/O.
Result<WebhookSettings> ParseWebhookSettings(const consume::SinkSpec& spec);

// "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME" for the Kinesis shape,
// "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/eddy" for the DynamoDB shape, or the
// configured override.
std::string EventSourceArn(const WebhookSettings& settings, std::string_view stream_name);

// How the sink's `filter` sees records: Lambda matches a Kinesis source's patterns against the
// Kinesis record and a DynamoDB Streams source's against the DynamoDB record, so the engine
// parses the runner's `filter` with these options (consume::FilterPattern::Parse).
consume::FilterOptions FilterOptionsFor(const WebhookSettings& settings);

}  // namespace eddy::sink::webhook
