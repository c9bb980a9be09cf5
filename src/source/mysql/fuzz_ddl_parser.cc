// Fuzz target: DDL text from binlog QUERY events through the classifier and the ALTER TABLE
// follower, as capture runs them: any statement, however malformed, must yield changes, no
// changes or std::nullopt, never a crash or a read past the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "source/mysql/ddl_parser.h"

using namespace eddy::source::mysql;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view ddl(reinterpret_cast<const char*>(data), size);
  for (bool mariadb : {true, false}) {
    for (DdlChange& change : ClassifyDdl("db", ddl, mariadb)) {
      (void)change;
    }
  }
  static const eddy::model::TableSchema base = [] {
    auto changes = ClassifyDdl(
        "db", "CREATE TABLE t (id INT NOT NULL, a VARCHAR(10), b DECIMAL(5,2), PRIMARY KEY (id))",
        true);
    return changes.empty() || !changes[0].change.table_schema ? eddy::model::TableSchema{}
                                                                : *changes[0].change.table_schema;
  }();
  auto after = TableSchemaAfter(base, ddl, true);
  if (after) {
    // What it returns is self-consistent: every key column exists.
    for (const std::string& key : after->primary_key) {
      bool found = false;
      for (const auto& column : after->columns) found = found || column.name == key;
      if (!found) __builtin_trap();
    }
  }
  return 0;
}
