#include "source/postgres/pg_types.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "model/datetime_text.h"

namespace eddy::source::postgres {
namespace {

using model::Value;
using model::ValueType;

struct BuiltinType {
  uint32_t oid;
  const char* name;
  ValueType type;
  uint32_t element_oid;  // arrays only
  char delimiter;
};

// Every built-in type with a distinct mapping; the rest resolve to TypedText with their name
// from this table (or "oid:<n>").
constexpr BuiltinType kBuiltins[] = {
    {16, "bool", ValueType::kBool, 0, ','},
    {17, "bytea", ValueType::kBytes, 0, ','},
    {18, "char", ValueType::kText, 0, ','},
    {19, "name", ValueType::kText, 0, ','},
    {20, "int8", ValueType::kInt64, 0, ','},
    {21, "int2", ValueType::kInt64, 0, ','},
    {23, "int4", ValueType::kInt64, 0, ','},
    {24, "regproc", ValueType::kTypedText, 0, ','},
    {25, "text", ValueType::kText, 0, ','},
    {26, "oid", ValueType::kInt64, 0, ','},
    {27, "tid", ValueType::kTypedText, 0, ','},
    {28, "xid", ValueType::kTypedText, 0, ','},
    {29, "cid", ValueType::kTypedText, 0, ','},
    {114, "json", ValueType::kJson, 0, ','},
    {142, "xml", ValueType::kTypedText, 0, ','},
    {194, "pg_node_tree", ValueType::kTypedText, 0, ','},
    {600, "point", ValueType::kTypedText, 0, ','},
    {601, "lseg", ValueType::kTypedText, 0, ','},
    {602, "path", ValueType::kTypedText, 0, ','},
    {603, "box", ValueType::kTypedText, 0, ';'},
    {604, "polygon", ValueType::kTypedText, 0, ','},
    {628, "line", ValueType::kTypedText, 0, ','},
    {650, "cidr", ValueType::kTypedText, 0, ','},
    {700, "float4", ValueType::kFloat32, 0, ','},
    {701, "float8", ValueType::kFloat64, 0, ','},
    {718, "circle", ValueType::kTypedText, 0, ','},
    {774, "macaddr8", ValueType::kTypedText, 0, ','},
    {790, "money", ValueType::kTypedText, 0, ','},
    {829, "macaddr", ValueType::kTypedText, 0, ','},
    {869, "inet", ValueType::kTypedText, 0, ','},
    {1033, "aclitem", ValueType::kTypedText, 0, ','},
    {1042, "bpchar", ValueType::kText, 0, ','},
    {1043, "varchar", ValueType::kText, 0, ','},
    {1082, "date", ValueType::kDate, 0, ','},
    {1083, "time", ValueType::kTime, 0, ','},
    {1114, "timestamp", ValueType::kTimestamp, 0, ','},
    {1184, "timestamptz", ValueType::kTimestampTz, 0, ','},
    {1186, "interval", ValueType::kInterval, 0, ','},
    {1266, "timetz", ValueType::kTimeTz, 0, ','},
    {1560, "bit", ValueType::kBits, 0, ','},
    {1562, "varbit", ValueType::kBits, 0, ','},
    {1700, "numeric", ValueType::kDecimal, 0, ','},
    {1790, "refcursor", ValueType::kText, 0, ','},
    {2202, "regprocedure", ValueType::kTypedText, 0, ','},
    {2203, "regoper", ValueType::kTypedText, 0, ','},
    {2204, "regoperator", ValueType::kTypedText, 0, ','},
    {2205, "regclass", ValueType::kTypedText, 0, ','},
    {2206, "regtype", ValueType::kTypedText, 0, ','},
    {2950, "uuid", ValueType::kUuid, 0, ','},
    {2970, "txid_snapshot", ValueType::kTypedText, 0, ','},
    {3220, "pg_lsn", ValueType::kTypedText, 0, ','},
    {3614, "tsvector", ValueType::kTypedText, 0, ','},
    {3615, "tsquery", ValueType::kTypedText, 0, ','},
    {3734, "regconfig", ValueType::kTypedText, 0, ','},
    {3769, "regdictionary", ValueType::kTypedText, 0, ','},
    {3802, "jsonb", ValueType::kJson, 0, ','},
    {4072, "jsonpath", ValueType::kTypedText, 0, ','},
    {5038, "pg_snapshot", ValueType::kTypedText, 0, ','},
    {3904, "int4range", ValueType::kTypedText, 0, ','},
    {3906, "numrange", ValueType::kTypedText, 0, ','},
    {3908, "tsrange", ValueType::kTypedText, 0, ','},
    {3910, "tstzrange", ValueType::kTypedText, 0, ','},
    {3912, "daterange", ValueType::kTypedText, 0, ','},
    {3926, "int8range", ValueType::kTypedText, 0, ','},
    {4451, "int4multirange", ValueType::kTypedText, 0, ','},
    {4532, "nummultirange", ValueType::kTypedText, 0, ','},
    {4533, "tsmultirange", ValueType::kTypedText, 0, ','},
    {4534, "tstzmultirange", ValueType::kTypedText, 0, ','},
    {4535, "datemultirange", ValueType::kTypedText, 0, ','},
    {4536, "int8multirange", ValueType::kTypedText, 0, ','},
    // Arrays.
    {1000, "_bool", ValueType::kArray, 16, ','},
    {1001, "_bytea", ValueType::kArray, 17, ','},
    {1002, "_char", ValueType::kArray, 18, ','},
    {1003, "_name", ValueType::kArray, 19, ','},
    {1005, "_int2", ValueType::kArray, 21, ','},
    {1007, "_int4", ValueType::kArray, 23, ','},
    {1009, "_text", ValueType::kArray, 25, ','},
    {1014, "_bpchar", ValueType::kArray, 1042, ','},
    {1015, "_varchar", ValueType::kArray, 1043, ','},
    {1016, "_int8", ValueType::kArray, 20, ','},
    {1017, "_point", ValueType::kArray, 600, ','},
    {1018, "_lseg", ValueType::kArray, 601, ','},
    {1019, "_path", ValueType::kArray, 602, ','},
    {1020, "_box", ValueType::kArray, 603, ';'},
    {1021, "_float4", ValueType::kArray, 700, ','},
    {1022, "_float8", ValueType::kArray, 701, ','},
    {1027, "_polygon", ValueType::kArray, 604, ','},
    {1028, "_oid", ValueType::kArray, 26, ','},
    {629, "_line", ValueType::kArray, 628, ','},
    {651, "_cidr", ValueType::kArray, 650, ','},
    {719, "_circle", ValueType::kArray, 718, ','},
    {775, "_macaddr8", ValueType::kArray, 774, ','},
    {791, "_money", ValueType::kArray, 790, ','},
    {1040, "_macaddr", ValueType::kArray, 829, ','},
    {1041, "_inet", ValueType::kArray, 869, ','},
    {1115, "_timestamp", ValueType::kArray, 1114, ','},
    {1182, "_date", ValueType::kArray, 1082, ','},
    {1183, "_time", ValueType::kArray, 1083, ','},
    {1185, "_timestamptz", ValueType::kArray, 1184, ','},
    {1187, "_interval", ValueType::kArray, 1186, ','},
    {1231, "_numeric", ValueType::kArray, 1700, ','},
    {1270, "_timetz", ValueType::kArray, 1266, ','},
    {1561, "_bit", ValueType::kArray, 1560, ','},
    {1563, "_varbit", ValueType::kArray, 1562, ','},
    {143, "_xml", ValueType::kArray, 142, ','},
    {199, "_json", ValueType::kArray, 114, ','},
    {2951, "_uuid", ValueType::kArray, 2950, ','},
    {3221, "_pg_lsn", ValueType::kArray, 3220, ','},
    {3643, "_tsvector", ValueType::kArray, 3614, ','},
    {3645, "_tsquery", ValueType::kArray, 3615, ','},
    {3807, "_jsonb", ValueType::kArray, 3802, ','},
    {3905, "_int4range", ValueType::kArray, 3904, ','},
    {3907, "_numrange", ValueType::kArray, 3906, ','},
    {3909, "_tsrange", ValueType::kArray, 3908, ','},
    {3911, "_tstzrange", ValueType::kArray, 3910, ','},
    {3913, "_daterange", ValueType::kArray, 3912, ','},
    {3927, "_int8range", ValueType::kArray, 3926, ','},
};

const BuiltinType* FindBuiltin(uint32_t type_oid) {
  for (const BuiltinType& type : kBuiltins) {
    if (type.oid == type_oid) return &type;
  }
  return nullptr;
}

const BuiltinType* FindBuiltinByName(std::string_view name) {
  for (const BuiltinType& type : kBuiltins) {
    if (name == type.name) return &type;
  }
  return nullptr;
}

Status Malformed(std::string_view type_name, std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return Corruption("PostgreSQL " + std::string(type_name) + " value \"" + shown +
                    "\" is malformed: " + std::string(why));
}

// ---- small parsers over a cursor ----

struct Cursor {
  std::string_view text;
  size_t pos = 0;
  bool done() const { return pos >= text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  bool Consume(char c) {
    if (peek() == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view word) {
    if (text.substr(pos, word.size()) == word) {
      pos += word.size();
      return true;
    }
    return false;
  }
  // Unsigned decimal digits; at least `min_digits`; fails on overflow.
  std::optional<int64_t> Digits(size_t min_digits = 1) {
    size_t start = pos;
    int64_t value = 0;
    while (!done() && text[pos] >= '0' && text[pos] <= '9') {
      if (__builtin_mul_overflow(value, 10, &value) ||
          __builtin_add_overflow(value, text[pos] - '0', &value)) {
        return std::nullopt;
      }
      ++pos;
    }
    if (pos - start < min_digits) return std::nullopt;
    return value;
  }
  // ".ffffff" fraction as microseconds (up to 6 digits; PostgreSQL never prints more).
  std::optional<int64_t> FractionMicros() {
    if (!Consume('.')) return 0;
    int64_t micros = 0;
    int digits = 0;
    while (!done() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits >= 6) return std::nullopt;
      micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
    return micros;
  }
};

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400LL * kMicrosPerSecond;

// "HH:MM:SS[.ffffff]" -> micros. Hours up to 24 for time (24:00:00 is legal).
std::optional<int64_t> ParseClock(Cursor& c) {
  auto hours = c.Digits(2);
  if (!hours || !c.Consume(':')) return std::nullopt;
  auto minutes = c.Digits(2);
  if (!minutes || *minutes > 59 || !c.Consume(':')) return std::nullopt;
  auto seconds = c.Digits(2);
  if (!seconds || *seconds > 60) return std::nullopt;
  auto fraction = c.FractionMicros();
  if (!fraction) return std::nullopt;
  int64_t micros = 0;
  if (__builtin_mul_overflow(*hours, 3600 * kMicrosPerSecond, &micros) ||
      __builtin_add_overflow(micros, (*minutes * 60 + *seconds) * kMicrosPerSecond + *fraction,
                             &micros)) {
    return std::nullopt;
  }
  return micros;
}

// "+HH[:MM[:SS]]" or "-..." -> seconds east of UTC.
std::optional<int32_t> ParseUtcOffset(Cursor& c) {
  int sign = 0;
  if (c.Consume('+')) {
    sign = 1;
  } else if (c.Consume('-')) {
    sign = -1;
  } else {
    return std::nullopt;
  }
  auto hours = c.Digits(2);
  if (!hours || *hours > 23) return std::nullopt;
  int64_t seconds = *hours * 3600;
  if (c.Consume(':')) {
    auto minutes = c.Digits(2);
    if (!minutes || *minutes > 59) return std::nullopt;
    seconds += *minutes * 60;
    if (c.Consume(':')) {
      auto secs = c.Digits(2);
      if (!secs || *secs > 59) return std::nullopt;
      seconds += *secs;
    }
  }
  return static_cast<int32_t>(sign * seconds);
}

// "YYYY-MM-DD" (year may have more than 4 digits) -> civil date with the year as printed.
std::optional<model::CivilDate> ParseCivilDate(Cursor& c) {
  auto year = c.Digits(4);
  if (!year || *year > 100'000'000 || !c.Consume('-')) return std::nullopt;
  auto month = c.Digits(2);
  if (!month || *month < 1 || *month > 12 || !c.Consume('-')) return std::nullopt;
  auto day = c.Digits(2);
  if (!day || *day < 1 || *day > 31) return std::nullopt;
  return model::CivilDate{*year, static_cast<int>(*month), static_cast<int>(*day)};
}

// " BC" suffix: year N BC is ISO year 1 - N.
bool ConsumeEra(Cursor& c, model::CivilDate& date) {
  if (c.ConsumeWord(" BC")) {
    date.year = 1 - date.year;
    return true;
  }
  return false;
}

Result<Value> DecodeDate(std::string_view text) {
  if (text == "infinity") return Value::Date({model::TemporalKind::kPositiveInfinity, 0});
  if (text == "-infinity") return Value::Date({model::TemporalKind::kNegativeInfinity, 0});
  Cursor c{text};
  auto date = ParseCivilDate(c);
  if (!date) return Malformed("date", text, "expected YYYY-MM-DD[ BC]");
  ConsumeEra(c, *date);
  if (!c.done()) return Malformed("date", text, "unexpected trailing text");
  int64_t days = model::DaysFromCivil(*date);
  if (days < std::numeric_limits<int32_t>::min() || days > std::numeric_limits<int32_t>::max()) {
    return Value::TypedText("date", std::string(text));
  }
  return Value::Date({model::TemporalKind::kFinite, static_cast<int32_t>(days)});
}

// Timestamp text -> micros since 1970 of the wall clock (and the offset for timestamptz).
// Returns nullopt micros when the value is beyond int64 (caller keeps the text).
struct ParsedTimestamp {
  bool fits = true;
  int64_t micros = 0;
};

Result<ParsedTimestamp> ParseTimestamp(std::string_view type_name, std::string_view text,
                                       bool with_zone) {
  Cursor c{text};
  auto date = ParseCivilDate(c);
  if (!date || !c.Consume(' ')) return Malformed(type_name, text, "expected YYYY-MM-DD HH:MM:SS");
  auto clock = ParseClock(c);
  if (!clock || *clock >= kMicrosPerDay) return Malformed(type_name, text, "bad time of day");
  int32_t offset = 0;
  if (with_zone) {
    auto parsed = ParseUtcOffset(c);
    if (!parsed) return Malformed(type_name, text, "expected a UTC offset like +00");
    offset = *parsed;
  }
  ConsumeEra(c, *date);
  if (!c.done()) return Malformed(type_name, text, "unexpected trailing text");
  int64_t days = model::DaysFromCivil(*date);
  ParsedTimestamp result;
  int64_t micros = 0;
  if (__builtin_mul_overflow(days, kMicrosPerDay, &micros) ||
      __builtin_add_overflow(micros, *clock, &micros) ||
      __builtin_sub_overflow(micros, static_cast<int64_t>(offset) * kMicrosPerSecond, &micros)) {
    result.fits = false;
    return result;
  }
  result.micros = micros;
  return result;
}

Result<Value> DecodeTimestamp(std::string_view text, bool with_zone) {
  const char* name = with_zone ? "timestamptz" : "timestamp";
  model::TemporalKind kind = model::TemporalKind::kFinite;
  if (text == "infinity") kind = model::TemporalKind::kPositiveInfinity;
  if (text == "-infinity") kind = model::TemporalKind::kNegativeInfinity;
  int64_t micros = 0;
  if (kind == model::TemporalKind::kFinite) {
    EDDY_ASSIGN_OR_RETURN(ParsedTimestamp parsed, ParseTimestamp(name, text, with_zone));
    if (!parsed.fits) return Value::TypedText(name, std::string(text));
    micros = parsed.micros;
  }
  if (with_zone) return Value::TimestampTz({kind, micros});
  return Value::Timestamp({kind, micros});
}

Result<Value> DecodeTime(std::string_view text) {
  Cursor c{text};
  auto clock = ParseClock(c);
  if (!clock || *clock > kMicrosPerDay || !c.done()) {
    return Malformed("time", text, "expected HH:MM:SS[.ffffff]");
  }
  return Value::Time(*clock);
}

Result<Value> DecodeTimeTz(std::string_view text) {
  Cursor c{text};
  auto clock = ParseClock(c);
  if (!clock || *clock > kMicrosPerDay) return Malformed("timetz", text, "bad time of day");
  auto offset = ParseUtcOffset(c);
  if (!offset || !c.done()) return Malformed("timetz", text, "expected a UTC offset like +05:30");
  return Value::TimeTz({*clock, *offset});
}

// IntervalStyle=postgres: "[N year[s]] [N mon[s]] [N day[s]] [[+|-]HH:MM:SS[.ffffff]]", each
// part signed independently ("-1 days +02:03:00").
Result<Value> DecodeInterval(std::string_view text) {
  // PostgreSQL 17 adds infinite intervals, which the model has no field for.
  if (text == "infinity" || text == "-infinity") return Value::TypedText("interval", std::string(text));
  Cursor c{text};
  int64_t months = 0;
  int64_t days = 0;
  int64_t micros = 0;
  bool any = false;
  while (!c.done()) {
    if (any && !c.Consume(' ')) return Malformed("interval", text, "expected a space");
    int sign = 1;
    if (c.Consume('-')) {
      sign = -1;
    } else {
      c.Consume('+');
    }
    size_t number_start = c.pos;
    auto number = c.Digits(1);
    if (!number) return Malformed("interval", text, "expected a number");
    if (c.peek() == ':') {
      c.pos = number_start;
      auto clock = ParseClock(c);
      if (!clock) return Malformed("interval", text, "bad HH:MM:SS part");
      if (__builtin_add_overflow(micros, sign * *clock, &micros)) {
        return Malformed("interval", text, "time part overflows 64-bit microseconds");
      }
    } else {
      if (!c.Consume(' ')) return Malformed("interval", text, "expected a unit");
      int64_t value = sign * *number;
      if (c.ConsumeWord("years") || c.ConsumeWord("year")) {
        if (__builtin_mul_overflow(value, 12, &value)) {
          return Malformed("interval", text, "years overflow");
        }
        months += value;
      } else if (c.ConsumeWord("mons") || c.ConsumeWord("mon")) {
        months += value;
      } else if (c.ConsumeWord("days") || c.ConsumeWord("day")) {
        days += value;
      } else {
        return Malformed("interval", text, "unknown unit (expected year, mon or day)");
      }
    }
    any = true;
  }
  if (!any) return Malformed("interval", text, "empty");
  if (months < std::numeric_limits<int32_t>::min() || months > std::numeric_limits<int32_t>::max() ||
      days < std::numeric_limits<int32_t>::min() || days > std::numeric_limits<int32_t>::max()) {
    return Malformed("interval", text, "months or days beyond 32 bits");
  }
  return Value::Interval({static_cast<int32_t>(months), static_cast<int32_t>(days), micros});
}

Result<Value> DecodeInteger(std::string_view type_name, std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Malformed(type_name, text, "not an integer");
  }
  return Value::Int64(value);
}

template <typename Float>
Result<Float> ParseFloat(std::string_view type_name, std::string_view text) {
  if (text == "NaN") return std::numeric_limits<Float>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<Float>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<Float>::infinity();
  // from_chars also accepts "inf" and "nan", which the server never prints.
  size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
  if (first >= text.size() || !((text[first] >= '0' && text[first] <= '9') || text[first] == '.')) {
    return Malformed(type_name, text, "not a floating-point number");
  }
  Float value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  // from_chars reports out-of-range for subnormals in some libraries; the server only prints
  // values that are representable, so a result_out_of_range here is an error.
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Malformed(type_name, text, "not a floating-point number");
  }
  return value;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Value> DecodeBytea(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return Malformed("bytea", text, "expected \\x followed by hex digit pairs (bytea_output=hex)");
  }
  std::string bytes;
  bytes.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    int high = HexDigit(text[i]);
    int low = HexDigit(text[i + 1]);
    if (high < 0 || low < 0) return Malformed("bytea", text, "non-hex digit");
    bytes.push_back(static_cast<char>((high << 4) | low));
  }
  return Value::Bytes(std::move(bytes));
}

Result<Value> DecodeBits(std::string_view text) {
  for (char c : text) {
    if (c != '0' && c != '1') return Malformed("bit", text, "expected only 0 and 1");
  }
  return Value::Bits(std::string(text));
}

Result<Value> DecodeResolved(const ResolvedType& type, std::string_view text,
                             const TypeRegistry& registry, int depth);

// Array text grammar (array_out): optional "[lo:hi][lo:hi]=" dimensions, then nested
// "{...}" with elements separated by the element type's delimiter. An element is NULL
// (unquoted, any case), a quoted string with backslash escapes, or an unquoted run (where a
// backslash also escapes).
class ArrayParser {
 public:
  ArrayParser(std::string_view text, const ResolvedType& type, const TypeRegistry& registry,
              int depth)
      : text_(text),
        type_(type),
        registry_(registry),
        depth_(depth),
        element_type_(ResolveType(type.element_oid, registry)) {}

