// Compaction of a table eddy writes (`eddy lake compact`, and the Iceberg sink's own threshold):
// the data and equality-delete files of main's current snapshot are rewritten into fresh data
// files holding exactly the rows a reader sees, committed as one `replace` snapshot whose
// manifest list names only those files: zero delete files afterwards.
//
// Rows: a data file of sequence number d keeps a row unless an equality-delete file of
// sequence number e > d holds its key (the values of the delete file's equality_ids, compared
// as values of the column's type). Files are read with parquet/reader.h and matched to the
// current schema by field id: a column added since a file was written is NULL, a dropped one
// is left out, promoted types (int -> long, float -> double, wider decimals) are widened.
//
// Concurrency (safe while the sink writes): the plan is made from one loaded version; the new
// files are written under fresh names; the commit is the catalog's conditional commit
// (put-if-absent of the next version, or the SQL catalog's conditional UPDATE). If another
// writer committed first (kAborted), the files just written are deleted (no version ever
// named them) and the table is planned again from its new version, up to `attempts` times;
// a row committed after the plan is never dropped and a deleted row never comes back, since
// a commit only ever replaces exactly the version it was planned on. A table whose head is a
// staged snapshot (a source transaction half committed by the sink) is not compacted: the
// sink's next commit builds on the staged snapshot; kUnavailable says to try again later.
//
// The replace snapshot carries the eddy.sink and eddy.checkpoint of its parent, so the sink
// resumes from the same checkpoint after a compaction, whatever expiry later removes.
// Time travel to older snapshots keeps working (their files stay until `eddy lake expire`).
//
// Durability: the commit point is the catalog's; a crash before it leaves only unreferenced
// files (removed by RemoveOrphanFiles after the safety age), a crash after it a compacted
// table. Memory: one data or delete file's bytes and decoded rows at a time, the keys of every
// equality delete, and one output row group. Threads: the caller's; one call at a time per
// catalog object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "iceberg/table.h"
#include "parquet/writer.h"

namespace eddy::iceberg {

struct CompactOptions {
  // A new data file is started once the current one's bytes reach this.
  uint64_t target_file_bytes = 512ull << 20;
  parquet::Compression compression = parquet::Compression::kSnappy;
  // Commits tried while other writers commit first.
  int attempts = 10;
  // Compact even a table of one data file and no delete files (rewrites it).
  bool force = false;
  int64_t now_ms = 0;  // the snapshot's timestamp; 0: now
};

struct CompactReport {
  bool compacted = false;  // false: nothing to do (no delete files and at most one data file)
  size_t data_files_before = 0;
  size_t delete_files_before = 0;
  size_t data_files_after = 0;
  int64_t rows_before = 0;           // rows of the data files, deleted ones included
  int64_t rows_after = 0;            // rows a reader sees
  int attempts = 0;                  // commits tried
  std::optional<LoadedTable> table;  // the version after the call
};

// The files of main's current snapshot, counted from its manifest list (no manifest read).
struct FileCounts {
  size_t data_files = 0;
  size_t delete_files = 0;
};
[[nodiscard]] Result<FileCounts> CountFiles(Catalog& catalog, const TableMetadata& metadata);

// kNotFound when the table has no version; kUnavailable while it has a staged snapshot;
// kAborted when `attempts` commits all lost to other writers; kFailedPrecondition for files
// eddy cannot read (nested Parquet, unknown types) or types it cannot write.
[[nodiscard]] Result<CompactReport> CompactTable(Catalog& catalog, std::string_view table_key,
                                                 const CompactOptions& options);

}  // namespace eddy::iceberg
