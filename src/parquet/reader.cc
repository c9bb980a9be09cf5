#include "parquet/reader.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "parquet/thrift_compact.h"

namespace eddy::parquet {

namespace {

// GCC and clang's 128-bit integers (decimals of up to 38 digits), as the writer uses them.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

using thrift::CompactReader;
using thrift::Node;

// parquet.thrift values the reader understands beyond those parquet_format.h names.
namespace codec {
constexpr int32_t kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6;
}
namespace encoding {
constexpr int32_t kPlain = 0, kPlainDictionary = 2, kRle = 3, kRleDictionary = 8;
}
namespace page {
constexpr int32_t kData = 0, kDictionary = 2, kDataV2 = 3;
}
namespace converted {
constexpr int32_t kUtf8 = 0, kEnum = 4, kDecimal = 5, kDate = 6, kTimeMillis = 7, kTimeMicros = 8,
                  kTimestampMillis = 9, kTimestampMicros = 10, kUint8 = 11, kUint64 = 14,
                  kInt8 = 15, kInt64 = 18, kJson = 19;
}

int64_t IntField(const Node& node, int16_t id, int64_t fallback = 0) {
  const Node* field = node.Field(id);
  return field == nullptr ? fallback : field->integer;
}

// A bounds-checked cursor over untrusted bytes.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size() - pos_; }
  std::string_view rest() const { return data_.substr(pos_); }
  Result<std::string_view> Take(size_t n) {
    if (n > remaining()) {
      return Corruption("parquet: a value runs past the end of its page (" + std::to_string(n) +
                        " bytes wanted, " + std::to_string(remaining()) + " left)");
    }
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Result<uint32_t> U32() {
    EDDY_ASSIGN_OR_RETURN(std::string_view bytes, Take(4));
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
    return v;
  }
  Result<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Corruption("parquet: a varint runs past its page");
      const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Corruption("parquet: a varint longer than 10 bytes");
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// The RLE/bit-packed hybrid encoding of `count` values of `bit_width` bits (levels,
// dictionary indexes, RLE booleans).
Status DecodeHybrid(std::string_view data, int bit_width, size_t count,
                    std::vector<uint32_t>& out) {
  if (bit_width < 0 || bit_width > 32) {
    return Corruption("parquet: RLE bit width " + std::to_string(bit_width) + " is over 32");
  }
  out.clear();
  out.reserve(count);
  Bytes bytes(data);
  const size_t value_bytes = static_cast<size_t>((bit_width + 7) / 8);
  while (out.size() < count) {
    EDDY_ASSIGN_OR_RETURN(uint64_t header, bytes.Varint());
    if (header & 1) {
      const uint64_t groups = header >> 1;
      if (groups == 0 || groups > bytes.remaining() + 1) {
        return Corruption("parquet: a bit-packed run of " + std::to_string(groups) +
                          " groups does not fit its page");
      }
      const size_t byte_count = static_cast<size_t>(groups) * static_cast<size_t>(bit_width);
      // A final run may be cut short by writers that pad only up to the values they have.
      std::string_view packed = bytes.rest().substr(0, byte_count);
      (void)bytes.Take(packed.size());
      const uint64_t values = groups * 8;
      const uint64_t mask = bit_width == 32 ? 0xFFFFFFFFull : (1ull << bit_width) - 1;
      uint64_t bit = 0;
      for (uint64_t i = 0; i < values && out.size() < count; ++i, bit += bit_width) {
        const size_t first = static_cast<size_t>(bit >> 3);
        const size_t last = static_cast<size_t>((bit + bit_width + 7) >> 3);  // exclusive
        if (bit_width > 0 && last > packed.size()) {
          return Corruption("parquet: a bit-packed run is cut short");
        }
        uint64_t window = 0;  // at most 5 bytes: a value of 32 bits at any bit offset
        for (size_t b = first; b < last; ++b) {
          window |= static_cast<uint64_t>(static_cast<uint8_t>(packed[b])) << (8 * (b - first));
        }
        out.push_back(static_cast<uint32_t>((window >> (bit & 7)) & mask));
      }
    } else {
      const uint64_t run = header >> 1;
      EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(value_bytes));
      uint32_t value = 0;
      for (size_t i = 0; i < value_bytes; ++i) {
        value |= static_cast<uint32_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
      }
      if (run == 0) return Corruption("parquet: an RLE run of length 0");
      const size_t take = static_cast<size_t>(std::min<uint64_t>(run, count - out.size()));
      out.insert(out.end(), take, value);
    }
  }
  return Status::Ok();
}

Result<std::string> Decompress(int32_t codec_id, std::string_view compressed,
                               uint64_t uncompressed_size) {
  if (uncompressed_size > ParquetReader::kMaxPageBytes) {
    return Corruption("parquet: a page of " + std::to_string(uncompressed_size) +
                      " bytes is over the reader's limit");
  }
  std::string out;
  switch (codec_id) {
    case codec::kUncompressed:
      return std::string(compressed);
    case codec::kSnappy: {
      size_t length = 0;
      if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length) ||
          length != uncompressed_size) {
        return Corruption("parquet: a snappy page's length does not match its header");
      }
      out.resize(length);
      if (!snappy::RawUncompress(compressed.data(), compressed.size(), out.data())) {
        return Corruption("parquet: a snappy page does not decompress");
      }
      return out;
    }
    case codec::kZstd: {
      out.resize(uncompressed_size);
      const size_t got =
          ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
      if (ZSTD_isError(got) || got != uncompressed_size) {
        return Corruption("parquet: a zstd page does not decompress to its header's size");
      }
      return out;
    }
    case codec::kGzip: {
      out.resize(uncompressed_size);
      z_stream stream{};
      if (inflateInit2(&stream, 15 + 32) != Z_OK) return Internal("zlib: inflateInit2 failed");
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
      stream.avail_in = static_cast<uInt>(compressed.size());
      stream.next_out = reinterpret_cast<Bytef*>(out.data());
      stream.avail_out = static_cast<uInt>(out.size());
      const int result = inflate(&stream, Z_FINISH);
      const uint64_t got = stream.total_out;
      inflateEnd(&stream);
      if (result != Z_STREAM_END || got != uncompressed_size) {
        return Corruption("parquet: a gzip page does not decompress to its header's size");
      }
      return out;
    }
    default:
      return FailedPrecondition("parquet: compression codec " + std::to_string(codec_id) +
                                " is not supported (uncompressed, snappy, gzip and zstd are)");
  }
}

