// The S3 backend of ObjectStore, on net::HttpClient (libcurl): PutObject, multipart upload
// for large objects (aborted on failure), GetObject, HeadObject, DeleteObject, ListObjectsV2.
//
// Addressing: with a custom `endpoint` (s3rver, MinIO, Ceph) requests are path-style,
// ENDPOINT/BUCKET/KEY; without one they go virtual-hosted to AWS,
// https://BUCKET.s3.REGION.amazonaws.com/KEY. Every request carries x-amz-content-sha256 (the
// SHA-256 of the body; S3 requires the header even where the signature is not checked) and is
// signed by `signer` (SigV4 with the AWS credential chain, aws/request_signer.h); without a
// signer requests are anonymous (public buckets, test servers).
//
// Retries: a request that fails retriably (network error, timeout, HTTP 5xx, 429, SlowDown)
// is repeated up to `max_attempts` times with eddy::Backoff's delays; the last failure is
// returned (retriable), so the caller's own retry (the sink runner's IMPAIRED state) takes
// over. Parts of a multipart upload go up `part_concurrency` at a time, each retried on its
// own; a multipart upload that still fails is
// aborted (AbortMultipartUpload; a server that refuses the abort, such as s3rver, leaves the
// parts for the bucket's lifecycle rule, and a warning is logged).
//
// If-None-Match: with PutOptions::if_none_match and `honours_if_none_match`, PutObject and
// CompleteMultipartUpload carry `If-None-Match: *` and a 412 is kAlreadyExists. Servers that
// ignore the header (s3rver) must be configured as not honouring it: the header is then not
// sent and Put overwrites.
//
// Thread safety: as ObjectStore (a pool of HTTP clients, one per concurrent request).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "base/backoff.h"
#include "net/http_client.h"
#include "net/http_client_pool.h"
#include "objstore/object_store.h"

namespace eddy::objstore {

// Adds the signing headers (authorization, x-amz-date, x-amz-security-token) to `headers` for
// one request. `payload_hash` is the hex SHA-256 of the body, already in x-amz-content-sha256.
using RequestSigner =
    std::function<Status(std::string_view method, std::string_view url,
                         std::string_view payload_hash, net::HttpHeaders* headers)>;

struct S3Options {
  std::string bucket;  // 3-63 of [a-z0-9.-] (checked by ParseBucketName)
  std::string region = "us-east-1";
  // "http://127.0.0.1:4568" (path-style); empty: AWS, virtual-hosted, https.
  std::string endpoint;
  RequestSigner signer;
  bool honours_if_none_match = true;
  // Objects of at least this many bytes go up in parts of `part_size` (S3: parts are 5 MiB to
  // 5 GiB except the last, at most 10,000 of them; part_size grows to stay within that).
  uint64_t multipart_threshold = 16u << 20;
  uint64_t part_size = 8u << 20;
  // Parts of one upload in flight at once (each on its own pooled connection).
  int part_concurrency = 4;
  int max_attempts = 3;
  BackoffPolicy backoff{std::chrono::milliseconds(100), std::chrono::milliseconds(2000), 2.0, 0.5};
  net::HttpClientOptions http;
};

// InvalidArgument naming the rule when `bucket` is not a valid S3 bucket name.
Status ValidateBucketName(std::string_view bucket);

class S3ObjectStore final : public ObjectStore {
 public:
  static Result<std::unique_ptr<S3ObjectStore>> Create(S3Options options);
  ~S3ObjectStore() override;

  Status Check() override;
  Status Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  Result<std::string> Get(std::string_view key) override;
  Result<std::optional<ObjectInfo>> Head(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        std::string_view continuation, size_t max_keys) override;
  bool HonoursIfNoneMatch() const override { return options_.honours_if_none_match; }
  std::string Describe(std::string_view key) const override;
  void Close() override;

  // The URL of `key` (with `query`, already encoded, when non-empty).
  std::string ObjectUrl(std::string_view key, std::string_view query) const;

 private:
  explicit S3ObjectStore(S3Options options);

  // One request with retries; any HTTP status is a value. Transport errors keep their class.
  Result<net::HttpResponse> Send(std::string_view method, const std::string& url,
                                 net::HttpHeaders headers, std::string_view body);
  Status PutSingle(std::string_view key, std::string_view bytes, const PutOptions& options);
  Status PutMultipart(std::string_view key, std::string_view bytes, const PutOptions& options);

  S3Options options_;
  std::atomic<bool> closing_{false};
  net::HttpClientPool clients_;
};

// A signer with SigV4 (aws/request_signer.h) for service "s3" in `region`.
RequestSigner MakeSigV4Signer(aws::Credentials credentials, std::string region);

}  // namespace eddy::objstore
