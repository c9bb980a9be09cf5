#include "sink/replica/mariadb_target.h"

#include <mysql.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "base/logging.h"
#include "consume/sink_settings.h"
#include "localdb/sql_session.h"
#include "sink/replica/replica_destination.h"
#include "sink/replica/source_type.h"
#include "sink/replica/sql_text.h"
#include "source/source_url.h"

namespace eddy::sink::replica {
namespace {

using model::ConnectorKind;
using model::ValueType;

// A primary key is limited to 3072 bytes in all: a key column of unknown length gets 255
// utf8mb4 characters (1020 bytes) or 1020 bytes, so three of them fit in one key. A longer key
// value is refused by the target (error 1406, FAILED naming the table), never cut.
constexpr int kMaxKeyChars = 255;
constexpr int kMaxKeyBytes = 1020;
// A declared length is kept up to the whole key's limit (768 utf8mb4 characters).
constexpr int kMaxDeclaredKeyChars = 768;
// A statement stays below this many bytes (max_allowed_packet is 16 MiB by default).
constexpr size_t kMaxStatementBytes = 4u << 20;

bool IsValidUtf8WithoutNul(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    if (lead == 0) return false;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t code = 0;
    if ((lead >> 5) == 0x6) {
      extra = 1;
      code = lead & 0x1f;
    } else if ((lead >> 4) == 0xe) {
      extra = 2;
      code = lead & 0x0f;
    } else if ((lead >> 3) == 0x1e) {
      extra = 3;
      code = lead & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) ||
        (extra == 3 && (code < 0x10000 || code > 0x10ffff)) || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

bool IsKey(const model::Column& column) { return column.primary_key_ordinal > 0; }

// Text of unknown length: an indexable varchar for key columns, else a text type that holds
// any value of the source's.
std::string TextType(const model::Column& column, const char* non_key = "longtext") {
  return IsKey(column) ? "varchar(" + std::to_string(kMaxKeyChars) + ")" : non_key;
}
std::string BytesType(const model::Column& column, const char* non_key = "longblob") {
  return IsKey(column) ? "varbinary(" + std::to_string(kMaxKeyBytes) + ")" : non_key;
}

// A source column whose schema carries its declared type (MySQL/MariaDB captures record
// COLUMN_TYPE and the collation) gets exactly that type and collation, except the text and
// blob types in a key, which need a length to be indexed.
std::optional<std::string> DeclaredType(const model::Column& column) {
  if (column.declared_type.empty()) return std::nullopt;
  SourceTypeName t = SplitSourceType(column.declared_type);
  if (IsKey(column) && (t.base.ends_with("text") || t.base.ends_with("blob"))) return std::nullopt;
  if (column.collation.empty()) return column.declared_type;
  return column.declared_type + " COLLATE " + column.collation;
}

bool IsDeclaredBit(const model::Column& column) { return column.declared_type.starts_with("bit("); }

Result<std::string> MapFromMysql(const model::Column& column, bool mysql_target) {
  if (std::optional<std::string> declared = DeclaredType(column)) return *declared;
  SourceTypeName t = SplitSourceType(column.source_type);
  const std::string& b = t.base;
  const std::string suffix = t.is_unsigned ? " unsigned" : "";
  if (b == "tinyint" || b == "smallint" || b == "mediumint" || b == "int" || b == "bigint") {
    return b + suffix;
  }
  if (b == "year" || b == "date" || b == "json" || b == "geometry" || b == "tinytext" ||
      b == "text" || b == "mediumtext" || b == "longtext" || b == "tinyblob" || b == "blob" ||
      b == "mediumblob" || b == "longblob") {
    if (IsKey(column) && (b.ends_with("text"))) return TextType(column);
    if (IsKey(column) && (b.ends_with("blob"))) return BytesType(column);
    return b;
  }
  if (b == "float" || b == "double") return b;  // UNSIGNED floats are deprecated: dropped
  if (b == "decimal") {
    int precision = t.first.value_or(column.precision.value_or(10));
    int scale = t.second.value_or(column.scale.value_or(0));
    return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")" + suffix;
  }
  if (b == "time" || b == "datetime" || b == "timestamp") {
    int fsp = t.first.value_or(column.precision.value_or(0));
    return fsp > 0 ? b + "(" + std::to_string(fsp) + ")" : b;
  }
  // The capture records no length for these (Column::length is unset), so the target type
  // holds any value the source's could: see docs/sinks/replica.md.
  if (b == "char" || b == "varchar") {
    if (column.length) return b + "(" + std::to_string(*column.length) + ")";
    return TextType(column);
  }
  if (b == "binary" || b == "varbinary") {
    if (column.length) return b + "(" + std::to_string(*column.length) + ")";
    return BytesType(column);
  }
  if (b == "bit") return std::string("varchar(64)");  // '0'/'1' digits; see the docs
  if (b == "enum") return TextType(column, "varchar(255)");
  if (b == "set") return TextType(column, "text");
  if (b == "uuid") return std::string(mysql_target ? "char(36)" : "uuid");
  if (b == "inet4" || b == "inet6") return b;
  switch (column.type) {
    case ValueType::kBytes:
      return BytesType(column);
    case ValueType::kText:
    case ValueType::kEnum:
    case ValueType::kTypedText:
      return TextType(column);
    case ValueType::kInt64:
      return std::string("bigint");
    case ValueType::kUint64:
      return std::string("bigint unsigned");
    case ValueType::kFloat32:
      return std::string("float");
    case ValueType::kFloat64:
      return std::string("double");
    case ValueType::kDecimal:
      return std::string("decimal(65,30)");
    case ValueType::kJson:
      return std::string("json");
    default:
      break;
  }
  return InvalidArgument("column '" + column.name + "' has MySQL type '" + column.source_type +
                         "', which has no MariaDB mapping; leave the table out of the stream "
                         "(--tables)");
}

Result<std::string> MapFromPostgres(const model::Column& column, bool mysql_target) {
  const std::string& name = column.source_type;
  if (column.type == ValueType::kArray) return TextType(column);  // PostgreSQL's array text
  if (column.type == ValueType::kEnum) return TextType(column, "varchar(255)");
  if (name == "bool") return std::string("boolean");
  if (name == "int2") return std::string("smallint");
  if (name == "int4") return std::string("int");
  if (name == "int8") return std::string("bigint");
  if (name == "oid") return std::string("int unsigned");
  if (name == "float4") return std::string("float");
  if (name == "float8") return std::string("double");
  if (name == "numeric") {
    if (!column.precision) return std::string("decimal(65,30)");
    int precision = *column.precision;
    int scale = column.scale.value_or(0);
    if (precision <= 65 && scale >= 0 && scale <= 30 && scale <= precision) {
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    }
    return TextType(column, "varchar(1100)");  // beyond DECIMAL: the digits as text
  }
  if (name == "varchar") {
    if (column.length && *column.length <= (IsKey(column) ? kMaxDeclaredKeyChars : 16383)) {
      return "varchar(" + std::to_string(*column.length) + ")";
    }
    return TextType(column);
  }
  if (name == "bpchar") {
    int length = column.length.value_or(1);
    if (length <= 255) return "char(" + std::to_string(length) + ")";
    if (length <= (IsKey(column) ? kMaxDeclaredKeyChars : 16383)) {
      return "varchar(" + std::to_string(length) + ")";
    }
    return TextType(column);
  }
  if (name == "char") return std::string("char(1)");
  if (name == "name") return std::string("varchar(64)");
  if (name == "text") return TextType(column);
  if (name == "bytea") return BytesType(column);
  if (name == "date") return std::string("date");
  if (name == "time") return "time(" + std::to_string(column.precision.value_or(6)) + ")";
  if (name == "timestamp" || name == "timestamptz") {
    // MariaDB's TIMESTAMP ends in 2038: timestamptz lands in a DATETIME holding UTC.
    return "datetime(" + std::to_string(column.precision.value_or(6)) + ")";
  }
  if (name == "timetz") return std::string("varchar(32)");
  if (name == "interval") return std::string("varchar(100)");
  if (name == "uuid") return std::string(mysql_target ? "char(36)" : "uuid");
  if (name == "json" || name == "jsonb") return std::string("json");
  if (name == "bit" || name == "varbit") {
    if (column.length && *column.length <= 16383) {
      return "varchar(" + std::to_string(*column.length) + ")";
    }
    return TextType(column, "text");
  }
  if (name == "inet" || name == "cidr") return std::string("varchar(43)");
  if (name == "macaddr" || name == "macaddr8") return std::string("varchar(23)");
  // Everything else (money, xml, geometric types, ranges, tsvector, extension types) is kept
  // as the source's text.
  switch (column.type) {
    case ValueType::kBytes:
      return BytesType(column);
    case ValueType::kInt64:
      return std::string("bigint");
    case ValueType::kFloat64:
      return std::string("double");
    case ValueType::kDecimal:
      return std::string("decimal(65,30)");
    case ValueType::kBool:
      return std::string("boolean");
    default:
      return TextType(column);
  }
}

std::string Fraction(int64_t micros) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(micros));
  return buffer;
}

Result<std::string> DateText(int64_t days, const model::Column& column) {
  model::CivilDate date = model::CivilFromDays(days);
  if (date.year < 0 || date.year > 9999) {
    return InvalidArgument("column '" + column.name + "': the date has year " +
                           std::to_string(date.year) +
                           ", outside MariaDB's 0000-9999; the row cannot be replicated");
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", static_cast<int>(date.year), date.month,
                date.day);
  return std::string(buffer);
}

Result<std::string> TimestampText(int64_t micros, const model::Column& column) {
  DayAndMicros split = SplitEpochMicros(micros);
  EDDY_ASSIGN_OR_RETURN(std::string out, DateText(split.days, column));
  out += ' ';
  AppendClock(out, split.micros / 1'000'000);
  out += Fraction(split.micros % 1'000'000);
  return out;
}

// [-]HH:MM:SS.ffffff, hours beyond 24 allowed (MariaDB TIME is a duration).
std::string DurationText(int64_t micros) {
  std::string out = micros < 0 ? "-" : "";
  if (micros < 0) micros = -micros;
  AppendClock(out, micros / 1'000'000);
  out += Fraction(micros % 1'000'000);
  return out;
}

// PostgreSQL's own output of an interval (IntervalStyle postgres), so the replica holds the
// text the source prints: "1 year 2 mons -3 days +04:05:06.5".
std::string IntervalText(const model::IntervalValue& interval) {
  std::string out;
  bool is_before = false;
  bool is_zero = true;
  auto part = [&](int64_t value, const char* unit) {
    if (value == 0) return;
    if (!is_zero) out += ' ';
    if (is_before && value > 0) out += '+';
    out += std::to_string(value) + " " + unit + (value != 1 ? "s" : "");
    is_before = value < 0;
    is_zero = false;
  };
  part(interval.months / 12, "year");
  part(interval.months % 12, "mon");
  part(interval.days, "day");
  if (is_zero || interval.micros != 0) {
    int64_t micros = interval.micros;
    bool minus = micros < 0;
    if (minus) micros = -micros;
    if (!is_zero) out += ' ';
    out += minus ? "-" : (is_before ? "+" : "");
    AppendClock(out, micros / 1'000'000);
    if (micros % 1'000'000 != 0) {
      std::string fraction = Fraction(micros % 1'000'000);
      while (fraction.back() == '0') fraction.pop_back();
      out += fraction;
    }
  }
  return out;
}

std::string FloatText(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

Result<TextValue> Render(const model::Value& value, const model::Column& column, bool in_array) {
  using model::TemporalKind;
  auto not_storable = [&](const std::string& what) {
    return InvalidArgument("column '" + column.name + "' (" + column.source_type + ") holds " +
                           what + ", which MariaDB cannot store; the row cannot be replicated");
  };
  switch (value.type()) {
    case ValueType::kNull:
      return TextValue();
    case ValueType::kBool:
      if (in_array) return TextValue(value.Get<bool>() ? "t" : "f");
      return TextValue(value.Get<bool>() ? "1" : "0");
    case ValueType::kInt64: {
      const int64_t number = value.Get<int64_t>();
      // A YEAR column reads the string '0' as 2000; '0000' is the year zero.
      if (number == 0 && column.source_type == "year") return TextValue("0000");
      return TextValue(std::to_string(number));
    }
    case ValueType::kUint64:
      return TextValue(std::to_string(value.Get<uint64_t>()));
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      double number =
          value.type() == ValueType::kFloat32 ? value.Get<float>() : value.Get<double>();
      if (std::isnan(number) || std::isinf(number)) {
        if (in_array)
          return TextValue(std::isnan(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
        return not_storable(std::isnan(number) ? "NaN" : "an infinity");
      }
      // A float is written as the shortest text of its exact double value: it reads back to
      // the same float, and FLT_MAX stays within FLOAT's range check (3.4028235e38 would not).
      return TextValue(FloatText(number));
    }
    case ValueType::kDecimal: {
      const auto& decimal = value.Get<model::DecimalValue>();
      if (decimal.IsSpecial() && !in_array) return not_storable("'" + decimal.text + "'");
      return TextValue(decimal.text);
    }
    case ValueType::kText:
      return TextValue(value.Get<std::string>());
    case ValueType::kBytes: {
      if (!in_array) return TextValue(value.Get<model::BytesValue>().data);
      std::string out = "\\x";
      AppendHex(out, value.Get<model::BytesValue>().data);
      return TextValue(out);
    }
    case ValueType::kDate: {
      const auto& date = value.Get<model::DateValue>();
      if (date.kind == TemporalKind::kZero) return TextValue("0000-00-00");
      if (date.kind != TemporalKind::kFinite) return not_storable("an infinite date");
      EDDY_ASSIGN_OR_RETURN(std::string text, DateText(date.days, column));
      return TextValue(text);
    }
    case ValueType::kTime:
      return TextValue(DurationText(value.Get<model::TimeValue>().micros));
    case ValueType::kTimeTz: {
      // PostgreSQL's own output of a timetz ("23:59:59.5-15:59", "00:00:00+14"): the column
      // is text in MariaDB and holds the text the source prints.
      const auto& time = value.Get<model::TimeTzValue>();
      std::string text = DurationText(time.micros);
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
      int32_t offset = time.utc_offset_seconds;
      text += offset < 0 ? '-' : '+';
      if (offset < 0) offset = -offset;
      AppendTwoDigits(text, offset / 3600);
      if (offset % 3600 != 0) {
        text += ':';
        AppendTwoDigits(text, (offset / 60) % 60);
      }
      if (offset % 60 != 0) {
        text += ':';
        AppendTwoDigits(text, offset % 60);
      }
      return TextValue(text);
    }
    case ValueType::kTimestamp: {
      const auto& ts = value.Get<model::TimestampValue>();
      if (ts.kind == TemporalKind::kZero) return TextValue("0000-00-00 00:00:00");
      if (ts.kind != TemporalKind::kFinite) return not_storable("an infinite timestamp");
      EDDY_ASSIGN_OR_RETURN(std::string text, TimestampText(ts.micros, column));
      return TextValue(text);
    }
    case ValueType::kTimestampTz: {
      const auto& ts = value.Get<model::TimestampTzValue>();
      if (ts.kind == TemporalKind::kZero) return TextValue("0000-00-00 00:00:00");
      if (ts.kind != TemporalKind::kFinite) return not_storable("an infinite timestamp");
      // The session's time zone is UTC: a TIMESTAMP column reads this as the instant, a
      // DATETIME column (a PostgreSQL timestamptz) keeps the UTC wall clock.
      EDDY_ASSIGN_OR_RETURN(std::string text, TimestampText(ts.micros, column));
      if (in_array) text += "+00";
      return TextValue(text);
    }
    case ValueType::kInterval:
      return TextValue(IntervalText(value.Get<model::IntervalValue>()));
    case ValueType::kUuid:
      return TextValue(value.Get<model::UuidValue>().ToString());
    case ValueType::kJson:
      return TextValue(value.Get<model::JsonValue>().text);
    case ValueType::kEnum:
      return TextValue(value.Get<model::EnumValue>().label);
    case ValueType::kBits: {
      const std::string& bits = value.Get<model::BitsValue>().bits;
      if (in_array || !IsDeclaredBit(column)) return TextValue(bits);
      // A BIT(n) column takes a binary string: the bits, big-endian, in whole bytes.
      std::string bytes((bits.size() + 7) / 8, '\0');
      for (size_t i = 0; i < bits.size(); ++i) {
        if (bits[bits.size() - 1 - i] == '1') {
          bytes[bytes.size() - 1 - i / 8] |= static_cast<char>(1 << (i % 8));
        }
      }
      return TextValue(bytes);
    }
    case ValueType::kArray: {
      // PostgreSQL's array output: {1,2,NULL,"a b",{3,4}}, elements quoted as array_out does.
      auto element = [&](const model::Value& e) { return Render(e, column, true); };
      EDDY_ASSIGN_OR_RETURN(std::string text,
                            ArrayText(value.Get<model::ArrayValue>(), element, false));
      return TextValue(text);
    }
    case ValueType::kTypedText:
      return TextValue(value.Get<model::TypedTextValue>().text);
    case ValueType::kUnavailable:
      break;
  }
  return Internal("column '" + column.name +
                  "': an unchanged (unavailable) value reached the "
                  "renderer");
}

}  // namespace

std::string MariadbDialect::QuoteIdentifier(std::string_view name) const {
  return QuoteDoubling(name, '`');
}

std::string MariadbDialect::QuoteLiteral(std::string_view text) const {
  if (IsValidUtf8WithoutNul(text)) return QuoteDoubling(text, '\'');
  std::string out;
  out.reserve(text.size() * 2 + 3);
  out += "X'";
  AppendHex(out, text);
  out += '\'';
  return out;
}

Result<std::string> MariadbDialect::MapType(const model::Column& column,
                                            ConnectorKind source) const {
  if (source == ConnectorKind::kPostgres) return MapFromPostgres(column, mysql_);
  if (source == ConnectorKind::kMysql || source == ConnectorKind::kMariadb) {
    return MapFromMysql(column, mysql_);
  }
  return InvalidArgument("column '" + column.name +
                         "': the source engine is unknown, so its type '" + column.source_type +
                         "' cannot be mapped");
}

Result<TextValue> MariadbDialect::RenderValue(const model::Value& value,
                                              const model::Column& column,
                                              ConnectorKind source) const {
  (void)source;
  return Render(value, column, false);
}

std::string MariadbDialect::CreateTable(const TargetTable& table,
                                        const std::vector<TargetColumn>& columns,
                                        const std::vector<std::string>& primary_key) const {
  // A TIMESTAMP column is NOT NULL unless it says NULL (explicit_defaults_for_timestamp off).
  return CreateTableStatement(*this, table, columns, primary_key, /*say_null=*/true) +
         " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin";
}

std::string MariadbDialect::AddColumn(const TargetTable& table, const TargetColumn& column) const {
  return "ALTER TABLE " + QualifiedName(table) + " ADD COLUMN IF NOT EXISTS " +
         QuoteIdentifier(column.name) + " " + column.type +
         (column.nullable ? " NULL" : " NOT NULL");
}

std::string MariadbDialect::AlterColumnType(const TargetTable& table,
                                            const TargetColumn& column) const {
  return "ALTER TABLE " + QualifiedName(table) + " MODIFY COLUMN " + QuoteIdentifier(column.name) +
         " " + column.type + (column.nullable ? " NULL" : " NOT NULL");
}

std::string MariadbDialect::SetNullable(const TargetTable& table,
                                        const TargetColumn& column) const {
  return AlterColumnType(table, column);  // MODIFY restates the type with the nullability
}

std::string MariadbDialect::ReplacePrimaryKey(const TargetTable& table,
                                              const std::vector<std::string>& primary_key) const {
  std::string sql = "ALTER TABLE " + QualifiedName(table) + " DROP INDEX IF EXISTS `PRIMARY`";
  if (!primary_key.empty()) {
    sql += ", ADD PRIMARY KEY (" + IdentifierList(*this, primary_key, ", ") + ")";
  }
  return sql;
}

std::string MariadbDialect::RenameTable(const TargetTable& from, const TargetTable& to) const {
  return "RENAME TABLE IF EXISTS " + QualifiedName(from) + " TO " + QualifiedName(to);
}

std::string MariadbDialect::SelectColumns(const TargetTable& table) const {
  return "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
         "TABLE_SCHEMA = " +
         QuoteLiteral(table.space) + " AND TABLE_NAME = " + QuoteLiteral(table.name) +
         " ORDER BY ORDINAL_POSITION";
}

LoadDataStatement BuildLoadData(const TargetTable& table, const std::vector<std::string>& columns,
                                const std::vector<TextRow>& rows, size_t begin, size_t end) {
  MariadbDialect dialect;
  std::vector<bool> hex(columns.size(), false);
  for (size_t r = begin; r < end; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!hex[c] && rows[r][c] && !IsValidUtf8WithoutNul(*rows[r][c])) hex[c] = true;
    }
  }
  LoadDataStatement out;
  // The session runs with NO_BACKSLASH_ESCAPES: '\' is one backslash; the tab and newline
  // are written as themselves.
  out.statement = "LOAD DATA LOCAL INFILE 'eddy-bulk' REPLACE INTO TABLE " +
                  dialect.QualifiedName(table) +
                  " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\t' ESCAPED BY '\\' "
                  "LINES TERMINATED BY '\n' (";
  std::string sets;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c) out.statement += ',';
    if (hex[c]) {
      const std::string variable = "@v" + std::to_string(c);
      out.statement += variable;
      if (!sets.empty()) sets += ',';
      sets += dialect.QuoteIdentifier(columns[c]) + " = UNHEX(" + variable + ")";
    } else {
      out.statement += dialect.QuoteIdentifier(columns[c]);
    }
  }
  out.statement += ')';
  if (!sets.empty()) out.statement += " SET " + sets;
  for (size_t r = begin; r < end; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) out.data += '\t';
      const TextValue& value = rows[r][c];
      if (!value) {
        out.data += "\\N";
        continue;
      }
      if (hex[c]) {
        AppendHex(out.data, *value);
      } else {
        AppendBulkEscaped(out.data, *value);
      }
    }
    out.data += '\n';
  }
  return out;
}

