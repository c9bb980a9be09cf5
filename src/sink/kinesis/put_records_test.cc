#include "sink/kinesis/put_records.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "format/json.h"
#include "log/chunking.h"

namespace eddy::sink::kinesis {
namespace {

TEST(PutRecords, BodyHasStreamBase64DataAndKeys) {
  std::string body;
  BuildPutRecordsBody("out", {{"{\"a\":1}", "k\"1"}, {std::string_view("\0\xff", 2), "k2"}}, &body);
  EXPECT_EQ(body, R"({"StreamName":"out","Records":[{"Data":")" +
                      format::Base64Encode("{\"a\":1}") + R"(","PartitionKey":"k\"1"},)" +
                      R"({"Data":")" + format::Base64Encode(std::string_view("\0\xff", 2)) +
                      R"(","PartitionKey":"k2"}]})");
  EXPECT_EQ(BuildDescribeStreamSummaryBody("out"), R"({"StreamName":"out"})");
}

TEST(PutRecords, ReplyParsing) {
  auto results = ParsePutRecordsReply(
      R"({"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"s"},)"
      R"({"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded"}]})",
      2);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  EXPECT_TRUE((*results)[0].ok);
  EXPECT_FALSE((*results)[1].ok);
  EXPECT_EQ((*results)[1].error_code, "ProvisionedThroughputExceededException");
  EXPECT_TRUE(IsRetriableEntryError("InternalFailure"));
  EXPECT_FALSE(IsRetriableEntryError("KMSAccessDeniedException"));

  auto wrong_count = ParsePutRecordsReply(R"({"Records":[{"SequenceNumber":"1"}]})", 2);
  ASSERT_FALSE(wrong_count.ok());
  EXPECT_EQ(wrong_count.status().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(ParsePutRecordsReply("<html>", 1).ok());
  auto neither = ParsePutRecordsReply(R"({"Records":[{}]})", 1);
  ASSERT_TRUE(neither.ok());
  EXPECT_FALSE((*neither)[0].ok);
}

TEST(PutRecords, DescribeStreamSummaryReply) {
  auto summary = ParseDescribeStreamSummaryReply(
      R"({"StreamDescriptionSummary":{"StreamStatus":"ACTIVE","MaxRecordSizeInKiB":2048}})");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->status, "ACTIVE");
  EXPECT_EQ(summary->max_record_bytes, 2048u * 1024);
  auto bare = ParseDescribeStreamSummaryReply(
      R"({"StreamDescriptionSummary":{"StreamStatus":"CREATING"}})");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->max_record_bytes, 0u);
  EXPECT_FALSE(ParseDescribeStreamSummaryReply("{}").ok());
}

TEST(PutRecords, ErrorClassification) {
  auto error = [](int status, std::string body) {
    return ErrorFromReply("PutRecords", status, body, "out", "http://h:1/");
  };
  EXPECT_TRUE(error(500, "").IsRetriable());
  EXPECT_TRUE(error(503, R"({"__type":"ServiceUnavailable"})").IsRetriable());
  EXPECT_TRUE(error(429, "").IsRetriable());
  EXPECT_TRUE(error(400, R"({"__type":"ProvisionedThroughputExceededException"})").IsRetriable());
  Status missing =
      error(400, R"({"__type":"com.amazonaws#ResourceNotFoundException","message":"gone"})");
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("ResourceNotFoundException: gone; create the stream"),
            std::string::npos)
      << missing.message();
  Status denied = error(400, R"({"__type":"UnrecognizedClientException","message":"bad"})");
  EXPECT_EQ(denied.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("check AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(error(400, R"({"__type":"ValidationException"})").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error(404, "not found").code(), ErrorCode::kFailedPrecondition);
}

TEST(PutRecords, PartitionKeysWithinKinesisLimits) {
  EXPECT_EQ(KinesisPartitionKey("orders:42"), "orders:42");
  EXPECT_EQ(KinesisPartitionKey(""), "-");
  std::string long_key(300, 'k');
  std::string mapped = KinesisPartitionKey(long_key);
  EXPECT_EQ(mapped.size(), 7u + 64u);
  EXPECT_EQ(mapped, KinesisPartitionKey(long_key));  // deterministic
  EXPECT_EQ(KinesisPartitionKey(std::string(256, 'k')), std::string(256, 'k'));
}

TEST(PutRecords, LargeRecordsAreChunkedAsTheLogChunksThem) {
  std::string data(2'500'000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::vector<std::string> entries = SplitIntoEntries("key", data, 1 << 20);
  ASSERT_EQ(entries.size(), 3u);
  for (const std::string& entry : entries) EXPECT_LE(entry.size() + 3, size_t{1} << 20);
  // The log's reassembler puts them back together.
  log::Reassembler reassembler;
  std::optional<log::Record> whole;
  for (size_t i = 0; i < entries.size(); ++i) {
    log::Record record;
    record.kind = i == 0 ? log::RecordKind::kChunkedHead : log::RecordKind::kFragment;
    record.partition_key = "key";
    record.payload = entries[i];
    auto added = reassembler.Add(std::move(record));
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    if (*added) whole = std::move(**added);
  }
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->payload, data);
  EXPECT_EQ(SplitIntoEntries("key", "small", 1 << 20), std::vector<std::string>{"small"});
}

}  // namespace
}  // namespace eddy::sink::kinesis
