#include "api/json_writer.h"

#include <cstdio>

namespace eddy::api {

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    // Copy the longest run that needs no escaping in one append.
    size_t run = i;
    while (run < value.size()) {
      unsigned char r = static_cast<unsigned char>(value[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(value.data() + i, run - i);
      i = run;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; replace invalid bytes with U+FFFD.
    size_t length = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) { length = 2; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { length = 3; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { length = 4; min = 0x10000; }
    bool valid = length != 0 && i + length <= value.size();
    uint32_t code = length == 2 ? (c & 0x1f) : length == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; valid && k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(value[i + k]);
      if ((next & 0xc0) != 0x80) valid = false;
      code = (code << 6) | (next & 0x3f);
    }
    if (valid && (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))) {
      valid = false;
    }
    if (valid) {
      out.append(value.data() + i, length);
      i += length;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
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
  out_ += std::to_string(value);
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
  if (epoch_millis < 0) {
    out_.push_back('-');
    epoch_millis = -epoch_millis;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%lld.%03lld",
                static_cast<long long>(epoch_millis / 1000),
                static_cast<long long>(epoch_millis % 1000));
  out_ += buffer;
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

void AppendBase64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t start = out.size();
  size_t whole = bytes.size() / 3;
  out.resize(start + whole * 4);
  char* cursor = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    *cursor++ = kAlphabet[(v >> 18) & 63];
    *cursor++ = kAlphabet[(v >> 12) & 63];
    *cursor++ = kAlphabet[(v >> 6) & 63];
    *cursor++ = kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

bool DecodeBase64(std::string_view text, std::string* out) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int a = value_of(text[i]);
    int b = value_of(text[i + 1]);
    if (a < 0 || b < 0) return false;
    if (last && text[i + 2] == '=') {
      if (text[i + 3] != '=') return false;
      out->push_back(static_cast<char>((a << 2) | (b >> 4)));
      return true;
    }
    int c = value_of(text[i + 2]);
    if (c < 0) return false;
    if (last && text[i + 3] == '=') {
      out->push_back(static_cast<char>((a << 2) | (b >> 4)));
      out->push_back(static_cast<char>(((b & 0x0f) << 4) | (c >> 2)));
      return true;
    }
    int d = value_of(text[i + 3]);
    if (d < 0) return false;
    out->push_back(static_cast<char>((a << 2) | (b >> 4)));
    out->push_back(static_cast<char>(((b & 0x0f) << 4) | (c >> 2)));
    out->push_back(static_cast<char>(((c & 0x03) << 6) | d));
  }
  return true;
}

}  // namespace eddy::api
