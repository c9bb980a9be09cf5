#include "schema/schema_history.h"

#include <utility>

#include "base/logging.h"

namespace eddy::schema {
namespace {

std::shared_ptr<logging::Logger> Logger() { return logging::Get("schema"); }

}  // namespace

std::string SchemaHistoryPath(const std::string& data_dir, const std::string& stream) {
  return io::JoinPath(io::JoinPath(io::JoinPath(data_dir, "streams"), stream),
                      kSchemaHistoryFileName);
}

SchemaHistory::SchemaHistory(std::string path, SchemaHistoryOptions options)
    : path_(std::move(path)),
      options_(options),
      fs_(options.file_system != nullptr ? options.file_system : io::DefaultFileSystem()) {}

Result<std::shared_ptr<SchemaHistory>> SchemaHistory::Open(std::string path,
                                                           SchemaHistoryOptions options) {
  std::shared_ptr<SchemaHistory> history(new SchemaHistory(std::move(path), options));
  std::lock_guard lock(history->mu_);
  EDDY_RETURN_IF_ERROR(history->LoadLocked());
  return history;
}

void SchemaHistory::AddLocked(model::TableSchema schema) {
  auto& versions = schemas_[schema.table];
  uint32_t version = schema.version;
  versions[version] = std::make_shared<const model::TableSchema>(std::move(schema));
}

Status SchemaHistory::LoadLocked() {
  EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(path_));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(std::string contents, fs_->ReadFile(path_));
  Result<SchemaHistoryScan> scan = ScanSchemaHistory(contents);
  if (!scan.ok()) return scan.status().WithContext("schema history " + path_);
  if (!scan->problem.empty()) {
    if (!scan->problem_at_tail) {
      return Corruption("schema history " + path_ + " is damaged at offset " +
                        std::to_string(scan->valid_bytes) + " (" + scan->problem +
                        ") with entries after it; restore the file from a backup (the log's "
                        "records that need its schemas cannot be given them otherwise)");
    }
    if (!options_.read_only) {
      Logger()->warn(
          "schema history tail dropped (an append a crash interrupted) path={} offset={} "
          "dropped_bytes={} reason=\"{}\"",
          path_, scan->valid_bytes, contents.size() - scan->valid_bytes, scan->problem);
      EDDY_RETURN_IF_ERROR(fs_->Truncate(path_, scan->valid_bytes));
    }
  }
  for (model::TableSchema& schema : scan->schemas) AddLocked(std::move(schema));
  valid_bytes_ = scan->valid_bytes;
  if (!options_.read_only) {
    EDDY_ASSIGN_OR_RETURN(file_, fs_->Open(path_, io::OpenMode::kReadWrite));
  }
  return Status::Ok();
}

Status SchemaHistory::RefreshLocked() {
  if (!options_.read_only) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(path_));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(uint64_t size, fs_->FileSize(path_));
  if (size <= valid_bytes_) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(std::string contents, fs_->ReadFile(path_));
  if (contents.size() < valid_bytes_) return Status::Ok();  // truncated by a recovering writer
  Result<SchemaHistoryScan> scan = ScanSchemaHistory(contents, valid_bytes_);
  if (!scan.ok()) return scan.status().WithContext("schema history " + path_);
  // A problem here is usually an entry the writer is appending right now; its events are not
  // in the log yet, so stopping at the valid prefix loses nothing.
  for (model::TableSchema& schema : scan->schemas) AddLocked(std::move(schema));
  valid_bytes_ = scan->valid_bytes;
  return Status::Ok();
}

Status SchemaHistory::Refresh() {
  std::lock_guard lock(mu_);
  return RefreshLocked();
}

Status SchemaHistory::AppendLocked(const std::string& entry) {
  if (!poisoned_.ok()) return poisoned_;
  // The file's directory entry is made durable with its first entry in this process, also
  // when an earlier attempt created the file and then failed.
  bool opened = false;
  if (file_ == nullptr) {
    EDDY_ASSIGN_OR_RETURN(bool exists, fs_->Exists(path_));
    EDDY_ASSIGN_OR_RETURN(
        file_, fs_->Open(path_, exists ? io::OpenMode::kReadWrite : io::OpenMode::kCreateNew));
    opened = true;
  }
  std::string bytes;
  if (valid_bytes_ == 0) bytes = std::string(kSchemaHistoryMagic);  // new or torn at its magic
  bytes += entry;
  Status status = file_->Append(bytes);
  if (!status.ok()) {
    Status undo = file_->Truncate(valid_bytes_);
    if (!undo.ok()) {
      poisoned_ = FailedPrecondition("schema history " + path_ +
                                     " could not be rolled back after a failed write (" +
                                     undo.ToString() + "); restart eddy to recover it");
    }
    return status.WithContext("appending to the schema history " + path_);
  }
  status = file_->Sync();
  if (status.ok() && (opened || !directory_synced_))
    status = fs_->SyncDirectory(io::ParentPath(path_));
  if (!status.ok()) {
    // After a failed fsync the file's state is unknown: no more appends until a reopen.
    poisoned_ = FailedPrecondition("schema history " + path_ + " failed to sync (" +
                                   status.ToString() + "); restart eddy to recover it");
    return status.WithContext("syncing the schema history " + path_);
  }
  directory_synced_ = true;
  valid_bytes_ += bytes.size();
  return Status::Ok();
}

Result<uint32_t> SchemaHistory::AssignVersion(const model::TableSchema& schema) {
  if (options_.read_only) {
    return FailedPrecondition("schema history " + path_ + " is open read-only");
  }
  std::lock_guard lock(mu_);
  uint32_t version = 1;
  auto table = schemas_.find(schema.table);
  if (table != schemas_.end() && !table->second.empty()) {
    const auto& latest = table->second.rbegin()->second;
    if (model::SameShape(*latest, schema)) return latest->version;
    version = latest->version + 1;
  }
  model::TableSchema recorded = schema;
  recorded.version = version;
  EDDY_RETURN_IF_ERROR(AppendLocked(EncodeSchemaEntry(recorded)));
  Logger()->info("table schema recorded table={} version={} columns={} path={}",
                 recorded.table.ToString(), version, recorded.columns.size(), path_);
  AddLocked(std::move(recorded));
  return version;
}

Result<std::shared_ptr<const model::TableSchema>> SchemaHistory::Find(const model::TableId& table,
                                                                      uint32_t version) {
  std::lock_guard lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto it = schemas_.find(table);
    if (it != schemas_.end()) {
      auto found = it->second.find(version);
      if (found != it->second.end()) return found->second;
    }
    if (attempt == 0 && options_.read_only) {
      EDDY_RETURN_IF_ERROR(RefreshLocked());
    } else {
      break;
    }
  }
  return NotFound("no schema version " + std::to_string(version) + " of table " + table.ToString() +
                  " in " + path_);
}

std::shared_ptr<const model::TableSchema> SchemaHistory::Latest(const model::TableId& table) {
  std::lock_guard lock(mu_);
  auto it = schemas_.find(table);
  if (it == schemas_.end() || it->second.empty()) return nullptr;
  return it->second.rbegin()->second;
}

std::vector<std::shared_ptr<const model::TableSchema>> SchemaHistory::All() {
  std::lock_guard lock(mu_);
  RefreshLocked().IgnoreError();  // what was read so far is still worth listing
  std::vector<std::shared_ptr<const model::TableSchema>> out;
  for (const auto& [table, versions] : schemas_) {
    for (const auto& [version, schema] : versions) out.push_back(schema);
  }
  return out;
}

}  // namespace eddy::schema