std::string MariadbDialect::Upsert(const TargetTable& table,
                                   const std::vector<std::string>& columns,
                                   const std::vector<std::string>& key_columns,
                                   const std::vector<TextRow>& rows) const {
  std::string sql = InsertValues(*this, table, columns, rows);
  if (key_columns.empty()) return sql;
  std::string sets;
  for (const std::string& column : NonKeyColumns(columns, key_columns)) {
    if (!sets.empty()) sets += ',';
    sets += QuoteIdentifier(column) + "=VALUES(" + QuoteIdentifier(column) + ")";
  }
  // Only key columns: the row exists already, nothing to change (assigning the key to itself).
  if (sets.empty()) sets = QuoteIdentifier(key_columns[0]) + "=" + QuoteIdentifier(key_columns[0]);
  return sql + " ON DUPLICATE KEY UPDATE " + sets;
}

std::string MariadbDialect::Delete(const TargetTable& table,
                                   const std::vector<std::string>& key_columns,
                                   const std::vector<TextRow>& keys) const {
  std::string sql = "DELETE FROM " + QualifiedName(table) + " WHERE ";
  if (key_columns.size() == 1) {
    sql += QuoteIdentifier(key_columns[0]) + " IN (";
    for (size_t r = 0; r < keys.size(); ++r) {
      if (r) sql += ',';
      sql += keys[r][0] ? QuoteLiteral(*keys[r][0]) : "NULL";
    }
    return sql + ")";
  }
  // (a = 1 AND b = 2) OR ...: uses the primary key index on every MariaDB version.
  for (size_t r = 0; r < keys.size(); ++r) {
    if (r) sql += " OR ";
    sql += '(';
    for (size_t i = 0; i < key_columns.size(); ++i) {
      if (i) sql += " AND ";
      sql += QuoteIdentifier(key_columns[i]) + " <=> " +
             (keys[r][i] ? QuoteLiteral(*keys[r][i]) : std::string("NULL"));
    }
    sql += ')';
  }
  return sql;
}

