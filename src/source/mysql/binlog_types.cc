#include "source/mysql/binlog_types.h"

#include <iconv.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "model/event_codec.h"

namespace eddy::source::mysql {
namespace {

using model::Value;

Status TypeError(uint8_t type, const std::string& what) {
  return Corruption("column type " + ColumnTypeName(type) + ": " + what);
}

// Bytes of an integer column of `type` (TINY .. LONGLONG).
size_t IntegerWidth(uint8_t type) {
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kTiny: return 1;
    case ColumnType::kShort: return 2;
    case ColumnType::kInt24: return 3;
    case ColumnType::kLong: return 4;
    default: return 8;
  }
}

// Sign-extends a `width`-byte two's-complement integer to 64 bits.
uint64_t SignExtend(uint64_t raw, size_t width) {
  if (width >= 8) return raw;
  uint64_t sign_bit = uint64_t{1} << (width * 8 - 1);
  return (raw & sign_bit) ? raw | ~((sign_bit << 1) - 1) : raw;
}

// Wraps a reader error with the column type.
template <typename T>
Result<T> WithType(uint8_t type, Result<T> result) {
  if (!result.ok()) return result.status().WithContext("column type " + ColumnTypeName(type));
  return result;
}

std::string TwoDigits(int64_t v) {
  std::string s = std::to_string(v);
  if (s.size() < 2) s.insert(0, 2 - s.size(), '0');
  return s;
}
std::string PadDigits(uint64_t v, size_t width) {
  std::string s = std::to_string(v);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

// Fraction digits for fsp: "" for 0, else "." + fsp digits of `micros`.
std::string FractionText(int64_t micros, int fsp) {
  if (fsp <= 0) return "";
  std::string digits = PadDigits(static_cast<uint64_t>(micros), 6);
  return "." + digits.substr(0, static_cast<size_t>(fsp));
}

// Reads the fractional-second part of TIME2/DATETIME2/TIMESTAMP2 as microseconds (unsigned).
Result<int64_t> ReadFraction(ByteReader& reader, int fsp) {
  switch (fsp) {
    case 0:
      return int64_t{0};
    case 1:
    case 2: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 1));
      return static_cast<int64_t>(v) * 10000;
    }
    case 3:
    case 4: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 2));
      return static_cast<int64_t>(v) * 100;
    }
    case 5:
    case 6: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 3));
      return static_cast<int64_t>(v);
    }
    default:
      return Corruption("fractional-second precision " + std::to_string(fsp) + " above 6");
  }
}

// A date with a zero month or day (allowed without NO_ZERO_IN_DATE) cannot be a civil date.
bool IsCivil(int64_t year, int64_t month, int64_t day) {
  (void)year;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string DateText(int64_t year, int64_t month, int64_t day) {
  return PadDigits(static_cast<uint64_t>(year), 4) + "-" + TwoDigits(month) + "-" + TwoDigits(day);
}

Value DateValueOf(int64_t year, int64_t month, int64_t day) {
  if (year == 0 && month == 0 && day == 0) {
    return Value::Date(model::DateValue{model::TemporalKind::kZero, 0});
  }
  if (!IsCivil(year, month, day)) {
    return Value::TypedText("date", DateText(year, month, day));
  }
  return Value::Date(model::DateValue::FromCivil(year, static_cast<int>(month),
                                                 static_cast<int>(day)));
}

// A DATETIME from its parts when it is the zero date-time or a civil date-time; std::nullopt
// otherwise (a zero month or day), which DateTimeValueOf renders as text.
std::optional<model::TimestampValue> DateTimeOf(int64_t year, int64_t month, int64_t day,
                                                int64_t hour, int64_t minute, int64_t second,
                                                int64_t micros) {
  if (year == 0 && month == 0 && day == 0 && hour == 0 && minute == 0 && second == 0 &&
      micros == 0) {
    return model::TimestampValue{model::TemporalKind::kZero, 0};
  }
  if (!IsCivil(year, month, day)) return std::nullopt;
  int64_t days = model::DaysFromCivil(
      model::CivilDate{year, static_cast<int>(month), static_cast<int>(day)});
  int64_t total = ((days * 24 + hour) * 60 + minute) * 60 + second;
  return model::TimestampValue{model::TemporalKind::kFinite, total * 1'000'000 + micros};
}

Value DateTimeValueOf(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                      int64_t second, int64_t micros, int fsp) {
  if (auto value = DateTimeOf(year, month, day, hour, minute, second, micros)) {
    return Value::Timestamp(*value);
  }
  return Value::TypedText("datetime", DateText(year, month, day) + " " + TwoDigits(hour) + ":" +
                                          TwoDigits(minute) + ":" + TwoDigits(second) +
                                          FractionText(micros, fsp));
}

// TIME2 (fsp 0..6) -> signed microseconds.
Result<int64_t> DecodeTime2(ByteReader& reader, int fsp) {
  int64_t packed = 0;
  switch (fsp) {
    case 0: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 3));
      packed = (static_cast<int64_t>(v) - 0x800000) * (int64_t{1} << 24);
      break;
    }
    case 1:
    case 2: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 3));
      EDDY_ASSIGN_OR_RETURN(uint64_t f, ReadBigEndian(reader, 1));
      int64_t intpart = static_cast<int64_t>(v) - 0x800000;
      int64_t frac = static_cast<int64_t>(f);  // unsigned, as the server reads it
      if (intpart < 0 && frac != 0) {
        intpart++;
        frac -= 0x100;
      }
      packed = intpart * (int64_t{1} << 24) + frac * 10000;
      break;
    }
    case 3:
    case 4: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 3));
      EDDY_ASSIGN_OR_RETURN(uint64_t f, ReadBigEndian(reader, 2));
      int64_t intpart = static_cast<int64_t>(v) - 0x800000;
      int64_t frac = static_cast<int64_t>(f);
      if (intpart < 0 && frac != 0) {
        intpart++;
        frac -= 0x10000;
      }
      packed = intpart * (int64_t{1} << 24) + frac * 100;
      break;
    }
    case 5:
    case 6: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, ReadBigEndian(reader, 6));
      packed = static_cast<int64_t>(v) - 0x800000000000LL;
      break;
    }
    default:
      return Corruption("TIME2 fractional-second precision " + std::to_string(fsp) +
                        " above 6");
  }
  bool negative = packed < 0;
  uint64_t magnitude = negative ? static_cast<uint64_t>(-packed) : static_cast<uint64_t>(packed);
  uint64_t hms = magnitude >> 24;
  uint64_t frac = magnitude % (uint64_t{1} << 24);
  uint64_t hour = (hms >> 12) % (1u << 10);
  uint64_t minute = (hms >> 6) % 64;
  uint64_t second = hms % 64;
  if (minute > 59 || second > 59 || frac > 999999) {
    return Corruption("TIME2 value out of range (minute " + std::to_string(minute) + ", second " +
                      std::to_string(second) + ")");
  }
  int64_t micros = static_cast<int64_t>(((hour * 60 + minute) * 60 + second) * 1'000'000 + frac);
  return negative ? -micros : micros;
}

