#include "iceberg/compact.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <unordered_map>

#include "iceberg/column_metrics.h"
#include "iceberg/iceberg_format.h"
#include "parquet/reader.h"

namespace eddy::iceberg {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t RandomSnapshotId() {
  static thread_local std::mt19937_64 generator{
      std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32)};
  return static_cast<int64_t>(generator() >> 1);
}

// A file of the snapshot with the sequence number its rows (or deletes) carry.
struct PlannedFile {
  DataFile file;
  int64_t sequence_number = 0;
};

struct Plan {
  std::vector<PlannedFile> data;
  std::vector<PlannedFile> deletes;
};

Result<Plan> PlanFiles(Catalog& catalog, const Snapshot& snapshot) {
  objstore::ObjectStore& store = *catalog.store();
  EDDY_ASSIGN_OR_RETURN(std::string list_key, catalog.KeyOfUri(snapshot.manifest_list));
  EDDY_ASSIGN_OR_RETURN(std::string list, store.Get(list_key));
  auto manifests = ReadManifestList(list);
  if (!manifests.ok()) return manifests.status().WithContext(snapshot.manifest_list);
  Plan plan;
  for (const ManifestFile& manifest : *manifests) {
    EDDY_ASSIGN_OR_RETURN(std::string key, catalog.KeyOfUri(manifest.manifest_path));
    EDDY_ASSIGN_OR_RETURN(std::string bytes, store.Get(key));
    auto files = ReadManifest(bytes);
    if (!files.ok()) return files.status().WithContext(manifest.manifest_path);
    // Entries eddy writes inherit the manifest's sequence number (manifest.h).
    for (DataFile& file : *files) {
      PlannedFile planned{std::move(file), manifest.sequence_number};
      if (planned.file.content == kContentData) {
        plan.data.push_back(std::move(planned));
      } else if (planned.file.content == kContentEqualityDeletes) {
        plan.deletes.push_back(std::move(planned));
      } else {
        return FailedPrecondition(manifest.manifest_path +
                                  " holds position deletes, which eddy does not compact");
      }
    }
  }
  // Newest data first: the output's column layouts follow the newest file (see Open below).
  std::stable_sort(plan.data.begin(), plan.data.end(),
                   [](const PlannedFile& a, const PlannedFile& b) {
                     return a.sequence_number > b.sequence_number;
                   });
  return plan;
}

// Values compared as the column type compares them: integers of any width and signedness
// alike, float as double.
model::Value Normalized(const model::Value& value) {
  if (const uint64_t* u = value.TryGet<uint64_t>()) {
    if (*u <= static_cast<uint64_t>(INT64_MAX))
      return model::Value::Int64(static_cast<int64_t>(*u));
  }
  if (const float* f = value.TryGet<float>()) return model::Value::Float64(*f);
  if (const model::JsonValue* json = value.TryGet<model::JsonValue>()) {
    return model::Value::Text(json->text);
  }
  return value;
}

std::string KeyText(const std::vector<const model::Value*>& values) {
  std::string key;
  for (const model::Value* value : values) {
    std::string text =
        value == nullptr ? std::string("\x01null") : Normalized(*value).CanonicalText();
    key += std::to_string(text.size());
    key += ':';
    key += text;
  }
  return key;
}

// Equality deletes grouped by their equality ids: key text -> the highest sequence number
// that deletes it.
using DeleteIndex = std::map<std::vector<int32_t>, std::unordered_map<std::string, int64_t>>;

Result<parquet::ParquetReader> OpenFile(const std::string& uri, const std::string& bytes) {
  auto reader = parquet::ParquetReader::Open(bytes);
  if (!reader.ok()) return reader.status().WithContext(uri);
  return reader;
}

