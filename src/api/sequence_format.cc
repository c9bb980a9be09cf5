#include "api/sequence_format.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

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

namespace {
constexpr uint64_t kBillion = 1'000'000'000;
// 2^80 in base 10^9, least significant limb first.
constexpr uint64_t kTwoTo80[3] = {174'706'176, 819'614'629, 1'208'925};
}  // namespace

SequenceRenderer::SequenceRenderer(uint32_t shard_index, int64_t shard_creation_nanos) {
  std::string constant;
  AppendSequenceNumber(constant, SequenceNumber(0), shard_index, shard_creation_nanos);
  // Decimal digits to base 10^9 limbs, from the least significant end.
  int limb = 0;
  for (size_t end = constant.size(); end > 0 && limb < kLimbs; ++limb) {
    size_t begin = end >= 9 ? end - 9 : 0;
    uint64_t value = 0;
    for (size_t i = begin; i < end; ++i) value = value * 10 + static_cast<uint64_t>(constant[i] - '0');
    base_[limb] = value;
    end = begin;
  }
}

namespace {
// "00" .. "99".
constexpr struct DigitPairs {
  char pairs[100][2];
  constexpr DigitPairs() : pairs() {
    for (int i = 0; i < 100; ++i) {
      pairs[i][0] = static_cast<char>('0' + i / 10);
      pairs[i][1] = static_cast<char>('0' + i % 10);
    }
  }
} kDigitPairs;

// Nine digits of `limb` (< 10^9), zero-padded, at `to`.
void WriteNineDigits(char* to, uint64_t limb) {
  for (int pair = 3; pair >= 0; --pair) {
    std::memcpy(to + 1 + 2 * pair, kDigitPairs.pairs[limb % 100], 2);
    limb /= 100;
  }
  to[0] = static_cast<char>('0' + limb);
}
}  // namespace

void SequenceRenderer::Append(std::string& out, SequenceNumber sequence) {
  uint64_t value = sequence.value();
  uint64_t counter[3] = {value % kBillion, value / kBillion % kBillion, value / kBillion / kBillion};
  // limbs = C + counter * 2^80: column sums stay below 2^64 (at most 3 products < 10^18 each,
  // plus a limb of C and a carry).
  uint64_t limbs[kLimbs];
  uint64_t carry = 0;
  for (int i = 0; i < kLimbs; ++i) {
    uint64_t column = base_[i] + carry;
    for (int a = 0; a < 3; ++a) {
      int b = i - a;
      if (b >= 0 && b < 3) column += counter[a] * kTwoTo80[b];
    }
    limbs[i] = column % kBillion;
    carry = column / kBillion;
  }
  int top = kLimbs - 1;
  while (top > 0 && limbs[top] == 0) --top;
  if (top == last_top_ && limbs[top] == last_limbs_[top]) {
    // Same length and leading limb: rewrite only the nine-digit groups that changed.
    for (int i = 0; i < top; ++i) {
      if (limbs[i] != last_limbs_[i]) {
        WriteNineDigits(text_ + text_length_ - 9 * static_cast<size_t>(i + 1), limbs[i]);
        last_limbs_[i] = limbs[i];
      }
    }
  } else {
    char* end = std::to_chars(text_, text_ + sizeof(text_), limbs[top]).ptr;
    for (int i = top - 1; i >= 0; --i) {
      WriteNineDigits(end, limbs[i]);
      end += 9;
    }
    text_length_ = static_cast<size_t>(end - text_);
    std::memcpy(last_limbs_, limbs, sizeof(limbs));
    last_top_ = top;
  }
  out.append(text_, text_length_);
}

std::string FormatSequenceNumberFast(SequenceNumber sequence, uint32_t shard_index,
                                     int64_t shard_creation_nanos) {
  std::string out;
  AppendSequenceNumber(out, sequence, shard_index, shard_creation_nanos);
  return out;
}

}  // namespace eddy::api
