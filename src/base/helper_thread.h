// A second thread that runs one task at a time for its owner: Run hands it a task, Wait
// returns once that task has run. Meant for splitting a batch's per-record work in two (the
// owner does one half while the helper does the other), where starting a thread per batch
// would cost more than the work.
//
// Threads: Run and Wait are called from one thread at a time (the owner's), Run never again
// before Wait. The task runs on the helper thread and must not touch the HelperThread. The
// destructor lets a task that is running finish, drops one that has not started, and joins.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "base/thread_name.h"

namespace eddy {

class HelperThread {
 public:
  // `name` names the thread (base/thread_name.h): what it helps, for per-thread CPU figures.
  explicit HelperThread(std::string name = "helper")
      : thread_([this, name = std::move(name)] {
          NameCurrentThread(name);
          Loop();
        }) {}
  ~HelperThread() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  void Run(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      task_ = std::move(task);
      done_ = false;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stopping_ || task_ != nullptr; });
      if (stopping_) return;
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      task();
      lock.lock();
      done_ = true;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> task_;  // guarded by mu_
  bool done_ = true;            // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::thread thread_;          // last: starts after the members it uses
};

}  // namespace eddy
