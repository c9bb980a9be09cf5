// The S3 reply bodies eddy reads: error documents and ListObjectsV2 results. S3 answers in a
// small, flat XML; these readers take only the elements eddy needs and never trust the bytes
// (bounded scans, entities decoded, every number checked), so a hostile or broken server gives
// a clear error, never a crash. Fuzzed by fuzz_s3_xml.
//
//   <Error><Code>NoSuchBucket</Code><Message>...</Message><BucketName>b</BucketName>
//          <RequestId>...</RequestId></Error>
//   <ListBucketResult><IsTruncated>true</IsTruncated>
//     <Contents><Key>a/b.json</Key><Size>12</Size>...</Contents>...
//     <NextContinuationToken>...</NextContinuationToken></ListBucketResult>
//   <InitiateMultipartUploadResult>...<UploadId>...</UploadId></InitiateMultipartUploadResult>
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "objstore/object_store.h"

namespace eddy::objstore {

struct S3ErrorDocument {
  std::string code;  // "NoSuchBucket", "AccessDenied", ...; empty when the body had none
  std::string message;
  std::string bucket_name;
  std::string request_id;
};

// Reads an <Error> document; a body that is not one (an HTML page from a proxy, nothing) gives
// an empty code, not an error.
S3ErrorDocument ParseS3ErrorDocument(std::string_view body);

// The Status for a non-2xx S3 reply: `http_status` and the error document mapped onto
// eddy's codes (retriable for 5xx, 429, SlowDown, RequestTimeout, ConditionalRequestConflict;
// kNotFound for NoSuchBucket; kPermissionDenied for credential and access errors;
// kAlreadyExists for 412 PreconditionFailed), with a message that names the bucket, the
// operation and the fix. `operation` is "PutObject", "ListObjectsV2", ...
Status S3ErrorStatus(int http_status, std::string_view body, std::string_view operation,
                     std::string_view bucket);

// Reads a ListObjectsV2 result; kCorruption naming what is malformed.
Result<ListPage> ParseListObjectsV2(std::string_view body);
// An S3 <LastModified> ("2009-10-12T17:50:30.000Z") in milliseconds since the epoch; 0 when
// it is not in that form (the time is then unknown, never an error).
int64_t ParseLastModifiedMs(std::string_view text);

// The <UploadId> of an InitiateMultipartUploadResult; kCorruption when there is none.
Result<std::string> ParseUploadId(std::string_view body);

// Decodes XML's five named entities and numeric character references; kCorruption for an
// unknown or unterminated one.
Result<std::string> DecodeXmlText(std::string_view text);

// Escapes text for an XML element (& < > " ').
std::string EscapeXmlText(std::string_view text);

}  // namespace eddy::objstore
