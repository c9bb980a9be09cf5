#include "engine/control_auth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "aws/request_signer.h"

namespace eddy::engine {
namespace {

// A request signed the way an AWS SDK signs it (aws/sigv4.h, the Kinesis sink's signer).
api::HttpRequest Signed(const std::string& method, const std::string& url, const std::string& body,
                        const std::string& access_key_id, const std::string& secret,
                        bool unsigned_payload = false) {
  aws::Credentials credentials;
  credentials.access_key_id = access_key_id;
  credentials.secret_access_key = secret;
  aws::HeaderList headers = {{"Content-Type", "application/json"}};
  std::string hash = unsigned_payload ? std::string(aws::kUnsignedPayload) : aws::Sha256Hex(body);
  aws::SigningInput input{
      method, url, hash, &credentials, "us-east-1", "eddy-admin", std::chrono::system_clock::now()};
  EXPECT_TRUE(aws::SignRequest(input, &headers).ok());
  auto parts = aws::SplitUrl(url);
  api::HttpRequest request;
  request.method = method;
  request.target = parts->path + (parts->query.empty() ? "" : "?" + parts->query);
  for (auto& [name, value] : headers) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(name, value);
  }
  request.body = body;
  return request;
}

api::HttpRequest WithHeader(const std::string& value) {
  api::HttpRequest request;
  request.method = "GET";
  request.target = "/admin/v1/sinks";
  request.headers.emplace_back("authorization", value);
  return request;
}

TEST(ControlAuth, OpenWithoutConfiguration) {
  auto auth = ControlAuth::Make(ApiConfig{});
  EXPECT_FALSE(auth->required());
  EXPECT_FALSE(auth->Check(api::HttpRequest{}));
  EXPECT_FALSE(auth->DataApiVerifier());
}

TEST(ControlAuth, BearerTokenOrSigV4AsEddyAdmin) {
  ApiConfig api;
  api.admin_token = "s3cret";
  auto auth = ControlAuth::Make(api);
  EXPECT_TRUE(auth->required());
  EXPECT_FALSE(auth->DataApiVerifier());  // the token alone does not guard the stream API
  auto missing = auth->Check(api::HttpRequest{});
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("Bearer TOKEN"), std::string::npos) << *missing;
  EXPECT_FALSE(auth->Check(WithHeader("Bearer s3cret")));
  auto wrong = auth->Check(WithHeader("Bearer nope"));
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("does not match"), std::string::npos) << *wrong;
  EXPECT_FALSE(auth->Check(
      Signed("GET", "http://127.0.0.1:4567/admin/v1/sinks", "", "eddy-admin", "s3cret")));
  auto bad =
      auth->Check(Signed("GET", "http://127.0.0.1:4567/admin/v1/sinks", "", "eddy-admin", "other"));
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->find("refused"), std::string::npos) << *bad;
}

TEST(ControlAuth, ConfiguredCredentialsSignBodiesAndGuardTheStreamApi) {
  ApiConfig api;
  api.access_key_id = "AKIDTEST";
  api.secret_access_key = "secret/with+chars";
  auto auth = ControlAuth::Make(api);
  EXPECT_TRUE(auth->required());
  EXPECT_TRUE(auth->DataApiVerifier());
  std::string body = R"({"name":"s","url":"postgresql://h/db"})";
  api::HttpRequest request = Signed("POST", "http://127.0.0.1:4567/admin/v1/sources", body,
                                    "AKIDTEST", "secret/with+chars");
  EXPECT_FALSE(auth->Check(request));
  request.body += " ";  // the body is signed
  auto tampered = auth->Check(request);
  ASSERT_TRUE(tampered);
  EXPECT_NE(tampered->find("x-amz-content-sha256"), std::string::npos) << *tampered;
  // A signature over UNSIGNED-PAYLOAD leaves the body out: refused, saying why.
  api::HttpRequest unsigned_payload = Signed("POST", "http://127.0.0.1:4567/admin/v1/sources", body,
                                             "AKIDTEST", "secret/with+chars", true);
  auto refused = auth->Check(unsigned_payload);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("signed payload"), std::string::npos) << *refused;
  auto unknown = auth->Check(
      Signed("GET", "http://127.0.0.1:4567/connectors", "", "AKIDOTHER", "secret/with+chars"));
  ASSERT_TRUE(unknown);
  EXPECT_NE(unknown->find("AKIDOTHER"), std::string::npos) << *unknown;
  // A bearer token is no credential here.
  auto bearer = auth->Check(WithHeader("Bearer secret/with+chars"));
  ASSERT_TRUE(bearer);
  EXPECT_NE(bearer->find("AKIDTEST"), std::string::npos) << *bearer;
}

}  // namespace
}  // namespace eddy::engine
