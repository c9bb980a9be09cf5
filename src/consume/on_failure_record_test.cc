#include "consume/on_failure_record.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace eddy::consume {
namespace {

SinkBatch Batch() {
  SinkBatch batch;
  batch.sink_name = "orders-hook";
  batch.stream_name = "orders";
  for (int i = 0; i < 3; ++i) {
    SinkRecord record;
    record.shard_id = "shardId-000000000001";
    record.sequence_number =
        "4960118965842235937883629852182763847532018901230970472" + std::to_string(i);
    record.arrival_nanos = 1573691884835000000 + i * 372'500'000LL;
    batch.records.push_back(record);
  }
  return batch;
}

TEST(OnFailureRecord, HasLambdasShape) {
  OnFailureContext context;
  context.condition = FailureCondition::kRetryAttemptsExhausted;
  context.approximate_invoke_count = 3;
  context.status_code = 500;
  context.failure = Unavailable("the endpoint answered HTTP 500");
  context.now_nanos = 1573691886021000000;
  context.region = "us-east-2";
  context.account_id = "123456789012";
  context.request_id = "c9b8fa9f-5a7f-4af9-8c60-0c604cde93a5";
  EXPECT_EQ(
      BuildOnFailureRecord(Batch(), context),
      R"({"requestContext":{"requestId":"c9b8fa9f-5a7f-4af9-8c60-0c604cde93a5",)"
      R"("functionArn":"arn:aws:lambda:us-east-2:123456789012:function:orders-hook",)"
      R"("condition":"RetryAttemptsExhausted","approximateInvokeCount":3},)"
      R"("responseContext":{"statusCode":500,"executedVersion":"$LATEST","functionError":"Unhandled",)"
      R"("errorMessage":"Unavailable: the endpoint answered HTTP 500"},)"
      R"("version":"1.0","timestamp":"2019-11-14T00:38:06.021Z",)"
      R"("KinesisBatchInfo":{"shardId":"shardId-000000000001",)"
      R"("startSequenceNumber":"49601189658422359378836298521827638475320189012309704720",)"
      R"("endSequenceNumber":"49601189658422359378836298521827638475320189012309704722",)"
      R"("approximateArrivalOfFirstRecord":"2019-11-14T00:38:04.835Z",)"
      R"("approximateArrivalOfLastRecord":"2019-11-14T00:38:05.580Z","batchSize":3,)"
      R"("streamArn":"arn:aws:kinesis:us-east-2:123456789012:stream/orders"}})");
}

TEST(OnFailureRecord, DynamoDbShapeAndGeneratedRequestIds) {
  OnFailureContext context;
  context.condition = FailureCondition::kMaximumRecordAgeExceeded;
  context.dynamodb = true;
  context.stream_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/x";
  std::string first = BuildOnFailureRecord(Batch(), context);
  std::string second = BuildOnFailureRecord(Batch(), context);
  simdjson::dom::parser parser;
  simdjson::dom::element record = parser.parse(first);
  EXPECT_EQ(std::string_view(record["requestContext"]["condition"]), "MaximumRecordAgeExceeded");
  EXPECT_EQ(std::string_view(record["DDBStreamBatchInfo"]["streamArn"]), context.stream_arn);
  std::string_view id = record["requestContext"]["requestId"];
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  simdjson::dom::parser other_parser;
  simdjson::dom::element other = other_parser.parse(second);
  EXPECT_NE(std::string_view(other["requestContext"]["requestId"]), id);
}

TEST(OnFailureRecord, TimestampsAreUtcWithMilliseconds) {
  EXPECT_EQ(Iso8601Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Iso8601Millis(1'999'999), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(Iso8601Millis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace eddy::consume
