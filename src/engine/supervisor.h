// Supervisor: owns the running components of an engine (the change log, the API server,
// captures, sinks) with typed states, and stops them in the one safe order.
//
// Order: components are started by their owner (engine.cc) log first, then the API server,
// captures, sinks, and handed to Add as they start. StopAll stops by kind in reverse (sinks
// drain first, then captures and their heartbeats stop writing, then the API, the log last),
// within a kind the last added first. A component that fails to start is never added; its
// owner stops what was added (the destructor does).
//
// Ending by itself: a capture ends on a fatal error or a finished initial_only snapshot. It
// reports that through the callback WatchEnd gave it; WaitForEnd wakes on it (no polling).
//
// Removing: Remove takes one component out (a sink deleted at run time) and stops it; Visit
// and Find keep what they hand out alive while the caller uses it. The owner does not call
// Remove once StopAll has begun (the engine's admin lock orders them).
//
// Thread safety: Add, StopAll and WaitForEnd from the owner's threads; Remove, Find,
// ProgressLines and Visit from any thread. Lock order: the supervisor's mutex is never held
// while a component is stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace eddy::engine {

// In start order; values never change (they appear in logs).
enum class ComponentKind : uint8_t { kLog = 0, kApi = 1, kCapture = 2, kSink = 3 };
enum class ComponentState : uint8_t {
  kRunning = 0,
  kFinished = 1,  // ended by itself without an error (initial_only snapshot done)
  kFailed = 2,    // ended by itself with an error
  kStopped = 3,   // stopped by the supervisor
};
std::string_view ComponentKindName(ComponentKind kind);     // "log", "api", "capture", "sink"
std::string_view ComponentStateName(ComponentState state);  // "running", ...

class Component {
 public:
  virtual ~Component() = default;
  virtual ComponentKind kind() const = 0;
  virtual const std::string& name() const = 0;
  virtual ComponentState state() const = 0;
  // One line for the operator (`eddy status`, the progress log); empty for none.
  virtual std::string ProgressLine() const = 0;
  // Stops (draining what it owns); returns the error that ended the component, or OK.
  // Idempotent.
  virtual Status Stop() = 0;
  // Called once, before Add returns: `ended` is to be called (from any thread, at most once)
  // when the component ends by itself. Components that never do ignore it.
  virtual void WatchEnd(std::function<void()> ended) { (void)ended; }
};

class Supervisor {
 public:
  Supervisor() = default;
  ~Supervisor();  // StopAll()
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Takes a started component.
  void Add(std::unique_ptr<Component> component);
  // Waits up to `timeout` for a component to end by itself; returns its name and the status
  // its Stop() reports. Each ended component is reported once.
  std::optional<std::pair<std::string, Status>> WaitForEnd(std::chrono::milliseconds timeout);
  // Wakes WaitForEnd callers (with nothing) and stops every component in the safe order;
  // returns the first error. Idempotent.
  Status StopAll();

  std::vector<std::string> ProgressLines() const;
  // Calls `visit` with each component (in start order) while holding no component lock.
  void Visit(const std::function<void(const Component&)>& visit) const;
  // The component of `kind` named `name`, or null.
  std::shared_ptr<Component> Find(ComponentKind kind, std::string_view name) const;
  // Takes the component of `kind` named `name` out and stops it (outside the lock); returns
  // its Stop() status, or kNotFound.
  Status Remove(ComponentKind kind, std::string_view name);

 private:
  std::vector<Component*> StopOrder() const;

  mutable std::mutex mu_;
  std::condition_variable ended_cv_;
  std::vector<std::shared_ptr<Component>> components_;
  std::deque<Component*> ended_;  // ended by themselves, not reported yet
  bool stopping_ = false;
};

}  // namespace eddy::engine
