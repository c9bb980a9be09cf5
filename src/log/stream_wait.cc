// StreamImpl: waiting for commits. In process a condition variable; a read-only store follows
// the writer process by re-reading the commit journal whenever the stream directory changes
// (io::DirectoryWatch) and at least every follow_recheck_millis.
#include <algorithm>
#include <thread>

#include "log/stream_state.h"

namespace eddy::log::internal {

uint64_t StreamImpl::CommitNumber() {
  if (read_only()) Refresh().IgnoreError();  // a failed refresh shows the last number seen
  std::lock_guard lock(mu_);
  return commit_number_;
}

Status StreamImpl::WaitForCommit(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  return WaitUntil([&] { return deleted_ || !poisoned_.ok() || commit_number_ > seen; }, deadline);
}

Status StreamImpl::WaitUntil(const std::function<bool()>& ready_locked,
                             std::chrono::steady_clock::time_point deadline) {
  if (!read_only()) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, ready_locked);
    return Status::Ok();
  }
  // Another process writes: re-read the commit journal's tail whenever the stream directory
  // changes, at least every follow_recheck_millis, until ready or the deadline. The event
  // count is taken before each check, so a commit landing between the check and the wait
  // still ends the wait at once.
  const bool watched = WatchAvailable();
  const std::chrono::milliseconds interval(
      std::max<uint32_t>(1, context_->options.follow_recheck_millis));
  while (true) {
    uint64_t seen = watched ? WatchEvents() : 0;
    EDDY_RETURN_IF_ERROR(Refresh());
    {
      std::lock_guard lock(mu_);
      if (ready_locked()) return Status::Ok();
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::Ok();
    auto wait = std::min<std::chrono::steady_clock::duration>(deadline - now, interval);
    if (watched) {
      // Round up so a wait never spins at 0 ms just before the deadline.
      WaitForChange(seen, std::chrono::ceil<std::chrono::milliseconds>(wait));
    } else {
      // No watch can be set: polling at the re-check interval is the only wake-up.
      std::this_thread::sleep_for(wait);
    }
  }
}

bool StreamImpl::WatchAvailable() {
  std::lock_guard lock(watch_mu_);
  if (!watch_tried_) {
    watch_tried_ = true;
    auto watch = context_->fs->WatchDirectory(dir_);
    if (watch.ok()) {
      watch_ = std::move(*watch);
    } else {
      Logger()->info("no directory watch for {} ({}); following the writer by polling every {} ms",
                     dir_, watch.status().ToString(), context_->options.follow_recheck_millis);
    }
  }
  return watch_ != nullptr;
}

uint64_t StreamImpl::WatchEvents() {
  std::lock_guard lock(watch_mu_);
  return watch_events_;
}

void StreamImpl::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(watch_mu_);
  if (watch_events_ != seen) return;
  if (!watch_polling_) {
    watch_polling_ = true;
    lock.unlock();
    bool event = watch_->Wait(timeout);
    lock.lock();
    watch_polling_ = false;
    if (event) ++watch_events_;
    watch_cv_.notify_all();
    return;
  }
  // Another waiter polls: wait for its result (then poll ourselves if it timed out first).
  watch_cv_.wait_for(lock, timeout, [&] { return watch_events_ != seen || !watch_polling_; });
}

}  // namespace eddy::log::internal
