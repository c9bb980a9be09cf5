#include "api/sigv4.h"

#include <gtest/gtest.h>

namespace eddy::api {
namespace {

HttpRequest WithAuthorization(std::string value, bool with_date = true) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  if (!value.empty()) request.headers.emplace_back("authorization", std::move(value));
  if (with_date) request.headers.emplace_back("x-amz-date", "20261121T111701Z");
  return request;
}

TEST(SigV4, ParsesBotocoreHeader) {
  auto outcome = ParseSigV4(WithAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
      "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
  ASSERT_FALSE(outcome.error) << outcome.error->message;
  ASSERT_TRUE(outcome.authorization);
  EXPECT_EQ(outcome.authorization->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(outcome.authorization->date, "20261121");
  EXPECT_EQ(outcome.authorization->region, "us-east-1");
  EXPECT_EQ(outcome.authorization->service, "kinesis");
  EXPECT_EQ(outcome.authorization->signed_headers.size(), 4u);
}

TEST(SigV4, MissingHeaderIsMissingAuthenticationToken) {
  auto outcome = ParseSigV4(WithAuthorization(""));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->type, "MissingAuthenticationTokenException");
}

TEST(SigV4, IncompleteOrMalformedHeadersAreRejected) {
  for (std::string header :
       {std::string("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request"),
        std::string("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab"),
        std::string("garbage"),
        std::string("AWS4-HMAC-SHA256 Credential=A/2026/us-east-1/kinesis/aws4_request, "
                    "SignedHeaders=host, Signature=ab"),
        std::string("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request, "
                    "SignedHeaders=host, Signature=zz")}) {
    auto outcome = ParseSigV4(WithAuthorization(header));
    ASSERT_TRUE(outcome.error) << header;
    EXPECT_EQ(outcome.error->type, "IncompleteSignatureException") << header;
  }
  auto no_date = ParseSigV4(WithAuthorization(
      "AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host, Signature=ab",
      false));
  ASSERT_TRUE(no_date.error);
  EXPECT_EQ(no_date.error->type, "IncompleteSignatureException");
}

TEST(SigV4, HeaderAndQueryAuthenticationTogetherIsInvalidSignature) {
  HttpRequest request = WithAuthorization(
      "AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=host, Signature=ab");
  request.target = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256";
  auto outcome = ParseSigV4(request);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->type, "InvalidSignatureException");
}

}  // namespace
}  // namespace eddy::api
