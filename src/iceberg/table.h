// Iceberg tables in a warehouse on an ObjectStore, with the hadoop (file-system) catalog: a
// table lives under its key prefix (`<namespace...>/<name>`); each version of its metadata is
// `metadata/v<N>.metadata.json`, published with put-if-absent, and `metadata/version-hint.text`
// names the latest one for readers (icebird, Spark's HadoopCatalog).
//
// A commit (CommitDelta) writes, in order: the data file and the equality-delete file
// (Parquet), their manifests, the manifest list (the previous snapshot's manifests plus the new
// ones), then v<N+1>.metadata.json put-if-absent (the commit point: the snapshot exists once
// that object does), then version-hint.text. A crash before the commit point leaves only
// unreferenced files; a crash after it leaves a hint one version behind, which Load repairs
// (it probes v<hint+1>, v<hint+2>, ... and rewrites the hint). Put-if-absent needs a store that
// honours it (local files, AWS S3); on one that does not, two concurrent writers of one table
// can overwrite each other's version (docs/sinks/iceberg.md).
//
// A commit either publishes its snapshot (main, what readers see) or stages it on the
// `eddy-staged` branch (CommitOptions::publish): the sink stages the first part of a source
// transaction it has not seen the end of, and publishes once the transaction is whole, so
// main only ever shows whole transactions.
//
// Durability: CommitDelta returns OK only once the new metadata version is durable (Put's
// guarantee). Threads: one thread at a time per catalog; one writer per table at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "iceberg/manifest.h"
#include "iceberg/table_metadata.h"
#include "model/schema.h"
#include "model/value.h"
#include "objstore/object_store.h"
#include "parquet/writer.h"

namespace eddy::iceberg {

struct LoadedTable {
  int64_t version = 0;  // N of v<N>.metadata.json (hadoop) or of NNNNN-<uuid>.metadata.json (SQL)
  TableMetadata metadata;
  std::string metadata_location;  // full URI of the metadata file (the SQL catalog's pointer)
};

// The rows one commit applies to a table, as merge-on-read: `deleted_keys` (rows holding the
// key columns) become one equality-delete file, `rows` (final images) one data file. A key
// present in both is replaced: the delete applies to older data only.
struct Delta {
  std::vector<const model::Row*> rows;
  std::vector<const model::Row*> deleted_keys;
  // Added to the snapshot summary after the counts (eddy.sink, eddy.checkpoint).
  std::vector<std::pair<std::string, std::string>> summary;
};

// A row or key of a Delta that cannot be written in the table's types: a value its column's
// Iceberg type cannot hold (a timestamp past what int64 microseconds hold, a MariaDB DATETIME
// with a zero month, both kept as text by the capture).
struct Unconvertible {
  bool is_key = false;  // an entry of Delta::deleted_keys; else of Delta::rows
  size_t index = 0;     // into that vector
  std::string column;   // the first column whose value does not convert
  Status reason;        // kInvalidArgument naming the column, its type and the value
};

// The rows and keys of `delta` that CommitDelta refuses with kInvalidArgument, for the table
// whose latest version is `current` and the source schema `table` (the same arguments as
// CommitDelta). Meant for after such a refusal: it writes each row once more (into memory).
// An empty result means the refusal had another cause. Other errors are returned as they are.
[[nodiscard]] Result<std::vector<Unconvertible>> FindUnconvertible(
    const std::optional<LoadedTable>& current, const model::TableSchema& table, const Delta& delta);

struct CommitOptions {
  parquet::Compression compression = parquet::Compression::kSnappy;
  // Milliseconds since the epoch for the snapshot and metadata; 0: now.
  int64_t now_ms = 0;
  // true: the new snapshot becomes main's (what readers see), taking any staged snapshot with
  // it (it is the new one's parent). false: it is staged (TableMetadata::staged_snapshot_id):
  // committed and durable, the base of the next commit, invisible to readers of main.
  bool publish = true;
};

// A catalog: where a table's current metadata file is recorded, and how a new one becomes
// current atomically. The data, manifest and metadata files are written the same way for
// every catalog (CommitDelta, PublishStaged); WriteVersion is each catalog's commit point.
class Catalog {
 public:
  // `store` is not owned and outlives the catalog.
  explicit Catalog(objstore::ObjectStore* store) : store_(store) {}
  virtual ~Catalog() = default;