template <typename T>
T LoadLe(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);  // little-endian hosts only (x86-64, aarch64)
  return value;
}

std::string Int128Text(Int128 value, int32_t scale) {
  const bool negative = value < 0;
  Uint128 magnitude =
      negative ? static_cast<Uint128>(-(value + 1)) + 1 : static_cast<Uint128>(value);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (scale > 0 && digits.size() <= static_cast<size_t>(scale)) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) digits.insert(digits.end() - scale, '.');
  return negative ? "-" + digits : digits;
}

// A big-endian two's-complement integer of 1..16 bytes.
Result<Int128> BigEndianInt(std::string_view bytes) {
  if (bytes.empty() || bytes.size() > 16) {
    return Corruption("parquet: a decimal of " + std::to_string(bytes.size()) +
                      " bytes (1 to 16 are readable)");
  }
  Uint128 value = (static_cast<uint8_t>(bytes[0]) & 0x80) ? ~static_cast<Uint128>(0) : 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return static_cast<Int128>(value);
}

int64_t ToMicros(int64_t value, TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return value > INT64_MAX / 1000 || value < INT64_MIN / 1000
                 ? (value < 0 ? INT64_MIN : INT64_MAX)
                 : value * 1000;
    case TimeUnit::kMicros:
      return value;
    case TimeUnit::kNanos:
      return value / 1000;
  }
  return value;
}

model::Value IntegerValue(const ReaderColumn& column, int64_t value) {
  switch (column.logical) {
    case ReadLogical::kDecimal:
      return model::Value::Decimal(Int128Text(value, column.scale));
    case ReadLogical::kDate:
      return model::Value::Date(
          model::DateValue{model::TemporalKind::kFinite, static_cast<int32_t>(value)});
    case ReadLogical::kTime:
      return model::Value::Time(ToMicros(value, column.unit));
    case ReadLogical::kTimestamp:
      if (column.utc) {
        return model::Value::TimestampTz(
            model::TimestampTzValue{model::TemporalKind::kFinite, ToMicros(value, column.unit)});
      }
      return model::Value::Timestamp(
          model::TimestampValue{model::TemporalKind::kFinite, ToMicros(value, column.unit)});
    case ReadLogical::kInteger:
      if (!column.is_signed) {
        if (column.bit_width <= 32) {
          return model::Value::Uint64(static_cast<uint32_t>(value));
        }
        return model::Value::Uint64(static_cast<uint64_t>(value));
      }
      return model::Value::Int64(value);
    default:
      return model::Value::Int64(value);
  }
}