// Integer part of a packed DATETIME (as in DATETIME2 and JSON opaque temporal values).
struct DateTimeParts {
  int64_t year, month, day, hour, minute, second;
};

DateTimeParts UnpackDateTime2(uint64_t intpart) {
  uint64_t ymd = intpart >> 17;
  uint64_t ym = ymd >> 5;
  uint64_t hms = intpart % (1u << 17);
  return {static_cast<int64_t>(ym / 13),        static_cast<int64_t>(ym % 13),
          static_cast<int64_t>(ymd % 32),       static_cast<int64_t>(hms >> 12),
          static_cast<int64_t>((hms >> 6) % 64), static_cast<int64_t>(hms % 64)};
}

Value DateTimeFromPackedParts(uint64_t intpart, int64_t micros, int fsp) {
  DateTimeParts p = UnpackDateTime2(intpart);
  return DateTimeValueOf(p.year, p.month, p.day, p.hour, p.minute, p.second, micros, fsp);
}

constexpr std::array<int, 10> kDigitsToBytes = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

// MySQL latin1 is Windows-1252 with the five undefined bytes mapped to C1 controls.
constexpr std::array<uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// iconv names of MySQL character sets that need conversion (besides latin1, done by hand).
const char* IconvName(std::string_view charset) {
  static const std::map<std::string_view, const char*> kNames = {
      {"ucs2", "UCS-2BE"},        {"utf16", "UTF-16BE"},        {"utf16le", "UTF-16LE"},
      {"utf32", "UTF-32BE"},      {"cp1250", "CP1250"},         {"cp1251", "CP1251"},
      {"cp1256", "CP1256"},       {"cp1257", "CP1257"},         {"latin2", "ISO-8859-2"},
      {"latin5", "ISO-8859-9"},   {"latin7", "ISO-8859-13"},    {"greek", "ISO-8859-7"},
      {"hebrew", "ISO-8859-8"},   {"koi8r", "KOI8-R"},          {"koi8u", "KOI8-U"},
      {"cp850", "CP850"},         {"cp852", "CP852"},           {"cp866", "CP866"},
      {"macroman", "MACINTOSH"},  {"macce", "MAC-CENTRALEUROPE"}, {"sjis", "SHIFT_JIS"},
      {"cp932", "CP932"},         {"ujis", "EUC-JP"},           {"eucjpms", "EUC-JP-MS"},
      {"euckr", "EUC-KR"},        {"gb2312", "GB2312"},         {"gbk", "GBK"},
      {"gb18030", "GB18030"},     {"big5", "BIG5"},             {"tis620", "TIS-620"},
      {"armscii8", "ARMSCII-8"},  {"geostd8", "GEORGIAN-PS"},   {"hp8", "HP-ROMAN8"},
      {"keybcs2", "CP895"},       {"dec8", "DEC-MCS"},          {"swe7", "ISO646-SE"},
      {"cp1252", "CP1252"},
  };
  auto it = kNames.find(charset);
  return it == kNames.end() ? nullptr : it->second;
}

struct IconvCloser {
  void operator()(void* handle) const { iconv_close(static_cast<iconv_t>(handle)); }
};

Result<std::string> IconvToUtf8(std::string_view bytes, std::string_view charset,
                                const char* iconv_name) {
  thread_local std::map<std::string, std::unique_ptr<void, IconvCloser>> cache;
  auto it = cache.find(iconv_name);
  if (it == cache.end()) {
    iconv_t handle = iconv_open("UTF-8", iconv_name);
    if (handle == reinterpret_cast<iconv_t>(-1)) {
      return Unimplemented("character set " + std::string(charset) +
                           " cannot be converted to UTF-8 on this system (iconv " + iconv_name +
                           ")");
    }
    it = cache.emplace(iconv_name, std::unique_ptr<void, IconvCloser>(handle)).first;
  }
  iconv_t handle = static_cast<iconv_t>(it->second.get());
  iconv(handle, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  std::string out(bytes.size() * 4 + 8, '\0');
  char* in_ptr = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  if (iconv(handle, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<size_t>(-1)) {
    return Corruption("value is not valid " + std::string(charset) + " text (byte " +
                      std::to_string(bytes.size() - in_left) + ")");
  }
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace

std::string ColumnTypeName(uint8_t type) {
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kDecimal: return "DECIMAL";
    case ColumnType::kTiny: return "TINY";
    case ColumnType::kShort: return "SHORT";
    case ColumnType::kLong: return "LONG";
    case ColumnType::kFloat: return "FLOAT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kNull: return "NULL";
    case ColumnType::kTimestamp: return "TIMESTAMP";
    case ColumnType::kLongLong: return "LONGLONG";
    case ColumnType::kInt24: return "INT24";
    case ColumnType::kDate: return "DATE";
    case ColumnType::kTime: return "TIME";
    case ColumnType::kDateTime: return "DATETIME";
    case ColumnType::kYear: return "YEAR";
    case ColumnType::kNewDate: return "NEWDATE";
    case ColumnType::kVarchar: return "VARCHAR";
    case ColumnType::kBit: return "BIT";
    case ColumnType::kTimestamp2: return "TIMESTAMP2";
    case ColumnType::kDateTime2: return "DATETIME2";
    case ColumnType::kTime2: return "TIME2";
    case ColumnType::kVarcharCompressed: return "VARCHAR_COMPRESSED";
    case ColumnType::kBlobCompressed: return "BLOB_COMPRESSED";
    case ColumnType::kJson: return "JSON";
    case ColumnType::kNewDecimal: return "NEWDECIMAL";
    case ColumnType::kEnum: return "ENUM";
    case ColumnType::kSet: return "SET";
    case ColumnType::kTinyBlob: return "TINY_BLOB";
    case ColumnType::kMediumBlob: return "MEDIUM_BLOB";
    case ColumnType::kLongBlob: return "LONG_BLOB";
    case ColumnType::kBlob: return "BLOB";
    case ColumnType::kVarString: return "VAR_STRING";
    case ColumnType::kString: return "STRING";
    case ColumnType::kGeometry: return "GEOMETRY";
  }
  return "TYPE_" + std::to_string(type);
}

int MetadataLength(uint8_t type) {
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kFloat:
    case ColumnType::kDouble:
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kGeometry:
    case ColumnType::kJson:
    case ColumnType::kTimestamp2:
    case ColumnType::kDateTime2:
    case ColumnType::kTime2:
    case ColumnType::kBlobCompressed:
      return 1;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kBit:
    case ColumnType::kNewDecimal:
    case ColumnType::kString:
    case ColumnType::kEnum:
    case ColumnType::kSet:
    case ColumnType::kVarcharCompressed:
      return 2;
    default:
      return 0;
  }
}

void ResolveRealType(ColumnInfo& column) {
  column.real_type = column.type;
  if (column.type != static_cast<uint8_t>(ColumnType::kString) || column.metadata < 256) return;
  uint8_t byte0 = static_cast<uint8_t>(column.metadata >> 8);
  uint8_t byte1 = static_cast<uint8_t>(column.metadata & 0xFF);
  uint16_t length = byte1;
  if ((byte0 & 0x30) != 0x30) {
    // CHAR longer than 255 bytes: two more length bits are stored inverted in byte0.
    length = static_cast<uint16_t>(byte1 | (((byte0 & 0x30) ^ 0x30) << 4));
    byte0 = static_cast<uint8_t>(byte0 | 0x30);
  }
  column.real_type = byte0;
  // From here on: STRING -> max length in bytes; ENUM/SET -> pack length in bytes.
  column.metadata = length;
}

bool ColumnInfo::IsNumeric() const {
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal:
    case ColumnType::kFloat:
    case ColumnType::kDouble:
      return true;
    default:
      return false;
  }
}

