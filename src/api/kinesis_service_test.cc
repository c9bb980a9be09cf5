// Router + Kinesis/DynamoDB Streams handlers over a real LogStore in a temporary directory,
// driven with HTTP request values (no sockets): dispatch, error shapes, every operation's
// happy path and its main errors, iterator expiry with a manual clock.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "api/api_router.h"
#include "api/dynamodb_streams_service.h"
#include "api/json_writer.h"
#include "api/kinesis_service.h"
#include "api/record_rendering.h"
#include "log/log_store.h"
#include "model/event.h"
#include "model/event_codec.h"

namespace eddy::api {
namespace {

constexpr char kAuthorization[] =
    "AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/kinesis/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=abcdef0123";

struct Reply {
  int status = 0;
  std::string body;
  std::string request_id;
  simdjson::dom::element json;
  std::string Type() const {
    std::string_view type;
    if (json["__type"].get(type)) return "";
    return std::string(type);
  }
  std::string Str(std::string_view pointer) const {
    std::string_view value;
    if (json.at_pointer(pointer).get(value)) return "<missing " + std::string(pointer) + ">";
    return std::string(value);
  }
  bool Has(std::string_view pointer) const { return !json.at_pointer(pointer).error(); }
  int64_t Int(std::string_view pointer) const {
    int64_t value = -1;
    if (json.at_pointer(pointer).get(value)) return -999;
    return value;
  }
  size_t Size(std::string_view pointer) const {
    simdjson::dom::array array;
    if (json.at_pointer(pointer).get(array)) return 0;
    return array.size();
  }
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    directory_ = std::filesystem::temp_directory_path() /
                 ("eddy-api-test-" + std::to_string(random()));
    std::filesystem::create_directories(directory_);
    log::LogStoreOptions options;
    options.clock = &clock_;
    auto store = log::LogStore::Open(directory_.string(), options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    context_.store = store_.get();
    context_.clock = &clock_;
    context_.iterators = IteratorCodec(std::string(32, 'k'));
    context_.rendering = StandardRecordRendering("us-east-1");
    router_ = std::make_unique<ApiRouter>(&context_, nullptr);
  }
  void TearDown() override {
    router_.reset();
    store_.reset();
    std::filesystem::remove_all(directory_);
  }

  Reply Call(std::string target, std::string body, bool authorize = true) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/";
    request.headers.emplace_back("x-amz-target", std::move(target));
    request.headers.emplace_back("content-type", "application/x-amz-json-1.1");
    request.headers.emplace_back("x-amz-date", "20261121T111701Z");
    if (authorize) request.headers.emplace_back("authorization", kAuthorization);
    request.body = std::move(body);
    HttpResponse response;
    router_->Handle(request, &response);
    Reply reply;
    reply.status = response.status;
    reply.body = response.body;
    for (const auto& [name, value] : response.headers) {
      if (name == "x-amzn-requestid") reply.request_id = value;
    }
    replies_.push_back(std::make_unique<simdjson::dom::parser>());
    EXPECT_FALSE(replies_.back()->parse(reply.body).get(reply.json)) << reply.body;
    return reply;
  }
  Reply Kinesis(std::string op, std::string body) {
    return Call("Kinesis_20131202." + op, std::move(body));
  }
  Reply Streams(std::string op, std::string body) {
    return Call("DynamoDBStreams_20120810." + op, std::move(body));
  }