Result<model::Value> BinaryValue(const ReaderColumn& column, std::string_view bytes) {
  switch (column.logical) {
    case ReadLogical::kString:
      return model::Value::Text(std::string(bytes));
    case ReadLogical::kJson:
      return model::Value::Json(std::string(bytes));
    case ReadLogical::kDecimal: {
      EDDY_ASSIGN_OR_RETURN(Int128 unscaled, BigEndianInt(bytes));
      return model::Value::Decimal(Int128Text(unscaled, column.scale));
    }
    case ReadLogical::kUuid: {
      if (bytes.size() != 16) return Corruption("parquet: a UUID value is not 16 bytes");
      model::UuidValue uuid;
      std::memcpy(uuid.bytes.data(), bytes.data(), 16);
      return model::Value::Uuid(uuid);
    }
    default:
      return model::Value::Bytes(std::string(bytes));
  }
}

// Decodes `count` PLAIN values of `column` from `data`.
Status DecodePlain(const ReaderColumn& column, std::string_view data, size_t count,
                   std::vector<model::Value>& out) {
  Bytes bytes(data);
  out.reserve(out.size() + count);
  switch (column.physical) {
    case format::Type::kBoolean: {
      EDDY_ASSIGN_OR_RETURN(std::string_view bits, bytes.Take((count + 7) / 8));
      for (size_t i = 0; i < count; ++i) {
        out.push_back(model::Value::Bool((static_cast<uint8_t>(bits[i / 8]) >> (i % 8)) & 1));
      }
      return Status::Ok();
    }
    case format::Type::kInt32: {
      if (count > bytes.remaining() / 4)
        return Corruption("parquet: INT32 values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(4));
        out.push_back(IntegerValue(column, LoadLe<int32_t>(raw.data())));
      }
      return Status::Ok();
    }
    case format::Type::kInt64: {
      if (count > bytes.remaining() / 8)
        return Corruption("parquet: INT64 values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(8));
        out.push_back(IntegerValue(column, LoadLe<int64_t>(raw.data())));
      }
      return Status::Ok();
    }
    case format::Type::kInt96: {
      if (count > bytes.remaining() / 12)
        return Corruption("parquet: INT96 values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(12));
        // Nanoseconds of the day, then the Julian day (2440588 is 1970-01-01).
        const int64_t nanos = LoadLe<int64_t>(raw.data());
        const int64_t day = LoadLe<int32_t>(raw.data() + 8);
        const int64_t micros = (day - 2440588) * 86'400'000'000LL + nanos / 1000;
        out.push_back(
            model::Value::Timestamp(model::TimestampValue{model::TemporalKind::kFinite, micros}));
      }
      return Status::Ok();
    }
    case format::Type::kFloat: {
      if (count > bytes.remaining() / 4)
        return Corruption("parquet: FLOAT values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(4));
        out.push_back(model::Value::Float32(LoadLe<float>(raw.data())));
      }
      return Status::Ok();
    }
    case format::Type::kDouble: {
      if (count > bytes.remaining() / 8)
        return Corruption("parquet: DOUBLE values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view raw, bytes.Take(8));
        out.push_back(model::Value::Float64(LoadLe<double>(raw.data())));
      }
      return Status::Ok();
    }
    case format::Type::kByteArray: {
      if (count > bytes.remaining() / 4)
        return Corruption("parquet: BYTE_ARRAY values run past their page");
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(uint32_t length, bytes.U32());
        EDDY_ASSIGN_OR_RETURN(std::string_view value, bytes.Take(length));
        EDDY_ASSIGN_OR_RETURN(model::Value decoded, BinaryValue(column, value));
        out.push_back(std::move(decoded));
      }
      return Status::Ok();
    }
    case format::Type::kFixedLenByteArray: {
      const size_t width = static_cast<size_t>(column.type_length);
      if (width == 0 || count > bytes.remaining() / width) {
        return Corruption("parquet: FIXED_LEN_BYTE_ARRAY values run past their page");
      }
      for (size_t i = 0; i < count; ++i) {
        EDDY_ASSIGN_OR_RETURN(std::string_view value, bytes.Take(width));
        EDDY_ASSIGN_OR_RETURN(model::Value decoded, BinaryValue(column, value));
        out.push_back(std::move(decoded));
      }
      return Status::Ok();
    }
  }
  return Corruption("parquet: unknown physical type");
}

