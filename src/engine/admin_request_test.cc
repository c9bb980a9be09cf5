#include "engine/admin_request.h"

#include <gtest/gtest.h>

#include "engine/admin_api.h"
#include "source/snapshot_signal.h"

namespace eddy::engine {
namespace {

AdminRoute Route(std::string_view method, std::string_view path) {
  AdminRoute route;
  auto error = ParseAdminRoute(method, path, &route);
  EXPECT_FALSE(error.has_value()) << method << " " << path << ": " << error->message;
  return route;
}

AdminError RouteError(std::string_view method, std::string_view path) {
  AdminRoute route;
  auto error = ParseAdminRoute(method, path, &route);
  EXPECT_TRUE(error.has_value()) << method << " " << path;
  return error.value_or(AdminError{});
}

TEST(AdminRoute, ParsesEveryResource) {
  EXPECT_EQ(Route("GET", "/admin/v1/streams").operation, AdminOperation::kListStreams);
  EXPECT_EQ(Route("GET", "/admin/v1/sinks").operation, AdminOperation::kListSinks);
  EXPECT_EQ(Route("GET", "/admin/v1/sinks/").operation, AdminOperation::kListSinks);
  EXPECT_EQ(Route("POST", "/admin/v1/sinks").operation, AdminOperation::kCreateSink);
  AdminRoute get = Route("GET", "/admin/v1/sinks/orders-hook");
  EXPECT_EQ(get.operation, AdminOperation::kGetSink);
  EXPECT_EQ(get.sink, "orders-hook");
  EXPECT_EQ(Route("DELETE", "/admin/v1/sinks/a.b_c").operation, AdminOperation::kDeleteSink);
  EXPECT_EQ(Route("POST", "/admin/v1/sinks/a/pause").operation, AdminOperation::kPauseSink);
  EXPECT_EQ(Route("POST", "/admin/v1/sinks/a/resume").operation, AdminOperation::kResumeSink);
  AdminRoute reset = Route("POST", "/admin/v1/sinks/a/reset");
  EXPECT_EQ(reset.operation, AdminOperation::kResetSink);
  EXPECT_EQ(reset.sink, "a");
}

TEST(AdminRoute, UnknownPathsAre404AndWrongMethods405WithAllow) {
  AdminError missing = RouteError("GET", "/admin/v1/nothing");
  EXPECT_EQ(missing.http_status, 404);
  EXPECT_NE(missing.message.find("/admin/v1/streams"), std::string::npos) << missing.message;
  EXPECT_EQ(RouteError("POST", "/admin/v1/sinks/a/explode").http_status, 404);
  EXPECT_EQ(RouteError("GET", "/admin/v1/sinks/a/pause/x").http_status, 404);
  AdminError bad_name = RouteError("GET", "/admin/v1/sinks/a%20b");
  EXPECT_EQ(bad_name.http_status, 404);
  EXPECT_NE(bad_name.message.find("letters, digits"), std::string::npos);

  AdminError method = RouteError("GET", "/admin/v1/sinks/a/pause");
  EXPECT_EQ(method.http_status, 405);
  EXPECT_EQ(method.allow, "POST");
  EXPECT_EQ(RouteError("PUT", "/admin/v1/sinks").allow, "GET, POST");
  EXPECT_EQ(RouteError("POST", "/admin/v1/sinks/a").allow, "GET, DELETE");
  EXPECT_EQ(RouteError("DELETE", "/admin/v1/streams").allow, "GET, POST");
  EXPECT_EQ(RouteError("PUT", "/admin/v1/sources").allow, "GET, POST");
  EXPECT_EQ(RouteError("POST", "/admin/v1/streams/s").allow, "GET, DELETE");
  EXPECT_EQ(RouteError("GET", "/admin/v1/sources/a/b").http_status, 404);
}

TEST(AdminRoute, SourcesAndStreams) {
  AdminRoute route;
  ASSERT_FALSE(ParseAdminRoute("POST", "/admin/v1/sources", &route));
  EXPECT_EQ(route.operation, AdminOperation::kCreateSource);
  ASSERT_FALSE(ParseAdminRoute("DELETE", "/admin/v1/streams/orders", &route));
  EXPECT_EQ(route.operation, AdminOperation::kDeleteStream);
  EXPECT_EQ(route.name, "orders");
  ASSERT_FALSE(ParseAdminRoute("GET", "/admin/v1/sources/pg", &route));
  EXPECT_EQ(route.operation, AdminOperation::kGetSource);
  ASSERT_FALSE(ParseAdminRoute("GET", "/admin/v1/streams/kv/tail", &route));
  EXPECT_EQ(route.operation, AdminOperation::kTailStream);
  EXPECT_EQ(route.name, "kv");
  EXPECT_EQ(ParseAdminRoute("POST", "/admin/v1/streams/kv/tail", &route)->http_status, 405);
  EXPECT_EQ(ParseAdminRoute("GET", "/admin/v1/sources/pg/tail", &route)->http_status, 404);
}

TEST(AdminRoute, StreamSnapshots) {
  AdminRoute route;
  ASSERT_FALSE(ParseAdminRoute("POST", "/admin/v1/streams/kv/snapshots", &route));
  EXPECT_EQ(route.operation, AdminOperation::kRequestSnapshot);
  EXPECT_EQ(route.name, "kv");
  ASSERT_FALSE(ParseAdminRoute("GET", "/admin/v1/streams/kv/snapshots/", &route));
  EXPECT_EQ(route.operation, AdminOperation::kGetSnapshots);
  auto wrong = ParseAdminRoute("DELETE", "/admin/v1/streams/kv/snapshots", &route);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->http_status, 405);
  EXPECT_EQ(wrong->allow, "GET, POST");
  EXPECT_EQ(ParseAdminRoute("GET", "/admin/v1/sources/pg/snapshots", &route)->http_status, 404);
  EXPECT_EQ(ParseAdminRoute("GET", "/admin/v1/streams/k%v/snapshots", &route)->http_status, 404);
}

// The body becomes the execute-snapshot data `eddy snapshot` writes; every bad body names the
// field.
TEST(AdminSnapshotBody, ParsesTablesAndWhereAndNamesTheFieldOtherwise) {
  SnapshotRequestBody body;
  ASSERT_FALSE(ParseSnapshotRequestBody(
      R"({"tables": ["public.orders", "items"], "where": "id <= \"7\""})", &body));
  EXPECT_EQ(body.tables, (std::vector<std::string>{"public.orders", "items"}));
  EXPECT_EQ(body.where, "id <= \"7\"");
  auto signal = source::ParseSnapshotSignal("request:x", "execute-snapshot", body.data);
  ASSERT_TRUE(signal.ok()) << signal.status().ToString();
  EXPECT_EQ(signal->request.tables, body.tables);
  ASSERT_EQ(signal->request.conditions.size(), 2u);
  EXPECT_EQ(signal->request.conditions[0].second, "id <= \"7\"");
  ASSERT_FALSE(ParseSnapshotRequestBody(R"({"tables": ["t"]})", &body));
  EXPECT_TRUE(body.where.empty());
  struct Case {
    const char* body;
    const char* says;
  };
  for (const Case& bad : {Case{"", "JSON"}, Case{"[1]", "object"}, Case{"{}", "'tables'"},
                          Case{R"({"tables": "t"})", "'tables' must be a list"},
                          Case{R"({"tables": []})", "names no table"},
                          Case{R"({"tables": [""]})", "non-empty strings"},
                          Case{R"({"tables": [7]})", "non-empty strings"},
                          Case{R"({"tables": ["t"], "where": 5})", "'where' must be a string"},
                          Case{R"({"tables": ["t"], "colour": "x"})", "'colour' is not known"}}) {
    auto error = ParseSnapshotRequestBody(bad.body, &body);
    ASSERT_TRUE(error) << bad.body;
    EXPECT_EQ(error->http_status, 400) << bad.body;
    EXPECT_NE(error->message.find(bad.says), std::string::npos)
        << bad.body << ": " << error->message;
  }
}

TEST(AdminCreateBodies, SourcesAndStreamsNameTheField) {
  SourceConfig source;
  EXPECT_FALSE(ParseCreateSourceBody(
      R"({"name":"pg","url":"postgresql://u@h/d","settings":{"slot_name":"s","server_id":7}})",
      &source));
  EXPECT_EQ(source.slot_name, "s");
  EXPECT_EQ(source.server_id, 7u);
  auto bad = ParseCreateSourceBody(
      R"({"name":"pg","url":"postgresql://u@h/d","settings":{"slot":"s"}})", &source);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("settings.slot"), std::string::npos) << bad->message;
  bad = ParseCreateSourceBody(R"({"name":"pg"})", &source);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("'url' is required"), std::string::npos);

  StreamConfig stream;
  EXPECT_FALSE(ParseCreateStreamBody(
      R"({"name":"orders","source":"pg","settings":{"tables":["public.a","public.b"],"shards":2}})",
      &stream));
  EXPECT_EQ(stream.source, "pg");
  EXPECT_EQ(stream.tables.size(), 2u);
  EXPECT_EQ(stream.shards, 2u);
  bad = ParseCreateStreamBody(R"({"name":"orders","settings":{"format":"xml"}})", &stream);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("settings.format"), std::string::npos) << bad->message;
  bad = ParseCreateStreamBody(R"({"name":"orders","settings":{"dsql.id":"x"}})", &stream);
  ASSERT_TRUE(bad);
  bad = ParseCreateStreamBody(R"({"name":"orders","sauce":"pg"})", &stream);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("'sauce'"), std::string::npos);
}

