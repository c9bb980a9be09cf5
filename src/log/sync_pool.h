// SyncPool: the bounded fsync fan-out of a log store. A commit touching N shard files flushes
// them in parallel (a batch spanning N shards waits for about one flush, not N in a row), but
// never with more than `max_parallel` Sync calls at once for one commit: a stream may have
// 1,024 shards, and one thread per touched shard per commit would be a thread storm.
//
// Ownership: one per LogStore (StoreContext), shared by its streams; its max_parallel - 1
// helper threads start on the first call that needs them and are joined by the destructor.
// Thread safety: SyncAll may be called from any number of threads at once; each call uses its
// own thread plus at most max_parallel - 1 helpers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"

namespace eddy::log::internal {

class SyncPool {
 public:
  explicit SyncPool(size_t max_parallel);
  ~SyncPool();
  SyncPool(const SyncPool&) = delete;
  SyncPool& operator=(const SyncPool&) = delete;

  // Calls Sync() on every file, at most max_parallel at once, and returns the statuses in the
  // order of `files`. Returns when every Sync has returned. The files must not be appended to
  // or truncated meanwhile (the caller holds its stream's write lock).
  std::vector<Status> SyncAll(const std::vector<io::File*>& files);

  size_t max_parallel() const { return max_parallel_; }

  // Starts file.Sync() on a thread of its own and returns its status through the future: a
  // segment rolled away mid-transaction is flushed while the appender fills the next one. The
  // file must stay open and must not be appended to or truncated until the future is ready;
  // the future's destructor waits for the Sync (std::async's future).
  // With `drop_cached_pages`, a successful Sync is followed by File::DropCachedPages.
  static std::future<Status> SyncInBackground(io::File& file, bool drop_cached_pages = false);

 private:
  struct Job;
  void StartHelpersLocked();
  void HelperLoop();
  static void Work(Job& job);

  const size_t max_parallel_;
  std::mutex mu_;
  std::condition_variable work_cv_;   // a ticket was queued, or stopping
  std::condition_variable done_cv_;   // a helper left a job
  std::deque<Job*> tickets_;          // guarded by mu_: one entry per helper a job may use
  bool stopping_ = false;             // guarded by mu_
  std::vector<std::thread> helpers_;  // started once under mu_
};

}  // namespace eddy::log::internal
