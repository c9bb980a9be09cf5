// Table identities and versioned table schemas, as read from the source database's catalog
// (never inferred from data). Plain value types; any thread may use its own copies.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/value.h"

namespace eddy::model {

// A table: database (PostgreSQL database or MySQL schema), schema (PostgreSQL schema; empty for
// MySQL, whose "database" and "schema" are the same thing) and name.
struct TableId {
  std::string database;
  std::string schema;
  std::string name;

  // "schema.name" for PostgreSQL, "database.name" when the schema is empty (MySQL).
  // This is the qualified name users write in --tables filters.
  std::string QualifiedName() const;
  // "database.schema.name" (empty parts omitted): for logs.
  std::string ToString() const;

  auto operator<=>(const TableId&) const = default;
  bool operator==(const TableId&) const = default;
};

struct Column {
  std::string name;
  std::string source_type;  // the catalog's type name: "numeric", "varchar", "int unsigned"...
  ValueType type = ValueType::kText;
  // For kArray: the element type (arrays of arrays are one column of nested values).
  ValueType element_type = ValueType::kNull;
  bool nullable = true;
  // 1-based position in the primary key (or replica identity); 0 when not part of it.
  int primary_key_ordinal = 0;
  // Type modifiers when the catalog declares them: numeric(p,s), varchar(n), time(p).
  std::optional<int32_t> length;     // characters or bytes (varchar(n), binary(n), bit(n))
  std::optional<int32_t> precision;  // numeric precision, or fractional-second digits
  std::optional<int32_t> scale;      // numeric scale
  // The type exactly as the source declares it, when the capture knows more than
  // source_type says: MySQL/MariaDB's COLUMN_TYPE ("varchar(20)", "enum('a','b''c')",
  // "set('x','y')", "bit(5)", "decimal(10,2) unsigned"), without integer display widths and
  // ZEROFILL (not in the binlog's table map). "" when unknown (PostgreSQL, whose source_type
  // and modifiers already say all; schemas recorded before this field existed).
  std::string declared_type;
  // Character columns: the source's collation ("latin1_swedish_ci", "utf8mb4_general_ci"),
  // which also names the character set. "" when unknown or not a character column.
  std::string collation;

  bool operator==(const Column&) const = default;
};

struct TableSchema {
  TableId table;
  // Increases by one each time the source reports a changed column list or types. Events
  // carry the version they were decoded with.
  uint32_t version = 0;
  std::vector<Column> columns;  // in the table's column order
  // Primary key (or replica identity) column names, in key order.
  std::vector<std::string> primary_key;

  const Column* FindColumn(std::string_view column_name) const {
    for (const Column& column : columns) {
      if (column.name == column_name) return &column;
    }
    return nullptr;
  }
  bool operator==(const TableSchema&) const = default;
};

}  // namespace eddy::model