TEST(AdminResetBody, AcceptsTheThreeTargetsAndNamesTheFieldOtherwise) {
  log::StartPosition to;
  EXPECT_FALSE(ParseResetBody("", &to));
  EXPECT_EQ(to.type, log::IteratorType::kTrimHorizon);
  EXPECT_FALSE(ParseResetBody(R"({"to":"latest"})", &to));
  EXPECT_EQ(to.type, log::IteratorType::kLatest);
  EXPECT_FALSE(ParseResetBody(R"({"to":"trim-horizon"})", &to));
  EXPECT_EQ(to.type, log::IteratorType::kTrimHorizon);
  EXPECT_FALSE(ParseResetBody(R"({"to":"42"})", &to));
  EXPECT_EQ(to.type, log::IteratorType::kAtSequenceNumber);
  EXPECT_EQ(to.sequence.value(), 42u);

  auto bad = ParseResetBody(R"({"to":"yesterday"})", &to);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->http_status, 400);
  EXPECT_NE(bad->message.find("field 'to'"), std::string::npos) << bad->message;
  bad = ParseResetBody(R"({"to":5})", &to);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("'to' must be a string"), std::string::npos) << bad->message;
  bad = ParseResetBody(R"({"from":"latest"})", &to);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("field 'from' is not known"), std::string::npos) << bad->message;
  bad = ParseResetBody("{not json", &to);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("not valid JSON"), std::string::npos) << bad->message;
  bad = ParseResetBody("[1]", &to);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("must be a JSON object, not an array"), std::string::npos);
}

