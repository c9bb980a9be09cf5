// Iceberg v2 table metadata (metadata.json) and schemas: the in-memory form, its JSON, and the
// Iceberg schema of a source table taken from the source catalog (model::TableSchema).
//
// Field ids are stable: SchemaFor reuses the id of a column whose name is unchanged in the
// table's current schema and whose Iceberg type is the same or an allowed promotion of it
// (int -> long, float -> double, decimal(P, S) -> decimal(P', S) with P' >= P); a renamed
// column (one field gone and one column new at the same position, same or promotable type)
// keeps its id under the new name; every other column gets the next id after
// `last-column-id` (a dropped column's id is never reused). Key columns that are NOT NULL are
// required, every other column optional; identifier-field-ids are the primary key's field ids
// when every key column is required.
//
// Plain value types; no I/O. ParseTableMetadata accepts what eddy writes (format version 2,
// primitive types, unpartitioned, unsorted) and refuses anything else with kFailedPrecondition
// naming what it cannot handle; malformed JSON is kCorruption.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/schema.h"

namespace eddy::iceberg {

struct Field {
  int32_t id = 0;
  std::string name;
  bool required = false;
  std::string type;  // an Iceberg primitive: "long", "decimal(10, 2)", "timestamptz", ...
  bool operator==(const Field&) const = default;
};

struct Schema {
  int32_t schema_id = 0;
  std::vector<Field> fields;
  std::vector<int32_t> identifier_field_ids;
  const Field* FindField(std::string_view name) const;
  // Same fields and identifier ids (schema ids aside).
  bool SameShape(const Schema& other) const {
    return fields == other.fields && identifier_field_ids == other.identifier_field_ids;
  }
};

// The schema JSON object ({"type":"struct","schema-id":..,"fields":[..]}), as metadata.json,
// manifests and Parquet's "iceberg.schema" key hold it.
std::string SchemaJson(const Schema& schema);

// The Iceberg type of a source column, following the Parquet writer's layout of it
// (parquet::ColumnLayoutFor; docs/formats/iceberg.md has the table). A 64-bit unsigned column
// (MySQL/MariaDB BIGINT UNSIGNED) is decimal(20, 0), the only Iceberg type that holds every
// value (`long` would read values above 2^63 - 1 as negative), except when `existing`, the
// table's field for the column, is `long` already: a field never changes type silently, so
// such a column (a table made before eddy mapped it to decimal, or an INT UNSIGNED or signed
// BIGINT column altered to BIGINT UNSIGNED) stays `long` (docs/sinks/iceberg.md).
inline constexpr std::string_view kUnsigned64Type = "decimal(20, 0)";
std::string IcebergTypeFor(const model::TableSchema& table, const model::Column& column,
                           const Field* existing = nullptr);

// True for a column the Parquet writer lays out as INT(64,unsigned).
bool IsUnsigned64(const model::TableSchema& table, const model::Column& column);

// `table` as the Parquet files of an Iceberg table of `schema` hold it: a 64-bit unsigned column
// whose field is decimal(20, 0) becomes a DECIMAL(20, 0) column (the writer takes its integer
// values); every other column is unchanged.
model::TableSchema FileSchemaFor(const model::TableSchema& table, const Schema& schema);

// True when Iceberg allows a field of type `from` to become `to` (equal types included).
bool IsAllowedPromotion(std::string_view from, std::string_view to);

// The Iceberg schema of `table`: ids reused from `current` (when given) by name and type, new
// ids after *last_column_id (updated). schema_id is current's + 1 when the shape changed.
Schema SchemaFor(const model::TableSchema& table, const Schema* current, int32_t* last_column_id);

struct Snapshot {
  int64_t snapshot_id = 0;
  std::optional<int64_t> parent_snapshot_id;
  int64_t sequence_number = 0;
  int64_t timestamp_ms = 0;
  std::string manifest_list;  // full URI
  int32_t schema_id = 0;
  // "operation" first, then the rest (eddy.sink, eddy.checkpoint, counts).
  std::vector<std::pair<std::string, std::string>> summary;
  std::optional<std::string> SummaryValue(std::string_view key) const;
};

struct SnapshotLogEntry {
  int64_t timestamp_ms = 0;
  int64_t snapshot_id = 0;
};
struct MetadataLogEntry {
  int64_t timestamp_ms = 0;
  std::string metadata_file;  // full URI
};

// Kept in metadata-log at most (Java's write.metadata.previous-versions-max default).
inline constexpr size_t kMaxMetadataLog = 100;

struct TableMetadata {
  std::string table_uuid;
  std::string location;  // full URI of the table directory, no trailing '/'
  int64_t last_sequence_number = 0;
  int64_t last_updated_ms = 0;
  int32_t last_column_id = 0;
  std::vector<Schema> schemas;
  int32_t current_schema_id = 0;
  std::map<std::string, std::string> properties;
  std::optional<int64_t> current_snapshot_id;  // the `main` branch: what readers see
  // The head of the `eddy-staged` branch: a snapshot committed on top of main that holds the
  // first part of a source transaction not yet known to be complete. Readers of main do not
  // see it; the writer's next commit builds on it and publishes main once the transaction is
  // whole (docs/sinks/iceberg.md, "Transactions").
  std::optional<int64_t> staged_snapshot_id;
  std::vector<Snapshot> snapshots;
  std::vector<SnapshotLogEntry> snapshot_log;
  std::vector<MetadataLogEntry> metadata_log;

  const Schema* CurrentSchema() const;
  const Snapshot* CurrentSnapshot() const;
  const Snapshot* FindSnapshot(int64_t snapshot_id) const;
  // Where the next commit builds: the staged snapshot when there is one, else main's.
  const Snapshot* HeadSnapshot() const;
};

// The branch that holds a staged snapshot (refs in metadata.json).
inline constexpr std::string_view kStagedBranch = "eddy-staged";

std::string TableMetadataJson(const TableMetadata& metadata);
Result<TableMetadata> ParseTableMetadata(std::string_view json);

}  // namespace eddy::iceberg
