// ByteCursor: reads ByteReader's encodings (base/bytes.h: the same varint limits and length
// checks) answering true/false instead of a Result. For the fast paths of decoders whose
// general form returns Results with messages: the fast path only needs to know whether the
// bytes decode, and on false the general decoder, run on the same bytes, says why. Every read
// is bounds-checked; a false read leaves the cursor anywhere (the caller gives up).
//
// Thread safety: a value over bytes the caller keeps alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace eddy {

class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool empty() const { return at_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - at_); }
  std::string_view rest() const { return std::string_view(at_, remaining()); }
  // Only over bytes known to be there (remaining() checked).
  void Skip(size_t bytes) { at_ += bytes; }
  uint8_t Peek() const { return static_cast<uint8_t>(*at_); }

  bool Byte(uint8_t* value) {
    if (at_ == end_) return false;
    *value = static_cast<uint8_t>(*at_++);
    return true;
  }
  bool Fixed32(uint32_t* value) {
    if (remaining() < 4) return false;
    *value = DecodeFixed32(at_);
    at_ += 4;
    return true;
  }
  bool Fixed64(uint64_t* value) {
    if (remaining() < 8) return false;
    *value = DecodeFixed64(at_);
    at_ += 8;
    return true;
  }
  bool Varint(uint64_t* value) {
    if (at_ != end_ && static_cast<uint8_t>(*at_) < 0x80) [[likely]] {
      *value = static_cast<uint8_t>(*at_++);
      return true;
    }
    const int length =
        DecodeLongVarint64(reinterpret_cast<const uint8_t*>(at_), remaining(), value);
    if (length <= 0) return false;
    at_ += length;
    return true;
  }
  bool SignedVarint(int64_t* value) {
    uint64_t raw;
    if (!Varint(&raw)) return false;
    *value = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
    return true;
  }
  bool Bytes(size_t count, std::string_view* bytes) {
    if (count > remaining()) return false;
    *bytes = std::string_view(at_, count);
    at_ += count;
    return true;
  }
  bool LengthPrefixed(std::string_view* bytes) {
    uint64_t length;
    if (!Varint(&length) || length > remaining()) return false;
    *bytes = std::string_view(at_, static_cast<size_t>(length));
    at_ += length;
    return true;
  }

 private:
  const char* at_;
  const char* end_;
};

}  // namespace eddy
