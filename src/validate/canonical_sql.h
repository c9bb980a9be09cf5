// The SQL that makes PostgreSQL and MariaDB compute the same checksum for equal rows: each
// column is rendered by the database itself into a canonical text (docs/validate.md lists the
// forms), a row's text is its columns' texts joined by U+001F with NULL written as U+001E, a
// row's hash is the MD5 of that text (UTF-8), and a chunk's checksum is the number of rows and
// the exact sum of the first 60 bits of the row hashes (order-independent, so the two engines
// need not scan a chunk in the same order).
//
// Chunks are ranges of the primary key. Key comparisons use an order both engines share:
// numbers and dates by value, text by code point (PostgreSQL COLLATE "C", MariaDB
// utf8mb4_nopad_bin), binary by byte. A boundary only has to split both sides the same way, so
// it is written as a literal of its canonical text.
//
// Sessions must be set up first with SessionSetup(): UTC time zone, ISO dates, utf8mb4,
// standard-conforming strings.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "validate/database_url.h"

namespace eddy::validate {

// How a column's values are rendered canonically.
enum class ValueClass : uint8_t {
  kInteger = 1,      // decimal digits: PG smallint/integer/bigint, MariaDB *int, year
  kBoolean = 2,      // '1' / '0' (MariaDB's BOOLEAN is tinyint(1): kInteger, same text)
  kDecimal = 3,      // trailing zeros of the fraction removed: 12.50 -> 12.5, 3.00 -> 3
  kFloat = 4,        // 15 significant digits: d.dddddddddddddde<exp>; 0 is '0'
  kText = 5,         // the characters, UTF-8 (char(n) without its padding)
  kBinary = 6,       // lower-case hex of the bytes
  kDate = 7,         // YYYY-MM-DD
  kTimestamp = 8,    // YYYY-MM-DD HH:MM:SS.ffffff (timestamp / datetime)
  kTimestampTz = 9,  // the same in UTC (timestamptz / MariaDB TIMESTAMP)
  kTime = 10,        // HH:MM:SS.ffffff
  kUuid = 11,        // lower-case 8-4-4-4-12
  kBit = 12,         // '0'/'1' digits, the column's width
  kOther = 13,       // the engine's own text rendering (json, enum, set, arrays, ...)
};

struct ColumnInfo {
  std::string name;
  std::string type;  // as the catalog spells it, for messages
  ValueClass value_class = ValueClass::kOther;
  int bit_width = 0;  // kBit only
};

// information_schema.columns.data_type (PostgreSQL) or DATA_TYPE + COLUMN_TYPE (MariaDB).
ValueClass ClassifyPostgresType(std::string_view data_type);
ValueClass ClassifyMariadbType(std::string_view data_type, std::string_view column_type,
                               int* bit_width);

std::string QuoteIdentifier(Engine engine, std::string_view name);
// `namespace.table`, each part quoted.
std::string QualifiedTable(Engine engine, std::string_view table_namespace, std::string_view table);

// Statements that pin the session settings the expressions rely on.
std::vector<std::string> SessionSetup(Engine engine);

// The canonical text of the column (NULL stays NULL).
std::string CanonicalExpression(Engine engine, const ColumnInfo& column);
// The expression keys are ordered and compared by.
std::string OrderExpression(Engine engine, const ColumnInfo& column);
// A literal that compares with OrderExpression() as the value whose canonical text is `text`.
std::string KeyLiteral(Engine engine, const ColumnInfo& column, std::string_view text);
// `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`: the key is after the boundary `values`.
std::string KeyAfter(Engine engine, const std::vector<ColumnInfo>& key,
                     const std::vector<std::string>& values);
// The MD5 (32 hex digits) of the row's canonical text.
std::string RowHashExpression(Engine engine, const std::vector<ColumnInfo>& columns);
// The aggregate: the exact sum of the first 60 bits of the row hashes, as text ('0' when none).
std::string HashSumAggregate(Engine engine, const std::vector<ColumnInfo>& columns);

}  // namespace eddy::validate
