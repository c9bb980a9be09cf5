#include "source/postgres/copy_text.h"

#include <string>

namespace eddy::source::postgres {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Malformed(std::string_view why, size_t column) {
  return Corruption("COPY text row: " + std::string(why) + " in column " +
                    std::to_string(column + 1));
}

// Appends the unescaped `field` (which holds at least one backslash) to `scratch`.
Status Unescape(std::string_view field, size_t column, std::string& scratch) {
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\') {
      scratch.push_back(c);
      continue;
    }
    if (++i == field.size()) return Malformed("a backslash ends the value", column);
    c = field[i];
    switch (c) {
      case 'b':
        scratch.push_back('\b');
        break;
      case 'f':
        scratch.push_back('\f');
        break;
      case 'n':
        scratch.push_back('\n');
        break;
      case 'r':
        scratch.push_back('\r');
        break;
      case 't':
        scratch.push_back('\t');
        break;
      case 'v':
        scratch.push_back('\v');
        break;
      case 'x': {
        int value = i + 1 < field.size() ? HexDigit(field[i + 1]) : -1;
        if (value < 0) return Malformed("\\x without a hex digit", column);
        ++i;
        if (i + 1 < field.size() && HexDigit(field[i + 1]) >= 0) {
          value = value * 16 + HexDigit(field[++i]);
        }
        scratch.push_back(static_cast<char>(value));
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int value = c - '0';
          for (int digits = 1;
               digits < 3 && i + 1 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '7';
               ++digits) {
            value = value * 8 + (field[++i] - '0');
          }
          scratch.push_back(static_cast<char>(value & 0xFF));
        } else {
          scratch.push_back(c);  // \\ and any other escaped character stand for themselves
        }
    }
  }
  return Status::Ok();
}

}  // namespace

Status SplitCopyTextRow(std::string_view line, size_t columns,
                        std::vector<std::optional<std::string_view>>& values,
                        std::string& scratch) {
  values.clear();
  scratch.clear();
  scratch.reserve(line.size());  // unescaping never grows a value: views into it stay valid
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // One pass per field finds its end and whether it holds a backslash (fields are short:
  // a memchr for the tab and another for a backslash cost more than the bytes).
  const char* p = line.data();
  const char* const end = p + line.size();
  while (true) {
    const char* start = p;
    bool escaped = false;
    while (p != end && *p != '\t') {
      escaped |= *p == '\\';
      ++p;
    }
    std::string_view field(start, static_cast<size_t>(p - start));
    if (values.size() == columns) {
      return Corruption("COPY text row has more than " + std::to_string(columns) + " columns");
    }
    if (!escaped) {
      values.emplace_back(field);
    } else if (field == "\\N") {
      values.emplace_back(std::nullopt);
    } else {
      size_t offset = scratch.size();
      EDDY_RETURN_IF_ERROR(Unescape(field, values.size(), scratch));
      values.emplace_back(std::string_view(scratch).substr(offset));
    }
    if (p == end) break;
    ++p;  // the tab
  }
  if (values.size() != columns) {
    return Corruption("COPY text row has " + std::to_string(values.size()) + " columns, " +
                      std::to_string(columns) + " expected");
  }
  return Status::Ok();
}

}  // namespace eddy::source::postgres
