#include "source/mysql/ddl_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "source/mysql/snapshot.h"

namespace eddy::source::mysql {
namespace {

struct Token {
  enum Kind { kWord, kQuoted, kString, kNumber, kPunct } kind = kWord;
  std::string text;   // identifiers unquoted; words as written
  std::string upper;  // kWord: upper-cased
  size_t begin = 0;   // byte range in the statement
  size_t end = 0;
};

std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (sql.substr(i, 2) == "--" || c == '#') {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '`' || c == '"') {
      Token token;
      token.kind = c == '`' ? Token::kQuoted : Token::kString;
      token.begin = i;
      ++i;
      while (i < sql.size()) {
        if (sql[i] == c && i + 1 < sql.size() && sql[i + 1] == c) {
          token.text.push_back(c);
          i += 2;
        } else if (sql[i] == c) {
          ++i;
          break;
        } else {
          token.text.push_back(sql[i++]);
        }
      }
      token.end = i;
      tokens.push_back(std::move(token));
    } else if (c == '\'') {
      Token token;
      token.kind = Token::kString;
      token.begin = i++;
      while (i < sql.size()) {
        if (sql[i] == '\\' && i + 1 < sql.size()) {
          token.text.push_back(sql[i + 1]);
          i += 2;
        } else if (sql[i] == '\'' && i + 1 < sql.size() && sql[i + 1] == '\'') {
          token.text.push_back('\'');
          i += 2;
        } else if (sql[i] == '\'') {
          ++i;
          break;
        } else {
          token.text.push_back(sql[i++]);
        }
      }
      token.end = i;
      tokens.push_back(std::move(token));
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
               static_cast<unsigned char>(c) >= 0x80) {
      Token token;
      token.begin = i;
      bool digits = true;
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' ||
                                sql[i] == '$' || static_cast<unsigned char>(sql[i]) >= 0x80)) {
        if (!std::isdigit(static_cast<unsigned char>(sql[i]))) digits = false;
        token.text.push_back(sql[i++]);
      }
      token.end = i;
      token.kind = digits ? Token::kNumber : Token::kWord;
      for (char ch : token.text) {
        token.upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
      }
      tokens.push_back(std::move(token));
    } else {
      Token token;
      token.kind = Token::kPunct;
      token.text = std::string(1, c);
      token.begin = i;
      token.end = ++i;
      tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

class Cursor {
 public:
  Cursor(const std::vector<Token>& tokens, std::string_view sql) : tokens_(tokens), sql_(sql) {}
  bool done() const { return pos_ >= tokens_.size(); }
  const Token* peek(size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() ? &tokens_[pos_ + ahead] : nullptr;
  }
  bool IsWord(const char* word, size_t ahead = 0) const {
    const Token* token = peek(ahead);
    return token != nullptr && token->kind == Token::kWord && token->upper == word;
  }
  bool IsPunct(char c, size_t ahead = 0) const {
    const Token* token = peek(ahead);
    return token != nullptr && token->kind == Token::kPunct && token->text[0] == c;
  }
  bool Accept(const char* word) {
    if (!IsWord(word)) return false;
    ++pos_;
    return true;
  }
  bool AcceptPunct(char c) {
    if (!IsPunct(c)) return false;
    ++pos_;
    return true;
  }
  // IF [NOT] EXISTS
  void SkipIfExists() {
    if (IsWord("IF") && IsWord("EXISTS", 1)) pos_ += 2;
    if (IsWord("IF") && IsWord("NOT", 1) && IsWord("EXISTS", 2)) pos_ += 3;
  }
  // [db.]name; false when no identifier follows.
  bool Name(std::string_view default_database, std::string& database, std::string& name) {
    const Token* first = peek();
    if (first == nullptr || (first->kind != Token::kWord && first->kind != Token::kQuoted)) {
      return false;
    }
    ++pos_;
    if (IsPunct('.') && peek(1) != nullptr &&
        (peek(1)->kind == Token::kWord || peek(1)->kind == Token::kQuoted)) {
      database = first->text;
      name = peek(1)->text;
      pos_ += 2;
    } else {
      database = std::string(default_database);
      name = first->text;
    }
    return true;
  }
  const Token& Next() { return tokens_[pos_++]; }
  size_t position() const { return pos_; }
  void set_position(size_t pos) { pos_ = pos; }
  std::string_view Text(size_t from_token, size_t to_token) const {
    if (from_token >= to_token) return {};
    return sql_.substr(tokens_[from_token].begin, tokens_[to_token - 1].end - tokens_[from_token].begin);
  }

 private:
  const std::vector<Token>& tokens_;
  std::string_view sql_;
  size_t pos_ = 0;
};

std::string Lower(std::string_view text) {
  std::string out;
  for (char c : text) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// Skips to the matching ')' of the '(' just consumed.
void SkipParens(Cursor& cursor) {
  int depth = 1;
  while (!cursor.done() && depth > 0) {
    const Token& token = cursor.Next();
    if (token.kind == Token::kPunct && token.text == "(") ++depth;
    if (token.kind == Token::kPunct && token.text == ")") --depth;
  }
}

// Reads `(a, b, ...)` of identifiers (key column lists; prefix lengths and ASC/DESC skipped).
std::vector<std::string> ColumnList(Cursor& cursor) {
  std::vector<std::string> names;
  if (!cursor.AcceptPunct('(')) return names;
  bool expect_name = true;
  int depth = 1;
  while (!cursor.done() && depth > 0) {
    const Token& token = cursor.Next();
    if (token.kind == Token::kPunct && token.text == "(") ++depth;
    if (token.kind == Token::kPunct && token.text == ")") --depth;
    if (token.kind == Token::kPunct && token.text == "," && depth == 1) expect_name = true;
    if (expect_name && depth == 1 && (token.kind == Token::kWord || token.kind == Token::kQuoted)) {
      names.push_back(token.text);
      expect_name = false;
    }
  }
  return names;
}

struct ColumnDefinition {
  model::Column column;
  bool inline_primary_key = false;
  bool first = false;   // FIRST (ALTER TABLE placement)
  std::string after;    // AFTER <column>
};

// One column definition: name, type [ (args) ] [UNSIGNED|SIGNED|ZEROFILL] [CHARACTER SET x]
// [COLLATE y], then attributes up to the next top-level ',' or ')'; nullopt when the tokens are
// not one.
std::optional<ColumnDefinition> ReadColumnDefinition(Cursor& cursor, bool mariadb) {
  ColumnDefinition definition;
  if (cursor.done()) return std::nullopt;
  const Token& name = cursor.Next();
  if (name.kind != Token::kWord && name.kind != Token::kQuoted) return std::nullopt;
  const Token* type = cursor.peek();
  if (type == nullptr || type->kind != Token::kWord) return std::nullopt;
  cursor.Next();
  std::string data_type = Lower(type->text);
  if (data_type == "integer") data_type = "int";
  if (data_type == "bool" || data_type == "boolean") data_type = "tinyint";
  if (data_type == "dec" || data_type == "fixed") data_type = "decimal";
  size_t type_begin = cursor.position() - 1;
  std::vector<std::string> args;
  if (cursor.AcceptPunct('(')) {
    int depth = 1;
    std::string current;
    while (!cursor.done() && depth > 0) {
      const Token& token = cursor.Next();
      if (token.kind == Token::kPunct && token.text == "(") ++depth;
      if (token.kind == Token::kPunct && token.text == ")" && --depth == 0) break;
      if (token.kind == Token::kPunct && token.text == "," && depth == 1) {
        args.push_back(current);
        current.clear();
      } else {
        current += token.text;
      }
    }
    args.push_back(current);
  }
  if (data_type == "double") cursor.Accept("PRECISION");
  bool is_unsigned = false;
  std::string charset = "utf8mb4";
  while (!cursor.done()) {
    if (cursor.Accept("UNSIGNED")) {
      is_unsigned = true;
    } else if (cursor.Accept("SIGNED") || cursor.Accept("ZEROFILL")) {
      continue;
    } else if (cursor.IsWord("CHARACTER") && cursor.IsWord("SET", 1)) {
      cursor.Next();
      cursor.Next();
      if (!cursor.done()) charset = Lower(cursor.Next().text);
    } else if (cursor.Accept("CHARSET")) {
      if (!cursor.done()) charset = Lower(cursor.Next().text);
    } else if (cursor.Accept("COLLATE")) {
      if (!cursor.done()) cursor.Next();
    } else if (cursor.Accept("BINARY")) {
      charset = "binary";
    } else {
      break;
    }
  }
  std::string column_type = Lower(cursor.Text(type_begin, cursor.position()));
  bool nullable = true;
  definition.inline_primary_key = false;
  while (!cursor.done() && !cursor.IsPunct(',') && !cursor.IsPunct(')')) {
    if (cursor.IsWord("NOT") && cursor.IsWord("NULL", 1)) nullable = false;
    if (cursor.IsWord("PRIMARY") && cursor.IsWord("KEY", 1)) definition.inline_primary_key = true;
    if (cursor.IsWord("FIRST")) definition.first = true;
    if (cursor.IsWord("AFTER") && cursor.peek(1) != nullptr) definition.after = cursor.peek(1)->text;
    if (cursor.AcceptPunct('(')) {
      SkipParens(cursor);
      continue;
    }
    cursor.Next();
  }
  int precision = 10;
  int scale = 0;
  int fsp = 0;
  if (data_type == "decimal" || data_type == "numeric") {
    if (!args.empty()) precision = std::atoi(args[0].c_str());
    if (args.size() > 1) scale = std::atoi(args[1].c_str());
  } else if ((data_type == "datetime" || data_type == "time" || data_type == "timestamp") &&
             !args.empty()) {
    fsp = std::atoi(args[0].c_str());
  }
  if (data_type == "float" && args.size() == 1 && std::atoi(args[0].c_str()) > 24) {
    data_type = "double";
  }
  SnapshotColumn described = DescribeSnapshotColumn(
      name.text, data_type, column_type + (is_unsigned ? " unsigned" : ""), charset,
      nullable && !definition.inline_primary_key, precision, scale, fsp, mariadb);
  definition.column.name = name.text;
  definition.column.source_type = described.source_type;
  definition.column.type = described.type;
  definition.column.nullable = described.nullable;
  return definition;
}

// The column list of CREATE TABLE name ( ... ); nullopt when it cannot be read whole.
std::optional<model::TableSchema> ReadColumns(Cursor& cursor, const model::TableId& table,
                                              bool mariadb) {
  if (!cursor.AcceptPunct('(')) return std::nullopt;
  model::TableSchema schema;
  schema.table = table;
  std::vector<std::string> primary_key;
  while (!cursor.done()) {
    if (cursor.AcceptPunct(')')) break;
    if (cursor.AcceptPunct(',')) continue;
    if (cursor.Accept("PRIMARY")) {
      cursor.Accept("KEY");
      while (!cursor.done() && !cursor.IsPunct('(')) cursor.Next();
      primary_key = ColumnList(cursor);
      continue;
    }
    if (cursor.IsWord("KEY") || cursor.IsWord("INDEX") || cursor.IsWord("UNIQUE") ||
        cursor.IsWord("CONSTRAINT") || cursor.IsWord("FOREIGN") || cursor.IsWord("FULLTEXT") ||
        cursor.IsWord("SPATIAL") || cursor.IsWord("CHECK") || cursor.IsWord("PERIOD")) {
      bool constraint_pk = false;
      while (!cursor.done() && !cursor.IsPunct(',') && !cursor.IsPunct(')')) {
        if (cursor.IsWord("PRIMARY")) constraint_pk = true;
        if (cursor.AcceptPunct('(')) {
          if (constraint_pk && primary_key.empty()) {
            cursor.set_position(cursor.position() - 1);
            primary_key = ColumnList(cursor);
          } else {
            SkipParens(cursor);
          }
          continue;
        }
        cursor.Next();
      }
      continue;
    }
    auto definition = ReadColumnDefinition(cursor, mariadb);
    if (!definition) return std::nullopt;
    schema.columns.push_back(definition->column);
    if (definition->inline_primary_key) primary_key = {definition->column.name};
  }
  if (schema.columns.empty()) return std::nullopt;
  for (size_t k = 0; k < primary_key.size(); ++k) {
    for (model::Column& column : schema.columns) {
      if (Lower(column.name) == Lower(primary_key[k])) {
        column.primary_key_ordinal = static_cast<int>(k + 1);
        column.nullable = false;
        schema.primary_key.push_back(column.name);
      }
    }
  }
  return schema;
}

// The kind of an ALTER TABLE with one alteration; kAlterTable for several or others.
model::SchemaChangeKind AlterKind(Cursor& cursor, std::string& renamed_to) {
  using model::SchemaChangeKind;
  int clauses = 1;
  SchemaChangeKind kind = SchemaChangeKind::kAlterTable;
  bool first = true;
  while (!cursor.done()) {
    if (cursor.AcceptPunct(',')) {
      ++clauses;
      first = true;
      continue;
    }
    if (cursor.AcceptPunct('(')) {
      SkipParens(cursor);
      first = false;
      continue;
    }
    if (first) {
      first = false;
      if (cursor.IsWord("ADD")) {
        bool index = cursor.IsWord("INDEX", 1) || cursor.IsWord("KEY", 1) ||
                     cursor.IsWord("PRIMARY", 1) || cursor.IsWord("UNIQUE", 1) ||
                     cursor.IsWord("CONSTRAINT", 1) || cursor.IsWord("FOREIGN", 1) ||
                     cursor.IsWord("FULLTEXT", 1) || cursor.IsWord("SPATIAL", 1) ||
                     cursor.IsWord("PARTITION", 1);
        kind = index ? SchemaChangeKind::kAlterTable : SchemaChangeKind::kAddColumn;
      } else if (cursor.IsWord("DROP")) {
        bool index = cursor.IsWord("INDEX", 1) || cursor.IsWord("KEY", 1) ||
                     cursor.IsWord("PRIMARY", 1) || cursor.IsWord("FOREIGN", 1) ||
                     cursor.IsWord("CONSTRAINT", 1) || cursor.IsWord("PARTITION", 1) ||
                     cursor.IsWord("CHECK", 1);
        kind = index ? SchemaChangeKind::kAlterTable : SchemaChangeKind::kDropColumn;
      } else if (cursor.IsWord("RENAME") && cursor.IsWord("COLUMN", 1)) {
        kind = SchemaChangeKind::kRenameColumn;
      } else if (cursor.IsWord("RENAME") && (cursor.IsWord("INDEX", 1) || cursor.IsWord("KEY", 1))) {
        kind = SchemaChangeKind::kAlterTable;
      } else if (cursor.IsWord("RENAME")) {
        cursor.Next();
        if (!cursor.Accept("TO")) cursor.Accept("AS");
        std::string database;
        std::string name;
        if (cursor.Name("", database, name)) renamed_to = name;
        kind = SchemaChangeKind::kRenameTable;
        continue;
      } else if (cursor.IsWord("MODIFY") || cursor.IsWord("CHANGE")) {
        kind = SchemaChangeKind::kColumnTypeChange;
      } else {
        kind = SchemaChangeKind::kAlterTable;
      }
    }
    cursor.Next();
  }
  if (clauses > 1) {
    return renamed_to.empty() ? SchemaChangeKind::kAlterTable : SchemaChangeKind::kRenameTable;
  }
  return kind;
}

// Skips to the end of the current ALTER clause (the next top-level ',').
void SkipClause(Cursor& cursor) {
  while (!cursor.done() && !cursor.IsPunct(',')) {
    if (cursor.AcceptPunct('(')) {
      SkipParens(cursor);
      continue;
    }
    cursor.Next();
  }
}

bool SameName(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

// Places `definition` into `columns`: at FIRST, AFTER a column, at `index` (CHANGE/MODIFY keep
// the column's place), or at the end. False when AFTER names no column.
bool PlaceColumn(std::vector<model::Column>& columns, ColumnDefinition definition, size_t index) {
  if (definition.first) {
    columns.insert(columns.begin(), std::move(definition.column));
    return true;
  }
  if (!definition.after.empty()) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (SameName(columns[i].name, definition.after)) {
        columns.insert(columns.begin() + static_cast<std::ptrdiff_t>(i + 1),
                       std::move(definition.column));
        return true;
      }
    }
    return false;
  }
  index = std::min(index, columns.size());
  columns.insert(columns.begin() + static_cast<std::ptrdiff_t>(index), std::move(definition.column));
  return true;
}

}  // namespace