Status IndexDeletes(Catalog& catalog, const PlannedFile& planned, DeleteIndex& index) {
  const DataFile& file = planned.file;
  if (file.equality_ids.empty()) {
    return FailedPrecondition(file.file_path + " is an equality-delete file without equality ids");
  }
  EDDY_ASSIGN_OR_RETURN(std::string key, catalog.KeyOfUri(file.file_path));
  EDDY_ASSIGN_OR_RETURN(std::string bytes, catalog.store()->Get(key));
  EDDY_ASSIGN_OR_RETURN(parquet::ParquetReader reader, OpenFile(file.file_path, bytes));
  std::vector<size_t> columns;
  for (int32_t id : file.equality_ids) {
    auto column = reader.ColumnWithFieldId(id);
    if (!column) {
      return FailedPrecondition(file.file_path + " has no column of equality field id " +
                                std::to_string(id));
    }
    columns.push_back(*column);
  }
  auto& keys = index[file.equality_ids];
  for (size_t group = 0; group < reader.row_group_count(); ++group) {
    std::vector<std::vector<model::Value>> values;
    for (size_t column : columns) {
      auto read = reader.ReadColumn(group, column);
      if (!read.ok()) return read.status().WithContext(file.file_path);
      values.push_back(std::move(read).value());
    }
    const size_t rows = values.empty() ? 0 : values.front().size();
    std::vector<const model::Value*> key_values(columns.size());
    for (size_t row = 0; row < rows; ++row) {
      for (size_t i = 0; i < columns.size(); ++i) key_values[i] = &values[i][row];
      int64_t& sequence = keys[KeyText(key_values)];
      sequence = std::max(sequence, planned.sequence_number);
    }
  }
  return Status::Ok();
}

// The source-catalog column eddy's writer turns into an Iceberg field of `type` (the inverse
// of IcebergTypeFor); `unsigned_64` when the newest file holds the field as INT(64,unsigned).
Result<model::Column> ColumnFor(const Field& field, bool is_unsigned) {
  model::Column column;
  column.name = field.name;
  column.nullable = !field.required;
  const std::string& type = field.type;
  int precision = 0;
  int scale = 0;
  if (type == "boolean") {
    column.type = model::ValueType::kBool;
    column.source_type = "boolean";
  } else if (type == "int") {
    column.type = model::ValueType::kInt64;
    column.source_type = "integer";
  } else if (type == "long") {
    column.type = is_unsigned ? model::ValueType::kUint64 : model::ValueType::kInt64;
    column.source_type = is_unsigned ? "bigint unsigned" : "bigint";
  } else if (type == "float") {
    column.type = model::ValueType::kFloat32;
    column.source_type = "real";
  } else if (type == "double") {
    column.type = model::ValueType::kFloat64;
    column.source_type = "double precision";
  } else if (std::sscanf(type.c_str(), "decimal(%d, %d)", &precision, &scale) == 2) {
    column.type = model::ValueType::kDecimal;
    column.source_type = "numeric";
    column.precision = precision;
    column.scale = scale;
  } else if (type == "date") {
    column.type = model::ValueType::kDate;
    column.source_type = "date";
  } else if (type == "time") {
    column.type = model::ValueType::kTime;
    column.source_type = "time";
  } else if (type == "timestamp") {
    column.type = model::ValueType::kTimestamp;
    column.source_type = "timestamp";
  } else if (type == "timestamptz") {
    column.type = model::ValueType::kTimestampTz;
    column.source_type = "timestamptz";
  } else if (type == "string") {
    column.type = model::ValueType::kText;
    column.source_type = "text";
  } else if (type == "binary") {
    column.type = model::ValueType::kBytes;
    column.source_type = "bytea";
  } else if (type == "uuid") {
    column.type = model::ValueType::kUuid;
    column.source_type = "uuid";
  } else {
    return FailedPrecondition("field '" + field.name + "' has Iceberg type " + type +
                              ", which eddy does not write");
  }
  return column;
}

