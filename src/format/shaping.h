// Stream shaping: which tables and columns a stream carries, column masking and the message
// key, applied to the canonical event before rendering (so every format sees the same shaped
// event). The log keeps the unshaped event; each stream shapes its own copy.
//
// Names and patterns: tables are matched by their qualified name ("public.orders" for
// PostgreSQL, "shop.orders" for MySQL; TableId::QualifiedName), columns by
// "<qualified table>.<column>". Patterns are shell globs (fnmatch: `*`, `?`, `[...]`), matched
// case-sensitively against the whole name.
//
// Thread safety: immutable after Make; Apply may be called from any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/event.h"

namespace eddy::format {

enum class MaskKind : uint8_t {
  kAsterisks = 0,  // replace a non-null value by `length` '*' characters (text)
  kHash = 1,       // replace by hex SHA-256 of salt + the value's text (stable across events)
  kTruncate = 2,   // keep the first `length` characters (UTF-8 code points) of text values
};

struct MaskRule {
  std::string column_pattern;  // "<qualified table>.<column>" glob, e.g. "*.*.ssn" or "public.users.email"
  MaskKind kind = MaskKind::kAsterisks;
  int length = 8;              // asterisks count or truncation length
  std::string salt;            // kHash only
};

struct KeyOverride {
  std::string table_pattern;         // qualified table glob
  std::vector<std::string> columns;  // the columns that form the message key, in order
};

struct ShapingRules {
  std::vector<std::string> include_tables;   // empty: every table
  std::vector<std::string> exclude_tables;   // applied after include
  std::vector<std::string> include_columns;  // empty: every column; key columns always kept unless excluded
  std::vector<std::string> exclude_columns;  // removed from key, before and after
  std::vector<MaskRule> masks;               // first matching rule wins
  std::vector<KeyOverride> key_overrides;    // first matching rule wins
};

class Shaper {
 public:
  // Validates the rules (non-empty patterns, lengths >= 0, key override columns given).
  static Result<Shaper> Make(ShapingRules rules);

  bool IncludesTable(const model::TableId& table) const;
  // The shaped event, or nullopt when the stream excludes the event's table. Logical messages,
  // transaction BEGIN/END records and heartbeats (no table) pass unchanged.
  // Schema changes: kept when their table is included (database-level statements always);
  // hidden columns are removed from the table schema, and the DDL text is withheld ("") when
  // it names a hidden column (or, under an include list, when a column-level statement comes
  // without the table's columns to check against).
  // Row changes: the original SQL (source.query) is withheld when it names a column that is
  // excluded, masked or left out by an include list.
  std::optional<model::ChangeEvent> Apply(const model::ChangeEvent& event) const;

 private:
  explicit Shaper(ShapingRules rules) : rules_(std::move(rules)) {}
  std::optional<model::ChangeEvent> ApplySchemaChange(const model::ChangeEvent& event) const;
  bool HidesColumn(const std::string& qualified_column, bool is_key) const;
  // Whether `text` (SQL) names, as an identifier, a column of `table` that the stream hides:
  // excluded (any identifier), masked (when include_masked), or left out by the include list
  // (identifiers in `known_columns` only). Matching ignores case (MySQL names do).
  bool MentionsHiddenColumn(const std::string& table, std::string_view text,
                            const std::set<std::string>& known_columns, bool include_masked) const;
  model::Value Mask(const std::string& qualified_column, const model::Value& value) const;

  ShapingRules rules_;
};

}  // namespace eddy::format