std::optional<model::TableSchema> TableSchemaAfter(const model::TableSchema& before,
                                                   std::string_view ddl, bool mariadb) {
  std::vector<Token> tokens = Tokenize(ddl);
  Cursor cursor(tokens, ddl);
  if (cursor.Accept("RENAME")) {  // RENAME TABLE a TO b [, c TO d ...]: the pair naming `before`
    if (!cursor.Accept("TABLE") && !cursor.Accept("TABLES")) return std::nullopt;
    do {
      std::string from_database, from, to_database, to;
      if (!cursor.Name(before.table.database, from_database, from) || !cursor.Accept("TO") ||
          !cursor.Name(before.table.database, to_database, to)) {
        return std::nullopt;
      }
      if (from_database == before.table.database && from == before.table.name) {
        model::TableSchema after = before;
        after.version = 0;
        after.table.database = to_database;
        after.table.name = to;
        return after;
      }
    } while (cursor.AcceptPunct(','));
    return std::nullopt;
  }
  if (!cursor.Accept("ALTER")) return std::nullopt;
  cursor.Accept("ONLINE");
  cursor.Accept("IGNORE");
  if (!cursor.Accept("TABLE")) return std::nullopt;
  cursor.SkipIfExists();
  std::string database;
  std::string name;
  if (!cursor.Name(before.table.database, database, name)) return std::nullopt;
  model::TableSchema after = before;
  after.version = 0;  // assigned when rows with this schema arrive (TABLE_MAP)
  std::vector<model::Column>& columns = after.columns;
  std::vector<std::string>& primary_key = after.primary_key;
  auto find = [&columns](std::string_view column) -> std::optional<size_t> {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (SameName(columns[i].name, column)) return i;
    }
    return std::nullopt;
  };
  auto rename_in_key = [&primary_key](std::string_view from, const std::string& to) {
    for (std::string& key : primary_key) {
      if (SameName(key, from)) key = to;
    }
  };
  while (!cursor.done()) {
    if (cursor.AcceptPunct(',')) continue;
    if (cursor.Accept("ADD")) {
      if (cursor.IsWord("PRIMARY")) {
        while (!cursor.done() && !cursor.IsPunct('(')) cursor.Next();
        primary_key = ColumnList(cursor);
        SkipClause(cursor);
        continue;
      }
      if (cursor.IsWord("INDEX") || cursor.IsWord("KEY") || cursor.IsWord("UNIQUE") ||
          cursor.IsWord("CONSTRAINT") || cursor.IsWord("FOREIGN") || cursor.IsWord("FULLTEXT") ||
          cursor.IsWord("SPATIAL") || cursor.IsWord("CHECK") || cursor.IsWord("PERIOD") ||
          cursor.IsWord("PARTITION") || cursor.IsWord("SYSTEM")) {
        SkipClause(cursor);
        continue;
      }
      cursor.Accept("COLUMN");
      cursor.SkipIfExists();
      if (cursor.AcceptPunct('(')) {  // ADD (a INT, b INT)
        while (!cursor.done() && !cursor.AcceptPunct(')')) {
          if (cursor.AcceptPunct(',')) continue;
          auto definition = ReadColumnDefinition(cursor, mariadb);
          if (!definition || find(definition->column.name)) return std::nullopt;
          if (definition->inline_primary_key) primary_key = {definition->column.name};
          columns.push_back(std::move(definition->column));
        }
        continue;
      }
      auto definition = ReadColumnDefinition(cursor, mariadb);
      if (!definition || find(definition->column.name)) return std::nullopt;
      if (definition->inline_primary_key) primary_key = {definition->column.name};
      if (!PlaceColumn(columns, std::move(*definition), columns.size())) return std::nullopt;
      continue;
    }
    if (cursor.Accept("DROP")) {
      if (cursor.Accept("PRIMARY")) {
        primary_key.clear();
        SkipClause(cursor);
        continue;
      }
      if (cursor.IsWord("INDEX") || cursor.IsWord("KEY") || cursor.IsWord("FOREIGN") ||
          cursor.IsWord("CONSTRAINT") || cursor.IsWord("CHECK") || cursor.IsWord("PARTITION") ||
          cursor.IsWord("SYSTEM")) {
        SkipClause(cursor);
        continue;
      }
      cursor.Accept("COLUMN");
      cursor.SkipIfExists();
      if (cursor.done()) return std::nullopt;
      std::string column = cursor.Next().text;
      auto index = find(column);
      if (!index) return std::nullopt;
      columns.erase(columns.begin() + static_cast<std::ptrdiff_t>(*index));
      std::erase_if(primary_key, [&](const std::string& key) { return SameName(key, column); });
      SkipClause(cursor);  // RESTRICT / CASCADE
      continue;
    }
    if (cursor.Accept("MODIFY") || cursor.Accept("CHANGE")) {
      const bool change = tokens[cursor.position() - 1].upper == "CHANGE";
      cursor.Accept("COLUMN");
      cursor.SkipIfExists();
      std::string old_name = change ? (cursor.done() ? "" : cursor.Next().text) : "";
      size_t definition_at = cursor.position();
      auto definition = ReadColumnDefinition(cursor, mariadb);
      if (!definition) return std::nullopt;
      if (!change) old_name = tokens[definition_at].text;
      auto index = find(old_name);
      if (!index) return std::nullopt;
      columns.erase(columns.begin() + static_cast<std::ptrdiff_t>(*index));
      rename_in_key(old_name, definition->column.name);
      if (definition->inline_primary_key) primary_key = {definition->column.name};
      if (!PlaceColumn(columns, std::move(*definition), *index)) return std::nullopt;
      continue;
    }
    if (cursor.IsWord("RENAME") && cursor.IsWord("COLUMN", 1)) {
      cursor.Next();
      cursor.Next();
      if (cursor.done()) return std::nullopt;
      std::string from = cursor.Next().text;
      if (!cursor.Accept("TO") || cursor.done()) return std::nullopt;
      std::string to = cursor.Next().text;
      auto index = find(from);
      if (!index) return std::nullopt;
      columns[*index].name = to;
      rename_in_key(from, to);
      continue;
    }
    if (cursor.Accept("RENAME")) {
      if (cursor.IsWord("INDEX") || cursor.IsWord("KEY")) {
        SkipClause(cursor);
        continue;
      }
      if (!cursor.Accept("TO")) cursor.Accept("AS");
      std::string renamed_database;
      std::string renamed;
      if (!cursor.Name(after.table.database, renamed_database, renamed)) return std::nullopt;
      after.table.database = renamed_database;
      after.table.name = renamed;
      continue;
    }
    if (cursor.IsWord("ALTER")) {  // ALTER [COLUMN] c SET DEFAULT / DROP DEFAULT, ALTER INDEX
      SkipClause(cursor);
      continue;
    }
    // Table options and operations that leave the columns as they are.
    static constexpr const char* kNoColumnChange[] = {
        "ENGINE", "COMMENT", "ALGORITHM", "LOCK", "FORCE", "ROW_FORMAT", "AUTO_INCREMENT",
        "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "CONVERT", "ORDER", "KEY_BLOCK_SIZE",
        "STATS_AUTO_RECALC", "STATS_PERSISTENT", "STATS_SAMPLE_PAGES", "PACK_KEYS", "CHECKSUM",
        "ENABLE", "DISABLE", "AVG_ROW_LENGTH", "MAX_ROWS", "MIN_ROWS", "PAGE_CHECKSUM",
        "TRANSACTIONAL", "DELAY_KEY_WRITE", "INSERT_METHOD", "ENCRYPTED", "ENCRYPTION_KEY_ID",
        "PAGE_COMPRESSED", "PAGE_COMPRESSION_LEVEL", "IETF_QUOTES", "SEQUENCE", "WAIT", "NOWAIT"};
    bool known = false;
    for (const char* word : kNoColumnChange) known = known || cursor.IsWord(word);
    if (!known) return std::nullopt;
    SkipClause(cursor);
  }
  for (model::Column& column : columns) column.primary_key_ordinal = 0;
  for (size_t k = 0; k < primary_key.size(); ++k) {
    auto index = find(primary_key[k]);
    if (!index) return std::nullopt;
    columns[*index].primary_key_ordinal = static_cast<int>(k + 1);
    columns[*index].nullable = false;
    primary_key[k] = columns[*index].name;
  }
  return after;
}

