// SchemaHistory: the durable model::SchemaRegistry of one stream: every table schema version
// its capture recorded, in one append-only file (schema_history_format.h,
// docs/formats/schema-history.md) written through io::FileSystem.
//
// Durability: AssignVersion returns only after a new version's entry is fsync'd (and, for the
// first entry, the file's directory entry), so an event stamped with the version can never
// be in the log without its schema. Recording a shape again is a no-op. Entries are never
// removed: retention of the log does not touch them, so a reader of any record still finds
// its schema, and versions keep increasing across restarts.
//
// Failures: an append that fails is truncated away and reported; a failed fsync poisons the
// history (every later AssignVersion fails with kFailedPrecondition until it is reopened,
// which re-reads what is on disk). On open, a torn last entry (a crash during its append) is
// truncated (read-write) or ignored (read-only) with a log line; damage with intact entries
// after it is kCorruption naming the file and offset.
//
// Read-only histories (a process next to the writer: `eddy log schemas`, tools) re-read the
// file's new entries when Find misses, so a schema recorded after they opened is found.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "model/schema_registry.h"
#include "schema/schema_history_format.h"

namespace eddy::schema {

// DATA/streams/<stream>/table-schemas: the history lives in its stream's directory, so it
// goes when the stream is deleted.
std::string SchemaHistoryPath(const std::string& data_dir, const std::string& stream);

struct SchemaHistoryOptions {
  io::FileSystem* file_system = nullptr;  // nullptr: io::DefaultFileSystem()
  // Never writes; a missing file reads as empty (until the writer creates it).
  bool read_only = false;
};

class SchemaHistory final : public model::SchemaRegistry {
 public:
  // Opens `path`. Read-write: the file is created on the first AssignVersion, in its
  // directory, which must exist (the stream's, made durable by the log).
  static Result<std::shared_ptr<SchemaHistory>> Open(std::string path,
                                                     SchemaHistoryOptions options = {});

  [[nodiscard]] Result<uint32_t> AssignVersion(const model::TableSchema& schema) override;
  [[nodiscard]] Result<std::shared_ptr<const model::TableSchema>> Find(const model::TableId& table,
                                                                       uint32_t version) override;
  std::shared_ptr<const model::TableSchema> Latest(const model::TableId& table) override;

  // Every recorded schema, by table then version (read-only: re-reads new entries first).
  std::vector<std::shared_ptr<const model::TableSchema>> All();
  // Read-only: reads entries appended since the last read. Writers: no-op.
  [[nodiscard]] Status Refresh();

  const std::string& path() const { return path_; }

 private:
  SchemaHistory(std::string path, SchemaHistoryOptions options);
  Status LoadLocked();
  Status RefreshLocked();
  Status AppendLocked(const std::string& entry);
  void AddLocked(model::TableSchema schema);

  const std::string path_;
  const SchemaHistoryOptions options_;
  io::FileSystem* const fs_;
  std::mutex mu_;
  std::unique_ptr<io::File> file_;  // writer: open for appends once the file exists
  uint64_t valid_bytes_ = 0;        // of the file read or written so far
  Status poisoned_;                 // set by a failed fsync
  bool directory_synced_ = false;   // the file's entry in its directory is durable
  // (table, version) -> schema; shared so every record of a version shares one allocation.
  std::map<model::TableId, std::map<uint32_t, std::shared_ptr<const model::TableSchema>>> schemas_;
};

}  // namespace eddy::schema
