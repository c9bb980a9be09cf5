// Turns SIGINT/SIGTERM into a stop request that long-running commands wait on.
//
// Install() blocks the signals in the calling thread (call it before starting other threads,
// so they inherit the mask) and starts a thread that waits for them with sigwait; the first
// signal sets the stop flag and wakes every waiter. Nothing runs inside a signal handler.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace eddy::app {

class ShutdownSignal {
 public:
  static ShutdownSignal& Install();

  bool requested() const;
  // Waits until a stop is requested or `timeout` passes; returns requested().
  bool WaitFor(std::chrono::milliseconds timeout) const;
  void Wait() const;
  // Requests a stop from inside the process (tests, fatal errors).
  void Request();
  int signal_number() const;

 private:
  ShutdownSignal() = default;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool requested_ = false;
  int signal_number_ = 0;
};

}  // namespace eddy::app
