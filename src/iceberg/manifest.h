// Iceberg manifests and manifest lists (Avro container files, codec null so that every Iceberg
// reader, icebird included, decodes them), with the spec's field ids and header metadata
// (iceberg_format.h has the schemas, docs/formats/iceberg.md the fields).
//
// Entries eddy writes are ADDED (status 1) with null sequence numbers: readers inherit the
// snapshot's sequence number from the manifest list, so a commit's data and delete files share
// it, and its equality deletes (which apply to strictly older data) never hit its own rows.
//
// Pure functions, no I/O. ReadManifestList and ReadManifest read only files eddy wrote (their
// schema is kManifestListSchema); anything else is kFailedPrecondition, a damaged file kCorruption.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "iceberg/table_metadata.h"

namespace eddy::iceberg {

struct DataFile {
  int32_t content = 0;    // kContentData or kContentEqualityDeletes
  std::string file_path;  // full URI
  int64_t record_count = 0;
  int64_t file_size_in_bytes = 0;
  // Column metrics, by field id (column_metrics.h fills them from the Parquet writer's figures).
  std::vector<std::pair<int32_t, int64_t>> column_sizes;       // bytes on disk, compressed
  std::vector<std::pair<int32_t, int64_t>> value_counts;       // values (with nulls)
  std::vector<std::pair<int32_t, int64_t>> null_value_counts;  // nulls
  std::vector<std::pair<int32_t, int64_t>> nan_value_counts;   // NaNs (float and double)
  // Bounds in Iceberg's single-value serialization; a column may have none.
  std::vector<std::pair<int32_t, std::string>> lower_bounds;
  std::vector<std::pair<int32_t, std::string>> upper_bounds;
  std::vector<int32_t> equality_ids;  // equality deletes: the key's field ids
};

struct ManifestFile {
  std::string manifest_path;  // full URI
  int64_t manifest_length = 0;
  int32_t partition_spec_id = 0;
  int32_t content = 0;  // kManifestData or kManifestDeletes
  int64_t sequence_number = 0;
  int64_t min_sequence_number = 0;
  int64_t added_snapshot_id = 0;
  int32_t added_files_count = 0;
  int32_t existing_files_count = 0;
  int32_t deleted_files_count = 0;
  int64_t added_rows_count = 0;
  int64_t existing_rows_count = 0;
  int64_t deleted_rows_count = 0;
  bool operator==(const ManifestFile&) const = default;
};

// A manifest of `files` (all data, or all equality deletes: `content` is kManifestData or
// kManifestDeletes) added by `snapshot_id`, for a table of `schema`.
Result<std::string> WriteManifest(const Schema& schema, int32_t content, int64_t snapshot_id,
                                  const std::vector<DataFile>& files);

Result<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests,
                                      int64_t snapshot_id,
                                      std::optional<int64_t> parent_snapshot_id,
                                      int64_t sequence_number);
Result<std::vector<ManifestFile>> ReadManifestList(std::string_view file);
// The files of a manifest eddy wrote (WriteManifest's layout, or the older one without column
// sizes, NaN counts and bounds; anything else is kFailedPrecondition, a damaged file
// kCorruption).
Result<std::vector<DataFile>> ReadManifest(std::string_view file);

}  // namespace eddy::iceberg
