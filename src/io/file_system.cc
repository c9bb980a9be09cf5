#include "io/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/thread_name.h"

namespace eddy::io {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  std::string message = what + " " + path + ": " + std::strerror(error);
  switch (error) {
    case ENOENT:
      return NotFound(message);
    case EEXIST:
      return AlreadyExists(message);
    case ENOSPC:
    case EDQUOT:
      return NoSpace(message + " (free disk space; appends resume once space returns)");
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDenied(message);
    default:
      return IoError(message);
  }
}

// Bytes appended between two Syncs after which Append starts the kernel's write-back of the
// file (RocksDB's bytes_per_sync). Without it a large write (a snapshot's transaction, a
// Parquet object) sits dirty in the page cache until its fsync, which then writes all of it
// while the caller waits; with it the fsync finds little left. 1 MiB: measured against 8 MiB
// and none for a 290 MB transaction (docs/benchmarks.md), both hints alike.
constexpr uint64_t kWritebackBytes = 1u << 20;

class PosixFile : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  Status Append(std::string_view bytes) override {
    appended_since_writeback_ += bytes.size();
    while (!bytes.empty()) {
      ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("writing", path_, errno);
      }
      bytes.remove_prefix(static_cast<size_t>(written));
    }
    if (appended_since_writeback_ >= kWritebackBytes) {
      // A hint: it starts writing the file's dirty pages (offset 0, length 0: to its end) and
      // returns without waiting. Durability still comes only from Sync; an error of this
      // write-back is reported by the next fdatasync, so the return value adds nothing.
      (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
      appended_since_writeback_ = 0;
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const override {
    size_t total = 0;
    while (total < size) {
      ssize_t n = ::pread(fd_, out + total, size - total, static_cast<off_t>(offset + total));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("reading", path_, errno);
      }
      if (n == 0) break;
      total += static_cast<size_t>(n);
    }
    return total;
  }

  Status Sync() override {
    appended_since_writeback_ = 0;
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fsync of", path_, errno);
    return Status::Ok();
  }

  void DropCachedPages() override { (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED); }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat of", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncating", path_, errno);
    }
    return Status::Ok();
  }

  const std::string& path() const override { return path_; }

 protected:
  std::string path_;
  int fd_;
  uint64_t appended_since_writeback_ = 0;  // Append and Sync are serialized by the caller
};

