#include "engine/connect_request.h"

#include <gtest/gtest.h>

namespace eddy::engine {
namespace {

TEST(ConnectOffsets, ShardIdsRoundTrip) {
  EXPECT_EQ(ConnectShardId(7), "shardId-000000000007");
  EXPECT_EQ(ParseConnectShardId("shardId-000000000007"), 7u);
  EXPECT_FALSE(ParseConnectShardId("shardId-7"));
  EXPECT_FALSE(ParseConnectShardId("shardId-99999999999x"));
  EXPECT_FALSE(ParseConnectShardId("shardId-999999999999"));  // beyond 32 bits
}

TEST(ConnectOffsets, SinkPartitionsSetOrReset) {
  auto parsed = ParseConnectOffsets(
      R"({"offsets":[{"partition":{"server":"p","eddy_sink":"s","shard":"shardId-000000000001"},)"
      R"("offset":{"next_sequence":42}},{"partition":{"server":"p","eddy_sink":"s",)"
      R"("shard":"shardId-000000000000"},"offset":{"next_sequence":"7"}},)"
      R"({"partition":{"server":"p","eddy_sink":"s","shard":"shardId-000000000002"},"offset":null}]})",
      "p", "s");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].shard, 1u);
  EXPECT_EQ((*parsed)[0].next, 42u);
  EXPECT_EQ((*parsed)[1].next, 7u);
  EXPECT_FALSE((*parsed)[2].next);
}

TEST(ConnectOffsets, ErrorsSayWhatIsWrong) {
  auto expect_error = [](std::string_view body, const std::string& sink, std::string_view says) {
    auto parsed = ParseConnectOffsets(body, "p", sink);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(says), std::string::npos) << parsed.status().message();
  };
  expect_error("not json", "s", "the body must be");
  expect_error(R"({"offsets":[{"partition":{"server":"p"},"offset":{"lsn":1}}]})", "s",
               "capture position");
  expect_error(R"({"offsets":[{"partition":{"server":"q","eddy_sink":"s"},"offset":null}]})", "s",
               "topic.prefix");
  expect_error(R"({"offsets":[{"partition":{"server":"p","eddy_sink":"s"},"offset":null}]})", "",
               "has none");
  expect_error(
      R"({"offsets":[{"partition":{"server":"p","eddy_sink":"s","shard":"x"},"offset":null}]})",
      "s", "shard id");
  expect_error(R"({"offsets":[{"partition":{"server":"p","eddy_sink":"s","shard":)"
               R"("shardId-000000000000"},"offset":{"next_sequence":-1}}]})",
               "s", "whole number");
}

}  // namespace
}  // namespace eddy::engine
