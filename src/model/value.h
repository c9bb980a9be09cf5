// Typed column values: everything PostgreSQL and MySQL/MariaDB produce, without loss.
//
// A Value is a small tagged union (std::variant). It is a plain value type: copyable,
// movable, no shared state; any thread may use its own copies.
//
// Contract highlights:
// - Exact decimals are kept as their decimal text ("-12.3400", "NaN", "Infinity",
//   "-Infinity") and never pass through double.
// - Dates and timestamps are counted from 1970-01-01 in the proleptic Gregorian calendar, so
//   PostgreSQL BC values are negative counts (1 BC is year 0, as ISO 8601 counts). ±infinity
//   and MySQL's zero date ("0000-00-00", "0000-00-00 00:00:00") are explicit kinds.
// - `Unavailable` marks a value the source did not send (PostgreSQL unchanged TOAST); it is not
//   NULL and consumers must not treat it as one.
// - ValueType values are serialized (docs/formats/event-encoding.md) and never change; new types
//   get new numbers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace eddy::model {

// Serialized. Values never change; add new ones at the end.
enum class ValueType : uint8_t {
  kNull = 0,
  kBool = 1,
  kInt64 = 2,
  kUint64 = 3,
  kFloat32 = 4,
  kFloat64 = 5,
  kDecimal = 6,      // exact decimal as text
  kText = 7,         // UTF-8 text (char, varchar, text, MySQL *TEXT)
  kBytes = 8,        // bytea, BINARY, VARBINARY, BLOB
  kDate = 9,
  kTime = 10,        // time without time zone; MySQL TIME (signed, up to ±838:59:59)
  kTimeTz = 11,      // PostgreSQL timetz
  kTimestamp = 12,   // naive wall-clock timestamp (PostgreSQL timestamp, MySQL DATETIME)
  kTimestampTz = 13, // an instant (PostgreSQL timestamptz, MySQL TIMESTAMP)
  kInterval = 14,
  kUuid = 15,
  kJson = 16,        // json/jsonb/MySQL JSON, kept as JSON text
  kEnum = 17,        // enum label
  kBits = 18,        // bit strings: PostgreSQL bit/varbit, MySQL BIT(n)
  kArray = 19,       // PostgreSQL arrays, possibly multi-dimensional (nested), NULL elements
  kTypedText = 20,   // any other type rendered by the source as text, with its type name
  kUnavailable = 21, // the source did not send this value (unchanged TOAST)
};

// "int64", "timestamptz", ... (stable names used in docs and debug output).
std::string_view ValueTypeName(ValueType type);

// How a date or timestamp value is special. Serialized; values never change.
enum class TemporalKind : uint8_t {
  kFinite = 0,
  kPositiveInfinity = 1,  // PostgreSQL 'infinity'
  kNegativeInfinity = 2,  // PostgreSQL '-infinity'
  kZero = 3,              // MySQL zero date/datetime '0000-00-00 00:00:00'
};

// Civil (year, month, day) in the proleptic Gregorian calendar. Year 0 is 1 BC, -1 is 2 BC.
struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};

// Days since 1970-01-01 <-> civil date (Howard Hinnant's algorithms; exact for all int32 days).
int64_t DaysFromCivil(CivilDate date);
CivilDate CivilFromDays(int64_t days);

struct DateValue {
  TemporalKind kind = TemporalKind::kFinite;
  int32_t days = 0;  // days since 1970-01-01; meaningful only when kind == kFinite

  static DateValue FromCivil(int64_t year, int month, int day) {
    return DateValue{TemporalKind::kFinite,
                     static_cast<int32_t>(DaysFromCivil(CivilDate{year, month, day}))};
  }
  bool operator==(const DateValue&) const = default;
};

// Time of day (or MySQL TIME duration) in microseconds; may be negative for MySQL.
struct TimeValue {
  int64_t micros = 0;
  bool operator==(const TimeValue&) const = default;
};

// PostgreSQL timetz: local time of day plus the UTC offset it was written with.
struct TimeTzValue {
  int64_t micros = 0;              // local time of day
  int32_t utc_offset_seconds = 0;  // east of UTC is positive (+05:30 = 19800)
  bool operator==(const TimeTzValue&) const = default;
};

// Naive timestamp: wall-clock microseconds counted as if the wall clock were UTC.
struct TimestampValue {
  TemporalKind kind = TemporalKind::kFinite;
  int64_t micros = 0;  // meaningful only when kind == kFinite
  bool operator==(const TimestampValue&) const = default;
};

// An instant: microseconds since 1970-01-01T00:00:00Z.
struct TimestampTzValue {
  TemporalKind kind = TemporalKind::kFinite;
  int64_t micros = 0;  // meaningful only when kind == kFinite
  bool operator==(const TimestampTzValue&) const = default;
};

// PostgreSQL's interval representation: the three fields are independent (a month is not a
// fixed number of days, a day is not always 24 hours).
struct IntervalValue {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const IntervalValue&) const = default;
};

struct UuidValue {
  std::array<uint8_t, 16> bytes{};
  // Parses "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" (also upper case, braces, or no hyphens).
  static Result<UuidValue> Parse(std::string_view text);
  std::string ToString() const;  // lower-case canonical 8-4-4-4-12
  bool operator==(const UuidValue&) const = default;
};

// Exact decimal as text: an optional '-', digits, optional '.' and digits, optional exponent
// is NOT allowed (sources print plain digits); or "NaN", "Infinity", "-Infinity".
struct DecimalValue {
  std::string text;
  // True when `text` has the form above.
  static bool IsWellFormed(std::string_view text);
  bool IsSpecial() const { return text == "NaN" || text == "Infinity" || text == "-Infinity"; }
  bool operator==(const DecimalValue&) const = default;
};