// The value of a file's column converted to the output column's type (Iceberg's promotions).
model::Value Widened(model::Value value, const model::Column& column) {
  if (column.type == model::ValueType::kFloat64) {
    if (const float* f = value.TryGet<float>()) return model::Value::Float64(*f);
  }
  if (column.type == model::ValueType::kInt64) {
    if (const uint64_t* u = value.TryGet<uint64_t>()) {
      if (*u <= static_cast<uint64_t>(INT64_MAX))
        return model::Value::Int64(static_cast<int64_t>(*u));
    }
  }
  if (column.type == model::ValueType::kText) {
    if (const model::JsonValue* json = value.TryGet<model::JsonValue>()) {
      return model::Value::Text(json->text);
    }
  }
  return value;
}

// Writes the compacted rows into data files of at most about target_file_bytes each.
class Output {
 public:
  Output(Catalog& catalog, std::string table_key, const Schema& schema, int64_t sequence,
         const CompactOptions& options)
      : catalog_(catalog),
        table_key_(std::move(table_key)),
        schema_(schema),
        sequence_(sequence),
        options_(options) {}

  // Fixes the output columns from the newest data file (nullptr: none).
  Status Init(const parquet::ParquetReader* newest) {
    table_.table = {"iceberg", "iceberg", table_key_};  // TIME stays Parquet TIME
    for (const Field& field : schema_.fields) {
      bool is_unsigned = false;
      if (newest != nullptr) {
        if (auto index = newest->ColumnWithFieldId(field.id)) {
          const parquet::ReaderColumn& column = newest->columns()[*index];
          is_unsigned = column.logical == parquet::ReadLogical::kInteger && !column.is_signed &&
                        column.bit_width == 64;
        }
      }
      EDDY_ASSIGN_OR_RETURN(model::Column column, ColumnFor(field, is_unsigned));
      if (IcebergTypeFor(table_, column, &field) != field.type) {
        return Internal("compaction would write field '" + field.name + "' as " +
                        IcebergTypeFor(table_, column, &field) + ", not " + field.type);
      }
      table_.columns.push_back(std::move(column));
      writer_options_.field_ids.push_back(field.id);
    }
    writer_options_.compression = options_.compression;
    writer_options_.key_value_metadata.emplace_back("iceberg.schema", SchemaJson(schema_));
    return Status::Ok();
  }

  const model::TableSchema& table() const { return table_; }

  Status Append(const model::Row& row) {
    if (writer_ == nullptr) {
      EDDY_ASSIGN_OR_RETURN(writer_,
                            parquet::ParquetWriter::OpenBuffer(table_, writer_options_, &bytes_));
    }
    EDDY_RETURN_IF_ERROR(writer_->AppendRow(row));
    if (writer_->estimated_bytes() >= options_.target_file_bytes) return Close();
    return Status::Ok();
  }

  // Finishes the open file; with `at_least_one`, writes an empty file when none was written
  // (readers such as icebird need a data manifest in every snapshot).
  Status Close(bool at_least_one = false) {
    if (writer_ == nullptr) {
      if (!at_least_one || !files_.empty()) return Status::Ok();
      EDDY_ASSIGN_OR_RETURN(writer_,
                            parquet::ParquetWriter::OpenBuffer(table_, writer_options_, &bytes_));
    }
    EDDY_ASSIGN_OR_RETURN(parquet::FileSummary summary, writer_->Finish());
    writer_.reset();
    const std::string key = table_key_ + "/data/" + std::to_string(sequence_) + "-" + RandomUuid() +
                            "-compacted.parquet";
    Status put = catalog_.store()->Put(key, bytes_);
    if (!put.ok()) return put.WithContext("writing " + catalog_.store()->Describe(key));
    written_keys_.push_back(key);
    DataFile file;
    file.content = kContentData;
    file.file_path = catalog_.store()->Describe(key);
    file.record_count = static_cast<int64_t>(summary.row_count);
    file.file_size_in_bytes = static_cast<int64_t>(summary.file_bytes);
    SetColumnMetrics(schema_, summary, &file);
    files_.push_back(std::move(file));
    bytes_.clear();
    return Status::Ok();
  }

