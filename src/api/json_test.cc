#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>

#include "api/json_input.h"
#include "api/json_writer.h"

namespace eddy::api {
namespace {

TEST(JsonWriter, WritesNestedValuesWithCommasAndEscapes) {
  JsonWriter w;
  w.BeginObject();
  w.Member("a", "x\"y\n\x01");
  w.Key("b");
  w.BeginArray();
  w.Int(-1);
  w.UInt(2);
  w.Bool(true);
  w.Null();
  w.EndArray();
  w.Key("t");
  w.TimestampMillis(1700000000123);
  w.Key("d");
  w.Base64("hello");
  w.Key("e");
  w.BeginObject();
  w.EndObject();
  w.EndObject();
  EXPECT_EQ(w.str(),
            R"({"a":"x\"y\n\u0001","b":[-1,2,true,null],"t":1700000000.123,"d":"aGVsbG8=","e":{}})");
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(out, "ok\xc3\xa9\xff\xed\xa0\x80");
  EXPECT_EQ(out, "\"ok\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

// The table encoder equals OpenSSL's on every length and byte value.
TEST(Base64, EncodesLikeOpenSsl) {
  std::mt19937 random(7);
  for (size_t length = 0; length < 400; ++length) {
    for (int round = 0; round < 4; ++round) {
      std::string bytes(length, '\0');
      for (char& c : bytes) c = static_cast<char>(random());
      std::string expected(4 * ((length + 2) / 3) + 1, '\0');
      int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(expected.data()),
                                    reinterpret_cast<const unsigned char*>(bytes.data()),
                                    static_cast<int>(length));
      expected.resize(static_cast<size_t>(written));
      std::string out = "prefix";
      AppendBase64(out, bytes);
      ASSERT_EQ(out, "prefix" + expected) << length;
    }
  }
  EXPECT_EQ(EncodeBase64(std::string("\xff\xfe\xfd", 3)), "//79");
}

TEST(Base64, RoundTripsAndRejectsBadInput) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::string decoded;
    ASSERT_TRUE(DecodeBase64(EncodeBase64(text), &decoded));
    EXPECT_EQ(decoded, text);
  }
  std::string out;
  EXPECT_FALSE(DecodeBase64("abc", &out));
  EXPECT_FALSE(DecodeBase64("ab!d", &out));
  EXPECT_FALSE(DecodeBase64("a===", &out));
  EXPECT_FALSE(DecodeBase64("ab=c", &out));
  EXPECT_FALSE(DecodeBase64("ab==abcd", &out));
  EXPECT_FALSE(DecodeBase64("====", &out));
  EXPECT_FALSE(DecodeBase64("=abc", &out));
  EXPECT_FALSE(DecodeBase64("abc\x80", &out));
  ASSERT_TRUE(DecodeBase64("YQ==", &out));
  EXPECT_EQ(out, "a");
  ASSERT_TRUE(DecodeBase64("YWI=", &out));
  EXPECT_EQ(out, "ab");
  ASSERT_TRUE(DecodeBase64("Zm9vYmFy", &out));
  EXPECT_EQ(out, "foobar");
  ASSERT_TRUE(DecodeBase64("", &out));
  EXPECT_EQ(out, "");
}

TEST(Base64, AppendsAfterExistingText) {
  std::string out = "x:";
  AppendBase64(out, "foobar");
  AppendBase64(out, "");
  AppendBase64(out, "fo");
  EXPECT_EQ(out, "x:Zm9vYmFyZm8=");
  EXPECT_EQ(EncodeBase64(std::string(300, '\xff')).size(), 400u);
}

