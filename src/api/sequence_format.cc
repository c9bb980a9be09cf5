#include "api/sequence_format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

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

void SequenceRenderer::Append(std::string& out, SequenceNumber sequence) {
  // 2^80 in decimal, least significant digit first.
  static constexpr std::string_view kTwoTo80Reversed = "6716074719264169185298021";
  uint64_t value = sequence.value();
  if (have_last_ && value == last_ + 1 && value != 0) {
    int carry = 0;
    size_t i = 0;
    for (size_t position = kWidth; position-- > 0; ++i) {
      if (i >= kTwoTo80Reversed.size() && carry == 0) break;
      if (position < start_) {
        digits_[position] = '0';
        start_ = position;
      }
      int digit = digits_[position] - '0' + carry +
                  (i < kTwoTo80Reversed.size() ? kTwoTo80Reversed[i] - '0' : 0);
      carry = digit >= 10 ? 1 : 0;
      digits_[position] = static_cast<char>('0' + digit - 10 * carry);
    }
    last_ = value;
    out.append(digits_ + start_, kWidth - start_);
    return;
  }
  std::string rendered;
  AppendSequenceNumber(rendered, sequence, shard_index_, shard_creation_nanos_);
  if (rendered.size() < kWidth - 1 - kTwoTo80Reversed.size()) {  // room for the carries
    start_ = kWidth - rendered.size();
    std::memcpy(digits_ + start_, rendered.data(), rendered.size());
    have_last_ = true;
    last_ = value;
  } else {
    have_last_ = false;
  }
  out += rendered;
}

std::string FormatSequenceNumberFast(SequenceNumber sequence, uint32_t shard_index,
                                     int64_t shard_creation_nanos) {
  std::string out;
  AppendSequenceNumber(out, sequence, shard_index, shard_creation_nanos);
  return out;
}

}  // namespace eddy::api
