#include "iceberg/table.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>

#include "iceberg/column_metrics.h"
#include "iceberg/iceberg_format.h"

namespace eddy::iceberg {

std::string MetadataKey(std::string_view table_key, int64_t version) {
  return std::string(table_key) + "/metadata/v" + std::to_string(version) + ".metadata.json";
}

std::string VersionHintKey(std::string_view table_key) {
  return std::string(table_key) + "/metadata/version-hint.text";
}

namespace {

uint64_t RandomBits() {
  static thread_local std::mt19937_64 generator{
      std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32)};
  return generator();
}

}  // namespace

std::string RandomUuid() {
  uint64_t high = RandomBits();
  uint64_t low = RandomBits();
  high = (high & ~0xF000ull) | 0x4000ull;
  low = (low & ~(0xC000ull << 48)) | (0x8000ull << 48);
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
  return text;
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Keeps the fields of `row` that name a column of `table` (images decoded with an older schema
// version may hold a column dropped since).
model::Row Project(const model::Row& row, const model::TableSchema& table) {
  model::Row projected;
  projected.reserve(row.size());
  for (const model::Field& field : row) {
    if (table.FindColumn(field.name) != nullptr) projected.push_back(field);
  }
  return projected;
}

struct WrittenFile {
  std::string bytes;
  parquet::FileSummary summary;
};

Result<WrittenFile> WriteParquet(const model::TableSchema& file_schema,
                                 const Schema& iceberg_schema,
                                 const std::vector<const model::Row*>& rows,
                                 const model::TableSchema& table, const CommitOptions& options) {
  parquet::WriterOptions writer_options;
  writer_options.compression = options.compression;
  for (const model::Column& column : file_schema.columns) {
    const Field* field = iceberg_schema.FindField(column.name);
    if (field == nullptr) return Internal("column '" + column.name + "' has no Iceberg field");
    writer_options.field_ids.push_back(field->id);
  }
  writer_options.key_value_metadata.emplace_back("iceberg.schema", SchemaJson(iceberg_schema));
  WrittenFile file;
  EDDY_ASSIGN_OR_RETURN(
      auto writer, parquet::ParquetWriter::OpenBuffer(file_schema, writer_options, &file.bytes));
  for (const model::Row* row : rows) {
    EDDY_RETURN_IF_ERROR(writer->AppendRow(Project(*row, table)));
  }
  EDDY_ASSIGN_OR_RETURN(file.summary, writer->Finish());
  return file;
}

// The model schemas of a table's equality-delete files (its key columns) and data files, as
// the writer lays them out for the Iceberg schema `schema`.
Result<model::TableSchema> KeyFileSchema(const model::TableSchema& table, const Schema& schema) {
  model::TableSchema key_schema;
  key_schema.table = table.table;
  key_schema.version = table.version;
  for (const std::string& name : table.primary_key) {
    const model::Column* column = table.FindColumn(name);
    if (column == nullptr) return Internal("primary key column '" + name + "' is not a column");
    key_schema.columns.push_back(*column);
  }
  key_schema.primary_key = table.primary_key;
  return FileSchemaFor(key_schema, schema);
}

// The file's columns are OPTIONAL unless the Iceberg field is required (key columns).
model::TableSchema DataFileSchema(const model::TableSchema& table, const Schema& schema) {
  model::TableSchema file_schema = FileSchemaFor(table, schema);
  for (model::Column& column : file_schema.columns) {
    const Field* field = schema.FindField(column.name);
    column.nullable = field == nullptr || !field->required;
  }
  return file_schema;
}

// The indexes of `rows` whose values do not fit `file_schema`, with the writer's reason and the
// first column at fault. One writer takes the rows until one is refused, then a fresh one
// continues after it; a refused row is written again column by column to name the column.
Status FindUnconvertibleRows(const model::TableSchema& file_schema,
                             const std::vector<const model::Row*>& rows,
                             const model::TableSchema& projection, bool is_key,
                             std::vector<Unconvertible>* found) {
  parquet::WriterOptions options;
  options.compression = parquet::Compression::kNone;
  std::string scratch;
  std::unique_ptr<parquet::ParquetWriter> writer;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (writer == nullptr || writer->row_count() >= 10'000) {
      EDDY_ASSIGN_OR_RETURN(writer,
                            parquet::ParquetWriter::OpenBuffer(file_schema, options, &scratch));
    }
    const model::Row row = Project(*rows[i], projection);
    Status appended = writer->AppendRow(row);
    if (appended.ok()) continue;
    if (appended.code() != ErrorCode::kInvalidArgument) return appended;
    writer.reset();  // unusable after a refused value
    Unconvertible bad{is_key, i, "", appended};
    for (const model::Column& column : file_schema.columns) {
      const model::Value* value = model::FindField(row, column.name);
      if (value == nullptr) continue;
      model::TableSchema one = file_schema;
      one.columns = {column};
      one.primary_key.clear();
      std::string bytes;
      EDDY_ASSIGN_OR_RETURN(auto single, parquet::ParquetWriter::OpenBuffer(one, options, &bytes));
      Status alone = single->AppendRow({model::Field{column.name, *value}});
      if (!alone.ok()) {
        bad.column = column.name;
        bad.reason = alone;
        break;
      }
    }
    found->push_back(std::move(bad));
  }
  return Status::Ok();
}

DataFile Describe(int32_t content, std::string path, const Schema& schema,
                  const WrittenFile& file) {
  DataFile data_file;
  data_file.content = content;
  data_file.file_path = std::move(path);
  data_file.record_count = static_cast<int64_t>(file.summary.row_count);
  data_file.file_size_in_bytes = static_cast<int64_t>(file.summary.file_bytes);
  SetColumnMetrics(schema, file.summary, &data_file);
  return data_file;
}

}  // namespace

