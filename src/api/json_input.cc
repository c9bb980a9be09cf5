#include "api/json_input.h"

#include <cctype>
#include <cmath>

#include "api/json_writer.h"

namespace eddy::api {
namespace {

std::string_view JsonTypeWord(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: return "START_ARRAY";
    case simdjson::dom::element_type::OBJECT: return "START_OBJECT";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "NUMBER_VALUE";
    case simdjson::dom::element_type::STRING: return "STRING_VALUE";
    case simdjson::dom::element_type::BOOL: return "BOOLEAN_VALUE";
    case simdjson::dom::element_type::NULL_VALUE: return "NULL_VALUE";
  }
  return "VALUE";
}

std::string Shown(std::string_view value) {
  // AWS echoes the offending value; keep messages bounded.
  if (value.size() > 256) return std::string(value.substr(0, 256)) + "...";
  return std::string(value);
}

}  // namespace

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

bool IsDecimalNumber(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

namespace {
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}
}  // namespace

void RequestBody::TrimThreadParser() {
  if (ThreadParser().capacity() > (1u << 20)) ThreadParser() = simdjson::dom::parser();
}

std::optional<ApiError> RequestBody::Parse(std::string_view body, RequestBody* out) {
  simdjson::dom::parser& parser = ThreadParser();
  std::string_view text = body;
  // A blank body means an empty object (the SDKs send none for operations without input).
  // Stops at the first non-blank byte: this runs on every request, bodies are up to 12 MiB.
  if (text.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos) text = "{}";
  simdjson::dom::element root;
  auto error = parser.parse(text.data(), text.size()).get(root);
  if (error) {
    return SerializationError(std::string("Request body is not valid JSON: ") +
                              simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (root.get(object)) {
    return SerializationError(std::string("Request body must be a JSON object, found ") +
                              std::string(JsonTypeWord(root)));
  }
  *out = RequestBody(object);
  return std::nullopt;
}

std::optional<simdjson::dom::element> RequestBody::Member(std::string_view name) {
  if (!has_object_) return std::nullopt;
  simdjson::dom::element value;
  if (object_.at_key(name).get(value)) return std::nullopt;
  if (value.is_null()) return std::nullopt;
  return value;
}

void RequestBody::TypeError(std::string_view name, simdjson::dom::element value,
                            std::string_view wanted) {
  if (error_) return;
  error_ = SerializationError(std::string(JsonTypeWord(value)) + " can not be converted to " +
                              std::string(wanted) + " (member '" + std::string(name) + "')");
}

std::optional<std::string> RequestBody::String(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get(text)) {
    TypeError(name, *value, "a String");
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<int64_t> RequestBody::Integer(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  int64_t number = 0;
  if (value->get(number)) {
    // Large unsigned values still are integers; clamp so range checks report them.
    uint64_t big = 0;
    if (!value->get(big)) return INT64_MAX;
    TypeError(name, *value, "an Integer");
    return std::nullopt;
  }
  return number;
}

std::optional<int64_t> RequestBody::TimestampMillis(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  double seconds = 0;
  if (value->is_number()) {
    int64_t whole = 0;
    if (!value->get(whole)) {
      // Java SDK v1 without CBOR sends milliseconds (aws-sdk-java#2588).
      if (whole > 100'000'000'000LL || whole < -100'000'000'000LL) return whole;
      return whole * 1000;
    }
    if (value->get(seconds)) {
      TypeError(name, *value, "a Timestamp");
      return std::nullopt;
    }
  } else {
    TypeError(name, *value, "a Timestamp");
    return std::nullopt;
  }
  if (!std::isfinite(seconds) || std::fabs(seconds) > 9.0e15) {
    TypeError(name, *value, "a Timestamp");
    return std::nullopt;
  }
  if (std::fabs(seconds) > 1.0e11) return static_cast<int64_t>(seconds);
  return static_cast<int64_t>(std::floor(seconds * 1000.0 + 0.5));
}

std::optional<bool> RequestBody::Bool(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  bool flag = false;
  if (value->get(flag)) {
    TypeError(name, *value, "a Boolean");
    return std::nullopt;
  }
  return flag;
}

std::optional<std::string> RequestBody::Blob(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get(text)) {
    TypeError(name, *value, "a Blob");
    return std::nullopt;
  }
  std::string decoded;
  if (!DecodeBase64(text, &decoded)) {
    if (!error_) {
      error_ = SerializationError("Base64 encoded value of member '" + std::string(name) +
                                  "' is not valid padded base64");
    }
    return std::nullopt;
  }
  return decoded;
}

std::optional<simdjson::dom::object> RequestBody::Object(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  simdjson::dom::object object;
  if (value->get(object)) {
    TypeError(name, *value, "a Structure");
    return std::nullopt;
  }
  return object;
}

std::optional<simdjson::dom::array> RequestBody::Array(std::string_view name) {
  auto value = Member(name);
  if (!value) return std::nullopt;
  simdjson::dom::array array;
  if (value->get(array)) {
    TypeError(name, *value, "a List");
    return std::nullopt;
  }
  return array;
}

std::optional<std::vector<std::pair<std::string, std::string>>> RequestBody::StringMap(
    std::string_view name) {
  auto object = Object(name);
  if (!object) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> out;
  for (auto field : *object) {
    std::string_view text;
    if (field.value.is_null()) {
      out.emplace_back(std::string(field.key), "");
      continue;
    }
    if (field.value.get(text)) {
      TypeError(name, field.value, "a String");
      return std::nullopt;
    }
    out.emplace_back(std::string(field.key), std::string(text));
  }
  return out;
}

std::optional<std::vector<std::string>> RequestBody::StringList(std::string_view name) {
  auto array = Array(name);
  if (!array) return std::nullopt;
  std::vector<std::string> out;
  for (auto element : *array) {
    std::string_view text;
    if (element.get(text)) {
      TypeError(name, element, "a String");
      return std::nullopt;
    }
    out.emplace_back(text);
  }
  return out;
}

void ConstraintChecker::Required(std::string_view field, bool present) {
  if (!present) {
    messages_.push_back("Value null at '" + std::string(field) +
                        "' failed to satisfy constraint: Member must not be null");
  }
}

void ConstraintChecker::Length(std::string_view field, const std::optional<std::string>& value,
                               size_t min, size_t max) {
  if (!value) return;
  if (value->size() < min) {
    messages_.push_back("Value '" + Shown(*value) + "' at '" + std::string(field) +
                        "' failed to satisfy constraint: Member must have length greater than "
                        "or equal to " + std::to_string(min));
  } else if (value->size() > max) {
    messages_.push_back("Value '" + Shown(*value) + "' at '" + std::string(field) +
                        "' failed to satisfy constraint: Member must have length less than or "
                        "equal to " + std::to_string(max));
  }
}

void ConstraintChecker::Range(std::string_view field, const std::optional<int64_t>& value,
                              int64_t min, int64_t max) {
  if (!value) return;
  if (*value < min) {
    messages_.push_back("Value '" + std::to_string(*value) + "' at '" + std::string(field) +
                        "' failed to satisfy constraint: Member must have value greater than or "
                        "equal to " + std::to_string(min));
  } else if (*value > max) {
    messages_.push_back("Value '" + std::to_string(*value) + "' at '" + std::string(field) +
                        "' failed to satisfy constraint: Member must have value less than or "
                        "equal to " + std::to_string(max));
  }
}

void ConstraintChecker::Charset(std::string_view field, const std::optional<std::string>& value,
                                std::string_view pattern, bool (*allowed)(char)) {
  if (!value || value->empty()) return;
  for (char c : *value) {
    if (!allowed(c)) {
      messages_.push_back("Value '" + Shown(*value) + "' at '" + std::string(field) +
                          "' failed to satisfy constraint: Member must satisfy regular "
                          "expression pattern: " + std::string(pattern));
      return;
    }
  }
}

void ConstraintChecker::Enum(std::string_view field, const std::optional<std::string>& value,
                             const std::vector<std::string_view>& allowed) {
  if (!value) return;
  for (std::string_view option : allowed) {
    if (*value == option) return;
  }
  std::string list;
  for (std::string_view option : allowed) {
    if (!list.empty()) list += ", ";
    list += option;
  }
  messages_.push_back("Value '" + Shown(*value) + "' at '" + std::string(field) +
                      "' failed to satisfy constraint: Member must satisfy enum value set: [" +
                      list + "]");
}

void ConstraintChecker::Custom(std::string_view field, std::string_view shown_value,
                               std::string_view constraint) {
  messages_.push_back("Value '" + Shown(shown_value) + "' at '" + std::string(field) +
                      "' failed to satisfy constraint: " + std::string(constraint));
}

std::optional<ApiError> ConstraintChecker::error() const {
  if (messages_.empty()) return std::nullopt;
  size_t shown = std::min<size_t>(messages_.size(), 10);
  std::string message = std::to_string(messages_.size()) +
                        (messages_.size() == 1 ? " validation error detected: "
                                               : " validation errors detected: ");
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) message += "; ";
    message += messages_[i];
  }
  return ValidationError(std::move(message));
}

}  // namespace eddy::api