std::vector<DdlChange> ClassifyDdl(std::string_view default_database, std::string_view ddl,
                                   bool mariadb) {
  using model::SchemaChangeKind;
  std::vector<Token> tokens = Tokenize(ddl);
  Cursor cursor(tokens, ddl);
  std::vector<DdlChange> out;
  auto make = [&](SchemaChangeKind kind, std::string database, std::string table) {
    DdlChange change;
    change.database = std::move(database);
    change.table = std::move(table);
    change.change.kind = kind;
    change.change.ddl = std::string(ddl);
    return change;
  };
  if (cursor.Accept("CREATE")) {
    if (cursor.Accept("OR")) cursor.Accept("REPLACE");
    if (cursor.IsWord("TEMPORARY")) return out;  // session-local; not in the row stream
    if (cursor.Accept("DATABASE") || cursor.Accept("SCHEMA")) {
      cursor.SkipIfExists();
      std::string database;
      std::string name;
      if (cursor.Name("", database, name)) out.push_back(make(SchemaChangeKind::kCreateDatabase, name, ""));
      return out;
    }
    if (cursor.Accept("TABLE")) {
      cursor.SkipIfExists();
      std::string database;
      std::string name;
      if (!cursor.Name(default_database, database, name)) return out;
      DdlChange change = make(SchemaChangeKind::kCreateTable, database, name);
      change.change.table_schema = ReadColumns(cursor, model::TableId{database, "", name}, mariadb);
      out.push_back(std::move(change));
      return out;
    }
    if (!cursor.Accept("UNIQUE") && !cursor.Accept("FULLTEXT")) cursor.Accept("SPATIAL");
    if (cursor.Accept("INDEX")) {
      cursor.SkipIfExists();
      while (!cursor.done() && !cursor.Accept("ON")) cursor.Next();
      std::string database;
      std::string name;
      if (cursor.Name(default_database, database, name)) {
        out.push_back(make(SchemaChangeKind::kOther, database, name));
      }
    }
    return out;
  }
  if (cursor.Accept("DROP")) {
    if (cursor.IsWord("TEMPORARY")) return out;
    if (cursor.Accept("DATABASE") || cursor.Accept("SCHEMA")) {
      cursor.SkipIfExists();
      std::string database;
      std::string name;
      if (cursor.Name("", database, name)) out.push_back(make(SchemaChangeKind::kDropDatabase, name, ""));
      return out;
    }
    if (cursor.Accept("TABLE")) {
      cursor.SkipIfExists();
      do {
        std::string database;
        std::string name;
        if (!cursor.Name(default_database, database, name)) break;
        out.push_back(make(SchemaChangeKind::kDropTable, database, name));
      } while (cursor.AcceptPunct(','));
      return out;
    }
    if (cursor.Accept("INDEX")) {
      cursor.SkipIfExists();
      while (!cursor.done() && !cursor.Accept("ON")) cursor.Next();
      std::string database;
      std::string name;
      if (cursor.Name(default_database, database, name)) {
        out.push_back(make(SchemaChangeKind::kOther, database, name));
      }
    }
    return out;
  }
  if (cursor.Accept("ALTER")) {
    cursor.Accept("ONLINE");
    cursor.Accept("IGNORE");
    if (cursor.Accept("DATABASE") || cursor.Accept("SCHEMA")) {
      std::string database;
      std::string name;
      if (!cursor.IsWord("CHARACTER") && !cursor.IsWord("DEFAULT") && !cursor.IsWord("COLLATE") &&
          !cursor.IsWord("CHARSET") && !cursor.IsWord("COMMENT") && cursor.Name("", database, name)) {
        out.push_back(make(SchemaChangeKind::kAlterDatabase, name, ""));
      } else {
        out.push_back(make(SchemaChangeKind::kAlterDatabase, std::string(default_database), ""));
      }
      return out;
    }
    if (cursor.Accept("TABLE")) {
      cursor.SkipIfExists();
      std::string database;
      std::string name;
      if (!cursor.Name(default_database, database, name)) return out;
      std::string renamed_to;
      SchemaChangeKind kind = AlterKind(cursor, renamed_to);
      if (!renamed_to.empty()) {
        DdlChange change = make(kind, database, renamed_to);
        change.change.previous_name = name;
        out.push_back(std::move(change));
      } else {
        out.push_back(make(kind, database, name));
      }
    }
    return out;
  }
  if (cursor.Accept("RENAME")) {
    if (!cursor.Accept("TABLE") && !cursor.Accept("TABLES")) return out;
    do {
      std::string from_database;
      std::string from;
      std::string to_database;
      std::string to;
      if (!cursor.Name(default_database, from_database, from)) break;
      if (!cursor.Accept("TO")) break;
      if (!cursor.Name(default_database, to_database, to)) break;
      DdlChange change = make(SchemaChangeKind::kRenameTable, to_database, to);
      change.change.previous_name = from;
      out.push_back(std::move(change));
    } while (cursor.AcceptPunct(','));
    return out;
  }
  if (cursor.Accept("TRUNCATE")) {
    cursor.Accept("TABLE");
    std::string database;
    std::string name;
    if (cursor.Name(default_database, database, name)) {
      DdlChange change = make(SchemaChangeKind::kOther, database, name);
      change.action = DdlChange::Action::kTruncate;
      out.push_back(std::move(change));
    }
    return out;
  }
  return out;
}

}  // namespace eddy::source::mysql
