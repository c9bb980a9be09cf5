#include "io/fault_file_system.h"

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <thread>

namespace eddy::io {

struct FaultInjectionFileSystem::Node {
  bool is_directory = false;
  std::string data;                                       // files: current bytes
  std::string synced_data;                                // files: bytes as of the last Sync()
  std::map<std::string, std::shared_ptr<Node>> children;  // directories: current
  std::map<std::string, std::shared_ptr<Node>> synced_children;  // as of the last sync
};

struct Fault {
  FaultOperation operation;
  Status error;
  std::string path_substring;
  uint32_t skip;
  uint32_t count;
};

// What a MemoryWatch waits on; the file system bumps `changes` (its own lock is a leaf, taken
// while State::mutex is held).
struct WatchSignal {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t changes = 0;
  uint64_t consumed = 0;
};

struct FaultInjectionFileSystem::State {
  mutable std::mutex mutex;
  std::shared_ptr<Node> root;
  uint64_t capacity = 0;
  std::vector<Fault> faults;
  uint64_t sync_count = 0;
  uint64_t bytes_read = 0;
  std::chrono::microseconds sync_latency{0};
  std::map<std::string, bool> locks;
  // Directory watches by normalized directory path.
  std::map<std::string, std::vector<std::weak_ptr<WatchSignal>>> watches;

  static std::string Normalize(const std::string& path) {
    std::string normalized;
    for (const auto& part : Split(path)) normalized += "/" + part;
    return normalized.empty() ? "/" : normalized;
  }

  // Signals the watches of the directory holding `path` and of `path` itself (a watched
  // directory removed or renamed). Called with `mutex` held.
  void Changed(const std::string& path) {
    if (watches.empty()) return;
    std::string normalized = Normalize(path);
    size_t slash = normalized.find_last_of('/');
    std::string parent = slash == 0 ? "/" : normalized.substr(0, slash);
    for (const std::string& dir : {parent, normalized}) {
      auto it = watches.find(dir);
      if (it == watches.end()) continue;
      auto& list = it->second;
      for (auto signal = list.begin(); signal != list.end();) {
        if (auto live = signal->lock()) {
          {
            std::lock_guard lock(live->mutex);
            ++live->changes;
          }
          live->changed.notify_all();
          ++signal;
        } else {
          signal = list.erase(signal);
        }
      }
      if (list.empty()) watches.erase(it);
    }
  }

  // Returns the injected error for this call, or OK.
  Status Check(FaultOperation operation, const std::string& path) {
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->operation != operation) continue;
      if (!it->path_substring.empty() && path.find(it->path_substring) == std::string::npos) {
        continue;
      }
      if (it->skip > 0) {
        --it->skip;
        return Status::Ok();
      }
      Status error = it->error;
      if (it->count != UINT32_MAX && --it->count == 0) faults.erase(it);
      return error;
    }
    return Status::Ok();
  }

  uint64_t Used(const Node& node) const {
    if (!node.is_directory) return node.data.size();
    uint64_t total = 0;
    for (const auto& [name, child] : node.children) total += Used(*child);
    return total;
  }

  static std::vector<std::string> Split(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) slash = path.size();
      if (slash > start) {
        std::string part = path.substr(start, slash - start);
        if (part != ".") parts.push_back(part);
      }
      start = slash + 1;
    }
    return parts;
  }

  std::shared_ptr<Node> Lookup(const std::string& path) const {
    std::shared_ptr<Node> node = root;
    for (const auto& part : Split(path)) {
      if (!node->is_directory) return nullptr;
      auto it = node->children.find(part);
      if (it == node->children.end()) return nullptr;
      node = it->second;
    }
    return node;
  }

  // The directory holding `path` and the entry name.
  Result<std::pair<std::shared_ptr<Node>, std::string>> Parent(const std::string& path) const {
    auto parts = Split(path);
    if (parts.empty()) return InvalidArgument("path " + path + " names the root");
    std::string name = parts.back();
    std::shared_ptr<Node> node = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = node->children.find(parts[i]);
      if (it == node->children.end() || !it->second->is_directory) {
        return NotFound("directory of " + path + " does not exist");
      }
      node = it->second;
    }
    return std::make_pair(node, name);
  }

  static void Crash(Node& node) {
    if (!node.is_directory) {
      node.data = node.synced_data;
      return;
    }
    node.children = node.synced_children;
    for (auto& [name, child] : node.children) Crash(*child);
  }
};

