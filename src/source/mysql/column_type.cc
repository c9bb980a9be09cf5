#include "source/mysql/column_type.h"

#include <cstdint>

namespace eddy::source::mysql {
namespace {

bool IsInteger(std::string_view t) {
  return t == "tinyint" || t == "smallint" || t == "mediumint" || t == "int" || t == "bigint";
}

bool IsTextOrBlob(std::string_view t) {
  return t == "tinytext" || t == "text" || t == "mediumtext" || t == "longtext" ||
         t == "tinyblob" || t == "blob" || t == "mediumblob" || t == "longblob";
}

bool IsGeometry(std::string_view t) {
  return t == "geometry" || t == "point" || t == "linestring" || t == "polygon" ||
         t == "multipoint" || t == "multilinestring" || t == "multipolygon" ||
         t == "geometrycollection";
}

// COLUMN_TYPE up to its first space ("decimal(10,2) unsigned zerofill" -> "decimal(10,2)").
std::string_view FirstWord(std::string_view column_type) {
  return column_type.substr(0, column_type.find(' '));
}

}  // namespace

int CharsetMaxBytes(std::string_view charset) {
  if (charset == "utf8mb4" || charset == "utf16" || charset == "utf16le" || charset == "utf32" ||
      charset == "gb18030") {
    return 4;
  }
  if (charset == "utf8mb3" || charset == "utf8" || charset == "ujis" || charset == "eucjpms") {
    return 3;
  }
  if (charset == "ucs2" || charset == "big5" || charset == "gbk" || charset == "gb2312" ||
      charset == "sjis" || charset == "cp932" || charset == "euckr") {
    return 2;
  }
  return 1;
}

std::string QuoteTypeLabel(std::string_view label) {
  std::string out = "'";
  for (char c : label) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string LabelledType(std::string_view base, const std::vector<std::string>& labels) {
  std::string out(base);
  out += '(';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += QuoteTypeLabel(labels[i]);
  }
  out += ')';
  return out;
}

bool ParseTypeLabels(std::string_view column_type, std::vector<std::string>& labels) {
  labels.clear();
  size_t open = column_type.find('(');
  if (open == std::string_view::npos) return false;
  size_t i = open + 1;
  if (i < column_type.size() && column_type[i] == ')') return i + 1 == column_type.size();
  while (i < column_type.size()) {
    if (column_type[i] != '\'') return false;
    ++i;
    std::string label;
    bool closed = false;
    while (i < column_type.size()) {
      char c = column_type[i];
      if (c == '\'') {
        if (i + 1 < column_type.size() && column_type[i + 1] == '\'') {
          label += '\'';
          i += 2;
          continue;
        }
        closed = true;
        ++i;
        break;
      }
      label += c;
      ++i;
    }
    if (!closed) return false;
    labels.push_back(std::move(label));
    if (i >= column_type.size()) return false;
    if (column_type[i] == ',') {
      ++i;
      continue;
    }
    return column_type[i] == ')' && i + 1 == column_type.size();
  }
  return false;
}

std::string DeclaredTypeFromTableMap(const ColumnInfo& column) {
  const bool binary = column.charset == "binary" || column.collation == kBinaryCollation;
  const int max_bytes = CharsetMaxBytes(column.charset);
  switch (static_cast<ColumnType>(column.real_type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
    case ColumnType::kYear:
    case ColumnType::kFloat:
    case ColumnType::kDouble:
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal:
    case ColumnType::kDate:
    case ColumnType::kNewDate:
    case ColumnType::kTime:
    case ColumnType::kTime2:
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2:
    case ColumnType::kJson:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kBlob:
      return column.SourceTypeName();
    case ColumnType::kBit: {
      uint32_t bits = (column.metadata >> 8) * 8u + (column.metadata & 0xFF);
      return "bit(" + std::to_string(bits) + ")";
    }
    case ColumnType::kEnum:
    case ColumnType::kSet: {
      if (column.enum_values.empty()) return "";
      // Labels arrive in the column's character set; the catalog (and so the snapshot) gives
      // them in UTF-8.
      std::vector<std::string> labels;
      for (const std::string& label : column.enum_values) {
        Result<std::string> utf8 = ToUtf8(label, column.charset);
        labels.push_back(utf8.ok() ? std::move(*utf8) : label);
      }
      return LabelledType(
          column.real_type == static_cast<uint8_t>(ColumnType::kEnum) ? "enum" : "set", labels);
    }
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
      return binary ? "varbinary(" + std::to_string(column.metadata) + ")"
                    : "varchar(" + std::to_string(column.metadata / max_bytes) + ")";
    case ColumnType::kString:
      return binary ? "binary(" + std::to_string(column.metadata) + ")"
                    : "char(" + std::to_string(column.metadata / max_bytes) + ")";
    case ColumnType::kGeometry: {
      static constexpr const char* kNames[] = {
          "geometry",   "point",           "linestring",   "polygon",
          "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
      return column.geometry_type < 8 ? kNames[column.geometry_type] : "geometry";
    }
    default:
      return "";
  }
}

std::string DeclaredTypeFromColumnType(std::string_view data_type, std::string_view column_type,
                                       std::string_view character_set) {
  const bool is_unsigned = column_type.find("unsigned") != std::string_view::npos;
  const std::string suffix = is_unsigned ? " unsigned" : "";
  const std::string t(data_type);
  if (IsInteger(t)) return t + suffix;
  if (t == "year") return t;
  if (t == "float") return "float" + suffix;
  if (t == "double" || t == "real") return "double" + suffix;
  if (t == "decimal" || t == "numeric") {
    std::string_view word = FirstWord(column_type);
    if (word.starts_with("numeric"))
      word.remove_prefix(7);
    else if (word.starts_with("decimal"))
      word.remove_prefix(7);
    return "decimal" + std::string(word) + suffix;
  }
  if (t == "date" || t == "json") return t;
  if (t == "time" || t == "datetime" || t == "timestamp" || t == "bit" || t == "binary" ||
      t == "varbinary") {
    return std::string(FirstWord(column_type));
  }
  if (t == "enum" || t == "set") {
    std::vector<std::string> labels;
    if (!ParseTypeLabels(column_type, labels) || labels.empty()) return "";
    return LabelledType(t, labels);
  }
  if (t == "char" || t == "varchar") {
    std::string word(FirstWord(column_type));
    if (character_set == "binary")
      return (t == "char" ? "binary" : "varbinary") + word.substr(t.size());
    return word;
  }
  if (IsTextOrBlob(t)) {
    if (character_set == "binary" && t.ends_with("text")) {
      return t.substr(0, t.size() - 4) + "blob";
    }
    return t;
  }
  if (IsGeometry(t)) return t;
  return "";
}

}  // namespace eddy::source::mysql
