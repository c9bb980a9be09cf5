// What a DDL statement from a binlog QUERY event did, for the schema change events of the MySQL
// capture: a small tokenizer-level classifier, not a SQL parser. It recognises
// CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE, CREATE/ALTER/DROP DATABASE (SCHEMA) and
// CREATE/DROP INDEX, names the table(s) (backquoted or not, optionally database-qualified), and
// for CREATE TABLE (...) reads the column list (names, types, NULL-ability, primary key) into a
// TableSchema with the same type mapping as the snapshot (DescribeSnapshotColumn); TableSchemaAfter
// follows an ALTER or RENAME TABLE from the columns before to the columns after. Anything it does not
// recognise yields no change (the statement is still in the schema history).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.h"

namespace eddy::source::mysql {

struct DdlChange {
  enum class Action { kSchemaChange, kTruncate };
  Action action = Action::kSchemaChange;
  std::string database;  // the statement's qualifier, else the session's default database
  std::string table;     // empty for database-level statements
  model::SchemaChange change;  // kind, ddl, previous_name, table_schema (CREATE TABLE (...))
};

// One entry per table the statement changes (DROP TABLE a, b and RENAME TABLE a TO b, c TO d
// give several); empty when the statement is not a recognised DDL.
std::vector<DdlChange> ClassifyDdl(std::string_view default_database, std::string_view ddl,
                                   bool mariadb);

// The table's columns after `ddl`, given its columns before: for ALTER TABLE, ADD, DROP,
// MODIFY, CHANGE and RENAME COLUMN with FIRST/AFTER placement, primary key changes and table
// renames (index and table-option clauses leave the columns as they are); for RENAME TABLE,
// the same columns under the new name. std::nullopt for any other statement or a clause it
// does not understand, so that the caller emits the event without a column list rather than a
// wrong one. The result's version is 0 (assigned when rows with it arrive).
std::optional<model::TableSchema> TableSchemaAfter(const model::TableSchema& before,
                                                   std::string_view ddl, bool mariadb);

}  // namespace eddy::source::mysql
