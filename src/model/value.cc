#include "model/value.h"

#include <bit>
#include <cstdio>
#include <cstring>

#include "model/canonical_text.h"

namespace eddy::model {

namespace {

template <ValueType kType, typename T>
constexpr bool IndexIs() {
  return std::is_same_v<std::variant_alternative_t<static_cast<size_t>(kType), Value::Storage>, T>;
}
static_assert(IndexIs<ValueType::kNull, NullValue>());
static_assert(IndexIs<ValueType::kBool, bool>());
static_assert(IndexIs<ValueType::kInt64, int64_t>());
static_assert(IndexIs<ValueType::kUint64, uint64_t>());
static_assert(IndexIs<ValueType::kFloat32, float>());
static_assert(IndexIs<ValueType::kFloat64, double>());
static_assert(IndexIs<ValueType::kDecimal, DecimalValue>());
static_assert(IndexIs<ValueType::kText, std::string>());
static_assert(IndexIs<ValueType::kBytes, BytesValue>());
static_assert(IndexIs<ValueType::kDate, DateValue>());
static_assert(IndexIs<ValueType::kTime, TimeValue>());
static_assert(IndexIs<ValueType::kTimeTz, TimeTzValue>());
static_assert(IndexIs<ValueType::kTimestamp, TimestampValue>());
static_assert(IndexIs<ValueType::kTimestampTz, TimestampTzValue>());
static_assert(IndexIs<ValueType::kInterval, IntervalValue>());
static_assert(IndexIs<ValueType::kUuid, UuidValue>());
static_assert(IndexIs<ValueType::kJson, JsonValue>());
static_assert(IndexIs<ValueType::kEnum, EnumValue>());
static_assert(IndexIs<ValueType::kBits, BitsValue>());
static_assert(IndexIs<ValueType::kArray, ArrayValue>());
static_assert(IndexIs<ValueType::kTypedText, TypedTextValue>());
static_assert(IndexIs<ValueType::kUnavailable, UnavailableValue>());
static_assert(std::variant_size_v<Value::Storage> == 22);

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendHex(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
}

// Quoted with C-style escapes for non-printable bytes: unambiguous in logs.
void AppendQuoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    auto b = static_cast<uint8_t>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (b < 0x20 || b == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", b);
      out += buffer;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string_view KindName(TemporalKind kind) {
  switch (kind) {
    case TemporalKind::kFinite: return "finite";
    case TemporalKind::kPositiveInfinity: return "infinity";
    case TemporalKind::kNegativeInfinity: return "-infinity";
    case TemporalKind::kZero: return "zero";
  }
  return "?";
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull: return "null";
    case ValueType::kBool: return "bool";
    case ValueType::kInt64: return "int64";
    case ValueType::kUint64: return "uint64";
    case ValueType::kFloat32: return "float32";
    case ValueType::kFloat64: return "float64";
    case ValueType::kDecimal: return "decimal";
    case ValueType::kText: return "text";
    case ValueType::kBytes: return "bytes";
    case ValueType::kDate: return "date";
    case ValueType::kTime: return "time";
    case ValueType::kTimeTz: return "timetz";
    case ValueType::kTimestamp: return "timestamp";
    case ValueType::kTimestampTz: return "timestamptz";
    case ValueType::kInterval: return "interval";
    case ValueType::kUuid: return "uuid";
    case ValueType::kJson: return "json";
    case ValueType::kEnum: return "enum";
    case ValueType::kBits: return "bits";
    case ValueType::kArray: return "array";
    case ValueType::kTypedText: return "typed_text";
    case ValueType::kUnavailable: return "unavailable";
  }
  return "unknown";
}

// http://howardhinnant.github.io/date_algorithms.html (days_from_civil / civil_from_days),
// widened to int64 so any int32 day count and its year fit.
int64_t DaysFromCivil(CivilDate date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t m = date.month;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2 ? 1 : 0), static_cast<int>(m), static_cast<int>(d)};
}

Result<UuidValue> UuidValue::Parse(std::string_view text) {
  std::string_view original = text;
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, text.size() - 2);
  }
  UuidValue uuid;
  size_t nibbles = 0;
  for (char c : text) {
    if (c == '-') continue;
    int digit = HexDigit(c);
    if (digit < 0 || nibbles >= 32) {
      return InvalidArgument("not a UUID: \"" + std::string(original) +
                             "\" (expected 32 hex digits, optionally hyphenated)");
    }
    uuid.bytes[nibbles / 2] |= static_cast<uint8_t>(digit << (nibbles % 2 == 0 ? 4 : 0));
    ++nibbles;
  }
  if (nibbles != 32) {
    return InvalidArgument("not a UUID: \"" + std::string(original) + "\" (expected 32 hex digits)");
  }
  return uuid;
}

std::string UuidValue::ToString() const {
  std::string hex;
  AppendHex(hex, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool DecimalValue::IsWellFormed(std::string_view text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return true;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t integer_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
    ++integer_digits;
  }
  size_t fraction_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ++i;
      ++fraction_digits;
    }
    if (fraction_digits == 0) return false;
  }
  return i == text.size() && integer_digits > 0;
}

bool ArrayValue::operator==(const ArrayValue& other) const { return elements == other.elements; }

bool Value::operator==(const Value& other) const {
  if (storage_.index() != other.storage_.index()) return false;
  if (const float* f = TryGet<float>()) {
    return std::bit_cast<uint32_t>(*f) == std::bit_cast<uint32_t>(other.Get<float>());
  }
  if (const double* d = TryGet<double>()) {
    return std::bit_cast<uint64_t>(*d) == std::bit_cast<uint64_t>(other.Get<double>());
  }
  return storage_ == other.storage_;
}