  const std::vector<DataFile>& files() const { return files_; }
  // Also the manifest and manifest list, once written.
  std::vector<std::string>& written_keys() { return written_keys_; }

  // Deletes every object written (the commit lost; no version names them).
  void Discard() {
    for (const std::string& key : written_keys_) (void)catalog_.store()->Delete(key);
    written_keys_.clear();
  }

 private:
  Catalog& catalog_;
  const std::string table_key_;
  const Schema& schema_;
  const int64_t sequence_;
  const CompactOptions& options_;
  model::TableSchema table_;
  parquet::WriterOptions writer_options_;
  std::unique_ptr<parquet::ParquetWriter> writer_;
  std::string bytes_;
  std::vector<DataFile> files_;
  std::vector<std::string> written_keys_;
};

struct Attempt {
  std::optional<LoadedTable> committed;  // nullopt: nothing to do
  Status status;                         // the commit's error
};

}  // namespace

Result<FileCounts> CountFiles(Catalog& catalog, const TableMetadata& metadata) {
  FileCounts counts;
  const Snapshot* current = metadata.CurrentSnapshot();
  if (current == nullptr) return counts;
  EDDY_ASSIGN_OR_RETURN(std::string key, catalog.KeyOfUri(current->manifest_list));
  EDDY_ASSIGN_OR_RETURN(std::string list, catalog.store()->Get(key));
  auto manifests = ReadManifestList(list);
  if (!manifests.ok()) return manifests.status().WithContext(current->manifest_list);
  for (const ManifestFile& manifest : *manifests) {
    const size_t files = static_cast<size_t>(manifest.added_files_count) +
                         static_cast<size_t>(manifest.existing_files_count);
    (manifest.content == kManifestData ? counts.data_files : counts.delete_files) += files;
  }
  return counts;
}

