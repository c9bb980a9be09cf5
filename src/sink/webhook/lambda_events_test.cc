#include "sink/webhook/lambda_events.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>

#include "format/json.h"
#include "format/sample_events.h"
#include "io/file_system.h"

namespace eddy::sink::webhook {
namespace {

consume::SinkRecord Record(std::string sequence, std::string key, std::string data,
                           int64_t arrival_nanos = 1545084650987654321) {
  consume::SinkRecord record;
  record.shard_index = 6;
  record.shard_id = "shardId-000000000006";
  record.sequence_number = std::move(sequence);
  record.partition_key = std::move(key);
  record.data = std::move(data);
  record.arrival_nanos = arrival_nanos;
  return record;
}

consume::SinkBatch Batch(std::vector<consume::SinkRecord> records) {
  consume::SinkBatch batch;
  batch.sink_name = "hook";
  batch.stream_name = "orders";
  batch.records = std::move(records);
  for (const auto& record : batch.records) batch.data_bytes += record.data.size();
  return batch;
}

WebhookSettings Settings(EventShape shape = EventShape::kKinesis) {
  WebhookSettings settings;
  settings.endpoint = "http://127.0.0.1:1/";
  settings.event = shape;
  settings.region = "us-east-2";
  settings.account_id = "123456789012";
  return settings;
}

// Compares with src/sink/webhook/testdata/<name>.json; EDDY_UPDATE_GOLDEN=1 rewrites it.
void CheckGolden(const std::string& name, const std::string& actual) {
  const char* source_dir = std::getenv("EDDY_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "EDDY_SOURCE_DIR is not set (ctest sets it)";
  std::string path = std::string(source_dir) + "/src/sink/webhook/testdata/" + name + ".json";
  io::FileSystem* fs = io::DefaultFileSystem();
  const char* update = std::getenv("EDDY_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    ASSERT_TRUE(fs->WriteFileAtomically(path, actual + "\n").ok());
    return;
  }
  auto expected = fs->ReadFile(path);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_EQ(actual + "\n", *expected) << "golden file " << path;
}

TEST(KinesisEvent, HasLambdasShapeFieldByField) {
  auto batch = Batch({Record("49590338271490256608559692538361571095921575989136588898", "1001",
                             R"({"op":"c","after":{"id":1001}})"),
                      Record("49590338271490256608559692540925702759324208523137515618", "1002",
                             std::string("\x00\xff bytes", 8), 1545084651000000000)});
  auto body = BuildEventBody(batch, Settings());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  ASSERT_TRUE(body->has_value());
  CheckGolden("kinesis_event", **body);

  simdjson::dom::parser parser;
  simdjson::dom::element document = parser.parse(**body);
  simdjson::dom::element first = document["Records"].at(0);
  EXPECT_EQ(std::string_view(first["kinesis"]["data"]),
            format::Base64Encode(R"({"op":"c","after":{"id":1001}})"));
  EXPECT_DOUBLE_EQ(double(first["kinesis"]["approximateArrivalTimestamp"]), 1545084650.987);
  EXPECT_EQ(std::string_view(first["eventID"]),
            "shardId-000000000006:49590338271490256608559692538361571095921575989136588898");
  EXPECT_EQ(std::string_view(first["eventSourceARN"]),
            "arn:aws:kinesis:us-east-2:123456789012:stream/orders");
  EXPECT_EQ(document["Records"].get_array().size(), 2u);
}

TEST(DynamoDbEvent, HasLambdasShapeFromTheChangeEvents) {
  std::vector<consume::SinkRecord> records;
  int sequence = 100;
  for (const auto& sample : format::testing::SampleEvents()) {
    if (sample.name != "pg_insert" && sample.name != "pg_update" && sample.name != "pg_delete" &&
        sample.name != "pg_truncate") {
      continue;
    }
    auto record = Record(std::to_string(sequence++), "1001", "ignored");
    record.event = std::make_shared<model::ChangeEvent>(sample.event);
    records.push_back(std::move(record));
  }
  ASSERT_EQ(records.size(), 4u);
  auto body = BuildEventBody(Batch(std::move(records)), Settings(EventShape::kDynamoDb));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  ASSERT_TRUE(body->has_value());
  CheckGolden("dynamodb_event", **body);

  simdjson::dom::parser parser;
  simdjson::dom::element document = parser.parse(**body);
  simdjson::dom::array list = document["Records"];
  ASSERT_EQ(list.size(), 3u) << "the truncate has no DynamoDB Streams record";
  std::vector<std::string> names;
  for (simdjson::dom::element record : list) {
    names.emplace_back(std::string_view(record["eventName"]));
    EXPECT_EQ(std::string_view(record["eventVersion"]), "1.1");
    EXPECT_EQ(std::string_view(record["eventSource"]), "aws:dynamodb");
    EXPECT_EQ(std::string_view(record["awsRegion"]), "us-east-2");
    EXPECT_EQ(std::string_view(record["eventSourceARN"]),
              "arn:aws:dynamodb:us-east-2:123456789012:table/orders/stream/eddy");
    EXPECT_EQ(std::string_view(record["dynamodb"]["StreamViewType"]), "NEW_AND_OLD_IMAGES");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"INSERT", "MODIFY", "REMOVE"}));
  EXPECT_EQ(std::string_view(list.at(0)["dynamodb"]["SequenceNumber"]), "100");
}

TEST(DynamoDbEvent, BatchOfRecordsWithoutRepresentationSendsNothing) {
  for (const auto& sample : format::testing::SampleEvents()) {
    if (sample.name != "pg_truncate") continue;
    auto record = Record("1", "", "");
    record.event = std::make_shared<model::ChangeEvent>(sample.event);
    auto body = BuildEventBody(Batch({record}), Settings(EventShape::kDynamoDb));
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_FALSE(body->has_value());
  }
}

TEST(DynamoDbEvent, PlainStreamIsAFailedPrecondition) {
  auto body = BuildEventBody(Batch({Record("1", "k", "x")}), Settings(EventShape::kDynamoDb));
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(body.status().message().find("event=kinesis"), std::string::npos);
}

class ReplyRules : public ::testing::Test {
 protected:
  consume::DeliveryOutcome Reply(int status, std::string_view body, bool report = true) {
    return InterpretReply(batch_, status, body, report);
  }
  void ExpectSuccess(int status, std::string_view body, bool report = true) {
    auto outcome = Reply(status, body, report);
    EXPECT_EQ(outcome.acknowledged, 3u) << body;
    EXPECT_TRUE(outcome.failure.ok()) << body << ": " << outcome.failure.ToString();
    EXPECT_FALSE(outcome.item_failure) << body;
    EXPECT_EQ(outcome.protocol_status, status);
  }
  void ExpectWholeBatchFailed(int status, std::string_view body, std::string_view mentions = "") {
    auto outcome = Reply(status, body);
    EXPECT_EQ(outcome.acknowledged, 0u) << body;
    EXPECT_FALSE(outcome.failure.ok()) << body;
    EXPECT_TRUE(outcome.failure.IsRetriable()) << body;
    EXPECT_FALSE(outcome.item_failure) << body;
    EXPECT_EQ(outcome.protocol_status, status);
    EXPECT_NE(outcome.failure.message().find(mentions), std::string::npos)
        << outcome.failure.message();
  }
  void ExpectResumeAt(std::string_view body, size_t index) {
    auto outcome = Reply(200, body);
    EXPECT_EQ(outcome.acknowledged, index) << body;
    EXPECT_TRUE(outcome.item_failure) << body;
    EXPECT_TRUE(outcome.failure.IsRetriable()) << body;
  }