// Copies `n` bytes with non-temporal stores where the CPU has them (SSE2 on x86-64): the
// destination is a direct-write buffer the device reads next, so its lines need not come into
// the cache (a plain copy into a buffer just read by the device stalled on each line: 4.7% of
// a snapshot's samples). Ends with a store fence, so the bytes are visible to the thread and
// the device that write them out.
void CopyPastTheCache(char* to, const char* from, size_t n) {
#if defined(__x86_64__)
  size_t head = (16 - reinterpret_cast<uintptr_t>(to) % 16) % 16;
  if (n < head + 64) {
    std::memcpy(to, from, n);
    return;
  }
  std::memcpy(to, from, head);
  to += head;
  from += head;
  n -= head;
  while (n >= 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(to), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(to + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(to + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(to + 48), d);
    to += 64;
    from += 64;
    n -= 64;
  }
  _mm_sfence();
  std::memcpy(to, from, n);
#else
  std::memcpy(to, from, n);
#endif
}

// OpenMode::kCreateUncached: O_DIRECT writes of whole blocks from aligned buffers of its own,
// past the page cache. A buffered write of a large file costs the kernel a page-cache page per
// 4 KiB (allocation, copy, delayed allocation, write-back, and on a VM a host fault for each
// fresh page): about 1.2 s of CPU for 2.9 GB here, against 0.26 s for the same bytes copied
// into a buffer and written direct (docs/benchmarks.md).
//
// Appends fill one buffer; a full one (1 MiB) is written by a helper thread of the file's own
// while the next fills, so the appending thread does not wait for the disk (a direct write
// does not return before the device has the bytes). The first Sync or Truncate writes the
// partial last block (zero-padded, the file then truncated to its true size), stops the
// helper and turns the file into a plain buffered one for good: what follows is the small
// appends of an active segment, which the page cache serves better. Where O_DIRECT is
// refused (tmpfs, some FUSE file systems) the file is buffered from the start.
class PosixUncachedFile final : public PosixFile {
 public:
  // Direct writes need offsets, lengths and memory aligned to the device's block; 4 KiB
  // covers 512-byte and 4 KiB devices alike.
  static constexpr size_t kAlignment = 4096;
  // A buffer is written out once it holds this much.
  static constexpr size_t kFlushBytes = 1u << 20;
  static constexpr size_t kBufferBytes = kFlushBytes + kAlignment;

  PosixUncachedFile(std::string path, int fd) : PosixFile(std::move(path), fd) {
    // Mapped, not malloc'd: page-aligned, and given back to the system when released (freed
    // 1 MiB blocks stayed in malloc's heap: 1.5 MiB of resident memory per rolled segment).
    for (char*& buffer : buffers_) {
      void* memory =
          ::mmap(nullptr, kBufferBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (memory == MAP_FAILED) break;
      buffer = static_cast<char*>(memory);
    }
    if (buffers_[0] == nullptr || buffers_[1] == nullptr) {
      ReleaseBuffers();
      (void)SetBuffered();  // no memory: a plain file
    }
  }
  ~PosixUncachedFile() override {
    // Bytes appended and never synced are written as a buffered file would have them; errors
    // cannot be reported here (nothing unsynced was promised).
    if (uncached_) (void)LeaveUncached();
    StopWriter();
    ReleaseBuffers();
  }

  Status Append(std::string_view bytes) override {
    if (!uncached_) return PosixFile::Append(bytes);
    size_ += bytes.size();
    while (!bytes.empty()) {
      size_t take = std::min(kBufferBytes - pending_, bytes.size());
      CopyPastTheCache(buffers_[active_] + pending_, bytes.data(), take);
      pending_ += take;
      bytes.remove_prefix(take);
      if (pending_ >= kFlushBytes) {
        Status written = WriteFullBlocks();
        if (!written.ok()) return written;
        if (!uncached_) return PosixFile::Append(bytes);  // O_DIRECT refused: plain from here
      }
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const override {
    if (!uncached_) return PosixFile::ReadAt(offset, size, out);
    // Not on any hot path (the log reads a segment once it is committed, after its Sync): the
    // part on disk through an aligned bounce buffer, the rest from the pending buffer.
    EDDY_RETURN_IF_ERROR(WaitForWriter());
    size_t total = 0;
    std::unique_ptr<char, decltype(&std::free)> bounce(nullptr, &std::free);
    while (total < size && offset + total < size_) {
      uint64_t at = offset + total;
      size_t want = static_cast<size_t>(std::min<uint64_t>(size - total, size_ - at));
      if (at >= buffer_offset_) {
        std::memcpy(out + total, buffers_[active_] + (at - buffer_offset_), want);
        total += want;
        continue;
      }
      if (bounce == nullptr) {
        void* memory = nullptr;
        if (::posix_memalign(&memory, kAlignment, kAlignment) != 0) {
          return IoError("reading " + path_ + ": out of memory");
        }
        bounce.reset(static_cast<char*>(memory));
      }
      uint64_t block = at - at % kAlignment;
      ssize_t n = ::pread(fd_, bounce.get(), kAlignment, static_cast<off_t>(block));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("reading", path_, errno);
      }
      size_t in_block = static_cast<size_t>(at - block);
      if (static_cast<size_t>(n) <= in_block) return IoError("reading " + path_ + ": short read");
      size_t got = std::min(want, static_cast<size_t>(n) - in_block);
      std::memcpy(out + total, bounce.get() + in_block, got);
      total += got;
    }
    return total;
  }

  Status Sync() override {
    if (uncached_) EDDY_RETURN_IF_ERROR(LeaveUncached());
    return PosixFile::Sync();
  }

  Result<uint64_t> Size() const override {
    if (uncached_) return size_;
    return PosixFile::Size();
  }

  Status Truncate(uint64_t size) override {
    if (uncached_) EDDY_RETURN_IF_ERROR(LeaveUncached());
    return PosixFile::Truncate(size);
  }

 private:
  // Hands the whole blocks of the full active buffer to the helper (after the write before
  // it finished) and carries the partial block over into the other buffer. The first write
  // is made here: EINVAL there (O_DIRECT accepted at open but not for writes) turns the file
  // buffered and writes the pending bytes plainly instead.
  Status WriteFullBlocks() {
    size_t length = pending_ - pending_ % kAlignment;
    if (buffer_offset_ == 0) {
      ssize_t n = 0;
      do {
        n = ::pwrite(fd_, buffers_[active_], length, 0);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && errno == EINVAL) return FallBackToBuffered();
      if (n < 0) return ErrnoStatus("writing", path_, errno);
      EDDY_RETURN_IF_ERROR(WriteAt(buffers_[active_] + n, length - n, static_cast<uint64_t>(n)));
    } else {
      EDDY_RETURN_IF_ERROR(WaitForWriter());
      StartWriter();
      {
        std::lock_guard lock(mu_);
        job_ = Job{buffers_[active_], length, buffer_offset_};
        busy_ = true;
      }
      cv_.notify_all();
    }
    buffer_offset_ += length;
    pending_ -= length;
    std::memcpy(buffers_[1 - active_], buffers_[active_] + length, pending_);
    active_ = 1 - active_;
    return Status::Ok();
  }

  // Writes the `length` bytes at `data` at `offset`, all of them or an error.
  Status WriteAt(const char* data, size_t length, uint64_t offset) const {
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pwrite(fd_, data + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("writing", path_, errno);
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  // Writes whatever is pending (the last block zero-padded, the file then cut to its size)
  // and makes the file a plain buffered one, positioned at its end.
  Status LeaveUncached() {
    if (!uncached_) return Status::Ok();
    EDDY_RETURN_IF_ERROR(WaitForWriter());
    StopWriter();
    if (pending_ > 0) {
      size_t padded = (pending_ + kAlignment - 1) / kAlignment * kAlignment;
      std::memset(buffers_[active_] + pending_, 0, padded - pending_);
      Status written = WriteAt(buffers_[active_], padded, buffer_offset_);
      if (!written.ok() && buffer_offset_ == 0) return FallBackToBuffered();
      EDDY_RETURN_IF_ERROR(written);
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        return ErrnoStatus("truncating", path_, errno);
      }
      buffer_offset_ += pending_;
      pending_ = 0;
    }
    ReleaseBuffers();
    return SetBuffered();
  }

  // Only before anything is on disk (buffer_offset_ is 0): a failed direct write may still
  // have left part of its bytes, so the file is cut back before the plain append.
  Status FallBackToBuffered() {
    EDDY_RETURN_IF_ERROR(SetBuffered());
    if (::ftruncate(fd_, static_cast<off_t>(buffer_offset_)) != 0) {
      return ErrnoStatus("truncating", path_, errno);
    }
    std::string_view pending(buffers_[active_], pending_);
    pending_ = 0;
    Status appended = PosixFile::Append(pending);
    ReleaseBuffers();
    return appended;
  }

  // A plain file needs no buffers: a transaction keeps the segments it rolled away from open
  // until its commit, and 2 MiB each would add up (a 10,000,000-row snapshot rolls 45).
  void ReleaseBuffers() {
    for (char*& buffer : buffers_) {
      if (buffer != nullptr) ::munmap(buffer, kBufferBytes);
      buffer = nullptr;
    }
  }

  // Clears O_DIRECT and sets O_APPEND (both may change on an open file; Linux ignores
  // pwrite's offset under O_APPEND, so the uncached writes ran without it).
  Status SetBuffered() {
    uncached_ = false;
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, (flags & ~O_DIRECT) | O_APPEND) != 0) {
      return ErrnoStatus("changing the open flags of", path_, errno);
    }
    return Status::Ok();
  }

  // --- the helper thread ---
  struct Job {
    const char* data = nullptr;
    size_t length = 0;
    uint64_t offset = 0;
  };
  void StartWriter() {
    if (writer_.joinable()) return;
    writer_ = std::thread([this] {
      NameCurrentThread("file-writer");
      std::unique_lock lock(mu_);
      while (true) {
        cv_.wait(lock, [&] { return busy_ || stopping_; });
        if (!busy_) return;
        Job job = job_;
        lock.unlock();
        Status written = WriteAt(job.data, job.length, job.offset);
        lock.lock();
        if (!written.ok() && writer_status_.ok()) writer_status_ = std::move(written);
        busy_ = false;
        cv_.notify_all();
      }
    });
  }
  // Waits for the write in flight; the first error of any helper write, which stays (the
  // file's content past its last Sync is unknown from then on).
  Status WaitForWriter() const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
    return writer_status_;
  }
  void StopWriter() {
    if (!writer_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    writer_.join();
  }

  char* buffers_[2] = {nullptr, nullptr};  // kBufferBytes each, mapped (page-aligned)
  int active_ = 0;                         // the buffer being filled
  size_t pending_ = 0;                     // bytes in the active buffer, from buffer_offset_
  uint64_t buffer_offset_ = 0;  // a multiple of kAlignment while uncached: the file before it
                                // is written or being written
  uint64_t size_ = 0;           // the file's size with the pending bytes
  bool uncached_ = true;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Job job_;                // guarded by mu_: the other buffer's blocks, while busy_
  bool busy_ = false;      // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  Status writer_status_;   // guarded by mu_
  std::thread writer_;
};

// inotify on one directory. The events themselves are not needed: any of them means "look
// again", so Wait drains the queue and reports that something came.
class InotifyWatch final : public DirectoryWatch {
 public:
  explicit InotifyWatch(int fd) : fd_(fd) {}
  ~InotifyWatch() override { ::close(fd_); }

  bool Wait(std::chrono::milliseconds timeout) override {
    pollfd entry{fd_, POLLIN, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) return false;
    alignas(inotify_event) char buffer[4096];
    while (::read(fd_, buffer, sizeof buffer) > 0) {
    }
    return true;
  }

 private:
  int fd_;
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR | O_APPEND;
        break;
      case OpenMode::kCreateNew:
        flags |= O_RDWR | O_APPEND | O_CREAT | O_EXCL;
        break;
      case OpenMode::kCreateOrTruncate:
        flags |= O_RDWR | O_APPEND | O_CREAT | O_TRUNC;
        break;
      case OpenMode::kCreateUncached: {
        int fd = ::open(path.c_str(), O_CLOEXEC | O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
        if (fd >= 0) return std::unique_ptr<File>(new PosixUncachedFile(path, fd));
        if (errno != EINVAL) return ErrnoStatus("opening", path, errno);
        flags |= O_RDWR | O_APPEND | O_CREAT | O_TRUNC;  // O_DIRECT refused: a plain file
        break;
      }
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("opening", path, errno);
    return std::unique_ptr<File>(new PosixFile(path, fd));
  }

  Status SyncDirectory(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("opening directory", path, errno);
    int rc = ::fsync(fd);
    int error = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync of directory", path, error);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("renaming to " + to + ":", from, errno);
    }
    return Status::Ok();
  }

  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
      return Status::Ok();
    }
    int error = errno;
    if (error == EEXIST) return AlreadyExists(to + " exists");
    if (error != EINVAL && error != ENOSYS && error != ENOTSUP) {
      return ErrnoStatus("renaming to " + to + ":", from, error);
    }
    // A file system without RENAME_NOREPLACE: a hard link is just as exclusive.
    if (::link(from.c_str(), to.c_str()) != 0) {
      error = errno;
      if (error == EEXIST) return AlreadyExists(to + " exists");
      return ErrnoStatus("linking to " + to + ":", from, error);
    }
    if (::unlink(from.c_str()) != 0) return ErrnoStatus("removing", from, errno);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("removing", path, errno);
    return Status::Ok();
  }

  Status RemoveDirectory(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus("removing directory", path, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> List(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("listing", path, errno);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      names.push_back(std::move(name));
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncating", path, errno);
    }
    return Status::Ok();
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat of", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<int64_t> ModifiedTimeMs(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat of", path, errno);
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  }

  Result<bool> Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat of", path, errno);
  }

  Result<bool> IsDirectory(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat of", path, errno);
    return S_ISDIR(st.st_mode);
  }

  Status CreateDirectory(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("creating directory", path, errno);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("opening lock file", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK) {
        return FailedPrecondition("lock file " + path +
                                  " is held by another process (another eddy writes this data "
                                  "directory; open it read-only or stop the other process)");
      }
      return ErrnoStatus("locking", path, error);
    }
    return std::unique_ptr<FileLock>(new PosixLock(fd));
  }

  Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path) override {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return ErrnoStatus("creating an inotify instance to watch", path, errno);
    constexpr uint32_t kMask =
        IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
    if (::inotify_add_watch(fd, path.c_str(), kMask) < 0) {
      int error = errno;
      ::close(fd);
      return ErrnoStatus("watching directory", path, error);
    }
    return std::unique_ptr<DirectoryWatch>(new InotifyWatch(fd));
  }
};

}  // namespace

