#include "format/shaping.h"

#include <fnmatch.h>

#include <cctype>
#include <set>

#include <openssl/evp.h>

#include "format/json.h"
#include "format/renderers.h"

namespace eddy::format {

namespace {

bool Matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool MatchesAny(const std::vector<std::string>& patterns, const std::string& name) {
  for (const std::string& pattern : patterns) {
    if (Matches(pattern, name)) return true;
  }
  return false;
}

// The text a mask works on: the native JSON rendering without quotes for strings.
std::string MaskInput(const model::Value& value) {
  if (const std::string* text = value.TryGet<std::string>()) return *text;
  JsonWriter writer;
  WriteNativeValue(writer, value);
  std::string json = writer.Take();
  if (json.size() >= 2 && json.front() == '"' && json.back() == '"') return json.substr(1, json.size() - 2);
  return json;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string TruncateCodePoints(const std::string& text, int length) {
  size_t i = 0;
  int count = 0;
  while (i < text.size() && count < length) {
    auto b = static_cast<uint8_t>(text[i]);
    size_t step = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
    i = std::min(text.size(), i + step);
    ++count;
  }
  return text.substr(0, i);
}

}  // namespace

Result<Shaper> Shaper::Make(ShapingRules rules) {
  auto check_patterns = [](const std::vector<std::string>& patterns, const char* what) -> Status {
    for (const std::string& pattern : patterns) {
      if (pattern.empty()) return InvalidArgument(std::string("empty pattern in ") + what);
    }
    return Status::Ok();
  };
  EDDY_RETURN_IF_ERROR(check_patterns(rules.include_tables, "include_tables"));
  EDDY_RETURN_IF_ERROR(check_patterns(rules.exclude_tables, "exclude_tables"));
  EDDY_RETURN_IF_ERROR(check_patterns(rules.include_columns, "include_columns"));
  EDDY_RETURN_IF_ERROR(check_patterns(rules.exclude_columns, "exclude_columns"));
  for (const MaskRule& mask : rules.masks) {
    if (mask.column_pattern.empty()) return InvalidArgument("mask rule with an empty column pattern");
    if (mask.length < 0 || mask.length > 1 << 20) {
      return InvalidArgument("mask rule for \"" + mask.column_pattern + "\": length " +
                             std::to_string(mask.length) + " must be between 0 and 1048576");
    }
  }
  for (const KeyOverride& key : rules.key_overrides) {
    if (key.table_pattern.empty() || key.columns.empty()) {
      return InvalidArgument("key override needs a table pattern and at least one column");
    }
  }
  return Shaper(std::move(rules));
}

bool Shaper::IncludesTable(const model::TableId& table) const {
  std::string name = table.QualifiedName();
  if (!rules_.include_tables.empty() && !MatchesAny(rules_.include_tables, name)) return false;
  return !MatchesAny(rules_.exclude_tables, name);
}

model::Value Shaper::Mask(const std::string& qualified_column, const model::Value& value) const {
  if (value.is_null() || value.is_unavailable()) return value;
  for (const MaskRule& mask : rules_.masks) {
    if (!Matches(mask.column_pattern, qualified_column)) continue;
    switch (mask.kind) {
      case MaskKind::kAsterisks: return model::Value::Text(std::string(static_cast<size_t>(mask.length), '*'));
      case MaskKind::kHash: return model::Value::Text(Sha256Hex(mask.salt + MaskInput(value)));
      case MaskKind::kTruncate: return model::Value::Text(TruncateCodePoints(MaskInput(value), mask.length));
    }
  }
  return value;
}

bool Shaper::HidesColumn(const std::string& qualified_column, bool is_key) const {
  if (MatchesAny(rules_.exclude_columns, qualified_column)) return true;
  return !is_key && !rules_.include_columns.empty() &&
         !MatchesAny(rules_.include_columns, qualified_column);
}

bool Shaper::MentionsHiddenColumn(const std::string& table, std::string_view text,
                                  const std::set<std::string>& known_columns,
                                  bool include_masked) const {
  if (rules_.exclude_columns.empty() && rules_.include_columns.empty() &&
      (!include_masked || rules_.masks.empty())) {
    return false;
  }
  auto hidden = [&](const std::string& identifier) {
    std::string qualified = table + "." + identifier;
    for (const std::string& pattern : rules_.exclude_columns) {
      if (fnmatch(pattern.c_str(), qualified.c_str(), FNM_CASEFOLD) == 0) return true;
    }
    if (include_masked) {
      for (const MaskRule& mask : rules_.masks) {
        if (fnmatch(mask.column_pattern.c_str(), qualified.c_str(), FNM_CASEFOLD) == 0) return true;
      }
    }
    // Include lists: only names known to be columns count (keywords are not columns).
    return known_columns.count(identifier) > 0 && !rules_.include_columns.empty() &&
           !MatchesAny(rules_.include_columns, qualified);
  };
  // Identifiers: bare words, `backquoted` and "double-quoted" names.
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '`' || c == '"') {
      size_t close = text.find(c, i + 1);
      if (close == std::string_view::npos) close = text.size();
      if (hidden(std::string(text.substr(i + 1, close - i - 1)))) return true;
      i = close + 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
               static_cast<unsigned char>(c) >= 0x80) {
      size_t start = i;
      while (i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_' ||
              text[i] == '$' || static_cast<unsigned char>(text[i]) >= 0x80)) {
        ++i;
      }
      if (hidden(std::string(text.substr(start, i - start)))) return true;
    } else if (c == '\'') {
      size_t close = text.find('\'', i + 1);  // string literals are no identifiers
      i = close == std::string_view::npos ? text.size() : close + 1;
    } else {
      ++i;
    }
  }
  return false;
}