  consume::SinkBatch batch_ =
      Batch({Record("100", "a", "1"), Record("200", "b", "2"), Record("300", "c", "3")});
};

TEST_F(ReplyRules, NonSuccessStatusFailsTheBatchRetriably) {
  ExpectWholeBatchFailed(500, "boom", "HTTP 500: boom");
  ExpectWholeBatchFailed(503, "");
  ExpectWholeBatchFailed(429, "slow down");
  ExpectWholeBatchFailed(404, "", "retried like a Lambda function error");
  ExpectWholeBatchFailed(400, "bad");
  ExpectWholeBatchFailed(302, "");
  ExpectWholeBatchFailed(101, "");
}

TEST_F(ReplyRules, WithoutReportingAnySuccessStatusAcknowledgesAll) {
  ExpectSuccess(200, R"({"batchItemFailures":[{"itemIdentifier":"200"}]})", false);
  ExpectSuccess(204, "not json at all", false);
}

TEST_F(ReplyRules, EmptyOrNullRepliesAreFullSuccess) {
  ExpectSuccess(200, "");
  ExpectSuccess(204, " \r\n");
  ExpectSuccess(200, "null");
  ExpectSuccess(200, "{}");
  ExpectSuccess(200, R"({"batchItemFailures":null})");
  ExpectSuccess(200, R"({"batchItemFailures":[]})");
  ExpectSuccess(200, R"({"other":1})");
}

TEST_F(ReplyRules, ResumesAtTheLowestFailedRecord) {
  ExpectResumeAt(R"({"batchItemFailures":[{"itemIdentifier":"200"}]})", 1);
  ExpectResumeAt(R"({"batchItemFailures":[{"itemIdentifier":"300"},{"itemIdentifier":"200"}]})", 1);
  ExpectResumeAt(R"({"batchItemFailures":[{"itemIdentifier":"300"}]})", 2);
  ExpectResumeAt(R"({"batchItemFailures":[{"itemIdentifier":"100"},{"itemIdentifier":"300"}]})", 0);
  ExpectResumeAt(R"({"batchItemFailures":[{"itemIdentifier":"200","extra":true}]})", 1);
}

TEST_F(ReplyRules, BadIdentifiersFailTheWholeBatch) {
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[{"itemIdentifier":""}]})", "empty");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[{"itemIdentifier":null}]})", "not a string");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[{"itemIdentifier":200}]})", "not a string");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[{"itemId":"200"}]})",
                         "without itemIdentifier");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[{"itemIdentifier":"999"}]})",
                         "no sequence number of the batch");
  ExpectWholeBatchFailed(
      200, R"({"batchItemFailures":[{"itemIdentifier":"200"},{"itemIdentifier":"999"}]})", "999");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":["200"]})", "not an object");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":"200"})", "not a list");
}

TEST_F(ReplyRules, BodiesThatAreNotJsonObjectsFailTheWholeBatch) {
  ExpectWholeBatchFailed(200, "OK", "not JSON");
  ExpectWholeBatchFailed(200, R"({"batchItemFailures":[)", "not JSON");
  ExpectWholeBatchFailed(200, "[]", "not a JSON object");
  ExpectWholeBatchFailed(200, R"("done")", "not a JSON object");
}

}  // namespace
}  // namespace eddy::sink::webhook
