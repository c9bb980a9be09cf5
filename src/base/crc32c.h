// CRC-32C (Castagnoli), the checksum of every framed record eddy writes to disk.
// Uses the SSE4.2 instruction when the CPU has it, a table otherwise; both give equal results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace eddy::crc32c {

// Extends `crc` (the CRC of some bytes A) to the CRC of A followed by data[0, size).
uint32_t Extend(uint32_t crc, const char* data, size_t size);

inline uint32_t Value(const char* data, size_t size) { return Extend(0, data, size); }
inline uint32_t Value(std::string_view bytes) { return Extend(0, bytes.data(), bytes.size()); }

// A CRC stored next to the data it covers is masked (as LevelDB does) so that a CRC computed
// over bytes that themselves contain CRCs does not degenerate.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace eddy::crc32c
