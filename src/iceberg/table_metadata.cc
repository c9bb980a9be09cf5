#include "iceberg/table_metadata.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>

#include "format/json.h"
#include "iceberg/iceberg_format.h"
#include "parquet/writer.h"

namespace eddy::iceberg {

const Field* Schema::FindField(std::string_view name) const {
  for (const Field& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::optional<std::string> Snapshot::SummaryValue(std::string_view key) const {
  for (const auto& [name, value] : summary) {
    if (name == key) return value;
  }
  return std::nullopt;
}

const Schema* TableMetadata::CurrentSchema() const {
  for (const Schema& schema : schemas) {
    if (schema.schema_id == current_schema_id) return &schema;
  }
  return nullptr;
}

const Snapshot* TableMetadata::FindSnapshot(int64_t snapshot_id) const {
  for (const Snapshot& snapshot : snapshots) {
    if (snapshot.snapshot_id == snapshot_id) return &snapshot;
  }
  return nullptr;
}

const Snapshot* TableMetadata::CurrentSnapshot() const {
  return current_snapshot_id ? FindSnapshot(*current_snapshot_id) : nullptr;
}

const Snapshot* TableMetadata::HeadSnapshot() const {
  return staged_snapshot_id ? FindSnapshot(*staged_snapshot_id) : CurrentSnapshot();
}

namespace {

void WriteSchema(format::JsonWriter& json, const Schema& schema) {
  json.BeginObject();
  json.Member("type", "struct");
  json.MemberInt("schema-id", schema.schema_id);
  if (!schema.identifier_field_ids.empty()) {
    json.Key("identifier-field-ids");
    json.BeginArray();
    for (int32_t id : schema.identifier_field_ids) json.Int(id);
    json.EndArray();
  }
  json.Key("fields");
  json.BeginArray();
  for (const Field& field : schema.fields) {
    json.BeginObject();
    json.MemberInt("id", field.id);
    json.Member("name", field.name);
    json.Key("required");
    json.Bool(field.required);
    json.Member("type", field.type);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

}  // namespace

std::string SchemaJson(const Schema& schema) {
  format::JsonWriter json;
  WriteSchema(json, schema);
  return json.Take();
}

bool IsUnsigned64(const model::TableSchema& table, const model::Column& column) {
  return parquet::ColumnLayoutFor(table, column, parquet::WriterOptions{}).logical ==
         "INT(64,unsigned)";
}

model::TableSchema FileSchemaFor(const model::TableSchema& table, const Schema& schema) {
  model::TableSchema file_schema = table;
  for (model::Column& column : file_schema.columns) {
    const Field* field = schema.FindField(column.name);
    if (field == nullptr || field->type != kUnsigned64Type || !IsUnsigned64(table, column)) {
      continue;
    }
    column.type = model::ValueType::kDecimal;
    column.precision = 20;
    column.scale = 0;
  }
  return file_schema;
}

std::string IcebergTypeFor(const model::TableSchema& table, const model::Column& column,
                           const Field* existing) {
  parquet::ColumnLayout layout = parquet::ColumnLayoutFor(table, column, parquet::WriterOptions{});
  const std::string& logical = layout.logical;
  if (logical == "INT(64,unsigned)") {
    return existing != nullptr && existing->type == "long" ? "long" : std::string(kUnsigned64Type);
  }
  switch (layout.physical) {
    case parquet::PhysicalType::kBoolean:
      return "boolean";
    case parquet::PhysicalType::kInt32:
      if (logical == "DATE") return "date";
      if (logical.starts_with("DECIMAL(")) break;
      // An unsigned 32-bit column does not fit Iceberg's int; long holds every value.
      if (logical == "INT(32,unsigned)") return "long";
      return "int";
    case parquet::PhysicalType::kInt64:
      if (logical.starts_with("TIMESTAMP(") && logical.ends_with(",UTC)")) return "timestamptz";
      if (logical.starts_with("TIMESTAMP(")) return "timestamp";
      if (logical.starts_with("TIME(")) return "time";
      if (logical.starts_with("DECIMAL(")) break;
      return "long";
    case parquet::PhysicalType::kFloat:
      return "float";
    case parquet::PhysicalType::kDouble:
      return "double";
    case parquet::PhysicalType::kFixedLenByteArray:
      if (logical == "UUID") return "uuid";
      if (logical.starts_with("DECIMAL(")) break;
      return "fixed[" + std::to_string(layout.type_length) + "]";
    case parquet::PhysicalType::kByteArray:
      return logical == "BYTE_ARRAY" ? "binary" : "string";
  }
  // "DECIMAL(p,s)" -> "decimal(p, s)"
  std::string inner = logical.substr(8, logical.size() - 9);
  size_t comma = inner.find(',');
  return "decimal(" + inner.substr(0, comma) + ", " + inner.substr(comma + 1) + ")";
}

namespace {

// "decimal(P, S)" -> {P, S}; nullopt for other types.
std::optional<std::pair<int, int>> DecimalOf(std::string_view type) {
  int precision = 0;
  int scale = 0;
  if (std::sscanf(std::string(type).c_str(), "decimal(%d, %d)", &precision, &scale) != 2) {
    return std::nullopt;
  }
  return std::pair{precision, scale};
}

}  // namespace

bool IsAllowedPromotion(std::string_view from, std::string_view to) {
  if (from == to) return true;
  if (from == "int" && to == "long") return true;
  if (from == "float" && to == "double") return true;
  auto old_decimal = DecimalOf(from);
  auto new_decimal = DecimalOf(to);
  return old_decimal && new_decimal && old_decimal->second == new_decimal->second &&
         new_decimal->first >= old_decimal->first;
}

Schema SchemaFor(const model::TableSchema& table, const Schema* current, int32_t* last_column_id) {
  Schema schema;
  schema.schema_id = current == nullptr ? 0 : current->schema_id;
  // A rename: exactly one field of the current schema gone and one column new, at the same
  // position, with the same or a promotable type (what RENAME COLUMN produces).
  std::optional<size_t> renamed;
  if (current != nullptr) {
    std::vector<size_t> gone;
    std::vector<size_t> come;
    for (size_t i = 0; i < current->fields.size(); ++i) {
      if (table.FindColumn(current->fields[i].name) == nullptr) gone.push_back(i);
    }
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (current->FindField(table.columns[i].name) == nullptr) come.push_back(i);
    }
    if (gone.size() == 1 && come.size() == 1 && gone[0] == come[0] &&
        IsAllowedPromotion(
            current->fields[gone[0]].type,
            IcebergTypeFor(table, table.columns[come[0]], &current->fields[gone[0]]))) {
      renamed = come[0];
    }
  }
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const model::Column& column = table.columns[i];
    const Field* existing = nullptr;
    if (current != nullptr) {
      existing = renamed == i ? &current->fields[i] : current->FindField(column.name);
    }
    Field field;
    field.name = column.name;
    field.type = IcebergTypeFor(table, column, existing);
    // Only key columns are required: a NOT NULL column can still lack a value in a change
    // (an unchanged TOAST value the source did not send), which is written as NULL rather than
    // failing the commit.
    field.required = !column.nullable &&
                     std::find(table.primary_key.begin(), table.primary_key.end(), column.name) !=
                         table.primary_key.end();
    // The same column keeps its id through a rename and a type promotion (int -> long,
    // float -> double, a wider decimal); any other type change is a new column.
    if (existing != nullptr && IsAllowedPromotion(existing->type, field.type)) {
      field.id = existing->id;
    } else {
      field.id = ++*last_column_id;
    }
    schema.fields.push_back(std::move(field));
  }
  bool keyed = !table.primary_key.empty();
  std::vector<int32_t> ids;
  for (const std::string& name : table.primary_key) {
    const Field* field = schema.FindField(name);
    if (field == nullptr || !field->required) {
      keyed = false;
      break;
    }
    ids.push_back(field->id);
  }
  if (keyed) schema.identifier_field_ids = std::move(ids);
  if (current != nullptr && !schema.SameShape(*current)) schema.schema_id = current->schema_id + 1;
  return schema;
}

std::string TableMetadataJson(const TableMetadata& metadata) {
  format::JsonWriter json;
  json.BeginObject();
  json.MemberInt("format-version", kFormatVersion);
  json.Member("table-uuid", metadata.table_uuid);
  json.Member("location", metadata.location);
  json.MemberInt("last-sequence-number", metadata.last_sequence_number);
  json.MemberInt("last-updated-ms", metadata.last_updated_ms);
  json.MemberInt("last-column-id", metadata.last_column_id);
  json.MemberInt("current-schema-id", metadata.current_schema_id);
  json.Key("schemas");
  json.BeginArray();
  for (const Schema& schema : metadata.schemas) WriteSchema(json, schema);
  json.EndArray();
  json.MemberInt("default-spec-id", 0);
  json.Key("partition-specs");
  json.RawJson(R"([{"spec-id":0,"fields":[]}])");
  json.MemberInt("last-partition-id", kLastPartitionId);
  json.MemberInt("default-sort-order-id", 0);
  json.Key("sort-orders");
  json.RawJson(R"([{"order-id":0,"fields":[]}])");
  json.Key("properties");
  json.BeginObject();
  for (const auto& [key, value] : metadata.properties) json.Member(key, value);
  json.EndObject();
  json.MemberInt("current-snapshot-id", metadata.current_snapshot_id.value_or(-1));
  json.Key("refs");
  json.BeginObject();
  if (metadata.current_snapshot_id) {
    json.Key("main");
    json.BeginObject();
    json.MemberInt("snapshot-id", *metadata.current_snapshot_id);
    json.Member("type", "branch");
    json.EndObject();
  }
  if (metadata.staged_snapshot_id) {
    json.Key(kStagedBranch);
    json.BeginObject();
    json.MemberInt("snapshot-id", *metadata.staged_snapshot_id);
    json.Member("type", "branch");
    json.EndObject();
  }
  json.EndObject();
  json.Key("snapshots");
  json.BeginArray();
  for (const Snapshot& snapshot : metadata.snapshots) {
    json.BeginObject();
    json.MemberInt("snapshot-id", snapshot.snapshot_id);
    if (snapshot.parent_snapshot_id) {
      json.MemberInt("parent-snapshot-id", *snapshot.parent_snapshot_id);
    }
    json.MemberInt("sequence-number", snapshot.sequence_number);
    json.MemberInt("timestamp-ms", snapshot.timestamp_ms);
    json.Member("manifest-list", snapshot.manifest_list);
    json.Key("summary");
    json.BeginObject();
    for (const auto& [key, value] : snapshot.summary) json.Member(key, value);
    json.EndObject();
    json.MemberInt("schema-id", snapshot.schema_id);
    json.EndObject();
  }
  json.EndArray();
  json.Key("snapshot-log");
  json.BeginArray();
  for (const SnapshotLogEntry& entry : metadata.snapshot_log) {
    json.BeginObject();
    json.MemberInt("timestamp-ms", entry.timestamp_ms);
    json.MemberInt("snapshot-id", entry.snapshot_id);
    json.EndObject();
  }
  json.EndArray();
  json.Key("metadata-log");
  json.BeginArray();
  for (const MetadataLogEntry& entry : metadata.metadata_log) {
    json.BeginObject();
    json.MemberInt("timestamp-ms", entry.timestamp_ms);
    json.Member("metadata-file", entry.metadata_file);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return json.Take();
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

Status Bad(std::string_view what) {
  return Corruption("Iceberg table metadata: " + std::string(what));
}

Result<int64_t> GetInt(object parent, std::string_view key) {
  int64_t value = 0;
  if (parent[key].get_int64().get(value) != simdjson::SUCCESS) {
    return Bad("'" + std::string(key) + "' is missing or not an integer");
  }
  return value;
}

Result<std::string> GetString(object parent, std::string_view key) {
  std::string_view value;
  if (parent[key].get_string().get(value) != simdjson::SUCCESS) {
    return Bad("'" + std::string(key) + "' is missing or not a string");
  }
  return std::string(value);
}

Result<simdjson::dom::array> GetArray(object parent, std::string_view key) {
  simdjson::dom::array value;
  if (parent[key].get_array().get(value) != simdjson::SUCCESS) {
    return Bad("'" + std::string(key) + "' is missing or not an array");
  }
  return value;
}

Result<object> AsObject(element value, std::string_view what) {
  object result;
  if (value.get_object().get(result) != simdjson::SUCCESS) {
    return Bad(std::string(what) + " is not an object");
  }
  return result;
}

Result<Schema> ParseSchema(object json) {
  Schema schema;
  EDDY_ASSIGN_OR_RETURN(int64_t id, GetInt(json, "schema-id"));
  schema.schema_id = static_cast<int32_t>(id);
  simdjson::dom::array identifiers;
  if (json["identifier-field-ids"].get_array().get(identifiers) == simdjson::SUCCESS) {
    for (element value : identifiers) {
      int64_t field_id = 0;
      if (value.get_int64().get(field_id) != simdjson::SUCCESS) {
        return Bad("identifier-field-ids holds a non-integer");
      }
      schema.identifier_field_ids.push_back(static_cast<int32_t>(field_id));
    }
  }
  EDDY_ASSIGN_OR_RETURN(simdjson::dom::array fields, GetArray(json, "fields"));
  for (element value : fields) {
    EDDY_ASSIGN_OR_RETURN(object field_json, AsObject(value, "a schema field"));
    Field field;
    EDDY_ASSIGN_OR_RETURN(int64_t field_id, GetInt(field_json, "id"));
    field.id = static_cast<int32_t>(field_id);
    EDDY_ASSIGN_OR_RETURN(field.name, GetString(field_json, "name"));
    if (field_json["required"].get_bool().get(field.required) != simdjson::SUCCESS) {
      return Bad("field '" + field.name + "' has no boolean 'required'");
    }
    std::string_view type;
    if (field_json["type"].get_string().get(type) != simdjson::SUCCESS) {
      return FailedPrecondition("Iceberg field '" + field.name +
                                "' has a nested type; eddy writes flat tables only");
    }
    field.type = std::string(type);
    schema.fields.push_back(std::move(field));
  }
  return schema;
}

}  // namespace

Result<TableMetadata> ParseTableMetadata(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  element root;
  if (auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return Bad(std::string("not JSON: ") + simdjson::error_message(error));
  }
  EDDY_ASSIGN_OR_RETURN(object json, AsObject(root, "the document"));
  TableMetadata metadata;
  EDDY_ASSIGN_OR_RETURN(int64_t version, GetInt(json, "format-version"));
  if (version != kFormatVersion) {
    return FailedPrecondition("Iceberg table has format-version " + std::to_string(version) +
                              "; eddy writes format version 2 tables only");
  }
  EDDY_ASSIGN_OR_RETURN(metadata.table_uuid, GetString(json, "table-uuid"));
  EDDY_ASSIGN_OR_RETURN(metadata.location, GetString(json, "location"));
  EDDY_ASSIGN_OR_RETURN(metadata.last_sequence_number, GetInt(json, "last-sequence-number"));
  EDDY_ASSIGN_OR_RETURN(metadata.last_updated_ms, GetInt(json, "last-updated-ms"));
  EDDY_ASSIGN_OR_RETURN(int64_t last_column_id, GetInt(json, "last-column-id"));
  metadata.last_column_id = static_cast<int32_t>(last_column_id);
  EDDY_ASSIGN_OR_RETURN(int64_t schema_id, GetInt(json, "current-schema-id"));
  metadata.current_schema_id = static_cast<int32_t>(schema_id);
  EDDY_ASSIGN_OR_RETURN(simdjson::dom::array schemas, GetArray(json, "schemas"));
  for (element value : schemas) {
    EDDY_ASSIGN_OR_RETURN(object schema_json, AsObject(value, "a schema"));
    EDDY_ASSIGN_OR_RETURN(Schema schema, ParseSchema(schema_json));
    metadata.schemas.push_back(std::move(schema));
  }
  if (metadata.CurrentSchema() == nullptr) return Bad("current-schema-id names no schema");
  EDDY_ASSIGN_OR_RETURN(simdjson::dom::array specs, GetArray(json, "partition-specs"));
  for (element value : specs) {
    EDDY_ASSIGN_OR_RETURN(object spec, AsObject(value, "a partition spec"));
    EDDY_ASSIGN_OR_RETURN(simdjson::dom::array fields, GetArray(spec, "fields"));
    if (fields.size() != 0) {
      return FailedPrecondition("Iceberg table is partitioned; eddy writes unpartitioned tables");
    }
  }
  object properties;
  if (json["properties"].get_object().get(properties) == simdjson::SUCCESS) {
    for (auto [key, value] : properties) {
      std::string_view text_value;
      if (value.get_string().get(text_value) != simdjson::SUCCESS) {
        return Bad("property '" + std::string(key) + "' is not a string");
      }
      metadata.properties.emplace(std::string(key), std::string(text_value));
    }
  }
  int64_t current = -1;
  if (json["current-snapshot-id"].get_int64().get(current) == simdjson::SUCCESS && current != -1) {
    metadata.current_snapshot_id = current;
  }
  simdjson::dom::array snapshots;
  if (json["snapshots"].get_array().get(snapshots) == simdjson::SUCCESS) {
    for (element value : snapshots) {
      EDDY_ASSIGN_OR_RETURN(object snapshot_json, AsObject(value, "a snapshot"));
      Snapshot snapshot;
      EDDY_ASSIGN_OR_RETURN(snapshot.snapshot_id, GetInt(snapshot_json, "snapshot-id"));
      int64_t parent = 0;
      if (snapshot_json["parent-snapshot-id"].get_int64().get(parent) == simdjson::SUCCESS) {
        snapshot.parent_snapshot_id = parent;
      }
      EDDY_ASSIGN_OR_RETURN(snapshot.sequence_number, GetInt(snapshot_json, "sequence-number"));
      EDDY_ASSIGN_OR_RETURN(snapshot.timestamp_ms, GetInt(snapshot_json, "timestamp-ms"));
      EDDY_ASSIGN_OR_RETURN(snapshot.manifest_list, GetString(snapshot_json, "manifest-list"));
      int64_t snapshot_schema = 0;
      if (snapshot_json["schema-id"].get_int64().get(snapshot_schema) == simdjson::SUCCESS) {
        snapshot.schema_id = static_cast<int32_t>(snapshot_schema);
      }
      object summary;
      if (snapshot_json["summary"].get_object().get(summary) != simdjson::SUCCESS) {
        return Bad("a snapshot has no summary");
      }
      for (auto [key, summary_value] : summary) {
        std::string_view text_value;
        if (summary_value.get_string().get(text_value) != simdjson::SUCCESS) {
          return Bad("summary '" + std::string(key) + "' is not a string");
        }
        snapshot.summary.emplace_back(std::string(key), std::string(text_value));
      }
      metadata.snapshots.push_back(std::move(snapshot));
    }
  }
  if (metadata.current_snapshot_id && metadata.CurrentSnapshot() == nullptr) {
    return Bad("current-snapshot-id names no snapshot");
  }
  object refs;
  if (json["refs"].get_object().get(refs) == simdjson::SUCCESS) {
    object staged;
    if (refs[kStagedBranch].get_object().get(staged) == simdjson::SUCCESS) {
      EDDY_ASSIGN_OR_RETURN(int64_t staged_id, GetInt(staged, "snapshot-id"));
      if (metadata.FindSnapshot(staged_id) == nullptr) {
        return Bad("branch " + std::string(kStagedBranch) + " names no snapshot");
      }
      metadata.staged_snapshot_id = staged_id;
    }
  }
  simdjson::dom::array log;
  if (json["snapshot-log"].get_array().get(log) == simdjson::SUCCESS) {
    for (element value : log) {
      EDDY_ASSIGN_OR_RETURN(object entry, AsObject(value, "a snapshot-log entry"));
      SnapshotLogEntry parsed;
      EDDY_ASSIGN_OR_RETURN(parsed.timestamp_ms, GetInt(entry, "timestamp-ms"));
      EDDY_ASSIGN_OR_RETURN(parsed.snapshot_id, GetInt(entry, "snapshot-id"));
      metadata.snapshot_log.push_back(parsed);
    }
  }
  if (json["metadata-log"].get_array().get(log) == simdjson::SUCCESS) {
    for (element value : log) {
      EDDY_ASSIGN_OR_RETURN(object entry, AsObject(value, "a metadata-log entry"));
      MetadataLogEntry parsed;
      EDDY_ASSIGN_OR_RETURN(parsed.timestamp_ms, GetInt(entry, "timestamp-ms"));
      EDDY_ASSIGN_OR_RETURN(parsed.metadata_file, GetString(entry, "metadata-file"));
      metadata.metadata_log.push_back(std::move(parsed));
    }
  }
  return metadata;
}

}  // namespace eddy::iceberg
