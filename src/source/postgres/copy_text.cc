#include "source/postgres/copy_text.h"

#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

namespace {

// Bit i of `tabs` / `backslashes` for byte i of a 16-byte block.
struct BlockMasks {
  uint32_t tabs = 0;
  uint32_t backslashes = 0;
};

inline BlockMasks ScanBlock(const char* block) {
  BlockMasks masks;
#if defined(__SSE2__)
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
  masks.tabs = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('\t'))));
  masks.backslashes =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
#else
  for (uint32_t i = 0; i < 16; ++i) {
    masks.tabs |= static_cast<uint32_t>(block[i] == '\t') << i;
    masks.backslashes |= static_cast<uint32_t>(block[i] == '\\') << i;
  }
#endif
  return masks;
}

// The field [begin, end) of `line` into `values`: a view into the line, NULL for "\\N", or
// unescaped into `scratch` when it holds a backslash.
Status AddField(std::string_view line, size_t begin, size_t end, bool escaped, size_t columns,
                std::vector<std::optional<std::string_view>>& values, std::string& scratch) {
  if (values.size() == columns) {
    return Corruption("COPY text row has more than " + std::to_string(columns) + " columns");
  }
  std::string_view field = line.substr(begin, end - begin);
  if (!escaped) {
    values.emplace_back(field);
  } else if (field == "\\N") {
    values.emplace_back(std::nullopt);
  } else {
    size_t offset = scratch.size();
    EDDY_RETURN_IF_ERROR(Unescape(field, values.size(), scratch));
    values.emplace_back(std::string_view(scratch).substr(offset));
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
  // The tabs and backslashes of 16 bytes at a time, as bit masks (a byte-at-a-time loop was
  // most of the split's cost: about 7 instructions a byte). The last block is copied into a
  // zeroed one first, so no read goes past the line.
  size_t field_begin = 0;
  bool escaped = false;  // a backslash in the current field so far
  for (size_t block = 0; block < line.size(); block += 16) {
    BlockMasks masks;
    if (line.size() - block >= 16) {
      masks = ScanBlock(line.data() + block);
    } else {
      char last[16] = {};
      std::memcpy(last, line.data() + block, line.size() - block);
      masks = ScanBlock(last);
    }
    uint32_t from = 0;  // the block's first bit in the current field
    while (masks.tabs != 0) {
      const uint32_t tab = static_cast<uint32_t>(__builtin_ctz(masks.tabs));
      const uint32_t field_bits = ((uint32_t{1} << tab) - 1) & ~((uint32_t{1} << from) - 1);
      escaped |= (masks.backslashes & field_bits) != 0;
      if (!escaped && values.size() < columns) {
        values.emplace_back(line.substr(field_begin, block + tab - field_begin));
      } else {
        EDDY_RETURN_IF_ERROR(
            AddField(line, field_begin, block + tab, escaped, columns, values, scratch));
      }
      field_begin = block + tab + 1;
      escaped = false;
      from = tab + 1;
      masks.tabs &= masks.tabs - 1;
    }
    escaped |= (masks.backslashes >> from) != 0;  // `from` is at most 16
  }
  EDDY_RETURN_IF_ERROR(AddField(line, field_begin, line.size(), escaped, columns, values, scratch));
  if (values.size() != columns) {
    return Corruption("COPY text row has " + std::to_string(values.size()) + " columns, " +
                      std::to_string(columns) + " expected");
  }
  return Status::Ok();
}

}  // namespace eddy::source::postgres
