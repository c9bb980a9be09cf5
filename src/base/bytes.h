// Little-endian fixed-width and varint encoding, and ByteReader: a bounds-checked cursor over
// untrusted bytes. Every read returns an error instead of reading past the end, in release
// builds too (protocol and disk bytes are never trusted).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace eddy {

inline void PutFixed8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
inline void PutFixed16(std::string& out, uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.append(b, 2);
}
inline void PutFixed32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}
inline void PutFixed64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}
inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(src[i])) << (8 * i);
  return v;
}

// Unsigned LEB128.
// Built in a local buffer and appended once: one capacity check instead of one per byte (the
// snapshot path writes several varints per row).
inline void PutVarint64(std::string& out, uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, n);
}
// Zigzag-encoded signed varint.
inline void PutVarintSigned64(std::string& out, int64_t v) {
  PutVarint64(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
// Length-prefixed bytes.
inline void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::string_view rest() const { return bytes_; }
  // Bytes consumed since construction.
  size_t consumed() const { return consumed_; }

  Result<uint8_t> ReadFixed8() {
    EDDY_RETURN_IF_ERROR(Need(1, "1-byte integer"));
    return static_cast<uint8_t>(Take(1)[0]);
  }
  Result<uint16_t> ReadFixed16() {
    EDDY_RETURN_IF_ERROR(Need(2, "2-byte integer"));
    auto b = Take(2);
    return static_cast<uint16_t>(static_cast<uint8_t>(b[0]) | (static_cast<uint8_t>(b[1]) << 8));
  }
  Result<uint32_t> ReadFixed32() {
    EDDY_RETURN_IF_ERROR(Need(4, "4-byte integer"));
    return DecodeFixed32(Take(4).data());
  }
  Result<uint64_t> ReadFixed64() {
    EDDY_RETURN_IF_ERROR(Need(8, "8-byte integer"));
    return DecodeFixed64(Take(8).data());
  }
  Result<uint64_t> ReadVarint64() {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      EDDY_RETURN_IF_ERROR(Need(1, "varint"));
      uint8_t byte = static_cast<uint8_t>(Take(1)[0]);
      if (shift == 63 && byte > 1) return Corruption("varint overflows 64 bits");
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return result;
    }
    return Corruption("varint longer than 10 bytes");
  }
  Result<int64_t> ReadVarintSigned64() {
    EDDY_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint64());
    return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  }
  Result<std::string_view> ReadBytes(size_t count) {
    EDDY_RETURN_IF_ERROR(Need(count, "byte string"));
    return Take(count);
  }
  // For hot paths that checked remaining() first: takes `count` bytes without building a
  // Result. Reading past the end is a caller bug, not an input error.
  std::string_view TakeVerified(size_t count) {
    assert(count <= bytes_.size());
    return Take(count);
  }
  Result<std::string_view> ReadLengthPrefixed() {
    EDDY_ASSIGN_OR_RETURN(uint64_t length, ReadVarint64());
    if (length > bytes_.size()) {
      return Corruption("length prefix " + std::to_string(length) + " exceeds the " +
                        std::to_string(bytes_.size()) + " bytes that remain");
    }
    return Take(static_cast<size_t>(length));
  }

 private:
  // Inlined check; the message is built out of line, so the common path stays a compare.
  Status Need(size_t count, const char* what) const {
    if (bytes_.size() >= count) [[likely]] return Status::Ok();
    return Truncated(count, what);
  }
  [[gnu::cold, gnu::noinline]] Status Truncated(size_t count, const char* what) const {
    return Corruption(std::string("truncated input: reading ") + what + " needs " +
                      std::to_string(count) + " bytes, " + std::to_string(bytes_.size()) +
                      " remain (at byte " + std::to_string(consumed_) + ")");
  }
  std::string_view Take(size_t count) {
    std::string_view taken = bytes_.substr(0, count);
    bytes_.remove_prefix(count);
    consumed_ += count;
    return taken;
  }

  std::string_view bytes_;
  size_t consumed_ = 0;
};

}  // namespace eddy