  Result<Value> Parse() {
    if (!text_.empty() && text_[0] == '[') {
      size_t equals = text_.find('=');
      if (equals == std::string_view::npos) return Error("dimension decoration without '='");
      pos_ = equals + 1;
    }
    EDDY_ASSIGN_OR_RETURN(Value value, ParseLevel(0));
    if (pos_ != text_.size()) return Error("unexpected text after the closing brace");
    return value;
  }

 private:
  Status Error(std::string_view why) const {
    return Malformed(type_.name, text_, std::string(why) + " at byte " + std::to_string(pos_));
  }

  Result<Value> ParseLevel(int level) {
    if (level > 6) return Error("more than 6 dimensions");
    if (pos_ >= text_.size() || text_[pos_] != '{') return Error("expected '{'");
    ++pos_;
    std::vector<Value> elements;
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Value::Array(std::move(elements));
    }
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated array");
      if (text_[pos_] == '{') {
        EDDY_ASSIGN_OR_RETURN(Value nested, ParseLevel(level + 1));
        elements.push_back(std::move(nested));
      } else {
        EDDY_ASSIGN_OR_RETURN(Value element, ParseElement());
        elements.push_back(std::move(element));
      }
      if (pos_ >= text_.size()) return Error("unterminated array");
      char c = text_[pos_++];
      if (c == '}') break;
      if (c != type_.delimiter) return Error("expected a delimiter or '}'");
    }
    return Value::Array(std::move(elements));
  }

  Result<Value> ParseElement() {
    std::string element;
    bool quoted = false;
    if (text_[pos_] == '"') {
      quoted = true;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return Error("unterminated quoted element");
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ >= text_.size()) return Error("dangling backslash");
          c = text_[pos_++];
        }
        element.push_back(c);
      }
    } else {
      while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == type_.delimiter || c == '}') break;
        if (c == '{' || c == '"') return Error("unexpected character in unquoted element");
        ++pos_;
        if (c == '\\') {
          if (pos_ >= text_.size()) return Error("dangling backslash");
          c = text_[pos_++];
        }
        element.push_back(c);
      }
      if (element.empty()) return Error("empty unquoted element");
      if (element.size() == 4 && (element[0] | 0x20) == 'n' && (element[1] | 0x20) == 'u' &&
          (element[2] | 0x20) == 'l' && (element[3] | 0x20) == 'l') {
        return Value::Null();
      }
    }
    (void)quoted;
    return DecodeResolved(element_type_, element, registry_, depth_ + 1);
  }

  std::string_view text_;
  const ResolvedType& type_;
  const TypeRegistry& registry_;
  int depth_;
  ResolvedType element_type_;
  size_t pos_ = 0;
};

