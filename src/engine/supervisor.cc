#include "engine/supervisor.h"

#include <algorithm>

namespace eddy::engine {

std::string_view ComponentKindName(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::kLog:
      return "log";
    case ComponentKind::kApi:
      return "api";
    case ComponentKind::kCapture:
      return "capture";
    case ComponentKind::kSink:
      return "sink";
  }
  return "component";
}

std::string_view ComponentStateName(ComponentState state) {
  switch (state) {
    case ComponentState::kRunning:
      return "running";
    case ComponentState::kFinished:
      return "finished";
    case ComponentState::kFailed:
      return "failed";
    case ComponentState::kStopped:
      return "stopped";
  }
  return "running";
}

Supervisor::~Supervisor() {
  StopAll().IgnoreError();
  // Destroyed in the stop order too: a server must not outlive the log it serves.
  for (Component* component : StopOrder()) {
    for (auto& owned : components_) {
      if (owned.get() == component) owned.reset();
    }
  }
}

std::vector<Component*> Supervisor::StopOrder() const {
  std::vector<Component*> order;
  {
    std::lock_guard lock(mu_);
    for (const auto& component : components_) {
      if (component) order.push_back(component.get());
    }
  }
  // By kind, latest first; within a kind, the last added first.
  std::stable_sort(order.begin(), order.end(), [](const Component* a, const Component* b) {
    return static_cast<int>(a->kind()) > static_cast<int>(b->kind());
  });
  std::vector<Component*> result;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    while (end < order.size() && order[end]->kind() == order[begin]->kind()) ++end;
    for (size_t i = end; i > begin; --i) result.push_back(order[i - 1]);
    begin = end;
  }
  return result;
}

void Supervisor::Add(std::unique_ptr<Component> component) {
  Component* raw = component.get();
  {
    std::lock_guard lock(mu_);
    components_.push_back(std::move(component));
  }
  raw->WatchEnd([this, raw] {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      ended_.push_back(raw);
    }
    ended_cv_.notify_all();
  });
}

std::optional<std::pair<std::string, Status>> Supervisor::WaitForEnd(
    std::chrono::milliseconds timeout) {
  Component* ended = nullptr;
  {
    std::unique_lock lock(mu_);
    if (!ended_cv_.wait_for(lock, timeout, [&] { return stopping_ || !ended_.empty(); }) ||
        stopping_) {
      return std::nullopt;
    }
    ended = ended_.front();
    ended_.pop_front();
  }
  return std::make_pair(ended->name(), ended->Stop());
}

Status Supervisor::StopAll() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ended_cv_.notify_all();
  Status first_error;
  for (Component* component : StopOrder()) {
    Status status = component->Stop();
    if (!status.ok() && first_error.ok()) {
      first_error = status.WithContext(std::string(ComponentKindName(component->kind())) + " " +
                                       component->name());
    }
  }
  return first_error;
}

std::vector<std::string> Supervisor::ProgressLines() const {
  std::vector<std::string> lines;
  Visit([&](const Component& component) {
    std::string line = component.ProgressLine();
    if (!line.empty()) lines.push_back(std::move(line));
  });
  return lines;
}

void Supervisor::Visit(const std::function<void(const Component&)>& visit) const {
  std::vector<std::shared_ptr<const Component>> components;
  {
    std::lock_guard lock(mu_);
    for (const auto& component : components_) {
      if (component) components.push_back(component);
    }
  }
  for (const auto& component : components) visit(*component);
}

std::shared_ptr<Component> Supervisor::Find(ComponentKind kind, std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& component : components_) {
    if (component && component->kind() == kind && component->name() == name) return component;
  }
  return nullptr;
}

Status Supervisor::Remove(ComponentKind kind, std::string_view name) {
  std::shared_ptr<Component> removed;
  {
    std::lock_guard lock(mu_);
    for (auto it = components_.begin(); it != components_.end(); ++it) {
      if (*it && (*it)->kind() == kind && (*it)->name() == name) {
        removed = std::move(*it);
        components_.erase(it);
        break;
      }
    }
    if (!removed) {
      return NotFound(std::string(ComponentKindName(kind)) + " '" + std::string(name) +
                      "' is not running");
    }
    ended_.erase(std::remove(ended_.begin(), ended_.end(), removed.get()), ended_.end());
  }
  return removed->Stop();
}

}  // namespace eddy::engine
