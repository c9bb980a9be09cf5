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

// RemoveOrphanFiles deletes the files under a table's data/ and metadata/ folders that no
// snapshot of its current metadata references (a failed or lost commit's data, delete,
// manifest and manifest-list files; a compaction attempt that lost its commit and could not
// clean up) and that were last modified before `older_than_ms`. Metadata files
// (*.metadata.json) and version-hint.text are never removed: older versions are the history
// the metadata log and the SQL catalog point into.
//
// Safe while writers commit, given a safety age longer than any commit takes (Iceberg's
// default is 3 days): the folders are listed first, the metadata loaded after, so every file a
// committed version references is known; a file a commit in flight references is either new
// (younger than the cutoff) or already referenced by the loaded version (manifests carried
// from its parent). A file whose age the store does not report is kept.
//
// Durability: each delete is the store's; a crash midway leaves fewer orphans. Threads: the
// caller's.
struct OrphanOptions {
  int64_t older_than_ms = 0;  // only files last modified before this may be removed
  bool dry_run = false;       // report what would go, delete nothing
};

struct OrphanReport {
  size_t referenced_files = 0;  // data, delete, manifest and manifest-list files referenced
  size_t removed_files = 0;     // (dry run: that would be removed)
  uint64_t removed_bytes = 0;
  size_t kept_recent_files = 0;      // unreferenced but recent (or of unknown age)
  std::vector<std::string> removed;  // their URIs
};

// kNotFound when the table has no version.
[[nodiscard]] Result<OrphanReport> RemoveOrphanFiles(Catalog& catalog, std::string_view table_key,
                                                     const OrphanOptions& options);

}  // namespace eddy::iceberg