bool ColumnInfo::IsCharacter() const {
  switch (static_cast<ColumnType>(real_type)) {
    case ColumnType::kString:
    case ColumnType::kVarString:
    case ColumnType::kVarchar:
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kVarcharCompressed:
    case ColumnType::kBlobCompressed:
      return true;
    default:
      return false;
  }
}

bool ColumnInfo::IsEnumOrSet() const {
  return real_type == static_cast<uint8_t>(ColumnType::kEnum) ||
         real_type == static_cast<uint8_t>(ColumnType::kSet);
}

model::ValueType ColumnInfo::ValueType() const {
  using model::ValueType;
  switch (static_cast<ColumnType>(real_type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
      return is_unsigned ? ValueType::kUint64 : ValueType::kInt64;
    case ColumnType::kYear:
      return ValueType::kInt64;
    case ColumnType::kFloat:
      return ValueType::kFloat32;
    case ColumnType::kDouble:
      return ValueType::kFloat64;
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal:
      return ValueType::kDecimal;
    case ColumnType::kDate:
    case ColumnType::kNewDate:
      return ValueType::kDate;
    case ColumnType::kTime:
    case ColumnType::kTime2:
      return ValueType::kTime;
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
      return ValueType::kTimestamp;
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2:
      return ValueType::kTimestampTz;
    case ColumnType::kBit:
      return ValueType::kBits;
    case ColumnType::kJson:
      return ValueType::kJson;
    case ColumnType::kEnum:
      return ValueType::kEnum;
    case ColumnType::kSet:
      return ValueType::kTypedText;
    case ColumnType::kGeometry:
      return ValueType::kBytes;
    case ColumnType::kNull:
      return ValueType::kNull;
    default:
      return charset == "binary" || collation == kBinaryCollation ? ValueType::kBytes
                                                                  : ValueType::kText;
  }
}

std::string ColumnInfo::SourceTypeName() const {
  std::string suffix = is_unsigned ? " unsigned" : "";
  bool binary = charset == "binary" || collation == kBinaryCollation;
  switch (static_cast<ColumnType>(real_type)) {
    case ColumnType::kTiny: return "tinyint" + suffix;
    case ColumnType::kShort: return "smallint" + suffix;
    case ColumnType::kInt24: return "mediumint" + suffix;
    case ColumnType::kLong: return "int" + suffix;
    case ColumnType::kLongLong: return "bigint" + suffix;
    case ColumnType::kYear: return "year";
    case ColumnType::kFloat: return "float" + suffix;
    case ColumnType::kDouble: return "double" + suffix;
    case ColumnType::kNewDecimal:
    case ColumnType::kDecimal:
      return "decimal(" + std::to_string(metadata & 0xFF) + "," + std::to_string(metadata >> 8) +
             ")" + suffix;
    case ColumnType::kDate:
    case ColumnType::kNewDate: return "date";
    case ColumnType::kTime: return "time";
    case ColumnType::kTime2:
      return metadata ? "time(" + std::to_string(metadata) + ")" : "time";
    case ColumnType::kDateTime: return "datetime";
    case ColumnType::kDateTime2:
      return metadata ? "datetime(" + std::to_string(metadata) + ")" : "datetime";
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kTimestamp2:
      return metadata ? "timestamp(" + std::to_string(metadata) + ")" : "timestamp";
    case ColumnType::kBit: return "bit";
    case ColumnType::kJson: return "json";
    case ColumnType::kEnum: return "enum";
    case ColumnType::kSet: return "set";
    case ColumnType::kGeometry: return "geometry";
    case ColumnType::kVarchar:
    case ColumnType::kVarString: return binary ? "varbinary" : "varchar";
    case ColumnType::kString: return binary ? "binary" : "char";
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kBlob: {
      static constexpr const char* kBlob[] = {"blob", "tinyblob", "blob", "mediumblob", "longblob"};
      static constexpr const char* kText[] = {"text", "tinytext", "text", "mediumtext", "longtext"};
      size_t index = metadata <= 4 ? metadata : 0;
      return binary ? kBlob[index] : kText[index];
    }
    default:
      return ColumnTypeName(real_type);
  }
}

Result<uint64_t> ReadLittleEndian(ByteReader& reader, size_t bytes) {
  EDDY_ASSIGN_OR_RETURN(std::string_view b, reader.ReadBytes(bytes));
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  return v;
}

Result<uint64_t> ReadBigEndian(ByteReader& reader, size_t bytes) {
  EDDY_ASSIGN_OR_RETURN(std::string_view b, reader.ReadBytes(bytes));
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

Result<uint64_t> ReadLengthEncoded(ByteReader& reader) {
  EDDY_ASSIGN_OR_RETURN(uint8_t first, reader.ReadFixed8());
  if (first < 251) return uint64_t{first};
  switch (first) {
    case 252: return ReadLittleEndian(reader, 2);
    case 253: return ReadLittleEndian(reader, 3);
    case 254: return ReadLittleEndian(reader, 8);
    default:
      return Corruption("invalid length-encoded integer prefix " + std::to_string(first) +
                        " at byte " + std::to_string(reader.consumed() - 1));
  }
}

size_t NewDecimalBinarySize(int precision, int scale) {
  int integral = precision - scale;
  return static_cast<size_t>((integral / 9) * 4 + kDigitsToBytes[static_cast<size_t>(integral % 9)] +
                             (scale / 9) * 4 + kDigitsToBytes[static_cast<size_t>(scale % 9)]);
}

namespace {

// Appends `value` in decimal, left-padded with zeros to `width` digits (width ≤ 20).
void AppendPadded(std::string& out, uint64_t value, int width) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 20);
  for (int i = n; i < width; ++i) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);
}

}  // namespace

