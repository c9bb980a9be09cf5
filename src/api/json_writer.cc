#include "api/json_writer.h"

#include "format/json.h"

#include <cstdio>

namespace eddy::api {

// One escaping for every JSON eddy writes: see format/json.h.
void AppendJsonString(std::string& out, std::string_view value) {
  format::AppendJsonString(out, value);
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

void AppendBase64(std::string& out, std::string_view bytes) { out += format::Base64Encode(bytes); }

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
