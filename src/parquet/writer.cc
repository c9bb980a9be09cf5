#include "parquet/writer.h"

#include <simdjson.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "base/bytes.h"
#include "format/json.h"
#include "format/renderers.h"
#include "format/value_text.h"
#include "model/event_codec.h"
#include "parquet/parquet_format.h"
#include "parquet/thrift_compact.h"

#ifndef EDDY_VERSION
#define EDDY_VERSION "0.0.0"
#endif

namespace eddy::parquet {

namespace {

using format::ConvertedType;
using thrift::CompactType;
using thrift::CompactWriter;
__extension__ typedef __int128 Int128;

// How a column's values are converted and compared; one per ColumnLayout.
enum class Kind : uint8_t {
  kBool,
  kInt32,   // signed INT(8|16|32)
  kUint32,  // unsigned INT(8|16|32), stored as the INT32 bit pattern
  kInt64,   // signed INT(64)
  kUint64,  // unsigned INT(64), stored as the INT64 bit pattern
  kFloat,
  kDouble,
  kDecimal32,
  kDecimal64,
  kDecimalFixed,
  kDate,
  kTime,
  kTimestamp,    // naive: TIMESTAMP(MICROS, isAdjustedToUTC=false)
  kTimestampTz,  // instant: TIMESTAMP(MICROS, isAdjustedToUTC=true)
  kUuid,
  kString,
  kBytes,
};

struct ColumnSpec {
  ColumnLayout layout;
  Kind kind = Kind::kString;
  int int_bits = 64;
  int32_t precision = 0;
  int32_t scale = 0;
  std::optional<int32_t> field_id;
};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Bit width of an integer column from the catalog's type name (PostgreSQL int2/int4/int8,
// MySQL tinyint..bigint, YEAR); 64 when the name says nothing.
int IntegerBits(std::string_view source_type) {
  std::string name = Lower(source_type);
  size_t end = name.find_first_of(" (");
  if (end != std::string::npos) name.resize(end);
  if (name == "tinyint") return 8;
  if (name == "smallint" || name == "int2" || name == "year" || name == "smallserial") return 16;
  if (name == "mediumint" || name == "int" || name == "integer" || name == "int4" ||
      name == "serial") {
    return 32;
  }
  return 64;
}

// Minimal FIXED_LEN_BYTE_ARRAY length for a DECIMAL of `precision` digits (Parquet and Iceberg).
int32_t DecimalBytes(int32_t precision) {
  Int128 max = 1;
  for (int i = 0; i < precision; ++i) max *= 10;
  max -= 1;
  for (int32_t bytes = 1; bytes <= 16; ++bytes) {
    const Int128 limit = (static_cast<Int128>(1) << (8 * bytes - 1)) - 1;
    if (limit >= max) return bytes;
  }
  return 16;
}

ColumnSpec Resolve(const model::TableSchema& schema, const model::Column& column,
                   const WriterOptions& options) {
  ColumnSpec spec;
  spec.layout.name = column.name;
  spec.layout.optional = column.nullable || options.cdc_columns;
  auto as_string = [&spec](std::string logical = "STRING") {
    spec.kind = Kind::kString;
    spec.layout.physical = PhysicalType::kByteArray;
    spec.layout.logical = std::move(logical);
  };
  switch (column.type) {
    case model::ValueType::kBool:
      spec.kind = Kind::kBool;
      spec.layout.physical = PhysicalType::kBoolean;
      spec.layout.logical = "BOOLEAN";
      break;
    case model::ValueType::kInt64:
    case model::ValueType::kUint64: {
      const bool is_unsigned = column.type == model::ValueType::kUint64 ||
                               Lower(column.source_type).find("unsigned") != std::string::npos;
      spec.int_bits = IntegerBits(column.source_type);
      if (spec.int_bits <= 32) {
        spec.kind = is_unsigned ? Kind::kUint32 : Kind::kInt32;
        spec.layout.physical = PhysicalType::kInt32;
      } else {
        spec.kind = is_unsigned ? Kind::kUint64 : Kind::kInt64;
        spec.layout.physical = PhysicalType::kInt64;
      }
      spec.layout.logical = "INT(" + std::to_string(spec.int_bits) + "," +
                            (is_unsigned ? "unsigned" : "signed") + ")";
      break;
    }
    case model::ValueType::kFloat32:
      spec.kind = Kind::kFloat;
      spec.layout.physical = PhysicalType::kFloat;
      spec.layout.logical = "FLOAT";
      break;
    case model::ValueType::kFloat64:
      spec.kind = Kind::kDouble;
      spec.layout.physical = PhysicalType::kDouble;
      spec.layout.logical = "DOUBLE";
      break;
    case model::ValueType::kDecimal: {
      const int32_t precision = column.precision.value_or(0);
      const int32_t scale = column.scale.value_or(0);
      // Parquet DECIMAL needs 1 <= precision and 0 <= scale <= precision; beyond 38 digits no
      // reader eddy targets (DuckDB, Iceberg, Spark) has a decimal type, so those stay text.
      if (precision < 1 || precision > 38 || scale < 0 || scale > precision) {
        as_string();
        break;
      }
      spec.precision = precision;
      spec.scale = scale;
      if (precision <= 9) {
        spec.kind = Kind::kDecimal32;
        spec.layout.physical = PhysicalType::kInt32;
      } else if (precision <= 18) {
        spec.kind = Kind::kDecimal64;
        spec.layout.physical = PhysicalType::kInt64;
      } else {
        spec.kind = Kind::kDecimalFixed;
        spec.layout.physical = PhysicalType::kFixedLenByteArray;
        spec.layout.type_length = DecimalBytes(precision);
      }
      spec.layout.logical =
          "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
      break;
    }
    case model::ValueType::kBytes:
      spec.kind = Kind::kBytes;
      spec.layout.physical = PhysicalType::kByteArray;
      spec.layout.logical = "BYTE_ARRAY";
      break;
    case model::ValueType::kDate:
      spec.kind = Kind::kDate;
      spec.layout.physical = PhysicalType::kInt32;
      spec.layout.logical = "DATE";
      break;
    case model::ValueType::kTime:
      // MySQL TIME is a duration (±838:59:59); Parquet TIME is a time of day, and readers
      // fail on values outside it (DuckDB's statistics rendering aborts on negative times).
      if (schema.table.schema.empty()) {
        as_string();
        break;
      }
      spec.kind = Kind::kTime;
      spec.layout.physical = PhysicalType::kInt64;
      spec.layout.logical = "TIME(MICROS,local)";
      break;
    case model::ValueType::kTimestamp:
      spec.kind = Kind::kTimestamp;
      spec.layout.physical = PhysicalType::kInt64;
      spec.layout.logical = "TIMESTAMP(MICROS,local)";
      break;
    case model::ValueType::kTimestampTz:
      spec.kind = Kind::kTimestampTz;
      spec.layout.physical = PhysicalType::kInt64;
      spec.layout.logical = "TIMESTAMP(MICROS,UTC)";
      break;
    case model::ValueType::kUuid:
      if (options.uuid_as_string) {
        as_string();
      } else {
        spec.kind = Kind::kUuid;
        spec.layout.physical = PhysicalType::kFixedLenByteArray;
        spec.layout.type_length = 16;
        spec.layout.logical = "UUID";
      }
      break;
    default:
      // text, json, enum, timetz, interval, bits, arrays, typed text, and columns of unknown type
      as_string();
      break;
  }
  return spec;
}

ColumnSpec CdcSpec(std::string_view name, Kind kind, bool optional) {
  ColumnSpec spec;
  spec.layout.name = std::string(name);
  spec.layout.optional = optional;
  spec.kind = kind;
  if (kind == Kind::kTimestampTz) {
    spec.layout.physical = PhysicalType::kInt64;
    spec.layout.logical = "TIMESTAMP(MICROS,UTC)";
  } else {
    spec.layout.physical = PhysicalType::kByteArray;
    spec.layout.logical = "STRING";
  }
  return spec;
}

// Min/max of one column over some values, in the column type's defined order.
struct Bounds {
  bool has = false;
  int64_t min_i = 0, max_i = 0;   // signed integers, dates, times, timestamps
  uint64_t min_u = 0, max_u = 0;  // unsigned integers
  double min_d = 0, max_d = 0;    // float, double (NaN never enters)
  Int128 min_w = 0, max_w = 0;    // decimals
  std::string min_s, max_s;       // byte arrays (unsigned bytewise), bool as 0/1 byte
  // Order keys of min_s and max_s (OrderKey): most values are placed by them alone.
  uint64_t min_key = 0, max_key = 0;