std::optional<model::ChangeEvent> Shaper::ApplySchemaChange(const model::ChangeEvent& event) const {
  // Database-level statements name no table: every stream of the database sees them.
  if (!event.table.name.empty() && !IncludesTable(event.table)) return std::nullopt;
  model::ChangeEvent shaped = event;
  if (!shaped.schema_change || event.table.name.empty()) return shaped;
  model::SchemaChange& change = *shaped.schema_change;
  std::string table = event.table.QualifiedName();
  std::set<std::string> known;
  if (change.table_schema) {
    model::TableSchema& schema = *change.table_schema;
    std::vector<model::Column> columns;
    for (model::Column& column : schema.columns) {
      known.insert(column.name);
      std::string qualified = table + "." + column.name;
      if (HidesColumn(qualified, column.primary_key_ordinal > 0)) continue;
      columns.push_back(std::move(column));
    }
    schema.columns = std::move(columns);
    std::vector<std::string> key;
    for (std::string& name : schema.primary_key) {
      if (!MatchesAny(rules_.exclude_columns, table + "." + name)) key.push_back(std::move(name));
    }
    schema.primary_key = std::move(key);
  }
  // The statement text names columns; a statement naming a hidden one is withheld. Without
  // the table's columns, a column-level statement under an include list cannot be checked.
  bool column_level = change.kind == model::SchemaChangeKind::kAlterTable ||
                      change.kind == model::SchemaChangeKind::kAddColumn ||
                      change.kind == model::SchemaChangeKind::kDropColumn ||
                      change.kind == model::SchemaChangeKind::kRenameColumn ||
                      change.kind == model::SchemaChangeKind::kColumnTypeChange ||
                      change.kind == model::SchemaChangeKind::kOther;
  bool unverifiable = !rules_.include_columns.empty() && !change.table_schema && column_level;
  if (unverifiable || MentionsHiddenColumn(table, change.ddl, known, false)) change.ddl.clear();
  if (MentionsHiddenColumn(table, shaped.source.query, known, true)) shaped.source.query.clear();
  return shaped;
}

std::optional<model::ChangeEvent> Shaper::Apply(const model::ChangeEvent& event) const {
  switch (event.op) {
    case model::Operation::kMessage:
    case model::Operation::kTransactionBegin:
    case model::Operation::kTransactionEnd:
    case model::Operation::kHeartbeat: return event;
    case model::Operation::kSchemaChange: return ApplySchemaChange(event);
    default: break;
  }
  if (!IncludesTable(event.table)) return std::nullopt;
  model::ChangeEvent shaped = event;
  std::string table = event.table.QualifiedName();
  if (!shaped.source.query.empty()) {
    // The original SQL (MySQL rows_query) holds values: withheld when it names a column the
    // stream excludes, masks or leaves out.
    std::set<std::string> known;
    for (const std::optional<model::Row>* image : {&event.before, &event.after}) {
      if (!*image) continue;
      for (const model::Field& field : **image) known.insert(field.name);
    }
    if (MentionsHiddenColumn(table, shaped.source.query, known, true)) shaped.source.query.clear();
  }
  for (const KeyOverride& key : rules_.key_overrides) {
    if (!Matches(key.table_pattern, table)) continue;
    const std::optional<model::Row>& image = event.after ? event.after : event.before;
    if (image) {
      model::Row new_key;
      for (const std::string& column : key.columns) {
        const model::Value* value = model::FindField(*image, column);
        new_key.push_back(model::Field{column, value ? *value : model::Value::Null()});
      }
      shaped.key = std::move(new_key);
    }
    break;
  }
  // Key columns are subject to the same column rules: an excluded column appears nowhere.
  // Include lists do not drop key columns, so records keep naming their row.
  model::Row key;
  for (model::Field& field : shaped.key) {
    std::string qualified = table + "." + field.name;
    if (MatchesAny(rules_.exclude_columns, qualified)) continue;
    field.value = Mask(qualified, field.value);
    key.push_back(std::move(field));
  }
  shaped.key = std::move(key);
  auto shape_image = [&](std::optional<model::Row>& image) {
    if (!image) return;
    model::Row shaped_row;
    for (model::Field& field : *image) {
      std::string qualified = table + "." + field.name;
      bool is_key = model::FindField(shaped.key, field.name) != nullptr;
      if (MatchesAny(rules_.exclude_columns, qualified)) continue;
      if (!is_key && !rules_.include_columns.empty() && !MatchesAny(rules_.include_columns, qualified)) continue;
      field.value = Mask(qualified, field.value);
      shaped_row.push_back(std::move(field));
    }
    *image = std::move(shaped_row);
  };
  shape_image(shaped.before);
  shape_image(shaped.after);
  return shaped;
}

}  // namespace eddy::format