TEST(JsonWriter, EscapesOnlyWhatNeedsIt) {
  std::string out;
  AppendJsonString(out, "shardId-000000000001");
  AppendJsonString(out, "");
  AppendJsonString(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"shardId-000000000001\"\"\"\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(JsonWriter, TimestampsAndIntegers) {
  JsonWriter w;
  w.BeginArray();
  w.TimestampMillis(1700000000123);
  w.TimestampMillis(5);
  w.TimestampMillis(-1500);
  w.UInt(18446744073709551615u);
  w.EndArray();
  EXPECT_EQ(w.Take(), "[1700000000.123,0.005,-1.500,18446744073709551615]");
}

TEST(RequestBody, ReadsTypedMembersAndTreatsNullAsAbsent) {
  RequestBody body;
  ASSERT_FALSE(RequestBody::Parse(
      R"({"S":"x","I":5,"T":1704067200.123,"Ti":1704067200,"B":true,"D":"aGk=","N":null,
          "M":{"k":"v"},"L":["a","b"],"Ms":1704067200123})",
      &body));
  EXPECT_EQ(body.String("S"), "x");
  EXPECT_EQ(body.Integer("I"), 5);
  EXPECT_EQ(body.TimestampMillis("T"), 1704067200123);
  EXPECT_EQ(body.TimestampMillis("Ti"), 1704067200000);
  EXPECT_EQ(body.TimestampMillis("Ms"), 1704067200123);  // Java SDK v1 sends milliseconds
  EXPECT_EQ(body.Bool("B"), true);
  EXPECT_EQ(body.Blob("D"), "hi");
  EXPECT_EQ(body.String("N"), std::nullopt);
  EXPECT_EQ(body.String("Missing"), std::nullopt);
  auto map = body.StringMap("M");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->at(0).second, "v");
  EXPECT_EQ(body.StringList("L")->size(), 2u);
  EXPECT_FALSE(body.error());
}

TEST(RequestBody, WrongTypesAndBadJsonAreSerializationErrors) {
  RequestBody body;
  auto bad = RequestBody::Parse("{\"a\":", &body);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->type, "SerializationException");
  auto not_object = RequestBody::Parse("[1]", &body);
  ASSERT_TRUE(not_object);
  EXPECT_EQ(not_object->type, "SerializationException");
  ASSERT_FALSE(RequestBody::Parse("", &body));  // empty body is {}

  ASSERT_FALSE(RequestBody::Parse(R"({"StreamName":5,"Limit":"x","Data":"!!"})", &body));
  EXPECT_EQ(body.String("StreamName"), std::nullopt);
  ASSERT_TRUE(body.error());
  EXPECT_EQ(body.error()->type, "SerializationException");
  EXPECT_NE(body.error()->message.find("NUMBER_VALUE"), std::string::npos);
}

TEST(ConstraintChecker, FormatsAwsValidationMessages) {
  ConstraintChecker check;
  check.Required("streamName", false);
  check.Length("partitionKey", std::string(""), 1, 256);
  check.Charset("streamName", std::string("a b"), "[a-zA-Z0-9_.-]+", IsNameChar);
  check.Range("limit", int64_t{0}, 1, 10000);
  auto error = check.error();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, "ValidationException");
  EXPECT_EQ(error->message,
            "4 validation errors detected: Value null at 'streamName' failed to satisfy "
            "constraint: Member must not be null; Value '' at 'partitionKey' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1; Value 'a b' at "
            "'streamName' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: [a-zA-Z0-9_.-]+; Value '0' at 'limit' failed to satisfy constraint: Member "
            "must have value greater than or equal to 1");
  ConstraintChecker fine;
  fine.Enum("shardIteratorType", std::string("LATEST"), {"LATEST", "TRIM_HORIZON"});
  EXPECT_TRUE(fine.ok());
}

TEST(DecimalNumber, ChecksDigitsAndLeadingZeros) {
  EXPECT_TRUE(IsDecimalNumber("0", 5));
  EXPECT_TRUE(IsDecimalNumber("12345", 5));
  EXPECT_FALSE(IsDecimalNumber("123456", 5));
  EXPECT_FALSE(IsDecimalNumber("01", 5));
  EXPECT_FALSE(IsDecimalNumber("", 5));
  EXPECT_FALSE(IsDecimalNumber("-1", 5));
}

}  // namespace
}  // namespace eddy::api
