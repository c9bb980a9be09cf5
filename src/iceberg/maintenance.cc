#include "iceberg/maintenance.h"

#include <chrono>
#include <set>

namespace eddy::iceberg {

namespace {

// Every file a snapshot references (full URIs): its manifest list, the manifests in it and
// their data and delete files. Manifests shared by several snapshots are read once.
Status CollectFiles(Catalog& catalog, const Snapshot& snapshot, std::set<std::string>& files,
                    std::set<std::string>& manifests_read) {
  objstore::ObjectStore& store = *catalog.store();
  files.insert(snapshot.manifest_list);
  EDDY_ASSIGN_OR_RETURN(std::string list_key, catalog.KeyOfUri(snapshot.manifest_list));
  EDDY_ASSIGN_OR_RETURN(std::string list, store.Get(list_key));
  auto manifests = ReadManifestList(list);
  if (!manifests.ok()) return manifests.status().WithContext(snapshot.manifest_list);
  for (const ManifestFile& manifest : *manifests) {
    files.insert(manifest.manifest_path);
    if (!manifests_read.insert(manifest.manifest_path).second) continue;
    EDDY_ASSIGN_OR_RETURN(std::string manifest_key, catalog.KeyOfUri(manifest.manifest_path));
    EDDY_ASSIGN_OR_RETURN(std::string bytes, store.Get(manifest_key));
    auto data_files = ReadManifest(bytes);
    if (!data_files.ok()) return data_files.status().WithContext(manifest.manifest_path);
    for (const DataFile& file : *data_files) files.insert(file.file_path);
  }
  return Status::Ok();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<ExpireReport> ExpireSnapshots(Catalog& catalog, std::string_view table_key,
                                     const ExpireOptions& options) {
  for (int attempt = 0;; ++attempt) {
    EDDY_ASSIGN_OR_RETURN(std::optional<LoadedTable> loaded, catalog.Load(table_key));
    if (!loaded) return NotFound("no Iceberg table at " + catalog.Location(table_key));
    const TableMetadata& current = loaded->metadata;
    TableMetadata next = current;
    next.snapshots.clear();
    std::vector<const Snapshot*> dropped;
    for (const Snapshot& snapshot : current.snapshots) {
      const bool keep = snapshot.timestamp_ms >= options.older_than_ms ||
                        snapshot.snapshot_id == current.current_snapshot_id ||
                        snapshot.snapshot_id == current.staged_snapshot_id;
      if (keep) {
        next.snapshots.push_back(snapshot);
      } else {
        dropped.push_back(&snapshot);
      }
    }
    ExpireReport report;
    report.kept_snapshots = next.snapshots.size();
    report.version = loaded->version;
    if (dropped.empty()) return report;
    std::erase_if(next.snapshot_log, [&](const SnapshotLogEntry& entry) {
      return next.FindSnapshot(entry.snapshot_id) == nullptr;
    });
    next.last_updated_ms = options.now_ms != 0 ? options.now_ms : NowMs();

    // What the kept snapshots reference, read before the commit (from the same version).
    std::set<std::string> kept_files;
    std::set<std::string> manifests_read;
    for (const Snapshot& snapshot : next.snapshots) {
      EDDY_RETURN_IF_ERROR(CollectFiles(catalog, snapshot, kept_files, manifests_read));
    }
    std::set<std::string> dropped_files;
    for (const Snapshot* snapshot : dropped) {
      EDDY_RETURN_IF_ERROR(CollectFiles(catalog, *snapshot, dropped_files, manifests_read));
    }

    auto committed = catalog.CommitMetadata(table_key, *loaded, std::move(next));
    if (!committed.ok()) {
      if (committed.status().code() == ErrorCode::kAborted && attempt + 1 < options.attempts) {
        continue;  // another writer committed first: start again from its version
      }
      return committed.status();
    }
    report.expired_snapshots = dropped.size();
    report.version = committed->version;
    // Only now, with the new version durable, the files only dropped snapshots referenced.
    // A snapshot committed after the version read above builds on a kept one, so it
    // references none of them.
    for (const std::string& file : dropped_files) {
      if (kept_files.contains(file)) continue;
      EDDY_ASSIGN_OR_RETURN(std::string key, catalog.KeyOfUri(file));
      Status deleted = catalog.store()->Delete(key);
      if (!deleted.ok()) return deleted.WithContext("deleting " + file);
      ++report.deleted_files;
    }
    return report;
  }
}

Result<OrphanReport> RemoveOrphanFiles(Catalog& catalog, std::string_view table_key,
                                       const OrphanOptions& options) {
  objstore::ObjectStore& store = *catalog.store();
  // Listed before the metadata is loaded (see the header).
  std::vector<objstore::ObjectInfo> objects;
  for (const char* folder : {"/data/", "/metadata/"}) {
    const std::string prefix = std::string(table_key) + folder;
    std::string continuation;
    do {
      EDDY_ASSIGN_OR_RETURN(objstore::ListPage page, store.List(prefix, "", continuation));
      for (objstore::ObjectInfo& object : page.objects) objects.push_back(std::move(object));
      continuation = std::move(page.continuation);
    } while (!continuation.empty());
  }
  EDDY_ASSIGN_OR_RETURN(std::optional<LoadedTable> loaded, catalog.Load(table_key));
  if (!loaded) return NotFound("no Iceberg table at " + catalog.Location(table_key));
  std::set<std::string> referenced;
  std::set<std::string> manifests_read;
  for (const Snapshot& snapshot : loaded->metadata.snapshots) {
    EDDY_RETURN_IF_ERROR(CollectFiles(catalog, snapshot, referenced, manifests_read));
  }
  OrphanReport report;
  report.referenced_files = referenced.size();
  for (const objstore::ObjectInfo& object : objects) {
    if (object.key.ends_with(".metadata.json") || object.key.ends_with("/version-hint.text")) {
      continue;
    }
    const std::string uri = store.Describe(object.key);
    if (referenced.contains(uri)) continue;
    if (object.modified_ms == 0 || object.modified_ms >= options.older_than_ms) {
      ++report.kept_recent_files;
      continue;
    }
    if (!options.dry_run) {
      Status deleted = store.Delete(object.key);
      if (!deleted.ok()) return deleted.WithContext("deleting " + uri);
    }
    ++report.removed_files;
    report.removed_bytes += object.size;
    report.removed.push_back(uri);
  }
  return report;
}

}  // namespace eddy::iceberg
