// Writes the Parquet files that tests/e2e/parquet_readers.mjs reads back with three independent
// readers (DuckDB, hyparquet, parquet-wasm), and expected.json describing what each file must
// contain: per column its kind, width, decimal scale and field id; per row the canonical value
// of every cell (null, or a string: integers in decimal, floats as the hex of their float64
// bits, decimals as the unscaled integer, dates as days, times and timestamps as microseconds,
// UUIDs in canonical text, bytes in hex, strings as themselves).
//
//   parquet_matrix_writer OUTPUT_DIR
//
// The rows are the type matrices of the capture tests (src/source/postgres and mysql
// capture_integration_test.cc) as eddy's model holds them, a column NULL in every row, a file of
// 10,000 rows in several row groups and pages, and change events with the CDC columns, written
// with each compression.
#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "format/json.h"
#include "format/renderers.h"
#include "format/value_text.h"
#include "io/file_system.h"
#include "parquet/writer.h"

namespace {

using eddy::model::Column;
using eddy::model::DateValue;
using eddy::model::Row;
using eddy::model::TableSchema;
using eddy::model::TemporalKind;
using eddy::model::Value;
using eddy::model::ValueType;
namespace parquet = eddy::parquet;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

Column C(std::string name, ValueType type, std::string source_type, int precision = -1,
         int scale = -1, bool nullable = true) {
  Column column;
  column.name = std::move(name);
  column.type = type;
  column.source_type = std::move(source_type);
  if (precision >= 0) column.precision = precision;
  if (scale >= 0) column.scale = scale;
  column.nullable = nullable;
  return column;
}

int64_t Micros(int64_t year, int month, int day, int hour = 0, int minute = 0, int second = 0,
               int64_t micros = 0) {
  return eddy::model::DaysFromCivil({year, month, day}) * kMicrosPerDay +
         ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + micros;
}
Value Ts(int64_t micros) { return Value::Timestamp({TemporalKind::kFinite, micros}); }
Value Tstz(int64_t micros) { return Value::TimestampTz({TemporalKind::kFinite, micros}); }
Value Date(int64_t year, int month, int day) {
  return Value::Date(DateValue::FromCivil(year, month, day));
}
Value Time(int64_t hours, int64_t minutes, int64_t seconds, int64_t micros, bool negative = false) {
  const int64_t total = ((hours * 60 + minutes) * 60 + seconds) * kMicrosPerSecond + micros;
  return Value::Time(negative ? -total : total);
}
Value Uuid(const char* text) { return Value::Uuid(*eddy::model::UuidValue::Parse(text)); }
Value Bits(size_t width, char bit) { return Value::Bits(std::string(width, bit)); }

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The unscaled integer of a decimal text at `scale`, as decimal text ("-1250" for -12.5 at 2).
std::string Unscaled(const std::string& text, int scale) {
  std::string digits;
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  int fraction = -1;
  for (; i < text.size(); ++i) {
    if (text[i] == '.') {
      fraction = 0;
      continue;
    }
    if (fraction >= 0) {
      if (fraction >= scale) continue;  // trailing zeros beyond the scale
      ++fraction;
    }
    digits.push_back(text[i]);
  }
  for (int pad = std::max(fraction, 0); pad < scale; ++pad) digits.push_back('0');
  const size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  return (negative && digits != "0" ? "-" : "") + digits;
}

// The canonical form of `value` in a column written as `layout` (see the file comment).
std::optional<std::string> Canonical(const Column& column, const parquet::ColumnLayout& layout,
                                     const Value& value) {
  if (value.is_null() || value.is_unavailable()) return std::nullopt;
  const std::string& logical = layout.logical;
  switch (value.type()) {
    case ValueType::kBool:
      return value.Get<bool>() ? "true" : "false";
    case ValueType::kInt64:
      return std::to_string(value.Get<int64_t>());
    case ValueType::kUint64:
      return std::to_string(value.Get<uint64_t>());
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      const double v =
          value.type() == ValueType::kFloat32 ? value.Get<float>() : value.Get<double>();
      if (std::isnan(v)) return "nan";
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%016" PRIx64, std::bit_cast<uint64_t>(v));
      return buffer;
    }
    case ValueType::kDecimal: {
      const auto& decimal = value.Get<eddy::model::DecimalValue>();
      if (logical.rfind("DECIMAL", 0) != 0) return decimal.text;
      if (decimal.IsSpecial()) return std::nullopt;
      return Unscaled(decimal.text, column.scale.value_or(0));
    }
    case ValueType::kDate: {
      const auto& date = value.Get<DateValue>();
      if (date.kind == TemporalKind::kZero) return std::nullopt;
      if (date.kind == TemporalKind::kPositiveInfinity) return "2147483647";
      if (date.kind == TemporalKind::kNegativeInfinity) return "-2147483647";
      return std::to_string(date.days);
    }
    case ValueType::kTime:
      if (logical == "STRING")
        return eddy::format::FormatTime(value.Get<eddy::model::TimeValue>().micros);
      return std::to_string(value.Get<eddy::model::TimeValue>().micros);
    case ValueType::kTimestamp:
    case ValueType::kTimestampTz: {
      const auto* ts = value.TryGet<eddy::model::TimestampValue>();
      const auto* tstz = value.TryGet<eddy::model::TimestampTzValue>();
      const TemporalKind kind = ts ? ts->kind : tstz->kind;
      const int64_t micros = ts ? ts->micros : tstz->micros;
      if (kind == TemporalKind::kZero) return std::nullopt;
      if (kind == TemporalKind::kPositiveInfinity) return "9223372036854775807";
      if (kind == TemporalKind::kNegativeInfinity) return "-9223372036854775807";
      return std::to_string(micros);
    }
    case ValueType::kUuid:
      return value.Get<eddy::model::UuidValue>().ToString();
    case ValueType::kBytes:
      return Hex(value.Get<eddy::model::BytesValue>().data);
    case ValueType::kText:
      return value.Get<std::string>();
    case ValueType::kJson:
      return value.Get<eddy::model::JsonValue>().text;
    case ValueType::kEnum:
      return value.Get<eddy::model::EnumValue>().label;
    case ValueType::kBits:
      return value.Get<eddy::model::BitsValue>().bits;
    case ValueType::kTypedText:
      return value.Get<eddy::model::TypedTextValue>().text;
    case ValueType::kInterval:
      return eddy::format::FormatInterval(value.Get<eddy::model::IntervalValue>());
    case ValueType::kTimeTz:
      return eddy::format::FormatTimeTz(value.Get<eddy::model::TimeTzValue>());
    case ValueType::kArray: {
      eddy::format::JsonWriter writer;
      eddy::format::WriteNativeValue(writer, value);
      return writer.Take();
    }
    default:
      return std::nullopt;
  }
}