struct BytesValue {
  std::string data;
  bool operator==(const BytesValue&) const = default;
};

// JSON text as the source sent it. Not validated on construction: renderers check it.
struct JsonValue {
  std::string text;
  bool operator==(const JsonValue&) const = default;
};

struct EnumValue {
  std::string label;
  bool operator==(const EnumValue&) const = default;
};

// Bit string as a sequence of '0'/'1' characters, most significant bit first
// (PostgreSQL B'1010'; MySQL BIT(4) b'1010').
struct BitsValue {
  std::string bits;
  bool operator==(const BitsValue&) const = default;
};

class Value;

// One array dimension; elements may themselves be arrays (multi-dimensional arrays nest, as
// PostgreSQL prints them: {{1,2},{3,4}}). Lower bounds other than 1 are not kept.
struct ArrayValue {
  std::vector<Value> elements;
  bool operator==(const ArrayValue&) const;
};

// A value of a type eddy does not model specially (inet, cidr, macaddr, money, xml, point,
// ranges, tsvector, MySQL SET/GEOMETRY text forms...): the source's text plus its type name.
struct TypedTextValue {
  std::string type_name;
  std::string text;
  bool operator==(const TypedTextValue&) const = default;
};

struct NullValue {
  bool operator==(const NullValue&) const = default;
};
struct UnavailableValue {
  bool operator==(const UnavailableValue&) const = default;
};

class Value {
 public:
  // The alternative index equals the ValueType number (checked by static_asserts in value.cc).
  using Storage = std::variant<NullValue, bool, int64_t, uint64_t, float, double, DecimalValue,
                               std::string, BytesValue, DateValue, TimeValue, TimeTzValue,
                               TimestampValue, TimestampTzValue, IntervalValue, UuidValue,
                               JsonValue, EnumValue, BitsValue, ArrayValue, TypedTextValue,
                               UnavailableValue>;

  Value() = default;  // NULL

  static Value Null() { return Value(); }
  static Value Bool(bool v) { return Value(Storage(std::in_place_type<bool>, v)); }
  static Value Int64(int64_t v) { return Value(Storage(std::in_place_type<int64_t>, v)); }
  static Value Uint64(uint64_t v) { return Value(Storage(std::in_place_type<uint64_t>, v)); }
  static Value Float32(float v) { return Value(Storage(std::in_place_type<float>, v)); }
  static Value Float64(double v) { return Value(Storage(std::in_place_type<double>, v)); }
  static Value Decimal(std::string text) { return Value(Storage(DecimalValue{std::move(text)})); }
  static Value Text(std::string text) {
    return Value(Storage(std::in_place_type<std::string>, std::move(text)));
  }
  static Value Bytes(std::string data) { return Value(Storage(BytesValue{std::move(data)})); }
  static Value Date(DateValue v) { return Value(Storage(v)); }
  static Value Time(int64_t micros) { return Value(Storage(TimeValue{micros})); }
  static Value TimeTz(TimeTzValue v) { return Value(Storage(v)); }
  static Value Timestamp(TimestampValue v) { return Value(Storage(v)); }
  static Value TimestampTz(TimestampTzValue v) { return Value(Storage(v)); }
  static Value Interval(IntervalValue v) { return Value(Storage(v)); }
  static Value Uuid(UuidValue v) { return Value(Storage(v)); }
  static Value Json(std::string text) { return Value(Storage(JsonValue{std::move(text)})); }
  static Value Enum(std::string label) { return Value(Storage(EnumValue{std::move(label)})); }
  static Value Bits(std::string bits) { return Value(Storage(BitsValue{std::move(bits)})); }
  static Value Array(std::vector<Value> elements) {
    return Value(Storage(ArrayValue{std::move(elements)}));
  }
  static Value TypedText(std::string type_name, std::string text) {
    return Value(Storage(TypedTextValue{std::move(type_name), std::move(text)}));
  }
  static Value Unavailable() { return Value(Storage(UnavailableValue{})); }

  ValueType type() const { return static_cast<ValueType>(storage_.index()); }
  bool is_null() const { return type() == ValueType::kNull; }
  bool is_unavailable() const { return type() == ValueType::kUnavailable; }

  // Typed access. `Get<T>` requires the value to hold T (std::get: throws
  // std::bad_variant_access otherwise, which is a bug in the caller); `TryGet<T>` returns
  // nullptr instead. T is one of the Storage alternatives (bool, int64_t, std::string for text, ...).
  template <typename T>
  const T& Get() const {
    return std::get<T>(storage_);
  }
  template <typename T>
  const T* TryGet() const {
    return std::get_if<T>(&storage_);
  }
  const Storage& storage() const { return storage_; }

  // Human-readable, unambiguous form for logs and test failures: `int64(42)`, `text("a\"b")`.
  std::string DebugString() const;

  // A stable text form of the value used to build partition keys: equal values give equal
  // text, different values (including of different types) give different text. Never changes
  // between releases for existing types, because it decides which shard a row lands in.
  std::string CanonicalText() const;

  // Exact equality: floats compare by bit pattern (so NaN == NaN, 0.0 != -0.0).
  bool operator==(const Value& other) const;

 private:
  explicit Value(Storage storage) : storage_(std::move(storage)) {}
  Storage storage_;
};

// One column of a row: name and value. A row keeps the source's column order.
struct Field {
  std::string name;
  Value value;
  bool operator==(const Field&) const = default;
};
using Row = std::vector<Field>;

// The value of column `name` in `row`, or nullptr when the row has no such column.
const Value* FindField(const Row& row, std::string_view name);

}  // namespace eddy::model