namespace {

using Node = FaultInjectionFileSystem::Node;
using State = FaultInjectionFileSystem::State;

class MemoryFile final : public File {
 public:
  MemoryFile(std::shared_ptr<State> state, std::shared_ptr<Node> node, std::string path,
             bool writable)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        writable_(writable) {}

  Status Append(std::string_view bytes) override {
    std::lock_guard lock(state_->mutex);
    if (!writable_) return PermissionDenied("file " + path_ + " is open read-only");
    Status fault = state_->Check(FaultOperation::kAppend, path_);
    if (!fault.ok()) {
      node_->data.append(bytes.data(), bytes.size() / 2);
      state_->Changed(path_);
      return fault;
    }
    if (state_->capacity != 0) {
      uint64_t used = state_->Used(*state_->root);
      uint64_t room = used >= state_->capacity ? 0 : state_->capacity - used;
      if (bytes.size() > room) {
        node_->data.append(bytes.data(), room);
        state_->Changed(path_);
        return NoSpace("writing " + path_ + ": No space left on device (simulated)");
      }
    }
    node_->data.append(bytes.data(), bytes.size());
    state_->Changed(path_);
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const override {
    std::lock_guard lock(state_->mutex);
    Status fault = state_->Check(FaultOperation::kRead, path_);
    if (!fault.ok()) return fault;
    if (offset >= node_->data.size()) return size_t{0};
    size_t n = std::min<uint64_t>(size, node_->data.size() - offset);
    std::copy_n(node_->data.data() + offset, n, out);
    state_->bytes_read += n;
    return n;
  }

  Status Sync() override {
    std::chrono::microseconds latency;
    {
      std::lock_guard lock(state_->mutex);
      latency = state_->sync_latency;
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    std::lock_guard lock(state_->mutex);
    Status fault = state_->Check(FaultOperation::kSync, path_);
    if (!fault.ok()) return fault;
    node_->synced_data = node_->data;
    ++state_->sync_count;
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    std::lock_guard lock(state_->mutex);
    return static_cast<uint64_t>(node_->data.size());
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard lock(state_->mutex);
    Status fault = state_->Check(FaultOperation::kTruncate, path_);
    if (!fault.ok()) return fault;
    node_->data.resize(size, '\0');
    state_->Changed(path_);
    return Status::Ok();
  }

  const std::string& path() const override { return path_; }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<Node> node_;
  std::string path_;
  bool writable_;
};

class MemoryWatch final : public DirectoryWatch {
 public:
  explicit MemoryWatch(std::shared_ptr<WatchSignal> signal) : signal_(std::move(signal)) {}

  bool Wait(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(signal_->mutex);
    bool changed = signal_->changed.wait_for(lock, timeout,
                                             [&] { return signal_->changes != signal_->consumed; });
    signal_->consumed = signal_->changes;
    return changed;
  }

 private:
  std::shared_ptr<WatchSignal> signal_;
};

class MemoryLock final : public FileLock {
 public:
  MemoryLock(std::shared_ptr<State> state, std::string path)
      : state_(std::move(state)), path_(std::move(path)) {}
  ~MemoryLock() override {
    std::lock_guard lock(state_->mutex);
    state_->locks.erase(path_);
  }

 private:
  std::shared_ptr<State> state_;
  std::string path_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem() : state_(std::make_shared<State>()) {
  state_->root = std::make_shared<Node>();
  state_->root->is_directory = true;
}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::SetCapacity(uint64_t bytes) {
  std::lock_guard lock(state_->mutex);
  state_->capacity = bytes;
}

void FaultInjectionFileSystem::InjectFault(FaultOperation operation, Status error,
                                           std::string path_substring, uint32_t skip,
                                           uint32_t count) {
  std::lock_guard lock(state_->mutex);
  state_->faults.push_back(
      Fault{operation, std::move(error), std::move(path_substring), skip, count});
}

void FaultInjectionFileSystem::SetSyncLatency(std::chrono::microseconds latency) {
  std::lock_guard lock(state_->mutex);
  state_->sync_latency = latency;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard lock(state_->mutex);
  state_->faults.clear();
}

void FaultInjectionFileSystem::SimulateCrash() {
  std::lock_guard lock(state_->mutex);
  State::Crash(*state_->root);
  state_->locks.clear();
}

uint64_t FaultInjectionFileSystem::BytesUsed() const {
  std::lock_guard lock(state_->mutex);
  return state_->Used(*state_->root);
}

uint64_t FaultInjectionFileSystem::bytes_read() const {
  std::lock_guard lock(state_->mutex);
  return state_->bytes_read;
}

uint64_t FaultInjectionFileSystem::sync_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->sync_count;
}

Result<std::string> FaultInjectionFileSystem::DurableContent(const std::string& path) const {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr || node->is_directory) return NotFound("no file " + path);
  return node->synced_data;
}

Status FaultInjectionFileSystem::CorruptByte(const std::string& path, uint64_t offset,
                                             char xor_mask) {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr || node->is_directory) return NotFound("no file " + path);
  if (offset >= node->data.size()) return OutOfRange("offset beyond the end of " + path);
  node->data[offset] = static_cast<char>(node->data[offset] ^ xor_mask);
  if (offset < node->synced_data.size()) node->synced_data[offset] = node->data[offset];
  return Status::Ok();
}

Result<std::unique_ptr<File>> FaultInjectionFileSystem::Open(const std::string& path,
                                                             OpenMode mode) {
  std::lock_guard lock(state_->mutex);
  Status fault = state_->Check(FaultOperation::kOpen, path);
  if (!fault.ok()) return fault;
  EDDY_ASSIGN_OR_RETURN(auto parent, state_->Parent(path));
  auto& [directory, name] = parent;
  auto it = directory->children.find(name);
  std::shared_ptr<Node> node;
  if (it != directory->children.end()) {
    node = it->second;
    if (node->is_directory) return InvalidArgument(path + " is a directory");
    if (mode == OpenMode::kCreateNew) return AlreadyExists("file " + path + " exists");
    if (mode == OpenMode::kCreateOrTruncate || mode == OpenMode::kCreateUncached) {
      node->data.clear();
      state_->Changed(path);
    }
  } else {
    if (mode == OpenMode::kReadOnly || mode == OpenMode::kReadWrite) {
      return NotFound("opening " + path + ": No such file or directory");
    }
    node = std::make_shared<Node>();
    directory->children[name] = node;
    state_->Changed(path);
  }
  return std::unique_ptr<File>(new MemoryFile(state_, node, path, mode != OpenMode::kReadOnly));
}

Status FaultInjectionFileSystem::SyncDirectory(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  Status fault = state_->Check(FaultOperation::kSyncDirectory, path);
  if (!fault.ok()) return fault;
  auto node = state_->Lookup(path);
  if (node == nullptr || !node->is_directory) return NotFound("no directory " + path);
  node->synced_children = node->children;
  ++state_->sync_count;
  return Status::Ok();
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  return MoveEntry(from, to, /*replace=*/true);
}

Status FaultInjectionFileSystem::RenameNoReplace(const std::string& from, const std::string& to) {
  return MoveEntry(from, to, /*replace=*/false);
}

Status FaultInjectionFileSystem::MoveEntry(const std::string& from, const std::string& to,
                                           bool replace) {
  std::lock_guard lock(state_->mutex);
  Status fault = state_->Check(FaultOperation::kRename, from);
  if (!fault.ok()) return fault;
  EDDY_ASSIGN_OR_RETURN(auto source, state_->Parent(from));
  EDDY_ASSIGN_OR_RETURN(auto target, state_->Parent(to));
  auto it = source.first->children.find(source.second);
  if (it == source.first->children.end()) return NotFound("renaming " + from + ": not found");
  if (!replace && target.first->children.count(target.second) > 0) {
    return AlreadyExists(to + " exists");
  }
  auto node = it->second;
  source.first->children.erase(it);
  target.first->children[target.second] = node;
  state_->Changed(from);
  state_->Changed(to);
  return Status::Ok();
}

Status FaultInjectionFileSystem::Remove(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  Status fault = state_->Check(FaultOperation::kRemove, path);
  if (!fault.ok()) return fault;
  EDDY_ASSIGN_OR_RETURN(auto parent, state_->Parent(path));
  auto it = parent.first->children.find(parent.second);
  if (it == parent.first->children.end()) return NotFound("removing " + path + ": not found");
  if (it->second->is_directory) return InvalidArgument(path + " is a directory");
  parent.first->children.erase(it);
  state_->Changed(path);
  return Status::Ok();
}

Status FaultInjectionFileSystem::RemoveDirectory(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  EDDY_ASSIGN_OR_RETURN(auto parent, state_->Parent(path));
  auto it = parent.first->children.find(parent.second);
  if (it == parent.first->children.end()) return NotFound("removing " + path + ": not found");
  if (!it->second->is_directory) return InvalidArgument(path + " is not a directory");
  if (!it->second->children.empty()) return FailedPrecondition(path + " is not empty");
  parent.first->children.erase(it);
  state_->Changed(path);
  return Status::Ok();
}

Result<std::vector<std::string>> FaultInjectionFileSystem::List(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr) return NotFound("listing " + path + ": No such file or directory");
  if (!node->is_directory) return InvalidArgument(path + " is not a directory");
  std::vector<std::string> names;
  for (const auto& [name, child] : node->children) names.push_back(name);
  return names;
}

Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard lock(state_->mutex);
  Status fault = state_->Check(FaultOperation::kTruncate, path);
  if (!fault.ok()) return fault;
  auto node = state_->Lookup(path);
  if (node == nullptr || node->is_directory) return NotFound("truncating " + path);
  node->data.resize(size, '\0');
  state_->Changed(path);
  return Status::Ok();
}

