#include "api/sequence_format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace eddy::api {
namespace {
__extension__ typedef unsigned __int128 Uint128;
constexpr uint64_t kTen19 = 10'000'000'000'000'000'000ULL;
}  // namespace

void AppendSequenceNumber(std::string& out, SequenceNumber sequence, uint32_t shard_index,
                          int64_t shard_creation_nanos) {
  uint64_t creation_seconds =
      static_cast<uint64_t>(std::max<int64_t>(0, shard_creation_nanos / 1'000'000'000)) &
      0xFFFFFFFFFull;
  uint64_t value = sequence.value();
  // Bits (LSB first): [0,4) = 2, [4,36) shard index, [36,80) zero, [80,144) sequence,
  // [144,148) shard index low nibble, [148,184) creation seconds, [184,188) = 2.
  uint64_t limbs[3];
  limbs[0] = 2 | (static_cast<uint64_t>(shard_index) << 4);  // bits 0..63
  limbs[1] = value << 16;  // bits 64..127: the sequence starts at bit 80
  limbs[2] = (value >> 48) | (static_cast<uint64_t>(shard_index & 0xF) << 16) |
             (creation_seconds << 20) | (uint64_t{2} << 56);
  // Repeated division by 10^19 gives base-10^19 chunks, least significant first.
  uint64_t chunks[4];
  int count = 0;
  while (limbs[0] != 0 || limbs[1] != 0 || limbs[2] != 0) {
    Uint128 remainder = 0;
    for (int i = 2; i >= 0; --i) {
      Uint128 current = (remainder << 64) | limbs[i];
      limbs[i] = static_cast<uint64_t>(current / kTen19);
      remainder = current % kTen19;
    }
    chunks[count++] = static_cast<uint64_t>(remainder);
  }
  char buffer[96];
  int length = 0;
  if (count == 0) {
    buffer[length++] = '0';
  } else {
    // to_chars, not snprintf: this runs for every record of every GetRecords/PutRecords.
    length = static_cast<int>(std::to_chars(buffer, buffer + sizeof(buffer), chunks[count - 1]).ptr - buffer);
    for (int i = count - 2; i >= 0; --i) {
      uint64_t chunk = chunks[i];
      for (int digit = 18; digit >= 0; --digit) {  // 19 digits, zero-padded
        buffer[length + digit] = static_cast<char>('0' + chunk % 10);
        chunk /= 10;
      }
      length += 19;
    }
  }
  out.append(buffer, static_cast<size_t>(length));
}

std::string FormatSequenceNumberFast(SequenceNumber sequence, uint32_t shard_index,
                                     int64_t shard_creation_nanos) {
  std::string out;
  AppendSequenceNumber(out, sequence, shard_index, shard_creation_nanos);
  return out;
}

}  // namespace eddy::api
