// Opening the object store a sink URL names, and the one rule for which store errors a sink
// waits out. Shared by every sink that writes into a lake (objects, Iceberg).
//
// OpenStore: `local` opens a LocalObjectStore in `directory` (file:///DIR); otherwise an
// S3ObjectStore from `s3` (bucket, endpoint, If-None-Match and multipart settings as the sink
// parsed them). For S3 the region, when `s3.region` is empty, comes from the AWS chain
// (AWS_REGION, AWS_DEFAULT_REGION, the profile's config), else us-east-1; credentials come
// from the AWS chain and sign every request with SigV4. With a custom endpoint (s3rver,
// MinIO) and no credentials anywhere, requests go unsigned and a warning is logged; against
// AWS, or with half-set or unreadable credentials, the error names `url` and the fix.
// Request timeouts: 120 s per request, 10 s to connect, unless `s3.http` says otherwise.
//
// RetriableWhileWaiting: errors an operator fixes while the sink waits (a missing bucket or
// directory, refused credentials, a read-only or full disk, a concurrent writer, a server
// without a needed feature) become kUnavailable, so the sink runner retries them (IMPAIRED)
// instead of failing the sink; nothing is lost, and the sink resumes once the cause is gone.
// Other errors keep their code.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "objstore/object_store.h"
#include "objstore/s3_object_store.h"

namespace eddy::objstore {

struct StoreLocation {
  bool local = false;
  std::string directory;  // file:///DIR, when `local`
  S3Options s3;           // bucket, endpoint, ... when not `local`
  std::string url;        // the URL as the user wrote it, for error messages
  std::string logger = "objstore";
};

[[nodiscard]] Result<std::unique_ptr<ObjectStore>> OpenStore(StoreLocation location);

[[nodiscard]] Status RetriableWhileWaiting(const Status& error);

}  // namespace eddy::objstore
