#include "base/line_file.h"

#include "base/crc32c.h"

namespace eddy {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";       // %XX escapes
constexpr char kLowerHexDigits[] = "0123456789abcdef";  // the trailer, as its spec writes it

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void AppendEscapedField(std::string& out, std::string_view text) {
  out += ' ';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == '%' || byte < 0x21 || byte > 0x7e) {
      out += '%';
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xf];
    } else {
      out += c;
    }
  }
}

bool DecodeEscapedField(std::string_view field, std::string* out) {
  out->clear();
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out->push_back(field[i]);
      continue;
    }
    if (i + 2 >= field.size()) return false;
    int high = HexDigitValue(field[i + 1]);
    int low = HexDigitValue(field[i + 2]);
    if (high < 0 || low < 0) return false;
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

std::vector<std::string_view> SplitEscapedFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t begin = 0;
  while (true) {
    size_t end = line.find(' ', begin);
    fields.push_back(line.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return fields;
}

void AppendCrcTrailer(std::string& out) {
  const uint32_t crc = crc32c::Mask(crc32c::Value(out));
  out += "crc32c ";
  for (int shift = 28; shift >= 0; shift -= 4) out += kLowerHexDigits[(crc >> shift) & 0xf];
  out += '\n';
}

Result<std::string_view> BodyBeforeCrcTrailer(std::string_view text) {
  size_t crc_line = text.rfind("crc32c ");
  if (crc_line == std::string_view::npos || (crc_line != 0 && text[crc_line - 1] != '\n')) {
    return Corruption("no crc32c line (a torn write?)");
  }
  std::string_view crc_text = text.substr(crc_line + 7);
  if (crc_text.size() != 9 || crc_text.back() != '\n') return Corruption("bad crc32c line");
  uint32_t stored = 0;
  for (char c : crc_text.substr(0, 8)) {
    int value = HexDigitValue(c);
    if (value < 0) return Corruption("bad crc32c line");
    stored = stored * 16 + static_cast<uint32_t>(value);
  }
  std::string_view body = text.substr(0, crc_line);
  if (crc32c::Mask(crc32c::Value(body)) != stored) return Corruption("CRC mismatch");
  return body;
}

}  // namespace eddy