Result<uint64_t> FaultInjectionFileSystem::FileSize(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr || node->is_directory) return NotFound("stat of " + path);
  return static_cast<uint64_t>(node->data.size());
}

Result<bool> FaultInjectionFileSystem::Exists(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  return state_->Lookup(path) != nullptr;
}

Result<bool> FaultInjectionFileSystem::IsDirectory(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr) return NotFound("stat of " + path);
  return node->is_directory;
}

Status FaultInjectionFileSystem::CreateDirectory(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  EDDY_ASSIGN_OR_RETURN(auto parent, state_->Parent(path));
  auto it = parent.first->children.find(parent.second);
  if (it != parent.first->children.end()) {
    if (it->second->is_directory) return Status::Ok();
    return AlreadyExists(path + " exists and is a file");
  }
  auto node = std::make_shared<Node>();
  node->is_directory = true;
  parent.first->children[parent.second] = node;
  state_->Changed(path);
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::LockFile(const std::string& path) {
  std::lock_guard lock(state_->mutex);
  if (state_->locks.count(path)) {
    return FailedPrecondition("lock file " + path + " is held by another holder");
  }
  state_->locks[path] = true;
  return std::unique_ptr<FileLock>(new MemoryLock(state_, path));
}

Result<std::unique_ptr<DirectoryWatch>> FaultInjectionFileSystem::WatchDirectory(
    const std::string& path) {
  std::lock_guard lock(state_->mutex);
  auto node = state_->Lookup(path);
  if (node == nullptr || !node->is_directory)
    return NotFound("watching " + path + ": no directory");
  auto signal = std::make_shared<WatchSignal>();
  state_->watches[State::Normalize(path)].push_back(signal);
  return std::unique_ptr<DirectoryWatch>(new MemoryWatch(std::move(signal)));
}

}  // namespace eddy::io
