#include "engine/dsql_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "api/json_writer.h"
#include "api/sigv4.h"
#include "base/clock.h"
#include "base/logging.h"
#include "engine/admin_api.h"
#include "engine/dsql_request.h"
#include "engine/engine.h"
#include "engine/sink_config.h"

namespace eddy::engine {
namespace {

// The annotations a DSQL stream keeps (engine/config.h StreamConfig::annotations).
constexpr std::string_view kId = "dsql.id";
constexpr std::string_view kCluster = "dsql.cluster";
constexpr std::string_view kStreamArn = "dsql.stream_arn";
constexpr std::string_view kRoleArn = "dsql.role_arn";
constexpr std::string_view kOrdering = "dsql.ordering";
constexpr std::string_view kFormat = "dsql.format";
constexpr std::string_view kClientToken = "dsql.client_token";
constexpr std::string_view kCreatedMillis = "dsql.created_ms";
constexpr std::string_view kTagPrefix = "dsql.tag.";
// With [dsql] kinesis_endpoint: the Kinesis sink that delivers the stream to the external
// Kinesis stream the ARN names.
constexpr std::string_view kSink = "dsql.sink";

struct Context {
  Engine* engine;
  std::shared_ptr<const ControlAuth> auth;
  std::string region;
  std::string account_id;
};

std::string Annotation(const StreamConfig& stream, std::string_view key) {
  auto it = stream.annotations.find(std::string(key));
  return it == stream.annotations.end() ? "" : it->second;
}

void Reply(api::HttpResponse* response, int status, std::string body) {
  response->status = status;
  response->headers.emplace_back("content-type", "application/json");
  response->body = std::move(body);
}

void ReplyError(api::HttpResponse* response, const DsqlError& error) {
  Reply(response, error.http_status, RenderDsqlError(error));
  response->headers.emplace_back("x-amzn-errortype", error.type);
}

DsqlError Internal(std::string message) {
  DsqlError error;
  error.http_status = 500;
  error.type = "InternalServerException";
  error.message = std::move(message);
  return error;
}

std::string StreamArn(const Context& context, const std::string& cluster, const std::string& id) {
  return fmt::format("arn:aws:dsql:{}:{}:cluster/{}/stream/{}", context.region, context.account_id,
                     cluster, id);
}

// The DSQL status of a stream from its capture's state (see dsql_api.h).
std::string_view DsqlStatus(const Engine::StreamView& view) {
  switch (view.capture_state) {
    case source::CaptureState::kStarting:
    case source::CaptureState::kSnapshot:
      return "CREATING";
    case source::CaptureState::kStreaming:
      return "ACTIVE";
    case source::CaptureState::kReconnecting:
      return "IMPAIRED";
    case source::CaptureState::kFinished:
    case source::CaptureState::kStopped:
    case source::CaptureState::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

// The status with an external Kinesis target: the capture's, unless the Kinesis sink that
// delivers to the target is IMPAIRED (retrying) or FAILED.
std::string_view DsqlStatus(Engine& engine, const Engine::StreamView& view) {
  std::string_view status = DsqlStatus(view);
  auto sink = view.config.annotations.find(std::string(kSink));
  if (sink == view.config.annotations.end() || status != "ACTIVE") return status;
  auto sink_status = engine.FindSinkStatus(sink->second);
  if (!sink_status.ok() || sink_status->state == consume::SinkState::kFailed) return "FAILED";
  if (sink_status->state == consume::SinkState::kImpaired) return "IMPAIRED";
  return status;
}

void WriteTimestamp(api::JsonWriter& json, std::string_view key, const std::string& millis) {
  int64_t value = 0;
  try {
    value = std::stoll(millis);
  } catch (...) {
    value = 0;  // recorded by eddy itself; a damaged value shows as the epoch
  }
  json.Key(key);
  json.RawValue(fmt::format("{}.{:03d}", value / 1000, static_cast<int>(value % 1000)));
}

// The members every output shares: CreateStream, DeleteStream, StreamSummary and GetStream.
void WriteCommon(api::JsonWriter& json, const Context& context, const Engine::StreamView& view,
                 std::string_view status) {
  const StreamConfig& stream = view.config;
  std::string cluster = Annotation(stream, kCluster);
  std::string id = Annotation(stream, kId);
  json.Member("clusterIdentifier", cluster);
  json.Member("streamIdentifier", id);
  json.Member("arn", StreamArn(context, cluster, id));
  json.Member("status", status);
  WriteTimestamp(json, "creationTime", Annotation(stream, kCreatedMillis));
}

void WriteStream(api::JsonWriter& json, const Context& context, const Engine::StreamView& view,
                 bool full) {
  const StreamConfig& stream = view.config;
  std::string_view status = DsqlStatus(*context.engine, view);
  json.BeginObject();
  WriteCommon(json, context, view, status);
  json.Member("ordering", Annotation(stream, kOrdering));
  json.Member("format", Annotation(stream, kFormat));
  if (full) {
    json.Key("targetDefinition");
    json.BeginObject();
    json.Key("kinesis");
    json.BeginObject();
    json.Member("streamArn", Annotation(stream, kStreamArn));
    json.Member("roleArn", Annotation(stream, kRoleArn));
    json.EndObject();
    json.EndObject();
    if (status == "IMPAIRED" || status == "FAILED") {
      json.Key("statusReason");
      json.BeginObject();
      json.Member("error", "INTERNAL_ERROR");
      json.Key("updatedAt");
      json.RawValue(fmt::format("{:.3f}", SystemClock::Instance().NowMillis() / 1000.0));
      json.EndObject();
    }
    json.Key("tags");
    json.BeginObject();
    for (const auto& [key, value] : stream.annotations) {
      if (key.rfind(kTagPrefix, 0) == 0) json.Member(key.substr(kTagPrefix.size()), value);
    }
    json.EndObject();
  }
  json.EndObject();
}

// The DSQL streams of `cluster`, oldest first (then by identifier).
std::vector<Engine::StreamView> ClusterStreams(Engine& engine, const std::string& cluster) {
  std::vector<Engine::StreamView> streams;
  for (auto& view : engine.Streams()) {
    if (!view.runtime || Annotation(view.config, kId).empty()) continue;
    if (Annotation(view.config, kCluster) != cluster) continue;
    streams.push_back(std::move(view));
  }
  std::sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
    auto key = [](const Engine::StreamView& view) {
      std::string millis = Annotation(view.config, kCreatedMillis);
      return std::make_pair(std::string(20 - std::min<size_t>(20, millis.size()), '0') + millis,
                            Annotation(view.config, kId));
    };
    return key(a) < key(b);
  });
  return streams;
}

bool ClusterExists(Engine& engine, const std::string& cluster) {
  for (const auto& source : engine.Sources()) {
    if (source.config.name == cluster) return true;
  }
  return false;
}

std::optional<DsqlError> Authorize(const Context& context, const api::HttpRequest& request) {
  auto refused = context.auth->Check(request);
  if (!refused) return std::nullopt;
  DsqlError error;
  error.http_status = 403;
  error.type = "AccessDeniedException";
  error.message = *refused;
  return error;
}

void Create(const Context& context, const DsqlRoute& route, const api::HttpRequest& request,
            api::HttpResponse* response) {
  Engine& engine = *context.engine;
  DsqlCreateRequest create;
  if (auto error = ParseDsqlCreateBody(request.body, &create)) {
    ReplyError(response, *error);
    return;
  }
  if (!ClusterExists(engine, route.cluster)) {
    ReplyError(response, DsqlNotFound("no cluster (eddy source) named '" + route.cluster +
                                          "'; create it with POST /admin/v1/sources or a "
                                          "[[source]] table",
                                      route.cluster, "cluster"));
    return;
  }
  // The same client token again: the stream it created (idempotent retries).
  auto same_token = [&]() -> std::optional<Engine::StreamView> {
    if (create.client_token.empty()) return std::nullopt;
    for (auto& view : ClusterStreams(engine, route.cluster)) {
      if (Annotation(view.config, kClientToken) == create.client_token) return view;
    }
    return std::nullopt;
  };
  auto answer_existing = [&](const Engine::StreamView& view) {
    if (Annotation(view.config, kStreamArn) != create.kinesis_stream_arn) {
      ReplyError(response, DsqlConflict("clientToken '" + create.client_token +
                                            "' was used for another CreateStream request; use a "
                                            "new token for a new stream",
                                        Annotation(view.config, kId), "stream"));
      return;
    }
    api::JsonWriter json;
    WriteStream(json, context, view, false);
    Reply(response, 200, json.Take());
  };
  if (auto existing = same_token()) {
    answer_existing(*existing);
    return;
  }
  StreamConfig stream;
  stream.name = create.stream_name;
  stream.source = route.cluster;
  stream.format = "native";  // eddy's native records are DSQL's CDC record shape
  stream.ordering = create.ordering;
  if (create.ordering == "ORDERED") stream.shards = 1;
  std::string id = NewDsqlStreamId();
  stream.annotations[std::string(kId)] = id;
  stream.annotations[std::string(kCluster)] = route.cluster;
  stream.annotations[std::string(kStreamArn)] = create.kinesis_stream_arn;
  stream.annotations[std::string(kRoleArn)] = create.role_arn;
  stream.annotations[std::string(kOrdering)] = create.ordering;
  stream.annotations[std::string(kFormat)] = create.format;
  stream.annotations[std::string(kClientToken)] = create.client_token;
  stream.annotations[std::string(kCreatedMillis)] =
      std::to_string(SystemClock::Instance().NowMillis());
  for (const auto& [key, value] : create.tags) {
    stream.annotations[std::string(kTagPrefix) + key] = value;
  }
  // With [dsql] kinesis_endpoint the ARN names a stream there: a Kinesis sink delivers the
  // eddy stream to it. Checked (settings, without I/O) before anything is created.
  std::optional<consume::SinkSpec> external;
  if (!engine.dsql_kinesis_endpoint().empty()) {
    // As a user writes it: `stream` is the target, `source_stream` the eddy stream read.
    std::string url = "kinesis+" + engine.dsql_kinesis_endpoint() +
                      "?stream=" + create.stream_name + "&region=" + create.region +
                      "&source_stream=" + create.stream_name + "&name=dsql-" + create.stream_name;
    auto sink = ParseSinkUrl(url, 1);
    if (!sink.ok()) {
      ReplyError(response, DsqlValidation("targetDefinition.kinesis.streamArn",
                                          "the Kinesis sink to the external target: " +
                                              sink.status().message()));
      return;
    }
    stream.annotations[std::string(kSink)] = sink->name;
    external = std::move(*sink);
  }
  if (Status created = engine.CreateStream(stream); !created.ok()) {
    if (created.code() == ErrorCode::kAlreadyExists) {
      if (auto existing = same_token()) {  // a concurrent retry won
        answer_existing(*existing);
        return;
      }
      ReplyError(response, DsqlConflict(created.message() +
                                            " (the Kinesis stream ARN names an eddy stream that "
                                            "exists; name a new one)",
                                        create.stream_name, "stream"));
      return;
    }
    if (created.code() == ErrorCode::kInvalidArgument) {
      ReplyError(response, DsqlValidation("targetDefinition.kinesis.streamArn", created.message()));
      return;
    }
    ReplyError(response, Internal(created.message()));
    return;
  }
  if (external) {
    // The sink opens its destination now: a target stream that does not exist, or refused
    // credentials, undo the stream and answer which.
    if (Status created = engine.CreateSink(*external); !created.ok()) {
      engine.DeleteStream(stream.name).IgnoreError();
      ReplyError(response, DsqlValidation("targetDefinition.kinesis.streamArn",
                                          "Kinesis stream '" + create.stream_name + "' at " +
                                              engine.dsql_kinesis_endpoint() +
                                              " ([dsql] kinesis_endpoint) cannot be written: " +
                                              created.message()));
      return;
    }
  }
  auto view = engine.FindStream(stream.name);
  if (!view.ok()) {
    ReplyError(response, Internal("stream '" + stream.name + "' was deleted meanwhile"));
    return;
  }
  api::JsonWriter json;
  WriteStream(json, context, *view, false);
  Reply(response, 200, json.Take());
}

void Handle(const Context& context, const api::HttpRequest& request, api::HttpResponse* response) {
  if (auto denied = Authorize(context, request)) {
    ReplyError(response, *denied);
    return;
  }
  DsqlRoute route;
  if (auto error = ParseDsqlRoute(request.method, request.target, &route)) {
    ReplyError(response, *error);
    return;
  }
  Engine& engine = *context.engine;
  if (route.operation == DsqlOperation::kCreateStream) {
    Create(context, route, request, response);
    return;
  }
  if (!ClusterExists(engine, route.cluster)) {
    ReplyError(response, DsqlNotFound("no cluster (eddy source) named '" + route.cluster + "'",
                                      route.cluster, "cluster"));
    return;
  }
  std::vector<Engine::StreamView> streams = ClusterStreams(engine, route.cluster);
  api::JsonWriter json;
  if (route.operation == DsqlOperation::kListStreams) {
    size_t begin = 0;
    if (!route.next_token.empty()) {
      // The token is the identifier of the last stream of the previous page.
      begin = streams.size();
      for (size_t i = 0; i < streams.size(); ++i) {
        if (Annotation(streams[i].config, kId) == route.next_token) begin = i + 1;
      }
    }
    size_t end = std::min(streams.size(), begin + route.max_results);
    json.BeginObject();
    json.Key("streams");
    json.BeginArray();
    for (size_t i = begin; i < end; ++i) {
      json.BeginObject();
      WriteCommon(json, context, streams[i], DsqlStatus(engine, streams[i]));
      json.EndObject();
    }
    json.EndArray();
    if (end < streams.size()) json.Member("nextToken", Annotation(streams[end - 1].config, kId));
    json.EndObject();
    Reply(response, 200, json.Take());
    return;
  }
  const Engine::StreamView* found = nullptr;
  for (const auto& view : streams) {
    if (Annotation(view.config, kId) == route.stream_id) found = &view;
  }
  if (found == nullptr) {
    ReplyError(response, DsqlNotFound("no stream '" + route.stream_id + "' in cluster '" +
                                          route.cluster + "'",
                                      route.stream_id, "stream"));
    return;
  }
  if (route.operation == DsqlOperation::kGetStream) {
    WriteStream(json, context, *found, true);
    Reply(response, 200, json.Take());
    return;
  }
  // DeleteStream: the stream is removed now; the answer says DELETING, as DSQL's does, and
  // GetStream finds it no more.
  // An external target's Kinesis sink goes first (a stream a sink reads cannot be deleted).
  if (auto sink = found->config.annotations.find(std::string(kSink));
      sink != found->config.annotations.end()) {
    if (Status deleted = engine.DeleteSink(sink->second);
        !deleted.ok() && deleted.code() != ErrorCode::kNotFound) {
      ReplyError(response, Internal(deleted.message()));
      return;
    }
  }
  if (Status deleted = engine.DeleteStream(found->config.name); !deleted.ok()) {
    if (deleted.code() == ErrorCode::kFailedPrecondition) {
      ReplyError(response, DsqlConflict(deleted.message(), route.stream_id, "stream"));
    } else if (deleted.code() == ErrorCode::kNotFound) {
      ReplyError(response, DsqlNotFound(deleted.message(), route.stream_id, "stream"));
    } else {
      ReplyError(response, Internal(deleted.message()));
    }
    return;
  }
  json.BeginObject();
  WriteCommon(json, context, *found, "DELETING");
  json.EndObject();
  Reply(response, 200, json.Take());
}

}  // namespace

api::HttpRoute DsqlHttpRoute(Engine* engine, std::shared_ptr<const ControlAuth> auth,
                             std::string region, std::string account_id) {
  auto context = std::make_shared<Context>();
  context->engine = engine;
  context->auth = std::move(auth);
  context->region = std::move(region);
  context->account_id = std::move(account_id);
  api::HttpRoute route;
  route.path = std::string(kDsqlPrefix);
  route.prefix = true;
  route.handler = [context](const api::HttpRequest& request, api::HttpResponse* response) {
    Handle(*context, request, response);
  };
  return route;
}

}  // namespace eddy::engine
