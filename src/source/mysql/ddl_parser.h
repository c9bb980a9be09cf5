// What a DDL statement from a binlog QUERY event did, for the schema change events of the MySQL
// capture: a small tokenizer-level classifier, not a SQL parser. It recognises
// CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE, CREATE/ALTER/DROP DATABASE (SCHEMA) and
// CREATE/DROP INDEX, names the table(s) (backquoted or not, optionally database-qualified), and
// for CREATE TABLE (...) reads the column list (names, types, NULL-ability, primary key) into a
// TableSchema with the same type mapping as the snapshot (DescribeSnapshotColumn). Anything it
// does not recognise yields no change (the statement is still in the schema history).
//
// Thread safety: pure functions.
#pragma once

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

}  // namespace eddy::source::mysql
