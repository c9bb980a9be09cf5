#include "iceberg/manifest.h"

#include "avro/avro.h"
#include "iceberg/iceberg_format.h"

namespace eddy::iceberg {

namespace {

// A nullable map<int, long> or map<int, bytes> (an array of key/value records in Avro, as
// Iceberg writes maps with non-string keys); null when empty.
void WriteValue(avro::Encoder& encoder, int64_t value) { encoder.Long(value); }
void WriteValue(avro::Encoder& encoder, const std::string& value) { encoder.Bytes(value); }

template <typename V>
void WriteMap(avro::Encoder& encoder, const std::vector<std::pair<int32_t, V>>& entries) {
  if (entries.empty()) {
    encoder.UnionIndex(0);
    return;
  }
  encoder.UnionIndex(1);
  encoder.BeginBlock(static_cast<int64_t>(entries.size()));
  for (const auto& [id, value] : entries) {
    encoder.Int(id);
    WriteValue(encoder, value);
  }
  encoder.EndBlocks();
}

Status ReadValue(avro::Decoder& decoder, int64_t* value) {
  EDDY_ASSIGN_OR_RETURN(*value, decoder.Long());
  return Status::Ok();
}
Status ReadValue(avro::Decoder& decoder, std::string* value) {
  EDDY_ASSIGN_OR_RETURN(std::string_view bytes, decoder.Bytes());
  value->assign(bytes.data(), bytes.size());
  return Status::Ok();
}

template <typename V>
Result<std::vector<std::pair<int32_t, V>>> ReadMap(avro::Decoder& decoder) {
  std::vector<std::pair<int32_t, V>> entries;
  EDDY_ASSIGN_OR_RETURN(int64_t branch, decoder.UnionIndex(2));
  if (branch == 0) return entries;
  while (true) {
    EDDY_ASSIGN_OR_RETURN(int64_t count, decoder.BlockCount());
    if (count == 0) break;
    for (int64_t i = 0; i < count; ++i) {
      EDDY_ASSIGN_OR_RETURN(int32_t id, decoder.Int());
      V value{};
      EDDY_RETURN_IF_ERROR(ReadValue(decoder, &value));
      entries.emplace_back(id, std::move(value));
    }
  }
  return entries;
}

}  // namespace

Result<std::string> WriteManifest(const Schema& schema, int32_t content, int64_t snapshot_id,
                                  const std::vector<DataFile>& files) {
  if (content != kManifestData && content != kManifestDeletes) {
    return InvalidArgument("manifest content must be data (0) or deletes (1)");
  }
  avro::ContainerWriter writer(std::string(kManifestEntrySchema),
                               {{"schema", SchemaJson(schema)},
                                {"schema-id", std::to_string(schema.schema_id)},
                                {"partition-spec", "[]"},
                                {"partition-spec-id", "0"},
                                {"format-version", std::to_string(kFormatVersion)},
                                {"content", content == kManifestData ? "data" : "deletes"}});
  for (const DataFile& file : files) {
    if ((content == kManifestData) != (file.content == kContentData)) {
      return InvalidArgument("a manifest holds data files or delete files, never both");
    }
    avro::Encoder encoder;
    encoder.Int(kEntryAdded);
    encoder.UnionIndex(1);
    encoder.Long(snapshot_id);
    encoder.UnionIndex(0);  // sequence_number: inherited (ADDED)
    encoder.UnionIndex(0);  // file_sequence_number: inherited
    encoder.Int(file.content);
    encoder.String(file.file_path);
    encoder.String("PARQUET");
    // partition: an empty record encodes to nothing
    encoder.Long(file.record_count);
    encoder.Long(file.file_size_in_bytes);
    WriteMap(encoder, file.column_sizes);
    WriteMap(encoder, file.value_counts);
    WriteMap(encoder, file.null_value_counts);
    WriteMap(encoder, file.nan_value_counts);
    WriteMap(encoder, file.lower_bounds);
    WriteMap(encoder, file.upper_bounds);
    if (file.equality_ids.empty()) {
      encoder.UnionIndex(0);
    } else {
      encoder.UnionIndex(1);
      encoder.BeginBlock(static_cast<int64_t>(file.equality_ids.size()));
      for (int32_t id : file.equality_ids) encoder.Int(id);
      encoder.EndBlocks();
    }
    writer.Append(encoder.Take());
  }
  return writer.Finish();
}

Result<std::string> WriteManifestList(const std::vector<ManifestFile>& manifests,
                                      int64_t snapshot_id,
                                      std::optional<int64_t> parent_snapshot_id,
                                      int64_t sequence_number) {
  std::vector<std::pair<std::string, std::string>> metadata = {
      {"snapshot-id", std::to_string(snapshot_id)}};
  if (parent_snapshot_id) {
    metadata.emplace_back("parent-snapshot-id", std::to_string(*parent_snapshot_id));
  } else {
    metadata.emplace_back("parent-snapshot-id", "null");
  }
  metadata.emplace_back("sequence-number", std::to_string(sequence_number));
  metadata.emplace_back("format-version", std::to_string(kFormatVersion));
  avro::ContainerWriter writer(std::string(kManifestListSchema), std::move(metadata));
  for (const ManifestFile& manifest : manifests) {
    avro::Encoder encoder;
    encoder.String(manifest.manifest_path);
    encoder.Long(manifest.manifest_length);
    encoder.Int(manifest.partition_spec_id);
    encoder.Int(manifest.content);
    encoder.Long(manifest.sequence_number);
    encoder.Long(manifest.min_sequence_number);
    encoder.Long(manifest.added_snapshot_id);
    encoder.Int(manifest.added_files_count);
    encoder.Int(manifest.existing_files_count);
    encoder.Int(manifest.deleted_files_count);
    encoder.Long(manifest.added_rows_count);
    encoder.Long(manifest.existing_rows_count);
    encoder.Long(manifest.deleted_rows_count);
    writer.Append(encoder.Take());
  }
  return writer.Finish();
}

Result<std::vector<ManifestFile>> ReadManifestList(std::string_view file) {
  EDDY_ASSIGN_OR_RETURN(avro::Container container, avro::ReadContainer(file));
  if (container.metadata.at("avro.schema") != kManifestListSchema) {
    return FailedPrecondition(
        "the manifest list was not written by eddy (its Avro schema differs); eddy appends only "
        "to tables it maintains itself");
  }
  avro::Decoder decoder(container.records);
  std::vector<ManifestFile> manifests;
  for (uint64_t i = 0; i < container.record_count; ++i) {
    ManifestFile manifest;
    EDDY_ASSIGN_OR_RETURN(std::string_view path, decoder.String());
    manifest.manifest_path = std::string(path);
    EDDY_ASSIGN_OR_RETURN(manifest.manifest_length, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.partition_spec_id, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(manifest.content, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(manifest.sequence_number, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.min_sequence_number, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.added_snapshot_id, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.added_files_count, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(manifest.existing_files_count, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(manifest.deleted_files_count, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(manifest.added_rows_count, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.existing_rows_count, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(manifest.deleted_rows_count, decoder.Long());
    manifests.push_back(std::move(manifest));
  }
  if (!decoder.empty()) return Corruption("the manifest list has bytes after its last record");
  return manifests;
}

Result<std::vector<DataFile>> ReadManifest(std::string_view file) {
  EDDY_ASSIGN_OR_RETURN(avro::Container container, avro::ReadContainer(file));
  auto schema = container.metadata.find("avro.schema");
  if (schema == container.metadata.end() || (schema->second != kManifestEntrySchema &&
                                             schema->second != kManifestEntrySchemaCountsOnly)) {
    return FailedPrecondition(
        "the manifest was not written by eddy (its Avro schema differs); eddy maintains only "
        "tables it writes itself");
  }
  const bool has_metrics = schema->second == kManifestEntrySchema;
  avro::Decoder decoder(container.records);
  std::vector<DataFile> files;
  for (uint64_t i = 0; i < container.record_count; ++i) {
    EDDY_ASSIGN_OR_RETURN(int32_t status, decoder.Int());
    (void)status;
    for (int field = 0; field < 3; ++field) {  // snapshot_id, sequence numbers: union null/long
      EDDY_ASSIGN_OR_RETURN(int64_t branch, decoder.UnionIndex(2));
      if (branch == 1) EDDY_RETURN_IF_ERROR(decoder.Long().status());
    }
    DataFile data_file;
    EDDY_ASSIGN_OR_RETURN(data_file.content, decoder.Int());
    EDDY_ASSIGN_OR_RETURN(std::string_view path, decoder.String());
    data_file.file_path = std::string(path);
    EDDY_ASSIGN_OR_RETURN(std::string_view format, decoder.String());
    (void)format;
    EDDY_ASSIGN_OR_RETURN(data_file.record_count, decoder.Long());
    EDDY_ASSIGN_OR_RETURN(data_file.file_size_in_bytes, decoder.Long());
    if (has_metrics) {
      EDDY_ASSIGN_OR_RETURN(data_file.column_sizes, ReadMap<int64_t>(decoder));
    }
    EDDY_ASSIGN_OR_RETURN(data_file.value_counts, ReadMap<int64_t>(decoder));
    EDDY_ASSIGN_OR_RETURN(data_file.null_value_counts, ReadMap<int64_t>(decoder));
    if (has_metrics) {
      EDDY_ASSIGN_OR_RETURN(data_file.nan_value_counts, ReadMap<int64_t>(decoder));
      EDDY_ASSIGN_OR_RETURN(data_file.lower_bounds, ReadMap<std::string>(decoder));
      EDDY_ASSIGN_OR_RETURN(data_file.upper_bounds, ReadMap<std::string>(decoder));
    }
    EDDY_ASSIGN_OR_RETURN(int64_t has_ids, decoder.UnionIndex(2));
    if (has_ids == 1) {
      while (true) {
        EDDY_ASSIGN_OR_RETURN(int64_t count, decoder.BlockCount());
        if (count == 0) break;
        for (int64_t id = 0; id < count; ++id) {
          EDDY_ASSIGN_OR_RETURN(int32_t field_id, decoder.Int());
          data_file.equality_ids.push_back(field_id);
        }
      }
    }
    files.push_back(std::move(data_file));
  }
  if (!decoder.empty()) return Corruption("the manifest has bytes after its last record");
  return files;
}

}  // namespace eddy::iceberg