TEST(AdminCreateSinkBody, ParsesFieldsSettingsAndTheUrlQuery) {
  consume::SinkSpec spec;
  auto error = ParseCreateSinkBody(
      R"({"name":"hook","url":"webhook+http://127.0.0.1:9/x?max_batching_window=0",
          "stream":"orders","settings":{"batch_size":50,"bisect_on_error":true,"x":"y"}})",
      &spec);
  ASSERT_FALSE(error) << error->message;
  EXPECT_EQ(spec.name, "hook");
  EXPECT_EQ(spec.stream, "orders");
  EXPECT_EQ(spec.url, "webhook+http://127.0.0.1:9/x");
  EXPECT_EQ(spec.settings.at("batch_size"), "50");
  EXPECT_EQ(spec.settings.at("bisect_on_error"), "true");
  EXPECT_EQ(spec.settings.at("max_batching_window"), "0");
  EXPECT_EQ(spec.settings.at("x"), "y");
}

TEST(AdminCreateSinkBody, BadBodiesNameTheField) {
  consume::SinkSpec spec;
  auto expect = [&](std::string_view body, std::string_view wanted) {
    auto error = ParseCreateSinkBody(body, &spec);
    ASSERT_TRUE(error) << body;
    EXPECT_EQ(error->http_status, 400);
    EXPECT_NE(error->message.find(wanted), std::string::npos) << error->message;
  };
  expect(R"({"url":"webhook+http://h/"})", "field 'name' is required");
  expect(R"({"name":"a"})", "field 'url' is required");
  expect(R"({"name":7,"url":"webhook+http://h/"})", "field 'name' must be a string");
  expect(R"({"name":"a","url":"webhook+http://h/","colour":"red"})", "field 'colour'");
  expect(R"({"name":"a","url":"webhook+http://h/","settings":[1]})", "field 'settings' must be");
  expect(R"({"name":"a","url":"webhook+http://h/","settings":{"k":{}}})", "'settings.k'");
  expect(R"({"name":"a","url":"webhook+http://h/?k=1","settings":{"k":"2"}})",
         "'settings.k' is also given");
  expect("", "not valid JSON");
  expect(std::string(kMaxAdminBodyBytes + 1, ' '), "the limit is");
}

TEST(AdminAuth, BearerTokenMatchesExactly) {
  EXPECT_TRUE(AdminAuthorized("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(AdminAuthorized("bearer s3cret", "s3cret"));
  EXPECT_FALSE(AdminAuthorized("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(AdminAuthorized("Bearer s3cret2", "s3cret"));
  EXPECT_FALSE(AdminAuthorized("Basic s3cret", "s3cret"));
  EXPECT_FALSE(AdminAuthorized("", "s3cret"));
  EXPECT_FALSE(AdminAuthorized("Bearer ", ""));
}

TEST(AdminAuth, LoopbackListenAddresses) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:4567"));
  EXPECT_TRUE(IsLoopbackListen("localhost:0"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:4567"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:4567"));
  EXPECT_FALSE(IsLoopbackListen("10.0.0.5:4567"));
}

}  // namespace
}  // namespace eddy::engine