struct FileSpec {
  std::string name;
  TableSchema schema;
  parquet::WriterOptions options;
  std::vector<Row> rows;                         // AppendRow
  std::vector<eddy::model::ChangeEvent> events;  // AppendEvent (cdc_columns)
};

// PostgreSQL tables have a schema part ("public"); MySQL/MariaDB tables do not.
TableSchema Schema(std::string name, std::vector<Column> columns,
                   std::string pg_schema = "public") {
  TableSchema schema;
  schema.table = {"matrix", std::move(pg_schema), std::move(name)};
  schema.columns = std::move(columns);
  return schema;
}

Row MakeRow(const TableSchema& schema, std::vector<Value> values) {
  Row row;
  for (size_t i = 0; i < values.size(); ++i) row.push_back({schema.columns[i].name, values[i]});
  return row;  // columns beyond `values` are missing from the row: written as NULL
}

FileSpec PostgresMatrix() {
  FileSpec spec;
  spec.schema = Schema("pg_types", {C("id", ValueType::kInt64, "int4", -1, -1, false),
                                    C("b", ValueType::kBool, "bool"),
                                    C("i2", ValueType::kInt64, "int2"),
                                    C("i4", ValueType::kInt64, "int4"),
                                    C("i8", ValueType::kInt64, "int8"),
                                    C("n", ValueType::kDecimal, "numeric"),
                                    C("nn", ValueType::kDecimal, "numeric", 10, 2),
                                    C("f4", ValueType::kFloat32, "float4"),
                                    C("f8", ValueType::kFloat64, "float8"),
                                    C("t", ValueType::kText, "text"),
                                    C("vc", ValueType::kText, "varchar"),
                                    C("c", ValueType::kText, "bpchar"),
                                    C("by", ValueType::kBytes, "bytea"),
                                    C("d", ValueType::kDate, "date"),
                                    C("tm", ValueType::kTime, "time"),
                                    C("ttz", ValueType::kTimeTz, "timetz"),
                                    C("ts", ValueType::kTimestamp, "timestamp"),
                                    C("tstz", ValueType::kTimestampTz, "timestamptz"),
                                    C("iv", ValueType::kInterval, "interval"),
                                    C("u", ValueType::kUuid, "uuid"),
                                    C("j", ValueType::kJson, "json"),
                                    C("jb", ValueType::kJson, "jsonb"),
                                    C("ai", ValueType::kArray, "_int4"),
                                    C("at", ValueType::kArray, "_text"),
                                    C("e", ValueType::kEnum, "mood"),
                                    C("ea", ValueType::kArray, "_mood"),
                                    C("dom", ValueType::kInt64, "int4"),
                                    C("inet_v", ValueType::kTypedText, "inet"),
                                    C("cidr_v", ValueType::kTypedText, "cidr"),
                                    C("mac", ValueType::kTypedText, "macaddr"),
                                    C("bits", ValueType::kBits, "bit"),
                                    C("vbits", ValueType::kBits, "varbit"),
                                    C("money_v", ValueType::kTypedText, "money"),
                                    C("x", ValueType::kTypedText, "xml"),
                                    C("pt", ValueType::kTypedText, "point"),
                                    C("bx", ValueType::kTypedText, "box"),
                                    C("circ", ValueType::kTypedText, "circle"),
                                    C("rng", ValueType::kTypedText, "int4range"),
                                    C("tsr", ValueType::kTypedText, "tstzrange"),
                                    C("oid_v", ValueType::kInt64, "oid"),
                                    C("never_set", ValueType::kDecimal, "numeric", 12, 3)});
  const TableSchema& s = spec.schema;
  auto typed = [](const char* type, const char* text) { return Value::TypedText(type, text); };
  auto enums = [](std::vector<const char*> labels) {
    std::vector<Value> out;
    for (const char* label : labels) out.push_back(Value::Enum(label));
    return Value::Array(std::move(out));
  };
  spec.rows.push_back(
      MakeRow(s, {Value::Int64(1),
                  Value::Bool(true),
                  Value::Int64(-32768),
                  Value::Int64(INT32_MIN),
                  Value::Int64(INT64_MIN),
                  Value::Decimal("NaN"),
                  Value::Decimal("12345678.91"),
                  Value::Float32(std::numeric_limits<float>::quiet_NaN()),
                  Value::Float64(-std::numeric_limits<double>::infinity()),
                  Value::Text("tab\there \"q\" \\ nl\n emoji \xF0\x9F\x98\x80"),
                  Value::Text("varchar"),
                  Value::Text("ab "),
                  Value::Bytes(std::string("\x00\xff", 2)),
                  Date(-4713, 11, 24),
                  Time(24, 0, 0, 0),
                  Value::TimeTz({86'399'999'999, -(15 * 3600 + 59 * 60)}),
                  Ts(Micros(9999, 12, 31, 23, 59, 59, 999'999)),
                  Tstz(Micros(-43, 3, 15, 12)),
                  Value::Interval({-178'000'000 * 12, -1, 1}),
                  Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                  Value::Json("{\"a\": [1, 2.50]}"),
                  Value::Json("{\"a\": 1, \"b\": null}"),
                  Value::Array({Value::Array({Value::Int64(1), Value::Null()}),
                                Value::Array({Value::Int64(3), Value::Int64(4)})}),
                  Value::Array({Value::Text("a,b"), Value::Text("say \"hi\""), Value::Null(),
                                Value::Text("NULL"), Value::Text("")}),
                  Value::Enum("very happy"),
                  enums({"sad", "very happy"}),
                  Value::Int64(5),
                  typed("inet", "192.168.0.1/24"),
                  typed("cidr", "10.0.0.0/8"),
                  typed("macaddr", "08:00:2b:01:02:03"),
                  Value::Bits("1010"),
                  Value::Bits("1"),
                  typed("money", "$1,234.56"),
                  typed("xml", "<a>b</a>"),
                  typed("point", "(1,2)"),
                  typed("box", "(1,1),(0,0)"),
                  typed("circle", "<(1,2),3>"),
                  typed("int4range", "[1,5)"),
                  typed("tstzrange", "[\"2024-01-01 00:00:00+00\",infinity)"),
                  Value::Int64(4294967295)}));
  spec.rows.push_back(
      MakeRow(s, {Value::Int64(2),
                  Value::Bool(false),
                  Value::Int64(32767),
                  Value::Int64(INT32_MAX),
                  Value::Int64(INT64_MAX),
                  Value::Decimal(std::string(500, '9') + "." + std::string(500, '1')),
                  Value::Decimal("-0.01"),
                  Value::Float32(std::numeric_limits<float>::infinity()),
                  Value::Float64(1.7976931348623157e308),
                  Value::Text(""),
                  Value::Null(),
                  Value::Null(),
                  Value::Bytes(""),
                  Value::Date({TemporalKind::kPositiveInfinity, 0}),
                  Time(0, 0, 0, 0),
                  Value::TimeTz({0, 14 * 3600}),
                  Value::Timestamp({TemporalKind::kNegativeInfinity, 0}),
                  Value::TimestampTz({TemporalKind::kPositiveInfinity, 0}),
                  Value::Interval({0, 0, 0}),
                  Uuid("00000000-0000-0000-0000-000000000000"),
                  Value::Json("null"),
                  Value::Json("[]"),
                  Value::Array({}),
                  Value::Array({}),
                  Value::Enum("sad"),
                  Value::Array({}),
                  Value::Int64(1),
                  typed("inet", "::1"),
                  typed("cidr", "::/0"),
                  typed("macaddr", "ff:ff:ff:ff:ff:ff"),
                  Value::Bits("0000"),
                  Value::Bits(""),
                  typed("money", "-$1.00"),
                  typed("xml", "<b/>"),
                  typed("point", "(-1.5,2e-10)"),
                  typed("box", "(1,1),(1,1)"),
                  typed("circle", "<(0,0),0>"),
                  typed("int4range", "empty"),
                  typed("tstzrange", "empty"),
                  Value::Int64(0)}));
  spec.rows.push_back(MakeRow(s, {Value::Int64(3),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Decimal("-Infinity"),
                                  Value::Null(),
                                  Value::Float32(-0.0f),
                                  Value::Float64(5e-324),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Date(2024, 2, 29),
                                  Time(13, 45, 1, 500'000),
                                  Value::Null(),
                                  Ts(0),
                                  Tstz(0),
                                  Value::Interval({14, 3, 14'706'789'000}),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Array({Value::Int64(7), Value::Int64(8)})}));
  // Unchanged TOAST: written as NULL.
  spec.rows.push_back(MakeRow(s, {Value::Int64(4), Value::Bool(true)}));
  spec.rows.back().push_back({"t", Value::Unavailable()});
  return spec;
}

FileSpec MysqlMatrix() {
  FileSpec spec;
  std::vector<Column> columns = {C("id", ValueType::kInt64, "int", -1, -1, false),
                                 C("ti", ValueType::kInt64, "tinyint"),
                                 C("tiu", ValueType::kUint64, "tinyint unsigned"),
                                 C("si", ValueType::kInt64, "smallint"),
                                 C("siu", ValueType::kUint64, "smallint unsigned"),
                                 C("mi", ValueType::kInt64, "mediumint"),
                                 C("miu", ValueType::kUint64, "mediumint unsigned"),
                                 C("i", ValueType::kInt64, "int"),
                                 C("iu", ValueType::kUint64, "int unsigned"),
                                 C("bi", ValueType::kInt64, "bigint"),
                                 C("biu", ValueType::kUint64, "bigint unsigned"),
                                 C("d1", ValueType::kDecimal, "decimal(1,0)", 1, 0),
                                 C("d2", ValueType::kDecimal, "decimal(10,2)", 10, 2),
                                 C("d3", ValueType::kDecimal, "decimal(65,30)", 65, 30),
                                 C("d4", ValueType::kDecimal, "decimal(18,9) unsigned", 18, 9),
                                 C("d5", ValueType::kDecimal, "decimal(5,5)", 5, 5),
                                 C("d6", ValueType::kDecimal, "decimal(38,10)", 38, 10),
                                 C("f", ValueType::kFloat32, "float"),
                                 C("db", ValueType::kFloat64, "double"),
                                 C("y", ValueType::kInt64, "year"),
                                 C("dt", ValueType::kDate, "date")};
  for (int fsp = 0; fsp <= 6; ++fsp) {
    columns.push_back(C("t" + std::to_string(fsp), ValueType::kTime,
                        fsp ? "time(" + std::to_string(fsp) + ")" : "time"));
  }
  for (const char* name : {"dt0", "dt3", "dt6"}) {
    columns.push_back(C(name, ValueType::kTimestamp, "datetime"));
  }
  for (const char* name : {"ts0", "ts2", "ts6"}) {
    columns.push_back(C(name, ValueType::kTimestampTz, "timestamp"));
  }
  for (const char* name : {"b1", "b10", "b64"}) columns.push_back(C(name, ValueType::kBits, "bit"));
  for (const char* name : {"c", "c255", "vc", "l1", "u2", "tx", "ltx"}) {
    columns.push_back(C(name, ValueType::kText, "varchar"));
  }
  for (const char* name : {"bn", "vb", "bl", "mb"}) {
    columns.push_back(C(name, ValueType::kBytes, "blob"));
  }
  columns.push_back(C("e", ValueType::kEnum, "enum"));
  columns.push_back(C("s", ValueType::kTypedText, "set"));
  columns.push_back(C("j", ValueType::kJson, "json"));
  columns.push_back(C("g", ValueType::kBytes, "geometry"));
  columns.push_back(C("always_null", ValueType::kDecimal, "decimal(12,3)", 12, 3));
  spec.schema = Schema("mysql_types", std::move(columns), "");
  const TableSchema& s = spec.schema;
  auto repeat = [](std::string_view unit, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out.append(unit);
    return out;
  };
  const std::string point =
      std::string("\x00\x00\x00\x00\x01\x01\x00\x00\x00", 9) + std::string(16, '\0');
  spec.rows.push_back(MakeRow(
      s, {Value::Int64(1),
          Value::Int64(-128),
          Value::Uint64(0),
          Value::Int64(-32768),
          Value::Uint64(0),
          Value::Int64(-8388608),
          Value::Uint64(0),
          Value::Int64(INT32_MIN),
          Value::Uint64(0),
          Value::Int64(INT64_MIN),
          Value::Uint64(0),
          Value::Decimal("-9"),
          Value::Decimal("-99999999.99"),
          Value::Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"),
          Value::Decimal("0.000000000"),
          Value::Decimal("-0.99999"),
          Value::Decimal("-9999999999999999999999999999.9999999999"),
          Value::Float32(-3.40282e38f),
          Value::Float64(-1.7976931348623157e308),
          Value::Int64(1901),
          Date(1000, 1, 1),
          Time(838, 59, 59, 0, true),
          Time(838, 59, 59, 900'000, true),
          Time(0, 0, 0, 10'000, true),
          Time(0, 0, 1, 1'000, true),
          Time(12, 34, 56, 789'100, true),
          Time(0, 0, 0, 10, true),
          Time(838, 59, 59, 1, true),
          Ts(Micros(1000, 1, 1)),
          Ts(Micros(1000, 1, 1, 0, 0, 0, 1000)),
          Ts(Micros(1000, 1, 1, 0, 0, 0, 1)),
          Tstz(Micros(1970, 1, 1, 0, 0, 1)),
          Tstz(Micros(1970, 1, 1, 0, 0, 1, 10'000)),
          Tstz(Micros(1970, 1, 1, 0, 0, 1, 1)),
          Bits(1, '0'),
          Bits(10, '0'),
          Bits(64, '0'),
          Value::Text(""),
          Value::Text(""),
          Value::Text(""),
          Value::Text(""),
          Value::Text(""),
          Value::Text(""),
          Value::Text(""),
          Value::Bytes(std::string(4, '\0')),
          Value::Bytes(""),
          Value::Bytes(""),
          Value::Bytes(""),
          Value::Enum("small"),
          Value::TypedText("set", ""),
          Value::Json("{}"),
          Value::Bytes(point)}));
  spec.rows.push_back(MakeRow(
      s, {Value::Int64(2),
          Value::Int64(127),
          Value::Uint64(255),
          Value::Int64(32767),
          Value::Uint64(65535),
          Value::Int64(8388607),
          Value::Uint64(16777215),
          Value::Int64(INT32_MAX),
          Value::Uint64(4294967295u),
          Value::Int64(INT64_MAX),
          Value::Uint64(UINT64_MAX),
          Value::Decimal("9"),
          Value::Decimal("99999999.99"),
          Value::Decimal("99999999999999999999999999999999999.999999999999999999999999999999"),
          Value::Decimal("999999999.999999999"),
          Value::Decimal("0.99999"),
          Value::Decimal("9999999999999999999999999999.9999999999"),
          Value::Float32(3.40282e38f),
          Value::Float64(1.7976931348623157e308),
          Value::Int64(2155),
          Date(9999, 12, 31),
          Time(838, 59, 59, 0),
          Time(838, 59, 59, 900'000),
          Time(838, 59, 59, 990'000),
          Time(838, 59, 59, 999'000),
          Time(838, 59, 59, 999'900),
          Time(838, 59, 59, 999'990),
          Time(838, 59, 59, 999'999),
          Ts(Micros(9999, 12, 31, 23, 59, 59)),
          Ts(Micros(9999, 12, 31, 23, 59, 59, 999'000)),
          Ts(Micros(9999, 12, 31, 23, 59, 59, 999'999)),
          Tstz(Micros(2038, 1, 19, 3, 14, 7)),
          Tstz(Micros(2038, 1, 19, 3, 14, 7, 990'000)),
          Tstz(Micros(2038, 1, 19, 3, 14, 7, 999'999)),
          Bits(1, '1'),
          Bits(10, '1'),
          Bits(64, '1'),
          Value::Text("abcdefghij"),
          Value::Text(repeat("\xF0\x9F\x98\x80", 255)),
          Value::Text(repeat("\xC3\xA9", 300)),
          Value::Text("caf\xC3\xA9"),
          Value::Text("caf\xC3\xA9"),
          Value::Text("\xF0\x9F\x8E\x89 text"),
          Value::Text(std::string(70000, 'x')),
          Value::Bytes(std::string("\x00\xFF\x01\x02", 4)),
          Value::Bytes(std::string("\x00\x01\x02\xFF", 4)),
          Value::Bytes(std::string("\xDE\xAD\xBE\xEF\x00", 5)),
          Value::Bytes(std::string(70000, '\x5A')),
          Value::Enum("large"),
          Value::TypedText("set", "a,b,c,d"),
          Value::Json("{\"k\": [1, 2.5, \"s\", null, true], \"n\": {\"x\": -1}}"),
          Value::Bytes(std::string("\x00\x00\x00\x00\x01\x03\x00\x00\x00\x01\x00\x00\x00\x05", 14) +
                       std::string(80, '\x24'))}));
  spec.rows.push_back(MakeRow(s, {Value::Int64(3),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Null(),
                                  Value::Decimal("0"),
                                  Value::Decimal("0.01"),
                                  Value::Decimal("-0.000000000000000000000000000001"),
                                  Value::Decimal("0.000000001"),
                                  Value::Decimal("0.00001"),
                                  Value::Decimal("0.0000000001"),
                                  Value::Float32(0),
                                  Value::Float64(0),
                                  Value::Int64(0),
                                  Value::Date({TemporalKind::kZero, 0}),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Time(0, 0, 0, 0),
                                  Value::Timestamp({TemporalKind::kZero, 0}),
                                  Value::Timestamp({TemporalKind::kZero, 0}),
                                  Value::Null(),
                                  Value::TimestampTz({TemporalKind::kZero, 0})}));
  return spec;
}

// 10,000 rows in several row groups and pages, with nulls in runs and scattered.
FileSpec ManyRows() {
  FileSpec spec;
  spec.schema = Schema(
      "many", {C("id", ValueType::kInt64, "int8", -1, -1, false), C("v", ValueType::kInt64, "int4"),
               C("s", ValueType::kText, "text"), C("amount", ValueType::kDecimal, "numeric", 18, 4),
               C("at", ValueType::kTimestampTz, "timestamptz"), C("flag", ValueType::kBool, "bool"),
               C("f", ValueType::kFloat64, "float8"), C("u", ValueType::kUuid, "uuid"),
               C("always_null", ValueType::kText, "text")});
  spec.options.page_rows = 300;
  spec.options.page_bytes = 16 << 10;
  spec.options.row_group_rows = 2500;
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int64_t id = 0; id < 10000; ++id) {
    const bool null_run = (id / 700) % 3 == 1;
    std::array<uint8_t, 16> uuid{};
    for (auto& byte : uuid) byte = static_cast<uint8_t>(next());
    Row row = MakeRow(
        spec.schema,
        {Value::Int64(id),
         null_run || next() % 5 == 0
             ? Value::Null()
             : Value::Int64(static_cast<int64_t>(next() % 2000000) - 1000000),
         next() % 7 == 0 ? Value::Null() : Value::Text("s-" + std::to_string(next() % 100000)),
         Value::Decimal(std::to_string(static_cast<int64_t>(next() % 2000000) - 1000000) + "." +
                        std::to_string(1000 + next() % 9000)),
         Tstz(Micros(2026, 1, 1) + static_cast<int64_t>(next() % 1000000000) * 1000),
         next() % 3 == 0 ? Value::Null() : Value::Bool(next() % 2 == 0),
         Value::Float64(static_cast<double>(static_cast<int64_t>(next() % 1000001) - 500000) / 8.0),
         Value::Uuid(eddy::model::UuidValue{uuid}), Value::Null()});
    spec.rows.push_back(std::move(row));
  }
  return spec;
}

FileSpec ChangeEvents() {
  FileSpec spec;
  spec.schema =
      Schema("orders", {C("id", ValueType::kInt64, "int8", -1, -1, false),
                        C("note", ValueType::kText, "text"), C("u", ValueType::kUuid, "uuid")});
  spec.options.cdc_columns = true;
  spec.options.uuid_as_string = true;
  spec.options.compression = parquet::Compression::kZstd;
  spec.options.field_ids = {1, 2, 3, 1001, 1002, 1003, 1004};
  spec.options.key_value_metadata = {{"iceberg.schema", "{\"type\":\"struct\",\"fields\":[]}"},
                                     {"eddy.table", "matrix.orders"}};
  auto event = [&](eddy::model::Operation op, int64_t id, std::optional<std::string> note,
                   int64_t lsn, std::string xid) {
    eddy::model::ChangeEvent e;
    e.op = op;
    Row image{{"id", Value::Int64(id)},
              {"note", note ? Value::Text(*note) : Value::Null()},
              {"u", Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}};
    if (op == eddy::model::Operation::kDelete) {
      e.before = Row{{"id", Value::Int64(id)}};
    } else {
      e.after = image;
    }
    e.key = Row{{"id", Value::Int64(id)}};
    e.position = eddy::SourcePosition(eddy::PostgresPosition{eddy::Lsn(lsn + 16), eddy::Lsn(lsn)});
    e.commit_time_ns = 1'764'900'000'123'456'000 + lsn * 1000;
    e.transaction_id = std::move(xid);
    return e;
  };
  using eddy::model::Operation;
  spec.events = {event(Operation::kRead, 1, "snapshot", 100, "snapshot:0/64"),
                 event(Operation::kInsert, 2, "new", 200, "7421"),
                 event(Operation::kUpdate, 2, std::nullopt, 300, "7422"),
                 event(Operation::kDelete, 1, "ignored", 400, "")};
  return spec;
}

void WriteColumnsJson(eddy::format::JsonWriter& json, const FileSpec& spec) {
  json.Key("columns");
  json.BeginArray();
  size_t index = 0;
  auto column_json = [&](std::string_view name, const parquet::ColumnLayout& layout,
                         const Column* column) {
    json.BeginObject();
    json.Member("name", name);
    json.Member("logical", layout.logical);
    json.Key("optional");
    json.Bool(layout.optional);
    if (column && column->scale && layout.logical.rfind("DECIMAL", 0) == 0) {
      json.MemberInt("scale", *column->scale);
      json.MemberInt("precision", *column->precision);
    }
    if (!spec.options.field_ids.empty()) json.MemberInt("field_id", spec.options.field_ids[index]);
    json.EndObject();
    ++index;
  };
  for (const Column& column : spec.schema.columns) {
    column_json(column.name, parquet::ColumnLayoutFor(spec.schema, column, spec.options), &column);
  }
  if (spec.options.cdc_columns) {
    parquet::ColumnLayout op{std::string(parquet::kCdcOpColumn), parquet::PhysicalType::kByteArray,
                             0, false, "STRING"};
    parquet::ColumnLayout time{std::string(parquet::kCdcCommitTimeColumn),
                               parquet::PhysicalType::kInt64, 0, false, "TIMESTAMP(MICROS,UTC)"};
    parquet::ColumnLayout position{std::string(parquet::kCdcPositionColumn),
                                   parquet::PhysicalType::kByteArray, 0, false, "STRING"};
    parquet::ColumnLayout xid{std::string(parquet::kCdcTransactionIdColumn),
                              parquet::PhysicalType::kByteArray, 0, true, "STRING"};
    for (const auto* layout : {&op, &time, &position, &xid})
      column_json(layout->name, *layout, nullptr);
  }
  json.EndArray();
}

void WriteCell(eddy::format::JsonWriter& json, const std::optional<std::string>& cell) {
  if (cell) {
    json.String(*cell);
  } else {
    json.Null();
  }
}

int Run(const std::string& dir) {
  eddy::io::FileSystem* fs = eddy::io::DefaultFileSystem();
  if (!fs->CreateDirectories(dir).ok()) {
    std::fprintf(stderr, "cannot create %s\n", dir.c_str());
    return 1;
  }
  std::vector<FileSpec> specs;
  for (parquet::Compression compression :
       {parquet::Compression::kNone, parquet::Compression::kSnappy, parquet::Compression::kZstd}) {
    for (FileSpec spec : {PostgresMatrix(), MysqlMatrix(), ManyRows()}) {
      spec.options.compression = compression;
      spec.name = spec.schema.table.name + "_" +
                  std::string(parquet::CompressionName(compression)) + ".parquet";
      specs.push_back(std::move(spec));
    }
  }
  specs.push_back(ChangeEvents());
  specs.back().name = "orders_cdc_zstd.parquet";

  eddy::format::JsonWriter json;
  json.BeginObject();
  json.Key("files");
  json.BeginArray();
  for (const FileSpec& spec : specs) {
    const std::string path = eddy::io::JoinPath(dir, spec.name);
    auto file = fs->Open(path, eddy::io::OpenMode::kCreateOrTruncate);
    if (!file.ok()) {
      std::fprintf(stderr, "%s\n", file.status().ToString().c_str());
      return 1;
    }
    auto writer = parquet::ParquetWriter::Open(spec.schema, spec.options, file->get());
    if (!writer.ok()) {
      std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), writer.status().ToString().c_str());
      return 1;
    }
    for (const Row& row : spec.rows) {
      eddy::Status status = (*writer)->AppendRow(row);
      if (!status.ok()) {
        std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), status.ToString().c_str());
        return 1;
      }
    }
    for (const auto& event : spec.events) {
      eddy::Status status = (*writer)->AppendEvent(event);
      if (!status.ok()) {
        std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), status.ToString().c_str());
        return 1;
      }
    }
    auto summary = (*writer)->Finish();
    if (!summary.ok() || !(*file)->Sync().ok()) {
      std::fprintf(stderr, "%s: finish failed\n", spec.name.c_str());
      return 1;
    }
    json.BeginObject();
    json.Member("file", spec.name);
    json.Member("compression", parquet::CompressionName(spec.options.compression));
    json.MemberInt("file_bytes", static_cast<int64_t>(summary->file_bytes));
    json.MemberInt("row_groups", summary->row_group_count);
    json.Key("key_value_metadata");
    json.BeginObject();
    for (const auto& [key, value] : spec.options.key_value_metadata) json.Member(key, value);
    json.EndObject();
    WriteColumnsJson(json, spec);
    json.Key("null_counts");
    json.BeginArray();
    for (const auto& column : summary->columns) json.Int(static_cast<int64_t>(column.null_count));
    json.EndArray();
    json.Key("rows");
    json.BeginArray();
    for (const Row& row : spec.rows) {
      json.BeginArray();
      for (const Column& column : spec.schema.columns) {
        const Value* value = eddy::model::FindField(row, column.name);
        static const Value kNull;
        WriteCell(json,
                  Canonical(column, parquet::ColumnLayoutFor(spec.schema, column, spec.options),
                            value ? *value : kNull));
      }
      json.EndArray();
    }
    for (const auto& event : spec.events) {
      json.BeginArray();
      const Row& image = event.after ? *event.after : *event.before;
      for (const Column& column : spec.schema.columns) {
        const Value* value = eddy::model::FindField(image, column.name);
        static const Value kNull;
        WriteCell(json,
                  Canonical(column, parquet::ColumnLayoutFor(spec.schema, column, spec.options),
                            value ? *value : kNull));
      }
      json.String(eddy::model::OperationCode(event.op));
      json.String(std::to_string(event.commit_time_ns / 1000));
      json.String(event.position.ToString());
      WriteCell(json, event.transaction_id.empty()
                          ? std::nullopt
                          : std::optional<std::string>(event.transaction_id));
      json.EndArray();
    }
    json.EndArray();
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  if (!fs->WriteFileAtomically(eddy::io::JoinPath(dir, "expected.json"), json.str()).ok()) {
    std::fprintf(stderr, "cannot write expected.json\n");
    return 1;
  }
  std::printf("wrote %zu parquet files and expected.json to %s\n", specs.size(), dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  return Run(argv[1]);
}
