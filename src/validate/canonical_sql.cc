#include "validate/canonical_sql.h"

#include <cctype>
#include <string>

namespace eddy::validate {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A standard SQL string literal: both sessions run with backslashes as ordinary characters
// (PostgreSQL standard_conforming_strings, MariaDB NO_BACKSLASH_ESCAPES).
std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool IsNumberText(std::string_view text) {
  if (text.empty()) return false;
  size_t i = text[0] == '-' ? 1 : 0;
  bool digits = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' || c == 'e' || (c == '-' && text[i - 1] == 'e')) {
      continue;
    } else {
      return false;
    }
  }
  return digits;
}

bool IsHexText(std::string_view text) {
  if (text.size() % 2 != 0) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

ValueClass ClassifyPostgresType(std::string_view type) {
  if (type == "smallint" || type == "integer" || type == "bigint") return ValueClass::kInteger;
  if (type == "boolean") return ValueClass::kBoolean;
  if (type == "numeric") return ValueClass::kDecimal;
  if (type == "real" || type == "double precision") return ValueClass::kFloat;
  if (type == "text" || type == "character varying" || type == "character" || type == "name") {
    return ValueClass::kText;
  }
  if (type == "bytea") return ValueClass::kBinary;
  if (type == "date") return ValueClass::kDate;
  if (type == "timestamp without time zone") return ValueClass::kTimestamp;
  if (type == "timestamp with time zone") return ValueClass::kTimestampTz;
  if (type == "time without time zone") return ValueClass::kTime;
  if (type == "uuid") return ValueClass::kUuid;
  if (type == "bit" || type == "bit varying") return ValueClass::kBit;
  return ValueClass::kOther;
}

ValueClass ClassifyMariadbType(std::string_view type, std::string_view column_type,
                               int* bit_width) {
  if (type == "tinyint" || type == "smallint" || type == "mediumint" || type == "int" ||
      type == "bigint" || type == "year") {
    return ValueClass::kInteger;
  }
  if (type == "decimal") return ValueClass::kDecimal;
  if (type == "float" || type == "double") return ValueClass::kFloat;
  if (type == "char" || type == "varchar" || type == "tinytext" || type == "text" ||
      type == "mediumtext" || type == "longtext") {
    return ValueClass::kText;
  }
  // Spatial values compare by their stored bytes (SRID + WKB), as the capture carries them.
  if (type == "binary" || type == "varbinary" || type == "tinyblob" || type == "blob" ||
      type == "mediumblob" || type == "longblob" || type == "geometry" || type == "point" ||
      type == "linestring" || type == "polygon" || type == "multipoint" ||
      type == "multilinestring" || type == "multipolygon" || type == "geometrycollection") {
    return ValueClass::kBinary;
  }
  if (type == "date") return ValueClass::kDate;
  if (type == "datetime") return ValueClass::kTimestamp;
  if (type == "timestamp") return ValueClass::kTimestampTz;
  if (type == "time") return ValueClass::kTime;
  if (type == "uuid") return ValueClass::kUuid;
  if (type == "bit") {
    int width = 1;
    if (size_t open = column_type.find('('); open != std::string_view::npos) {
      width = 0;
      for (size_t i = open + 1; i < column_type.size() && std::isdigit(column_type[i]); ++i) {
        width = width * 10 + (column_type[i] - '0');
      }
    }
    if (bit_width != nullptr) *bit_width = width;
    return ValueClass::kBit;
  }
  return ValueClass::kOther;
}

std::string QuoteIdentifier(Engine engine, std::string_view name) {
  const char quote = engine == Engine::kPostgres ? '"' : '`';
  std::string out(1, quote);
  for (char c : name) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

std::string QualifiedTable(Engine engine, std::string_view table_namespace,
                           std::string_view table) {
  return QuoteIdentifier(engine, table_namespace) + "." + QuoteIdentifier(engine, table);
}

std::vector<std::string> SessionSetup(Engine engine) {
  if (engine == Engine::kPostgres) {
    return {"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'",
            "SET standard_conforming_strings = on", "SET client_encoding = 'UTF8'"};
  }
  return {"SET NAMES utf8mb4", "SET time_zone = '+00:00'",
          "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
          "SET SESSION group_concat_max_len = 1048576"};
}

std::string CanonicalExpression(Engine engine, const ColumnInfo& column) {
  const std::string c = QuoteIdentifier(engine, column.name);
  if (engine == Engine::kPostgres) {
    switch (column.value_class) {
      case ValueClass::kBoolean:
        return "CASE WHEN " + c + " IS NULL THEN NULL WHEN " + c + " THEN '1' ELSE '0' END";
      case ValueClass::kDecimal:
        return "trim_scale(" + c + ")::text";
      case ValueClass::kFloat: {
        const std::string f = c + "::float8";
        const std::string exponent = "floor(log(abs(" + f + ")))";
        return "CASE WHEN " + f + " = 0 THEN '0' WHEN " + f +
               " IN ('NaN', 'Infinity', '-Infinity') THEN " + f + "::text ELSE ((" + f +
               " / 10 ^ " + exponent + ")::numeric(16,14))::text || 'e' || " + exponent +
               "::bigint::text END";
      }
      case ValueClass::kBinary:
        return "encode(" + c + ", 'hex')";
      case ValueClass::kDate:
        return "to_char(" + c + ", 'YYYY-MM-DD')";
      case ValueClass::kTimestamp:
        return "to_char(" + c + ", 'YYYY-MM-DD HH24:MI:SS.US')";
      case ValueClass::kTimestampTz:
        return "to_char(" + c + " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')";
      case ValueClass::kTime:
        // time's text is HH:MM:SS[.f...] (24:00:00 included): six fraction digits appended.
        return "CASE WHEN position('.' in " + c + "::text) > 0 THEN rpad(" + c +
               "::text, 15, '0') ELSE " + c + "::text || '.000000' END";
      case ValueClass::kOther:
        // The type's output function (format), as clients and the capture see the value:
        // inet's cast to text would add a netmask ('::1/128') that its output leaves out.
        return "CASE WHEN " + c + " IS NULL THEN NULL ELSE format('%s', " + c + ") END";
      default:
        return c + "::text";
    }
  }
  switch (column.value_class) {
    case ValueClass::kDecimal: {
      const std::string text = "CAST(" + c + " AS CHAR)";
      return "IF(LOCATE('.', " + text + ") > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM " +
             text + ")), " + text + ")";
    }
    case ValueClass::kFloat: {
      const std::string exponent = "FLOOR(LOG10(ABS(" + c + ")))";
      return "IF(" + c + " = 0, '0', CONCAT(CAST(CAST(" + c + " / POWER(10, " + exponent +
             ") AS DECIMAL(16,14)) AS CHAR), 'e', CAST(" + exponent + " AS SIGNED)))";
    }
    case ValueClass::kText:
      return "CONVERT(" + c + " USING utf8mb4)";
    case ValueClass::kBinary:
      return "LOWER(HEX(" + c + "))";
    case ValueClass::kDate:
      return "DATE_FORMAT(" + c + ", '%Y-%m-%d')";
    case ValueClass::kTimestamp:
    case ValueClass::kTimestampTz:
      return "DATE_FORMAT(" + c + ", '%Y-%m-%d %H:%i:%s.%f')";
    case ValueClass::kTime:
      return "TIME_FORMAT(" + c + ", '%H:%i:%s.%f')";
    case ValueClass::kUuid:
      return "LOWER(CAST(" + c + " AS CHAR))";
    case ValueClass::kBit:
      return "LPAD(BIN(" + c + "), " + std::to_string(column.bit_width) + ", '0')";
    default:
      return "CONVERT(CAST(" + c + " AS CHAR) USING utf8mb4)";
  }
}

std::string OrderExpression(Engine engine, const ColumnInfo& column) {
  const std::string c = QuoteIdentifier(engine, column.name);
  if (column.value_class != ValueClass::kText) return c;
  return engine == Engine::kPostgres ? c + " COLLATE \"C\""
                                     : "CONVERT(" + c + " USING utf8mb4) COLLATE utf8mb4_nopad_bin";
}

std::string KeyLiteral(Engine engine, const ColumnInfo& column, std::string_view text) {
  const bool postgres = engine == Engine::kPostgres;
  switch (column.value_class) {
    case ValueClass::kInteger:
    case ValueClass::kDecimal:
    case ValueClass::kFloat:
      if (IsNumberText(text)) return std::string(text);
      return QuoteLiteral(text);
    case ValueClass::kBoolean:
      return text == "1" ? "TRUE" : "FALSE";
    case ValueClass::kBinary:
      if (!IsHexText(text)) return QuoteLiteral(text);
      return postgres ? "decode('" + std::string(text) + "', 'hex')"
                      : "X'" + std::string(text) + "'";
    case ValueClass::kText:
      if (postgres) return QuoteLiteral(text);
      return "CONVERT(X'" + Hex(text) + "' USING utf8mb4) COLLATE utf8mb4_nopad_bin";
    case ValueClass::kBit:
      return postgres ? "B" + QuoteLiteral(text) : "b" + QuoteLiteral(text);
    default:
      return QuoteLiteral(text);
  }
}

std::string KeyAfter(Engine engine, const std::vector<ColumnInfo>& key,
                     const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    std::string term;
    for (size_t j = 0; j < i; ++j) {
      term +=
          OrderExpression(engine, key[j]) + " = " + KeyLiteral(engine, key[j], values[j]) + " AND ";
    }
    term += OrderExpression(engine, key[i]) + " > " + KeyLiteral(engine, key[i], values[i]);
    out += (out.empty() ? "(" : " OR (") + term + ")";
  }
  return "(" + out + ")";
}

std::string RowHashExpression(Engine engine, const std::vector<ColumnInfo>& columns) {
  std::string text;
  if (engine == Engine::kPostgres) {
    for (const ColumnInfo& column : columns) {
      if (!text.empty()) text += " || chr(31) || ";
      text += "coalesce(" + CanonicalExpression(engine, column) + ", chr(30))";
    }
    return "md5(" + (text.empty() ? std::string("''") : text) + ")";
  }
  for (const ColumnInfo& column : columns) {
    if (!text.empty()) text += ", CHAR(31 USING utf8mb4), ";
    text += "COALESCE(" + CanonicalExpression(engine, column) + ", CHAR(30 USING utf8mb4))";
  }
  return "MD5(CONVERT(CONCAT(" + (text.empty() ? std::string("''") : text) + ") USING utf8mb4))";
}

std::string HashSumAggregate(Engine engine, const std::vector<ColumnInfo>& columns) {
  const std::string hash = RowHashExpression(engine, columns);
  if (engine == Engine::kPostgres) {
    return "coalesce(sum(('x' || substr(" + hash + ", 1, 15))::bit(60)::bigint), 0)::text";
  }
  return "CAST(COALESCE(SUM(CAST(CONV(SUBSTRING(" + hash +
         ", 1, 15), 16, 10) AS UNSIGNED)), 0) AS CHAR)";
}

}  // namespace eddy::validate
