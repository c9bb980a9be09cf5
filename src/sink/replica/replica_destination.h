// The replica destination: applies a CDC stream to tables of a target database, exactly once,
// for any engine that provides a Target (target.h). docs/sinks/replica.md is the user contract.
//
// Per batch, in one target transaction:
//   - each record's table is resolved to a TargetTable (ReplicaSettings::MapTable) and made
//     to match the record's schema (consume::SinkRecord::table_schema): created when missing
//     (create_tables), columns added, dropped, renamed or widened when the source schema
//     version changed (ALTERs named in any error);
//   - row changes are collapsed per key in sequence order (the last change of a key decides
//     what the target holds: an upsert of its full row or a delete; an update without some
//     values, PostgreSQL's unchanged TOAST, updates only the columns it has); snapshot rows
//     and inserts (op r, c) whose key saw nothing else in the batch go through the bulk path
//     (COPY; on a duplicate key the batch is applied again as upserts), the rest as multi-row
//     upserts and deletes; a truncate or a schema change first applies what
//     was collected before it;
//   - the sink's checkpoint (the batch's checkpoint_after merged per shard with the last one
//     committed) is upserted into kCheckpointTable; then COMMIT.
// ReadCheckpoint reads that row back, so after any crash the runner resumes right after the
// last committed batch: the target holds every change once.
//
// Errors: connection loss, deadlocks, serialization failures and lock or statement timeouts
// are retriable (the runner retries the batch, IMPAIRED with the server's words); a statement
// the target refuses (constraint, missing column, type) is permanent: FAILED, with the target
// table (and for DDL the statement) in the message. A COMMIT whose outcome is unknown is
// resolved on the next attempt by reading the checkpoint row.
//
// Threads: Open/ReadCheckpoint/Close from the runner's control thread; Deliver from lane
// threads, serialized internally (one target session).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "consume/sink.h"
#include "model/schema.h"
#include "sink/replica/target.h"

namespace eddy::sink::replica {

// The settings the replica core owns (engines own their URL), parsed once from a SinkSpec.
//   table_name     template of the target table name: ${db}, ${schema}, ${table} are the
//                  source table's database, schema and name; default "${table}". A result
//                  "space.name" picks the target namespace too.
//   tables         per-table names, overriding the template: "src=dst" pairs separated by
//                  commas, src a source QualifiedName ("public.orders", "shop.orders"), dst
//                  "name" or "space.name".
//   create_tables  true | false, default true: create missing target tables (and columns)
//                  from the source catalog; false: a missing table is FAILED naming it.
struct ReplicaSettings {
  std::string table_name_template = "${table}";
  std::map<std::string, std::string> tables;  // source QualifiedName -> "name" | "space.name"
  bool create_tables = true;

  // Parses the keys above from `settings`, ignoring others (the engine rejects unknown ones:
  // IsReplicaSetting). InvalidArgument naming the key and the fix.
  static Result<ReplicaSettings> Parse(const std::map<std::string, std::string>& settings);
  // Where `table` lands; `default_space` is the Target's.
  TargetTable MapTable(const model::TableId& table, std::string_view default_space) const;
};

// True for the keys ReplicaSettings::Parse reads.
bool IsReplicaSetting(std::string_view key);

// Builds the destination for an engine's Target. No I/O: Open connects, checks privileges by
// creating kCheckpointTable when missing, and reads the checkpoint.
Result<std::unique_ptr<consume::Destination>> MakeReplicaDestination(const consume::SinkSpec& spec,
                                                                     ReplicaSettings settings,
                                                                     Target target);

// An engine's Target from the sink URL and the destination's settings (MakePostgresTarget,
// MakeMariadbTarget).
using TargetMaker = Result<Target> (*)(const std::string& url,
                                       const std::map<std::string, std::string>& settings);

// The DestinationFactory body every engine shares: the spec's destination settings
// (consume::DestinationSettings) give the engine's Target (`make_target`) and the
// ReplicaSettings, then MakeReplicaDestination above.
Result<std::unique_ptr<consume::Destination>> MakeReplicaDestination(const consume::SinkSpec& spec,
                                                                     TargetMaker make_target);

}  // namespace eddy::sink::replica