  ManualClock clock_{1'750'000'000'000'000'000};
  std::filesystem::path directory_;
  std::unique_ptr<log::LogStore> store_;
  ApiContext context_;
  std::unique_ptr<ApiRouter> router_;
  std::vector<std::unique_ptr<simdjson::dom::parser>> replies_;
};

TEST_F(ApiTest, ErrorsHaveAwsShape) {
  Reply unknown = Call("Kinesis_20131202.Frobnicate", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Type(), "UnknownOperationException");
  EXPECT_FALSE(unknown.request_id.empty());
  EXPECT_EQ(Call("", "{}").Type(), "UnknownOperationException");
  Reply unauthenticated = Call("Kinesis_20131202.ListStreams", "{}", false);
  EXPECT_EQ(unauthenticated.Type(), "MissingAuthenticationTokenException");
  EXPECT_EQ(Kinesis("ListStreams", "{not json").Type(), "SerializationException");
  EXPECT_EQ(Kinesis("DescribeStream", R"({"StreamName":42})").Type(), "SerializationException");
  Reply invalid = Kinesis("CreateStream", R"({"StreamName":"bad name!","ShardCount":0})");
  EXPECT_EQ(invalid.Type(), "ValidationException");
  EXPECT_NE(invalid.Str("/message").find("2 validation errors detected"), std::string::npos)
      << invalid.body;
  Reply missing = Kinesis("DescribeStream", R"({"StreamName":"nope"})");
  EXPECT_EQ(missing.Type(), "ResourceNotFoundException");
  EXPECT_EQ(missing.Str("/message"), "Stream nope under account 000000000000 not found.");
  EXPECT_EQ(Kinesis("DescribeStream", "{}").Type(), "InvalidArgumentException");
}

TEST_F(ApiTest, CreateDescribeListDelete) {
  EXPECT_EQ(Kinesis("CreateStream", R"({"StreamName":"s1","ShardCount":3})").status, 200);
  EXPECT_EQ(Kinesis("CreateStream", R"({"StreamName":"s1","ShardCount":3})").Type(),
            "ResourceInUseException");
  EXPECT_EQ(Kinesis("CreateStream", R"({"StreamName":"s2","StreamModeDetails":{"StreamMode":"ON_DEMAND"}})").status,
            200);
  EXPECT_EQ(Kinesis("CreateStream", R"({"StreamName":"s3","StreamModeDetails":{"StreamMode":"PROVISIONED"}})").Type(),
            "InvalidArgumentException");

  Reply describe = Kinesis("DescribeStream", R"({"StreamName":"s1"})");
  ASSERT_EQ(describe.status, 200) << describe.body;
  EXPECT_EQ(describe.Str("/StreamDescription/StreamStatus"), "ACTIVE");
  EXPECT_EQ(describe.Str("/StreamDescription/StreamARN"),
            "arn:aws:kinesis:us-east-1:000000000000:stream/s1");
  EXPECT_EQ(describe.Size("/StreamDescription/Shards"), 3u);
  EXPECT_EQ(describe.Str("/StreamDescription/Shards/0/HashKeyRange/StartingHashKey"), "0");
  EXPECT_EQ(describe.Str("/StreamDescription/Shards/2/HashKeyRange/EndingHashKey"),
            "340282366920938463463374607431768211455");
  EXPECT_EQ(describe.Int("/StreamDescription/RetentionPeriodHours"), 24);

  Reply page = Kinesis("DescribeStream", R"({"StreamName":"s1","Limit":2})");
  EXPECT_EQ(page.Size("/StreamDescription/Shards"), 2u);
  EXPECT_TRUE(page.json.at_pointer("/StreamDescription/HasMoreShards").get_bool().value());
  Reply rest = Kinesis("DescribeStream",
                       R"({"StreamName":"s1","ExclusiveStartShardId":"shardId-000000000001"})");
  EXPECT_EQ(rest.Size("/StreamDescription/Shards"), 1u);

  Reply summary = Kinesis("DescribeStreamSummary", R"({"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s2"})");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.Int("/StreamDescriptionSummary/OpenShardCount"), 4);
  EXPECT_EQ(summary.Str("/StreamDescriptionSummary/StreamModeDetails/StreamMode"), "ON_DEMAND");
  EXPECT_FALSE(summary.Has("/StreamDescriptionSummary/StreamId"));

  Reply first = Kinesis("ListStreams", R"({"Limit":1})");
  EXPECT_EQ(first.Size("/StreamNames"), 1u);
  EXPECT_EQ(first.Str("/StreamNames/0"), "s1");
  EXPECT_TRUE(first.json["HasMoreStreams"].get_bool().value());
  Reply second = Kinesis("ListStreams", R"({"NextToken":")" + first.Str("/NextToken") + "\"}");
  EXPECT_EQ(second.Str("/StreamNames/0"), "s2");
  EXPECT_FALSE(second.json["HasMoreStreams"].get_bool().value());
  EXPECT_EQ(second.Str("/StreamSummaries/0/StreamARN"),
            "arn:aws:kinesis:us-east-1:000000000000:stream/s2");

  EXPECT_EQ(Kinesis("DeleteStream", R"({"StreamName":"s1"})").status, 200);
  EXPECT_EQ(Kinesis("DescribeStream", R"({"StreamName":"s1"})").Type(),
            "ResourceNotFoundException");
}

TEST_F(ApiTest, PutAndGetRecordsWithAllIteratorTypes) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"s","ShardCount":1})").status, 200);
  std::vector<std::string> sequences;
  for (int i = 0; i < 5; ++i) {
    Reply put = Kinesis("PutRecord", R"({"StreamName":"s","PartitionKey":"k)" + std::to_string(i) +
                                         R"(","Data":")" + EncodeBase64("record " + std::to_string(i)) +
                                         "\"}");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.Str("/ShardId"), "shardId-000000000000");
    sequences.push_back(put.Str("/SequenceNumber"));
    EXPECT_EQ(sequences.back().size(), 56u);
  }
  Reply batch = Kinesis("PutRecords", R"({"StreamName":"s","Records":[{"PartitionKey":"a","Data":"eA=="},{"PartitionKey":"b","Data":"eQ=="}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.Int("/FailedRecordCount"), 0);
  EXPECT_EQ(batch.Size("/Records"), 2u);

  auto iterator = [&](std::string type, std::string extra) {
    Reply reply = Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":")" +
                                                  type + "\"" + extra + "}");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.Str("/ShardIterator");
  };
  Reply all = Kinesis("GetRecords", R"({"ShardIterator":")" + iterator("TRIM_HORIZON", "") + "\"}");
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_EQ(all.Size("/Records"), 7u);
  EXPECT_EQ(all.Str("/Records/0/Data"), EncodeBase64("record 0"));
  EXPECT_EQ(all.Str("/Records/0/PartitionKey"), "k0");
  EXPECT_EQ(all.Str("/Records/0/SequenceNumber"), sequences[0]);
  EXPECT_EQ(all.Int("/MillisBehindLatest"), 0);
  EXPECT_TRUE(all.Has("/NextShardIterator"));
  EXPECT_FALSE(all.Has("/ChildShards"));

  Reply limited = Kinesis("GetRecords", R"({"Limit":2,"ShardIterator":")" + iterator("TRIM_HORIZON", "") + "\"}");
  EXPECT_EQ(limited.Size("/Records"), 2u);
  Reply next = Kinesis("GetRecords", R"({"ShardIterator":")" + limited.Str("/NextShardIterator") + "\"}");
  EXPECT_EQ(next.Size("/Records"), 5u);
  EXPECT_EQ(next.Str("/Records/0/SequenceNumber"), sequences[2]);

  Reply at = Kinesis("GetRecords", R"({"ShardIterator":")" +
                                       iterator("AT_SEQUENCE_NUMBER", R"(,"StartingSequenceNumber":")" + sequences[3] + "\"") + "\"}");
  EXPECT_EQ(at.Str("/Records/0/SequenceNumber"), sequences[3]);
  Reply after = Kinesis("GetRecords", R"({"ShardIterator":")" +
                                          iterator("AFTER_SEQUENCE_NUMBER", R"(,"StartingSequenceNumber":")" + sequences[3] + "\"") + "\"}");
  EXPECT_EQ(after.Str("/Records/0/SequenceNumber"), sequences[4]);
  Reply latest = Kinesis("GetRecords", R"({"ShardIterator":")" + iterator("LATEST", "") + "\"}");
  EXPECT_EQ(latest.Size("/Records"), 0u);
  Reply at_time = Kinesis("GetRecords", R"({"ShardIterator":")" + iterator("AT_TIMESTAMP", R"(,"Timestamp":1700000000)") + "\"}");
  EXPECT_EQ(at_time.Size("/Records"), 7u);

  EXPECT_EQ(Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST","StartingSequenceNumber":"1"})").Type(),
            "InvalidArgumentException");
  EXPECT_EQ(Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"})").Type(),
            "ResourceNotFoundException");
  EXPECT_EQ(Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":9999999999})").Type(),
            "InvalidArgumentException");
}

