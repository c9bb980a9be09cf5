// The declared type of a MySQL/MariaDB column (model::Column::declared_type and ::collation),
// in one canonical spelling whether it comes from the binlog's TABLE_MAP (streaming) or from
// information_schema.COLUMNS (snapshot), so the same table gets the same schema both ways and
// a schema version never changes only because of where the capture read it.
//
// The canonical spelling is MariaDB's COLUMN_TYPE without what the TABLE_MAP does not carry:
// integer and YEAR display widths ("int(11)" -> "int"), ZEROFILL, FLOAT/DOUBLE (M,D). Lengths
// are in characters for character types (the TABLE_MAP's byte lengths divided by the
// character set's bytes per character) and in bytes for binary types; ENUM and SET labels are
// single-quoted with ' doubled and \ doubled, as SHOW CREATE TABLE and COLUMN_TYPE print them.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "source/mysql/binlog_types.h"

namespace eddy::source::mysql {

// Bytes per character at most in `charset` ("utf8mb4" 4, "utf8mb3" 3, "latin1" 1, ...); 1 for
// unknown character sets.
int CharsetMaxBytes(std::string_view charset);

// 'label' with ' and \ doubled.
std::string QuoteTypeLabel(std::string_view label);

// "enum('a','b')" / "set('a','b')" from the labels.
std::string LabelledType(std::string_view base, const std::vector<std::string>& labels);

// The labels of a COLUMN_TYPE "enum('a','b''c')" or "set(...)"; false when `column_type` is not
// a well-formed ENUM/SET spelling.
bool ParseTypeLabels(std::string_view column_type, std::vector<std::string>& labels);

// The declared type of a TABLE_MAP column (with its charset filled in); "" for types whose
// spelling the TABLE_MAP cannot tell apart (MariaDB's UUID, INET4, INET6 arrive as BINARY or
// STRING columns and are left to source_type).
std::string DeclaredTypeFromTableMap(const ColumnInfo& column);

// The declared type of an information_schema.COLUMNS row (DATA_TYPE, COLUMN_TYPE,
// CHARACTER_SET_NAME) in the same spelling as DeclaredTypeFromTableMap; "" where that gives "".
std::string DeclaredTypeFromColumnType(std::string_view data_type, std::string_view column_type,
                                       std::string_view character_set);

}  // namespace eddy::source::mysql
