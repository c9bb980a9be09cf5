#include "api/api_router.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>

#include "api/body_buffers.h"
#include "api/json_input.h"
#include "api/json_writer.h"
#include "base/logging.h"

namespace eddy::api {
namespace {

std::shared_ptr<logging::Logger> Log() {
  static auto logger = logging::Get("api");
  return logger;
}

constexpr std::string_view kJson10 = "application/x-amz-json-1.0";
constexpr std::string_view kJson11 = "application/x-amz-json-1.1";

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  uint64_t a = random();
  uint64_t b = random();
  char text[40];
  std::snprintf(text, sizeof(text), "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

void ApiRouter::Handle(const HttpRequest& request, HttpResponse* response) {
  auto started = std::chrono::steady_clock::now();
  try {
    Respond(request, response);
  } catch (const std::exception& exception) {
    // Nothing below is expected to throw (errors are values); this keeps the server serving
    // if a library does (e.g. std::bad_alloc on a hostile body).
    Log()->error("request failed with an exception what=\"{}\"", exception.what());
    response->status = 500;
    response->headers.clear();
    response->headers.emplace_back("x-amzn-requestid", NewRequestId());
    response->headers.emplace_back("content-type", std::string(kJson11));
    response->body = R"({"__type":"InternalFailure","message":"Internal service failure."})";
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  const std::string* target = request.Header("x-amz-target");
  std::string_view service = "unknown";
  std::string_view operation = "unknown";
  if (target != nullptr) {
    std::string_view text(*target);
    if (text.substr(0, kKinesisTargetPrefix.size()) == kKinesisTargetPrefix) {
      service = "kinesis";
      std::string_view name = text.substr(kKinesisTargetPrefix.size());
      if (KinesisService::Knows(name)) operation = name;
    } else if (text.substr(0, kDynamoDbStreamsTargetPrefix.size()) ==
               kDynamoDbStreamsTargetPrefix) {
      service = "dynamodbstreams";
      std::string_view name = text.substr(kDynamoDbStreamsTargetPrefix.size());
      if (DynamoDbStreamsService::Knows(name)) operation = name;
    }
  }
  probe_.Record(service, operation, response->status,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (Log()->should_log(logging::Level::kDebug)) {
    Log()->debug("request target={} status={} http={} micros={}", target ? *target : "-",
                 response->status, request.http_major,
                 std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count());
  }
}

void ApiRouter::Respond(const HttpRequest& request, HttpResponse* response) {
  std::string request_id = NewRequestId();
  const std::string* target_header = request.Header("x-amz-target");
  std::string_view target = target_header ? std::string_view(*target_header) : std::string_view();
  bool kinesis = target.substr(0, kKinesisTargetPrefix.size()) == kKinesisTargetPrefix;
  bool streams =
      target.substr(0, kDynamoDbStreamsTargetPrefix.size()) == kDynamoDbStreamsTargetPrefix;
  std::string_view operation;
  if (kinesis) operation = target.substr(kKinesisTargetPrefix.size());
  if (streams) operation = target.substr(kDynamoDbStreamsTargetPrefix.size());

  // Reply with the request's JSON content type; default by service.
  std::string content_type(streams ? kJson10 : kJson11);
  if (const std::string* type = request.Header("content-type")) {
    if (type->rfind(kJson10, 0) == 0) content_type = std::string(kJson10);
    if (type->rfind(kJson11, 0) == 0) content_type = std::string(kJson11);
  }

  auto send = [&](int status, std::string body, std::string_view error_type) {
    response->status = status;
    response->headers.emplace_back("x-amzn-requestid", request_id);
    response->headers.emplace_back("content-type", content_type);
    if (!error_type.empty()) response->headers.emplace_back("x-amzn-errortype", std::string(error_type));
    response->body = std::move(body);
  };
  auto send_error = [&](const ApiError& error) {
    JsonWriter w;
    w.BeginObject();
    w.Member("__type", error.type);
    w.Member("message", error.message);
    w.EndObject();
    send(error.http_status, w.Take(), error.type);
  };

  bool known = (kinesis && KinesisService::Knows(operation)) ||
               (streams && DynamoDbStreamsService::Knows(operation));
  if (!known) {
    send_error(MakeApiError("UnknownOperationException",
                            target.empty() ? "Missing X-Amz-Target header."
                                           : "Unknown operation: " + std::string(target)));
    return;
  }
  if (const std::string* type = request.Header("content-type");
      type != nullptr && type->find("cbor") != std::string::npos) {
    content_type = std::string(kJson11);
    send_error(SerializationError(
        "CBOR request bodies are not supported; configure the client to send JSON (Java SDK: "
        "-Daws.cborEnabled=false or AWS_CBOR_DISABLE=true)."));
    return;
  }
  SigV4Outcome auth = ParseSigV4(request);
  if (auth.error) {
    send_error(*auth.error);
    return;
  }
  if (verifier_) {
    if (auto rejected = verifier_(*auth.authorization, request)) {
      send_error(*rejected);
      return;
    }
  } else if (auto unsigned_payload = CheckSignedPayload(request, false)) {
    // No signature is checked here, but a client sending an unsigned payload learns now, not
    // once verification is configured, that these APIs refuse it.
    send_error(*unsigned_payload);
    return;
  }
  RequestBody body;
  if (auto error = RequestBody::Parse(request.body, &body)) {
    send_error(*error);
    return;
  }
  JsonWriter out(TakeBodyBuffer());  // given back by the HTTP server once sent
  int wait_ms = 0;
  if (const std::string* wait = request.Header(KinesisService::kGetRecordsWaitHeader)) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(wait->data(), wait->data() + wait->size(), value);
    if (ec == std::errc() && end == wait->data() + wait->size() && value > 0) {
      wait_ms = static_cast<int>(std::min<int64_t>(value, KinesisService::kMaxGetRecordsWaitMs));
    }
  }
  std::optional<ApiError> error = kinesis ? kinesis_.Handle(operation, body, out, wait_ms)
                                          : dynamodb_streams_.Handle(operation, body, out);
  body = RequestBody();
  RequestBody::TrimThreadParser();
  if (error) {
    ReturnBodyBuffer(out.Take());
    send_error(*error);
    return;
  }
  send(200, out.Take(), {});
}

}  // namespace eddy::api
