// The MySQL capture's schema history: every table schema version the capture has used and
// every DDL statement it has seen, appended durably to one file in eddy's data directory so
// versions keep increasing across restarts and the DDL trail survives them.
//
// File layout (docs/design/mysql-capture.md, "Schema history"): a sequence of entries
//
//   +-----------+----------------------+---------------- ... --+
//   | u32 size  | u32 masked CRC-32C   | payload (size bytes)   |
//   +-----------+----------------------+---------------- ... --+
//   payload: u8 kind (1 = table schema, 2 = DDL), then varint/length-prefixed fields:
//     kind 1: database, name, version, column count, per column {name, source_type,
//             u8 value type, u8 nullable, varint pk ordinal}, binlog file, varint offset
//     kind 2: database, ddl text, binlog file, varint offset
//
// A torn or corrupt tail (crash during an append) is truncated on open with a log line.
//
// Thread safety: single-threaded (the capture thread).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/position.h"
#include "base/status.h"
#include "io/file_system.h"
#include "model/schema.h"

namespace eddy::source::mysql {

inline constexpr char kSchemaHistoryFileName[] = "mysql-schema-history";

// Sets each column's precision and scale from its source type name, the one both the binlog
// TABLE_MAP and the snapshot's information_schema produce alike: "decimal(p,s)" gives
// precision p and scale s; "time(n)", "datetime(n)", "timestamp(n)" give precision n
// (fractional-second digits). Lengths come from the declared type (column_type.h, in the
// same units on both paths): "varchar(n)"/"char(n)" give n characters, "binary(n)"/
// "varbinary(n)" n bytes, "bit(n)" n bits.
void SetTypeModifiers(model::TableSchema& schema);

class SchemaHistory {
 public:
  // Opens (creating) `directory`/mysql-schema-history.
  static Result<std::unique_ptr<SchemaHistory>> Open(io::FileSystem* file_system,
                                                     const std::string& directory);

  // Gives `schema` its version: the latest stored version when the columns and key are equal,
  // else latest + 1 (1 for a new table), recorded durably before returning.
  Status AssignVersion(model::TableSchema& schema, const BinlogPosition& position);

  // Records a DDL statement durably.
  Status RecordDdl(const std::string& database, const std::string& ddl,
                   const BinlogPosition& position);

  const model::TableSchema* Latest(const model::TableId& table) const;
  size_t ddl_count() const { return ddl_count_; }
  size_t table_count() const { return latest_.size(); }

 private:
  SchemaHistory() = default;
  Status Append(const std::string& payload);
  Status Load();

  io::FileSystem* file_system_ = nullptr;
  std::string path_;
  std::unique_ptr<io::File> file_;
  std::map<model::TableId, model::TableSchema> latest_;
  size_t ddl_count_ = 0;
};

}  // namespace eddy::source::mysql