std::string MariadbDialect::DeleteOneRow(const TargetTable& table,
                                         const std::vector<std::string>& columns,
                                         const TextRow& row) const {
  std::string where;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) where += " AND ";
    where += QuoteIdentifier(columns[i]) + " <=> " +
             (row[i] ? QuoteLiteral(*row[i]) : std::string("NULL"));
  }
  return "DELETE FROM " + QualifiedName(table) + (where.empty() ? "" : " WHERE " + where) +
         " LIMIT 1";
}

std::string MariadbDialect::Truncate(const TargetTable& table) const {
  // TRUNCATE commits implicitly; DELETE stays inside the batch's transaction.
  return "DELETE FROM " + QualifiedName(table);
}

std::string MariadbDialect::CreateCheckpointTable(std::string_view space) const {
  return "CREATE TABLE IF NOT EXISTS " + CheckpointTableName(space) +
         " (sink_name varchar(128) NOT NULL PRIMARY KEY, checkpoint mediumtext NOT NULL, "
         "updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB "
         "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
}

std::string MariadbDialect::UpsertCheckpoint(std::string_view space, std::string_view sink,
                                             std::string_view checkpoint) const {
  return "INSERT INTO " + CheckpointTableName(space) +
         " (sink_name, checkpoint, updated_at) VALUES (" + QuoteLiteral(sink) + ", " +
         QuoteLiteral(checkpoint) +
         ", CURRENT_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE checkpoint = VALUES(checkpoint), "
         "updated_at = VALUES(updated_at)";
}