Result<ReaderColumn> DescribeColumn(const Node& element) {
  ReaderColumn column;
  const Node* name = element.Field(format::field::kSchemaName);
  if (name == nullptr) return Corruption("parquet: a schema element has no name");
  column.name = name->binary;
  if (IntField(element, format::field::kSchemaNumChildren) > 0) {
    return FailedPrecondition("parquet: column '" + column.name +
                              "' is nested (a group); only flat files are readable");
  }
  const Node* type = element.Field(format::field::kSchemaType);
  if (type == nullptr) return Corruption("parquet: column '" + column.name + "' has no type");
  if (type->integer < 0 || type->integer > 7) {
    return Corruption("parquet: column '" + column.name + "' has unknown type " +
                      std::to_string(type->integer));
  }
  column.physical = static_cast<format::Type>(type->integer);
  column.type_length = static_cast<int32_t>(IntField(element, format::field::kSchemaTypeLength));
  if (column.physical == format::Type::kFixedLenByteArray &&
      (column.type_length <= 0 || column.type_length > (1 << 20))) {
    return Corruption("parquet: column '" + column.name + "' has a bad fixed length");
  }
  const int64_t repetition = IntField(element, format::field::kSchemaRepetition, 1);
  if (repetition == 2) {
    return FailedPrecondition("parquet: column '" + column.name +
                              "' is repeated; only flat files are readable");
  }
  column.optional = repetition != 0;
  if (const Node* id = element.Field(format::field::kSchemaFieldId)) {
    column.field_id = static_cast<int32_t>(id->integer);
  }
  const int64_t scale = IntField(element, format::field::kSchemaScale);
  const int64_t precision = IntField(element, format::field::kSchemaPrecision);
  auto decimal = [&](int64_t p, int64_t s) -> Status {
    if (p < 1 || p > 38 || s < 0 || s > p) {
      return Corruption("parquet: column '" + column.name + "' has DECIMAL(" + std::to_string(p) +
                        "," + std::to_string(s) + ")");
    }
    column.logical = ReadLogical::kDecimal;
    column.precision = static_cast<int32_t>(p);
    column.scale = static_cast<int32_t>(s);
    return Status::Ok();
  };
  auto unit_of = [](const Node& node) {
    const Node* unit = node.Field(2);
    if (unit == nullptr || unit->fields.empty()) return TimeUnit::kMicros;
    switch (unit->fields.front().first) {
      case 1:
        return TimeUnit::kMillis;
      case 3:
        return TimeUnit::kNanos;
      default:
        return TimeUnit::kMicros;
    }
  };
  if (const Node* logical = element.Field(format::field::kSchemaLogicalType);
      logical != nullptr && !logical->fields.empty()) {
    const auto& [member, value] = logical->fields.front();
    switch (member) {
      case 1:  // STRING
      case 4:  // ENUM
        column.logical = ReadLogical::kString;
        break;
      case 5:  // DECIMAL {1: scale, 2: precision}
        EDDY_RETURN_IF_ERROR(decimal(IntField(value, 2), IntField(value, 1)));
        break;
      case 6:
        column.logical = ReadLogical::kDate;
        break;
      case 7:
        column.logical = ReadLogical::kTime;
        column.utc = IntField(value, 1) != 0;
        column.unit = unit_of(value);
        break;
      case 8:
        column.logical = ReadLogical::kTimestamp;
        column.utc = IntField(value, 1) != 0;
        column.unit = unit_of(value);
        break;
      case 10:
        column.logical = ReadLogical::kInteger;
        column.bit_width = static_cast<int32_t>(IntField(value, 1, 64));
        column.is_signed = IntField(value, 2, 1) != 0;
        break;
      case 12:
        column.logical = ReadLogical::kJson;
        break;
      case 14:
        column.logical = ReadLogical::kUuid;
        break;
      default:
        break;  // UNKNOWN (always null), BSON, FLOAT16...: the physical type
    }
  } else if (const Node* legacy = element.Field(format::field::kSchemaConvertedType)) {
    const int64_t converted_type = legacy->integer;
    if (converted_type == converted::kUtf8 || converted_type == converted::kEnum) {
      column.logical = ReadLogical::kString;
    } else if (converted_type == converted::kJson) {
      column.logical = ReadLogical::kJson;
    } else if (converted_type == converted::kDecimal) {
      EDDY_RETURN_IF_ERROR(decimal(precision, scale));
    } else if (converted_type == converted::kDate) {
      column.logical = ReadLogical::kDate;
    } else if (converted_type == converted::kTimeMillis ||
               converted_type == converted::kTimeMicros) {
      column.logical = ReadLogical::kTime;
      column.unit =
          converted_type == converted::kTimeMillis ? TimeUnit::kMillis : TimeUnit::kMicros;
    } else if (converted_type == converted::kTimestampMillis ||
               converted_type == converted::kTimestampMicros) {
      column.logical = ReadLogical::kTimestamp;
      column.utc = true;  // the legacy annotations meant UTC-adjusted instants
      column.unit =
          converted_type == converted::kTimestampMillis ? TimeUnit::kMillis : TimeUnit::kMicros;
    } else if (converted_type >= converted::kUint8 && converted_type <= converted::kInt64) {
      column.logical = ReadLogical::kInteger;
      column.is_signed = converted_type >= converted::kInt8;
      const int64_t step =
          converted_type - (column.is_signed ? converted::kInt8 : converted::kUint8);
      column.bit_width = 8 << step;
    }
  }
  // Annotations that do not fit the physical type are corrupt, not silently misread.
  const format::Type physical = column.physical;
  const bool is_int = physical == format::Type::kInt32 || physical == format::Type::kInt64;
  const bool is_binary =
      physical == format::Type::kByteArray || physical == format::Type::kFixedLenByteArray;
  bool fits = true;
  switch (column.logical) {
    case ReadLogical::kString:
    case ReadLogical::kJson:
      fits = physical == format::Type::kByteArray;
      break;
    case ReadLogical::kDecimal:
      fits = is_int || is_binary;
      break;
    case ReadLogical::kDate:
      fits = physical == format::Type::kInt32;
      break;
    case ReadLogical::kTime:
    case ReadLogical::kTimestamp:
    case ReadLogical::kInteger:
      fits = is_int;
      break;
    case ReadLogical::kUuid:
      fits = physical == format::Type::kFixedLenByteArray && column.type_length == 16;
      break;
    case ReadLogical::kNone:
      break;
  }
  if (!fits) {
    return Corruption("parquet: column '" + column.name +
                      "' has an annotation its physical type cannot hold");
  }
  return column;
}

}  // namespace

