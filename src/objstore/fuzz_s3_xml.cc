// Fuzz target: any bytes an S3 endpoint answers (error documents, ListObjectsV2 results,
// CreateMultipartUpload results) either parse or give a clean kCorruption; error statuses are
// always built (never OK) and mapped onto eddy's codes without crashing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "objstore/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)eddy::objstore::ParseS3ErrorDocument(body);
  for (int status : {200, 301, 400, 403, 404, 409, 412, 429, 500, 503}) {
    eddy::Status error = eddy::objstore::S3ErrorStatus(status, body, "PutObject", "bucket");
    if (error.ok()) std::abort();
  }
  auto page = eddy::objstore::ParseListObjectsV2(body);
  if (!page.ok() && page.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  auto upload = eddy::objstore::ParseUploadId(body);
  if (!upload.ok() && upload.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  auto text = eddy::objstore::DecodeXmlText(body);
  if (!text.ok() && text.status().code() != eddy::ErrorCode::kCorruption) std::abort();
  return 0;
}
