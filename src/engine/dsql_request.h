// The Aurora DSQL stream API (restJson1, service `dsql`) on eddy's API port: the requests,
// parsed into values before anything acts on them, and the error shapes the AWS SDKs read.
// A DSQL "cluster" is one of eddy's sources; a DSQL stream is an eddy stream created at run
// time that captures it (docs/dsql-stream-api.md).
//
//   POST   /stream/{clusterIdentifier}                      CreateStream
//   GET    /stream/{clusterIdentifier}/{streamIdentifier}   GetStream
//   GET    /stream/{clusterIdentifier}?max-results=&next-token=   ListStreams
//   DELETE /stream/{clusterIdentifier}/{streamIdentifier}?client-token=   DeleteStream
//
// Errors (restJson1): the HTTP status, an `x-amzn-errortype` header naming the shape, and a
// body {"message": ...} with the shape's members: ValidationException (400; `reason`,
// `fieldList` [{name, message}] naming the field), ConflictException (409) and
// ResourceNotFoundException (404) (`resourceId`, `resourceType`).
//
// The bodies and queries are untrusted bytes (fuzz target: fuzz_dsql_request.cc); parsing
// never throws and checks sizes, types and unknown members.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::engine {

inline constexpr std::string_view kDsqlPrefix = "/stream/";

enum class DsqlOperation : uint8_t {
  kCreateStream = 0,
  kGetStream = 1,
  kListStreams = 2,
  kDeleteStream = 3,
};

struct DsqlError {
  int http_status = 400;
  std::string type;     // "ValidationException", "ConflictException", ...
  std::string message;  // what is wrong and how to fix it
  // ValidationException: reason ("fieldValidationFailed", "cannotParse", "unknownOperation",
  // "other") and the fields at fault (name, message).
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;
  // ConflictException, ResourceNotFoundException: the resource.
  std::string resource_id;
  std::string resource_type;
};

DsqlError DsqlValidation(std::string field, std::string message);
DsqlError DsqlNotFound(std::string message, std::string resource_id, std::string resource_type);
DsqlError DsqlConflict(std::string message, std::string resource_id, std::string resource_type);

struct DsqlRoute {
  DsqlOperation operation = DsqlOperation::kListStreams;
  std::string cluster;
  std::string stream_id;
  uint32_t max_results = 10;  // ListStreams: 1-100
  std::string next_token;     // ListStreams: the opaque token of the previous page
  std::string client_token;   // DeleteStream
};

// `target` is the request target with its query ("/stream/c?max-results=5").
std::optional<DsqlError> ParseDsqlRoute(std::string_view method, std::string_view target,
                                        DsqlRoute* out);

struct DsqlCreateRequest {
  std::string kinesis_stream_arn;  // targetDefinition.kinesis.streamArn
  std::string role_arn;            // targetDefinition.kinesis.roleArn
  std::string stream_name;         // the Kinesis stream's name, from the ARN: the eddy stream
  std::string region;              // the ARN's region (the external target's signing region)
  std::string ordering;            // UNORDERED | ORDERED
  std::string format;              // JSON
  std::string client_token;        // empty when the client sent none
  std::map<std::string, std::string> tags;
};

// The body of CreateStream; every error names the field (targetDefinition.kinesis.streamArn,
// ordering, format, clientToken, tags).
std::optional<DsqlError> ParseDsqlCreateBody(std::string_view body, DsqlCreateRequest* out);

// The JSON body of an error (its type goes in the x-amzn-errortype header as well).
std::string RenderDsqlError(const DsqlError& error);

// A new stream identifier: 26 characters of [a-z0-9], from OpenSSL's random bytes.
std::string NewDsqlStreamId();

// Bodies larger than this are refused.
inline constexpr size_t kMaxDsqlBodyBytes = 64 * 1024;

}  // namespace eddy::engine
