// JsonWriter: a small streaming JSON writer for API responses. Commas are inserted
// automatically; strings are escaped per RFC 8259 (control characters as \u00XX, and invalid
// UTF-8 bytes replaced by U+FFFD so the output is always valid JSON). Numbers never use
// exponent form (AWS clients and LocalStack #3134).
//
// Usage: w.BeginObject(); w.Key("StreamName"); w.String(name); w.EndObject(); w.str().
// Thread safety: one writer per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::api {

class JsonWriter {
 public:
  JsonWriter() = default;
  // Writes into `buffer` (cleared first), keeping its capacity (see body_buffers.h).
  explicit JsonWriter(std::string buffer) : out_(std::move(buffer)) { out_.clear(); }

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view value);
  void Int(int64_t value);
  void UInt(uint64_t value);
  void Bool(bool value);
  void Null();
  // Epoch milliseconds as epoch seconds with three decimals ("1700000000.123"), the form the
  // AWS JSON protocols use for timestamps.
  void TimestampMillis(int64_t epoch_millis);
  // Bytes as padded base64 (the JSON encoding of blobs).
  void Base64(std::string_view bytes);
  // An already-serialised JSON value, inserted verbatim.
  void RawValue(std::string_view json);
  // Writes what precedes a value (a comma if needed) and returns the buffer: the caller appends
  // exactly one complete JSON value to it (GetRecords renders its records this way).
  std::string& BeginRawValue() {
    BeforeValue();
    return out_;
  }
  void Reserve(size_t bytes) { out_.reserve(bytes); }

  // Shorthands for one member.
  void Member(std::string_view key, std::string_view value) { Key(key); String(value); }
  void Member(std::string_view key, const char* value) { Key(key); String(value); }
  void MemberInt(std::string_view key, int64_t value) { Key(key); Int(value); }
  void MemberBool(std::string_view key, bool value) { Key(key); Bool(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  std::string out_;
  // One entry per open container: true when it already holds a value.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

// Epoch milliseconds as epoch seconds with three decimals (see JsonWriter::TimestampMillis).
void AppendTimestampMillis(std::string& out, int64_t epoch_millis);

// Standard padded base64 (RFC 4648 §4).
std::string EncodeBase64(std::string_view bytes);
void AppendBase64(std::string& out, std::string_view bytes);
// Strict decoder: standard alphabet, padding required, no whitespace. False on bad input.
bool DecodeBase64(std::string_view text, std::string* out);

}  // namespace eddy::api