Result<CompactReport> CompactTable(Catalog& catalog, std::string_view table_key,
                                   const CompactOptions& options) {
  CompactReport report;
  for (int attempt = 0;; ++attempt) {
    EDDY_ASSIGN_OR_RETURN(std::optional<LoadedTable> loaded, catalog.Load(table_key));
    if (!loaded) return NotFound("no Iceberg table at " + catalog.Location(table_key));
    const TableMetadata& metadata = loaded->metadata;
    report.table = loaded;
    if (metadata.staged_snapshot_id) {
      return Unavailable("table " + metadata.location +
                         " holds a staged source transaction the sink has not published yet; "
                         "compact again once it has (usually within one commit interval)");
    }
    const Snapshot* current = metadata.CurrentSnapshot();
    const Schema* schema = metadata.CurrentSchema();
    if (current == nullptr || schema == nullptr) return report;
    EDDY_ASSIGN_OR_RETURN(Plan plan, PlanFiles(catalog, *current));
    report.data_files_before = plan.data.size();
    report.delete_files_before = plan.deletes.size();
    report.rows_before = 0;
    for (const PlannedFile& file : plan.data) report.rows_before += file.file.record_count;
    if (!options.force && plan.deletes.empty() && plan.data.size() <= 1) {
      report.rows_after = report.rows_before;
      report.data_files_after = plan.data.size();
      return report;
    }

    DeleteIndex deletes;
    for (const PlannedFile& file : plan.deletes) {
      EDDY_RETURN_IF_ERROR(IndexDeletes(catalog, file, deletes));
    }

    const int64_t sequence = metadata.last_sequence_number + 1;
    const int64_t snapshot_id = RandomSnapshotId();
    Output output(catalog, std::string(table_key), *schema, sequence, options);
    int64_t rows_after = 0;
    bool initialized = false;
    Status written = [&]() -> Status {
      for (const PlannedFile& planned : plan.data) {
        const DataFile& file = planned.file;
        EDDY_ASSIGN_OR_RETURN(std::string key, catalog.KeyOfUri(file.file_path));
        EDDY_ASSIGN_OR_RETURN(std::string bytes, catalog.store()->Get(key));
        EDDY_ASSIGN_OR_RETURN(parquet::ParquetReader reader, OpenFile(file.file_path, bytes));
        if (!initialized) {
          EDDY_RETURN_IF_ERROR(output.Init(&reader));
          initialized = true;
        }
        // Where each output field and each equality id lives in this file.
        std::vector<std::optional<size_t>> field_columns;
        for (const Field& field : schema->fields) {
          field_columns.push_back(reader.ColumnWithFieldId(field.id));
          if (!field_columns.back() && field.required) {
            return FailedPrecondition(file.file_path + " has no column for required field '" +
                                      field.name + "'");
          }
        }
        std::vector<std::pair<const std::unordered_map<std::string, int64_t>*,
                              std::vector<std::optional<size_t>>>>
            key_columns;
        for (const auto& [ids, keys] : deletes) {
          std::vector<std::optional<size_t>> columns;
          for (int32_t id : ids) columns.push_back(reader.ColumnWithFieldId(id));
          key_columns.emplace_back(&keys, std::move(columns));
        }
        for (size_t group = 0; group < reader.row_group_count(); ++group) {
          std::vector<std::vector<model::Value>> values(reader.columns().size());
          auto column_values = [&](size_t index) -> Result<std::vector<model::Value>*> {
            if (values[index].empty()) {
              auto read = reader.ReadColumn(group, index);
              if (!read.ok()) return read.status().WithContext(file.file_path);
              values[index] = std::move(read).value();
            }
            return &values[index];
          };
          for (const auto& optional_index : field_columns) {
            if (optional_index) EDDY_RETURN_IF_ERROR(column_values(*optional_index).status());
          }
          for (const auto& [keys, columns] : key_columns) {
            for (const auto& optional_index : columns) {
              if (optional_index) EDDY_RETURN_IF_ERROR(column_values(*optional_index).status());
            }
          }
          size_t rows = 0;
          for (const auto& column : values) rows = std::max(rows, column.size());
          std::vector<const model::Value*> key_values;
          model::Row row;
          for (size_t r = 0; r < rows; ++r) {
            bool deleted = false;
            for (const auto& [keys, columns] : key_columns) {
              key_values.clear();
              for (const auto& optional_index : columns) {
                key_values.push_back(optional_index ? &values[*optional_index][r] : nullptr);
              }
              auto hit = keys->find(KeyText(key_values));
              if (hit != keys->end() && hit->second > planned.sequence_number) {
                deleted = true;
                break;
              }
            }
            if (deleted) continue;
            row.clear();
            for (size_t f = 0; f < schema->fields.size(); ++f) {
              // Each file column feeds one field (field ids are unique), and the keys were
              // read above: the value moves.
              model::Value value =
                  field_columns[f] ? std::move(values[*field_columns[f]][r]) : model::Value();
              row.push_back(model::Field{schema->fields[f].name,
                                         Widened(std::move(value), output.table().columns[f])});
            }
            Status appended = output.Append(row);
            if (!appended.ok()) return appended.WithContext("rewriting " + file.file_path);
            ++rows_after;
          }
        }
      }
      if (!initialized) EDDY_RETURN_IF_ERROR(output.Init(nullptr));
      EDDY_RETURN_IF_ERROR(output.Close(/*at_least_one=*/true));

      // One manifest of the new files, the only one in the new snapshot's list.
      EDDY_ASSIGN_OR_RETURN(std::string manifest_bytes,
                            WriteManifest(*schema, kManifestData, snapshot_id, output.files()));
      const std::string uuid = RandomUuid();
      const std::string manifest_key = std::string(table_key) + "/metadata/" + uuid + "-m0.avro";
      Status put = catalog.store()->Put(manifest_key, manifest_bytes);
      if (!put.ok()) return put.WithContext("writing " + catalog.store()->Describe(manifest_key));
      output.written_keys().push_back(manifest_key);
      ManifestFile manifest;
      manifest.manifest_path = catalog.store()->Describe(manifest_key);
      manifest.manifest_length = static_cast<int64_t>(manifest_bytes.size());
      manifest.content = kManifestData;
      manifest.sequence_number = sequence;
      manifest.min_sequence_number = sequence;
      manifest.added_snapshot_id = snapshot_id;
      manifest.added_files_count = static_cast<int32_t>(output.files().size());
      manifest.added_rows_count = rows_after;
      EDDY_ASSIGN_OR_RETURN(std::string list, WriteManifestList({manifest}, snapshot_id,
                                                                current->snapshot_id, sequence));
      const std::string list_key = std::string(table_key) + "/metadata/snap-" +
                                   std::to_string(snapshot_id) + "-1-" + uuid + ".avro";
      put = catalog.store()->Put(list_key, list);
      if (!put.ok()) return put.WithContext("writing " + catalog.store()->Describe(list_key));
      output.written_keys().push_back(list_key);

      const int64_t now_ms = options.now_ms != 0 ? options.now_ms : NowMs();
      Snapshot snapshot;
      snapshot.snapshot_id = snapshot_id;
      snapshot.parent_snapshot_id = current->snapshot_id;
      snapshot.sequence_number = sequence;
      snapshot.timestamp_ms = now_ms;
      snapshot.manifest_list = catalog.store()->Describe(list_key);
      snapshot.schema_id = schema->schema_id;
      int64_t files_size = 0;
      for (const DataFile& file : output.files()) files_size += file.file_size_in_bytes;
      int64_t removed_deletes = 0;
      for (const PlannedFile& file : plan.deletes) removed_deletes += file.file.record_count;
      snapshot.summary = {
          {"operation", "replace"},
          {"added-data-files", std::to_string(output.files().size())},
          {"deleted-data-files", std::to_string(plan.data.size())},
          {"removed-delete-files", std::to_string(plan.deletes.size())},
          {"added-records", std::to_string(rows_after)},
          {"deleted-records", std::to_string(report.rows_before)},
          {"removed-equality-deletes", std::to_string(removed_deletes)},
          {"added-files-size", std::to_string(files_size)},
          {"total-data-files", std::to_string(output.files().size())},
          {"total-delete-files", "0"},
          {"total-records", std::to_string(rows_after)},
          {"total-equality-deletes", "0"},
      };
      // The sink's checkpoint stays on the table's current snapshot (see the header).
      for (const auto& [key, value] : current->summary) {
        if (key == kSummarySink || key == kSummaryCheckpoint) {
          snapshot.summary.emplace_back(key, value);
        }
      }
      TableMetadata next = metadata;
      next.snapshots.push_back(std::move(snapshot));
      next.snapshot_log.push_back(SnapshotLogEntry{now_ms, snapshot_id});
      next.current_snapshot_id = snapshot_id;
      next.last_sequence_number = sequence;
      next.last_updated_ms = now_ms;
      auto committed = catalog.CommitMetadata(table_key, *loaded, std::move(next));
      if (!committed.ok()) return committed.status();
      report.table = std::move(committed).value();
      return Status::Ok();
    }();
    report.attempts = attempt + 1;
    if (written.ok()) {
      report.compacted = true;
      report.data_files_after = output.files().size();
      report.rows_after = rows_after;
      return report;
    }
    if (written.code() == ErrorCode::kAborted) {
      output.Discard();                              // no version names them
      if (attempt + 1 < options.attempts) continue;  // plan again on the new version
      return written.WithContext("compacting " + catalog.Location(table_key) + " after " +
                                 std::to_string(attempt + 1) + " attempts");
    }
    // Another failure: the version may or may not have been committed (a commit point whose
    // reply was lost), so the files stay; RemoveOrphanFiles deletes them if unreferenced.
    return written.WithContext("compacting " + catalog.Location(table_key));
  }
}

}  // namespace eddy::iceberg