TEST_F(ApiTest, GetRecordsWaitsOnlyWhenTheClientOptsIn) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"w","ShardCount":1})").status, 200);
  std::string iterator = Kinesis("GetShardIterator", R"({"StreamName":"w","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"})")
                             .Str("/ShardIterator");
  auto get_records = [&](const std::string& wait_header) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/";
    request.headers.emplace_back("x-amz-target", "Kinesis_20131202.GetRecords");
    request.headers.emplace_back("content-type", "application/x-amz-json-1.1");
    request.headers.emplace_back("x-amz-date", "20261121T111701Z");
    request.headers.emplace_back("authorization", kAuthorization);
    if (!wait_header.empty()) {
      request.headers.emplace_back(std::string(KinesisService::kGetRecordsWaitHeader), wait_header);
    }
    request.body = R"({"ShardIterator":")" + iterator + "\"}";
    HttpResponse response;
    router_->Handle(request, &response);
    return response;
  };
  // Without the header (AWS semantics) and with an invalid one: an empty shard answers at once.
  EXPECT_NE(get_records("").body.find(R"("Records":[])"), std::string::npos);
  EXPECT_NE(get_records("soon").body.find(R"("Records":[])"), std::string::npos);
  // With it, an empty shard is waited on until the deadline...
  auto start = std::chrono::steady_clock::now();
  HttpResponse empty = get_records("60");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(55));
  EXPECT_EQ(empty.status, 200);
  EXPECT_NE(empty.body.find(R"("Records":[])"), std::string::npos);
  // ...and a record committed meanwhile is returned by the waiting call (the deadline is far
  // away, so an answer before it means the commit woke the wait).
  HttpResponse waited;
  std::chrono::steady_clock::duration took{};
  std::thread reader([&] {
    auto begin = std::chrono::steady_clock::now();
    waited = get_records("1000");
    took = std::chrono::steady_clock::now() - begin;
  });
  Reply put = Kinesis("PutRecord", R"({"StreamName":"w","PartitionKey":"k","Data":"eA=="})");
  ASSERT_EQ(put.status, 200) << put.body;
  reader.join();
  EXPECT_EQ(waited.status, 200);
  EXPECT_NE(waited.body.find(R"("Data":"eA==")"), std::string::npos) << waited.body;
  EXPECT_LT(took, std::chrono::milliseconds(900));
}

TEST_F(ApiTest, IteratorsAreCheckedForForgeryExpiryAndDeletedStreams) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"s","ShardCount":1})").status, 200);
  Reply it = Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  std::string token = it.Str("/ShardIterator");
  std::string forged = token;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Kinesis("GetRecords", R"({"ShardIterator":")" + forged + "\"}").Type(),
            "InvalidArgumentException");
  EXPECT_EQ(Kinesis("GetRecords", R"({"ShardIterator":"x","Limit":100000})").Type(),
            "ValidationException");
  clock_.Advance(301LL * 1'000'000'000);
  EXPECT_EQ(Kinesis("GetRecords", R"({"ShardIterator":")" + token + "\"}").Type(),
            "ExpiredIteratorException");
  Reply fresh = Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  ASSERT_EQ(Kinesis("DeleteStream", R"({"StreamName":"s"})").status, 200);
  EXPECT_EQ(Kinesis("GetRecords", R"({"ShardIterator":")" + fresh.Str("/ShardIterator") + "\"}").Type(),
            "ResourceNotFoundException");
}

