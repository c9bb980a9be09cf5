// The on-failure record: what a sink's `on_failure` destination receives when the runner's
// limits (maximum_retry_attempts, maximum_record_age) give up on records, in the shape Lambda
// sends to an event source mapping's OnFailure destination, so tooling written for Lambda's
// records reads eddy's:
//
//   {"requestContext":{"requestId":"<uuid>","functionArn":"arn:aws:lambda:R:A:function:<sink>",
//                      "condition":"RetryAttemptsExhausted"|"MaximumRecordAgeExceeded",
//                      "approximateInvokeCount":3},
//    "responseContext":{"statusCode":500,"executedVersion":"$LATEST",
//                       "functionError":"Unhandled","errorMessage":"<eddy's reason>"},
//    "version":"1.0","timestamp":"2026-12-04T23:59:01.123Z",
//    "KinesisBatchInfo":{"shardId","startSequenceNumber","endSequenceNumber",
//                        "approximateArrivalOfFirstRecord","approximateArrivalOfLastRecord",
//                        "batchSize","streamArn"}}
//
// Metadata only, as Lambda's: the records themselves stay in the log (readable by sequence
// number until retention drops them). `errorMessage` is eddy's addition. The DynamoDB shape
// names the batch object DDBStreamBatchInfo, as Lambda does for DynamoDB Streams sources.
// A batch with records of several shards names the first record's shard; start and end are
// the first and last records' sequence numbers.
//
// Thread safety: pure function (the request id is drawn from a thread-local generator).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/sink.h"

namespace eddy::consume {

// Serialized by name in on-failure records; values never change.
enum class FailureCondition : uint8_t {
  kRetryAttemptsExhausted = 0,    // maximum_retry_attempts reached
  kMaximumRecordAgeExceeded = 1,  // the oldest record is older than maximum_record_age
};
std::string_view FailureConditionName(FailureCondition condition);

struct OnFailureContext {
  FailureCondition condition = FailureCondition::kRetryAttemptsExhausted;
  uint32_t approximate_invoke_count = 0;  // deliveries attempted for these records
  int status_code = 0;                    // DeliveryOutcome::protocol_status of the last try
  Status failure;                         // the last failure
  int64_t now_nanos = 0;                  // `timestamp`
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  bool dynamodb = false;     // DDBStreamBatchInfo instead of KinesisBatchInfo
  std::string stream_arn;    // empty: arn:aws:kinesis:REGION:ACCOUNT:stream/<stream_name>
  std::string function_arn;  // empty: arn:aws:lambda:REGION:ACCOUNT:function:<sink_name>
  std::string request_id;    // empty: a random UUID
};

// One JSON object (no trailing newline) describing every record of `batch`: pass the
// records given up on. `batch.records` must not be empty.
std::string BuildOnFailureRecord(const SinkBatch& batch, const OnFailureContext& context);

// "2026-12-04T23:59:01.123Z": the timestamps of on-failure records.
std::string Iso8601Millis(int64_t epoch_nanos);

}  // namespace eddy::consume
