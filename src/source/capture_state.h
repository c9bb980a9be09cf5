#pragma once

// The lifecycle state a capture reports in its progress (PostgresCaptureProgress::state,
// MysqlCaptureProgress::state): one enum for both sources, named once for logs, `eddy status`,
// the admin API and the console.
//
//   kStarting ─▶ kSnapshot ─▶ kStreaming ◀─▶ kReconnecting
//        │            │            │
//        └────────────┴────────────┴──▶ kFinished | kStopped | kFailed   (terminal)
//
// kFinished: the capture ended by itself (a test's bounded run); kStopped: Stop() was called;
// kFailed: an error that retrying cannot fix, in progress().last_error.

#include <cstdint>
#include <ostream>
#include <string_view>

namespace eddy::source {

enum class CaptureState : uint8_t {
  kStarting = 0,
  kSnapshot = 1,
  kStreaming = 2,
  kReconnecting = 3,
  kFinished = 4,
  kStopped = 5,
  kFailed = 6,
};

// The lower-case name shown to operators ("streaming", ...).
constexpr std::string_view CaptureStateName(CaptureState state) {
  switch (state) {
    case CaptureState::kStarting:
      return "starting";
    case CaptureState::kSnapshot:
      return "snapshot";
    case CaptureState::kStreaming:
      return "streaming";
    case CaptureState::kReconnecting:
      return "reconnecting";
    case CaptureState::kFinished:
      return "finished";
    case CaptureState::kStopped:
      return "stopped";
    case CaptureState::kFailed:
      return "failed";
  }
  return "unknown";
}

// True for the states a capture never leaves.
constexpr bool IsTerminal(CaptureState state) {
  return state == CaptureState::kFinished || state == CaptureState::kStopped ||
         state == CaptureState::kFailed;
}

inline std::ostream& operator<<(std::ostream& out, CaptureState state) {
  return out << CaptureStateName(state);
}

}  // namespace eddy::source
