// ApiError: an error as AWS shapes it on the wire: HTTP status, `__type` (the error code the
// SDKs raise as an exception name) and `message`.
//
// Thread safety: plain values.
#pragma once

#include <string>
#include <utility>

namespace eddy::api {

struct ApiError {
  int http_status = 400;
  std::string type;     // e.g. "ResourceNotFoundException"
  std::string message;  // for the operator; botocore shows it verbatim
};

inline ApiError MakeApiError(std::string type, std::string message, int http_status = 400) {
  return ApiError{http_status, std::move(type), std::move(message)};
}
inline ApiError ValidationError(std::string message) {
  return MakeApiError("ValidationException", std::move(message));
}
inline ApiError SerializationError(std::string message) {
  return MakeApiError("SerializationException", std::move(message));
}
inline ApiError InvalidArgumentError(std::string message) {
  return MakeApiError("InvalidArgumentException", std::move(message));
}
inline ApiError ResourceNotFoundError(std::string message) {
  return MakeApiError("ResourceNotFoundException", std::move(message));
}
inline ApiError ResourceInUseError(std::string message) {
  return MakeApiError("ResourceInUseException", std::move(message));
}
inline ApiError LimitExceededError(std::string message) {
  return MakeApiError("LimitExceededException", std::move(message));
}
inline ApiError InternalFailure(std::string message) {
  return MakeApiError("InternalFailure", std::move(message), 500);
}

}  // namespace eddy::api