  // The table's latest version, or nullopt when it has none yet.
  [[nodiscard]] virtual Result<std::optional<LoadedTable>> Load(std::string_view table_key) = 0;

  // The keys of the tables under `prefix` ("" or "warehouse/"), in no particular order.
  [[nodiscard]] virtual Result<std::vector<std::string>> ListTables(std::string_view prefix) = 0;

  // Commits `delta` as one snapshot (operation "append", or "overwrite" when it deletes) on
  // the table at `table_key` whose latest version is `current` (nullopt: creates the table).
  // `table` is the source table's schema; rows are projected onto its columns by name. A
  // version written meanwhile by another writer is kAborted (reload and retry); the files
  // written for the refused commit are then deleted.
  [[nodiscard]] Result<LoadedTable> CommitDelta(std::string_view table_key,
                                                const std::optional<LoadedTable>& current,
                                                const model::TableSchema& table, const Delta& delta,
                                                const CommitOptions& options = {});

  // Makes the staged snapshot of `current` main's, in a new metadata version (no new files).
  // kFailedPrecondition when `current` has none; kAborted as for CommitDelta.
  [[nodiscard]] Result<LoadedTable> PublishStaged(std::string_view table_key,
                                                  const LoadedTable& current,
                                                  const CommitOptions& options = {});

  // Commits `metadata` (built from `current`, referencing only files that exist) as the next
  // version: for maintenance that changes metadata only (iceberg/maintenance.h). kAborted as
  // for CommitDelta.
  [[nodiscard]] Result<LoadedTable> CommitMetadata(std::string_view table_key,
                                                   const LoadedTable& current,
                                                   TableMetadata metadata) {
    return WriteVersion(table_key, current, std::move(metadata), current.version + 1);
  }

  // "file:///warehouse/<table_key>" or "s3://bucket/<table_key>".
  std::string Location(std::string_view table_key) const;
  // The object key of a full URI this catalog's store describes (the inverse of Location and
  // of the paths in manifests); kFailedPrecondition for a URI outside the store.
  Result<std::string> KeyOfUri(std::string_view uri) const;

  objstore::ObjectStore* store() const { return store_; }

 protected:
  // The commit point: writes `metadata` as version `version` of the table and makes it the
  // current one only if `current` is still the current one (kAborted otherwise). Appends
  // `current` to the metadata log.
  virtual Result<LoadedTable> WriteVersion(std::string_view table_key,
                                           const std::optional<LoadedTable>& current,
                                           TableMetadata metadata, int64_t version) = 0;
  // The metadata log entry for `current`, kept at most kMaxMetadataLog long.
  void AppendMetadataLog(TableMetadata& metadata, const std::optional<LoadedTable>& current);

  objstore::ObjectStore* store_;
};

// The hadoop (file-system) catalog: v<N>.metadata.json put-if-absent, version-hint.text.
class HadoopCatalog final : public Catalog {
 public:
  explicit HadoopCatalog(objstore::ObjectStore* store) : Catalog(store) {}

  [[nodiscard]] Result<std::optional<LoadedTable>> Load(std::string_view table_key) override;
  // Tables are the keys that hold metadata/v1.metadata.json (a listing of the prefix).
  [[nodiscard]] Result<std::vector<std::string>> ListTables(std::string_view prefix) override;

 protected:
  Result<LoadedTable> WriteVersion(std::string_view table_key,
                                   const std::optional<LoadedTable>& current,
                                   TableMetadata metadata, int64_t version) override;

 private:
  Result<std::optional<int64_t>> LatestVersion(std::string_view table_key);

  bool hint_behind_ = false;  // set by LatestVersion
};

// A random (version 4) UUID in canonical text form (table uuids, file names).
std::string RandomUuid();

std::string MetadataKey(std::string_view table_key, int64_t version);
std::string VersionHintKey(std::string_view table_key);

}  // namespace eddy::iceberg