// ---------------------------------------------------------------------------------------------
// The connection.

namespace {

// Server and client error numbers onto eddy's codes, as target.h requires.
Status StatusFromError(unsigned int number, const std::string& message) {
  std::string text = "MariaDB target: " + message + " (error " + std::to_string(number) + ")";
  switch (number) {
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
    case 1040:  // ER_CON_COUNT_ERROR: too many connections
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
    case 1969:  // ER_STATEMENT_TIMEOUT
    case 3024:  // MySQL: maximum statement execution time exceeded
    case 1317:  // ER_QUERY_INTERRUPTED
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT: --read-only, e.g. during a failover
    case 1836:  // ER_READ_ONLY_MODE
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
      return Unavailable(text);
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
      return PermissionDenied(text);
    default:
      break;
  }
  // 2000-2999: the client library (cannot connect, server gone away, lost connection).
  if (number >= 2000 && number < 3000) return Unavailable(text);
  return FailedPrecondition(text);
}

// libmariadb's local infile callbacks, reading one LOAD DATA statement's bytes from memory
// (userdata: the LoadDataStatement's data and how far it has been read).
struct InfileReader {
  const std::string* data = nullptr;
  size_t offset = 0;
};

int InfileInit(void** handle, const char* /*file_name*/, void* userdata) {
  *handle = userdata;
  return 0;
}

int InfileRead(void* handle, char* buffer, unsigned int length) {
  auto* reader = static_cast<InfileReader*>(handle);
  size_t n = std::min<size_t>(length, reader->data->size() - reader->offset);
  std::memcpy(buffer, reader->data->data() + reader->offset, n);
  reader->offset += n;
  return static_cast<int>(n);
}

void InfileEnd(void* /*handle*/) {}

int InfileError(void* /*handle*/, char* message, unsigned int length) {
  std::snprintf(message, length, "eddy: reading the bulk rows failed");
  return 2000;  // CR_UNKNOWN_ERROR
}

// The server or client refusing LOAD DATA LOCAL: local_infile off on the server (1148
// ER_NOT_ALLOWED_COMMAND, 4166 on MariaDB 11) or in the client library (2068).
bool IsLocalInfileRefused(unsigned int number) {
  return number == 1148 || number == 4166 || number == 2068;
}

// Batches of at most this many data bytes per LOAD DATA statement.
constexpr size_t kMaxLoadDataBytes = 16u << 20;

class MariadbConnection final : public TargetConnection {
 public:
  MariadbConnection(localdb::MariadbSession session, BulkLoadMode mode, std::string display)
      : session_(std::move(session)), mode_(mode), display_(std::move(display)) {}