  // The first 8 bytes of `v`, big-endian, zero-padded. Of two texts, the one with the smaller
  // key is the smaller in unsigned bytewise order (at the first differing byte, a text that
  // ended pads 0, which no byte is below); equal keys say nothing, and the texts decide.
  static uint64_t OrderKey(std::string_view v) {
    uint64_t key = 0;
    if (v.size() >= 8) {
      std::memcpy(&key, v.data(), 8);
    } else if (!v.empty()) {
      std::memcpy(&key, v.data(), v.size());
    }
    if constexpr (std::endian::native == std::endian::little) key = __builtin_bswap64(key);
    return key;
  }
  // Whether `a` (whose OrderKey is a_key) sorts before `b` (b_key), unsigned bytewise. Texts of
  // at most 8 bytes with equal keys differ only in length (the shorter one is the other's
  // prefix up to zero bytes), so the bytes are compared only when one is longer.
  static bool Before(std::string_view a, uint64_t a_key, std::string_view b, uint64_t b_key) {
    if (a_key != b_key) return a_key < b_key;
    if (a.size() <= 8 && b.size() <= 8) return a.size() < b.size();
    return a < b;
  }

  void Signed(int64_t v) {
    if (!has) {
      min_i = max_i = v;
      has = true;
    } else if (v < min_i) {
      min_i = v;
    } else if (v > max_i) {
      max_i = v;
    }
  }
  void Unsigned(uint64_t v) {
    if (!has) {
      min_u = max_u = v;
      has = true;
    } else if (v < min_u) {
      min_u = v;
    } else if (v > max_u) {
      max_u = v;
    }
  }
  void Floating(double v) {
    if (!has) {
      min_d = max_d = v;
      has = true;
    } else if (v < min_d) {
      min_d = v;
    } else if (v > max_d) {
      max_d = v;
    }
  }
  void Wide(Int128 v) {
    if (!has) {
      min_w = max_w = v;
      has = true;
    } else if (v < min_w) {
      min_w = v;
    } else if (v > max_w) {
      max_w = v;
    }
  }
  void Bytes(std::string_view v) {
    const uint64_t key = OrderKey(v);
    if (!has) {
      min_s.assign(v.data(), v.size());
      max_s.assign(v.data(), v.size());
      min_key = max_key = key;
      has = true;
    } else if (Before(v, key, min_s, min_key)) {
      min_s.assign(v.data(), v.size());
      min_key = key;
    } else if (Before(max_s, max_key, v, key)) {
      max_s.assign(v.data(), v.size());
      max_key = key;
    }
  }
  void Merge(const Bounds& other) {
    if (!other.has) return;
    if (!has) {
      *this = other;
      return;
    }
    min_i = std::min(min_i, other.min_i);
    max_i = std::max(max_i, other.max_i);
    min_u = std::min(min_u, other.min_u);
    max_u = std::max(max_u, other.max_u);
    min_d = std::min(min_d, other.min_d);
    max_d = std::max(max_d, other.max_d);
    min_w = std::min(min_w, other.min_w);
    max_w = std::max(max_w, other.max_w);
    if (std::string_view(other.min_s) < std::string_view(min_s)) {
      min_s = other.min_s;
      min_key = other.min_key;
    }
    if (std::string_view(other.max_s) > std::string_view(max_s)) {
      max_s = other.max_s;
      max_key = other.max_key;
    }
  }
};

void PutBigEndian(std::string& out, Int128 value, int32_t bytes) {
  for (int32_t i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>(static_cast<uint8_t>(value >> (8 * i))));
  }
}

size_t Utf8PrefixLength(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text.size();
  size_t cut = limit;
  // Back up to the start of a code point (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

// The smallest string greater than every string starting with `prefix`, by incrementing its
// last character (code point for UTF-8 text, byte otherwise); nullopt when none exists.
std::optional<std::string> IncrementPrefix(std::string prefix, bool utf8) {
  while (!prefix.empty()) {
    if (!utf8) {
      auto& last = reinterpret_cast<unsigned char&>(prefix.back());
      if (last != 0xFF) {
        ++last;
        return prefix;
      }
      prefix.pop_back();
      continue;
    }
    // Decode the last code point.
    size_t start = prefix.size() - 1;
    while (start > 0 && (static_cast<uint8_t>(prefix[start]) & 0xC0) == 0x80) --start;
    const auto* p = reinterpret_cast<const uint8_t*>(prefix.data() + start);
    const size_t length = prefix.size() - start;
    uint32_t code = 0;
    if (length == 1) {
      code = p[0];
    } else if (length == 2) {
      code = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    } else if (length == 3) {
      code = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    } else {
      code =
          ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    }
    prefix.resize(start);
    uint32_t next = code + 1;
    if (next >= 0xD800 && next <= 0xDFFF) next = 0xE000;  // skip surrogates
    if (next > 0x10FFFF) continue;                        // carry into the previous character
    if (next < 0x80) {
      prefix.push_back(static_cast<char>(next));
    } else if (next < 0x800) {
      prefix.push_back(static_cast<char>(0xC0 | (next >> 6)));
      prefix.push_back(static_cast<char>(0x80 | (next & 0x3F)));
    } else if (next < 0x10000) {
      prefix.push_back(static_cast<char>(0xE0 | (next >> 12)));
      prefix.push_back(static_cast<char>(0x80 | ((next >> 6) & 0x3F)));
      prefix.push_back(static_cast<char>(0x80 | (next & 0x3F)));
    } else {
      prefix.push_back(static_cast<char>(0xF0 | (next >> 18)));
      prefix.push_back(static_cast<char>(0x80 | ((next >> 12) & 0x3F)));
      prefix.push_back(static_cast<char>(0x80 | ((next >> 6) & 0x3F)));
      prefix.push_back(static_cast<char>(0x80 | (next & 0x3F)));
    }
    return prefix;
  }
  return std::nullopt;
}

struct EncodedBounds {
  std::optional<std::string> min, max;
  bool min_exact = true, max_exact = true;
};

EncodedBounds EncodeBounds(const ColumnSpec& spec, const Bounds& b, size_t truncate_bytes) {
  EncodedBounds out;
  if (!b.has) return out;
  std::string min, max;
  switch (spec.kind) {
    case Kind::kBool:
      min.push_back(static_cast<char>(b.min_i));
      max.push_back(static_cast<char>(b.max_i));
      break;
    case Kind::kInt32:
    case Kind::kDate:
    case Kind::kDecimal32:
      PutFixed32(min,
                 static_cast<uint32_t>(static_cast<int32_t>(
                     spec.kind == Kind::kDecimal32 ? static_cast<int64_t>(b.min_w) : b.min_i)));
      PutFixed32(max,
                 static_cast<uint32_t>(static_cast<int32_t>(
                     spec.kind == Kind::kDecimal32 ? static_cast<int64_t>(b.max_w) : b.max_i)));
      break;
    case Kind::kUint32:
      PutFixed32(min, static_cast<uint32_t>(b.min_u));
      PutFixed32(max, static_cast<uint32_t>(b.max_u));
      break;
    case Kind::kInt64:
    case Kind::kTime:
    case Kind::kTimestamp:
    case Kind::kTimestampTz:
      PutFixed64(min, static_cast<uint64_t>(b.min_i));
      PutFixed64(max, static_cast<uint64_t>(b.max_i));
      break;
    case Kind::kDecimal64:
      PutFixed64(min, static_cast<uint64_t>(static_cast<int64_t>(b.min_w)));
      PutFixed64(max, static_cast<uint64_t>(static_cast<int64_t>(b.max_w)));
      break;
    case Kind::kUint64:
      PutFixed64(min, b.min_u);
      PutFixed64(max, b.max_u);
      break;
    case Kind::kFloat: {
      // Parquet's rule for signed zeros: a zero minimum is written as -0.0, a zero maximum as
      // +0.0, so readers never exclude a zero of the other sign.
      const float lo = b.min_d == 0 ? -0.0f : static_cast<float>(b.min_d);
      const float hi = b.max_d == 0 ? 0.0f : static_cast<float>(b.max_d);
      PutFixed32(min, std::bit_cast<uint32_t>(lo));
      PutFixed32(max, std::bit_cast<uint32_t>(hi));
      break;
    }
    case Kind::kDouble: {
      const double lo = b.min_d == 0 ? -0.0 : b.min_d;
      const double hi = b.max_d == 0 ? 0.0 : b.max_d;
      PutFixed64(min, std::bit_cast<uint64_t>(lo));
      PutFixed64(max, std::bit_cast<uint64_t>(hi));
      break;
    }
    case Kind::kDecimalFixed:
      PutBigEndian(min, b.min_w, spec.layout.type_length);
      PutBigEndian(max, b.max_w, spec.layout.type_length);
      break;
    case Kind::kUuid:
      min = b.min_s;
      max = b.max_s;
      break;
    case Kind::kString:
    case Kind::kBytes: {
      const bool utf8 = spec.kind == Kind::kString;
      if (b.min_s.size() > truncate_bytes) {
        min = b.min_s.substr(0, utf8 ? Utf8PrefixLength(b.min_s, truncate_bytes) : truncate_bytes);
        out.min_exact = false;
      } else {
        min = b.min_s;
      }
      if (b.max_s.size() > truncate_bytes) {
        std::optional<std::string> bound = IncrementPrefix(
            b.max_s.substr(0, utf8 ? Utf8PrefixLength(b.max_s, truncate_bytes) : truncate_bytes),
            utf8);
        out.min = std::move(min);
        if (bound) {
          out.max = std::move(*bound);
          out.max_exact = false;
        }
        return out;
      }
      max = b.max_s;
      break;
    }
  }
  out.min = std::move(min);
  out.max = std::move(max);
  return out;
}

// Where the bytes go.
class Output {
 public:
  virtual ~Output() = default;
  virtual Status Write(std::string_view bytes) = 0;
};

class FileOutput final : public Output {
 public:
  explicit FileOutput(io::File* file) : file_(file) {}
  Status Write(std::string_view bytes) override { return file_->Append(bytes); }

 private:
  io::File* file_;
};

class BufferOutput final : public Output {
 public:
  explicit BufferOutput(std::string* out) : out_(out) {}
  Status Write(std::string_view bytes) override {
    out_->append(bytes.data(), bytes.size());
    return Status::Ok();
  }

 private:
  std::string* out_;
};

// One column chunk as the footer describes it.
struct ChunkMeta {
  uint64_t offset = 0;  // first data page
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t values = 0;
  uint64_t nulls = 0;
  EncodedBounds bounds;
};

struct RowGroupMeta {
  uint64_t rows = 0;
  std::vector<ChunkMeta> chunks;
};

struct ColumnState {
  ColumnSpec spec;
  // The open page.
  std::string values;           // PLAIN values (booleans: packed bytes)
  std::vector<uint8_t> levels;  // definition levels (OPTIONAL columns)
  uint64_t page_rows = 0;
  uint64_t page_bool_count = 0;
  // The current row group's closed pages.
  std::string chunk;
  uint64_t chunk_uncompressed = 0;
  uint64_t chunk_values = 0;
  uint64_t chunk_nulls = 0;
  Bounds chunk_bounds;
  // Whole file.
  Bounds file_bounds;
  uint64_t file_values = 0, file_nulls = 0, file_nans = 0;
  uint64_t file_compressed = 0, file_uncompressed = 0;
  bool file_bounds_truncated_min = false, file_bounds_truncated_max = false;
};

// Definition levels of width 1 in the RLE/bit-packed hybrid: runs of 8 or more equal levels as
// RLE runs, everything between as bit-packed groups of 8 (the last group zero-padded).
void EncodeLevels(const std::vector<uint8_t>& levels, std::string& out) {
  const size_t n = levels.size();
  auto run_at = [&](size_t i) {
    size_t j = i + 1;
    while (j < n && levels[j] == levels[i]) ++j;
    return j - i;
  };
  size_t i = 0;
  while (i < n) {
    const size_t run = run_at(i);
    if (run >= 8) {
      PutVarint64(out, static_cast<uint64_t>(run) << 1);
      out.push_back(static_cast<char>(levels[i]));
      i += run;
      continue;
    }
    // Bit-packed groups until a long run starts (or the end).
    size_t j = i;
    uint64_t groups = 0;
    while (j < n) {
      if (j > i && run_at(j) >= 16) break;
      j += 8;
      ++groups;
    }
    PutVarint64(out, (groups << 1) | 1);
    for (uint64_t g = 0; g < groups; ++g) {
      uint8_t byte = 0;
      for (int bit = 0; bit < 8; ++bit) {
        const size_t index = i + g * 8 + static_cast<size_t>(bit);
        if (index < n && levels[index] != 0) byte |= static_cast<uint8_t>(1u << bit);
      }
      out.push_back(static_cast<char>(byte));
    }
    i = std::min(j, n);
  }
}

// Parses exact decimal text into an unscaled integer at `scale`, checking `precision`.
// Returns nullopt for NaN/±Infinity (no DECIMAL representation).
Result<std::optional<Int128>> ParseDecimal(std::string_view text, int32_t precision,
                                           int32_t scale) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
    return std::optional<Int128>();
  }
  bool negative = false;
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  const size_t dot = digits.find('.');
  std::string_view integer = digits.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : digits.substr(dot + 1);
  auto all_digits = [](std::string_view part) {
    return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if ((integer.empty() && fraction.empty()) || !all_digits(integer) || !all_digits(fraction)) {
    return InvalidArgument("is not a decimal number");
  }
  while (!integer.empty() && integer.front() == '0') integer.remove_prefix(1);
  // Extra fraction digits beyond the scale must be zeros (the catalog's scale holds them).
  while (fraction.size() > static_cast<size_t>(scale) && fraction.back() == '0') {
    fraction.remove_suffix(1);
  }
  if (fraction.size() > static_cast<size_t>(scale)) {
    return InvalidArgument("has more than " + std::to_string(scale) + " fractional digits");
  }
  if (integer.size() + static_cast<size_t>(scale) > static_cast<size_t>(precision)) {
    return InvalidArgument("has more than " + std::to_string(precision - scale) +
                           " integer digits");
  }
  Int128 value = 0;
  for (char c : integer) value = value * 10 + (c - '0');
  for (int32_t i = 0; i < scale; ++i) {
    const char c = static_cast<size_t>(i) < fraction.size() ? fraction[i] : '0';
    value = value * 10 + (c - '0');
  }
  return std::optional<Int128>(negative ? -value : value);
}

class WriterImpl final : public ParquetWriter {
 public:
  WriterImpl(const WriterOptions& options, std::unique_ptr<Output> output)
      : options_(options), output_(std::move(output)) {}

