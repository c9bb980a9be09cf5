#include "source/mysql/ddl_parser.h"

#include <cctype>
#include <cstdlib>

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
    // A column: name, type [ (args) ] [UNSIGNED|SIGNED|ZEROFILL] [CHARACTER SET x] [COLLATE y],
    // then attributes.
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
    bool inline_pk = false;
    while (!cursor.done() && !cursor.IsPunct(',') && !cursor.IsPunct(')')) {
      if (cursor.IsWord("NOT") && cursor.IsWord("NULL", 1)) nullable = false;
      if (cursor.IsWord("PRIMARY") && cursor.IsWord("KEY", 1)) inline_pk = true;
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
        nullable && !inline_pk, precision, scale, fsp, mariadb);
    model::Column column;
    column.name = name.text;
    column.source_type = described.source_type;
    column.type = described.type;
    column.nullable = described.nullable;
    schema.columns.push_back(std::move(column));
    if (inline_pk) primary_key = {name.text};
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

}  // namespace

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
