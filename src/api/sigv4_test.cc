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
        std::string("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab"), std::string("garbage"),
        std::string("AWS4-HMAC-SHA256 Credential=A/2026/us-east-1/kinesis/aws4_request, "
                    "SignedHeaders=host, Signature=ab"),
        std::string("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request, "
                    "SignedHeaders=host, Signature=zz")}) {
    auto outcome = ParseSigV4(WithAuthorization(header));
    ASSERT_TRUE(outcome.error) << header;
    EXPECT_EQ(outcome.error->type, "IncompleteSignatureException") << header;
  }
  auto no_date = ParseSigV4(
      WithAuthorization("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/kinesis/aws4_request, "
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

namespace eddy::api {
namespace {

// AWS's SigV4 test suite case "get-vanilla" (also what botocore computes for it).
HttpRequest GetVanilla(std::string signature) {
  HttpRequest request;
  request.method = "GET";
  request.target = "/";
  request.headers.emplace_back("host", "example.amazonaws.com");
  request.headers.emplace_back("x-amz-date", "20150830T123600Z");
  request.headers.emplace_back(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=" +
          signature);
  return request;
}

TEST(SigV4Verify, AcceptsTheReferenceSignatureAndRejectsOthers) {
  auto verifier =
      MakeStaticCredentialVerifier({{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}});
  HttpRequest good = GetVanilla("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  auto parsed = ParseSigV4(good);
  ASSERT_TRUE(parsed.authorization);
  EXPECT_FALSE(verifier(*parsed.authorization, good));

  HttpRequest bad = GetVanilla("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf32");
  auto bad_parsed = ParseSigV4(bad);
  auto rejected = verifier(*bad_parsed.authorization, bad);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->type, "InvalidSignatureException");

  // The same request over HTTP/2: no Host header, :authority instead.
  HttpRequest h2 = good;
  h2.headers.erase(h2.headers.begin());
  h2.authority = "example.amazonaws.com";
  EXPECT_FALSE(verifier(*parsed.authorization, h2));

  auto unknown = MakeStaticCredentialVerifier({{"OTHER", "x"}})(*parsed.authorization, good);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->type, "UnrecognizedClientException");
}

}  // namespace
}  // namespace eddy::api

// Round trip: requests signed by the clients' signer (aws/request_signer.h) verify here.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "aws/request_signer.h"

namespace eddy::api {
namespace {

HttpRequest SignedRequest(std::string method, std::string url, std::string body,
                          std::string_view payload_hash, const aws::Credentials& credentials) {
  aws::HeaderList headers = {{"Content-Type", "application/x-amz-json-1.1"},
                             {"X-Amz-Target", "Kinesis_20131202.PutRecords"}};
  aws::SigningInput input{method,
                          url,
                          payload_hash,
                          &credentials,
                          "eu-west-1",
                          "kinesis",
                          std::chrono::system_clock::now()};
  EXPECT_TRUE(aws::SignRequest(input, &headers).ok());
  auto parts = aws::SplitUrl(url);
  HttpRequest request;
  request.method = method;
  request.target = parts->path + (parts->query.empty() ? "" : "?" + parts->query);
  for (auto& [name, value] : headers) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(name, value);
  }
  request.body = std::move(body);
  return request;
}

TEST(SigV4RoundTrip, ClientSignedRequestsVerify) {
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "secret/with+chars";
  credentials.session_token = "session";
  auto verifier = MakeStaticCredentialVerifier({{"AKIDEXAMPLE", "secret/with+chars"}});
  std::string body = R"({"StreamName":"s","Records":[]})";
  for (const std::string& url :
       {std::string("http://127.0.0.1:4567/"), std::string("http://localhost/a%20b/c?z=1&a=x%2Fy"),
        std::string("https://kinesis.eu-west-1.amazonaws.com")}) {
    std::string hash = aws::Sha256Hex(body);
    HttpRequest request = SignedRequest("POST", url, body, hash, credentials);
    auto parsed = ParseSigV4(request);
    ASSERT_TRUE(parsed.authorization) << url;
    EXPECT_EQ(parsed.authorization->region, "eu-west-1");
    EXPECT_EQ(parsed.authorization->service, "kinesis");
    EXPECT_FALSE(verifier(*parsed.authorization, request)) << url;

    HttpRequest tampered = request;
    for (auto& [name, value] : tampered.headers) {
      if (name == "x-amz-target") value = "Kinesis_20131202.DeleteStream";
    }
    auto rejected = verifier(*parsed.authorization, tampered);
    ASSERT_TRUE(rejected) << url;
    EXPECT_EQ(rejected->type, "InvalidSignatureException");

    // Another body under the signed hash: refused by the hash check.
    HttpRequest changed_body = request;
    changed_body.body = R"({"StreamName":"other","Records":[]})";
    auto changed = verifier(*parsed.authorization, changed_body);
    ASSERT_TRUE(changed) << url;
    EXPECT_EQ(changed->type, "InvalidSignatureException");
    EXPECT_NE(changed->message.find("x-amz-content-sha256"), std::string::npos);

    // A correct signature over UNSIGNED-PAYLOAD still leaves the body unsigned: refused.
    HttpRequest unsigned_request =
        SignedRequest("POST", url, body, aws::kUnsignedPayload, credentials);
    auto unsigned_parsed = ParseSigV4(unsigned_request);
    ASSERT_TRUE(unsigned_parsed.authorization) << url;
    auto refused = verifier(*unsigned_parsed.authorization, unsigned_request);
    ASSERT_TRUE(refused) << url;
    EXPECT_EQ(refused->type, "InvalidSignatureException");
    EXPECT_EQ(refused->http_status, 400);
    EXPECT_NE(refused->message.find("signed payload"), std::string::npos) << refused->message;
  }
  auto wrong_secret = MakeStaticCredentialVerifier({{"AKIDEXAMPLE", "other"}});
  HttpRequest request =
      SignedRequest("POST", "http://127.0.0.1:1/", body, aws::Sha256Hex(body), credentials);
  auto parsed = ParseSigV4(request);
  ASSERT_TRUE(parsed.authorization);
  EXPECT_TRUE(wrong_secret(*parsed.authorization, request));
}

}  // namespace
}  // namespace eddy::api

namespace eddy::api {
namespace {

TEST(SigV4Payload, UnsignedValuesAreRefusedEvenWithoutVerification) {
  HttpRequest request;
  request.body = "{}";
  EXPECT_FALSE(CheckSignedPayload(request, true));  // no header: the body's hash is signed
  for (const char* value :
       {"UNSIGNED-PAYLOAD", "unsigned-payload", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}) {
    request.headers = {{"x-amz-content-sha256", value}};
    auto refused = CheckSignedPayload(request, false);
    ASSERT_TRUE(refused) << value;
    EXPECT_EQ(refused->type, "InvalidSignatureException");
  }
  // Without verification a hash is not computed, so any hash passes; with it, only the body's.
  request.headers = {{"x-amz-content-sha256", Sha256Hex("other")}};
  EXPECT_FALSE(CheckSignedPayload(request, false));
  EXPECT_TRUE(CheckSignedPayload(request, true));
  std::string upper = Sha256Hex("{}");
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  request.headers = {{"x-amz-content-sha256", upper}};
  EXPECT_FALSE(CheckSignedPayload(request, true));
}

}  // namespace
}  // namespace eddy::api