TEST_F(ApiTest, SplitAndMergeExposeLineageAndChildShards) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"s","ShardCount":1})").status, 200);
  ASSERT_EQ(Kinesis("PutRecord", R"({"StreamName":"s","PartitionKey":"a","Data":"AA=="})").status, 200);
  Reply parent_iterator = Kinesis("GetShardIterator", R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  EXPECT_EQ(Kinesis("SplitShard", R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"0"})").Type(),
            "InvalidArgumentException");
  Reply split = Kinesis("SplitShard", R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"})");
  ASSERT_EQ(split.status, 200) << split.body;
  EXPECT_EQ(Kinesis("SplitShard", R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"})").Type(),
            "InvalidArgumentException");

  Reply shards = Kinesis("ListShards", R"({"StreamName":"s"})");
  ASSERT_EQ(shards.Size("/Shards"), 3u) << shards.body;
  EXPECT_EQ(shards.Str("/Shards/1/ParentShardId"), "shardId-000000000000");
  EXPECT_TRUE(shards.Has("/Shards/0/SequenceNumberRange/EndingSequenceNumber"));
  EXPECT_EQ(Kinesis("ListShards", R"({"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}})").Size("/Shards"), 2u);
  EXPECT_EQ(Kinesis("ListShards", R"({"StreamName":"s","ShardFilter":{"Type":"AT_TRIM_HORIZON"}})").Size("/Shards"), 1u);

  // Paginated ListShards, with botocore's habit of resending StreamName with NextToken.
  Reply one = Kinesis("ListShards", R"({"StreamName":"s","MaxResults":1})");
  ASSERT_TRUE(one.Has("/NextToken"));
  Reply two = Kinesis("ListShards", R"({"StreamName":"s","MaxResults":5,"NextToken":")" + one.Str("/NextToken") + "\"}");
  ASSERT_EQ(two.status, 200) << two.body;
  EXPECT_EQ(two.Size("/Shards"), 2u);
  EXPECT_EQ(Kinesis("ListShards", R"({"StreamName":"other","NextToken":")" + one.Str("/NextToken") + "\"}").Type(),
            "InvalidArgumentException");

  // The parent's last read ends with ChildShards and no NextShardIterator.
  Reply end = Kinesis("GetRecords", R"({"ShardIterator":")" + parent_iterator.Str("/ShardIterator") + "\"}");
  ASSERT_EQ(end.status, 200) << end.body;
  EXPECT_EQ(end.Size("/Records"), 1u);
  EXPECT_FALSE(end.Has("/NextShardIterator"));
  ASSERT_EQ(end.Size("/ChildShards"), 2u);
  EXPECT_EQ(end.Str("/ChildShards/0/ParentShards/0"), "shardId-000000000000");

  Reply merge_bad = Kinesis("MergeShards", R"({"StreamName":"s","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"})");
  EXPECT_EQ(merge_bad.Type(), "InvalidArgumentException");
  Reply merge = Kinesis("MergeShards", R"({"StreamName":"s","ShardToMerge":"shardId-000000000001","AdjacentShardToMerge":"shardId-000000000002"})");
  ASSERT_EQ(merge.status, 200) << merge.body;
  Reply after_merge = Kinesis("ListShards", R"({"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}})");
  ASSERT_EQ(after_merge.Size("/Shards"), 1u);
  EXPECT_EQ(after_merge.Str("/Shards/0/AdjacentParentShardId"), "shardId-000000000002");
}