Status AppendNewDecimal(ByteReader& reader, int precision, int scale, std::string& out) {
  if (precision < 1 || precision > 65 || scale < 0 || scale > 38 || scale > precision) {
    return Corruption("DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) +
                      ") is not a valid precision and scale");
  }
  size_t size = NewDecimalBinarySize(precision, scale);
  EDDY_ASSIGN_OR_RETURN(std::string_view raw, reader.ReadBytes(size));
  // At most 65 digits: 7 groups of 9 in 4 bytes each plus 2 partial groups, under 40 bytes.
  char bytes[40];
  std::memcpy(bytes, raw.data(), size);
  const bool negative = (static_cast<uint8_t>(bytes[0]) & 0x80) == 0;
  bytes[0] = static_cast<char>(static_cast<uint8_t>(bytes[0]) ^ 0x80);
  if (negative) {
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(~static_cast<uint8_t>(bytes[i]));
  }
  // Group reads stay within `size` bytes: NewDecimalBinarySize is the sum of the group sizes.
  size_t next = 0;
  auto read_group = [&](size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[next + i]);
    next += width;
    return v;
  };
  const int integral = precision - scale;
  const int leading_digits = integral % 9;
  const int full_integral_groups = integral / 9;
  const int full_fraction_groups = scale / 9;
  const int trailing_digits = scale % 9;

  const size_t start = out.size();
  out.push_back('-');  // removed below unless negative and non-zero
  bool any_integer = false;
  bool all_zero = true;
  auto append_integer = [&](uint64_t value, int width) -> Status {
    uint64_t limit = 1;
    for (int i = 0; i < width; ++i) limit *= 10;
    if (value >= limit) return Corruption("DECIMAL digit group " + std::to_string(value) +
                                          " has more than " + std::to_string(width) + " digits");
    if (value != 0) all_zero = false;
    if (!any_integer) {
      if (value != 0) {
        AppendPadded(out, value, 1);
        any_integer = true;
      }
    } else {
      AppendPadded(out, value, width);
    }
    return Status::Ok();
  };
  if (leading_digits > 0) {
    uint64_t v = read_group(static_cast<size_t>(kDigitsToBytes[static_cast<size_t>(leading_digits)]));
    EDDY_RETURN_IF_ERROR(append_integer(v, leading_digits));
  }
  for (int i = 0; i < full_integral_groups; ++i) {
    uint64_t v = read_group(4);
    EDDY_RETURN_IF_ERROR(append_integer(v, 9));
  }
  if (!any_integer) out.push_back('0');
  if (full_fraction_groups > 0 || trailing_digits > 0) out.push_back('.');
  for (int i = 0; i < full_fraction_groups; ++i) {
    uint64_t v = read_group(4);
    if (v > 999999999) return Corruption("DECIMAL fraction group " + std::to_string(v) + " too large");
    if (v != 0) all_zero = false;
    AppendPadded(out, v, 9);
  }
  if (trailing_digits > 0) {
    uint64_t v = read_group(static_cast<size_t>(kDigitsToBytes[static_cast<size_t>(trailing_digits)]));
    uint64_t limit = 1;
    for (int i = 0; i < trailing_digits; ++i) limit *= 10;
    if (v >= limit) return Corruption("DECIMAL fraction group " + std::to_string(v) + " too large");
    if (v != 0) all_zero = false;
    AppendPadded(out, v, trailing_digits);
  }
  if (!negative || all_zero) out.erase(start, 1);
  return Status::Ok();
}

Result<std::string> DecodeNewDecimal(ByteReader& reader, int precision, int scale) {
  std::string text;
  EDDY_RETURN_IF_ERROR(AppendNewDecimal(reader, precision, scale, text));
  return text;
}