  Status Begin() override { return Execute("START TRANSACTION"); }
  Status Commit() override { return Execute("COMMIT"); }
  void Rollback() override {
    MYSQL* mysql = session_.raw();
    if (mysql_real_query(mysql, "ROLLBACK", 8) == 0) Drain().IgnoreError();
  }

  Status Execute(const std::string& sql) override {
    MYSQL* mysql = session_.raw();
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return Error();
    return Drain();
  }

  Result<std::vector<TextRow>> Query(const std::string& sql) override {
    MYSQL* mysql = session_.raw();
    if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return Error();
    MYSQL_RES* result = mysql_store_result(mysql);
    if (result == nullptr) {
      if (mysql_errno(mysql) != 0) return Error();
      return std::vector<TextRow>();
    }
    std::vector<TextRow> rows;
    unsigned int fields = mysql_num_fields(result);
    while (MYSQL_ROW row = mysql_fetch_row(result)) {
      unsigned long* lengths = mysql_fetch_lengths(result);
      TextRow out;
      out.reserve(fields);
      for (unsigned int f = 0; f < fields; ++f) {
        if (row[f] == nullptr) {
          out.emplace_back();
        } else {
          out.emplace_back(std::string(row[f], lengths[f]));
        }
      }
      rows.push_back(std::move(out));
    }
    mysql_free_result(result);
    EDDY_RETURN_IF_ERROR(Drain());
    return rows;
  }

