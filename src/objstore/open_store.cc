#include "objstore/open_store.h"

#include <chrono>
#include <utility>

#include "aws/credentials.h"
#include "base/logging.h"
#include "io/file_system.h"
#include "objstore/local_object_store.h"

namespace eddy::objstore {

Result<std::unique_ptr<ObjectStore>> OpenStore(StoreLocation location) {
  if (location.local) {
    return std::unique_ptr<ObjectStore>(
        std::make_unique<LocalObjectStore>(std::move(location.directory)));
  }
  S3Options options = std::move(location.s3);
  io::FileSystem& fs = *io::DefaultFileSystem();
  if (options.region.empty()) {
    options.region = aws::ResolveRegion(aws::ProcessEnvironment(), fs).value_or("us-east-1");
  }
  auto credentials = aws::ResolveCredentials(aws::ProcessEnvironment(), fs);
  if (credentials.ok()) {
    options.signer = MakeSigV4Signer(std::move(credentials).value(), options.region);
  } else if (options.endpoint.empty() ||
             credentials.status().code() != ErrorCode::kPermissionDenied) {
    // AWS needs credentials; half-set variables or a broken file are errors everywhere.
    return credentials.status().WithContext(location.url);
  } else {
    logging::Get(location.logger)
        ->warn("bucket={} endpoint={}: no AWS credentials found; sending unsigned requests",
               options.bucket, options.endpoint);
  }
  if (options.http.request_timeout == net::HttpClientOptions{}.request_timeout) {
    options.http.request_timeout = std::chrono::milliseconds(120'000);
  }
  EDDY_ASSIGN_OR_RETURN(auto store, S3ObjectStore::Create(std::move(options)));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

Status RetriableWhileWaiting(const Status& error) {
  switch (error.code()) {
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kIoError:
    case ErrorCode::kNoSpace:
    case ErrorCode::kAborted:
    case ErrorCode::kUnimplemented:
      return Unavailable(error.message());
    default:
      return error;
  }
}

}  // namespace eddy::objstore