// The wording clients see for refused requests, member by member (each message is built in
// one place and shared by the operations that can refuse that way).
TEST_F(ApiTest, RefusalsAreWordedAsKinesisWordsThem) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"s","ShardCount":1})").status, 200);
  Reply hash_key = Kinesis(
      "SplitShard",
      R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"01"})");
  EXPECT_EQ(hash_key.Type(), "ValidationException");
  EXPECT_NE(hash_key.Str("/message")
                .find("Value '01' at 'newStartingHashKey' failed to satisfy constraint: Member "
                      "must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"),
            std::string::npos)
      << hash_key.body;
  Reply sequence = Kinesis(
      "GetShardIterator",
      R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"x"})");
  EXPECT_NE(sequence.Str("/message")
                .find("Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"),
            std::string::npos)
      << sequence.body;
  Reply shard_name = Kinesis(
      "MergeShards", R"({"StreamName":"s","ShardToMerge":"a b","AdjacentShardToMerge":""})");
  EXPECT_NE(shard_name.Str("/message").find("2 validation errors detected"), std::string::npos)
      << shard_name.body;
  Reply no_shard = Kinesis(
      "GetShardIterator",
      R"({"StreamName":"s","ShardId":"shardId-000000000009","ShardIteratorType":"LATEST"})");
  EXPECT_EQ(no_shard.Type(), "ResourceNotFoundException");
  EXPECT_EQ(no_shard.Str("/message"),
            "Shard shardId-000000000009 in stream s under account 000000000000 does not exist");
  ASSERT_EQ(
      Kinesis(
          "SplitShard",
          R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"170141183460469231731687303715884105728"})")
          .status,
      200);
  Reply closed = Kinesis(
      "SplitShard",
      R"({"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1"})");
  EXPECT_EQ(closed.Str("/message"),
            "Shard shardId-000000000000 in stream s under account 000000000000 has already been "
            "merged or split, and thus is not eligible for merging or splitting.");
  Reply closed_merge = Kinesis(
      "MergeShards",
      R"({"StreamName":"s","ShardToMerge":"shardId-000000000001","AdjacentShardToMerge":"shardId-000000000000"})");
  EXPECT_EQ(closed_merge.Str("/message"), closed.Str("/message"));
  Reply reserved = Kinesis("AddTagsToStream", R"({"StreamName":"s","Tags":{"eddy:x":"1"}})");
  EXPECT_EQ(reserved.Str("/message"), "Tag keys starting with 'eddy:' are reserved.");
  EXPECT_EQ(Kinesis("CreateStream", R"({"StreamName":"t","ShardCount":1,"Tags":{"eddy:x":"1"}})")
                .Str("/message"),
            reserved.Str("/message"));
  const std::string big = std::string(1'048'576 / 3 * 4 + 4, 'A');
  Reply too_big =
      Kinesis("PutRecord", R"({"StreamName":"s","PartitionKey":"k","Data":")" + big + "\"}");
  EXPECT_EQ(
      too_big.Str("/message"),
      "Record size (data plus partition key) exceeds the stream's maximum record size of 1024 KiB.")
      << too_big.body;
  Reply too_big_batch = Kinesis(
      "PutRecords", R"({"StreamName":"s","Records":[{"PartitionKey":"k","Data":")" + big + "\"}]}");
  EXPECT_EQ(too_big_batch.Str("/message"), too_big.Str("/message"));

  ASSERT_EQ(Kinesis("CreateStream",
                    R"({"StreamName":"od","StreamModeDetails":{"StreamMode":"ON_DEMAND"}})")
                .status,
            200);
  EXPECT_EQ(
      Kinesis(
          "SplitShard",
          R"({"StreamName":"od","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"1"})")
          .Str("/message"),
      "SplitShard is not supported for a stream in ON_DEMAND mode.");
  EXPECT_EQ(
      Kinesis(
          "MergeShards",
          R"({"StreamName":"od","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"})")
          .Str("/message"),
      "MergeShards is not supported for a stream in ON_DEMAND mode.");

  // The stream's identity is written alike by DescribeStream, its summary and ListStreams.
  Reply described = Kinesis("DescribeStream", R"({"StreamName":"od"})");
  Reply summary = Kinesis("DescribeStreamSummary", R"({"StreamName":"od"})");
  Reply listed = Kinesis("ListStreams", "{}");
  ASSERT_EQ(listed.Size("/StreamSummaries"), 2u) << listed.body;
  for (const auto& [reply, prefix] : {std::pair{&described, "/StreamDescription"},
                                      std::pair{&summary, "/StreamDescriptionSummary"},
                                      std::pair{&listed, "/StreamSummaries/0"}}) {
    EXPECT_EQ(reply->Str(std::string(prefix) + "/StreamName"), "od") << reply->body;
    EXPECT_EQ(reply->Str(std::string(prefix) + "/StreamARN"),
              "arn:aws:kinesis:us-east-1:000000000000:stream/od");
    EXPECT_EQ(reply->Str(std::string(prefix) + "/StreamStatus"), "ACTIVE");
    EXPECT_EQ(reply->Str(std::string(prefix) + "/StreamModeDetails/StreamMode"), "ON_DEMAND");
  }
  for (const auto& [reply, prefix] : {std::pair{&described, "/StreamDescription"},
                                      std::pair{&summary, "/StreamDescriptionSummary"}}) {
    EXPECT_EQ(reply->Int(std::string(prefix) + "/RetentionPeriodHours"), 24) << reply->body;
    EXPECT_EQ(reply->Str(std::string(prefix) + "/EncryptionType"), "NONE");
    EXPECT_TRUE(reply->Has(std::string(prefix) + "/StreamCreationTimestamp"));
    EXPECT_TRUE(reply->Has(std::string(prefix) + "/EnhancedMonitoring/0/ShardLevelMetrics"));
  }
}

