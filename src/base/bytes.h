// Little-endian fixed-width and varint encoding, and ByteReader: a bounds-checked cursor over
// untrusted bytes. Every read returns an error instead of reading past the end, in release
// builds too (protocol and disk bytes are never trusted).
#pragma once

#include <bit>
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

// Decodes the varint at `bytes` (`size` bytes there): returns its length (1..10) with the value
// in *value, 0 when the bytes end before it does, -1 when it overflows 64 bits. With eight
// bytes there the first eight are decoded together: the stop byte is the first without its top
// bit, and the 7-bit groups are packed by three shift-and-mask steps (a row's last value is
// often a timestamp's eight- or nine-byte varint right before the end). Nearer the end each
// byte is checked. ByteReader and ByteCursor (base/byte_cursor.h) read varints of two or more
// bytes with it.
inline int DecodeLongVarint64(const uint8_t* bytes, size_t size, uint64_t* value) {
  if (size >= 8) {
    uint64_t word;
    std::memcpy(&word, bytes, sizeof(word));
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    const uint64_t stops = ~word & 0x8080808080808080ULL;
    const int length = stops != 0 ? __builtin_ctzll(stops) / 8 + 1 : 8;
    uint64_t groups = word & 0x7f7f7f7f7f7f7f7fULL;
    if (length < 8) groups &= (uint64_t{1} << (8 * length)) - 1;
    groups = (groups & 0x007f007f007f007fULL) | ((groups & 0x7f007f007f007f00ULL) >> 1);
    groups = (groups & 0x00003fff00003fffULL) | ((groups & 0x3fff00003fff0000ULL) >> 2);
    groups = (groups & 0x000000000fffffffULL) | ((groups & 0x0fffffff00000000ULL) >> 4);
    if (stops != 0) {
      *value = groups;
      return length;
    }
    // Nine or ten bytes: the ninth holds bits 56..62, the tenth bit 63 (and nothing more).
    if (size < 9) return 0;
    groups |= static_cast<uint64_t>(bytes[8] & 0x7f) << 56;
    if (bytes[8] < 0x80) {
      *value = groups;
      return 9;
    }
    if (size < 10) return 0;
    if (bytes[9] > 1) return -1;
    *value = groups | (static_cast<uint64_t>(bytes[9]) << 63);
    return 10;
  }
  uint64_t result = 0;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t byte = bytes[i];
    if (i == 9 && byte > 1) return -1;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return static_cast<int>(i + 1);
    }
  }
  return 0;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  std::string_view rest() const { return bytes_; }
  // Bytes consumed since construction.
  size_t consumed() const { return consumed_; }

  // Each read's common path is one compare and the loads: the error (a Status with a message)
  // is built out of line, and a Result holding a value costs no Status. The decoders call
  // these several times per field of every stored event, so they are inlined.
  Result<uint8_t> ReadFixed8() {
    if (bytes_.empty()) [[unlikely]] {
      return Truncated(1, "1-byte integer");
    }
    return static_cast<uint8_t>(Take(1)[0]);
  }
  Result<uint16_t> ReadFixed16() {
    if (bytes_.size() < 2) [[unlikely]] {
      return Truncated(2, "2-byte integer");
    }
    auto b = Take(2);
    return static_cast<uint16_t>(static_cast<uint8_t>(b[0]) | (static_cast<uint8_t>(b[1]) << 8));
  }
  Result<uint32_t> ReadFixed32() {
    if (bytes_.size() < 4) [[unlikely]] {
      return Truncated(4, "4-byte integer");
    }
    return DecodeFixed32(Take(4).data());
  }
  Result<uint64_t> ReadFixed64() {
    if (bytes_.size() < 8) [[unlikely]] {
      return Truncated(8, "8-byte integer");
    }
    return DecodeFixed64(Take(8).data());
  }
  Result<uint64_t> ReadVarint64() {
    // Most varints in eddy's encodings (lengths, counts, small integers) are one byte.
    if (!bytes_.empty() && static_cast<uint8_t>(bytes_[0]) < 0x80) [[likely]] {
      return static_cast<uint8_t>(Take(1)[0]);
    }
    return ReadLongVarint64();
  }
  Result<int64_t> ReadVarintSigned64() {
    EDDY_ASSIGN_OR_RETURN(uint64_t raw, ReadVarint64());
    return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  }
  Result<std::string_view> ReadBytes(size_t count) {
    if (bytes_.size() < count) [[unlikely]] {
      return Truncated(count, "byte string");
    }
    return Take(count);
  }
  // For hot paths that checked remaining() first: takes `count` bytes without building a
  // Result. Reading past the end is a caller bug, not an input error.
  std::string_view TakeVerified(size_t count) {
    assert(count <= bytes_.size());
    return Take(count);
  }
  Result<std::string_view> ReadLengthPrefixed() {
    // A length under 128 (one byte) with its bytes there: the common case, kept small enough
    // to inline.
    if (!bytes_.empty()) [[likely]] {
      const size_t length = static_cast<uint8_t>(bytes_[0]);
      if (length < 0x80 && length < bytes_.size()) [[likely]] {
        Take(1);
        return Take(length);
      }
    }
    return ReadLongLengthPrefixed();
  }

 private:
  // A varint of two or more bytes (or none left): DecodeLongVarint64.
  Result<uint64_t> ReadLongVarint64() {
    uint64_t value = 0;
    const int length =
        DecodeLongVarint64(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size(), &value);
    if (length > 0) [[likely]] {
      Take(static_cast<size_t>(length));
      return value;
    }
    if (length < 0) return Corruption("varint overflows 64 bits");
    Take(bytes_.size());
    return Truncated(1, "varint");
  }
  Result<std::string_view> ReadLongLengthPrefixed() {
    EDDY_ASSIGN_OR_RETURN(uint64_t length, ReadVarint64());
    if (length > bytes_.size()) [[unlikely]] {
      return LengthPastEnd(length);
    }
    return Take(static_cast<size_t>(length));
  }
  [[gnu::cold, gnu::noinline]] Status Truncated(size_t count, const char* what) const {
    return Corruption(std::string("truncated input: reading ") + what + " needs " +
                      std::to_string(count) + " bytes, " + std::to_string(bytes_.size()) +
                      " remain (at byte " + std::to_string(consumed_) + ")");
  }
  [[gnu::cold, gnu::noinline]] Status LengthPastEnd(uint64_t length) const {
    return Corruption("length prefix " + std::to_string(length) + " exceeds the " +
                      std::to_string(bytes_.size()) + " bytes that remain");
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
