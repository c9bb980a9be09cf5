// Lambda's event-source-mapping protocol, as the webhook destination speaks it: the request
// bodies (the Kinesis and DynamoDB Streams event shapes Lambda passes to a function) and the
// reading of the reply (2xx, and with ReportBatchItemFailures the `batchItemFailures` rules).
// docs/sinks/webhook.md describes both field by field.
//
// Thread safety: pure functions of their arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/sink.h"
#include "sink/webhook/webhook_settings.h"

namespace eddy::sink::webhook {

// The request body for one batch:
//   kinesis:  {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey",
//              "sequenceNumber","data":<base64 of record.data>,"approximateArrivalTimestamp":
//              <epoch seconds, milliseconds as the fraction>},"eventSource":"aws:kinesis",
//              "eventVersion":"1.0","eventID":"<shardId>:<sequenceNumber>","eventName":
//              "aws:kinesis:record","invokeIdentityArn","awsRegion","eventSourceARN"}]}
//   dynamodb: {"Records":[<format/dynamodb.cc's record of record.event, with eventSourceARN>]}
// nullopt when no record of the batch has a representation in the shape (DynamoDB has no
// truncates, messages, transaction markers or heartbeats): nothing needs to be sent and the
// batch is acknowledged. FailedPrecondition for the DynamoDB shape on a stream without change
// events (a plain Kinesis stream).
Result<std::optional<std::string>> BuildEventBody(const consume::SinkBatch& batch,
                                                  const WebhookSettings& settings);
// The same, written into `*body` (emptied first, its capacity reused: a batch's body is
// megabytes, and allocating it afresh per batch costs page faults and heap consolidation).
// False, with `*body` unspecified, where BuildEventBody returns nullopt.
Result<bool> BuildEventBodyInto(const consume::SinkBatch& batch, const WebhookSettings& settings,
                                std::string* body);

// What the endpoint's reply means for the batch (`status` an HTTP status, `body` the reply):
// - non-2xx: the batch failed (kUnavailable, retried: Lambda retries function errors, 4xx
//   included; the runner's limits decide when to give up).
// - 2xx without report_batch_item_failures: every record acknowledged; the body is ignored.
// - 2xx with report_batch_item_failures, Lambda's rules:
//   an empty body, `null`, `{}`, a missing/null/empty `batchItemFailures` list: full success;
//   failures [{"itemIdentifier":"<sequenceNumber>"}...]: acknowledged up to the lowest
//     failed record of the batch (that record and every one after it are retried),
//     item_failure set;
//   an itemIdentifier that is empty, null, not a string, names no record of the batch, an
//     entry without the itemIdentifier key, or a body that is not such JSON: the whole batch
//     failed (kUnavailable, retried).
// `protocol_status` of the outcome is `status`.
consume::DeliveryOutcome InterpretReply(const consume::SinkBatch& batch, int status,
                                        std::string_view body, bool report_batch_item_failures);

}  // namespace eddy::sink::webhook