TEST_F(ApiTest, UpdateShardCountRetentionAndTags) {
  ASSERT_EQ(Kinesis("CreateStream", R"({"StreamName":"s","ShardCount":2,"Tags":{"team":"data"}})").status, 200);
  Reply scaled = Kinesis("UpdateShardCount", R"({"StreamName":"s","TargetShardCount":3,"ScalingType":"UNIFORM_SCALING"})");
  ASSERT_EQ(scaled.status, 200) << scaled.body;
  EXPECT_EQ(scaled.Int("/CurrentShardCount"), 2);
  Reply summary = Kinesis("DescribeStreamSummary", R"({"StreamName":"s"})");
  EXPECT_EQ(summary.Int("/StreamDescriptionSummary/OpenShardCount"), 3);
  Reply open = Kinesis("ListShards", R"({"StreamName":"s","ShardFilter":{"Type":"AT_LATEST"}})");
  ASSERT_EQ(open.Size("/Shards"), 3u);
  EXPECT_EQ(open.Str("/Shards/0/HashKeyRange/StartingHashKey"), "0");
  EXPECT_EQ(Kinesis("UpdateShardCount", R"({"StreamName":"s","TargetShardCount":7,"ScalingType":"UNIFORM_SCALING"})").Type(),
            "LimitExceededException");
  Reply down = Kinesis("UpdateShardCount", R"({"StreamName":"s","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"})");
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(Kinesis("DescribeStreamSummary", R"({"StreamName":"s"})").Int("/StreamDescriptionSummary/OpenShardCount"), 2);

  EXPECT_EQ(Kinesis("IncreaseStreamRetentionPeriod", R"({"StreamName":"s","RetentionPeriodHours":48})").status, 200);
  EXPECT_EQ(Kinesis("DescribeStreamSummary", R"({"StreamName":"s"})").Int("/StreamDescriptionSummary/RetentionPeriodHours"), 48);
  EXPECT_EQ(Kinesis("IncreaseStreamRetentionPeriod", R"({"StreamName":"s","RetentionPeriodHours":30})").Type(),
            "InvalidArgumentException");
  EXPECT_EQ(Kinesis("DecreaseStreamRetentionPeriod", R"({"StreamName":"s","RetentionPeriodHours":12})").Type(),
            "InvalidArgumentException");
  EXPECT_EQ(Kinesis("DecreaseStreamRetentionPeriod", R"({"StreamName":"s","RetentionPeriodHours":24})").status, 200);

  EXPECT_EQ(Kinesis("AddTagsToStream", R"({"StreamName":"s","Tags":{"env":"dev","a":"1"}})").status, 200);
  EXPECT_EQ(Kinesis("RemoveTagsFromStream", R"({"StreamName":"s","TagKeys":["a"]})").status, 200);
  Reply tags = Kinesis("ListTagsForStream", R"({"StreamName":"s"})");
  ASSERT_EQ(tags.Size("/Tags"), 2u) << tags.body;  // env, team (internal eddy: tags hidden)
  EXPECT_EQ(tags.Str("/Tags/0/Key"), "env");
  EXPECT_EQ(tags.Str("/Tags/1/Value"), "data");
  EXPECT_EQ(Kinesis("AddTagsToStream", R"({"StreamName":"s","Tags":{"eddy:cdc":"true"}})").Type(),
            "InvalidArgumentException");
}

// A CDC stream: read-only for writers, rendered by format at read time, and served through
// DynamoDB Streams.
TEST_F(ApiTest, CdcStreamsAreReadOnlyAndServedByDynamoDbStreams) {
  log::StreamOptions options;
  options.shard_count = 1;
  options.tags["eddy:cdc"] = "true";
  options.tags["eddy:format"] = "native";
  options.tags["eddy:table"] = "orders";
  options.tags["eddy:key_columns"] = "id";
  auto stream = store_->CreateStream("cdc", options);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  model::ChangeEvent event;
  event.op = model::Operation::kInsert;
  event.table = model::TableId{"shop", "public", "orders"};
  event.key = model::Row{model::Field{"id", model::Value::Int64(7)}};
  event.after = model::Row{model::Field{"id", model::Value::Int64(7)},
                           model::Field{"note", model::Value::Text("hello")}};
  event.commit_time_ns = 1'749'000'000'000'000'000;
  log::AppendRecord record;
  record.partition_key = event.PartitionKey();
  record.payload = model::EncodeEvent(event);
  std::vector<log::AppendRecord> records;
  records.push_back(record);
  ASSERT_TRUE((*stream)->AppendTransaction(std::move(records), SourcePosition()).ok());

  EXPECT_EQ(Kinesis("PutRecord", R"({"StreamName":"cdc","PartitionKey":"a","Data":"AA=="})").Type(),
            "AccessDeniedException");
  Reply it = Kinesis("GetShardIterator", R"({"StreamName":"cdc","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  Reply records_reply = Kinesis("GetRecords", R"({"ShardIterator":")" + it.Str("/ShardIterator") + "\"}");
  ASSERT_EQ(records_reply.Size("/Records"), 1u) << records_reply.body;
  std::string data;
  ASSERT_TRUE(DecodeBase64(records_reply.Str("/Records/0/Data"), &data));
  EXPECT_NE(data.find("hello"), std::string::npos) << data;  // rendered, not the binary event

  Reply list = Streams("ListStreams", "{}");
  ASSERT_EQ(list.Size("/Streams"), 1u) << list.body;
  std::string arn = list.Str("/Streams/0/StreamArn");
  EXPECT_EQ(arn.rfind("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/", 0), 0u) << arn;
  Reply describe = Streams("DescribeStream", R"({"StreamArn":")" + arn + "\"}");
  ASSERT_EQ(describe.status, 200) << describe.body;
  EXPECT_EQ(describe.Str("/StreamDescription/KeySchema/0/AttributeName"), "id");
  std::string shard_id = describe.Str("/StreamDescription/Shards/0/ShardId");
  EXPECT_EQ(shard_id.size(), 37u) << shard_id;
  Reply iterator = Streams("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard_id +
                                                   R"(","ShardIteratorType":"TRIM_HORIZON"})");
  ASSERT_EQ(iterator.status, 200) << iterator.body;
  Reply got = Streams("GetRecords", R"({"ShardIterator":")" + iterator.Str("/ShardIterator") + "\"}");
  ASSERT_EQ(got.status, 200) << got.body;
  if (got.Size("/Records") == 1u) {
    EXPECT_EQ(got.Str("/Records/0/eventName"), "INSERT") << got.body;
    EXPECT_EQ(got.Str("/Records/0/dynamodb/SequenceNumber").size(), 21u) << got.body;
  } else {
    ADD_FAILURE() << "expected one DynamoDB Streams record: " << got.body;
  }
  EXPECT_EQ(Streams("DescribeStream", R"({"StreamArn":"arn:aws:dynamodb:us-east-1:000000000000:table/x/stream/2020-01-01T00:00:00.000"})").Type(),
            "ResourceNotFoundException");
}

