// A source column's catalog type name taken apart, as both replica targets map it:
// "decimal(10,2) unsigned" -> base "decimal", first 10, second 2, unsigned.
//
// Thread safety: a pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eddy::sink::replica {

struct SourceTypeName {
  std::string base;           // the name before any "(": "decimal", "varchar", "datetime"
  std::optional<int> first;   // the first modifier: a precision, length or fsp
  std::optional<int> second;  // the second modifier: a scale
  bool is_unsigned = false;   // ends with " unsigned" (MySQL/MariaDB)
};

// Modifiers that are not numbers are left unset.
SourceTypeName SplitSourceType(std::string_view type);

}  // namespace eddy::sink::replica
