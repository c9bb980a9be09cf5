#include "aws/request_signer.h"

#include <gtest/gtest.h>

#include <ctime>

namespace eddy::aws {
namespace {

// 2015-08-30T12:36:00Z, the SigV4 test suite's time.
std::chrono::system_clock::time_point SuiteTime() {
  std::tm tm{};
  tm.tm_year = 2015 - 1900;
  tm.tm_mon = 7;
  tm.tm_mday = 30;
  tm.tm_hour = 12;
  tm.tm_min = 36;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Credentials SuiteCredentials() {
  Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  return credentials;
}

const std::string* Find(const HeaderList& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (header == name) return &value;
  }
  return nullptr;
}

// The suite's cases signed through SignRequest, without x-amz-content-sha256 (which the suite
// predates): the Authorization header is byte for byte the published one.
TEST(RequestSigner, ReproducesTheSuiteAuthorizationHeaders) {
  Credentials credentials = SuiteCredentials();
  struct Case {
    const char* method;
    const char* url;
    HeaderList headers;
    const char* body;
    const char* authorization;
  };
  const std::vector<Case> cases = {
      {"GET",
       "https://example.amazonaws.com/",
       {},
       "",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"GET",
       "https://example.amazonaws.com:443/?Param2=value2&Param1=value1",
       {},
       "",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
       "SignedHeaders=host;x-amz-date, "
       "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"POST",
       "https://example.amazonaws.com/",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"POST",
       "https://example.amazonaws.com/",
       {{"My-Header1", "value1"}, {"User-Agent", "x"}},
       "",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
       "SignedHeaders=host;my-header1;x-amz-date, "
       "Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
  };
  for (const Case& c : cases) {
    HeaderList headers = c.headers;
    std::string hash = Sha256Hex(c.body);
    SigningInput input{c.method,
                       c.url,
                       hash,
                       &credentials,
                       "us-east-1",
                       "service",
                       SuiteTime(),
                       /*add_content_sha256=*/false};
    ASSERT_TRUE(SignRequest(input, &headers).ok()) << c.url;
    ASSERT_NE(Find(headers, "authorization"), nullptr);
    EXPECT_EQ(*Find(headers, "authorization"), c.authorization) << c.url;
    EXPECT_EQ(*Find(headers, "x-amz-date"), "20150830T123600Z");
    EXPECT_EQ(*Find(headers, "host"), "example.amazonaws.com");
  }
}

TEST(RequestSigner, AddsContentHashAndSessionTokenAndSignsThem) {
  Credentials credentials = SuiteCredentials();
  credentials.session_token = "TOKEN";
  HeaderList headers = {{"x-amz-date", "stale"}, {"authorization", "stale"}};
  SigningInput input{"PUT",
                     "http://127.0.0.1:4569/bucket/a%20key?partNumber=1",
                     kUnsignedPayload,
                     &credentials,
                     "us-east-1",
                     "s3",
                     SuiteTime()};
  ASSERT_TRUE(SignRequest(input, &headers).ok());
  EXPECT_EQ(*Find(headers, "host"), "127.0.0.1:4569");
  EXPECT_EQ(*Find(headers, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(*Find(headers, "x-amz-security-token"), "TOKEN");
  EXPECT_EQ(*Find(headers, "x-amz-date"), "20150830T123600Z");
  int authorizations = 0;
  for (const auto& [name, value] : headers) authorizations += name == "authorization";
  EXPECT_EQ(authorizations, 1);
  const std::string& authorization = *Find(headers, "authorization");
  EXPECT_NE(authorization.find("Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, "
                               "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                               "x-amz-security-token, Signature="),
            std::string::npos)
      << authorization;
}

TEST(RequestSigner, BadInputIsAnError) {
  Credentials credentials = SuiteCredentials();
  HeaderList headers;
  SigningInput input{"GET",       "ftp://x/", kUnsignedPayload, &credentials,
                     "us-east-1", "s3",       SuiteTime()};
  Status bad_scheme = SignRequest(input, &headers);
  EXPECT_EQ(bad_scheme.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_scheme.message().find("use http:// or https://"), std::string::npos);
  input.url = "http://x/";
  input.region = "";
  EXPECT_EQ(SignRequest(input, &headers).code(), ErrorCode::kInvalidArgument);
  input.region = "us-east-1";
  Credentials empty;
  input.credentials = &empty;
  EXPECT_EQ(SignRequest(input, &headers).code(), ErrorCode::kInvalidArgument);
}

TEST(RequestSigner, SplitUrl) {
  auto parts = SplitUrl("HTTPS://user@Kinesis.us-east-1.amazonaws.com:443?x=1#frag");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->scheme, "https");
  EXPECT_EQ(parts->host, "kinesis.us-east-1.amazonaws.com");
  EXPECT_EQ(parts->path, "/");
  EXPECT_EQ(parts->query, "x=1");
  auto v6 = SplitUrl("http://[::1]:8080/a/b");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]:8080");
  EXPECT_EQ(v6->path, "/a/b");
  EXPECT_FALSE(SplitUrl("http:///path").ok());
  EXPECT_FALSE(SplitUrl("no-scheme").ok());
}

}  // namespace
}  // namespace eddy::aws