  ~WriterImpl() override {
    if (zstd_ != nullptr) ZSTD_freeCCtx(zstd_);
  }

  Status Init(const model::TableSchema& schema) {
    if (options_.page_bytes == 0 || options_.page_bytes > (256ull << 20)) {
      return InvalidArgument("parquet page size " + std::to_string(options_.page_bytes) +
                             " bytes is out of range: use 1 byte to 256 MiB");
    }
    if (options_.page_rows > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      return InvalidArgument("parquet page_rows " + std::to_string(options_.page_rows) +
                             " exceeds a page's int32 value count");
    }
    if (options_.page_rows == 0 || options_.row_group_rows == 0 || options_.row_group_bytes == 0) {
      return InvalidArgument("parquet page_rows, row_group_rows and row_group_bytes must be > 0");
    }
    if (options_.compression == Compression::kZstd &&
        (options_.zstd_level < 1 || options_.zstd_level > ZSTD_maxCLevel())) {
      return InvalidArgument("zstd level " + std::to_string(options_.zstd_level) +
                             " is out of range: use 1 to " + std::to_string(ZSTD_maxCLevel()));
    }
    for (const model::Column& column : schema.columns) {
      if (column.name.empty()) {
        return InvalidArgument("table " + schema.table.ToString() +
                               " has a column without a name; Parquet columns need names");
      }
      if (!name_index_.emplace(column.name, columns_.size()).second) {
        return InvalidArgument("table " + schema.table.ToString() + " has two columns named '" +
                               column.name + "'");
      }
      ColumnState state;
      state.spec = Resolve(schema, column, options_);
      columns_.push_back(std::move(state));
    }
    table_columns_ = columns_.size();
    if (options_.cdc_columns) {
      for (auto [name, kind, optional] :
           {std::tuple{kCdcOpColumn, Kind::kString, false},
            std::tuple{kCdcCommitTimeColumn, Kind::kTimestampTz, false},
            std::tuple{kCdcPositionColumn, Kind::kString, false},
            std::tuple{kCdcTransactionIdColumn, Kind::kString, true}}) {
        if (name_index_.count(std::string(name)) != 0) {
          return InvalidArgument("table " + schema.table.ToString() + " has a column named '" +
                                 std::string(name) +
                                 "', which is one of eddy's CDC column names; turn the CDC "
                                 "columns off or rename the column");
        }
        ColumnState state;
        state.spec = CdcSpec(name, kind, optional);
        columns_.push_back(std::move(state));
      }
    }
    if (!options_.field_ids.empty()) {
      if (options_.field_ids.size() != columns_.size()) {
        return InvalidArgument("parquet field ids: " + std::to_string(options_.field_ids.size()) +
                               " given for " + std::to_string(columns_.size()) +
                               " columns (the table's columns" +
                               (options_.cdc_columns ? " and the 4 CDC columns" : "") +
                               "); give one per column or none");
      }
      for (size_t i = 0; i < columns_.size(); ++i)
        columns_[i].spec.field_id = options_.field_ids[i];
    }
    if (options_.compression == Compression::kZstd) {
      zstd_ = ZSTD_createCCtx();
      if (zstd_ == nullptr) return Internal("ZSTD_createCCtx failed");
    }
    slots_.resize(table_columns_);
    return WriteBytes(format::kMagic);
  }

