// MySQL/MariaDB's part of incremental snapshots (the shared driver is
// source/incremental_snapshot.h; the algorithm and its guarantees: docs/snapshots.md): the
// watermark and signal tables, and chunk reads in primary-key order.
//
// Watermarks are rows of a watermark table eddy owns (`source.watermark_table`, default
// `<url database>.eddy_watermark`; Debezium's signal table layout `id varchar(42) PRIMARY KEY,
// type varchar(32) NOT NULL, data varchar(2048)`, created when missing). Each capture keeps one
// row, id "eddy-<server_id>", type "eddy.watermark", and writes every watermark into its
// `data` with INSERT ... ON DUPLICATE KEY UPDATE in its own autocommit transaction, so the
// binlog carries it in commit order with the changes and the table never grows.
//
// A chunk is `SELECT <columns> FROM t WHERE [(condition) AND] <key after last_key> ORDER BY
// <key> LIMIT n` in autocommit (REPEATABLE READ reads one statement's snapshot: no long
// transaction, no lock beyond the statement's own reads). "key after (v1, v2)" is written out as
// `k1 > v1 OR (k1 = v1 AND k2 > v2)`, which MariaDB's range optimizer turns into an index range.
// Values come back in the text protocol and are decoded by the blocking snapshot's loop
// (EncodeTextRow), so a chunk row and a streamed change of the same row have the same key.
//
// Ownership: owns its connection. Thread safety: one thread at a time; with
// snapshot_parallelism the capture keeps several readers and reads a chunk on each at once,
// after describing the table on every reader from the capture thread (Key).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "localdb/sql_session.h"
#include "model/event.h"
#include "model/schema.h"
#include "source/incremental_snapshot.h"
#include "source/mysql/snapshot.h"

namespace eddy::source::mysql {

inline constexpr std::string_view kDefaultWatermarkTable = "eddy_watermark";

// "db.table" -> {db, table}; InvalidArgument naming `what` when not of that shape.
Result<std::pair<std::string, std::string>> SplitTableName(std::string_view name,
                                                           std::string_view what);

struct ChunkReaderOptions {
  localdb::SqlEndpoint endpoint;
  bool mariadb = true;
  std::string server_name;
  std::string watermark_table;  // "db.table"
  std::string watermark_id;     // the capture's row id: "eddy-<server_id>"
  // Gives `schema` its version (the stream's registry or the capture's schema history).
  std::function<Status(model::TableSchema&)> assign_version;
};

struct Chunk {
  model::TableId table;
  uint32_t schema_version = 0;
  std::vector<std::string> key_columns;
  // Each row's partition key and key and after rows (EncodeTextRow, SnapshotRowEncoding); the
  // capture adds the read event's other fields at the high watermark.
  std::vector<EncodedRow> rows;
  std::vector<std::string> last_key;  // text of the last row's key (empty: no row)
};

class ChunkReader {
 public:
  static Result<std::unique_ptr<ChunkReader>> Connect(ChunkReaderOptions options);

  // Creates `table` ("db.table") with the signal table layout when missing.
  [[nodiscard]] Status EnsureControlTable(const std::string& table);
  [[nodiscard]] Status WriteWatermark(const std::string& text);
  // Base tables in name order for which `captured(db, table)` holds; FailedPrecondition naming
  // every such table without a primary key (incremental snapshots read in key order).
  Result<std::vector<std::string>> CapturedTables(
      const std::function<bool(const std::string&, const std::string&)>& captured);
  // The next `rows` rows of `table` after `last_key` (empty: from the start) up to `upper_key`
  // inclusive (empty: to the end) in key order, with `condition` ("" = every row). Errors carry
  // the server's words (a bad condition: the caller skips the table).
  Result<Chunk> Read(const std::string& table, const std::string& condition,
                     const std::vector<std::string>& last_key,
                     const std::vector<std::string>& upper_key, size_t rows);
  // Key range boundaries splitting `table` (with `condition`) into at most `parts` ranges of
  // about equal row counts, none for fewer than two chunks of `chunk_rows`: the key of every
  // step-th row in key order (KeyRangeBoundaries).
  Result<std::vector<std::vector<std::string>>> SplitPoints(const std::string& table,
                                                            const std::string& condition,
                                                            size_t parts, size_t chunk_rows);
  // The table's id and primary key column names (for the chunk window), described once.
  Result<std::pair<model::TableId, std::vector<std::string>>> Key(const std::string& table);
  // Forgets the cached description of `table` (after an error, or DDL).
  void Forget(const std::string& table) { tables_.erase(table); }

 private:
  struct Described {
    model::TableSchema schema;
    std::vector<SnapshotColumn> columns;
    std::vector<size_t> key_indexes;
    std::string select;  // "SELECT ... FROM `db`.`t`"
  };
  ChunkReader(ChunkReaderOptions options, localdb::MariadbSession session)
      : options_(std::move(options)), session_(std::move(session)) {}
  Result<const Described*> Describe(const std::string& table);

  ChunkReaderOptions options_;
  localdb::MariadbSession session_;
  std::map<std::string, Described> tables_;
};

}  // namespace eddy::source::mysql