// Retention trims old segments: DynamoDB Streams answers TrimmedDataAccessException for a
// trimmed position, Kinesis starts such an iterator at the trim horizon; DynamoDB Streams
// iterators live 15 minutes.
TEST_F(ApiTest, TrimmedPositionsAndDynamoDbIteratorExpiry) {
  router_.reset();
  store_.reset();
  log::LogStoreOptions store_options;
  store_options.clock = &clock_;
  store_options.segment_bytes = 4096;
  auto reopened = log::LogStore::Open(directory_.string(), store_options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();
  context_.store = store_.get();
  router_ = std::make_unique<ApiRouter>(&context_, nullptr);

  log::StreamOptions options;
  options.shard_count = 1;
  options.retention_nanos = 3600LL * 1'000'000'000;
  options.tags["eddy:cdc"] = "true";
  auto stream = store_->CreateStream("trim", options);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  auto append = [&](int i) {
    model::ChangeEvent event;
    event.op = model::Operation::kInsert;
    event.table = model::TableId{"shop", "public", "t"};
    event.key = model::Row{model::Field{"id", model::Value::Int64(i)}};
    event.after = model::Row{model::Field{"id", model::Value::Int64(i)},
                             model::Field{"pad", model::Value::Text(std::string(300, 'p'))}};
    log::AppendRecord record;
    record.partition_key = event.PartitionKey();
    record.payload = model::EncodeEvent(event);
    std::vector<log::AppendRecord> records;
    records.push_back(record);
    auto appended = (*stream)->AppendTransaction(std::move(records), SourcePosition());
    EXPECT_TRUE(appended.ok()) << appended.status().ToString();
    return appended.ok() ? appended->records[0].sequence.value() : 0;
  };
  uint64_t first = append(0);
  for (int i = 1; i < 40; ++i) append(i);
  clock_.Advance(2 * 3600LL * 1'000'000'000);
  for (int i = 40; i < 60; ++i) append(i);
  auto dropped = (*stream)->EnforceRetention();
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  ASSERT_GT(*dropped, 0u);

  std::string arn = Streams("ListStreams", "{}").Str("/Streams/0/StreamArn");
  Reply describe = Streams("DescribeStream", R"({"StreamArn":")" + arn + "\"}");
  std::string shard_id = describe.Str("/StreamDescription/Shards/0/ShardId");
  Reply trimmed = Streams("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard_id +
                                                  R"(","ShardIteratorType":"AT_SEQUENCE_NUMBER","SequenceNumber":")" +
                                                  DynamoDbSequenceNumber(first) + "\"}");
  EXPECT_EQ(trimmed.Type(), "TrimmedDataAccessException") << trimmed.body;

  auto shard = (*stream)->DescribeShard(0);
  ASSERT_TRUE(shard.ok());
  Reply kinesis_iterator = Kinesis("GetShardIterator", R"({"StreamName":"trim","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":")" +
                                                           shard->FormatSequence(SequenceNumber(first)) + "\"}");
  ASSERT_EQ(kinesis_iterator.status, 200) << kinesis_iterator.body;
  Reply from_horizon = Kinesis("GetRecords", R"({"ShardIterator":")" + kinesis_iterator.Str("/ShardIterator") + "\"}");
  ASSERT_GT(from_horizon.Size("/Records"), 0u) << from_horizon.body;
  EXPECT_EQ(from_horizon.Str("/Records/0/SequenceNumber"),
            shard->FormatSequence(shard->trim_horizon));

  Reply iterator = Streams("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard_id +
                                                   R"(","ShardIteratorType":"TRIM_HORIZON"})");
  std::string token = iterator.Str("/ShardIterator");
  clock_.Advance(10LL * 60 * 1'000'000'000);
  EXPECT_EQ(Streams("GetRecords", R"({"ShardIterator":")" + token + "\"}").status, 200);
  clock_.Advance(6LL * 60 * 1'000'000'000);
  EXPECT_EQ(Streams("GetRecords", R"({"ShardIterator":")" + token + "\"}").Type(),
            "ExpiredIteratorException");
  // A Kinesis iterator is not a DynamoDB Streams iterator and vice versa.
  EXPECT_EQ(Kinesis("GetRecords", R"({"ShardIterator":")" + token + "\"}").Type(),
            "InvalidArgumentException");
}