  Status AppendRow(const model::Row& row) override {
    if (!status_.ok()) return status_;
    if (options_.cdc_columns) {
      return InvalidArgument(
          "this parquet writer has the CDC columns on: append change events with AppendEvent");
    }
    status_ = AppendImage(&row, nullptr);
    if (!status_.ok()) return status_;
    return EndRow();
  }

  Status AppendEvent(const model::ChangeEvent& event) override {
    if (!status_.ok()) return status_;
    if (!model::IsRowChange(event.op)) {
      return InvalidArgument("parquet files hold row changes only; got operation '" +
                             std::string(model::OperationCode(event.op)) + "'");
    }
    const model::Row* image = nullptr;
    if (event.op == model::Operation::kDelete) {
      image = event.before ? &*event.before : &event.key;
    } else {
      if (!event.after) {
        return InvalidArgument("change event at " + event.position.ToString() +
                               " has no after image");
      }
      image = &*event.after;
    }
    status_ = AppendImage(image, options_.cdc_columns ? &event : nullptr);
    if (!status_.ok()) return status_;
    return EndRow();
  }

  Status AppendStoredEvent(std::string_view encoded) override {
    if (!status_.ok()) return status_;
    // One parse: the check of the whole event collects the image's fields (field_views_).
    Result<model::EventView> view = model::DecodeEventViewWithImage(encoded, &field_views_);
    if (!view.ok()) {
      status_ = view.status();
      return status_;
    }
    if (!model::IsRowChange(view->op)) {
      return InvalidArgument("parquet files hold row changes only; got operation '" +
                             std::string(model::OperationCode(view->op)) + "'");
    }
    if (view->op != model::Operation::kDelete && !view->has_after()) {
      std::string_view position = view->position;
      auto decoded = SourcePosition::DecodeFrom(position);
      return InvalidArgument("change event at " +
                             (decoded.ok() ? decoded->ToString() : std::string("?")) +
                             " has no after image");
    }
    status_ = AppendFieldViews(*view);
    if (!status_.ok()) return status_;
    return EndRow();
  }

  uint64_t row_count() const override { return total_rows_; }

  uint64_t estimated_bytes() const override { return offset_ + BufferedBytes(); }

  Result<FileSummary> Finish() override {
    if (!status_.ok()) return status_;
    if (finished_) return FailedPrecondition("parquet writer: Finish() called twice");
    finished_ = true;
    status_ = FailedPrecondition("parquet writer: the file is finished");
    if (row_group_rows_ > 0) EDDY_RETURN_IF_ERROR(FlushRowGroup());
    std::string footer;
    WriteFooter(footer);
    std::string tail;
    PutFixed32(tail, static_cast<uint32_t>(footer.size()));
    tail.append(format::kMagic);
    EDDY_RETURN_IF_ERROR(WriteBytes(footer));
    EDDY_RETURN_IF_ERROR(WriteBytes(tail));

    FileSummary summary;
    summary.file_bytes = offset_;
    summary.row_count = total_rows_;
    summary.row_group_count = static_cast<uint32_t>(row_groups_.size());
    for (const ColumnState& column : columns_) {
      ColumnStatistics stats;
      stats.name = column.spec.layout.name;
      stats.field_id = column.spec.field_id;
      stats.physical = column.spec.layout.physical;
      stats.logical = column.spec.layout.logical;
      stats.value_count = column.file_values;
      stats.null_count = column.file_nulls;
      stats.nan_count = column.file_nans;
      stats.compressed_bytes = column.file_compressed;
      stats.uncompressed_bytes = column.file_uncompressed;
      EncodedBounds bounds =
          EncodeBounds(column.spec, column.file_bounds, options_.statistics_truncate_bytes);
      stats.min_value = std::move(bounds.min);
      stats.max_value = std::move(bounds.max);
      stats.min_exact = bounds.min_exact;
      stats.max_exact = bounds.max_exact;
      summary.columns.push_back(std::move(stats));
    }
    return summary;
  }

 private:
  Status WriteBytes(std::string_view bytes) {
    Status status = output_->Write(bytes);
    if (!status.ok()) return status.WithContext("writing parquet file");
    offset_ += bytes.size();
    return Status::Ok();
  }

  uint64_t BufferedBytes() const {
    uint64_t total = 0;
    for (const ColumnState& column : columns_) total += column.chunk.size() + column.values.size();
    return total;
  }

  Status AppendImage(const model::Row* row, const model::ChangeEvent* event) {
    // Match fields to columns: in order without lookups when the row has the schema's shape.
    bool in_order = row->size() == table_columns_;
    for (size_t i = 0; in_order && i < table_columns_; ++i) {
      in_order = (*row)[i].name == columns_[i].spec.layout.name;
    }
    if (in_order) {
      for (size_t i = 0; i < table_columns_; ++i) {
        EDDY_RETURN_IF_ERROR(AppendValue(columns_[i], (*row)[i].value));
      }
    } else {
      std::fill(slots_.begin(), slots_.end(), nullptr);
      for (const model::Field& field : *row) {
        auto it = name_index_.find(field.name);
        if (it == name_index_.end()) {
          return InvalidArgument("row has a column '" + field.name +
                                 "' that the table's schema does not have; the schema given to "
                                 "the parquet writer must be the row's schema version");
        }
        slots_[it->second] = &field.value;
      }
      static const model::Value kNull;
      for (size_t i = 0; i < table_columns_; ++i) {
        EDDY_RETURN_IF_ERROR(AppendValue(columns_[i], slots_[i] ? *slots_[i] : kNull));
      }
    }
    if (options_.cdc_columns) {
      if (event == nullptr) return Internal("CDC columns without an event");
      ColumnState* cdc = &columns_[table_columns_];
      AppendString(cdc[0], model::OperationCode(event->op));
      // Floor division: commit times before 1970 round down like the source's own.
      const int64_t micros = ::eddy::format::FloorDiv(event->commit_time_ns, 1000);
      AppendFixed64(cdc[1], static_cast<uint64_t>(micros));
      cdc[1].chunk_bounds.Signed(micros);
      // The events of one transaction (and a snapshot's rows) often share their position:
      // its text is formatted once for them.
      if (!last_position_ || !(*last_position_ == event->position)) {
        last_position_ = event->position;
        position_text_ = event->position.ToString();
        has_position_bytes_ = false;
      }
      AppendString(cdc[2], position_text_);
      if (event->transaction_id.empty()) {
        AppendNull(cdc[3]);
      } else {
        EDDY_RETURN_IF_ERROR(ValidUtf8(cdc[3], event->transaction_id));
        AppendString(cdc[3], event->transaction_id);
      }
    }
    return Status::Ok();
  }

  // AppendImage for a stored event's row (DecodeEventView checked it): the same columns,
  // values and errors, read in place.
  // The row in field_views_ (the image's fields, from DecodeEventViewWithImage) and the CDC
  // columns of `event`.
  Status AppendFieldViews(const model::EventView& event) {
    bool in_order = field_views_.size() == table_columns_;
    for (size_t i = 0; in_order && i < table_columns_; ++i) {
      in_order = field_views_[i].name == columns_[i].spec.layout.name;
    }
    if (in_order) {
      for (size_t i = 0; i < table_columns_; ++i) {
        EDDY_RETURN_IF_ERROR(AppendValueView(columns_[i], field_views_[i].value));
      }
    } else {
      view_slots_.assign(table_columns_, nullptr);
      for (const model::FieldView& field : field_views_) {
        auto it = name_index_.find(std::string(field.name));
        if (it == name_index_.end()) {
          return InvalidArgument("row has a column '" + std::string(field.name) +
                                 "' that the table's schema does not have; the schema given to "
                                 "the parquet writer must be the row's schema version");
        }
        view_slots_[it->second] = &field.value;
      }
      static const model::ValueView kNullView;
      for (size_t i = 0; i < table_columns_; ++i) {
        EDDY_RETURN_IF_ERROR(
            AppendValueView(columns_[i], view_slots_[i] ? *view_slots_[i] : kNullView));
      }
    }
    if (options_.cdc_columns) {
      ColumnState* cdc = &columns_[table_columns_];
      AppendString(cdc[0], model::OperationCode(event.op));
      const int64_t micros = ::eddy::format::FloorDiv(event.commit_time_ns, 1000);
      AppendFixed64(cdc[1], static_cast<uint64_t>(micros));
      cdc[1].chunk_bounds.Signed(micros);
      // Compared as stored bytes: one encoding per position (SourcePosition::EncodeTo).
      if (!has_position_bytes_ || last_position_bytes_ != event.position) {
        std::string_view bytes = event.position;
        EDDY_ASSIGN_OR_RETURN(SourcePosition position, SourcePosition::DecodeFrom(bytes));
        position_text_ = position.ToString();
        last_position_bytes_.assign(event.position);
        has_position_bytes_ = true;
        last_position_.reset();
      }
      AppendString(cdc[2], position_text_);
      if (event.transaction_id.empty()) {
        AppendNull(cdc[3]);
      } else {
        EDDY_RETURN_IF_ERROR(ValidUtf8(cdc[3], event.transaction_id));
        AppendString(cdc[3], event.transaction_id);
      }
    }
    return Status::Ok();
  }

