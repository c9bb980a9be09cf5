// Parsing the location part of a lake sink's URL, one rule for every sink that writes objects:
//   <file_scheme>/DIR             a local directory (absolute: three slashes), no '..'
//   <s3_scheme>BUCKET[/PATH]      an S3 bucket (ValidateBucketName) and a key path without
//                                 empty segments; trailing slashes dropped
// and the `region` and `endpoint` settings that go with an S3 location. Errors are
// InvalidArgument naming the URL (query left out), what is wrong and the forms to write.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace eddy::objstore {

struct StoreUrl {
  bool local = false;
  std::string directory;  // when `local`
  std::string bucket;     // when not `local`
  std::string path;       // the key path after the bucket, without leading or trailing '/'
};

struct StoreUrlForm {
  std::string_view file_scheme;  // "file://", "iceberg+file://"
  std::string_view s3_scheme;    // "s3://", "iceberg+s3://"
  std::string_view usage;        // the forms suggested in every error
  std::string_view path_name;    // what the S3 path is called in errors ("prefix")
};

[[nodiscard]] Result<StoreUrl> ParseStoreUrl(std::string_view url, const StoreUrlForm& form);

// An AWS region name (us-east-1): lowercase letters, digits and '-', 1-32 characters.
[[nodiscard]] bool IsRegionName(std::string_view value);

// An S3-compatible server's base URL, http(s)://HOST[:PORT] without path, query or user
// info; trailing slashes dropped. The error is the setting's fix.
[[nodiscard]] Result<std::string> ParseEndpointUrl(std::string_view value);

}  // namespace eddy::objstore
