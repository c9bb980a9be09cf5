#include "log/sync_pool.h"

#include <algorithm>
#include <atomic>

#include "log/log_metrics.h"

namespace eddy::log::internal {

// One SyncAll call. Lives on the caller's stack: the caller returns only once no helper works
// on it (active == 0) and no ticket of it is queued.
struct SyncPool::Job {
  const std::vector<io::File*>* files = nullptr;
  std::vector<Status>* results = nullptr;
  std::atomic<size_t> next{0};
  size_t active = 0;  // helpers working on it; guarded by SyncPool::mu_
};

SyncPool::SyncPool(size_t max_parallel) : max_parallel_(std::max<size_t>(1, max_parallel)) {}

SyncPool::~SyncPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& helper : helpers_) helper.join();
}

void SyncPool::Work(Job& job) {
  const size_t count = job.files->size();
  for (size_t i = job.next.fetch_add(1); i < count; i = job.next.fetch_add(1)) {
    (*job.results)[i] = TimedSync(*(*job.files)[i]);
  }
}

void SyncPool::StartHelpersLocked() {
  if (!helpers_.empty()) return;
  for (size_t i = 0; i + 1 < max_parallel_; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

void SyncPool::HelperLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !tickets_.empty(); });
    if (tickets_.empty()) return;  // stopping, and nothing left to do
    Job* job = tickets_.front();
    tickets_.pop_front();
    ++job->active;
    lock.unlock();
    Work(*job);
    lock.lock();
    --job->active;
    done_cv_.notify_all();
  }
}

std::future<Status> SyncPool::SyncInBackground(io::File& file, bool drop_cached_pages) {
  // One thread per call: a roll happens once per segment_bytes (64 MiB by default), so the
  // thread's start is noise next to the flush it runs.
  return std::async(std::launch::async, [&file, drop_cached_pages] {
    Status status = file.Sync();
    if (status.ok() && drop_cached_pages) file.DropCachedPages();
    return status;
  });
}

std::vector<Status> SyncPool::SyncAll(const std::vector<io::File*>& files) {
  std::vector<Status> results(files.size());
  if (files.empty()) return results;
  if (files.size() == 1 || max_parallel_ == 1) {
    for (size_t i = 0; i < files.size(); ++i) results[i] = TimedSync(*files[i]);
    return results;
  }
  Job job;
  job.files = &files;
  job.results = &results;
  const size_t helpers = std::min(files.size(), max_parallel_) - 1;
  {
    std::lock_guard lock(mu_);
    StartHelpersLocked();
    for (size_t i = 0; i < helpers; ++i) tickets_.push_back(&job);
  }
  work_cv_.notify_all();
  Work(job);
  // Every file has been taken; withdraw tickets no helper picked up, then wait for the helpers
  // still finishing their last Sync.
  std::unique_lock lock(mu_);
  tickets_.erase(std::remove(tickets_.begin(), tickets_.end(), &job), tickets_.end());
  done_cv_.wait(lock, [&] { return job.active == 0; });
  return results;
}

}  // namespace eddy::log::internal