  Status EndRow() {
    ++row_group_rows_;
    ++total_rows_;
    for (ColumnState& column : columns_) {
      if (column.values.size() >= options_.page_bytes || column.page_rows >= options_.page_rows) {
        EDDY_RETURN_IF_ERROR(FlushPage(column));
      }
    }
    if (row_group_rows_ >= options_.row_group_rows ||
        ((row_group_rows_ & 63) == 0 && BufferedBytes() >= options_.row_group_bytes)) {
      return FlushRowGroup();
    }
    return Status::Ok();
  }

  void AppendNull(ColumnState& column) {
    column.levels.push_back(0);
    ++column.page_rows;
    ++column.chunk_nulls;
  }
  void Present(ColumnState& column) {
    if (column.spec.layout.optional) column.levels.push_back(1);
    ++column.page_rows;
  }
  void AppendFixed32(ColumnState& column, uint32_t v) {
    Present(column);
    char bytes[4];
    EncodeFixed32(bytes, v);
    column.values.append(bytes, 4);
  }
  void AppendFixed64(ColumnState& column, uint64_t v) {
    Present(column);
    char bytes[8];
    EncodeFixed64(bytes, v);
    column.values.append(bytes, 8);
  }
  void AppendString(ColumnState& column, std::string_view v) {
    Present(column);
    char length[4];
    EncodeFixed32(length, static_cast<uint32_t>(v.size()));
    column.values.append(length, 4);
    column.values.append(v.data(), v.size());
    column.chunk_bounds.Bytes(v);
  }

  Status ValidUtf8(const ColumnState& column, std::string_view text) {
    // Most text is short ASCII, where simdjson's dispatch costs more than a word-wise scan.
    size_t i = 0;
    uint64_t high = 0;
    for (; i + 8 <= text.size(); i += 8) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      high |= word;
    }
    for (; i < text.size(); ++i) high |= static_cast<uint8_t>(text[i]);
    if ((high & 0x8080808080808080ull) == 0) [[likely]]
      return Status::Ok();
    if (simdjson::validate_utf8(text.data(), text.size())) return Status::Ok();
    return InvalidArgument("column '" + column.spec.layout.name +
                           "' holds text that is not valid UTF-8, which Parquet STRING "
                           "columns require; check the source column's character set");
  }

  Status Mismatch(const ColumnState& column, const model::Value& value) {
    if (value.type() == model::ValueType::kTypedText) {
      // The capture keeps a value its type cannot represent natively (a timestamp past what
      // int64 microseconds hold, a zero date) as text with its type name.
      return InvalidArgument("column '" + column.spec.layout.name + "' is " +
                             column.spec.layout.logical + " but the source value " +
                             value.DebugString() +
                             " is outside what that type can hold; change the value in the "
                             "source or leave the column out of the stream");
    }
    return InvalidArgument(
        "column '" + column.spec.layout.name + "' is " + column.spec.layout.logical +
        " in the schema but the row holds " + std::string(model::ValueTypeName(value.type())) +
        " " + value.DebugString() + "; the schema given to the parquet writer must match the rows");
  }

  Status Null(ColumnState& column, std::string_view why = "NULL") {
    if (!column.spec.layout.optional) {
      return InvalidArgument("column '" + column.spec.layout.name +
                             "' is NOT NULL in the schema but the row holds " + std::string(why));
    }
    AppendNull(column);
    return Status::Ok();
  }

  static bool IntegerFits(const ColumnSpec& spec, Int128 v) {
    const bool is_signed = spec.kind == Kind::kInt32 || spec.kind == Kind::kInt64;
    const Int128 lo = is_signed ? -(static_cast<Int128>(1) << (spec.int_bits - 1)) : 0;
    const Int128 hi = is_signed ? (static_cast<Int128>(1) << (spec.int_bits - 1)) - 1
                                : (static_cast<Int128>(1) << spec.int_bits) - 1;
    return v >= lo && v <= hi;
  }

  Status Integer(ColumnState& column, const model::Value& value) {
    const ColumnSpec& spec = column.spec;
    Int128 v = 0;
    if (const int64_t* i = value.TryGet<int64_t>()) {
      v = *i;
    } else if (const uint64_t* u = value.TryGet<uint64_t>()) {
      v = *u;
    } else {
      return Mismatch(column, value);
    }
    if (!IntegerFits(spec, v)) {
      return InvalidArgument("column '" + spec.layout.name + "' is " + spec.layout.logical +
                             " in the schema but the row holds " + value.DebugString() +
                             ", outside that range");
    }
    AppendInteger(column, v);
    return Status::Ok();
  }

  // An integer IntegerFits checked, in the column's physical type.
  void AppendInteger(ColumnState& column, Int128 v) {
    switch (column.spec.kind) {
      case Kind::kInt32:
        AppendFixed32(column, static_cast<uint32_t>(static_cast<int32_t>(v)));
        column.chunk_bounds.Signed(static_cast<int64_t>(v));
        break;
      case Kind::kUint32:
        AppendFixed32(column, static_cast<uint32_t>(v));
        column.chunk_bounds.Unsigned(static_cast<uint64_t>(v));
        break;
      case Kind::kInt64:
        AppendFixed64(column, static_cast<uint64_t>(static_cast<int64_t>(v)));
        column.chunk_bounds.Signed(static_cast<int64_t>(v));
        break;
      default:
        AppendFixed64(column, static_cast<uint64_t>(v));
        column.chunk_bounds.Unsigned(static_cast<uint64_t>(v));
        break;
    }
  }

  void AppendBool(ColumnState& column, bool b) {
    Present(column);
    const uint64_t bit = column.page_bool_count++;
    if ((bit & 7) == 0) column.values.push_back(0);
    if (b) column.values.back() = static_cast<char>(column.values.back() | (1 << (bit & 7)));
    column.chunk_bounds.Signed(b ? 1 : 0);
  }

  // A float or double column's value (a float widened exactly to double).
  void AppendFloating(ColumnState& column, double v) {
    if (column.spec.kind == Kind::kFloat) {
      AppendFixed32(column, std::bit_cast<uint32_t>(static_cast<float>(v)));
    } else {
      AppendFixed64(column, std::bit_cast<uint64_t>(v));
    }
    if (std::isnan(v)) {
      ++column.file_nans;
    } else {
      column.chunk_bounds.Floating(v);
    }
  }

  Status AppendDecimal(ColumnState& column, std::string_view text) {
    const ColumnSpec& spec = column.spec;
    Result<std::optional<Int128>> parsed = ParseDecimal(text, spec.precision, spec.scale);
    if (!parsed.ok()) {
      return InvalidArgument("column '" + spec.layout.name + "' is " + spec.layout.logical +
                             " but the value '" + std::string(text) + "' " +
                             parsed.status().message());
    }
    // NaN and ±Infinity have no DECIMAL representation: NULL (docs/formats/parquet.md).
    if (!parsed->has_value()) return Null(column, "'" + std::string(text) + "'");
    const Int128 v = **parsed;
    if (spec.kind == Kind::kDecimal32) {
      AppendFixed32(column, static_cast<uint32_t>(static_cast<int32_t>(v)));
    } else if (spec.kind == Kind::kDecimal64) {
      AppendFixed64(column, static_cast<uint64_t>(static_cast<int64_t>(v)));
    } else {
      Present(column);
      PutBigEndian(column.values, v, spec.layout.type_length);
    }
    column.chunk_bounds.Wide(v);
    return Status::Ok();
  }