  Status BulkLoad(const TargetTable& table, const std::vector<std::string>& columns,
                  const std::vector<TextRow>& rows) override {
    if (mode_ == BulkLoadMode::kLoadData) {
      size_t begin = 0;
      while (begin < rows.size()) {
        // Rows up to about kMaxLoadDataBytes of values per statement.
        size_t end = begin;
        size_t bytes = 0;
        while (end < rows.size() && (end == begin || bytes < kMaxLoadDataBytes)) {
          for (const TextValue& value : rows[end]) bytes += value ? value->size() + 1 : 3;
          ++end;
        }
        Status loaded = LoadData(BuildLoadData(table, columns, rows, begin, end));
        if (!loaded.ok() && refused_) {
          logger_->warn(
              "{}: LOAD DATA LOCAL INFILE refused ({}); bulk rows go as multi-row "
              "INSERTs on this connection (set local_infile=ON on the server, or "
              "bulk_load=insert to say so)",
              display_, loaded.message());
          mode_ = BulkLoadMode::kInsert;
          std::vector<TextRow> rest(rows.begin() + static_cast<std::ptrdiff_t>(begin), rows.end());
          return InsertRows(table, columns, rest);
        }
        EDDY_RETURN_IF_ERROR(loaded);
        begin = end;
      }
      return Status::Ok();
    }
    return InsertRows(table, columns, rows);
  }

