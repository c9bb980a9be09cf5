// Table maintenance that `eddy lake` runs on tables eddy writes.
//
// ExpireSnapshots drops the snapshots older than a cutoff from a table's metadata (never main's
// current snapshot nor a staged one, so readers of main and the sink's next commit are
// unaffected), commits that as a new metadata version, then deletes the files only the
// dropped snapshots referenced: their manifest lists, and manifests and data or delete files
// no kept snapshot references. Files no snapshot ever referenced (a failed commit's, or one
// being written right now by the sink) are never touched, so it is safe while the sink
// writes. The commit is optimistic: a version committed meanwhile (kAborted) makes it reload
// and start again, up to `attempts` times.
//
// Time travel to a dropped snapshot (or to a metadata version that names one as current) no
// longer works: that is what expiry means. Metadata files stay (metadata-log names them).
//
// Durability: the new metadata version is committed (durable) before any file is deleted; a
// crash in between leaves unreferenced files and a correct table. Threads: the caller's; one
// call at a time per catalog.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "iceberg/table.h"

namespace eddy::iceberg {

struct ExpireOptions {
  int64_t older_than_ms = 0;  // snapshots with timestamp-ms below this are dropped
  int attempts = 10;          // commits tried while other writers commit first
  int64_t now_ms = 0;         // last-updated-ms of the new version; 0: now
};

struct ExpireReport {
  size_t expired_snapshots = 0;
  size_t kept_snapshots = 0;
  size_t deleted_files = 0;
  int64_t version = 0;  // the table's version after the call
};

// kNotFound when the table has no version.
[[nodiscard]] Result<ExpireReport> ExpireSnapshots(Catalog& catalog, std::string_view table_key,
                                                   const ExpireOptions& options);

}  // namespace eddy::iceberg