// A CDC event larger than the stream's max record size is stored chunked; readers get it
// whole even when Limit cuts the group, in both APIs.
TEST_F(ApiTest, ChunkedPayloadsAreReassembled) {
  log::StreamOptions options;
  options.shard_count = 1;
  options.max_record_bytes = 1024;
  options.tags["eddy:cdc"] = "true";
  auto stream = store_->CreateStream("big", options);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::vector<log::AppendRecord> records;
  for (int i = 0; i < 3; ++i) {
    model::ChangeEvent event;
    event.op = model::Operation::kInsert;
    event.table = model::TableId{"shop", "public", "t"};
    event.key = model::Row{model::Field{"id", model::Value::Int64(i)}};
    event.after = model::Row{model::Field{"id", model::Value::Int64(i)},
                             model::Field{"blob", model::Value::Text(std::string(i == 1 ? 5000 : 10, 'z'))}};
    log::AppendRecord record;
    record.partition_key = event.PartitionKey();
    record.payload = model::EncodeEvent(event);
    records.push_back(std::move(record));
  }
  ASSERT_TRUE((*stream)->AppendTransaction(std::move(records), SourcePosition()).ok());

  Reply it = Kinesis("GetShardIterator", R"({"StreamName":"big","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})");
  std::string iterator = it.Str("/ShardIterator");
  std::vector<std::string> payloads;
  for (int call = 0; call < 20 && payloads.size() < 3; ++call) {
    Reply got = Kinesis("GetRecords", R"({"Limit":2,"ShardIterator":")" + iterator + "\"}");
    ASSERT_EQ(got.status, 200) << got.body;
    for (size_t i = 0; i < got.Size("/Records"); ++i) {
      std::string data;
      ASSERT_TRUE(DecodeBase64(got.Str("/Records/" + std::to_string(i) + "/Data"), &data));
      payloads.push_back(data);
    }
    iterator = got.Str("/NextShardIterator");
  }
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_NE(payloads[1].find(std::string(5000, 'z')), std::string::npos);

  std::string arn = Streams("ListStreams", "{}").Str("/Streams/0/StreamArn");
  std::string shard_id = Streams("DescribeStream", R"({"StreamArn":")" + arn + "\"}").Str("/StreamDescription/Shards/0/ShardId");
  Reply ddb_it = Streams("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + shard_id +
                                                 R"(","ShardIteratorType":"TRIM_HORIZON"})");
  Reply ddb = Streams("GetRecords", R"({"ShardIterator":")" + ddb_it.Str("/ShardIterator") + "\"}");
  ASSERT_EQ(ddb.Size("/Records"), 3u) << ddb.body;
  EXPECT_EQ(ddb.Str("/Records/1/dynamodb/NewImage/blob/S"), std::string(5000, 'z'));
}

// DynamoDB Streams lineage after a split: CHILD_SHARDS lists the children with the parent as
// ParentShardId, and the parent's last GetRecords has no NextShardIterator.
TEST_F(ApiTest, DynamoDbStreamsChildShardsAfterSplit) {
  log::StreamOptions options;
  options.shard_count = 1;
  options.tags["eddy:cdc"] = "true";
  auto stream = store_->CreateStream("lineage", options);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_TRUE((*stream)->SplitShard(0, log::EvenHashKeyRange(1, 2).start).ok());
  std::string arn = Streams("ListStreams", "{}").Str("/Streams/0/StreamArn");
  Reply all = Streams("DescribeStream", R"({"StreamArn":")" + arn + "\"}");
  ASSERT_EQ(all.Size("/StreamDescription/Shards"), 3u) << all.body;
  std::string parent = all.Str("/StreamDescription/Shards/0/ShardId");
  EXPECT_TRUE(all.Has("/StreamDescription/Shards/0/SequenceNumberRange/EndingSequenceNumber"));
  Reply children = Streams("DescribeStream", R"({"StreamArn":")" + arn +
                                                 R"(","ShardFilter":{"Type":"CHILD_SHARDS","ShardId":")" +
                                                 parent + "\"}}");
  ASSERT_EQ(children.Size("/StreamDescription/Shards"), 2u) << children.body;
  EXPECT_EQ(children.Str("/StreamDescription/Shards/0/ParentShardId"), parent);
  EXPECT_EQ(children.Str("/StreamDescription/Shards/1/ParentShardId"), parent);
  Reply iterator = Streams("GetShardIterator", R"({"StreamArn":")" + arn + R"(","ShardId":")" + parent +
                                                   R"(","ShardIteratorType":"TRIM_HORIZON"})");
  Reply end = Streams("GetRecords", R"({"ShardIterator":")" + iterator.Str("/ShardIterator") + "\"}");
  ASSERT_EQ(end.status, 200) << end.body;
  EXPECT_FALSE(end.Has("/NextShardIterator")) << end.body;
  Reply paged = Streams("DescribeStream", R"({"StreamArn":")" + arn + R"(","Limit":2})");
  EXPECT_EQ(paged.Size("/StreamDescription/Shards"), 2u);
  EXPECT_TRUE(paged.Has("/StreamDescription/LastEvaluatedShardId"));
}

TEST(DynamoDbIdentities, ShardIdsAndSequenceNumbersRoundTrip) {
  std::string id = DynamoDbShardId(0x1234, 1'414'562'045'508'000'000);
  EXPECT_EQ(id, "shardId-00000001414562045508-00001234");
  EXPECT_EQ(ParseDynamoDbShardId(id), 0x1234u);
  EXPECT_EQ(ParseDynamoDbShardId("shardId-000000000000"), std::nullopt);
  EXPECT_EQ(DynamoDbSequenceNumber(42), "100000000000000000042");
  EXPECT_EQ(ParseDynamoDbSequenceNumber("100000000000000000042"), 42u);
  EXPECT_EQ(ParseDynamoDbSequenceNumber("42"), std::nullopt);
  EXPECT_EQ(DynamoDbStreamLabel(1'432'155'070'252'000'000), "2015-05-20T20:51:10.252");
}

}  // namespace
}  // namespace eddy::api