 private:
  // One LOAD DATA LOCAL statement fed from memory. With LOCAL the server turns data errors
  // into warnings (it cannot stop the client's stream), so any warning is this statement's
  // failure: the core rolls the batch back, as a refused INSERT would make it.
  Status LoadData(const LoadDataStatement& load) {
    MYSQL* mysql = session_.raw();
    InfileReader reader{&load.data, 0};
    mysql_set_local_infile_handler(mysql, InfileInit, InfileRead, InfileEnd, InfileError, &reader);
    int failed = mysql_real_query(mysql, load.statement.data(), load.statement.size());
    mysql_set_local_infile_default(mysql);
    if (failed != 0) {
      refused_ = IsLocalInfileRefused(mysql_errno(mysql));
      return Error();
    }
    EDDY_RETURN_IF_ERROR(Drain());
    if (mysql_warning_count(mysql) == 0) return Status::Ok();
    EDDY_ASSIGN_OR_RETURN(std::vector<TextRow> warnings, Query("SHOW WARNINGS LIMIT 1"));
    for (const TextRow& warning : warnings) {
      if (warning.size() < 3 || warning[0].value_or("") == "Note") continue;
      return FailedPrecondition("MariaDB target: LOAD DATA: " + warning[2].value_or("") +
                                " (error " + warning[1].value_or("") + ")");
    }
    return Status::Ok();
  }

  // Multi-row INSERTs of up to kMaxStatementBytes each, inside the current transaction.
  Status InsertRows(const TargetTable& table, const std::vector<std::string>& columns,
                    const std::vector<TextRow>& rows) {
    MariadbDialect dialect;
    const std::string head = "INSERT INTO " + dialect.QualifiedName(table) + " (" +
                             IdentifierList(dialect, columns, ",") + ") VALUES ";
    std::string sql;
    for (const TextRow& row : rows) {
      sql += sql.empty() ? head : ",";
      AppendLiteralRow(dialect, row, sql);
      if (sql.size() >= kMaxStatementBytes) {
        EDDY_RETURN_IF_ERROR(Execute(sql));
        sql.clear();
      }
    }
    if (!sql.empty()) EDDY_RETURN_IF_ERROR(Execute(sql));
    return Status::Ok();
  }

  Status Error() {
    MYSQL* mysql = session_.raw();
    return StatusFromError(mysql_errno(mysql), mysql_error(mysql));
  }

