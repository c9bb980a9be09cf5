// A small streaming JSON writer and JSON text helpers shared by every renderer.
//
// Escaping (docs/formats/native.md, "Strings"): `"` and `\` are escaped; U+0000..U+001F become
// \b \f \n \r \t or \u00XX; everything else valid UTF-8 (including non-BMP characters such as
// emoji) is written as UTF-8 unchanged. Invalid UTF-8 (stray continuation bytes, truncated or
// overlong sequences, surrogates, code points above U+10FFFF) is replaced by U+FFFD, one per
// invalid byte, so the output is always valid UTF-8 and valid JSON.
//
// Not thread-safe; one writer per record.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eddy::format {

// Appends `text` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view text);

namespace json_internal {
// The high bit of each byte of `word` that a JSON string cannot hold as it is: below 0x20,
// high bit set (UTF-8, validated by the slow path), `"` or `\`. Borrows can flag only bytes
// after a truly flagged one, so the lowest flagged byte is exact.
inline uint64_t FlaggedBytes(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return ((word - kOnes * 0x20) & ~word & kHigh) | (word & kHigh) | has_zero(word ^ (kOnes * '"')) |
         has_zero(word ^ (kOnes * '\\'));
}
#if defined(__SSE2__)
// Sixteen bytes at a time where the machine has SSE2 (every x86-64): bit i of the result is set
// when byte i of the 16 at `bytes` is one FlaggedBytes flags.
inline uint32_t FlaggedMask16(const char* bytes) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  // A signed compare: below 0x20 and, as negative bytes, 0x80..0xFF.
  const __m128i flagged = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return static_cast<uint32_t>(_mm_movemask_epi8(flagged));
}
#endif
}  // namespace json_internal

// The length of the longest prefix of `text` a JSON string holds as it is (printable ASCII
// other than `"` and `\`); == text.size() when `text` needs no escaping at all. Checks eight
// bytes per step (SWAR; the last few bytes padded with plain ones), sixteen where the machine
// has SSE2, reading only `text`.
inline size_t PlainJsonPrefix(std::string_view text) {
  static_assert(std::endian::native == std::endian::little, "the SWAR test is little-endian");
  const char* data = text.data();
  const size_t size = text.size();
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= size; i += 16) {
    if (const uint32_t flagged = json_internal::FlaggedMask16(data + i); flagged != 0) {
      return i + static_cast<size_t>(std::countr_zero(flagged));
    }
  }
#endif
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    if (const uint64_t flagged = json_internal::FlaggedBytes(word); flagged != 0) {
      return i + static_cast<size_t>(std::countr_zero(flagged) / 8);
    }
  }
  if (i == size) return size;
  uint64_t word = 0x6161616161616161ULL;  // 'a' x 8
  std::memcpy(&word, data + i, size - i);
  if (const uint64_t flagged = json_internal::FlaggedBytes(word); flagged != 0) {
    return i + static_cast<size_t>(std::countr_zero(flagged) / 8);
  }
  return size;
}

// If `text` is one valid JSON value (RFC 8259, UTF-8, surrounding whitespace allowed),
// returns it with insignificant whitespace removed and number/string spellings untouched
// (big numbers keep every digit); otherwise nullopt. Nesting deeper than 512 is rejected.
std::optional<std::string> MinifyJson(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string Base64Encode(std::string_view bytes);
// Appends the base64 of `bytes` as a quoted JSON string (base64 needs no escaping).
void AppendJsonBase64(std::string& out, std::string_view bytes);

class JsonWriter {
 public:
  JsonWriter() = default;
  // Writes into `buffer`, emptied first: its capacity is reused (a caller that writes large
  // documents repeatedly passes back what Take returned).
  explicit JsonWriter(std::string buffer) : out_(std::move(buffer)) { out_.clear(); }
  // Writes after what `buffer` holds (records rendered one after another into one output).
  static JsonWriter Appending(std::string buffer) {
    JsonWriter writer;
    writer.out_ = std::move(buffer);
    return writer;
  }

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Inside an object: the next member's name. Must be followed by exactly one value.
  void Key(std::string_view name);

  void Null();
  void Bool(bool value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Finite values only (callers render NaN/Infinity per their format); shortest round-trip
  // spelling.
  void Double(double value);
  void Float(float value);
  void String(std::string_view text);
  // A string value holding `bytes` in base64 (as Base64Encode), encoded straight into the
  // output: base64's alphabet needs no escaping, so no intermediate string or scan.
  void Base64String(std::string_view bytes);
  // A value that is already valid, minified JSON.
  void RawJson(std::string_view json);

  // Shorthands for members.
  void Member(std::string_view name, std::string_view text) {
    Key(name);
    String(text);
  }
  void MemberBase64(std::string_view name, std::string_view bytes) {
    Key(name);
    Base64String(bytes);
  }
  void MemberInt(std::string_view name, int64_t value) {
    Key(name);
    Int(value);
  }
  void MemberNull(std::string_view name) {
    Key(name);
    Null();
  }

  // Room for `bytes` of output, so a large document is not copied as it grows.
  void Reserve(size_t bytes) { out_.reserve(bytes); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true until its first element has been written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace eddy::format