  Status AppendDate(ColumnState& column, model::TemporalKind kind, int32_t days) {
    if (kind == model::TemporalKind::kZero) return Null(column, "a zero date");
    // ±infinity as DuckDB and PostgreSQL spell them: the largest magnitudes, symmetric.
    if (kind == model::TemporalKind::kPositiveInfinity) {
      days = std::numeric_limits<int32_t>::max();
    } else if (kind == model::TemporalKind::kNegativeInfinity) {
      days = -std::numeric_limits<int32_t>::max();
    }
    AppendFixed32(column, static_cast<uint32_t>(days));
    column.chunk_bounds.Signed(days);
    return Status::Ok();
  }

  Status AppendTimestamp(ColumnState& column, model::TemporalKind kind, int64_t micros) {
    if (kind == model::TemporalKind::kZero) return Null(column, "a zero timestamp");
    // ±infinity as DuckDB reads them (INT64_MIN is out of its timestamp range).
    if (kind == model::TemporalKind::kPositiveInfinity) {
      micros = std::numeric_limits<int64_t>::max();
    } else if (kind == model::TemporalKind::kNegativeInfinity) {
      micros = -std::numeric_limits<int64_t>::max();
    }
    AppendFixed64(column, static_cast<uint64_t>(micros));
    column.chunk_bounds.Signed(micros);
    return Status::Ok();
  }

  Status Text(ColumnState& column, const model::Value& value) {
    std::string_view text;
    switch (value.type()) {
      case model::ValueType::kText:
        text = value.Get<std::string>();
        break;
      case model::ValueType::kJson:
        text = value.Get<model::JsonValue>().text;
        break;
      case model::ValueType::kEnum:
        text = value.Get<model::EnumValue>().label;
        break;
      case model::ValueType::kBits:
        text = value.Get<model::BitsValue>().bits;
        break;
      case model::ValueType::kTypedText:
        text = value.Get<model::TypedTextValue>().text;
        break;
      case model::ValueType::kDecimal:
        text = value.Get<model::DecimalValue>().text;
        break;
      case model::ValueType::kInterval:
        scratch_ = ::eddy::format::FormatInterval(value.Get<model::IntervalValue>());
        text = scratch_;
        break;
      case model::ValueType::kTime:
        scratch_ = ::eddy::format::FormatTime(value.Get<model::TimeValue>().micros);
        text = scratch_;
        break;
      case model::ValueType::kTimeTz:
        scratch_ = ::eddy::format::FormatTimeTz(value.Get<model::TimeTzValue>());
        text = scratch_;
        break;
      case model::ValueType::kUuid:
        scratch_ = value.Get<model::UuidValue>().ToString();
        text = scratch_;
        break;
      case model::ValueType::kArray: {
        // The native format's JSON array (nested for multi-dimensional arrays, null elements).
        ::eddy::format::JsonWriter writer(std::move(scratch_));
        ::eddy::format::WriteNativeValue(writer, value);
        scratch_ = writer.Take();
        text = scratch_;
        break;
      }
      default:
        return Mismatch(column, value);
    }
    EDDY_RETURN_IF_ERROR(ValidUtf8(column, text));
    AppendString(column, text);
    return Status::Ok();
  }

  Status AppendValue(ColumnState& column, const model::Value& value) {
    const ColumnSpec& spec = column.spec;
    if (value.is_null()) return Null(column);
    if (value.is_unavailable()) return Null(column, "an unavailable (unchanged TOAST) value");
    switch (spec.kind) {
      case Kind::kBool: {
        const bool* b = value.TryGet<bool>();
        if (b == nullptr) return Mismatch(column, value);
        AppendBool(column, *b);
        return Status::Ok();
      }
      case Kind::kInt32:
      case Kind::kUint32:
      case Kind::kInt64:
      case Kind::kUint64:
        return Integer(column, value);
      case Kind::kFloat:
      case Kind::kDouble: {
        double v = 0;
        if (const float* f = value.TryGet<float>()) {
          v = *f;
        } else if (const double* d = value.TryGet<double>(); d && spec.kind == Kind::kDouble) {
          v = *d;
        } else {
          return Mismatch(column, value);
        }
        AppendFloating(column, v);
        return Status::Ok();
      }
      case Kind::kDecimal32:
      case Kind::kDecimal64:
      case Kind::kDecimalFixed: {
        // Integers too: Iceberg keeps a 64-bit unsigned column as decimal(20, 0), the only
        // Iceberg type that holds every value (docs/formats/iceberg.md).
        if (const auto* decimal = value.TryGet<model::DecimalValue>()) {
          return AppendDecimal(column, decimal->text);
        }
        if (const uint64_t* u = value.TryGet<uint64_t>()) {
          return AppendDecimal(column, std::to_string(*u));
        }
        if (const int64_t* i = value.TryGet<int64_t>()) {
          return AppendDecimal(column, std::to_string(*i));
        }
        return Mismatch(column, value);
      }
      case Kind::kDate: {
        const auto* date = value.TryGet<model::DateValue>();
        if (date == nullptr) return Mismatch(column, value);
        return AppendDate(column, date->kind, date->days);
      }
      case Kind::kTime: {
        const auto* time = value.TryGet<model::TimeValue>();
        if (time == nullptr) return Mismatch(column, value);
        AppendFixed64(column, static_cast<uint64_t>(time->micros));
        column.chunk_bounds.Signed(time->micros);
        return Status::Ok();
      }
      case Kind::kTimestamp:
      case Kind::kTimestampTz: {
        model::TemporalKind kind;
        int64_t micros = 0;
        if (const auto* ts = value.TryGet<model::TimestampValue>()) {
          kind = ts->kind;
          micros = ts->micros;
        } else if (const auto* tstz = value.TryGet<model::TimestampTzValue>()) {
          kind = tstz->kind;
          micros = tstz->micros;
        } else {
          return Mismatch(column, value);
        }
        return AppendTimestamp(column, kind, micros);
      }
      case Kind::kUuid: {
        const auto* uuid = value.TryGet<model::UuidValue>();
        if (uuid == nullptr) return Mismatch(column, value);
        Present(column);
        const std::string_view bytes(reinterpret_cast<const char*>(uuid->bytes.data()), 16);
        column.values.append(bytes);
        column.chunk_bounds.Bytes(bytes);
        return Status::Ok();
      }
      case Kind::kBytes: {
        const auto* bytes = value.TryGet<model::BytesValue>();
        if (bytes == nullptr) return Mismatch(column, value);
        AppendString(column, bytes->data);
        return Status::Ok();
      }
      case Kind::kString:
        return Text(column, value);
    }
    return Internal("unknown column kind");
  }

  // AppendValue for a value read in place: the common types are appended from the view; any
  // other value, and any value that does not fit its column (so the error is AppendValue's,
  // word for word), goes through a decoded model::Value.
  Status AppendValueView(ColumnState& column, const model::ValueView& value) {
    using model::ValueType;
    const ColumnSpec& spec = column.spec;
    switch (value.type) {
      case ValueType::kNull:
        return Null(column);
      case ValueType::kUnavailable:
        return Null(column, "an unavailable (unchanged TOAST) value");
      default:
        break;
    }
    switch (spec.kind) {
      case Kind::kBool:
        if (value.type != ValueType::kBool) break;
        AppendBool(column, value.boolean);
        return Status::Ok();
      case Kind::kInt32:
      case Kind::kUint32:
      case Kind::kInt64:
      case Kind::kUint64: {
        Int128 v;
        if (value.type == ValueType::kInt64) {
          v = value.int64;
        } else if (value.type == ValueType::kUint64) {
          v = value.uint64;
        } else {
          break;
        }
        if (!IntegerFits(spec, v)) break;
        AppendInteger(column, v);
        return Status::Ok();
      }
      case Kind::kFloat:
      case Kind::kDouble:
        if (value.type == ValueType::kFloat32) {
          AppendFloating(column, value.float32);
          return Status::Ok();
        }
        if (value.type == ValueType::kFloat64 && spec.kind == Kind::kDouble) {
          AppendFloating(column, value.float64);
          return Status::Ok();
        }
        break;
      case Kind::kDecimal32:
      case Kind::kDecimal64:
      case Kind::kDecimalFixed:
        if (value.type != ValueType::kDecimal) break;
        return AppendDecimal(column, value.text);
      case Kind::kDate:
        if (value.type != ValueType::kDate) break;
        return AppendDate(column, value.temporal, value.int32);
      case Kind::kTime:
        if (value.type != ValueType::kTime) break;
        AppendFixed64(column, static_cast<uint64_t>(value.int64));
        column.chunk_bounds.Signed(value.int64);
        return Status::Ok();
      case Kind::kTimestamp:
      case Kind::kTimestampTz:
        if (value.type != ValueType::kTimestamp && value.type != ValueType::kTimestampTz) break;
        return AppendTimestamp(column, value.temporal, value.int64);
      case Kind::kUuid:
        if (value.type != ValueType::kUuid) break;
        Present(column);
        column.values.append(value.text);
        column.chunk_bounds.Bytes(value.text);
        return Status::Ok();
      case Kind::kBytes:
        if (value.type != ValueType::kBytes) break;
        AppendString(column, value.text);
        return Status::Ok();
      case Kind::kString:
        switch (value.type) {
          case ValueType::kText:
          case ValueType::kJson:
          case ValueType::kEnum:
          case ValueType::kBits:
          case ValueType::kTypedText:
          case ValueType::kDecimal:
            EDDY_RETURN_IF_ERROR(ValidUtf8(column, value.text));
            AppendString(column, value.text);
            return Status::Ok();
          default:
            break;
        }
        break;
    }
    std::string_view encoded = value.encoded;
    EDDY_ASSIGN_OR_RETURN(model::Value decoded, model::DecodeValue(encoded));
    return AppendValue(column, decoded);
  }