std::string ParentPath(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

Status FileSystem::WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::string temp = path + ".tmp";
  {
    EDDY_ASSIGN_OR_RETURN(auto file, Open(temp, OpenMode::kCreateOrTruncate));
    Status status = file->Append(bytes);
    if (status.ok()) status = file->Sync();
    if (!status.ok()) {
      Remove(temp).IgnoreError();  // best effort; the temp name is never read
      return status;
    }
  }
  EDDY_RETURN_IF_ERROR(Rename(temp, path));
  return SyncDirectory(ParentPath(path));
}

Result<int64_t> FileSystem::ModifiedTimeMs(const std::string& path) {
  return Unimplemented("this file system keeps no modification times (" + path + ")");
}

Result<std::unique_ptr<DirectoryWatch>> FileSystem::WatchDirectory(const std::string& path) {
  return Unimplemented("this file system cannot watch directory " + path + "; poll instead");
}

Result<std::string> FileSystem::ReadFile(const std::string& path) {
  EDDY_ASSIGN_OR_RETURN(auto file, Open(path, OpenMode::kReadOnly));
  EDDY_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string bytes(size, '\0');
  EDDY_ASSIGN_OR_RETURN(size_t read, file->ReadAt(0, size, bytes.data()));
  bytes.resize(read);
  return bytes;
}

Status FileSystem::CreateDirectories(const std::string& path) {
  EDDY_ASSIGN_OR_RETURN(bool exists, Exists(path));
  if (exists) return Status::Ok();
  std::string parent = ParentPath(path);
  if (parent != path && parent != "." && parent != "/") {
    EDDY_RETURN_IF_ERROR(CreateDirectories(parent));
  }
  EDDY_RETURN_IF_ERROR(CreateDirectory(path));
  return SyncDirectory(parent);
}

Status FileSystem::RemoveTree(const std::string& path) {
  EDDY_ASSIGN_OR_RETURN(bool exists, Exists(path));
  if (!exists) return Status::Ok();
  EDDY_ASSIGN_OR_RETURN(bool is_dir, IsDirectory(path));
  if (!is_dir) return Remove(path);
  EDDY_ASSIGN_OR_RETURN(auto names, List(path));
  for (const auto& name : names) EDDY_RETURN_IF_ERROR(RemoveTree(JoinPath(path, name)));
  return RemoveDirectory(path);
}

FileSystem* DefaultFileSystem() {
  static PosixFileSystem file_system;
  return &file_system;
}

}  // namespace eddy::io
