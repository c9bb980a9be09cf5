#include "objstore/local_object_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace eddy::objstore {
namespace {

// Temp names are unique per process (and the pid makes them unique across processes): two
// stores over one directory in one process (two sinks on one warehouse) must not share one.
uint64_t NextTempNumber() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

Status WithPath(const Status& status, const std::string& what) {
  return Status(status.code(), what + ": " + status.message());
}

}  // namespace

LocalObjectStore::LocalObjectStore(std::string root, io::FileSystem* file_system)
    : root_(std::move(root)),
      file_system_(file_system != nullptr ? file_system : io::DefaultFileSystem()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalObjectStore::Describe(std::string_view key) const {
  return "file://" + root_ + "/" + std::string(key);
}

Status LocalObjectStore::Check() {
  Status created = file_system_->CreateDirectories(root_);
  if (!created.ok()) {
    return Status(created.code(), "cannot create the directory " + root_ + ": " +
                                      created.message() +
                                      "; give a directory eddy may write (file:///DIR)");
  }
  auto is_dir = file_system_->IsDirectory(root_);
  if (!is_dir.ok()) return is_dir.status();
  if (!*is_dir) {
    return FailedPrecondition(root_ + " is not a directory; give a directory (file:///DIR)");
  }
  // A write probe: a read-only directory or a full disk shows here, not at the first flush.
  // Not synced: the probe is removed at once, and a sync would only add the disk's flush
  // latency (tens of milliseconds) to every start; opening and writing the file are what a
  // read-only directory or a full disk refuses.
  std::string probe = io::JoinPath(root_, ".eddy-probe-" + std::to_string(::getpid()));
  Status written = [&]() -> Status {
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<io::File> file,
                          file_system_->Open(probe, io::OpenMode::kCreateOrTruncate));
    return file->Append("probe");
  }();
  if (!written.ok()) {
    (void)file_system_->Remove(probe);  // best effort: a probe a full disk left empty
    return Status(written.code() == ErrorCode::kNoSpace ? ErrorCode::kNoSpace
                                                        : ErrorCode::kFailedPrecondition,
                  "cannot write in " + root_ + ": " + written.message() +
                      "; give eddy write access to the directory");
  }
  return file_system_->Remove(probe);
}

Status LocalObjectStore::Put(std::string_view key, std::string_view bytes,
                             const PutOptions& options) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = io::JoinPath(root_, std::string(key));
  std::string directory = io::ParentPath(path);
  std::string name = path.substr(directory.size() + 1);
  Status made = file_system_->CreateDirectories(directory);
  if (!made.ok()) return WithPath(made, "creating " + directory);
  std::string temp = io::JoinPath(directory, "." + name + ".tmp-" + std::to_string(::getpid()) +
                                                 "-" + std::to_string(NextTempNumber()));
  {
    EDDY_ASSIGN_OR_RETURN(auto file, file_system_->Open(temp, io::OpenMode::kCreateOrTruncate));
    Status appended = file->Append(bytes);
    if (appended.ok()) appended = file->Sync();
    if (!appended.ok()) {
      file_system_->Remove(temp).IgnoreError();  // best effort; a leftover temp is skipped
      return WithPath(appended, "writing " + temp);
    }
  }
  // A conditional put is one atomic step for every process sharing the directory (an Iceberg
  // commit of a new version by the sink and by `eddy lake compact` at once): a check followed
  // by a rename would let the second writer replace the first one's committed object.
  Status renamed = options.if_none_match ? file_system_->RenameNoReplace(temp, path)
                                         : file_system_->Rename(temp, path);
  if (renamed.code() == ErrorCode::kAlreadyExists) {
    file_system_->Remove(temp).IgnoreError();  // not published; nothing refers to it
    return AlreadyExists("object " + Describe(key) + " exists");
  }
  if (!renamed.ok()) {
    file_system_->Remove(temp).IgnoreError();  // not published
    return WithPath(renamed, "renaming " + temp);
  }
  Status synced = file_system_->SyncDirectory(directory);
  if (!synced.ok()) return WithPath(synced, "syncing " + directory);
  return Status::Ok();
}

Result<std::string> LocalObjectStore::Get(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  return file_system_->ReadFile(io::JoinPath(root_, std::string(key)));
}

Result<std::optional<ObjectInfo>> LocalObjectStore::Head(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = io::JoinPath(root_, std::string(key));
  EDDY_ASSIGN_OR_RETURN(bool exists, file_system_->Exists(path));
  if (!exists) return std::optional<ObjectInfo>();
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file_system_->FileSize(path));
  return std::optional<ObjectInfo>(ObjectInfo{std::string(key), size});
}

Status LocalObjectStore::Delete(std::string_view key) {
  EDDY_RETURN_IF_ERROR(ValidateKey(key));
  std::string path = io::JoinPath(root_, std::string(key));
  EDDY_ASSIGN_OR_RETURN(bool exists, file_system_->Exists(path));
  if (!exists) return Status::Ok();
  EDDY_RETURN_IF_ERROR(file_system_->Remove(path));
  return file_system_->SyncDirectory(io::ParentPath(path));
}

Status LocalObjectStore::Walk(const std::string& directory, const std::string& key_prefix,
                              std::string_view prefix, std::vector<ObjectInfo>* out) {
  auto names = file_system_->List(directory);
  if (!names.ok()) {
    if (names.status().code() == ErrorCode::kNotFound) return Status::Ok();
    return names.status();
  }
  for (const std::string& name : *names) {
    if (name.empty() || name.front() == '.') continue;
    std::string key = key_prefix + name;
    std::string path = io::JoinPath(directory, name);
    // An entry deleted between the directory listing and its stat (a concurrent Delete) is
    // not listed.
    auto is_directory = file_system_->IsDirectory(path);
    if (!is_directory.ok() && is_directory.status().code() == ErrorCode::kNotFound) continue;
    EDDY_ASSIGN_OR_RETURN(bool is_dir, std::move(is_directory));
    if (is_dir) {
      std::string sub = key + "/";
      // Descend only where keys can still match the prefix.
      size_t common = std::min(sub.size(), prefix.size());
      if (sub.compare(0, common, prefix.substr(0, common)) != 0) continue;
      EDDY_RETURN_IF_ERROR(Walk(path, sub, prefix, out));
    } else if (key.starts_with(prefix)) {
      auto file_size = file_system_->FileSize(path);
      if (!file_size.ok() && file_size.status().code() == ErrorCode::kNotFound) continue;
      EDDY_ASSIGN_OR_RETURN(uint64_t size, std::move(file_size));
      auto modified = file_system_->ModifiedTimeMs(path);
      out->push_back(ObjectInfo{std::move(key), size, modified.ok() ? *modified : 0});
    }
  }
  return Status::Ok();
}

Result<ListPage> LocalObjectStore::List(std::string_view prefix, std::string_view start_after,
                                        std::string_view continuation, size_t max_keys) {
  std::vector<ObjectInfo> all;
  EDDY_RETURN_IF_ERROR(Walk(root_, "", prefix, &all));
  // Directory order is not key order ("a/b" vs "a-c"): sort the keys as S3 does.
  std::sort(all.begin(), all.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  std::string_view after = continuation.empty() ? start_after : continuation;
  ListPage page;
  for (auto& object : all) {
    if (!after.empty() && object.key <= after) continue;
    if (page.objects.size() == std::max<size_t>(max_keys, 1)) {
      page.continuation = page.objects.back().key;
      break;
    }
    page.objects.push_back(std::move(object));
  }
  return page;
}

}  // namespace eddy::objstore
