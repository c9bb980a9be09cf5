// The Iceberg destination: one Iceberg v2 table per source table, mirroring it with updates and
// deletes applied merge-on-read, in a warehouse on local files (`iceberg+file:///WAREHOUSE`)
// or S3 (`iceberg+s3://BUCKET/WAREHOUSE`), hadoop catalog (iceberg/table.h). Users' reference:
// docs/sinks/iceberg.md.
//
// A commit is one batch of the sink runner, cut by commit_rows or commit_interval
// (Destination::Batching). Per table, its row changes collapse per primary key (the last change
// wins); the table gets one snapshot holding one equality-delete file with the key of every
// touched key and one data file with the final images of the keys whose last change is an
// insert, update or snapshot read. Tables without a primary key are append-only: inserts,
// updates and reads append their images, deletes are not applied. Tables live at
// `<database>/<schema>/<table>` (PostgreSQL) or `<database>/<table>` (MySQL) under the
// warehouse.
//
// Transactions: a batch's last source transaction, when the batch does not show it complete
// (a later record of another transaction, an END, a BEGIN or a heartbeat), is committed as a
// staged snapshot (iceberg/table.h) and published by a later batch that shows it complete, so
// main, what readers see, never holds part of a transaction.
//
// Exactly once: every snapshot records the sink's name and its checkpoint after the batch in
// its summary (eddy.sink, eddy.checkpoint). A table's changes are filtered on delivery against
// the checkpoint of its own latest snapshot, so a batch delivered again after a crash between
// two tables' commits applies only to the tables that missed it; ReadCheckpoint returns the
// earliest checkpoint among the sink's tables (a new table is first created with the previous
// checkpoint, so a batch interrupted before a new table's commit is read again). The argument
// is in docs/sinks/iceberg.md.
//
// Failures: a missing directory or bucket, refused credentials, an unreachable endpoint or a
// concurrent writer make Deliver fail retriably (IMPAIRED, then recovery once the cause is
// gone); the table cache is dropped and reloaded from the store after any failure.
//
// Threads: Deliver calls are serialized (one lane); Close cancels requests in flight.
#pragma once

#include <memory>

#include "base/status.h"
#include "consume/sink.h"
#include "iceberg/table.h"
#include "objstore/object_store.h"

namespace eddy::sink::iceberg {

// Parses the spec (URL and settings; InvalidArgument naming the key) without I/O.
Result<std::unique_ptr<consume::Destination>> MakeIcebergDestination(const consume::SinkSpec& spec);

// A warehouse as a sink's URL and settings name it (the catalog= setting, and on S3 the default
// SQL catalog in spec.data_dir named after spec.name), opened for maintenance (`eddy lake`):
// the store checked, the catalog opened.
struct Warehouse {
  std::unique_ptr<objstore::ObjectStore> store;
  std::unique_ptr<::eddy::iceberg::Catalog> catalog;  // over store (destroyed first)
  std::string prefix;                                 // every table key starts with it
};
Result<Warehouse> OpenWarehouse(const consume::SinkSpec& spec);

// For tests: the destination over a given store (the spec's URL still selects the settings).
Result<std::unique_ptr<consume::Destination>> MakeIcebergDestinationWithStore(
    const consume::SinkSpec& spec, std::unique_ptr<objstore::ObjectStore> store);

}  // namespace eddy::sink::iceberg
