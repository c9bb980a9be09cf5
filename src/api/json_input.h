// Decoding of AWS JSON-protocol request bodies (simdjson DOM) with AWS's error shapes:
//
// - a body that is not JSON, or not a JSON object, or a member of the wrong JSON type, is a
//   SerializationException (what AWS answers);
// - model constraints (required members, lengths, patterns, ranges) are collected by a
//   ConstraintChecker into one ValidationException "N validation error(s) detected: ..."
//   (at most 10, joined by "; "), in AWS's wording;
// - unknown members are ignored and `null` counts as absent.
//
// Thread safety: a RequestBody is used by one thread. Parse() uses a thread-local parser, so
// one RequestBody per thread may be alive at a time (the element views point into it).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"

namespace eddy::api {

class RequestBody {
 public:
  // Parses `body` (an empty body means {}). On error returns the SerializationException.
  static std::optional<ApiError> Parse(std::string_view body, RequestBody* out);

  // Wraps a nested object (e.g. ShardFilter, StreamModeDetails).
  explicit RequestBody(simdjson::dom::object object) : object_(object), has_object_(true) {}
  RequestBody() = default;

  // Each accessor returns nullopt when the member is absent or null, and records a
  // SerializationException (first one wins) when it has the wrong type.
  std::optional<std::string> String(std::string_view name);
  std::optional<int64_t> Integer(std::string_view name);
  // Epoch seconds (integer or fractional) converted to milliseconds.
  std::optional<int64_t> TimestampMillis(std::string_view name);
  std::optional<bool> Bool(std::string_view name);
  // A base64 blob, decoded.
  std::optional<std::string> Blob(std::string_view name);
  std::optional<simdjson::dom::object> Object(std::string_view name);
  std::optional<simdjson::dom::array> Array(std::string_view name);
  // A JSON object of string values (e.g. Tags).
  std::optional<std::vector<std::pair<std::string, std::string>>> StringMap(std::string_view name);
  // A JSON array of strings (e.g. TagKeys).
  std::optional<std::vector<std::string>> StringList(std::string_view name);

  const std::optional<ApiError>& error() const { return error_; }

  // Frees this thread's parser buffers when a large body grew them past 1 MiB, so idle
  // keep-alive connections do not each hold the memory of their largest request. Call only
  // when no RequestBody of this thread is in use.
  static void TrimThreadParser();

 private:
  std::optional<simdjson::dom::element> Member(std::string_view name);
  void TypeError(std::string_view name, simdjson::dom::element value, std::string_view wanted);

  simdjson::dom::object object_;
  bool has_object_ = false;
  std::optional<ApiError> error_;
};

// Collects model constraint failures, worded as AWS words them.
class ConstraintChecker {
 public:
  // `field` is the lower-camel member name AWS prints ("streamName").
  void Required(std::string_view field, bool present);
  void Length(std::string_view field, const std::optional<std::string>& value, size_t min,
              size_t max);
  void Range(std::string_view field, const std::optional<int64_t>& value, int64_t min, int64_t max);
  // Characters allowed by a [chars]+ pattern; `pattern` is printed in the message.
  void Charset(std::string_view field, const std::optional<std::string>& value,
               std::string_view pattern, bool (*allowed)(char));
  void Enum(std::string_view field, const std::optional<std::string>& value,
            const std::vector<std::string_view>& allowed);
  void Custom(std::string_view field, std::string_view shown_value, std::string_view constraint);

  bool ok() const { return messages_.empty(); }
  std::optional<ApiError> error() const;

 private:
  std::vector<std::string> messages_;
};

// Streams and shard ids: [a-zA-Z0-9_.-]+.
bool IsNameChar(char c);
// Whole text is decimal digits without a leading zero ("0" alone allowed), at most max_digits.
bool IsDecimalNumber(std::string_view text, size_t max_digits);

}  // namespace eddy::api
