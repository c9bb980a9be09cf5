#include "base/crc32c.h"

#include <array>
#include <cstring>

namespace eddy::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t ExtendPortable(uint32_t crc, const char* data, size_t size) {
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) {
    crc = kTable[(crc ^ static_cast<uint8_t>(data[i])) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

#if defined(__x86_64__)
// The raw CRC register after `bytes` zero bytes, for any register value: the update is linear,
// so four 256-entry tables (one per register byte) give it with four lookups.
struct ZeroShift {
  uint32_t table[4][256];
  explicit ZeroShift(size_t bytes) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; ++bit) {
      uint32_t state = 1u << bit;
      for (size_t i = 0; i < bytes; ++i) state = kTable[state & 0xff] ^ (state >> 8);
      basis[bit] = state;
    }
    for (int k = 0; k < 4; ++k) {
      for (uint32_t value = 0; value < 256; ++value) {
        uint32_t shifted = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if ((value >> bit) & 1) shifted ^= basis[8 * k + bit];
        }
        table[k][value] = shifted;
      }
    }
  }
  uint32_t operator()(uint32_t state) const {
    return table[0][state & 0xff] ^ table[1][(state >> 8) & 0xff] ^
           table[2][(state >> 16) & 0xff] ^ table[3][state >> 24];
  }
};

// Three runs of kBlock bytes at once: the crc32 instruction takes three cycles but starts one
// per cycle, so three independent registers go about three times as fast as one; the second
// and third runs start from a zero register and are combined by shifting (ZeroShift), which
// costs about two table lookups in a row per run. Runs of 4096, 256 and 80 bytes: a log frame
// of 300 bytes (one triple of 80) takes 26% less time than with one register, 1,000 bytes 43%
// less, large buffers 55% less; pieces under 240 bytes run the one-register code alone, as fast
// as before (measured on 3 GiB of each size, docs/benchmarks.md).
template <size_t kBlock>
__attribute__((target("sse4.2"))) inline void ExtendTriples(uint64_t& state, const char*& data,
                                                            size_t& size) {
  if (size < 3 * kBlock) return;
  static const ZeroShift shift(kBlock);
  while (size >= 3 * kBlock) {
    uint64_t first = state;
    uint64_t second = 0;
    uint64_t third = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t a;
      uint64_t b;
      uint64_t c;
      std::memcpy(&a, data + i, 8);
      std::memcpy(&b, data + kBlock + i, 8);
      std::memcpy(&c, data + 2 * kBlock + i, 8);
      first = __builtin_ia32_crc32di(first, a);
      second = __builtin_ia32_crc32di(second, b);
      third = __builtin_ia32_crc32di(third, c);
    }
    uint32_t combined = shift(static_cast<uint32_t>(first)) ^ static_cast<uint32_t>(second);
    state = shift(combined) ^ static_cast<uint32_t>(third);
    data += 3 * kBlock;
    size -= 3 * kBlock;
  }
}

// One register, eight bytes at a time: pieces too short for three runs, and what remains after
// them. Kept apart from the three-run path so that short pieces run the same code as before it.
__attribute__((target("sse4.2"))) uint32_t ExtendOneRegister(uint32_t crc, const char* data,
                                                              size_t size) {
  uint64_t state = ~crc & 0xffffffffu;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    state = __builtin_ia32_crc32di(state, word);
    data += 8;
    size -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  while (size > 0) {
    state32 = __builtin_ia32_crc32qi(state32, static_cast<uint8_t>(*data));
    ++data;
    --size;
  }
  return ~state32;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const char* data,
                                                           size_t size) {
  if (size < 3 * 80) return ExtendOneRegister(crc, data, size);
  uint64_t state = ~crc & 0xffffffffu;
  ExtendTriples<4096>(state, data, size);
  ExtendTriples<256>(state, data, size);
  ExtendTriples<80>(state, data, size);
  return ExtendOneRegister(~static_cast<uint32_t>(state), data, size);
}

bool HasHardwareCrc() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#endif

}  // namespace

uint32_t Extend(uint32_t crc, const char* data, size_t size) {
#if defined(__x86_64__)
  static const bool hardware = HasHardwareCrc();
  if (hardware) return ExtendHardware(crc, data, size);
#endif
  return ExtendPortable(crc, data, size);
}

}  // namespace eddy::crc32c
