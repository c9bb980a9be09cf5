#include "format/json.h"

#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>

namespace eddy::format {

namespace {

constexpr char kReplacement[] = "\xef\xbf\xbd";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 when invalid (RFC 3629 table:
// no overlongs, no surrogates, nothing above U+10FFFF).
size_t ValidUtf8Length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t b0 = byte(i);
  size_t left = text.size() - i;
  auto cont = [&](size_t k) { return (byte(i + k) & 0xC0) == 0x80; };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

class JsonMinifier {
 public:
  explicit JsonMinifier(std::string_view text) : text_(text) {}

  std::optional<std::string> Run() {
    SkipSpace();
    if (!Value(0)) return std::nullopt;
    SkipSpace();
    if (pos_ != text_.size()) return std::nullopt;
    return std::move(out_);
  }

 private:
  static constexpr int kMaxDepth = 512;

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    out_ += word;
    pos_ += word.size();
    return true;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number() {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size()) return false;
    if (text_[pos_] == '0') {
      ++pos_;
    } else if (!Digits()) {
      return false;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return false;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!Digits()) return false;
    }
    out_.append(text_.substr(start, pos_ - start));
    return true;
  }
  bool String() {
    size_t start = pos_;
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      auto c = static_cast<uint8_t>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        out_.append(text_.substr(start, pos_ - start));
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (pos_ + 1 >= text_.size()) return false;
        char e = text_[pos_ + 1];
        if (e == 'u') {
          if (pos_ + 6 > text_.size()) return false;
          for (size_t k = pos_ + 2; k < pos_ + 6; ++k) {
            if (!std::isxdigit(static_cast<unsigned char>(text_[k]))) return false;
          }
          pos_ += 6;
        } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
          pos_ += 2;
        } else {
          return false;
        }
        continue;
      }
      size_t length = ValidUtf8Length(text_, pos_);
      if (length == 0) return false;
      pos_ += length;
    }
    return false;
  }
  // An object (keyed: "key": value members) or array from its opening character at pos_ to
  // `close`, copied without white space.
  bool Container(int depth, char close, bool keyed) {
    if (depth >= kMaxDepth) return false;
    out_.push_back(text_[pos_]);
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == close) {
      ++pos_;
      out_.push_back(close);
      return true;
    }
    while (true) {
      SkipSpace();
      if (keyed) {
        if (pos_ >= text_.size() || text_[pos_] != '"' || !String()) return false;
        SkipSpace();
        if (pos_ >= text_.size() || text_[pos_] != ':') return false;
        ++pos_;
        out_.push_back(':');
        SkipSpace();
      }
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (pos_ >= text_.size()) return false;
      if (text_[pos_] == ',') {
        ++pos_;
        out_.push_back(',');
        continue;
      }
      if (text_[pos_] == close) {
        ++pos_;
        out_.push_back(close);
        return true;
      }
      return false;
    }
  }
  bool Value(int depth) {
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    switch (c) {
      case '{':
        return Container(depth, '}', /*keyed=*/true);
      case '[':
        return Container(depth, ']', /*keyed=*/false);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Number();
        return false;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string out_;
};

// Base64 (RFC 4648, standard alphabet, padded), three bytes to four characters through a table
// of the 4,096 character pairs of 12 bits: two lookups per three bytes. About twice as fast as
// libcrypto's EVP_EncodeBlock (one lookup per character), which was a tenth of a webhook
// push's CPU (a Kinesis record's data is base64 in every GetRecords reply and Lambda event).
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct Base64Pairs {
  std::array<std::array<char, 2>, 4096> pairs{};
  constexpr Base64Pairs() {
    for (size_t i = 0; i < pairs.size(); ++i) {
      pairs[i] = {kBase64Alphabet[i >> 6], kBase64Alphabet[i & 63]};
    }
  }
};
constexpr Base64Pairs kBase64Pairs;

// Writes exactly 4 * ((bytes.size() + 2) / 3) characters at `out`.
void EncodeBase64(char* out, std::string_view bytes) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t group = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    std::memcpy(out, kBase64Pairs.pairs[group >> 12].data(), 2);
    std::memcpy(out + 2, kBase64Pairs.pairs[group & 0xfff].data(), 2);
    out += 4;
  }
  if (size - i == 1) {
    uint32_t group = uint32_t{in[i]} << 16;
    out[0] = kBase64Alphabet[group >> 18];
    out[1] = kBase64Alphabet[(group >> 12) & 63];
    out[2] = '=';
    out[3] = '=';
  } else if (size - i == 2) {
    uint32_t group = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out[0] = kBase64Alphabet[group >> 18];
    out[1] = kBase64Alphabet[(group >> 12) & 63];
    out[2] = kBase64Alphabet[(group >> 6) & 63];
    out[3] = '=';
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Most text (base64, identifiers, sequence numbers) needs no escaping: runs of printable
  // ASCII other than `"` and `\` are appended whole, one append per run instead of per byte.
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    size_t run = i + PlainJsonPrefix(text.substr(i));
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      if (i == text.size()) break;
    }
    auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      size_t length = ValidUtf8Length(text, i);
      if (length == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(escaped, sizeof(escaped));
      }
    }
    ++i;
  }
  out.push_back('"');
}

std::optional<std::string> MinifyJson(std::string_view text) { return JsonMinifier(text).Run(); }

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  EncodeBase64(out.data(), bytes);
  return out;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  first_.push_back(true);
}
void JsonWriter::EndObject() {
  out_.push_back('}');
  first_.pop_back();
}
void JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  first_.push_back(true);
}
void JsonWriter::EndArray() {
  out_.push_back(']');
  first_.pop_back();
}
void JsonWriter::Key(std::string_view name) {
  BeforeValue();
  AppendJsonString(out_, name);
  out_.push_back(':');
  after_key_ = true;
}
void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}
void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}
void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, end);
}
void JsonWriter::Uint(uint64_t value) {
  BeforeValue();
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, end);
}
void JsonWriter::Double(double value) {
  BeforeValue();
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, end);
}
void JsonWriter::Float(float value) {
  BeforeValue();
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, end);
}
void JsonWriter::String(std::string_view text) {
  BeforeValue();
  AppendJsonString(out_, text);
}
void JsonWriter::Base64String(std::string_view bytes) {
  BeforeValue();
  AppendJsonBase64(out_, bytes);
}

void AppendJsonBase64(std::string& out, std::string_view bytes) {
  size_t start = out.size();
  size_t encoded = 4 * ((bytes.size() + 2) / 3);
  out.resize(start + encoded + 2);
  out[start] = '"';
  EncodeBase64(out.data() + start + 1, bytes);
  out[start + 1 + encoded] = '"';
}
void JsonWriter::RawJson(std::string_view json) {
  BeforeValue();
  out_ += json;
}

}  // namespace eddy::format
