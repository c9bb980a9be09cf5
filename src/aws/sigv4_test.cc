// The SigV4 core against AWS's published SigV4 test suite (aws-sig-v4-test-suite, date
// 20150830T123600Z, region us-east-1, service "service", key AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY): each case's known signature.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace eddy::aws {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kDate = "20150830T123600Z";

struct Vector {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  HeaderList headers;  // besides host and x-amz-date
  const char* body;
  const char* signature;
};

std::string Sign(const Vector& vector, std::string* canonical_out = nullptr) {
  HeaderList headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", std::string(kDate)}};
  headers.insert(headers.end(), vector.headers.begin(), vector.headers.end());
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) {
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(c)));
    names.push_back(lower);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string payload_hash = Sha256Hex(vector.body);
  CanonicalRequestParts parts;
  parts.method = vector.method;
  parts.path = vector.path;
  parts.query = vector.query;
  parts.headers = &headers;
  parts.signed_headers = &names;
  parts.payload_hash = payload_hash;
  std::string canonical = CanonicalRequest(parts);
  if (canonical_out != nullptr) *canonical_out = canonical;
  std::string scope = CredentialScope("20150830", "us-east-1", "service");
  return Signature(SigningKey(kSecret, "20150830", "us-east-1", "service"),
                   StringToSign(kDate, scope, canonical));
}

TEST(SigV4Suite, KnownSignatures) {
  const std::vector<Vector> vectors = {
      {"get-vanilla",
       "GET",
       "/",
       "",
       {},
       "",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key",
       "GET",
       "/",
       "Param1=value1",
       {},
       "",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       "Param2=value2&Param1=value1",
       {},
       "",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-unreserved",
       "GET",
       "/",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {},
       "",
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query",
       "GET",
       "/",
       "%E1%88%B4=bar",
       {},
       "",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "",
       {},
       "",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8",
       "GET",
       "/\xE1\x88\xB4",
       "",
       {},
       "",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       "",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       "GET",
       "/",
       "",
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       "GET",
       "/",
       "",
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
       "",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla",
       "POST",
       "/",
       "",
       {},
       "",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query",
       "POST",
       "/",
       "Param1=value1",
       {},
       "",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-header-key-sort",
       "POST",
       "/",
       "",
       {{"My-Header1", "value1"}},
       "",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case",
       "POST",
       "/",
       "",
       {{"My-Header1", "VALUE1"}},
       "",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       "",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
  for (const Vector& vector : vectors) {
    EXPECT_EQ(Sign(vector), vector.signature) << vector.name;
  }
}

TEST(SigV4Suite, CanonicalRequestOfGetVanillaQueryOrderKeyCase) {
  std::string canonical;
  Sign({"", "GET", "/", "Param2=value2&Param1=value1", {}, "", ""}, &canonical);
  EXPECT_EQ(canonical,
            "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Core, UriEncodingRules) {
  EXPECT_EQ(UriEncode("a b/c~d", true), "a%20b/c~d");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(UriDecode("a%20b%2fc%zz%4"), "a b/c%zz%4");
  // Encoded and raw paths canonicalise alike; S3 keys are not double-encoded.
  EXPECT_EQ(CanonicalUri("/bucket/my key.json"), "/bucket/my%20key.json");
  EXPECT_EQ(CanonicalUri("/bucket/my%20key.json"), "/bucket/my%20key.json");
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalQuery("b=2&a=&c"), "a=&b=2&c=");
  EXPECT_EQ(CanonicalQuery("prefix=a/b&list-type=2"), "list-type=2&prefix=a%2Fb");
}

}  // namespace
}  // namespace eddy::aws