std::string Value::DebugString() const {
  std::string out(ValueTypeName(type()));
  out.push_back('(');
  struct Visitor {
    std::string& out;
    void operator()(const NullValue&) {}
    void operator()(bool v) { out += v ? "true" : "false"; }
    void operator()(int64_t v) { out += std::to_string(v); }
    void operator()(uint64_t v) { out += std::to_string(v); }
    void operator()(float v) {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.9g", static_cast<double>(v));
      out += buffer;
    }
    void operator()(double v) {
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.17g", v);
      out += buffer;
    }
    void operator()(const DecimalValue& v) { out += v.text; }
    void operator()(const std::string& v) { AppendQuoted(out, v); }
    void operator()(const BytesValue& v) { AppendHex(out, v.data); }
    void operator()(const DateValue& v) {
      if (v.kind != TemporalKind::kFinite) {
        out += KindName(v.kind);
        return;
      }
      CivilDate c = CivilFromDays(v.days);
      out += std::to_string(c.year) + "-" + std::to_string(c.month) + "-" + std::to_string(c.day);
    }
    void operator()(const TimeValue& v) { out += std::to_string(v.micros) + "us"; }
    void operator()(const TimeTzValue& v) {
      out += std::to_string(v.micros) + "us" + (v.utc_offset_seconds < 0 ? "" : "+") +
             std::to_string(v.utc_offset_seconds) + "s";
    }
    void operator()(const TimestampValue& v) {
      out += v.kind == TemporalKind::kFinite ? std::to_string(v.micros) + "us"
                                             : std::string(KindName(v.kind));
    }
    void operator()(const TimestampTzValue& v) {
      out += v.kind == TemporalKind::kFinite ? std::to_string(v.micros) + "us"
                                             : std::string(KindName(v.kind));
    }
    void operator()(const IntervalValue& v) {
      out += std::to_string(v.months) + "mon " + std::to_string(v.days) + "d " +
             std::to_string(v.micros) + "us";
    }
    void operator()(const UuidValue& v) { out += v.ToString(); }
    void operator()(const JsonValue& v) { AppendQuoted(out, v.text); }
    void operator()(const EnumValue& v) { AppendQuoted(out, v.label); }
    void operator()(const BitsValue& v) { out += v.bits; }
    void operator()(const ArrayValue& v) {
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (i > 0) out += ", ";
        out += v.elements[i].DebugString();
      }
    }
    void operator()(const TypedTextValue& v) {
      out += v.type_name + " ";
      AppendQuoted(out, v.text);
    }
    void operator()(const UnavailableValue&) {}
  };
  std::visit(Visitor{out}, storage_);
  out.push_back(')');
  return out;
}

std::string Value::CanonicalText() const {
  // "<type number>:<payload>". Payloads of text-like types are length-prefixed so that
  // concatenations (arrays, partition keys) stay unambiguous.
  std::string out = std::to_string(static_cast<int>(type()));
  out.push_back(':');
  struct Visitor {
    std::string& out;
    void operator()(const NullValue&) {}
    void operator()(bool v) { out += v ? "1" : "0"; }
    void operator()(int64_t v) { out += std::to_string(v); }
    void operator()(uint64_t v) { out += std::to_string(v); }
    void operator()(float v) { out += std::to_string(std::bit_cast<uint32_t>(v)); }
    void operator()(double v) { out += std::to_string(std::bit_cast<uint64_t>(v)); }
    void operator()(const DecimalValue& v) { AppendLengthPrefixed(out, v.text); }
    void operator()(const std::string& v) { AppendLengthPrefixed(out, v); }
    void operator()(const BytesValue& v) { AppendLengthPrefixed(out, v.data); }
    void operator()(const DateValue& v) {
      out += std::to_string(static_cast<int>(v.kind)) + "/" + std::to_string(v.days);
    }
    void operator()(const TimeValue& v) { out += std::to_string(v.micros); }
    void operator()(const TimeTzValue& v) {
      out += std::to_string(v.micros) + "/" + std::to_string(v.utc_offset_seconds);
    }
    void operator()(const TimestampValue& v) {
      out += std::to_string(static_cast<int>(v.kind)) + "/" + std::to_string(v.micros);
    }
    void operator()(const TimestampTzValue& v) {
      out += std::to_string(static_cast<int>(v.kind)) + "/" + std::to_string(v.micros);
    }
    void operator()(const IntervalValue& v) {
      out += std::to_string(v.months) + "/" + std::to_string(v.days) + "/" +
             std::to_string(v.micros);
    }
    void operator()(const UuidValue& v) { out += v.ToString(); }
    void operator()(const JsonValue& v) { AppendLengthPrefixed(out, v.text); }
    void operator()(const EnumValue& v) { AppendLengthPrefixed(out, v.label); }
    void operator()(const BitsValue& v) { AppendLengthPrefixed(out, v.bits); }
    void operator()(const ArrayValue& v) {
      out += std::to_string(v.elements.size());
      out.push_back('[');
      for (const Value& element : v.elements) AppendLengthPrefixed(out, element.CanonicalText());
      out.push_back(']');
    }
    void operator()(const TypedTextValue& v) {
      AppendLengthPrefixed(out, v.type_name);
      AppendLengthPrefixed(out, v.text);
    }
    void operator()(const UnavailableValue&) {}
  };
  std::visit(Visitor{out}, storage_);
  return out;
}

void AppendLengthPrefixed(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out.push_back(':');
  out += text;
}

const Value* FindField(const Row& row, std::string_view name) {
  for (const Field& field : row) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

}  // namespace eddy::model
