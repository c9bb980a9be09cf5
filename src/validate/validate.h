// `eddy validate`: is the target database's copy of each table equal to the source's? The way
// AWS DMS data validation works: for each table, the rows are split into chunks of the primary
// key (boundaries taken from the source every `chunk_size` rows), each database computes every
// chunk's row count and checksum itself (validate/canonical_sql.h: a canonical text rendering
// of each row, so PostgreSQL and MariaDB agree for equal values), and only the chunks that
// differ are read row by row (key and row hash) to name the keys that are missing in the
// target, extra in the target, or different.
//
// Both sides are read in one snapshot each (REPEATABLE READ, read only), so a table being
// written is compared at one moment per side; when the target is a replica that lags, compare
// after it caught up.
//
// Tables: the ones named, or every base table of the source namespace (the PostgreSQL schema,
// `schema=` in the URL, public by default; the MariaDB database) except `eddy_checkpoints`.
// A name `ns.table` reads that namespace on the source side; the target side is always the
// table of the same name in the target URL's namespace (where the replica sink puts it).
// Columns are matched by name; a column on one side only makes the table differ.
//
// Thread safety: Validate() is a blocking call with its own connections; call it from any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace eddy::validate {

struct ValidateOptions {
  std::vector<std::string> tables;  // empty: every table of the source namespace
  int64_t chunk_size = 10000;       // rows per chunk (>= 1)
  size_t max_keys_listed = 100;     // per table and kind of difference
};

enum class Difference : uint8_t {
  kMissing = 1,    // in the source, not in the target
  kExtra = 2,      // in the target, not in the source
  kDifferent = 3,  // in both, with different values
};

struct KeyDifference {
  Difference kind = Difference::kMissing;
  // "id=5" or "a=1, b=x": canonical texts of the key columns; for kDifferent followed by the
  // columns whose values differ: "id=5 (columns price name)".
  std::string key;
};

struct TableReport {
  std::string source_table;  // namespace.table
  std::string target_table;
  // Set when the table could not be compared (missing, no primary key, a query failed): the
  // message says what is wrong and how to fix it. The counts below are then not meaningful.
  std::string error;
  int64_t source_rows = 0;
  int64_t target_rows = 0;
  int64_t chunks = 0;
  int64_t differing_chunks = 0;
  int64_t missing = 0;
  int64_t extra = 0;
  int64_t different = 0;
  std::vector<KeyDifference> keys;  // up to max_keys_listed of each kind
  std::vector<std::string> notes;   // column mismatches

  bool equal() const {
    return error.empty() && source_rows == target_rows && differing_chunks == 0 && notes.empty() &&
           missing == 0 && extra == 0 && different == 0;
  }
};

struct ValidateReport {
  std::vector<TableReport> tables;

  bool has_errors() const;
  bool equal() const;  // no errors and every table equal
  // Human-readable, one block per table, then a summary line.
  std::string ToText() const;
};

// Errors (InvalidArgument for a bad URL or option, connection errors as localdb maps them) are
// about the run as a whole; per-table problems are in TableReport::error.
Result<ValidateReport> Validate(const std::string& source_url, const std::string& target_url,
                                const ValidateOptions& options);

}  // namespace eddy::validate