std::string Catalog::Location(std::string_view table_key) const {
  return store_->Describe(table_key);
}

Result<std::string> Catalog::KeyOfUri(std::string_view uri) const {
  std::string root = store_->Describe("");
  if (!uri.starts_with(root)) {
    return FailedPrecondition(std::string(uri) + " is not in this warehouse (" + root + ")");
  }
  return std::string(uri.substr(root.size()));
}

Result<std::optional<int64_t>> HadoopCatalog::LatestVersion(std::string_view table_key) {
  int64_t version = 0;
  hint_behind_ = false;
  auto hint = store_->Get(VersionHintKey(table_key));
  if (hint.ok()) {
    std::string_view text = *hint;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (error != std::errc() || end != text.data() + text.size() || version < 0) version = 0;
  } else if (hint.status().code() != ErrorCode::kNotFound) {
    return hint.status();
  }
  // The hint may be behind (a crash after a commit point, a hint written by an older writer):
  // the latest version is the last v<N> that exists after it.
  while (true) {
    EDDY_ASSIGN_OR_RETURN(auto next, store_->Head(MetadataKey(table_key, version + 1)));
    if (!next) break;
    ++version;
    hint_behind_ = true;
  }
  if (version == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(version);
}

Result<std::optional<LoadedTable>> HadoopCatalog::Load(std::string_view table_key) {
  EDDY_ASSIGN_OR_RETURN(std::optional<int64_t> version, LatestVersion(table_key));
  if (!version) return std::optional<LoadedTable>();
  std::string key = MetadataKey(table_key, *version);
  EDDY_ASSIGN_OR_RETURN(std::string json, store_->Get(key));
  auto metadata = ParseTableMetadata(json);
  if (!metadata.ok()) return metadata.status().WithContext(store_->Describe(key));
  if (hint_behind_) {
    // Readers that follow the hint (icebird) see the latest version too.
    EDDY_RETURN_IF_ERROR(store_->Put(VersionHintKey(table_key), std::to_string(*version)));
  }
  return std::optional<LoadedTable>(
      LoadedTable{*version, std::move(metadata).value(), store_->Describe(key)});
}

Result<LoadedTable> Catalog::CommitDelta(std::string_view table_key,
                                         const std::optional<LoadedTable>& current,
                                         const model::TableSchema& table, const Delta& delta,
                                         const CommitOptions& options) {
  const int64_t now_ms = options.now_ms != 0 ? options.now_ms : NowMs();
  TableMetadata metadata;
  int64_t version = 1;
  if (current) {
    metadata = current->metadata;
    version = current->version + 1;
  } else {
    metadata.table_uuid = RandomUuid();
    metadata.location = Location(table_key);
    metadata.properties["write.format.default"] = "parquet";
    metadata.properties["write.delete.mode"] = "merge-on-read";
    metadata.properties["write.update.mode"] = "merge-on-read";
  }
  const Schema* current_schema = metadata.CurrentSchema();
  Schema schema = SchemaFor(table, current_schema, &metadata.last_column_id);
  if (current_schema == nullptr || !schema.SameShape(*current_schema)) {
    if (current_schema != nullptr)
      schema.schema_id = 1 + [&] {
        int32_t highest = 0;
        for (const Schema& existing : metadata.schemas)
          highest = std::max(highest, existing.schema_id);
        return highest;
      }();
    metadata.schemas.push_back(schema);
    metadata.current_schema_id = schema.schema_id;
  } else {
    schema.schema_id = current_schema->schema_id;
  }

  const int64_t sequence = metadata.last_sequence_number + 1;
  const int64_t snapshot_id = static_cast<int64_t>(RandomBits() >> 1);
  const std::string uuid = RandomUuid();
  const std::string prefix = std::string(table_key) + "/";
  const std::string file_stem = std::to_string(sequence) + "-" + uuid;

  // Keep the previous snapshot's manifests (the table's whole content) in the new list.
  std::vector<ManifestFile> manifests;
  const Snapshot* parent = metadata.HeadSnapshot();
  if (parent != nullptr) {
    std::string list_key =
        prefix + "metadata/" + parent->manifest_list.substr(parent->manifest_list.rfind('/') + 1);
    EDDY_ASSIGN_OR_RETURN(std::string list, store_->Get(list_key));
    auto read = ReadManifestList(list);
    if (!read.ok()) return read.status().WithContext(store_->Describe(list_key));
    manifests = std::move(read).value();
  }

  std::vector<std::string> written;  // deleted again when another writer commits first
  auto put_file = [&](const std::string& key, std::string_view bytes) -> Status {
    Status put = store_->Put(key, bytes);
    if (!put.ok()) return put.WithContext("writing " + store_->Describe(key));
    written.push_back(key);
    return Status::Ok();
  };
  auto discard = [&] {
    for (const std::string& key : written) (void)store_->Delete(key);
    written.clear();
  };
  auto add_manifest = [&](int32_t content, const DataFile& file, int index) -> Status {
    EDDY_ASSIGN_OR_RETURN(std::string bytes, WriteManifest(schema, content, snapshot_id, {file}));
    std::string key = prefix + "metadata/" + uuid + "-m" + std::to_string(index) + ".avro";
    EDDY_RETURN_IF_ERROR(put_file(key, bytes));
    ManifestFile manifest;
    manifest.manifest_path = store_->Describe(key);
    manifest.manifest_length = static_cast<int64_t>(bytes.size());
    manifest.content = content;
    manifest.sequence_number = sequence;
    manifest.min_sequence_number = sequence;
    manifest.added_snapshot_id = snapshot_id;
    manifest.added_files_count = 1;
    manifest.added_rows_count = file.record_count;
    manifests.push_back(std::move(manifest));
    return Status::Ok();
  };

  int64_t added_records = 0;
  int added_data_files = 0;
  int64_t added_deletes = 0;
  int64_t added_files_size = 0;
  if (!delta.deleted_keys.empty() && !schema.identifier_field_ids.empty()) {
    EDDY_ASSIGN_OR_RETURN(model::TableSchema key_schema, KeyFileSchema(table, schema));
    Schema delete_schema;
    delete_schema.schema_id = schema.schema_id;
    for (const std::string& name : table.primary_key) {
      delete_schema.fields.push_back(*schema.FindField(name));
    }
    auto written_keys =
        WriteParquet(key_schema, delete_schema, delta.deleted_keys, key_schema, options);
    if (!written_keys.ok()) {
      discard();
      return written_keys.status();
    }
    WrittenFile file = std::move(written_keys).value();
    std::string key = prefix + "data/" + file_stem + "-deletes.parquet";
    EDDY_RETURN_IF_ERROR(put_file(key, file.bytes));
    DataFile data_file =
        Describe(kContentEqualityDeletes, store_->Describe(key), delete_schema, file);
    data_file.equality_ids = schema.identifier_field_ids;
    added_deletes = data_file.record_count;
    added_files_size += data_file.file_size_in_bytes;
    EDDY_RETURN_IF_ERROR(add_manifest(kManifestDeletes, data_file, 1));
  }
  bool has_data_manifest = false;
  for (const ManifestFile& manifest : manifests)
    has_data_manifest |= manifest.content == kManifestData;
  if (!delta.rows.empty() || !has_data_manifest) {
    // Readers such as icebird need a data manifest in every snapshot: the first one gets a
    // data file even when it has no rows.
    const model::TableSchema file_schema = DataFileSchema(table, schema);
    auto written_rows = WriteParquet(file_schema, schema, delta.rows, file_schema, options);
    if (!written_rows.ok()) {
      // A value that does not convert (kInvalidArgument; FindUnconvertible names the rows):
      // nothing of this commit stays behind.
      discard();
      return written_rows.status();
    }
    WrittenFile file = std::move(written_rows).value();
    std::string key = prefix + "data/" + file_stem + "-data.parquet";
    EDDY_RETURN_IF_ERROR(put_file(key, file.bytes));
    DataFile data_file = Describe(kContentData, store_->Describe(key), schema, file);
    added_records = data_file.record_count;
    added_data_files = 1;
    added_files_size += data_file.file_size_in_bytes;
    EDDY_RETURN_IF_ERROR(add_manifest(kManifestData, data_file, 0));
  }

  std::optional<int64_t> parent_id;
  if (parent != nullptr) parent_id = parent->snapshot_id;
  EDDY_ASSIGN_OR_RETURN(std::string list,
                        WriteManifestList(manifests, snapshot_id, parent_id, sequence));
  std::string list_key =
      prefix + "metadata/snap-" + std::to_string(snapshot_id) + "-1-" + uuid + ".avro";
  EDDY_RETURN_IF_ERROR(put_file(list_key, list));

  Snapshot snapshot;
  snapshot.snapshot_id = snapshot_id;
  snapshot.parent_snapshot_id = parent_id;
  snapshot.sequence_number = sequence;
  snapshot.timestamp_ms = now_ms;
  snapshot.manifest_list = store_->Describe(list_key);
  snapshot.schema_id = schema.schema_id;
  snapshot.summary.emplace_back("operation", added_deletes > 0 ? "overwrite" : "append");
  snapshot.summary.emplace_back("added-data-files", std::to_string(added_data_files));
  snapshot.summary.emplace_back("added-records", std::to_string(added_records));
  snapshot.summary.emplace_back("added-delete-files", added_deletes > 0 ? "1" : "0");
  snapshot.summary.emplace_back("added-equality-deletes", std::to_string(added_deletes));
  snapshot.summary.emplace_back("added-files-size", std::to_string(added_files_size));
  for (const auto& entry : delta.summary) snapshot.summary.push_back(entry);

  metadata.snapshots.push_back(std::move(snapshot));
  if (options.publish) {
    metadata.snapshot_log.push_back(SnapshotLogEntry{now_ms, snapshot_id});
    metadata.current_snapshot_id = snapshot_id;
    metadata.staged_snapshot_id.reset();
  } else {
    metadata.staged_snapshot_id = snapshot_id;
  }
  metadata.last_sequence_number = sequence;
  metadata.last_updated_ms = now_ms;
  auto committed = WriteVersion(table_key, current, std::move(metadata), version);
  if (!committed.ok() && committed.status().code() == ErrorCode::kAborted) {
    // No version names the files just written: delete them (best effort; what remains is
    // left to `eddy lake remove-orphans`).
    discard();
  }
  return committed;
}

Result<std::vector<Unconvertible>> FindUnconvertible(const std::optional<LoadedTable>& current,
                                                     const model::TableSchema& table,
                                                     const Delta& delta) {
  // The schema CommitDelta would write with (SchemaFor on a copy of the column id counter).
  int32_t last_column_id = current ? current->metadata.last_column_id : 0;
  const Schema* current_schema = current ? current->metadata.CurrentSchema() : nullptr;
  const Schema schema = SchemaFor(table, current_schema, &last_column_id);
  std::vector<Unconvertible> found;
  if (!delta.deleted_keys.empty() && !schema.identifier_field_ids.empty()) {
    EDDY_ASSIGN_OR_RETURN(model::TableSchema key_schema, KeyFileSchema(table, schema));
    EDDY_RETURN_IF_ERROR(
        FindUnconvertibleRows(key_schema, delta.deleted_keys, key_schema, true, &found));
  }
  const model::TableSchema file_schema = DataFileSchema(table, schema);
  EDDY_RETURN_IF_ERROR(FindUnconvertibleRows(file_schema, delta.rows, file_schema, false, &found));
  return found;
}

Result<LoadedTable> Catalog::PublishStaged(std::string_view table_key, const LoadedTable& current,
                                           const CommitOptions& options) {
  if (!current.metadata.staged_snapshot_id) {
    return FailedPrecondition("table " + Location(table_key) + " has no staged snapshot");
  }
  const int64_t now_ms = options.now_ms != 0 ? options.now_ms : NowMs();
  TableMetadata metadata = current.metadata;
  metadata.current_snapshot_id = metadata.staged_snapshot_id;
  metadata.staged_snapshot_id.reset();
  metadata.snapshot_log.push_back(SnapshotLogEntry{now_ms, *metadata.current_snapshot_id});
  metadata.last_updated_ms = now_ms;
  return WriteVersion(table_key, current, std::move(metadata), current.version + 1);
}

Result<LoadedTable> HadoopCatalog::WriteVersion(std::string_view table_key,
                                                const std::optional<LoadedTable>& current,
                                                TableMetadata metadata, int64_t version) {
  if (current) {
    metadata.metadata_log.push_back(
        MetadataLogEntry{current->metadata.last_updated_ms,
                         store_->Describe(MetadataKey(table_key, current->version))});
    if (metadata.metadata_log.size() > kMaxMetadataLog) {
      metadata.metadata_log.erase(metadata.metadata_log.begin(),
                                  metadata.metadata_log.end() - kMaxMetadataLog);
    }
  }
  objstore::PutOptions commit;
  commit.if_none_match = true;
  commit.content_type = "application/json";
  std::string metadata_key = MetadataKey(table_key, version);
  Status published = store_->Put(metadata_key, TableMetadataJson(metadata), commit);
  if (published.code() == ErrorCode::kAlreadyExists) {
    return Aborted("another writer committed " + store_->Describe(metadata_key) +
                   " first; reload the table and commit again");
  }
  if (!published.ok()) return published.WithContext("committing " + store_->Describe(metadata_key));
  // After the commit point: a failure here leaves the hint behind, which Load repairs.
  Status hinted = store_->Put(VersionHintKey(table_key), std::to_string(version));
  if (!hinted.ok())
    return hinted.WithContext("writing " + store_->Describe(VersionHintKey(table_key)));
  std::string location = store_->Describe(metadata_key);
  return LoadedTable{version, std::move(metadata), std::move(location)};
}

void Catalog::AppendMetadataLog(TableMetadata& metadata,
                                const std::optional<LoadedTable>& current) {
  if (!current) return;
  metadata.metadata_log.push_back(
      MetadataLogEntry{current->metadata.last_updated_ms, current->metadata_location});
  if (metadata.metadata_log.size() > kMaxMetadataLog) {
    metadata.metadata_log.erase(metadata.metadata_log.begin(),
                                metadata.metadata_log.end() - kMaxMetadataLog);
  }
}

Result<std::vector<std::string>> HadoopCatalog::ListTables(std::string_view prefix) {
  static constexpr std::string_view kFirstVersionSuffix = "/metadata/v1.metadata.json";
  std::vector<std::string> tables;
  std::string continuation;
  do {
    EDDY_ASSIGN_OR_RETURN(objstore::ListPage page, store_->List(prefix, "", continuation));
    for (const objstore::ObjectInfo& object : page.objects) {
      if (!object.key.ends_with(kFirstVersionSuffix)) continue;
      tables.push_back(object.key.substr(0, object.key.size() - kFirstVersionSuffix.size()));
    }
    continuation = std::move(page.continuation);
  } while (!continuation.empty());
  return tables;
}

}  // namespace eddy::iceberg