  // Frees any result set and the results of further statements.
  Status Drain() {
    MYSQL* mysql = session_.raw();
    while (true) {
      MYSQL_RES* result = mysql_store_result(mysql);
      if (result != nullptr) mysql_free_result(result);
      if (mysql_errno(mysql) != 0) return Error();
      int next = mysql_next_result(mysql);
      if (next == -1) return Status::Ok();
      if (next > 0) return Error();
    }
  }

  localdb::MariadbSession session_;
  BulkLoadMode mode_;
  std::string display_;
  bool refused_ = false;  // the last LOAD DATA failed because local infile is off
  std::shared_ptr<logging::Logger> logger_ = logging::Get("sink.replica");
};

Result<BulkLoadMode> ParseBulkLoad(const std::map<std::string, std::string>& settings) {
  auto it = settings.find("bulk_load");
  if (it == settings.end() || it->second == "load_data") return BulkLoadMode::kLoadData;
  if (it->second == "insert") return BulkLoadMode::kInsert;
  return InvalidArgument("sink setting 'bulk_load' is '" + it->second +
                         "'; write load_data (LOAD DATA LOCAL INFILE, the default) or insert "
                         "(multi-row INSERT)");
}

constexpr std::array<std::string_view, 7> kClientKeys = {
    "connect_timeout", "read_timeout", "write_timeout", "ssl_mode",
    "ssl_ca",          "ssl_cert",     "ssl_key"};

constexpr char kSessionSetup[] =
    "SET NAMES utf8mb4; SET time_zone = '+00:00'; "
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ENGINE_SUBSTITUTION,"
    "NO_AUTO_VALUE_ON_ZERO'; SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

}  // namespace

Result<Target> MakeMariadbTarget(const std::string& url,
                                 const std::map<std::string, std::string>& settings) {
  std::string base = url.substr(0, url.find('?'));
  if (!base.starts_with("mysql://") && !base.starts_with("mariadb://")) {
    return InvalidArgument(
        "sink URL: the scheme is not mysql:// or mariadb:// (write "
        "mariadb://USER:PASSWORD@HOST:PORT/DATABASE)");
  }
  auto parsed = source::ParseSourceUrl(base);
  if (!parsed.ok()) return InvalidArgument("sink URL: " + parsed.status().message());
  if (parsed->database.empty()) {
    return InvalidArgument("sink URL " + parsed->ToString() +
                           " names no database: write mariadb://USER:PASSWORD@HOST:PORT/"
                           "DATABASE (the database the replica tables go to)");
  }
  localdb::SqlEndpoint endpoint = parsed->ToEndpoint();
  endpoint.parameters.clear();
  for (const auto& [key, value] : settings) {
    bool client = false;
    for (std::string_view own : kClientKeys) client = client || key == own;
    if (client) {
      endpoint.parameters.emplace_back(key, value);
    } else if (key != "bulk_load" && !IsReplicaSetting(key) && !consume::IsRunnerSetting(key)) {
      return InvalidArgument("unknown " + parsed->scheme + " sink setting '" + key +
                             "'; it knows table_name, tables, create_tables, connect_timeout, "
                             "read_timeout, write_timeout, ssl_mode, ssl_ca, ssl_cert, ssl_key, "
                             "bulk_load and the sink settings of docs/sinks/replica.md");
    }
  }
  EDDY_ASSIGN_OR_RETURN(BulkLoadMode bulk_load, ParseBulkLoad(settings));
  const std::string display = parsed->scheme + "://" + endpoint.Describe();
  const bool mysql = parsed->scheme == "mysql";

  Target target;
  target.dialect = std::make_unique<MariadbDialect>(mysql);
  target.default_space = parsed->database;
  target.display_url = display;
  target.connect = [endpoint, display, bulk_load]() -> Result<std::unique_ptr<TargetConnection>> {
    auto session = localdb::MariadbSession::Connect(endpoint);
    if (!session.ok()) {
      std::string message = "connecting to " + display + ": " + session.status().message();
      switch (session.status().code()) {
        case ErrorCode::kPermissionDenied:
          return PermissionDenied(message + " (check the user and password in the sink URL)");
        case ErrorCode::kInvalidArgument:
          return InvalidArgument(message);
        case ErrorCode::kNotFound:
          return FailedPrecondition(message + " (create the database or fix the URL's path)");
        default:
          return Unavailable(message);
      }
    }
    auto connection = std::make_unique<MariadbConnection>(std::move(*session), bulk_load, display);
    Status setup = connection->Execute(kSessionSetup);
    if (!setup.ok()) {
      return Unavailable("setting up the session on " + display + ": " + setup.message());
    }
    return std::unique_ptr<TargetConnection>(std::move(connection));
  };
  return target;
}

Result<std::unique_ptr<consume::Destination>> MakeMariadbDestination(
    const consume::SinkSpec& spec) {
  return MakeReplicaDestination(spec, &MakeMariadbTarget);
}

}  // namespace eddy::sink::replica