std::string_view CharsetOfCollation(uint32_t collation) {
  switch (collation) {
    case 63: return "binary";
    case 45: case 46: case 255: case 1069: case 1070:
      return "utf8mb4";
    case 33: case 83: case 1057: case 1107:
      return "utf8mb3";
    case 5: case 8: case 15: case 31: case 47: case 48: case 49: case 94: case 1032: case 1071:
      return "latin1";
    case 11: case 65: case 1035: case 1089:
      return "ascii";
    case 35: case 90: return "ucs2";
    case 54: case 55: return "utf16";
    case 56: case 62: return "utf16le";
    case 60: case 61: return "utf32";
    case 9: case 21: case 27: case 77: return "latin2";
    case 14: case 23: case 50: case 51: case 52: return "cp1251";
    case 26: case 34: case 44: case 66: case 99: return "cp1250";
    case 57: case 67: return "cp1256";
    case 29: case 58: case 59: return "cp1257";
    case 30: case 78: return "latin5";
    case 20: case 41: case 42: case 79: return "latin7";
    case 25: case 70: return "greek";
    case 16: case 71: return "hebrew";
    case 7: case 74: return "koi8r";
    case 22: case 75: return "koi8u";
    case 4: case 80: return "cp850";
    case 40: case 81: return "cp852";
    case 36: case 68: return "cp866";
    case 39: case 53: return "macroman";
    case 38: case 43: return "macce";
    case 13: case 88: return "sjis";
    case 95: case 96: return "cp932";
    case 12: case 91: return "ujis";
    case 97: case 98: return "eucjpms";
    case 19: case 85: return "euckr";
    case 24: case 86: return "gb2312";
    case 28: case 87: return "gbk";
    case 1: case 84: return "big5";
    case 18: case 89: return "tis620";
    case 32: case 64: return "armscii8";
    case 92: case 93: return "geostd8";
    default:
      break;
  }
  if (collation >= 224 && collation <= 247) return "utf8mb4";
  if (collation >= 192 && collation <= 215) return "utf8mb3";
  if (collation == 223) return "utf8mb3";
  if (collation >= 128 && collation <= 151) return "ucs2";
  if (collation >= 101 && collation <= 124) return "utf16";
  if (collation >= 160 && collation <= 183) return "utf32";
  if (collation >= 256 && collation <= 309) return "utf8mb4";  // MySQL 8 UCA 9.0.0 collations
  return "";
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  const size_t n = bytes.size();
  // ASCII (the usual case) eight bytes at a time.
  while (i + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, sizeof word);
    if ((word & 0x8080808080808080ULL) != 0) break;
    i += 8;
  }
  while (i < n) {
    uint8_t c = static_cast<uint8_t>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (size_t k = 1; k <= extra; ++k) {
      uint8_t cc = static_cast<uint8_t>(bytes[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

Result<std::string> ToUtf8(std::string_view bytes, std::string_view charset) {
  if (charset == "utf8mb4" || charset == "utf8mb3" || charset == "utf8" || charset.empty()) {
    if (!IsValidUtf8(bytes)) {
      return Corruption("value is not valid UTF-8 (character set " +
                        std::string(charset.empty() ? "unknown" : charset) + ")");
    }
    return std::string(bytes);
  }
  if (charset == "ascii") {
    if (!IsValidUtf8(bytes)) return Corruption("value is not valid ascii text");
    return std::string(bytes);
  }
  if (charset == "latin1") {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 4);
    for (char ch : bytes) {
      uint8_t c = static_cast<uint8_t>(ch);
      if (c < 0x80) out.push_back(ch);
      else if (c < 0xA0) AppendUtf8(out, kCp1252High[c - 0x80]);
      else AppendUtf8(out, c);
    }
    return out;
  }
  const char* iconv_name = IconvName(charset);
  if (iconv_name == nullptr) {
    return Unimplemented("character set " + std::string(charset) +
                         " is not supported; use utf8mb4 for captured columns");
  }
  return IconvToUtf8(bytes, charset, iconv_name);
}

namespace {

// --- MySQL binary JSON -------------------------------------------------------------------

constexpr int kMaxJsonDepth = 100;

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char ch : text) {
    uint8_t c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string DoubleText(double v) {
  if (!std::isfinite(v)) return "null";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  (void)ec;
  std::string text(buffer, end);
  return text;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i + 3 <= bytes.size()) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
    i += 3;
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string TemporalText(const Value& value) {
  // Renders DATE/DATETIME/TIME values produced above as MySQL prints them in JSON.
  if (const auto* date = value.TryGet<model::DateValue>()) {
    if (date->kind == model::TemporalKind::kZero) return "0000-00-00";
    model::CivilDate c = model::CivilFromDays(date->days);
    return DateText(c.year, c.month, c.day);
  }
  if (const auto* ts = value.TryGet<model::TimestampValue>()) {
    if (ts->kind == model::TemporalKind::kZero) return "0000-00-00 00:00:00.000000";
    int64_t days = ts->micros >= 0 ? ts->micros / 86400000000LL
                                   : -((-ts->micros + 86400000000LL - 1) / 86400000000LL);
    int64_t rest = ts->micros - days * 86400000000LL;
    model::CivilDate c = model::CivilFromDays(days);
    int64_t seconds = rest / 1000000;
    return DateText(c.year, c.month, c.day) + " " + TwoDigits(seconds / 3600) + ":" +
           TwoDigits(seconds / 60 % 60) + ":" + TwoDigits(seconds % 60) + "." +
           PadDigits(static_cast<uint64_t>(rest % 1000000), 6);
  }
  if (const auto* text = value.TryGet<model::TypedTextValue>()) return text->text;
  return "";
}

class JsonDecoder {
 public:
  explicit JsonDecoder(std::string_view document) : document_(document) {}

  Status DecodeValue(uint8_t type, std::string_view data, int depth, std::string& out) {
    if (depth > kMaxJsonDepth) return Corruption("JSON nesting deeper than 100");
    switch (type) {
      case 0x00: return DecodeContainer(data, false, true, depth, out);
      case 0x01: return DecodeContainer(data, true, true, depth, out);
      case 0x02: return DecodeContainer(data, false, false, depth, out);
      case 0x03: return DecodeContainer(data, true, false, depth, out);
      case 0x04: {
        if (data.empty()) return Corruption("JSON literal truncated");
        return AppendLiteral(static_cast<uint8_t>(data[0]), out);
      }
      case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x0b: {
        ByteReader reader(data);
        return AppendScalar(type, reader, out);
      }
      case 0x0c: {
        ByteReader reader(data);
        EDDY_ASSIGN_OR_RETURN(uint64_t length, ReadVariableLength(reader));
        EDDY_ASSIGN_OR_RETURN(std::string_view text, reader.ReadBytes(length));
        AppendJsonString(out, text);
        return Status::Ok();
      }
      case 0x0f: {
        ByteReader reader(data);
        EDDY_ASSIGN_OR_RETURN(uint8_t field_type, reader.ReadFixed8());
        EDDY_ASSIGN_OR_RETURN(uint64_t length, ReadVariableLength(reader));
        EDDY_ASSIGN_OR_RETURN(std::string_view bytes, reader.ReadBytes(length));
        return AppendOpaque(field_type, bytes, out);
      }
      default:
        return Corruption("unknown JSON value type " + std::to_string(type));
    }
  }

 private:
  static Result<uint64_t> ReadVariableLength(ByteReader& reader) {
    uint64_t length = 0;
    for (int i = 0; i < 5; ++i) {
      EDDY_ASSIGN_OR_RETURN(uint8_t b, reader.ReadFixed8());
      length |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return length;
    }
    return Corruption("JSON variable-length integer longer than 5 bytes");
  }

  static Status AppendLiteral(uint8_t literal, std::string& out) {
    switch (literal) {
      case 0: out += "null"; return Status::Ok();
      case 1: out += "true"; return Status::Ok();
      case 2: out += "false"; return Status::Ok();
      default: return Corruption("unknown JSON literal " + std::to_string(literal));
    }
  }

  static Status AppendScalar(uint8_t type, ByteReader& reader, std::string& out) {
    switch (type) {
      case 0x05: {
        EDDY_ASSIGN_OR_RETURN(uint16_t v, reader.ReadFixed16());
        out += std::to_string(static_cast<int16_t>(v));
        return Status::Ok();
      }
      case 0x06: {
        EDDY_ASSIGN_OR_RETURN(uint16_t v, reader.ReadFixed16());
        out += std::to_string(v);
        return Status::Ok();
      }
      case 0x07: {
        EDDY_ASSIGN_OR_RETURN(uint32_t v, reader.ReadFixed32());
        out += std::to_string(static_cast<int32_t>(v));
        return Status::Ok();
      }
      case 0x08: {
        EDDY_ASSIGN_OR_RETURN(uint32_t v, reader.ReadFixed32());
        out += std::to_string(v);
        return Status::Ok();
      }
      case 0x09: {
        EDDY_ASSIGN_OR_RETURN(uint64_t v, reader.ReadFixed64());
        out += std::to_string(static_cast<int64_t>(v));
        return Status::Ok();
      }
      case 0x0a: {
        EDDY_ASSIGN_OR_RETURN(uint64_t v, reader.ReadFixed64());
        out += std::to_string(v);
        return Status::Ok();
      }
      case 0x0b: {
        EDDY_ASSIGN_OR_RETURN(uint64_t v, reader.ReadFixed64());
        double d;
        std::memcpy(&d, &v, sizeof(d));
        out += DoubleText(d);
        return Status::Ok();
      }
      default:
        return Corruption("JSON scalar type " + std::to_string(type));
    }
  }

  static Status AppendOpaque(uint8_t field_type, std::string_view bytes, std::string& out) {
    switch (static_cast<ColumnType>(field_type)) {
      case ColumnType::kNewDecimal: {
        ByteReader reader(bytes);
        EDDY_ASSIGN_OR_RETURN(uint8_t precision, reader.ReadFixed8());
        EDDY_ASSIGN_OR_RETURN(uint8_t scale, reader.ReadFixed8());
        EDDY_ASSIGN_OR_RETURN(std::string text, DecodeNewDecimal(reader, precision, scale));
        out += text;
        return Status::Ok();
      }
      case ColumnType::kDate:
      case ColumnType::kDateTime:
      case ColumnType::kTimestamp:
      case ColumnType::kTime: {
        ByteReader reader(bytes);
        EDDY_ASSIGN_OR_RETURN(uint64_t raw, reader.ReadFixed64());
        int64_t packed = static_cast<int64_t>(raw);
        if (static_cast<ColumnType>(field_type) == ColumnType::kTime) {
          bool negative = packed < 0;
          uint64_t magnitude = negative ? static_cast<uint64_t>(-packed) : static_cast<uint64_t>(packed);
          uint64_t hms = magnitude >> 24;
          uint64_t frac = magnitude % (uint64_t{1} << 24);
          std::string text = std::string(negative ? "-" : "") + TwoDigits(static_cast<int64_t>((hms >> 12) % 1024)) +
                             ":" + TwoDigits(static_cast<int64_t>((hms >> 6) % 64)) + ":" +
                             TwoDigits(static_cast<int64_t>(hms % 64)) + "." + PadDigits(frac, 6);
          AppendJsonString(out, text);
          return Status::Ok();
        }
        if (packed < 0) return Corruption("JSON datetime is negative");
        uint64_t magnitude = static_cast<uint64_t>(packed);
        Value value = DateTimeFromPackedParts(magnitude >> 24,
                                              static_cast<int64_t>(magnitude % (uint64_t{1} << 24)), 6);
        std::string text = TemporalText(value);
        if (static_cast<ColumnType>(field_type) == ColumnType::kDate) text = text.substr(0, 10);
        AppendJsonString(out, text);
        return Status::Ok();
      }
      default:
        AppendJsonString(out, "base64:type" + std::to_string(field_type) + ":" + Base64(bytes));
        return Status::Ok();
    }
  }

  Status DecodeContainer(std::string_view data, bool large, bool is_object, int depth,
                         std::string& out) {
    const size_t offset_size = large ? 4 : 2;
    ByteReader header(data);
    EDDY_ASSIGN_OR_RETURN(uint64_t count, ReadLittleEndian(header, offset_size));
    EDDY_ASSIGN_OR_RETURN(uint64_t size, ReadLittleEndian(header, offset_size));
    if (size > data.size()) {
      return Corruption("JSON container size " + std::to_string(size) + " exceeds its " +
                        std::to_string(data.size()) + " bytes");
    }
    std::string_view container = data.substr(0, size);
    const size_t key_entry_size = offset_size + 2;
    const size_t value_entry_size = 1 + offset_size;
    size_t header_size = 2 * offset_size + (is_object ? count * key_entry_size : 0) +
                         count * value_entry_size;
    if (count > container.size() || header_size > container.size()) {
      return Corruption("JSON container with " + std::to_string(count) +
                        " elements does not fit in " + std::to_string(container.size()) + " bytes");
    }
    out.push_back(is_object ? '{' : '[');
    for (uint64_t i = 0; i < count; ++i) {
      if (i > 0) out += ", ";  // MySQL's own JSON text puts a space after ',' and ':'
      if (is_object) {
        ByteReader key_entry(container.substr(2 * offset_size + i * key_entry_size));
        EDDY_ASSIGN_OR_RETURN(uint64_t key_offset, ReadLittleEndian(key_entry, offset_size));
        EDDY_ASSIGN_OR_RETURN(uint16_t key_length, key_entry.ReadFixed16());
        if (key_offset > container.size() || key_length > container.size() - key_offset) {
          return Corruption("JSON object key out of bounds");
        }
        AppendJsonString(out, container.substr(key_offset, key_length));
        out += ": ";
      }
      size_t entry_at = 2 * offset_size + (is_object ? count * key_entry_size : 0) +
                        i * value_entry_size;
      ByteReader entry(container.substr(entry_at));
      EDDY_ASSIGN_OR_RETURN(uint8_t value_type, entry.ReadFixed8());
      bool inlined = value_type == 0x04 || value_type == 0x05 || value_type == 0x06 ||
                     (large && (value_type == 0x07 || value_type == 0x08));
      if (inlined) {
        if (value_type == 0x04) {
          EDDY_ASSIGN_OR_RETURN(uint64_t literal, ReadLittleEndian(entry, offset_size));
          EDDY_RETURN_IF_ERROR(AppendLiteral(static_cast<uint8_t>(literal), out));
        } else {
          EDDY_RETURN_IF_ERROR(AppendScalar(value_type, entry, out));
        }
        continue;
      }
      EDDY_ASSIGN_OR_RETURN(uint64_t value_offset, ReadLittleEndian(entry, offset_size));
      if (value_offset >= container.size()) return Corruption("JSON value offset out of bounds");
      EDDY_RETURN_IF_ERROR(
          DecodeValue(value_type, container.substr(value_offset), depth + 1, out));
    }
    out.push_back(is_object ? '}' : ']');
    return Status::Ok();
  }

  std::string_view document_;
};

}  // namespace

Result<std::string> DecodeMysqlJson(std::string_view bytes) {
  if (bytes.empty()) return std::string("null");
  JsonDecoder decoder(bytes);
  std::string out;
  Status status = decoder.DecodeValue(static_cast<uint8_t>(bytes[0]), bytes.substr(1), 0, out);
  if (!status.ok()) return status.WithContext("MySQL binary JSON");
  return out;
}

Result<Value> DecodeColumnValue(const ColumnInfo& column, ByteReader& reader) {
  const uint8_t type = column.real_type;
  const uint16_t meta = column.metadata;
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong: {
      const size_t width = IntegerWidth(type);
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, WithType(type, ReadLittleEndian(reader, width)));
      if (column.is_unsigned) return Value::Uint64(raw);
      raw = SignExtend(raw, width);
      return Value::Int64(static_cast<int64_t>(raw));
    }
    case ColumnType::kYear: {
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, WithType(type, ReadLittleEndian(reader, 1)));
      return Value::Int64(raw == 0 ? 0 : static_cast<int64_t>(raw) + 1900);
    }
    case ColumnType::kFloat: {
      EDDY_ASSIGN_OR_RETURN(uint32_t raw, WithType(type, reader.ReadFixed32()));
      float v;
      std::memcpy(&v, &raw, sizeof(v));
      return Value::Float32(v);
    }
    case ColumnType::kDouble: {
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, WithType(type, reader.ReadFixed64()));
      double v;
      std::memcpy(&v, &raw, sizeof(v));
      return Value::Float64(v);
    }
    case ColumnType::kNewDecimal: {
      EDDY_ASSIGN_OR_RETURN(std::string text,
                            WithType(type, DecodeNewDecimal(reader, meta & 0xFF, meta >> 8)));
      return Value::Decimal(std::move(text));
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, WithType(type, ReadLittleEndian(reader, 3)));
      return DateValueOf(static_cast<int64_t>(v >> 9), static_cast<int64_t>((v >> 5) & 15),
                         static_cast<int64_t>(v & 31));
    }
    case ColumnType::kTime2: {
      if (meta > 6) return TypeError(type, "fractional-second precision " + std::to_string(meta));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, WithType(type, DecodeTime2(reader, meta)));
      return Value::Time(micros);
    }
    case ColumnType::kTime: {
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, WithType(type, ReadLittleEndian(reader, 3)));
      int64_t v = static_cast<int64_t>(raw);
      if (v & 0x800000) v -= 0x1000000;
      bool negative = v < 0;
      int64_t magnitude = negative ? -v : v;
      int64_t micros = ((magnitude / 10000) * 3600 + (magnitude / 100 % 100) * 60 + magnitude % 100) *
                       1'000'000;
      return Value::Time(negative ? -micros : micros);
    }
    case ColumnType::kDateTime2: {
      if (meta > 6) return TypeError(type, "fractional-second precision " + std::to_string(meta));
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, WithType(type, ReadBigEndian(reader, 5)));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, WithType(type, ReadFraction(reader, meta)));
      if (raw < 0x8000000000ULL) return TypeError(type, "negative DATETIME2 value");
      return DateTimeFromPackedParts(raw - 0x8000000000ULL, micros, meta);
    }
    case ColumnType::kDateTime: {
      EDDY_ASSIGN_OR_RETURN(uint64_t v, WithType(type, reader.ReadFixed64()));
      uint64_t date = v / 1000000;
      uint64_t time = v % 1000000;
      return DateTimeValueOf(static_cast<int64_t>(date / 10000), static_cast<int64_t>(date / 100 % 100),
                             static_cast<int64_t>(date % 100), static_cast<int64_t>(time / 10000),
                             static_cast<int64_t>(time / 100 % 100), static_cast<int64_t>(time % 100),
                             0, 0);
    }
    case ColumnType::kTimestamp2: {
      if (meta > 6) return TypeError(type, "fractional-second precision " + std::to_string(meta));
      EDDY_ASSIGN_OR_RETURN(uint64_t seconds, WithType(type, ReadBigEndian(reader, 4)));
      EDDY_ASSIGN_OR_RETURN(int64_t micros, WithType(type, ReadFraction(reader, meta)));
      if (seconds == 0 && micros == 0) {
        return Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kZero, 0});
      }
      return Value::TimestampTz(model::TimestampTzValue{
          model::TemporalKind::kFinite, static_cast<int64_t>(seconds) * 1'000'000 + micros});
    }
    case ColumnType::kTimestamp: {
      EDDY_ASSIGN_OR_RETURN(uint32_t seconds, WithType(type, reader.ReadFixed32()));
      if (seconds == 0) {
        return Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kZero, 0});
      }
      return Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kFinite,
                                                        static_cast<int64_t>(seconds) * 1'000'000});
    }
    case ColumnType::kBit: {
      uint32_t bits = (meta >> 8) * 8u + (meta & 0xFF);
      if (bits == 0 || bits > 64) return TypeError(type, "BIT(" + std::to_string(bits) + ")");
      EDDY_ASSIGN_OR_RETURN(uint64_t v, WithType(type, ReadBigEndian(reader, (bits + 7) / 8)));
      std::string text(bits, '0');
      for (uint32_t i = 0; i < bits; ++i) {
        if (v & (uint64_t{1} << i)) text[bits - 1 - i] = '1';
      }
      return Value::Bits(std::move(text));
    }
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString: {
      size_t prefix = meta < 256 ? 1 : 2;
      EDDY_ASSIGN_OR_RETURN(uint64_t length, WithType(type, ReadLittleEndian(reader, prefix)));
      EDDY_ASSIGN_OR_RETURN(std::string_view data, WithType(type, reader.ReadBytes(length)));
      if (column.charset == "binary" || column.collation == kBinaryCollation) {
        std::string bytes(data);
        // BINARY(n) is stored without its trailing 0x00 padding; the server returns it padded.
        if (type == static_cast<uint8_t>(ColumnType::kString) && bytes.size() < meta) {
          bytes.resize(meta, '\0');
        }
        return Value::Bytes(std::move(bytes));
      }
      EDDY_ASSIGN_OR_RETURN(std::string text, WithType(type, ToUtf8(data, column.charset)));
      return Value::Text(std::move(text));
    }
    case ColumnType::kBlob:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kGeometry:
    case ColumnType::kJson: {
      if (meta < 1 || meta > 4) return TypeError(type, "length size " + std::to_string(meta));
      EDDY_ASSIGN_OR_RETURN(uint64_t length, WithType(type, ReadLittleEndian(reader, meta)));
      EDDY_ASSIGN_OR_RETURN(std::string_view data, WithType(type, reader.ReadBytes(length)));
      if (type == static_cast<uint8_t>(ColumnType::kJson)) {
        EDDY_ASSIGN_OR_RETURN(std::string json, WithType(type, DecodeMysqlJson(data)));
        return Value::Json(std::move(json));
      }
      if (type == static_cast<uint8_t>(ColumnType::kGeometry)) return Value::Bytes(std::string(data));
      if (column.charset == "binary" || column.collation == kBinaryCollation) {
        return Value::Bytes(std::string(data));
      }
      EDDY_ASSIGN_OR_RETURN(std::string text, WithType(type, ToUtf8(data, column.charset)));
      return Value::Text(std::move(text));
    }
    case ColumnType::kEnum: {
      size_t width = meta & 0xFF;
      if (width != 1 && width != 2) return TypeError(type, "pack length " + std::to_string(width));
      EDDY_ASSIGN_OR_RETURN(uint64_t index, WithType(type, ReadLittleEndian(reader, width)));
      if (index == 0) return Value::Enum("");  // the error value '' of an invalid insert
      if (column.enum_values.empty()) return Value::TypedText("enum_index", std::to_string(index));
      if (index > column.enum_values.size()) {
        return TypeError(type, "index " + std::to_string(index) + " beyond the " +
                                   std::to_string(column.enum_values.size()) + " labels");
      }
      return Value::Enum(column.enum_values[index - 1]);
    }
    case ColumnType::kSet: {
      size_t width = meta & 0xFF;
      if (width < 1 || width > 8) return TypeError(type, "pack length " + std::to_string(width));
      EDDY_ASSIGN_OR_RETURN(uint64_t mask, WithType(type, ReadLittleEndian(reader, width)));
      if (column.enum_values.empty()) return Value::TypedText("set_bits", std::to_string(mask));
      std::string text;
      for (size_t i = 0; i < 64; ++i) {
        if ((mask & (uint64_t{1} << i)) == 0) continue;
        if (i >= column.enum_values.size()) {
          return TypeError(type, "bit " + std::to_string(i) + " beyond the " +
                                     std::to_string(column.enum_values.size()) + " members");
        }
        if (!text.empty()) text.push_back(',');
        text += column.enum_values[i];
      }
      return Value::TypedText("set", std::move(text));
    }
    case ColumnType::kNull:
      return Value::Null();
    case ColumnType::kVarcharCompressed:
    case ColumnType::kBlobCompressed:
      return Unimplemented("column " + column.name +
                           " uses MariaDB column compression (COMPRESSED), which capture does not "
                           "decode; remove the COMPRESSED attribute");
    default:
      return TypeError(type, "type not supported in row events");
  }
}