Result<ParquetReader> ParquetReader::Open(std::string_view file) {
  constexpr size_t kTrailer = 8;
  if (file.size() < 4 + kTrailer || file.substr(0, 4) != format::kMagic ||
      file.substr(file.size() - 4) != format::kMagic) {
    return Corruption("parquet: not a Parquet file (no PAR1 magic at both ends)");
  }
  const char* length_at = file.data() + file.size() - kTrailer;
  const uint32_t footer_length = LoadLe<uint32_t>(length_at);
  if (footer_length > file.size() - 4 - kTrailer) {
    return Corruption("parquet: the footer length " + std::to_string(footer_length) +
                      " is larger than the file");
  }
  const size_t footer_start = file.size() - kTrailer - footer_length;
  size_t consumed = 0;
  auto footer = CompactReader::ReadStruct(file.substr(footer_start, footer_length), &consumed);
  if (!footer.ok()) return footer.status().WithContext("parquet footer");

  ParquetReader reader;
  reader.file_ = file;
  const Node* schema = footer->Field(format::field::kFileSchema);
  if (schema == nullptr || schema->elements.empty()) {
    return Corruption("parquet: the footer has no schema");
  }
  const int64_t children = IntField(schema->elements.front(), format::field::kSchemaNumChildren);
  if (children != static_cast<int64_t>(schema->elements.size()) - 1) {
    return FailedPrecondition(
        "parquet: the schema is nested (its root's children are not its leaves); only flat "
        "files are readable");
  }
  for (size_t i = 1; i < schema->elements.size(); ++i) {
    EDDY_ASSIGN_OR_RETURN(ReaderColumn column, DescribeColumn(schema->elements[i]));
    reader.columns_.push_back(std::move(column));
  }
  if (const Node* metadata = footer->Field(format::field::kFileKeyValueMetadata)) {
    for (const Node& entry : metadata->elements) {
      const Node* key = entry.Field(format::field::kKey);
      const Node* value = entry.Field(format::field::kValue);
      if (key == nullptr) return Corruption("parquet: a key-value entry has no key");
      reader.key_value_metadata_.emplace_back(key->binary, value ? value->binary : "");
    }
  }
  const uint64_t row_limit = std::max<uint64_t>(kMinRowLimit, kMaxRowsPerByte * file.size());
  const int64_t num_rows = IntField(*footer, format::field::kFileNumRows, -1);
  if (num_rows < 0 || static_cast<uint64_t>(num_rows) > row_limit) {
    return Corruption("parquet: the footer's row count " + std::to_string(num_rows) +
                      " is negative or beyond what a file of this size holds");
  }
  reader.row_count_ = static_cast<uint64_t>(num_rows);
  uint64_t group_rows_total = 0;
  if (const Node* groups = footer->Field(format::field::kFileRowGroups)) {
    for (const Node& group : groups->elements) {
      RowGroup row_group;
      row_group.num_rows = IntField(group, format::field::kRowGroupNumRows, -1);
      if (row_group.num_rows < 0 || static_cast<uint64_t>(row_group.num_rows) > row_limit) {
        return Corruption("parquet: a row group's row count is out of range");
      }
      group_rows_total += static_cast<uint64_t>(row_group.num_rows);
      const Node* chunks = group.Field(format::field::kRowGroupColumns);
      if (chunks == nullptr || chunks->elements.size() != reader.columns_.size()) {
        return Corruption("parquet: a row group does not have one chunk per column");
      }
      for (const Node& chunk_node : chunks->elements) {
        if (chunk_node.Field(1) != nullptr) {
          return FailedPrecondition("parquet: a column chunk lives in another file");
        }
        const Node* meta = chunk_node.Field(format::field::kChunkMetaData);
        if (meta == nullptr) return Corruption("parquet: a column chunk has no metadata");
        Chunk chunk;
        chunk.codec = static_cast<int32_t>(IntField(*meta, format::field::kMetaCodec));
        chunk.num_values = IntField(*meta, format::field::kMetaNumValues, -1);
        chunk.total_compressed_size = IntField(*meta, format::field::kMetaTotalCompressedSize, -1);
        const int64_t data_offset = IntField(*meta, format::field::kMetaDataPageOffset, -1);
        const int64_t dictionary_offset = IntField(*meta, 11, -1);
        chunk.start = dictionary_offset > 0 && dictionary_offset < data_offset ? dictionary_offset
                                                                               : data_offset;
        if (chunk.num_values < 0 || chunk.start < 4 || chunk.total_compressed_size < 0 ||
            static_cast<uint64_t>(chunk.start) > footer_start ||
            static_cast<uint64_t>(chunk.total_compressed_size) >
                footer_start - static_cast<uint64_t>(chunk.start)) {
          return Corruption("parquet: a column chunk lies outside the file's data");
        }
        row_group.chunks.push_back(chunk);
      }
      reader.row_groups_.push_back(std::move(row_group));
    }
  }
  if (group_rows_total != reader.row_count_) {
    return Corruption("parquet: the row groups hold " + std::to_string(group_rows_total) +
                      " rows, the footer says " + std::to_string(reader.row_count_));
  }
  return reader;
}

