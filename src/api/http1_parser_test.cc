#include "api/http1_parser.h"

#include <gtest/gtest.h>

namespace eddy::api {
namespace {

TEST(Http1Parser, ParsesRequestWithBodyAndLowercasesHeaders) {
  std::string wire =
      "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
      "Content-Length: 2\r\n\r\n{}";
  HttpRequest request;
  auto result = ParseHttp1Request(wire, {}, &request);
  ASSERT_EQ(result.state, Http1ParseState::kComplete);
  EXPECT_EQ(result.consumed, wire.size());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  ASSERT_NE(request.Header("x-amz-target"), nullptr);
  EXPECT_EQ(*request.Header("x-amz-target"), "Kinesis_20131202.ListStreams");
  EXPECT_EQ(request.body, "{}");
  EXPECT_TRUE(Http1KeepAlive(request));
}

TEST(Http1Parser, NeedsMoreUntilBodyArrivesAndReportsExpectContinue) {
  std::string head = "POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  HttpRequest request;
  auto partial = ParseHttp1Request(head.substr(0, 10), {}, &request);
  EXPECT_EQ(partial.state, Http1ParseState::kNeedMore);
  EXPECT_FALSE(partial.headers_complete);
  auto headers_only = ParseHttp1Request(head + "ab", {}, &request);
  EXPECT_EQ(headers_only.state, Http1ParseState::kNeedMore);
  EXPECT_TRUE(headers_only.headers_complete);
  EXPECT_TRUE(headers_only.expect_continue);
  auto done = ParseHttp1Request(head + "abcde", {}, &request);
  ASSERT_EQ(done.state, Http1ParseState::kComplete);
  EXPECT_EQ(request.body, "abcde");
}

TEST(Http1Parser, PipelinedRequestsAreConsumedOneAtATime) {
  std::string one = "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\na";
  std::string two = "GET /x HTTP/1.0\r\n\r\n";
  std::string wire = one + two;
  HttpRequest request;
  auto first = ParseHttp1Request(wire, {}, &request);
  ASSERT_EQ(first.state, Http1ParseState::kComplete);
  EXPECT_EQ(first.consumed, one.size());
  auto second = ParseHttp1Request(std::string_view(wire).substr(first.consumed), {}, &request);
  ASSERT_EQ(second.state, Http1ParseState::kComplete);
  EXPECT_EQ(request.target, "/x");
  EXPECT_FALSE(Http1KeepAlive(request));  // HTTP/1.0 without keep-alive
}

TEST(Http1Parser, RejectsMalformedAndOversizedInput) {
  Http1Limits limits;
  limits.max_header_bytes = 128;
  limits.max_body_bytes = 10;
  limits.max_header_count = 3;
  HttpRequest request;
  struct Case {
    std::string wire;
    int status;
  } cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"POST / HTTP/2.0\r\n\r\n", 505},
      {"POST / HTTX/1.1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nX: " + std::string(200, 'a'), 431},  // no end of headers yet
      {"POST /a\x01 HTTP/1.1\r\n\r\n", 400},
  };
  for (const auto& test_case : cases) {
    auto result = ParseHttp1Request(test_case.wire, limits, &request);
    EXPECT_EQ(result.state, Http1ParseState::kError) << test_case.wire;
    EXPECT_EQ(result.error_status, test_case.status) << test_case.wire;
  }
}

TEST(Http1Parser, SerializesResponseWithLengthAndConnectionClose) {
  HttpResponse response;
  response.status = 400;
  response.headers.emplace_back("content-type", "application/x-amz-json-1.1");
  response.body = "{}";
  std::string wire = SerializeHttp1Response(response, false);
  EXPECT_EQ(wire,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\n"
            "content-length: 2\r\nconnection: close\r\n\r\n{}");
}

}  // namespace
}  // namespace eddy::api