namespace {

void PutTag(std::string& out, model::ValueType type) {
  PutFixed8(out, static_cast<uint8_t>(type));
}

bool IsUtf8Charset(std::string_view charset) {
  return charset == "utf8mb4" || charset == "utf8mb3" || charset == "utf8" || charset.empty() ||
         charset == "ascii";
}

}  // namespace

size_t IntegerColumnWidth(uint8_t type) { return IntegerWidth(type); }

ColumnEncoding ColumnEncodingOf(const ColumnInfo& column) {
  switch (static_cast<ColumnType>(column.real_type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong:
      return column.is_unsigned ? ColumnEncoding::kUnsignedInteger : ColumnEncoding::kSignedInteger;
    case ColumnType::kDouble:
      return ColumnEncoding::kDouble;
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString:
      // The same test as EncodeColumnValue's string case.
      if (column.charset == "binary" || column.collation == kBinaryCollation ||
          !IsUtf8Charset(column.charset)) {
        return ColumnEncoding::kGeneral;
      }
      return ColumnEncoding::kUtf8String;
    default:
      return ColumnEncoding::kGeneral;
  }
}

// The common column types are written straight into the encoding; each case must produce
// exactly EncodeValue(DecodeColumnValue(...)) (binlog_types_test compares the two), and
// anything unusual (a non-civil date, another character set, invalid bytes) takes the
// general path so that its error or text form stays in one place.
Status EncodeColumnValue(const ColumnInfo& column, ByteReader& reader, std::string& out) {
  const uint8_t type = column.real_type;
  const uint16_t meta = column.metadata;
  switch (static_cast<ColumnType>(type)) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong: {
      const size_t width = IntegerWidth(type);
      if (reader.remaining() < width) break;  // the general path reports it
      std::string_view b = reader.TakeVerified(width);
      uint64_t raw = 0;
      for (size_t i = 0; i < width; ++i) raw |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
      if (column.is_unsigned) {
        PutTag(out, model::ValueType::kUint64);
        PutVarint64(out, raw);
        return Status::Ok();
      }
      raw = SignExtend(raw, width);
      PutTag(out, model::ValueType::kInt64);
      PutVarintSigned64(out, static_cast<int64_t>(raw));
      return Status::Ok();
    }
    case ColumnType::kNewDecimal: {
      PutTag(out, model::ValueType::kDecimal);
      // Length-prefixed text: digits first, then the varint length moved in front of them.
      const size_t at = out.size();
      Status status = AppendNewDecimal(reader, meta & 0xFF, meta >> 8, out);
      if (!status.ok()) return status.WithContext("column type " + ColumnTypeName(type));
      const size_t length = out.size() - at;
      if (length < 0x80) {
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(length));
      } else {
        std::string prefix;
        PutVarint64(prefix, length);
        out.insert(at, prefix);
      }
      return Status::Ok();
    }
    case ColumnType::kDateTime2: {
      if (meta > 6 || reader.remaining() < 5) break;
      ByteReader probe = reader;
      EDDY_ASSIGN_OR_RETURN(uint64_t raw, ReadBigEndian(probe, 5));
      auto micros = ReadFraction(probe, meta);
      if (!micros.ok() || raw < 0x8000000000ULL) break;
      DateTimeParts p = UnpackDateTime2(raw - 0x8000000000ULL);
      auto value = DateTimeOf(p.year, p.month, p.day, p.hour, p.minute, p.second, *micros);
      if (!value) break;
      reader = probe;
      PutTag(out, model::ValueType::kTimestamp);
      PutFixed8(out, static_cast<uint8_t>(value->kind));
      PutVarintSigned64(out, value->micros);
      return Status::Ok();
    }
    case ColumnType::kTimestamp2: {
      if (meta > 6 || reader.remaining() < 4) break;
      ByteReader probe = reader;
      EDDY_ASSIGN_OR_RETURN(uint64_t seconds, ReadBigEndian(probe, 4));
      auto micros = ReadFraction(probe, meta);
      if (!micros.ok()) break;
      reader = probe;
      bool zero = seconds == 0 && *micros == 0;
      PutTag(out, model::ValueType::kTimestampTz);
      PutFixed8(out, static_cast<uint8_t>(zero ? model::TemporalKind::kZero
                                               : model::TemporalKind::kFinite));
      PutVarintSigned64(out, zero ? 0 : static_cast<int64_t>(seconds) * 1'000'000 + *micros);
      return Status::Ok();
    }
    case ColumnType::kDouble: {
      if (reader.remaining() < 8) break;
      uint64_t raw = DecodeFixed64(reader.TakeVerified(8).data());
      PutTag(out, model::ValueType::kFloat64);
      PutFixed64(out, raw);
      return Status::Ok();
    }
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString: {
      if (column.charset == "binary" || column.collation == kBinaryCollation ||
          !IsUtf8Charset(column.charset)) {
        break;
      }
      size_t prefix = meta < 256 ? 1 : 2;
      std::string_view rest = reader.rest();
      if (rest.size() < prefix) break;
      size_t length = static_cast<uint8_t>(rest[0]);
      if (prefix == 2) length |= size_t{static_cast<uint8_t>(rest[1])} << 8;
      if (rest.size() - prefix < length) break;
      std::string_view data = rest.substr(prefix, length);
      if (!IsValidUtf8(data)) break;
      reader.TakeVerified(prefix + length);
      PutTag(out, model::ValueType::kText);
      PutLengthPrefixed(out, data);
      return Status::Ok();
    }
    default:
      break;
  }
  EDDY_ASSIGN_OR_RETURN(Value value, DecodeColumnValue(column, reader));
  model::EncodeValue(value, out);
  return Status::Ok();
}

}  // namespace eddy::source::mysql
