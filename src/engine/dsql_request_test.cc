#include "engine/dsql_request.h"

#include <gtest/gtest.h>

namespace eddy::engine {
namespace {

constexpr std::string_view kGood =
    R"({"targetDefinition":{"kinesis":{"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders-cdc",)"
    R"("roleArn":"arn:aws:iam::123456789012:role/dsql-cdc"}},"ordering":"UNORDERED","format":"JSON",)"
    R"("clientToken":"token-1","tags":{"team":"shop"}})";

TEST(DsqlRequest, CreateStreamBodyTakesTheEddyStreamFromTheArn) {
  DsqlCreateRequest create;
  ASSERT_FALSE(ParseDsqlCreateBody(kGood, &create));
  EXPECT_EQ(create.stream_name, "orders-cdc");
  EXPECT_EQ(create.ordering, "UNORDERED");
  EXPECT_EQ(create.client_token, "token-1");
  EXPECT_EQ(create.tags.at("team"), "shop");
}

TEST(DsqlRequest, ValidationErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  std::string good(kGood);
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string body = good;
    body.replace(body.find(from), from.size(), to);
    return body;
  };
  for (const Case& c : std::vector<Case>{
           {"[]", "body"},
           {"{\"ordering\":\"UNORDERED\",\"format\":\"JSON\"}", "targetDefinition"},
           {replace("stream/orders-cdc", "table/x"), "targetDefinition.kinesis.streamArn"},
           {replace("arn:aws:iam::123456789012:role/dsql-cdc", "nope"),
            "targetDefinition.kinesis.roleArn"},
           {replace("\"UNORDERED\"", "\"SORTED\""), "ordering"},
           {replace("\"JSON\"", "\"AVRO\""), "format"},
           {replace("\"token-1\"", "\"has space\""), "clientToken"},
           {replace("\"format\"", "\"formats\""), "formats"},
       }) {
    DsqlCreateRequest create;
    auto error = ParseDsqlCreateBody(c.body, &create);
    ASSERT_TRUE(error) << c.body;
    EXPECT_EQ(error->http_status, 400);
    EXPECT_EQ(error->type, "ValidationException");
    ASSERT_FALSE(error->fields.empty());
    EXPECT_EQ(error->fields[0].first, c.field) << c.body << " -> " << error->message;
    EXPECT_NE(RenderDsqlError(*error).find("\"fieldList\""), std::string::npos);
  }
}

TEST(DsqlRequest, Routes) {
  DsqlRoute route;
  ASSERT_FALSE(ParseDsqlRoute("POST", "/stream/pg", &route));
  EXPECT_EQ(route.operation, DsqlOperation::kCreateStream);
  EXPECT_EQ(route.cluster, "pg");
  ASSERT_FALSE(ParseDsqlRoute("GET", "/stream/pg?max-results=3&next-token=abc", &route));
  EXPECT_EQ(route.operation, DsqlOperation::kListStreams);
  EXPECT_EQ(route.max_results, 3u);
  EXPECT_EQ(route.next_token, "abc");
  ASSERT_FALSE(ParseDsqlRoute("DELETE", "/stream/pg/abc?client-token=x%2Dy", &route));
  EXPECT_EQ(route.operation, DsqlOperation::kDeleteStream);
  EXPECT_EQ(route.stream_id, "abc");
  EXPECT_EQ(route.client_token, "x-y");
  auto bad = ParseDsqlRoute("GET", "/stream/pg?max-results=500", &route);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->fields[0].first, "maxResults");
  bad = ParseDsqlRoute("PUT", "/stream/pg/abc", &route);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->reason, "unknownOperation");
  EXPECT_TRUE(ParseDsqlRoute("GET", "/stream/a%20b", &route));
}

TEST(DsqlRequest, ErrorsRenderTheirShape) {
  std::string conflict = RenderDsqlError(DsqlConflict("taken", "s1", "stream"));
  EXPECT_NE(conflict.find("\"resourceId\":\"s1\""), std::string::npos) << conflict;
  EXPECT_NE(conflict.find("\"resourceType\":\"stream\""), std::string::npos);
  std::string id = NewDsqlStreamId();
  EXPECT_EQ(id.size(), 26u);
  EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos);
  EXPECT_NE(NewDsqlStreamId(), id);
}

}  // namespace
}  // namespace eddy::engine