Result<Value> DecodeResolved(const ResolvedType& type, std::string_view text,
                             const TypeRegistry& registry, int depth) {
  if (depth > 8) return Malformed(type.name, text, "types nest too deeply");
  switch (type.value_type) {
    case ValueType::kBool:
      if (text == "t") return Value::Bool(true);
      if (text == "f") return Value::Bool(false);
      return Malformed(type.name, text, "expected t or f");
    case ValueType::kInt64:
      return DecodeInteger(type.name, text);
    case ValueType::kFloat32: {
      EDDY_ASSIGN_OR_RETURN(float value, ParseFloat<float>(type.name, text));
      return Value::Float32(value);
    }
    case ValueType::kFloat64: {
      EDDY_ASSIGN_OR_RETURN(double value, ParseFloat<double>(type.name, text));
      return Value::Float64(value);
    }
    case ValueType::kDecimal:
      if (!model::DecimalValue::IsWellFormed(text)) {
        return Malformed(type.name, text, "not a decimal number, NaN or [-]Infinity");
      }
      return Value::Decimal(std::string(text));
    case ValueType::kText:
      return Value::Text(std::string(text));
    case ValueType::kBytes:
      return DecodeBytea(text);
    case ValueType::kDate:
      return DecodeDate(text);
    case ValueType::kTime:
      return DecodeTime(text);
    case ValueType::kTimeTz:
      return DecodeTimeTz(text);
    case ValueType::kTimestamp:
      return DecodeTimestamp(text, false);
    case ValueType::kTimestampTz:
      return DecodeTimestamp(text, true);
    case ValueType::kInterval:
      return DecodeInterval(text);
    case ValueType::kUuid: {
      Result<model::UuidValue> uuid = model::UuidValue::Parse(text);
      if (!uuid.ok()) return Malformed(type.name, text, "not a UUID");
      return Value::Uuid(*uuid);
    }
    case ValueType::kJson:
      return Value::Json(std::string(text));
    case ValueType::kEnum:
      return Value::Enum(std::string(text));
    case ValueType::kBits:
      return DecodeBits(text);
    case ValueType::kArray:
      return ArrayParser(text, type, registry, depth).Parse();
    default:
      return Value::TypedText(type.name, std::string(text));
  }
}

