// The text pieces both replica dialects (postgres_target.cc, mariadb_target.cc) build their
// statements and values from: lists of quoted names, rows of literals, the CREATE TABLE
// skeleton, the escaping the engines' tab-separated bulk formats share, hex digits, clock
// text, and PostgreSQL's array text (what a PostgreSQL array column prints; both targets
// store it). Each dialect keeps only what differs between the engines.
//
// Threads: pure functions; any thread may call them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/value.h"
#include "sink/replica/target.h"

namespace eddy::sink::replica {

// `text` between two `quote` characters, each `quote` inside doubled: the quoting of SQL
// string literals ('), PostgreSQL identifiers (") and MariaDB identifiers (`).
std::string QuoteDoubling(std::string_view text, char quote);

// dialect.QuoteIdentifier of each name, joined by `separator`.
std::string IdentifierList(const TargetDialect& dialect, const std::vector<std::string>& names,
                           std::string_view separator);

// Appends "(v1,v2,...)": each value as dialect.QuoteLiteral, NULL for nullopt.
void AppendLiteralRow(const TargetDialect& dialect, const TextRow& row, std::string& sql);

// "INSERT INTO t (c1,c2,...) VALUES (v1,v2,...),(...)": `rows` as AppendLiteralRow writes
// them. An upsert appends its engine's conflict clause.
std::string InsertValues(const TargetDialect& dialect, const TargetTable& table,
                         const std::vector<std::string>& columns, const std::vector<TextRow>& rows);

// The names of `columns` that are not among `key_columns`, in order (an upsert's SET list).
std::vector<std::string> NonKeyColumns(const std::vector<std::string>& columns,
                                       const std::vector<std::string>& key_columns);

// "CREATE TABLE IF NOT EXISTS t (c1 type1[ NOT NULL], ..., PRIMARY KEY (k1, k2))"; no key
// clause when `primary_key` is empty. `say_null`: a nullable column is declared " NULL"
// explicitly (MariaDB: a TIMESTAMP column is NOT NULL unless it says NULL). The caller
// appends any table options.
std::string CreateTableStatement(const TargetDialect& dialect, const TargetTable& table,
                                 const std::vector<TargetColumn>& columns,
                                 const std::vector<std::string>& primary_key, bool say_null);

// Appends `text` with the escapes PostgreSQL's COPY text format and MariaDB's
// LOAD DATA ... ESCAPED BY '\\' both read: `\` `\t` `\n` `\r` as `\\`, `\t`, `\n`, `\r`.
void AppendBulkEscaped(std::string& out, std::string_view text);

// Appends two lowercase hex digits per byte.
void AppendHex(std::string& out, std::string_view bytes);

// Appends `value` (0..99) as two decimal digits.
void AppendTwoDigits(std::string& out, int64_t value);

// Appends "HH:MM:SS" of a non-negative number of seconds; hours keep at least two digits and
// may go beyond 24 (durations).
void AppendClock(std::string& out, int64_t seconds);

// Microseconds since the epoch as a day count and the microseconds within that day (floored,
// so a time before 1970 lands in the earlier day with a non-negative remainder).
struct DayAndMicros {
  int64_t days = 0;
  int64_t micros = 0;
};
DayAndMicros SplitEpochMicros(int64_t micros);

// An array element's text (never called with NULL or a nested array).
using ArrayElementRenderer = std::function<Result<TextValue>(const model::Value& element)>;

// PostgreSQL's array text: {e1,e2,NULL,{...}}, nested arrays recursively. `quote_always`:
// every element in double quotes (input syntax PostgreSQL parses for any element type); else
// an element is quoted only where array_out quotes it (empty, "NULL" in any case, or holding
// a quote, backslash, brace, comma or white space), so the text equals what PostgreSQL
// prints. Inside quotes `"` and `\` are escaped with `\`. The renderer's error is returned.
Result<std::string> ArrayText(const model::ArrayValue& array, const ArrayElementRenderer& render,
                              bool quote_always);

}  // namespace eddy::sink::replica
