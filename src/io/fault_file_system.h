// FaultInjectionFileSystem: an in-memory FileSystem for tests that models what a crash keeps.
//
// It tracks, per file, the bytes last made durable by File::Sync(), and per directory, the
// entries last made durable by SyncDirectory(). SimulateCrash() throws away everything else:
// un-synced file bytes, and directory entries created, renamed or removed since the
// directory's last sync (a file created and synced but whose directory was never synced
// vanishes, as it can on ext4/xfs).
//
// Faults: a byte capacity (appends past it write what fits, then fail with kNoSpace: a short
// write), and one-shot or persistent failures injected on chosen operations, optionally only
// for paths containing a substring.
//
// Directory watches (WatchDirectory) are signalled by every change this file system makes in
// the watched directory: a file created, appended to, truncated, renamed or removed there.
//
// Paths are absolute-looking strings ("/data/streams/x"); the root "/" always exists.
// Thread safety: every method may be called from any thread (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/file_system.h"

namespace eddy::io {

enum class FaultOperation : uint8_t {
  kAppend,
  kSync,
  kSyncDirectory,
  kOpen,
  kRename,
  kRemove,
  kTruncate,
  kRead,
};

class FaultInjectionFileSystem final : public FileSystem {
 public:
  FaultInjectionFileSystem();
  ~FaultInjectionFileSystem() override;

  // --- fault control ---
  // Total bytes all files may hold; 0 = unlimited. Appends beyond write what fits, then fail
  // with kNoSpace.
  void SetCapacity(uint64_t bytes);
  // The next `count` calls of `operation` on a path containing `path_substring` (empty = any)
  // fail with `error`, after `skip` matching calls succeed. count = UINT32_MAX: until cleared.
  // An injected append failure writes half of the bytes first (a short write).
  void InjectFault(FaultOperation operation, Status error, std::string path_substring = "",
                   uint32_t skip = 0, uint32_t count = 1);
  void ClearFaults();
  // Makes every File::Sync() take this long (outside the lock), like a real disk's flush, so
  // that tests of batching see concurrent callers overlap.
  void SetSyncLatency(std::chrono::microseconds latency);
  // Drops everything not durable, as a power loss would. Open File handles keep working on
  // orphaned state and must not be used afterwards (close the store first).
  void SimulateCrash();

  // --- inspection ---
  uint64_t BytesUsed() const;
  // Durable content of a file (what would survive a crash now), or kNotFound.
  Result<std::string> DurableContent(const std::string& path) const;
  // Overwrites one byte of a file, durable at once (simulates media corruption).
  Status CorruptByte(const std::string& path, uint64_t offset, char xor_mask = 0x5a);
  uint64_t sync_count() const;
  // Bytes returned by File::ReadAt so far (to check that recovery reads little).
  uint64_t bytes_read() const;

  // --- FileSystem ---
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status SyncDirectory(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RenameNoReplace(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status RemoveDirectory(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<bool> IsDirectory(const std::string& path) override;
  Status CreateDirectory(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path) override;

  struct Node;
  struct State;

 private:
  // Rename and RenameNoReplace (replace = false: kAlreadyExists when `to` exists).
  Status MoveEntry(const std::string& from, const std::string& to, bool replace);

  std::shared_ptr<State> state_;
};

}  // namespace eddy::io
