// Kinesis-compatible identities: 128-bit hash keys and ranges, MD5 partitioning, shard ids
// ("shardId-000000000000") and the 56-digit decimal rendering of sequence numbers.
//
// Sequence-number rendering (see docs/formats/log-sequence-number.md). eddy's SequenceNumber
// is a 64-bit per-stream counter (strictly increasing per shard). Clients see a 188-bit value
// laid out as kinesalite does, which passes KCL's SequenceNumberValidator (bit length 186,
// version 2 in bits 184-187, shard index in bits 4-35), most significant first:
//   4 bits  version = 2
//  36 bits  shard creation time, seconds
//   4 bits  low nibble of the shard index
//  64 bits  eddy SequenceNumber (the counter)
//   8 bits  zero
//  36 bits  zero (kinesalite puts the record time here; eddy keeps it 0 so that one counter
//           has exactly one rendering)
//  32 bits  shard index
//   4 bits  = 2
// rendered in decimal: always 56 digits. Ordering of renderings within a shard equals
// ordering of counters.
//
// Thread safety: pure functions and values.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/position.h"
#include "base/status.h"

namespace eddy::log {

// An unsigned 128-bit hash key, as Kinesis uses (MD5 of the partition key, big-endian).
struct HashKey {
  uint64_t high = 0;
  uint64_t low = 0;

  static constexpr HashKey Max() { return HashKey{~uint64_t{0}, ~uint64_t{0}}; }
  // MD5 of the partition key's bytes read as a big-endian 128-bit integer.
  static HashKey FromPartitionKey(std::string_view partition_key);
  // Decimal "0".."340282366920938463463374607431768211455"; strict (no sign, no leading zeros).
  static Result<HashKey> Parse(std::string_view decimal);
  std::string ToString() const;

  friend constexpr auto operator<=>(const HashKey&, const HashKey&) = default;
  friend constexpr bool operator==(const HashKey&, const HashKey&) = default;
};

struct HashKeyRange {
  HashKey start;
  HashKey end;  // inclusive
  bool Contains(HashKey key) const { return start <= key && key <= end; }
  friend bool operator==(const HashKeyRange&, const HashKeyRange&) = default;
};

// Range of shard `index` of `count` evenly split shards: w = floor(2^128 / count); shard i
// covers [i*w, (i+1)*w - 1], the last ends at 2^128 - 1 (as AWS does).
HashKeyRange EvenHashKeyRange(uint32_t index, uint32_t count);

// "shardId-000000000007".
std::string FormatShardId(uint32_t shard_index);
// Inverse of FormatShardId; kInvalidArgument for anything else.
Result<uint32_t> ParseShardId(std::string_view shard_id);

// 56-digit decimal rendering described above.
std::string FormatSequenceNumber(SequenceNumber sequence, uint32_t shard_index,
                                 int64_t shard_creation_nanos);

struct ParsedSequenceNumber {
  SequenceNumber sequence;
  // Present when the text was a 56-digit rendering; plain small integers (a raw counter,
  // accepted for convenience and for tools) carry none.
  bool has_shard_index = false;
  uint32_t shard_index = 0;
};
// Accepts a 56-digit rendering (checks the version and the constant low nibble) or a plain
// decimal that fits in 64 bits (a raw counter).
Result<ParsedSequenceNumber> ParseSequenceNumber(std::string_view decimal);

}  // namespace eddy::log