ResolvedType FromBuiltin(const BuiltinType& builtin, const TypeRegistry& registry) {
  ResolvedType resolved;
  resolved.oid = builtin.oid;
  resolved.name = builtin.name;
  resolved.value_type = builtin.type;
  if (builtin.type == ValueType::kArray) {
    resolved.element_oid = builtin.element_oid;
    const BuiltinType* element = FindBuiltin(builtin.element_oid);
    resolved.element_type = element != nullptr ? element->type : ValueType::kTypedText;
    resolved.delimiter = element != nullptr ? element->delimiter : ',';
  }
  (void)registry;
  return resolved;
}

ResolvedType ResolveDepth(uint32_t type_oid, const TypeRegistry& registry, int depth) {
  if (const BuiltinType* builtin = FindBuiltin(type_oid)) return FromBuiltin(*builtin, registry);
  ResolvedType resolved;
  resolved.oid = type_oid;
  const CatalogType* entry = registry.Find(type_oid);
  if (entry == nullptr || depth > 8) {
    resolved.name = "oid:" + std::to_string(type_oid);
    resolved.value_type = ValueType::kTypedText;
    return resolved;
  }
  std::string qualified =
      entry->schema.empty() || entry->schema == "pg_catalog" ? entry->name
                                                             : entry->schema + "." + entry->name;
  resolved.name = qualified;
  if (entry->is_array && entry->element_oid != 0) {
    resolved.value_type = ValueType::kArray;
    resolved.element_oid = entry->element_oid;
    ResolvedType element = ResolveDepth(entry->element_oid, registry, depth + 1);
    resolved.element_type = element.value_type;
    resolved.delimiter = entry->delimiter;
    return resolved;
  }
  switch (entry->kind) {
    case 'e':
      resolved.value_type = ValueType::kEnum;
      return resolved;
    case 'd': {
      // A domain decodes as its base type; the name says which domain it was.
      ResolvedType base = ResolveDepth(entry->base_oid, registry, depth + 1);
      base.oid = type_oid;
      if (base.value_type == ValueType::kTypedText) base.name = qualified;
      return base;
    }
    case 'x': {
      // Known only from a Type message naming a built-in (a domain over it).
      if (const BuiltinType* builtin = FindBuiltinByName(entry->name)) {
        ResolvedType base = FromBuiltin(*builtin, registry);
        base.oid = type_oid;
        return base;
      }
      resolved.value_type = ValueType::kTypedText;
      return resolved;
    }
    default:
      resolved.value_type = ValueType::kTypedText;
      return resolved;
  }
}

}  // namespace

