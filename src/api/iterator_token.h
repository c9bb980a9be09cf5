// Shard iterators: opaque, signed, expiring tokens that carry a read position.
//
// Layout before encoding (all integers little-endian):
//   u8  version = 1
//   u8  api     (1 = Kinesis, 2 = DynamoDB Streams)
//   i64 issued_millis       when the token was made (expiry: Kinesis 5 min, DynamoDB 15 min)
//   i64 stream_created_millis  the stream's incarnation: a deleted and re-created stream of
//                           the same name does not accept old iterators
//   u32 shard_index
//   u64 next_sequence       eddy SequenceNumber of the next record to return
//   u8  name_length, name   the stream name (1..128 bytes)
//   16 bytes                HMAC-SHA256(key, everything above), truncated to 128 bits
// The token is that byte string in padded base64 (at most 232 characters; Kinesis allows
// 512). The key is random per process unless given, so iterators do not survive a restart,
// as an AWS client tolerates (it asks for a new iterator after ExpiredIterator/InvalidArgument).
//
// Thread safety: IteratorCodec is immutable after construction; Encode/Decode from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace eddy::api {

enum class IteratorApi : uint8_t { kKinesis = 1, kDynamoDbStreams = 2 };

struct IteratorPosition {
  IteratorApi api = IteratorApi::kKinesis;
  int64_t issued_millis = 0;
  int64_t stream_created_millis = 0;
  uint32_t shard_index = 0;
  uint64_t next_sequence = 0;
  std::string stream_name;
  bool operator==(const IteratorPosition&) const = default;
};

class IteratorCodec {
 public:
  // `key` must be at least 16 bytes; tests pass a fixed one.
  explicit IteratorCodec(std::string key);
  // A codec with 32 random bytes from the OS.
  static Result<IteratorCodec> WithRandomKey();

  std::string Encode(const IteratorPosition& position) const;
  // kInvalidArgument for anything not made by this codec (bad base64, length, version or MAC).
  // Expiry is the caller's check (it knows the clock and the API's tolerated delay).
  Result<IteratorPosition> Decode(std::string_view token) const;

 private:
  std::string Mac(std::string_view bytes) const;
  std::string key_;
};

}  // namespace eddy::api
