// Column types of MySQL/MariaDB row events and how their binary values decode into
// model::Value. The mapping and every byte layout are specified in docs/formats/types-mysql.md.
//
// Values are read from untrusted bytes through ByteReader; malformed input returns Corruption
// naming the column type, never a crash. Thread safety: reentrant (no shared state besides a
// per-thread iconv cache for non-UTF-8 character sets).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "model/value.h"

namespace eddy::source::mysql {

// enum_field_types as written in TABLE_MAP column types. Values never change.
enum class ColumnType : uint8_t {
  kDecimal = 0,  // pre-5.0 DECIMAL (never in row events of supported servers)
  kTiny = 1,
  kShort = 2,
  kLong = 3,
  kFloat = 4,
  kDouble = 5,
  kNull = 6,
  kTimestamp = 7,  // legacy (pre-5.6) TIMESTAMP: u32 seconds
  kLongLong = 8,
  kInt24 = 9,
  kDate = 10,
  kTime = 11,      // legacy TIME: 3-byte integer HHMMSS
  kDateTime = 12,  // legacy DATETIME: u64 YYYYMMDDhhmmss
  kYear = 13,
  kNewDate = 14,
  kVarchar = 15,
  kBit = 16,
  kTimestamp2 = 17,
  kDateTime2 = 18,
  kTime2 = 19,
  kVarcharCompressed = 140,  // MariaDB column compression
  kBlobCompressed = 141,
  kJson = 245,  // MySQL binary JSON; MariaDB's JSON is LONGTEXT and arrives as kBlob
  kNewDecimal = 246,
  kEnum = 247,
  kSet = 248,
  kTinyBlob = 249,
  kMediumBlob = 250,
  kLongBlob = 251,
  kBlob = 252,
  kVarString = 253,
  kString = 254,
  kGeometry = 255,
};

// "LONG", "NEWDECIMAL", ... or "TYPE_<n>".
std::string ColumnTypeName(uint8_t type);

// The collation id of binary strings (BINARY, VARBINARY, BLOB).
inline constexpr uint32_t kBinaryCollation = 63;

// One column of a table map, with the optional metadata that applies to it.
struct ColumnInfo {
  uint8_t type = 0;      // as in the table map (STRING for ENUM/SET/CHAR)
  uint8_t real_type = 0; // resolved: ENUM/SET/STRING from STRING's metadata; else == type
  uint16_t metadata = 0; // type-specific table map metadata (see types-mysql.md)
  bool nullable = true;
  bool is_unsigned = false;
  // Collation id for character columns (from the table map's charset metadata); 0 = unknown.
  uint32_t collation = 0;
  // Character set of that collation ("utf8mb4", "latin1", "binary"); "" = unknown. Filled from
  // the built-in table by the table map parser; capture may refine it from the server's
  // information_schema.COLLATIONS.
  std::string charset;
  std::string name;  // "" when the table map carried no names
  std::vector<std::string> enum_values;  // ENUM labels or SET members, in definition order
  uint32_t geometry_type = 0;
  bool visible = true;

  // Numeric types take a bit in the SIGNEDNESS metadata.
  bool IsNumeric() const;
  // Character types take an entry in the DEFAULT/COLUMN_CHARSET metadata.
  bool IsCharacter() const;
  bool IsEnumOrSet() const;
  // The model type values of this column decode to.
  model::ValueType ValueType() const;
  // "int unsigned", "decimal(10,2)", "varchar", "datetime(6)", ... for TableSchema.
  std::string SourceTypeName() const;
};

// Bytes of table map metadata that `type` carries (0, 1 or 2).
int MetadataLength(uint8_t type);

// Resolves STRING/ENUM/SET: sets real_type (and, for STRING, the true max length in bytes) from
// the table map metadata. Must run before DecodeColumnValue.
void ResolveRealType(ColumnInfo& column);

// Decodes one non-NULL value of `column` from `reader`.
Result<model::Value> DecodeColumnValue(const ColumnInfo& column, ByteReader& reader);
// Appends the column's value in the change-event value encoding, byte for byte
// model::EncodeValue(DecodeColumnValue(column, reader)), without building a model::Value for
// the common types (integers, DOUBLE, DECIMAL, DATETIME2, TIMESTAMP2, UTF-8 and ASCII
// strings); the rest go through DecodeColumnValue. The same errors; on error `out` may hold
// part of a value and the caller discards it.
[[nodiscard]] Status EncodeColumnValue(const ColumnInfo& column, ByteReader& reader,
                                       std::string& out);

// How a column's non-NULL values are written into the event encoding, decided once per table
// map instead of per value (binlog_event.h RowEncodePlan). Each kind writes exactly what
// EncodeColumnValue writes for it and, for input it does not take (short bytes, invalid
// UTF-8), hands over to EncodeColumnValue; kGeneral always does.
enum class ColumnEncoding : uint8_t {
  kGeneral = 0,
  kSignedInteger = 1,    // TINY .. LONGLONG: int64, zigzag
  kUnsignedInteger = 2,  // the same UNSIGNED: uint64, varint
  kDouble = 3,           // float64: the 8 bytes as they are
  kUtf8String = 4,       // VARCHAR / CHAR in a UTF-8 or ASCII character set: text
};
ColumnEncoding ColumnEncodingOf(const ColumnInfo& column);
// Bytes of an integer column of `type` (TINY 1, SHORT 2, INT24 3, LONG 4, LONGLONG 8).
size_t IntegerColumnWidth(uint8_t type);

// Building blocks, exposed for tests.
// NEWDECIMAL(precision, scale) binary -> decimal text; `size` receives the bytes used.
Result<std::string> DecodeNewDecimal(ByteReader& reader, int precision, int scale);
// The same, appended to `out` (on error `out` may hold part of the text).
[[nodiscard]] Status AppendNewDecimal(ByteReader& reader, int precision, int scale,
                                      std::string& out);
size_t NewDecimalBinarySize(int precision, int scale);
// MySQL binary JSON document -> JSON text.
Result<std::string> DecodeMysqlJson(std::string_view bytes);
// Converts `bytes` in character set `charset` to UTF-8. Unknown ("") character sets are
// passed through when the bytes are valid UTF-8 and rejected otherwise.
Result<std::string> ToUtf8(std::string_view bytes, std::string_view charset);
bool IsValidUtf8(std::string_view bytes);
// The character set name of a collation id ("utf8mb4", "latin1", "binary"); "" when unknown.
std::string_view CharsetOfCollation(uint32_t collation);

// Little helpers over ByteReader for MySQL encodings.
Result<uint64_t> ReadLengthEncoded(ByteReader& reader);  // "packed integer" (lenenc)
Result<uint64_t> ReadLittleEndian(ByteReader& reader, size_t bytes);
Result<uint64_t> ReadBigEndian(ByteReader& reader, size_t bytes);

}  // namespace eddy::source::mysql