std::optional<std::string_view> ParquetReader::Metadata(std::string_view key) const {
  for (const auto& [name, value] : key_value_metadata_) {
    if (name == key) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<size_t> ParquetReader::ColumnWithFieldId(int32_t field_id) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].field_id == field_id) return i;
  }
  return std::nullopt;
}

Result<std::vector<model::Value>> ParquetReader::ReadColumn(size_t group, size_t column) const {
  if (group >= row_groups_.size() || column >= columns_.size()) {
    return InvalidArgument("parquet: no row group " + std::to_string(group) + " column " +
                           std::to_string(column));
  }
  const ReaderColumn& spec = columns_[column];
  const Chunk& chunk = row_groups_[group].chunks[column];
  const size_t rows = static_cast<size_t>(row_groups_[group].num_rows);
  std::vector<model::Value> values;
  values.reserve(rows);
  std::vector<model::Value> dictionary;
  bool has_dictionary = false;
  std::vector<uint32_t> levels;
  std::vector<uint32_t> indexes;
  std::vector<model::Value> present;
  Bytes pages(file_.substr(static_cast<size_t>(chunk.start),
                           static_cast<size_t>(chunk.total_compressed_size)));
  auto context = [&](Status status) {
    return status.WithContext("column '" + spec.name + "' of row group " + std::to_string(group));
  };
  while (values.size() < rows) {
    if (pages.remaining() == 0) {
      return context(Corruption("parquet: the column chunk ends after " +
                                std::to_string(values.size()) + " of " + std::to_string(rows) +
                                " values"));
    }
    size_t header_length = 0;
    auto header = CompactReader::ReadStruct(pages.rest(), &header_length);
    if (!header.ok()) return context(header.status().WithContext("page header"));
    (void)pages.Take(header_length);
    const int64_t type = IntField(*header, 1, -1);
    const int64_t uncompressed_size = IntField(*header, 2, -1);
    const int64_t compressed_size = IntField(*header, 3, -1);
    if (uncompressed_size < 0 || compressed_size < 0) {
      return context(Corruption("parquet: a page header has negative sizes"));
    }
    auto body = pages.Take(static_cast<size_t>(compressed_size));
    if (!body.ok()) return context(body.status());
    if (type == page::kDictionary) {
      const Node* dict = header->Field(7);
      if (dict == nullptr || has_dictionary) {
        return context(Corruption("parquet: a dictionary page without its header, or twice"));
      }
      const int64_t count = IntField(*dict, 1, -1);
      const int64_t dict_encoding = IntField(*dict, 2, 0);
      if (dict_encoding != encoding::kPlain && dict_encoding != encoding::kPlainDictionary) {
        return context(Corruption("parquet: a dictionary page that is not PLAIN"));
      }
      auto data = Decompress(chunk.codec, *body, static_cast<uint64_t>(uncompressed_size));
      if (!data.ok()) return context(data.status());
      if (count < 0 || static_cast<uint64_t>(count) > data->size() * 8 + 8) {
        return context(Corruption("parquet: a dictionary of more values than its bytes hold"));
      }
      Status decoded = DecodePlain(spec, *data, static_cast<size_t>(count), dictionary);
      if (!decoded.ok()) return context(decoded);
      has_dictionary = true;
      continue;
    }
    if (type != page::kData && type != page::kDataV2) continue;  // index pages: skipped
    const bool v2 = type == page::kDataV2;
    const Node* data_header = header->Field(v2 ? 8 : 5);
    if (data_header == nullptr)
      return context(Corruption("parquet: a data page without its header"));
    const int64_t num_values = IntField(*data_header, 1, -1);
    const int64_t page_encoding = IntField(*data_header, v2 ? 4 : 2, -1);
    if (num_values < 0 || static_cast<uint64_t>(num_values) > rows - values.size()) {
      return context(Corruption("parquet: a page holds more values than its row group has rows"));
    }
    const size_t count = static_cast<size_t>(num_values);
    std::string decompressed;
    std::string_view levels_bytes;
    std::string_view value_bytes;
    if (v2) {
      const int64_t rep_length = IntField(*data_header, 6, 0);
      const int64_t def_length = IntField(*data_header, 5, 0);
      if (rep_length != 0) {
        return context(
            FailedPrecondition("parquet: repetition levels (nested data) are not readable"));
      }
      if (def_length < 0 || def_length > compressed_size) {
        return context(Corruption("parquet: a v2 page's level lengths exceed the page"));
      }
      levels_bytes = body->substr(0, static_cast<size_t>(def_length));
      const std::string_view compressed = body->substr(static_cast<size_t>(def_length));
      const Node* is_compressed = data_header->Field(7);
      if (is_compressed != nullptr && is_compressed->integer == 0) {
        value_bytes = compressed;
      } else {
        if (uncompressed_size < def_length)
          return context(Corruption("parquet: bad v2 page sizes"));
        auto data = Decompress(chunk.codec, compressed,
                               static_cast<uint64_t>(uncompressed_size - def_length));
        if (!data.ok()) return context(data.status());
        decompressed = std::move(data).value();
        value_bytes = decompressed;
      }
    } else {
      auto data = Decompress(chunk.codec, *body, static_cast<uint64_t>(uncompressed_size));
      if (!data.ok()) return context(data.status());
      decompressed = std::move(data).value();
      value_bytes = decompressed;
      if (spec.optional) {
        Bytes cursor(value_bytes);
        auto length = cursor.U32();
        if (!length.ok()) return context(length.status());
        auto taken = cursor.Take(*length);
        if (!taken.ok()) return context(taken.status());
        levels_bytes = *taken;
        value_bytes = cursor.rest();
      }
    }
    // Definition levels: 1 present, 0 null (flat columns); REQUIRED columns have none.
    size_t present_count = count;
    if (spec.optional) {
      Status decoded = DecodeHybrid(levels_bytes, 1, count, levels);
      if (!decoded.ok()) return context(decoded);
      present_count = static_cast<size_t>(std::count(levels.begin(), levels.end(), 1u));
    }
    present.clear();
    if (page_encoding == encoding::kPlain) {
      Status decoded = DecodePlain(spec, value_bytes, present_count, present);
      if (!decoded.ok()) return context(decoded);
    } else if (page_encoding == encoding::kPlainDictionary ||
               page_encoding == encoding::kRleDictionary) {
      if (!has_dictionary) return context(Corruption("parquet: a dictionary page is missing"));
      if (present_count > 0) {
        if (value_bytes.empty()) return context(Corruption("parquet: dictionary indexes missing"));
        const int width = static_cast<uint8_t>(value_bytes[0]);
        Status decoded = DecodeHybrid(value_bytes.substr(1), width, present_count, indexes);
        if (!decoded.ok()) return context(decoded);
        for (uint32_t index : indexes) {
          if (index >= dictionary.size()) {
            return context(Corruption("parquet: a dictionary index beyond the dictionary"));
          }
          present.push_back(dictionary[index]);
        }
      }
    } else if (page_encoding == encoding::kRle && spec.physical == format::Type::kBoolean) {
      // Length-prefixed hybrid of bit width 1. Some writers store the value count in the
      // prefix instead of the byte length, so the run is read to the page's end.
      if (value_bytes.size() < 4)
        return context(Corruption("parquet: an RLE boolean page is cut short"));
      Status decoded = DecodeHybrid(value_bytes.substr(4), 1, present_count, indexes);
      if (!decoded.ok()) return context(decoded);
      for (uint32_t bit : indexes) present.push_back(model::Value::Bool(bit != 0));
    } else {
      return context(FailedPrecondition(
          "parquet: encoding " + std::to_string(page_encoding) +
          " is not supported (PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY and RLE booleans are)"));
    }
    if (present.size() != present_count) {
      return context(Corruption("parquet: a page decoded to the wrong number of values"));
    }
    if (!spec.optional) {
      for (model::Value& value : present) values.push_back(std::move(value));
    } else {
      size_t next = 0;
      for (uint32_t level : levels) {
        if (level == 1) {
          values.push_back(std::move(present[next++]));
        } else {
          values.push_back(model::Value::Null());
        }
      }
    }
  }
  return values;
}

Result<std::vector<model::Row>> ParquetReader::ReadRows() const {
  std::vector<model::Row> rows;
  rows.reserve(row_count_);
  for (size_t group = 0; group < row_groups_.size(); ++group) {
    const size_t first = rows.size();
    rows.resize(first + static_cast<size_t>(row_groups_[group].num_rows));
    for (size_t column = 0; column < columns_.size(); ++column) {
      EDDY_ASSIGN_OR_RETURN(std::vector<model::Value> values, ReadColumn(group, column));
      for (size_t i = 0; i < values.size(); ++i) {
        rows[first + i].push_back(model::Field{columns_[column].name, std::move(values[i])});
      }
    }
  }
  return rows;
}

}  // namespace eddy::parquet
