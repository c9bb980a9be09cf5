// Apache Iceberg v2 table files as eddy writes them (spec notes: docs/formats/iceberg.md).
//
//   <table>/metadata/v<N>.metadata.json        table metadata, one per version, never rewritten
//   <table>/metadata/version-hint.text         "<N>": the latest version (hadoop catalog)
//   <table>/metadata/snap-<id>-<uuid>.avro     a snapshot's manifest list (Avro manifest_file)
//   <table>/metadata/<uuid>-m<i>.avro          manifests (Avro manifest_entry); data or deletes
//   <table>/data/<seq>-<uuid>-data.parquet     data files: final row images of a commit
//   <table>/data/<seq>-<uuid>-deletes.parquet  equality-delete files: the key columns of every
//                                              key a commit touched (equality_ids = the key)
//
// The Avro schemas below carry the spec's field ids; eddy reads back only the manifest lists
// it wrote itself (their schema must equal kManifestListSchema byte for byte).
#pragma once

#include <cstdint>
#include <string_view>

namespace eddy::iceberg {

inline constexpr int kFormatVersion = 2;
inline constexpr int kLastPartitionId = 999;  // unpartitioned (Java's convention)

// manifest_entry.status
inline constexpr int32_t kEntryAdded = 1;
// data_file.content
inline constexpr int32_t kContentData = 0;
inline constexpr int32_t kContentEqualityDeletes = 2;
// manifest_file.content
inline constexpr int32_t kManifestData = 0;
inline constexpr int32_t kManifestDeletes = 1;

// Snapshot summary keys eddy adds (the checkpoint lives here: docs/sinks/iceberg.md).
inline constexpr std::string_view kSummarySink = "eddy.sink";
inline constexpr std::string_view kSummaryCheckpoint = "eddy.checkpoint";
// On a staged snapshot (TableMetadata::staged_snapshot_id): the source transaction it holds
// the first part of.
inline constexpr std::string_view kSummaryStagedTransaction = "eddy.staged-transaction";

// manifest_file (the manifest list), v2: ids 500-517.
inline constexpr std::string_view kManifestListSchema =
    R"({"type":"record","name":"manifest_file","fields":[)"
    R"({"name":"manifest_path","type":"string","field-id":500},)"
    R"({"name":"manifest_length","type":"long","field-id":501},)"
    R"({"name":"partition_spec_id","type":"int","field-id":502},)"
    R"({"name":"content","type":"int","field-id":517},)"
    R"({"name":"sequence_number","type":"long","field-id":515},)"
    R"({"name":"min_sequence_number","type":"long","field-id":516},)"
    R"({"name":"added_snapshot_id","type":"long","field-id":503},)"
    R"({"name":"added_files_count","type":"int","field-id":504},)"
    R"({"name":"existing_files_count","type":"int","field-id":505},)"
    R"({"name":"deleted_files_count","type":"int","field-id":506},)"
    R"({"name":"added_rows_count","type":"long","field-id":512},)"
    R"({"name":"existing_rows_count","type":"long","field-id":513},)"
    R"({"name":"deleted_rows_count","type":"long","field-id":514}]})";

// manifest_entry with data_file (ids 0-4, 100-140): the fields eddy fills, among them the column
// metrics (column_metrics.h says which bounds eddy writes and why some are left out).
inline constexpr std::string_view kManifestEntrySchema =
    R"({"type":"record","name":"manifest_entry","fields":[)"
    R"({"name":"status","type":"int","field-id":0},)"
    R"({"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},)"
    R"({"name":"sequence_number","type":["null","long"],"default":null,"field-id":3},)"
    R"({"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4},)"
    R"({"name":"data_file","type":{"type":"record","name":"r2","fields":[)"
    R"({"name":"content","type":"int","field-id":134},)"
    R"({"name":"file_path","type":"string","field-id":100},)"
    R"({"name":"file_format","type":"string","field-id":101},)"
    R"({"name":"partition","type":{"type":"record","name":"r102","fields":[]},"field-id":102},)"
    R"({"name":"record_count","type":"long","field-id":103},)"
    R"({"name":"file_size_in_bytes","type":"long","field-id":104},)"
    R"({"name":"column_sizes","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k117_v118","fields":[{"name":"key","type":"int","field-id":117},)"
    R"({"name":"value","type":"long","field-id":118}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":108},)"
    R"({"name":"value_counts","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k119_v120","fields":[{"name":"key","type":"int","field-id":119},)"
    R"({"name":"value","type":"long","field-id":120}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":109},)"
    R"({"name":"null_value_counts","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k121_v122","fields":[{"name":"key","type":"int","field-id":121},)"
    R"({"name":"value","type":"long","field-id":122}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":110},)"
    R"({"name":"nan_value_counts","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k138_v139","fields":[{"name":"key","type":"int","field-id":138},)"
    R"({"name":"value","type":"long","field-id":139}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":137},)"
    R"({"name":"lower_bounds","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k126_v127","fields":[{"name":"key","type":"int","field-id":126},)"
    R"({"name":"value","type":"bytes","field-id":127}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":125},)"
    R"({"name":"upper_bounds","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k129_v130","fields":[{"name":"key","type":"int","field-id":129},)"
    R"({"name":"value","type":"bytes","field-id":130}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":128},)"
    R"({"name":"equality_ids","type":["null",{"type":"array","items":"int","element-id":136}],)"
    R"("default":null,"field-id":135}]},"field-id":2}]})";

// The manifest_entry schema of manifests written before eddy recorded column sizes, NaN counts
// and bounds; still read (tables keep their old manifests), never written.
inline constexpr std::string_view kManifestEntrySchemaCountsOnly =
    R"({"type":"record","name":"manifest_entry","fields":[)"
    R"({"name":"status","type":"int","field-id":0},)"
    R"({"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},)"
    R"({"name":"sequence_number","type":["null","long"],"default":null,"field-id":3},)"
    R"({"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4},)"
    R"({"name":"data_file","type":{"type":"record","name":"r2","fields":[)"
    R"({"name":"content","type":"int","field-id":134},)"
    R"({"name":"file_path","type":"string","field-id":100},)"
    R"({"name":"file_format","type":"string","field-id":101},)"
    R"({"name":"partition","type":{"type":"record","name":"r102","fields":[]},"field-id":102},)"
    R"({"name":"record_count","type":"long","field-id":103},)"
    R"({"name":"file_size_in_bytes","type":"long","field-id":104},)"
    R"({"name":"value_counts","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k119_v120","fields":[{"name":"key","type":"int","field-id":119},)"
    R"({"name":"value","type":"long","field-id":120}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":109},)"
    R"({"name":"null_value_counts","type":["null",{"type":"array","items":{"type":"record",)"
    R"("name":"k121_v122","fields":[{"name":"key","type":"int","field-id":121},)"
    R"({"name":"value","type":"long","field-id":122}]},"logicalType":"map"}],)"
    R"("default":null,"field-id":110},)"
    R"({"name":"equality_ids","type":["null",{"type":"array","items":"int","element-id":136}],)"
    R"("default":null,"field-id":135}]},"field-id":2}]})";

}  // namespace eddy::iceberg
