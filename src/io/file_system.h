// FileSystem: every file operation eddy performs, behind an interface so tests can inject
// faults (crash = drop what was not fsync'd, short writes, ENOSPC, EIO).
//
// Two implementations: PosixFileSystem (the real one, below) and FaultInjectionFileSystem
// (io/fault_file_system.h, in memory, for tests).
//
// Durability contract (the POSIX one, which the fault-injecting one models):
// - bytes appended to a file are durable only after File::Sync() returns OK;
// - a newly created, renamed or removed directory entry is durable only after
//   SyncDirectory() of the directory that holds it returns OK;
// - after a failed Sync() the state of the file is unknown; callers must not retry the sync
//   and assume the data is safe ("fsyncgate"): eddy stops writing and asks for a reopen.
// - POSIX: after every 1 MiB appended without a Sync, Append starts the kernel's write-back of
//   the file without waiting for it (sync_file_range), so a later Sync has little left to
//   write; it makes nothing durable by itself. A file opened kCreateUncached writes past the
//   page cache instead (below); its bytes are no more durable before Sync than any others.
//
// Thread safety: FileSystem methods may be called from any thread. A File may be used by
// several threads for ReadAt concurrently; Append/Truncate/Sync need external serialization.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace eddy::io {

enum class OpenMode : uint8_t {
  kReadOnly = 0,          // existing file, reads only
  kReadWrite = 1,         // existing file, reads and appends
  kCreateNew = 2,         // create; fails with kAlreadyExists when it exists
  kCreateOrTruncate = 3,  // create or truncate to zero length
  // kCreateOrTruncate for a file written from start to end in large appends and not read back
  // soon (a large transaction's log segments). POSIX: the appends bypass the page cache
  // (O_DIRECT, whole blocks from a buffer of the file's own, up to 1 MiB not yet written)
  // until the first Sync or Truncate, which writes the rest; from then on the file is a plain
  // one. ReadAt sees every appended byte but must not run concurrently with the appends while
  // they bypass the cache. The durability contract is unchanged.
  kCreateUncached = 4
};

class File {
 public:
  virtual ~File() = default;
  // Appends all of `bytes` at the end of the file, or returns an error; after an error a prefix
  // of `bytes` may have been written (a short write), which the caller must truncate away.
  virtual Status Append(std::string_view bytes) = 0;
  // Reads up to `size` bytes at `offset` into `out`; returns how many were read (fewer only at
  // end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const = 0;
  // fdatasync: the file's bytes (and size) are durable when this returns OK.
  virtual Status Sync() = 0;
  virtual Result<uint64_t> Size() const = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // A hint: the file's bytes will not be read again soon, so the page cache may drop its clean
  // (synced) pages (POSIX: posix_fadvise DONTNEED). Changes nothing the file holds; dirty pages
  // stay until written back. A no-op by default.
  virtual void DropCachedPages() {}
  virtual const std::string& path() const = 0;
};

// An advisory exclusive lock held until destroyed (flock on POSIX).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// Wakes a waiter when an entry of one directory changes: a file in it created, appended to,
// truncated, renamed or removed, or the directory itself removed or moved. Created by
// FileSystem::WatchDirectory; destroying it stops the watch.
//
// Thread safety: one thread at a time calls Wait (callers sharing a watch elect one waiter).
class DirectoryWatch {
 public:
  virtual ~DirectoryWatch() = default;
  // Waits up to `timeout` for a change not yet reported (a change since the previous Wait
  // returned, or since the watch was created, ends the wait at once) and consumes every
  // pending change. Returns whether there was one. A false return is no proof of no change:
  // callers re-check what they wait for at an interval of their own as well.
  virtual bool Wait(std::chrono::milliseconds timeout) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;
  virtual Status SyncDirectory(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)); durable after SyncDirectory of the parent.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Atomically gives `from` the name `to` unless `to` exists: kAlreadyExists then, and `from`
  // stays as it was. Atomic across processes (renameat2 RENAME_NOREPLACE, or link(2) where
  // the file system refuses that flag): of two callers racing for one name, exactly one wins.
  // Durable after SyncDirectory of the parent.
  virtual Status RenameNoReplace(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDirectory(const std::string& path) = 0;
  // Names (not paths) of the entries in `path`, sorted; kNotFound when it does not exist.
  virtual Result<std::vector<std::string>> List(const std::string& path) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Result<bool> IsDirectory(const std::string& path) = 0;
  // Creates one directory; OK when it already exists.
  virtual Status CreateDirectory(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing); kFailedPrecondition when another
  // holder (another process) has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  // Watches the existing directory `path` (see DirectoryWatch). kUnimplemented by default, and
  // an error where no watch can be set (POSIX: inotify unavailable or its limits reached):
  // callers then poll.
  virtual Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path);
  // The file's last modification time in milliseconds since the epoch (POSIX: st_mtim).
  // kUnimplemented by default (in-memory file systems keep no clock); callers treat the time
  // as unknown.
  virtual Result<int64_t> ModifiedTimeMs(const std::string& path);

  // Helpers built on the primitives.
  // Writes `bytes` to `path` atomically and durably: temp file, fsync, rename, fsync dir.
  Status WriteFileAtomically(const std::string& path, std::string_view bytes);
  Result<std::string> ReadFile(const std::string& path);
  // Creates `path` and its missing parents, syncing each parent whose entry was added.
  Status CreateDirectories(const std::string& path);
  // Removes a directory tree (files and subdirectories).
  Status RemoveTree(const std::string& path);
};

// The process-wide POSIX file system.
FileSystem* DefaultFileSystem();

// "a/b" from "a/b/c"; "." when there is no slash.
std::string ParentPath(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace eddy::io
