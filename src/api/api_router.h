// ApiRouter: turns one HTTP request into one AWS JSON-protocol call. Dispatches on
// X-Amz-Target (`Kinesis_20131202.<Op>`, JSON 1.1; `DynamoDBStreams_20120810.<Op>`, JSON 1.0),
// checks SigV4 authentication, decodes the JSON body and shapes every error as AWS does:
// HTTP status, `{"__type": ..., "message": ...}`, `x-amzn-RequestId` and `x-amzn-ErrorType`.
//
// Every request is counted in the API probe (api_metrics.h: by service, operation and status,
// with its handling time).
//
// Thread safety: Handle may be called concurrently from connection threads.
#pragma once

#include <atomic>
#include <memory>

#include "api/api_context.h"
#include "api/api_metrics.h"
#include "api/dynamodb_streams_service.h"
#include "api/http.h"
#include "api/kinesis_service.h"
#include "api/sigv4.h"

namespace eddy::api {

inline constexpr std::string_view kKinesisTargetPrefix = "Kinesis_20131202.";
inline constexpr std::string_view kDynamoDbStreamsTargetPrefix = "DynamoDBStreams_20120810.";

class ApiRouter {
 public:
  // `context` must outlive the router.
  ApiRouter(const ApiContext* context, CredentialVerifier verifier)
      : context_(context), verifier_(std::move(verifier)), kinesis_(context),
        dynamodb_streams_(context) {}

  void Handle(const HttpRequest& request, HttpResponse* response);

  uint64_t requests_served() const { return requests_.load(std::memory_order_relaxed); }

 private:
  void Respond(const HttpRequest& request, HttpResponse* response);

  const ApiContext* context_;
  CredentialVerifier verifier_;
  KinesisService kinesis_;
  DynamoDbStreamsService dynamodb_streams_;
  std::atomic<uint64_t> requests_{0};
  ApiProbe probe_;
};

// A random request id in UUID form ("8c3f...-...").
std::string NewRequestId();

}  // namespace eddy::api