void TypeRegistry::Add(CatalogType type) {
  uint32_t key = type.oid;
  types_[key] = std::move(type);
}

void TypeRegistry::AddFromTypeMessage(uint32_t type_oid, std::string_view schema,
                                      std::string_view name) {
  auto it = types_.find(type_oid);
  if (it != types_.end() && it->second.kind != 'x') return;  // catalog facts win
  CatalogType type;
  type.oid = type_oid;
  type.schema = std::string(schema);
  type.name = std::string(name);
  // 'x': only a Type message is known. If it names a pg_catalog type, the OID is a domain
  // over that type (pgoutput sends a domain's base type name).
  type.kind = 'x';
  types_[type_oid] = std::move(type);
}

const CatalogType* TypeRegistry::Find(uint32_t type_oid) const {
  auto it = types_.find(type_oid);
  return it == types_.end() ? nullptr : &it->second;
}

bool TypeRegistry::Knows(uint32_t type_oid) const {
  if (FindBuiltin(type_oid) != nullptr) return true;
  const CatalogType* entry = Find(type_oid);
  return entry != nullptr && entry->kind != 'x';
}

ResolvedType ResolveType(uint32_t type_oid, const TypeRegistry& registry) {
  return ResolveDepth(type_oid, registry, 0);
}

model::Column DescribeColumn(std::string_view name, uint32_t type_oid, int32_t type_modifier,
                             const TypeRegistry& registry) {
  ResolvedType resolved = ResolveType(type_oid, registry);
  model::Column column;
  column.name = std::string(name);
  column.source_type = resolved.name;
  column.type = resolved.value_type;
  column.element_type = resolved.element_type;
  if (type_modifier >= 0) {
    switch (type_oid) {
      case oid::kVarchar:
      case oid::kBpchar:
        if (type_modifier >= 4) column.length = type_modifier - 4;
        break;
      case oid::kBit:
      case oid::kVarbit:
        column.length = type_modifier;
        break;
      case oid::kNumeric:
        if (type_modifier >= 4) {
          int32_t packed = type_modifier - 4;
          column.precision = (packed >> 16) & 0xffff;
          // The scale is a signed 11-bit field since PostgreSQL 15.
          int32_t scale = packed & 0x7ff;
          if (scale & 0x400) scale -= 0x800;
          column.scale = scale;
        }
        break;
      case oid::kTime:
      case oid::kTimeTz:
      case oid::kTimestamp:
      case oid::kTimestampTz:
        column.precision = type_modifier;
        break;
      case oid::kInterval:
        // The low 16 bits hold the precision (0xFFFF = unspecified).
        if ((type_modifier & 0xffff) != 0xffff) column.precision = type_modifier & 0xffff;
        break;
      default:
        break;
    }
  }
  return column;
}

Result<Value> DecodeTextValue(uint32_t type_oid, std::string_view text,
                              const TypeRegistry& registry) {
  return DecodeResolved(ResolveType(type_oid, registry), text, registry, 0);
}

std::optional<int64_t> ParseFiniteTimestampMicros(std::string_view text, bool with_zone) {
  // The common shape of a timestamp first, without the cursor below (the same micros for it).
  if (!with_zone) {
    if (std::optional<int64_t> micros = model::ParseDatetimeTextMicros(text)) return micros;
  }
  Result<ParsedTimestamp> parsed =
      ParseTimestamp(with_zone ? "timestamptz" : "timestamp", text, with_zone);
  if (!parsed.ok() || !parsed->fits) return std::nullopt;
  return parsed->micros;
}

Result<Value> DecodeTextValueAs(const ResolvedType& type, std::string_view text,
                                const TypeRegistry& registry) {
  return DecodeResolved(type, text, registry, 0);
}

Result<Value> DecodeTextArray(std::string_view text, const ResolvedType& array_type,
                              const TypeRegistry& registry) {
  return ArrayParser(text, array_type, registry, 0).Parse();
}

}  // namespace eddy::source::postgres
