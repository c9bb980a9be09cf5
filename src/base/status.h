// Errors as values for every I/O and parse path.
//
// Status carries a code and a message written for the operator: what is wrong and, where
// known, how to fix it. Result<T> is either a T or a non-OK Status. Both are [[nodiscard]]:
// dropping an error on the floor is a compile warning (an error in the dev preset).
//
// Thread safety: values; no shared state.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace eddy {

// Serialized in a few places (log records of errors, API mapping); values never change.
enum class ErrorCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,    // the caller's input is malformed or out of range
  kNotFound = 2,           // a named thing does not exist
  kAlreadyExists = 3,      // creating something that exists
  kCorruption = 4,         // stored or received bytes fail a check (CRC, framing, bounds)
  kIoError = 5,            // the operating system refused an I/O call
  kNoSpace = 6,            // the disk is full; retriable once space returns
  kOutOfRange = 7,         // a position beyond what exists
  kTrimmed = 8,            // a position behind the retention horizon
  kUnavailable = 9,        // a peer cannot be reached now; retriable
  kTimeout = 10,           // a deadline passed; retriable
  kFailedPrecondition = 11,// the system is not in a state that allows the call
  kUnimplemented = 12,     // a feature that this build does not have
  kInternal = 13,          // a bug: an invariant failed
  kAborted = 14,           // stopped on request (shutdown)
  kPermissionDenied = 15,  // credentials or privileges are insufficient
  kResourceExhausted = 16, // a limit was reached (sizes, counts)
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True for errors a caller may retry unchanged (disk full, peer unavailable, timeout).
  bool IsRetriable() const {
    return code_ == ErrorCode::kNoSpace || code_ == ErrorCode::kUnavailable ||
           code_ == ErrorCode::kTimeout;
  }

  // "Corruption: segment 00000001.seg offset 4096: CRC mismatch".
  std::string ToString() const;

  // Returns a copy with `context` prepended to the message ("opening shard 3: ...").
  Status WithContext(std::string_view context) const;

  // Marks the status as deliberately not acted on, with a reason for the reader.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(ErrorCode::kNotFound, std::move(message));
}
inline Status AlreadyExists(std::string message) {
  return Status(ErrorCode::kAlreadyExists, std::move(message));
}
inline Status Corruption(std::string message) {
  return Status(ErrorCode::kCorruption, std::move(message));
}
inline Status IoError(std::string message) {
  return Status(ErrorCode::kIoError, std::move(message));
}
inline Status NoSpace(std::string message) {
  return Status(ErrorCode::kNoSpace, std::move(message));
}
inline Status OutOfRange(std::string message) {
  return Status(ErrorCode::kOutOfRange, std::move(message));
}
inline Status Trimmed(std::string message) {
  return Status(ErrorCode::kTrimmed, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(ErrorCode::kUnavailable, std::move(message));
}
inline Status Timeout(std::string message) {
  return Status(ErrorCode::kTimeout, std::move(message));
}
inline Status FailedPrecondition(std::string message) {
  return Status(ErrorCode::kFailedPrecondition, std::move(message));
}
inline Status Unimplemented(std::string message) {
  return Status(ErrorCode::kUnimplemented, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(ErrorCode::kInternal, std::move(message));
}
inline Status Aborted(std::string message) {
  return Status(ErrorCode::kAborted, std::move(message));
}
inline Status PermissionDenied(std::string message) {
  return Status(ErrorCode::kPermissionDenied, std::move(message));
}
inline Status ResourceExhausted(std::string message) {
  return Status(ErrorCode::kResourceExhausted, std::move(message));
}

// Either a value or a non-OK Status. Constructing a Result from an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Status status) : storage_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(storage_).ok() && "Result built from an OK status");
  }

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // The error; Status::Ok() when a value is present.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(storage_); }

  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace eddy

// Propagates a non-OK Status from an expression returning Status.
#define EDDY_RETURN_IF_ERROR(expression)           \
  do {                                             \
    ::eddy::Status eddy_status_ = (expression);    \
    if (!eddy_status_.ok()) return eddy_status_;   \
  } while (0)

#define EDDY_CONCAT_INNER(a, b) a##b
#define EDDY_CONCAT(a, b) EDDY_CONCAT_INNER(a, b)

// `EDDY_ASSIGN_OR_RETURN(auto x, ComputeResult());` declares x from the Result's value or
// returns its Status from the enclosing function.
#define EDDY_ASSIGN_OR_RETURN(declaration, expression)                              \
  auto EDDY_CONCAT(eddy_result_, __LINE__) = (expression);                          \
  if (!EDDY_CONCAT(eddy_result_, __LINE__).ok())                                    \
    return EDDY_CONCAT(eddy_result_, __LINE__).status();                            \
  declaration = std::move(EDDY_CONCAT(eddy_result_, __LINE__)).value()
