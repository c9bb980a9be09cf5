#include "app/shutdown.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace eddy::app {

ShutdownSignal& ShutdownSignal::Install() {
  static ShutdownSignal* instance = [] {
    auto* signal = new ShutdownSignal();  // lives for the process: the waiter thread uses it
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([signal, set] {
      int number = 0;
      while (sigwait(&set, &number) != 0) {
      }
      {
        std::lock_guard lock(signal->mutex_);
        signal->requested_ = true;
        signal->signal_number_ = number;
      }
      signal->changed_.notify_all();
    }).detach();
    return signal;
  }();
  return *instance;
}

bool ShutdownSignal::requested() const {
  std::lock_guard lock(mutex_);
  return requested_;
}

bool ShutdownSignal::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return requested_; });
}

void ShutdownSignal::Wait() const {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return requested_; });
}

void ShutdownSignal::Request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  changed_.notify_all();
}

int ShutdownSignal::signal_number() const {
  std::lock_guard lock(mutex_);
  return signal_number_;
}

}  // namespace eddy::app
