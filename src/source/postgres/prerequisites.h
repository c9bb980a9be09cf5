// `eddy check` for PostgreSQL: connects with the source URL's credentials and reports every
// prerequisite of logical-decoding capture (pgoutput):
//   server_version, wal_level, replication_privilege, replication_slots, wal_senders,
//   slot_wal_retention (warn when max_slot_wal_keep_size is bounded),
//   replication_connection (a real walsender connection), select_privilege, one
//   "table <schema>.<name>" item per table without a primary key or
//   replica identity, and "publication" when CheckOptions::publication is set.
// Each failed item carries the exact SQL or setting that fixes it.
//
// Connection failures (unreachable host, bad password, no such database) are returned as the
// Status, one line; anything else that goes wrong during checking is a failed item.
//
// Thread safety: reentrant; each call uses its own connection.
#pragma once

#include "base/status.h"
#include "source/prerequisites_report.h"
#include "source/source_url.h"

namespace eddy::source::postgres {

// `url.kind` must be kPostgres.
Result<CheckReport> CheckPrerequisites(const SourceUrl& url, const CheckOptions& options = {});

}  // namespace eddy::source::postgres
