// ObjectStore: the one interface eddy writes objects through (the objects sink, and the
// Iceberg sink's data and metadata files), with two backends: local files
// (objstore/local_object_store.h, through io::FileSystem) and S3 (objstore/s3_object_store.h,
// on net::HttpClient).
//
// Keys are S3 keys: '/'-separated, UTF-8, at most 1024 bytes, no empty, "." or ".." segment
// (the local backend maps them onto directories, so such segments are refused everywhere).
//
// Durability: Put returns OK only when the object is durable and whole at its key (S3: the
// PUT or CompleteMultipartUpload answered 200; local: the file fsync'd, renamed into place and
// its directory fsync'd). A reader never sees a partial object under the key: a failed Put
// leaves the previous object (or none), never a prefix of the new one.
//
// Errors follow base/backoff.h's classifier: kUnavailable/kTimeout (network, 5xx, 429,
// SlowDown) are retriable; kNotFound (no such bucket or directory), kPermissionDenied (bad
// credentials, access denied), kInvalidArgument (bad key, bad request) and kFailedPrecondition
// are not. Messages name the bucket or directory and the fix.
//
// Thread safety: every method may be called from several threads at once (the S3 backend
// keeps a pool of HTTP clients); Close makes requests in flight end with kAborted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::objstore {

inline constexpr size_t kMaxKeyBytes = 1024;

struct PutOptions {
  // Write only when no object exists at the key (S3 `If-None-Match: *`). When the object
  // exists Put returns kAlreadyExists and changes nothing. Backends or servers that do not
  // honour the condition overwrite (ObjectStore::HonoursIfNoneMatch says which).
  bool if_none_match = false;
  std::string content_type = "application/octet-stream";
  // Content-Encoding metadata (S3); the local backend ignores it.
  std::string content_encoding;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Last modification, milliseconds since the epoch, as List reports it (S3 LastModified,
  // the local file's mtime); 0 when unknown.
  int64_t modified_ms = 0;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // in key order (byte-wise)
  // Non-empty when more keys follow: pass it as `continuation` to get them.
  std::string continuation;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Checks that the bucket or directory exists and may be written (S3: a one-key listing,
  // which proves the bucket, the endpoint and the credentials; local: the directory is
  // created when missing). Messages say what to fix.
  [[nodiscard]] virtual Status Check() = 0;

  [[nodiscard]] virtual Status Put(std::string_view key, std::string_view bytes,
                                   const PutOptions& options = {}) = 0;
  // kNotFound when there is no object at the key.
  [[nodiscard]] virtual Result<std::string> Get(std::string_view key) = 0;
  // nullopt when there is no object at the key.
  [[nodiscard]] virtual Result<std::optional<ObjectInfo>> Head(std::string_view key) = 0;
  // OK when the object did not exist.
  [[nodiscard]] virtual Status Delete(std::string_view key) = 0;
  // Up to `max_keys` keys that start with `prefix`, after `start_after` (exclusive) or from
  // `continuation`.
  [[nodiscard]] virtual Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                                              std::string_view continuation,
                                              size_t max_keys = 1000) = 0;

  // Whether Put's if_none_match is enforced (the local backend and AWS S3 do; servers that
  // ignore the header are configured as not honouring it).
  virtual bool HonoursIfNoneMatch() const = 0;
  // "s3://bucket/key" or "file:///dir/key", for messages and logs.
  virtual std::string Describe(std::string_view key) const = 0;
  // Makes requests in flight end with kAborted and later ones fail at once.
  virtual void Close() = 0;
};

// InvalidArgument when `key` breaks the rules above; `what` names it in the message.
Status ValidateKey(std::string_view key);

}  // namespace eddy::objstore
