#include "sink/replica/sql_text.h"

#include <cctype>

namespace eddy::sink::replica {

std::string QuoteDoubling(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out += quote;
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

std::string IdentifierList(const TargetDialect& dialect, const std::vector<std::string>& names,
                           std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += separator;
    out += dialect.QuoteIdentifier(names[i]);
  }
  return out;
}

void AppendLiteralRow(const TargetDialect& dialect, const TextRow& row, std::string& sql) {
  sql += '(';
  for (size_t i = 0; i < row.size(); ++i) {
    if (i) sql += ',';
    if (row[i]) {
      sql += dialect.QuoteLiteral(*row[i]);
    } else {
      sql += "NULL";
    }
  }
  sql += ')';
}

std::string InsertValues(const TargetDialect& dialect, const TargetTable& table,
                         const std::vector<std::string>& columns,
                         const std::vector<TextRow>& rows) {
  std::string sql = "INSERT INTO " + dialect.QualifiedName(table) + " (" +
                    IdentifierList(dialect, columns, ",") + ") VALUES ";
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r) sql += ',';
    AppendLiteralRow(dialect, rows[r], sql);
  }
  return sql;
}

std::vector<std::string> NonKeyColumns(const std::vector<std::string>& columns,
                                       const std::vector<std::string>& key_columns) {
  std::vector<std::string> out;
  for (const std::string& column : columns) {
    bool is_key = false;
    for (const std::string& key : key_columns) is_key = is_key || key == column;
    if (!is_key) out.push_back(column);
  }
  return out;
}

std::string CreateTableStatement(const TargetDialect& dialect, const TargetTable& table,
                                 const std::vector<TargetColumn>& columns,
                                 const std::vector<std::string>& primary_key, bool say_null) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + dialect.QualifiedName(table) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) sql += ", ";
    sql += dialect.QuoteIdentifier(columns[i].name) + " " + columns[i].type;
    if (!columns[i].nullable) {
      sql += " NOT NULL";
    } else if (say_null) {
      sql += " NULL";
    }
  }
  if (!primary_key.empty())
    sql += ", PRIMARY KEY (" + IdentifierList(dialect, primary_key, ", ") + ")";
  sql += ")";
  return sql;
}

void AppendBulkEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

void AppendHex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
}

void AppendTwoDigits(std::string& out, int64_t value) {
  out.push_back(static_cast<char>('0' + value / 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

void AppendClock(std::string& out, int64_t seconds) {
  int64_t hours = seconds / 3600;
  if (hours < 10) out += '0';
  out += std::to_string(hours);
  out += ':';
  AppendTwoDigits(out, (seconds / 60) % 60);
  out += ':';
  AppendTwoDigits(out, seconds % 60);
}

DayAndMicros SplitEpochMicros(int64_t micros) {
  constexpr int64_t kMicrosPerDay = 86'400'000'000LL;
  DayAndMicros out{micros / kMicrosPerDay, micros % kMicrosPerDay};
  if (out.micros < 0) {
    out.micros += kMicrosPerDay;
    out.days -= 1;
  }
  return out;
}

namespace {

// Where array_out quotes an element: empty, the word NULL, or a special character.
bool NeedsQuotes(std::string_view text) {
  if (text.empty()) return true;
  if (text.size() == 4) {
    std::string upper;
    for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "NULL") return true;
  }
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' ||
        c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> ArrayText(const model::ArrayValue& array, const ArrayElementRenderer& render,
                              bool quote_always) {
  std::string out = "{";
  bool first = true;
  for (const model::Value& element : array.elements) {
    if (!first) out += ',';
    first = false;
    if (element.is_null()) {
      out += "NULL";
      continue;
    }
    if (const auto* nested = element.TryGet<model::ArrayValue>()) {
      EDDY_ASSIGN_OR_RETURN(std::string inner, ArrayText(*nested, render, quote_always));
      out += inner;
      continue;
    }
    EDDY_ASSIGN_OR_RETURN(TextValue text, render(element));
    const std::string& t = text.value_or("");
    if (!quote_always && !NeedsQuotes(t)) {
      out += t;
      continue;
    }
    out += '"';
    for (char c : t) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace eddy::sink::replica