  Result<std::string_view> Compress(std::string_view body) {
    switch (options_.compression) {
      case Compression::kNone:
        return body;
      case Compression::kSnappy: {
        compressed_.resize(snappy::MaxCompressedLength(body.size()));
        size_t length = 0;
        snappy::RawCompress(body.data(), body.size(), compressed_.data(), &length);
        return std::string_view(compressed_.data(), length);
      }
      case Compression::kZstd: {
        compressed_.resize(ZSTD_compressBound(body.size()));
        const size_t length = ZSTD_compressCCtx(zstd_, compressed_.data(), compressed_.size(),
                                                body.data(), body.size(), options_.zstd_level);
        if (ZSTD_isError(length)) {
          return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(length));
        }
        return std::string_view(compressed_.data(), length);
      }
    }
    return Internal("unknown compression");
  }

  Status FlushPage(ColumnState& column) {
    if (column.page_rows == 0) return Status::Ok();
    body_.clear();
    if (column.spec.layout.optional) {
      body_.append(4, '\0');
      EncodeLevels(column.levels, body_);
      EncodeFixed32(body_.data(), static_cast<uint32_t>(body_.size() - 4));
    }
    body_.append(column.values);
    if (body_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return ResourceExhausted("column '" + column.spec.layout.name + "': a page of " +
                               std::to_string(body_.size()) +
                               " bytes exceeds Parquet's 2 GiB page limit");
    }
    EDDY_ASSIGN_OR_RETURN(std::string_view compressed, Compress(body_));
    header_.clear();
    CompactWriter header(&header_);
    header.FieldI32(format::field::kPageType, static_cast<int32_t>(format::PageType::kDataPage));
    header.FieldI32(format::field::kPageUncompressedSize, static_cast<int32_t>(body_.size()));
    header.FieldI32(format::field::kPageCompressedSize, static_cast<int32_t>(compressed.size()));
    header.FieldStructBegin(format::field::kPageDataPageHeader);
    header.FieldI32(format::field::kDataPageNumValues, static_cast<int32_t>(column.page_rows));
    header.FieldI32(format::field::kDataPageEncoding,
                    static_cast<int32_t>(format::Encoding::kPlain));
    header.FieldI32(format::field::kDataPageDefinitionLevelEncoding,
                    static_cast<int32_t>(format::Encoding::kRle));
    header.FieldI32(format::field::kDataPageRepetitionLevelEncoding,
                    static_cast<int32_t>(format::Encoding::kRle));
    header.StructEnd();
    header.StructEnd();
    column.chunk.append(header_);
    column.chunk.append(compressed.data(), compressed.size());
    column.chunk_uncompressed += header_.size() + body_.size();
    column.chunk_values += column.page_rows;
    column.values.clear();
    column.levels.clear();
    column.page_rows = 0;
    column.page_bool_count = 0;
    return Status::Ok();
  }

  Status FlushRowGroup() {
    RowGroupMeta group;
    group.rows = row_group_rows_;
    for (ColumnState& column : columns_) {
      EDDY_RETURN_IF_ERROR(FlushPage(column));
      ChunkMeta chunk;
      chunk.offset = offset_;
      chunk.compressed = column.chunk.size();
      chunk.uncompressed = column.chunk_uncompressed;
      chunk.values = column.chunk_values;
      chunk.nulls = column.chunk_nulls;
      chunk.bounds =
          EncodeBounds(column.spec, column.chunk_bounds, options_.statistics_truncate_bytes);
      EDDY_RETURN_IF_ERROR(WriteBytes(column.chunk));
      column.file_bounds.Merge(column.chunk_bounds);
      column.file_values += column.chunk_values;
      column.file_nulls += column.chunk_nulls;
      column.file_compressed += chunk.compressed;
      column.file_uncompressed += chunk.uncompressed;
      column.chunk.clear();
      column.chunk_uncompressed = 0;
      column.chunk_values = 0;
      column.chunk_nulls = 0;
      column.chunk_bounds = Bounds();
      group.chunks.push_back(std::move(chunk));
    }
    row_groups_.push_back(std::move(group));
    row_group_rows_ = 0;
    return Status::Ok();
  }

  void WriteLogicalType(CompactWriter& w, const ColumnSpec& spec) {
    namespace logical = format::logical;
    auto empty_member = [&w](int16_t id) {
      w.FieldStructBegin(id);
      w.StructEnd();
    };
    w.FieldStructBegin(format::field::kSchemaLogicalType);
    switch (spec.kind) {
      case Kind::kInt32:
      case Kind::kUint32:
      case Kind::kInt64:
      case Kind::kUint64:
        w.FieldStructBegin(logical::kInteger);
        w.FieldI8(1, static_cast<int8_t>(spec.int_bits));
        w.FieldBool(2, spec.kind == Kind::kInt32 || spec.kind == Kind::kInt64);
        w.StructEnd();
        break;
      case Kind::kDecimal32:
      case Kind::kDecimal64:
      case Kind::kDecimalFixed:
        w.FieldStructBegin(logical::kDecimal);
        w.FieldI32(1, spec.scale);
        w.FieldI32(2, spec.precision);
        w.StructEnd();
        break;
      case Kind::kDate:
        empty_member(logical::kDate);
        break;
      case Kind::kTime:
      case Kind::kTimestamp:
      case Kind::kTimestampTz:
        w.FieldStructBegin(spec.kind == Kind::kTime ? logical::kTime : logical::kTimestamp);
        w.FieldBool(1, spec.kind == Kind::kTimestampTz);
        w.FieldStructBegin(2);
        empty_member(logical::kUnitMicros);
        w.StructEnd();
        w.StructEnd();
        break;
      case Kind::kUuid:
        empty_member(logical::kUuid);
        break;
      case Kind::kString:
        empty_member(logical::kString);
        break;
      default:
        break;
    }
    w.StructEnd();
  }

  static std::optional<ConvertedType> Converted(const ColumnSpec& spec) {
    switch (spec.kind) {
      case Kind::kInt32:
        return spec.int_bits == 8    ? ConvertedType::kInt8
               : spec.int_bits == 16 ? ConvertedType::kInt16
                                     : ConvertedType::kInt32;
      case Kind::kUint32:
        return spec.int_bits == 8    ? ConvertedType::kUint8
               : spec.int_bits == 16 ? ConvertedType::kUint16
                                     : ConvertedType::kUint32;
      case Kind::kInt64:
        return ConvertedType::kInt64;
      case Kind::kUint64:
        return ConvertedType::kUint64;
      case Kind::kDecimal32:
      case Kind::kDecimal64:
      case Kind::kDecimalFixed:
        return ConvertedType::kDecimal;
      case Kind::kDate:
        return ConvertedType::kDate;
      case Kind::kTime:
        return ConvertedType::kTimeMicros;
      case Kind::kTimestamp:
      case Kind::kTimestampTz:
        return ConvertedType::kTimestampMicros;
      case Kind::kString:
        return ConvertedType::kUtf8;
      default:
        return std::nullopt;
    }
  }

  void WriteFooter(std::string& out) {
    namespace f = format::field;
    CompactWriter w(&out);
    w.FieldI32(f::kFileVersion, 1);
    w.FieldListBegin(f::kFileSchema, CompactType::kStruct,
                     static_cast<uint32_t>(columns_.size() + 1));
    w.ListStructBegin();
    w.FieldBinary(f::kSchemaName, "schema");
    w.FieldI32(f::kSchemaNumChildren, static_cast<int32_t>(columns_.size()));
    w.StructEnd();
    for (const ColumnState& column : columns_) {
      const ColumnSpec& spec = column.spec;
      w.ListStructBegin();
      w.FieldI32(f::kSchemaType, static_cast<int32_t>(spec.layout.physical));
      if (spec.layout.physical == PhysicalType::kFixedLenByteArray) {
        w.FieldI32(f::kSchemaTypeLength, spec.layout.type_length);
      }
      w.FieldI32(f::kSchemaRepetition,
                 static_cast<int32_t>(spec.layout.optional ? format::Repetition::kOptional
                                                           : format::Repetition::kRequired));
      w.FieldBinary(f::kSchemaName, spec.layout.name);
      if (std::optional<ConvertedType> converted = Converted(spec)) {
        w.FieldI32(f::kSchemaConvertedType, static_cast<int32_t>(*converted));
      }
      if (spec.kind == Kind::kDecimal32 || spec.kind == Kind::kDecimal64 ||
          spec.kind == Kind::kDecimalFixed) {
        w.FieldI32(f::kSchemaScale, spec.scale);
        w.FieldI32(f::kSchemaPrecision, spec.precision);
      }
      if (spec.field_id) w.FieldI32(f::kSchemaFieldId, *spec.field_id);
      if (spec.kind != Kind::kBool && spec.kind != Kind::kFloat && spec.kind != Kind::kDouble &&
          spec.kind != Kind::kBytes) {
        WriteLogicalType(w, spec);
      }
      w.StructEnd();
    }
    w.FieldI64(f::kFileNumRows, static_cast<int64_t>(total_rows_));
    w.FieldListBegin(f::kFileRowGroups, CompactType::kStruct,
                     static_cast<uint32_t>(row_groups_.size()));
    for (size_t g = 0; g < row_groups_.size(); ++g) {
      const RowGroupMeta& group = row_groups_[g];
      w.ListStructBegin();
      w.FieldListBegin(f::kRowGroupColumns, CompactType::kStruct,
                       static_cast<uint32_t>(group.chunks.size()));
      uint64_t total_uncompressed = 0, total_compressed = 0;
      for (size_t c = 0; c < group.chunks.size(); ++c) {
        const ChunkMeta& chunk = group.chunks[c];
        const ColumnSpec& spec = columns_[c].spec;
        total_uncompressed += chunk.uncompressed;
        total_compressed += chunk.compressed;
        w.ListStructBegin();
        w.FieldI64(f::kChunkFileOffset, static_cast<int64_t>(chunk.offset));
        w.FieldStructBegin(f::kChunkMetaData);
        w.FieldI32(f::kMetaType, static_cast<int32_t>(spec.layout.physical));
        w.FieldListBegin(f::kMetaEncodings, CompactType::kI32, 2);
        w.ListI32(static_cast<int32_t>(format::Encoding::kPlain));
        w.ListI32(static_cast<int32_t>(format::Encoding::kRle));
        w.FieldListBegin(f::kMetaPathInSchema, CompactType::kBinary, 1);
        w.ListBinary(spec.layout.name);
        w.FieldI32(f::kMetaCodec, static_cast<int32_t>(Codec()));
        w.FieldI64(f::kMetaNumValues, static_cast<int64_t>(chunk.values));
        w.FieldI64(f::kMetaTotalUncompressedSize, static_cast<int64_t>(chunk.uncompressed));
        w.FieldI64(f::kMetaTotalCompressedSize, static_cast<int64_t>(chunk.compressed));
        w.FieldI64(f::kMetaDataPageOffset, static_cast<int64_t>(chunk.offset));
        w.FieldStructBegin(f::kMetaStatistics);
        w.FieldI64(f::kStatsNullCount, static_cast<int64_t>(chunk.nulls));
        if (chunk.bounds.max) w.FieldBinary(f::kStatsMaxValue, *chunk.bounds.max);
        if (chunk.bounds.min) w.FieldBinary(f::kStatsMinValue, *chunk.bounds.min);
        if (chunk.bounds.max) w.FieldBool(f::kStatsIsMaxValueExact, chunk.bounds.max_exact);
        if (chunk.bounds.min) w.FieldBool(f::kStatsIsMinValueExact, chunk.bounds.min_exact);
        w.StructEnd();  // Statistics
        w.StructEnd();  // ColumnMetaData
        w.StructEnd();  // ColumnChunk
      }
      w.FieldI64(f::kRowGroupTotalByteSize, static_cast<int64_t>(total_uncompressed));
      w.FieldI64(f::kRowGroupNumRows, static_cast<int64_t>(group.rows));
      w.FieldI64(f::kRowGroupFileOffset,
                 static_cast<int64_t>(group.chunks.empty() ? 0 : group.chunks[0].offset));
      w.FieldI64(f::kRowGroupTotalCompressedSize, static_cast<int64_t>(total_compressed));
      w.FieldI16(f::kRowGroupOrdinal, static_cast<int16_t>(std::min<size_t>(g, INT16_MAX)));
      w.StructEnd();
    }
    if (!options_.key_value_metadata.empty()) {
      w.FieldListBegin(f::kFileKeyValueMetadata, CompactType::kStruct,
                       static_cast<uint32_t>(options_.key_value_metadata.size()));
      for (const auto& [key, value] : options_.key_value_metadata) {
        w.ListStructBegin();
        w.FieldBinary(f::kKey, key);
        w.FieldBinary(f::kValue, value);
        w.StructEnd();
      }
    }
    // parquet-java ignores BYTE_ARRAY statistics unless created_by parses as
    // "<app> version <x.y.z> (build <hash>)" (PARQUET-251).
    w.FieldBinary(f::kFileCreatedBy, "eddy version " EDDY_VERSION " (build eddy)");
    w.FieldListBegin(f::kFileColumnOrders, CompactType::kStruct,
                     static_cast<uint32_t>(columns_.size()));
    for (size_t i = 0; i < columns_.size(); ++i) {
      w.ListStructBegin();
      w.FieldStructBegin(f::kColumnOrderTypeDefined);
      w.StructEnd();
      w.StructEnd();
    }
    w.StructEnd();  // FileMetaData
  }

  format::CompressionCodec Codec() const {
    switch (options_.compression) {
      case Compression::kSnappy:
        return format::CompressionCodec::kSnappy;
      case Compression::kZstd:
        return format::CompressionCodec::kZstd;
      case Compression::kNone:
        break;
    }
    return format::CompressionCodec::kUncompressed;
  }

  const WriterOptions options_;
  std::unique_ptr<Output> output_;
  std::vector<ColumnState> columns_;
  size_t table_columns_ = 0;
  std::unordered_map<std::string, size_t> name_index_;
  std::vector<const model::Value*> slots_;
  std::vector<RowGroupMeta> row_groups_;
  uint64_t offset_ = 0;
  uint64_t row_group_rows_ = 0;
  uint64_t total_rows_ = 0;
  bool finished_ = false;
  Status status_;
  ZSTD_CCtx* zstd_ = nullptr;
  // Reused buffers.
  std::string body_;
  std::string header_;
  std::string compressed_;
  std::string scratch_;
  std::vector<model::FieldView> field_views_;  // AppendStoredEvent's row, reused
  std::vector<const model::ValueView*> view_slots_;
  // The last CDC row's position (as a SourcePosition from AppendEvent, or as its stored bytes
  // from AppendStoredEvent; one of them set) and its text.
  std::optional<SourcePosition> last_position_;
  bool has_position_bytes_ = false;
  std::string last_position_bytes_;
  std::string position_text_;
};

}  // namespace

