#include "source/mysql/binlog_types.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "model/event_codec.h"

namespace eddy::source::mysql {
namespace {

using model::Value;

ColumnInfo Column(ColumnType type, uint16_t metadata = 0, bool is_unsigned = false,
                  std::string charset = "utf8mb4") {
  ColumnInfo column;
  column.type = static_cast<uint8_t>(type);
  column.metadata = metadata;
  column.is_unsigned = is_unsigned;
  column.charset = std::move(charset);
  ResolveRealType(column);
  return column;
}

Value Decode(const ColumnInfo& column, const std::string& bytes, size_t* consumed = nullptr) {
  ByteReader reader(bytes);
  auto value = DecodeColumnValue(column, reader);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  if (consumed) *consumed = reader.consumed();
  else EXPECT_TRUE(reader.empty()) << reader.remaining() << " bytes left";
  return value.ok() ? *value : Value::Null();
}

std::string Le(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}
std::string Be(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(v >> (8 * (n - 1 - i))));
  return out;
}
std::string Hex(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(BinlogTypes, IntegersAtTheirLimits) {
  struct Case {
    ColumnType type;
    size_t width;
    int64_t min;
    int64_t max;
    uint64_t umax;
  } cases[] = {
      {ColumnType::kTiny, 1, -128, 127, 255},
      {ColumnType::kShort, 2, -32768, 32767, 65535},
      {ColumnType::kInt24, 3, -8388608, 8388607, 16777215},
      {ColumnType::kLong, 4, std::numeric_limits<int32_t>::min(),
       std::numeric_limits<int32_t>::max(), 4294967295u},
      {ColumnType::kLongLong, 8, std::numeric_limits<int64_t>::min(),
       std::numeric_limits<int64_t>::max(), std::numeric_limits<uint64_t>::max()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ColumnTypeName(static_cast<uint8_t>(c.type)));
    ColumnInfo signed_column = Column(c.type);
    EXPECT_EQ(Decode(signed_column, Le(static_cast<uint64_t>(c.min), c.width)), Value::Int64(c.min));
    EXPECT_EQ(Decode(signed_column, Le(static_cast<uint64_t>(c.max), c.width)), Value::Int64(c.max));
    EXPECT_EQ(Decode(signed_column, Le(static_cast<uint64_t>(-1), c.width)), Value::Int64(-1));
    EXPECT_EQ(Decode(signed_column, Le(0, c.width)), Value::Int64(0));
    ColumnInfo unsigned_column = Column(c.type, 0, true);
    EXPECT_EQ(Decode(unsigned_column, Le(c.umax, c.width)), Value::Uint64(c.umax));
    EXPECT_EQ(Decode(unsigned_column, Le(0, c.width)), Value::Uint64(0));
  }
}

TEST(BinlogTypes, DecimalKnownVectors) {
  // From the server's decimal2bin documentation: DECIMAL(14,4).
  const std::string positive_bytes = Hex({0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2});
  const std::string negative_bytes = Hex({0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D});
  ByteReader positive(positive_bytes);
  EXPECT_EQ(*DecodeNewDecimal(positive, 14, 4), "1234567890.1234");
  ByteReader negative(negative_bytes);
  EXPECT_EQ(*DecodeNewDecimal(negative, 14, 4), "-1234567890.1234");
  EXPECT_EQ(NewDecimalBinarySize(14, 4), 7u);
  EXPECT_EQ(NewDecimalBinarySize(65, 30), 30u);
  EXPECT_EQ(NewDecimalBinarySize(10, 0), 5u);
}

// An independent encoder (decimal2bin) for round-trip tests over many precisions and scales.
std::string EncodeDecimal(const std::string& text, int precision, int scale) {
  static const int kBytes[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  bool negative = !text.empty() && text[0] == '-';
  std::string body = negative ? text.substr(1) : text;
  std::string integral = body.substr(0, body.find('.'));
  std::string fraction = body.find('.') == std::string::npos ? "" : body.substr(body.find('.') + 1);
  int intg = precision - scale;
  if (intg == 0 && integral == "0") integral.clear();
  integral.insert(0, static_cast<size_t>(intg) - integral.size(), '0');
  fraction.append(static_cast<size_t>(scale) - fraction.size(), '0');
  std::string out;
  auto put = [&](const std::string& digits, int nbytes) {
    uint64_t v = digits.empty() ? 0 : std::stoull(digits);
    out += Be(v, static_cast<size_t>(nbytes));
  };
  size_t pos = 0;
  int lead = intg % 9;
  if (lead) { put(integral.substr(0, static_cast<size_t>(lead)), kBytes[lead]); pos = static_cast<size_t>(lead); }
  for (; pos < integral.size(); pos += 9) put(integral.substr(pos, 9), 4);
  size_t fpos = 0;
  for (; fpos + 9 <= fraction.size(); fpos += 9) put(fraction.substr(fpos, 9), 4);
  if (scale % 9) put(fraction.substr(fpos), kBytes[scale % 9]);
  out[0] = static_cast<char>(static_cast<uint8_t>(out[0]) ^ 0x80);
  if (negative) for (char& c : out) c = static_cast<char>(~static_cast<uint8_t>(c));
  return out;
}

TEST(BinlogTypes, DecimalRoundTripsManyPrecisions) {
  struct Case { std::string text; int precision; int scale; } cases[] = {
      {"0", 1, 0}, {"9", 1, 0}, {"-9", 1, 0}, {"0.5", 1, 1}, {"-0.5", 1, 1},
      {"123.45", 5, 2}, {"-123.45", 5, 2}, {"0.01", 5, 2}, {"-0.01", 5, 2},
      {"999999999", 9, 0}, {"-999999999", 9, 0}, {"1000000000", 10, 0}, {"-1000000000", 10, 0},
      {"12345678901234567890.123456789012345678", 38, 18},
      {"-12345678901234567890.123456789012345678", 38, 18},
      {"99999999999999999999999999999999999.999999999999999999999999999999", 65, 30},
      {"-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30},
      {"0.000000000000000000000000000001", 65, 30},
      {"-0.000000000000000000000000000001", 65, 30},
      {"1.000000001", 10, 9}, {"-1.000000001", 10, 9}, {"0.1234567891", 11, 10},
      {"100.00", 10, 2}, {"-100.00", 10, 2}, {"7.0", 2, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text + " DECIMAL(" + std::to_string(c.precision) + "," + std::to_string(c.scale) + ")");
    std::string bytes = EncodeDecimal(c.text, c.precision, c.scale);
    ASSERT_EQ(bytes.size(), NewDecimalBinarySize(c.precision, c.scale));
    ColumnInfo column = Column(ColumnType::kNewDecimal,
                               static_cast<uint16_t>(c.precision | (c.scale << 8)));
    EXPECT_EQ(Decode(column, bytes), Value::Decimal(c.text));
  }
  // Zero is printed without a sign even when stored negative.
  ColumnInfo column = Column(ColumnType::kNewDecimal, static_cast<uint16_t>(5 | (2 << 8)));
  EXPECT_EQ(Decode(column, EncodeDecimal("0.00", 5, 2)), Value::Decimal("0.00"));
}

TEST(BinlogTypes, FloatDoubleYearBit) {
  float f = -1.5e-7f;
  uint32_t fbits;
  std::memcpy(&fbits, &f, 4);
  EXPECT_EQ(Decode(Column(ColumnType::kFloat, 4), Le(fbits, 4)), Value::Float32(f));
  double d = 1.7976931348623157e308;
  uint64_t dbits;
  std::memcpy(&dbits, &d, 8);
  EXPECT_EQ(Decode(Column(ColumnType::kDouble, 8), Le(dbits, 8)), Value::Float64(d));
  EXPECT_EQ(Decode(Column(ColumnType::kYear), Hex({0})), Value::Int64(0));
  EXPECT_EQ(Decode(Column(ColumnType::kYear), Hex({1})), Value::Int64(1901));
  EXPECT_EQ(Decode(Column(ColumnType::kYear), Hex({255})), Value::Int64(2155));
  // BIT(10): meta byte0 = 10 % 8 = 2, byte1 = 1 full byte.
  EXPECT_EQ(Decode(Column(ColumnType::kBit, static_cast<uint16_t>(2 | (1 << 8))), Hex({0x02, 0x05})),
            Value::Bits("1000000101"));
  EXPECT_EQ(Decode(Column(ColumnType::kBit, static_cast<uint16_t>(1 | (0 << 8))), Hex({0x01})),
            Value::Bits("1"));
  EXPECT_EQ(Decode(Column(ColumnType::kBit, static_cast<uint16_t>(0 | (8 << 8))), Le(~uint64_t{0}, 8)),
            Value::Bits(std::string(64, '1')));
}

TEST(BinlogTypes, DateAndZeroDates) {
  auto date = [](uint64_t y, uint64_t m, uint64_t d) { return Le((y << 9) | (m << 5) | d, 3); };
  EXPECT_EQ(Decode(Column(ColumnType::kDate), date(2024, 2, 29)),
            Value::Date(model::DateValue::FromCivil(2024, 2, 29)));
  EXPECT_EQ(Decode(Column(ColumnType::kDate), date(1000, 1, 1)),
            Value::Date(model::DateValue::FromCivil(1000, 1, 1)));
  EXPECT_EQ(Decode(Column(ColumnType::kDate), date(9999, 12, 31)),
            Value::Date(model::DateValue::FromCivil(9999, 12, 31)));
  EXPECT_EQ(Decode(Column(ColumnType::kDate), date(0, 0, 0)),
            Value::Date(model::DateValue{model::TemporalKind::kZero, 0}));
  EXPECT_EQ(Decode(Column(ColumnType::kDate), date(2020, 0, 0)), Value::TypedText("date", "2020-00-00"));
}

// Encoders mirroring the server's packing, for TIME2/DATETIME2 tests.
std::string EncodeTime2(bool negative, int64_t h, int64_t m, int64_t s, int64_t micros, int fsp) {
  int64_t packed = (((h << 12) | (m << 6) | s) << 24) + micros;
  if (negative) packed = -packed;
  int64_t intpart = packed >> 24;  // arithmetic shift, as MY_PACKED_TIME_GET_INT_PART
  int64_t frac = packed % (int64_t{1} << 24);
  switch (fsp) {
    case 0: return Be(static_cast<uint64_t>(intpart + 0x800000), 3);
    case 1: case 2:
      return Be(static_cast<uint64_t>(intpart + 0x800000), 3) + Be(static_cast<uint8_t>(static_cast<int8_t>(frac / 10000)), 1);
    case 3: case 4:
      return Be(static_cast<uint64_t>(intpart + 0x800000), 3) + Be(static_cast<uint16_t>(static_cast<int16_t>(frac / 100)), 2);
    default:
      return Be(static_cast<uint64_t>(packed + 0x800000000000LL), 6);
  }
}

TEST(BinlogTypes, Time2AllPrecisionsIncludingNegative) {
  struct Case { bool negative; int64_t h, m, s, micros; } cases[] = {
      {false, 0, 0, 0, 0}, {false, 838, 59, 59, 0}, {true, 838, 59, 59, 0},
      {true, 0, 0, 1, 0}, {true, 0, 0, 0, 500000}, {true, 0, 0, 1, 500000},
      {false, 12, 34, 56, 120000}, {true, 12, 34, 56, 120000}, {true, 1, 0, 0, 10000},
  };
  for (int fsp = 0; fsp <= 6; ++fsp) {
    for (const Case& c : cases) {
      int64_t divisor = 1;
      for (int i = fsp; i < 6; ++i) divisor *= 10;
      int64_t micros = c.micros / divisor * divisor;  // what the column can hold
      if (c.h == 0 && c.m == 0 && c.s == 0 && micros == 0 && c.negative) continue;
      SCOPED_TRACE("fsp " + std::to_string(fsp) + " " + (c.negative ? "-" : "") + std::to_string(c.h) +
                   ":" + std::to_string(c.m) + ":" + std::to_string(c.s) + "." + std::to_string(micros));
      int64_t expected = ((c.h * 60 + c.m) * 60 + c.s) * 1000000 + micros;
      if (c.negative) expected = -expected;
      EXPECT_EQ(Decode(Column(ColumnType::kTime2, static_cast<uint16_t>(fsp)),
                       EncodeTime2(c.negative, c.h, c.m, c.s, micros, fsp)),
                Value::Time(expected));
    }
  }
}

std::string EncodeDateTime2(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s,
                            int64_t micros, int fsp) {
  uint64_t ymd = static_cast<uint64_t>(((y * 13 + mo) << 5) | d);
  uint64_t hms = static_cast<uint64_t>((h << 12) | (mi << 6) | s);
  uint64_t intpart = (ymd << 17) | hms;
  std::string out = Be(intpart + 0x8000000000ULL, 5);
  if (fsp == 1 || fsp == 2) out += Be(static_cast<uint64_t>(micros / 10000), 1);
  if (fsp == 3 || fsp == 4) out += Be(static_cast<uint64_t>(micros / 100), 2);
  if (fsp == 5 || fsp == 6) out += Be(static_cast<uint64_t>(micros), 3);
  return out;
}

TEST(BinlogTypes, DateTime2AndTimestamp2) {
  for (int fsp = 0; fsp <= 6; ++fsp) {
    SCOPED_TRACE("fsp " + std::to_string(fsp));
    int64_t divisor = 1;
    for (int i = fsp; i < 6; ++i) divisor *= 10;
    int64_t micros = 999999 / divisor * divisor;
    int64_t days = model::DaysFromCivil(model::CivilDate{9999, 12, 31});
    EXPECT_EQ(Decode(Column(ColumnType::kDateTime2, static_cast<uint16_t>(fsp)),
                     EncodeDateTime2(9999, 12, 31, 23, 59, 59, micros, fsp)),
              Value::Timestamp(model::TimestampValue{
                  model::TemporalKind::kFinite, (days * 86400 + 86399) * 1000000 + micros}));
    EXPECT_EQ(Decode(Column(ColumnType::kDateTime2, static_cast<uint16_t>(fsp)),
                     EncodeDateTime2(0, 0, 0, 0, 0, 0, 0, fsp)),
              Value::Timestamp(model::TimestampValue{model::TemporalKind::kZero, 0}));
    std::string ts = Be(2147483647, 4);
    if (fsp == 1 || fsp == 2) ts += Be(static_cast<uint64_t>(micros / 10000), 1);
    if (fsp == 3 || fsp == 4) ts += Be(static_cast<uint64_t>(micros / 100), 2);
    if (fsp == 5 || fsp == 6) ts += Be(static_cast<uint64_t>(micros), 3);
    EXPECT_EQ(Decode(Column(ColumnType::kTimestamp2, static_cast<uint16_t>(fsp)), ts),
              Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kFinite,
                                                         2147483647LL * 1000000 + micros}));
  }
  EXPECT_EQ(Decode(Column(ColumnType::kTimestamp2, 0), Be(0, 4)),
            Value::TimestampTz(model::TimestampTzValue{model::TemporalKind::kZero, 0}));
  EXPECT_EQ(Decode(Column(ColumnType::kDateTime2, 0), EncodeDateTime2(2020, 0, 0, 1, 2, 3, 0, 0)),
            Value::TypedText("datetime", "2020-00-00 01:02:03"));
}

TEST(BinlogTypes, StringsCharsetsAndBinary) {
  // VARCHAR(10) utf8mb4: max 40 bytes -> 1-byte length.
  EXPECT_EQ(Decode(Column(ColumnType::kVarchar, 40), "\x05" "h\xC3\xA9ll"), Value::Text("h\xC3\xA9ll"));
  // 4-byte UTF-8.
  EXPECT_EQ(Decode(Column(ColumnType::kVarchar, 400), Le(4, 2) + "\xF0\x9F\x98\x80"),
            Value::Text("\xF0\x9F\x98\x80"));
  // latin1 (cp1252) conversion: 0xE9 = é, 0x80 = €.
  EXPECT_EQ(Decode(Column(ColumnType::kVarchar, 10, false, "latin1"), "\x02\xE9\x80"),
            Value::Text("\xC3\xA9\xE2\x82\xAC"));
  // ucs2 via iconv.
  EXPECT_EQ(Decode(Column(ColumnType::kVarchar, 20, false, "ucs2"), std::string("\x02\x00\xE9", 3)),
            Value::Text("\xC3\xA9"));
  // CHAR(255) utf8mb4 = 1020 bytes: STRING metadata with the length's high bits in byte0.
  // real type 0xFE, length 1020 = 0x3FC: byte0 = 0xFE ^ (0x3 << 4) = 0xCE, byte1 = 0xFC.
  ColumnInfo wide = Column(ColumnType::kString, static_cast<uint16_t>((0xCE << 8) | 0xFC));
  EXPECT_EQ(wide.real_type, static_cast<uint8_t>(ColumnType::kString));
  EXPECT_EQ(wide.metadata, 1020);
  EXPECT_EQ(Decode(wide, Le(3, 2) + "abc"), Value::Text("abc"));
  // BINARY(4) comes without trailing zero bytes; the value is padded back.
  ColumnInfo binary = Column(ColumnType::kString, static_cast<uint16_t>((0xFE << 8) | 4), false, "binary");
  EXPECT_EQ(Decode(binary, "\x01" "a"), Value::Bytes(std::string("a\0\0\0", 4)));
  // BLOB with 2-byte length, binary and text.
  EXPECT_EQ(Decode(Column(ColumnType::kBlob, 2, false, "binary"), Le(3, 2) + std::string("\0\xFF\x01", 3)),
            Value::Bytes(std::string("\0\xFF\x01", 3)));
  EXPECT_EQ(Decode(Column(ColumnType::kBlob, 4), Le(2, 4) + "{}"), Value::Text("{}"));
  // Invalid UTF-8 in a utf8mb4 column is Corruption, not garbage.
  const std::string bad_bytes("\x01\xFF", 2);
  ByteReader bad(bad_bytes);
  EXPECT_EQ(DecodeColumnValue(Column(ColumnType::kVarchar, 40), bad).status().code(),
            ErrorCode::kCorruption);
}

TEST(BinlogTypes, EnumAndSet) {
  ColumnInfo e = Column(ColumnType::kString, static_cast<uint16_t>((0xF7 << 8) | 1));
  EXPECT_EQ(e.real_type, static_cast<uint8_t>(ColumnType::kEnum));
  e.enum_values = {"small", "medium", "large"};
  EXPECT_EQ(Decode(e, Hex({2})), Value::Enum("medium"));
  EXPECT_EQ(Decode(e, Hex({0})), Value::Enum(""));
  const std::string beyond_bytes = Hex({4});
  ByteReader beyond(beyond_bytes);
  EXPECT_FALSE(DecodeColumnValue(e, beyond).ok());
  ColumnInfo s = Column(ColumnType::kString, static_cast<uint16_t>((0xF8 << 8) | 1));
  s.enum_values = {"a", "b", "c"};
  EXPECT_EQ(Decode(s, Hex({5})), Value::TypedText("set", "a,c"));
  EXPECT_EQ(Decode(s, Hex({0})), Value::TypedText("set", ""));
}

TEST(BinlogTypes, MysqlBinaryJson) {
  // {"a": 1, "b": [true, null, "x"]} in the small format.
  std::string array;
  array += Le(3, 2);  // count
  array += Le(0, 2);  // size (patched below)
  array += Hex({0x04}) + Le(1, 2);  // true (inlined literal)
  array += Hex({0x04}) + Le(0, 2);  // null
  array += Hex({0x0c}) + Le(13, 2); // string at offset 13
  array += Hex({0x01}) + "x";
  array[2] = static_cast<char>(array.size());
  std::string object;
  object += Le(2, 2);
  object += Le(0, 2);
  object += Le(2 + 2 + 2 * 4 + 2 * 3, 2) + Le(1, 2);  // key "a"
  object += Le(2 + 2 + 2 * 4 + 2 * 3 + 1, 2) + Le(1, 2);  // key "b"
  object += Hex({0x05}) + Le(1, 2);  // int16 1, inlined
  size_t array_offset = 2 + 2 + 2 * 4 + 2 * 3 + 2;
  object += Hex({0x02}) + Le(array_offset, 2);
  object += "ab";
  object += array;
  object[2] = static_cast<char>(object.size());
  std::string document = Hex({0x00}) + object;
  auto json = DecodeMysqlJson(document);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, "{\"a\": 1, \"b\": [true, null, \"x\"]}");
  EXPECT_EQ(*DecodeMysqlJson(Hex({0x0b}) + Le(0x4009000000000000ULL, 8)), "3.125");
  EXPECT_EQ(*DecodeMysqlJson(""), "null");
  EXPECT_EQ(*DecodeMysqlJson(Hex({0x0c, 0x02}) + "\"\n"), "\"\\\"\\n\"");
  // Truncated and hostile documents fail cleanly.
  EXPECT_FALSE(DecodeMysqlJson(document.substr(0, 10)).ok());
  EXPECT_FALSE(DecodeMysqlJson(Hex({0x00, 0xFF, 0xFF, 0xFF, 0xFF})).ok());
  EXPECT_FALSE(DecodeMysqlJson(Hex({0x42})).ok());
}

TEST(BinlogTypes, TruncatedValuesAreCorruption) {
  ColumnInfo columns[] = {
      Column(ColumnType::kLong), Column(ColumnType::kNewDecimal, static_cast<uint16_t>(10 | (2 << 8))),
      Column(ColumnType::kDateTime2, 6), Column(ColumnType::kTime2, 3),
      Column(ColumnType::kVarchar, 300), Column(ColumnType::kBlob, 3), Column(ColumnType::kJson, 4),
  };
  for (const ColumnInfo& column : columns) {
    const std::string truncated = Hex({0x7F});
    ByteReader reader(truncated);
    auto value = DecodeColumnValue(column, reader);
    EXPECT_EQ(value.status().code(), ErrorCode::kCorruption) << ColumnTypeName(column.type);
  }
}

// EncodeColumnValue's fast paths must write exactly what the general decoder plus
// model::EncodeValue writes, consume the same bytes, and fail where it fails: random bytes
// (including truncations, bad UTF-8, zero dates, negative decimals) through every fast-path
// type and a few general ones.
TEST(BinlogTypes, EncodeColumnValueMatchesDecodeThenEncode) {
  std::vector<ColumnInfo> columns = {
      Column(ColumnType::kTiny),          Column(ColumnType::kTiny, 0, true),
      Column(ColumnType::kShort),         Column(ColumnType::kInt24),
      Column(ColumnType::kLong),          Column(ColumnType::kLong, 0, true),
      Column(ColumnType::kLongLong),      Column(ColumnType::kLongLong, 0, true),
      Column(ColumnType::kDouble),        Column(ColumnType::kFloat),
      Column(ColumnType::kNewDecimal, 10 | (2 << 8)),
      Column(ColumnType::kNewDecimal, 65 | (30 << 8)),
      Column(ColumnType::kNewDecimal, 18 | (0 << 8)),
      Column(ColumnType::kNewDecimal, 9 | (9 << 8)),
      Column(ColumnType::kDateTime2, 0),  Column(ColumnType::kDateTime2, 6),
      Column(ColumnType::kDateTime2, 3),  Column(ColumnType::kDateTime2, 7),
      Column(ColumnType::kTimestamp2, 0), Column(ColumnType::kTimestamp2, 6),
      Column(ColumnType::kVarchar, 40),   Column(ColumnType::kVarchar, 400),
      Column(ColumnType::kVarchar, 40, false, "ascii"),
      Column(ColumnType::kVarchar, 40, false, "latin1"),
      Column(ColumnType::kVarchar, 40, false, "binary"),
      Column(ColumnType::kDate),          Column(ColumnType::kYear),
  };
  std::mt19937_64 random(20261121);
  int fast_ok = 0;
  for (const ColumnInfo& column : columns) {
    for (int trial = 0; trial < 3000; ++trial) {
      std::string bytes(random() % 24, '\0');
      for (char& c : bytes) {
        // Mostly small values and ASCII, so that valid inputs are common.
        uint64_t r = random();
        c = static_cast<char>(r % 4 == 0 ? r >> 8 : (r >> 8) % 0x60 + 0x10);
      }
      if (column.real_type == static_cast<uint8_t>(ColumnType::kVarchar) && !bytes.empty() &&
          column.metadata < 256) {
        bytes[0] = static_cast<char>(random() % (bytes.size() + 2));
      }
      ByteReader general_reader(bytes);
      auto general = DecodeColumnValue(column, general_reader);
      ByteReader fast_reader(bytes);
      std::string fast;
      Status status = EncodeColumnValue(column, fast_reader, fast);
      ASSERT_EQ(status.ok(), general.ok())
          << ColumnTypeName(column.real_type) << " trial " << trial << ": "
          << status.ToString() << " vs " << general.status().ToString();
      if (!general.ok()) {
        EXPECT_EQ(status.ToString(), general.status().ToString());
        continue;
      }
      std::string expected;
      model::EncodeValue(*general, expected);
      ASSERT_EQ(fast, expected) << ColumnTypeName(column.real_type) << " trial " << trial << " "
                                << general->DebugString();
      ASSERT_EQ(fast_reader.consumed(), general_reader.consumed());
      ++fast_ok;
    }
  }
  EXPECT_GT(fast_ok, 10000);
}

}  // namespace
}  // namespace eddy::source::mysql
