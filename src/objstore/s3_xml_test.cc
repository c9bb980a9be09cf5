#include "objstore/s3_xml.h"

#include <gtest/gtest.h>

namespace eddy::objstore {
namespace {

TEST(S3XmlTest, ErrorDocumentsBecomeClearStatuses) {
  std::string no_bucket =
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket "
      "does not exist</Message><BucketName>nope</BucketName><RequestId>r1</RequestId></Error>";
  Status status = S3ErrorStatus(404, no_bucket, "PutObject k", "nope");
  EXPECT_EQ(status.code(), ErrorCode::kNotFound);
  EXPECT_NE(status.message().find("aws s3 mb s3://nope"), std::string::npos);
  EXPECT_NE(status.message().find("[request r1]"), std::string::npos);

  status = S3ErrorStatus(
      403, "<Error><Code>InvalidAccessKeyId</Code><Message>bad &amp; wrong</Message></Error>",
      "ListObjectsV2", "b");
  EXPECT_EQ(status.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(status.message().find("bad & wrong"), std::string::npos);
  EXPECT_NE(status.message().find("AWS_ACCESS_KEY_ID"), std::string::npos);

  EXPECT_TRUE(S3ErrorStatus(503, "<Error><Code>SlowDown</Code></Error>", "x", "b").IsRetriable());
  EXPECT_TRUE(S3ErrorStatus(500, "<html>proxy</html>", "x", "b").IsRetriable());
  EXPECT_TRUE(S3ErrorStatus(429, "", "x", "b").IsRetriable());
  EXPECT_EQ(S3ErrorStatus(412, "<Error><Code>PreconditionFailed</Code></Error>", "x", "b").code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(S3ErrorStatus(400, "<Error><Code>InvalidArgument</Code></Error>", "x", "b").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(S3ErrorStatus(405, "", "AbortMultipartUpload", "b").code(), ErrorCode::kUnimplemented);
}

TEST(S3XmlTest, ListObjectsV2Pages) {
  std::string body =
      "<ListBucketResult><Name>b</Name><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a/1&amp;2.json</Key><Size>12</Size></Contents>"
      "<Contents><Key>a/3.json</Key><LastModified>x</LastModified><Size>0</Size></Contents>"
      "<NextContinuationToken>tok=</NextContinuationToken></ListBucketResult>";
  auto page = ParseListObjectsV2(body);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a/1&2.json");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->continuation, "tok=");
  auto last =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->objects.empty());
  EXPECT_TRUE(last->continuation.empty());
}

TEST(S3XmlTest, MalformedRepliesAreCorruption) {
  EXPECT_EQ(ParseListObjectsV2("").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"
                               "</ListBucketResult>")
                .status()
                .code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
                               "</Contents></ListBucketResult>")
                .status()
                .code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                               "</ListBucketResult>")
                .status()
                .code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(ParseUploadId("<x/>").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(*ParseUploadId("<InitiateMultipartUploadResult><UploadId>u-1</UploadId>"
                           "</InitiateMultipartUploadResult>"),
            "u-1");
}

TEST(S3XmlTest, Entities) {
  EXPECT_EQ(*DecodeXmlText("&lt;a&gt; &quot;&apos; &#65;&#x42; &#xE9;"), "<a> \"' AB \xC3\xA9");
  EXPECT_EQ(DecodeXmlText("&bogus;").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeXmlText("&#0;").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeXmlText("&#xD800;").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeXmlText("&amp").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(EscapeXmlText("\"a&b\""), "&quot;a&amp;b&quot;");
}

}  // namespace
}  // namespace eddy::objstore

namespace eddy::objstore {
namespace {

TEST(S3Xml, LastModifiedIsMillisecondsSinceTheEpochOrUnknown) {
  EXPECT_EQ(ParseLastModifiedMs("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(ParseLastModifiedMs("2009-10-12T17:50:30.123Z"), 1255369830123);
  EXPECT_EQ(ParseLastModifiedMs("2024-02-29T00:00:01Z"), 1709164801000);
  EXPECT_EQ(ParseLastModifiedMs("x"), 0);
  EXPECT_EQ(ParseLastModifiedMs("2024-13-01T00:00:00.000Z"), 0);
  auto page = ParseListObjectsV2(
      "<ListBucketResult><Contents><Key>a</Key><LastModified>2009-10-12T17:50:30.000Z"
      "</LastModified><Size>1</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.at(0).modified_ms, 1255369830000);
}

}  // namespace
}  // namespace eddy::objstore