Result<Compression> ParseCompression(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "none" || lower == "uncompressed") return Compression::kNone;
  if (lower == "snappy") return Compression::kSnappy;
  if (lower == "zstd") return Compression::kZstd;
  return InvalidArgument("parquet compression '" + std::string(text) +
                         "' is not supported: use snappy, zstd or none");
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

ColumnLayout ColumnLayoutFor(const model::TableSchema& schema, const model::Column& column,
                             const WriterOptions& options) {
  return Resolve(schema, column, options).layout;
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(const model::TableSchema& schema,
                                                           const WriterOptions& options,
                                                           io::File* file) {
  if (file == nullptr) return InvalidArgument("parquet writer: no output file");
  auto writer = std::make_unique<WriterImpl>(options, std::make_unique<FileOutput>(file));
  EDDY_RETURN_IF_ERROR(writer->Init(schema));
  return std::unique_ptr<ParquetWriter>(std::move(writer));
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::OpenBuffer(const model::TableSchema& schema,
                                                                 const WriterOptions& options,
                                                                 std::string* out) {
  if (out == nullptr) return InvalidArgument("parquet writer: no output buffer");
  out->clear();
  auto writer = std::make_unique<WriterImpl>(options, std::make_unique<BufferOutput>(out));
  EDDY_RETURN_IF_ERROR(writer->Init(schema));
  return std::unique_ptr<ParquetWriter>(std::move(writer));
}

}  // namespace eddy::parquet
