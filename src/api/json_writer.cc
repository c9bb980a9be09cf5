#include "api/json_writer.h"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "format/json.h"

namespace eddy::api {

// One escaping for every JSON eddy writes: see format/json.h.
void AppendJsonString(std::string& out, std::string_view value) {
  // Fast path for the common case (sequence numbers, shard ids, ASCII partition keys): nothing
  // to escape, so append in one piece instead of byte by byte. Anything else goes through
  // format's escaping, so there is still one set of escaping rules.
  bool plain = true;
  for (char c : value) {
    auto byte = static_cast<uint8_t>(c);
    if (byte < 0x20 || byte >= 0x80 || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (!plain) {
    format::AppendJsonString(out, value);
    return;
  }
  out.reserve(out.size() + value.size() + 2);
  out.push_back('"');
  out.append(value);
  out.push_back('"');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_value_.empty()) {
    if (has_value_.back()) out_.push_back(',');
    has_value_.back() = true;
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  has_value_.push_back(false);
}
void JsonWriter::EndObject() {
  out_.push_back('}');
  has_value_.pop_back();
}
void JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  has_value_.push_back(false);
}
void JsonWriter::EndArray() {
  out_.push_back(']');
  has_value_.pop_back();
}
void JsonWriter::Key(std::string_view key) {
  if (!has_value_.empty()) {
    if (has_value_.back()) out_.push_back(',');
    has_value_.back() = true;
  }
  AppendJsonString(out_, key);
  out_.push_back(':');
  after_key_ = true;
}
void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
}
void JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
}
void JsonWriter::UInt(uint64_t value) {
  BeforeValue();
  char buffer[24];
  out_.append(buffer, static_cast<size_t>(std::to_chars(buffer, buffer + sizeof(buffer), value).ptr - buffer));
}
void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}
void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}
void JsonWriter::TimestampMillis(int64_t epoch_millis) {
  BeforeValue();
  AppendTimestampMillis(out_, epoch_millis);
}

void AppendTimestampMillis(std::string& out, int64_t epoch_millis) {
  if (epoch_millis < 0) {
    out.push_back('-');
    epoch_millis = -epoch_millis;
  }
  char buffer[32];
  char* end = std::to_chars(buffer, buffer + sizeof(buffer), epoch_millis / 1000).ptr;
  int64_t millis = epoch_millis % 1000;
  *end++ = '.';
  *end++ = static_cast<char>('0' + millis / 100);
  *end++ = static_cast<char>('0' + millis / 10 % 10);
  *end++ = static_cast<char>('0' + millis % 10);
  out.append(buffer, static_cast<size_t>(end - buffer));
}
void JsonWriter::Base64(std::string_view bytes) {
  BeforeValue();
  out_.push_back('"');
  AppendBase64(out_, bytes);
  out_.push_back('"');
}
void JsonWriter::RawValue(std::string_view json) {
  BeforeValue();
  out_ += json;
}

std::string EncodeBase64(std::string_view bytes) {
  std::string out;
  AppendBase64(out, bytes);
  return out;
}

namespace {
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Two alphabet characters for each 12-bit value: 3 input bytes become 4 output characters
// with two table loads (GetRecords encodes every payload).
struct Base64Pairs {
  char pairs[4096][2];
};
constexpr Base64Pairs kBase64Pairs = [] {
  Base64Pairs table{};
  for (int i = 0; i < 4096; ++i) {
    table.pairs[i][0] = kBase64Alphabet[i >> 6];
    table.pairs[i][1] = kBase64Alphabet[i & 63];
  }
  return table;
}();
}  // namespace

void AppendBase64(std::string& out, std::string_view bytes) {
  // Encodes in place at the end of `out` (no temporary).
  size_t start = out.size();
  out.resize(start + 4 * ((bytes.size() + 2) / 3));
  char* to = out.data() + start;
  const auto* from = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t whole = bytes.size() / 3 * 3;
  for (size_t i = 0; i < whole; i += 3) {
    uint32_t triple = (uint32_t{from[i]} << 16) | (uint32_t{from[i + 1]} << 8) | from[i + 2];
    std::memcpy(to, kBase64Pairs.pairs[triple >> 12], 2);
    std::memcpy(to + 2, kBase64Pairs.pairs[triple & 0xFFF], 2);
    to += 4;
  }
  size_t rest = bytes.size() - whole;
  if (rest > 0) {
    uint32_t triple = uint32_t{from[whole]} << 16;
    if (rest == 2) triple |= uint32_t{from[whole + 1]} << 8;
    to[0] = kBase64Alphabet[triple >> 18];
    to[1] = kBase64Alphabet[(triple >> 12) & 63];
    to[2] = rest == 2 ? kBase64Alphabet[(triple >> 6) & 63] : '=';
    to[3] = '=';
  }
}

namespace {
// Value of each base64 alphabet byte, 0xFF for every other byte.
constexpr std::array<uint8_t, 256> kBase64Values = [] {
  std::array<uint8_t, 256> table{};
  table.fill(0xFF);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}();
}  // namespace

bool DecodeBase64(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  // Decodes straight into the sized buffer (every PutRecords entry's Data passes here).
  out->resize(text.size() / 4 * 3 - padding);
  auto* dest = reinterpret_cast<uint8_t*>(out->data());
  auto value = [&](size_t i) { return kBase64Values[static_cast<uint8_t>(text[i])]; };
  size_t full = padding == 0 ? text.size() : text.size() - 4;
  for (size_t i = 0; i < full; i += 4) {
    uint32_t a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
    if ((a | b | c | d) & 0x80) return false;
    uint32_t bits = (a << 18) | (b << 12) | (c << 6) | d;
    *dest++ = static_cast<uint8_t>(bits >> 16);
    *dest++ = static_cast<uint8_t>(bits >> 8);
    *dest++ = static_cast<uint8_t>(bits);
  }
  if (padding == 0) return true;
  size_t i = full;
  uint32_t a = value(i), b = value(i + 1);
  if ((a | b) & 0x80) return false;
  *dest++ = static_cast<uint8_t>((a << 2) | (b >> 4));
  if (padding == 2) return true;  // "xx=="
  uint32_t c = value(i + 2);
  if (c & 0x80) return false;
  *dest = static_cast<uint8_t>(((b & 0x0f) << 4) | (c >> 2));
  return true;
}

}  // namespace eddy::api
