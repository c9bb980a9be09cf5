#include "engine/connect_api.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "api/json_writer.h"
#include "base/logging.h"
#include "engine/admin_api.h"
#include "engine/connect_plugins.h"
#include "engine/connect_request.h"
#include "engine/control_auth.h"
#include "engine/debezium_config.h"
#include "engine/engine.h"

namespace eddy::engine {
namespace {

constexpr std::string_view kName = "connect.name";
constexpr std::string_view kConfig = "connect.config";  // {"name":..,"config":{..}} as posted
constexpr std::string_view kState = "connect.state";    // PAUSED | STOPPED; absent: running
constexpr std::string_view kWorker = "eddy";
constexpr auto kControlWait = std::chrono::seconds(5);
constexpr size_t kMaxBodyBytes = 256 * 1024;

struct Connector {
  std::string name;
  Engine::StreamView stream;
  bool has_sink = false;
};

void Reply(api::HttpResponse* response, int status, std::string body) {
  response->status = status;
  if (!body.empty()) response->headers.emplace_back("content-type", "application/json");
  response->body = std::move(body);
}

void ReplyError(api::HttpResponse* response, int status, const std::string& message) {
  api::JsonWriter json;
  json.BeginObject();
  json.MemberInt("error_code", status);
  json.Member("message", message);
  json.EndObject();
  Reply(response, status, json.Take());
}

int StatusOf(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    default:
      return status.IsRetriable() ? 503 : 500;
  }
}

std::string Annotation(const StreamConfig& stream, std::string_view key) {
  auto it = stream.annotations.find(std::string(key));
  return it == stream.annotations.end() ? "" : it->second;
}

std::vector<Connector> Connectors(Engine& engine) {
  std::vector<Connector> connectors;
  std::vector<consume::SinkStatus> sinks = engine.SinkStatuses();
  for (auto& view : engine.Streams()) {
    std::string name = Annotation(view.config, kName);
    if (!view.runtime || name.empty()) continue;
    Connector connector;
    connector.name = name;
    connector.has_sink = std::any_of(sinks.begin(), sinks.end(),
                                     [&](const auto& sink) { return sink.name == name; });
    connector.stream = std::move(view);
    connectors.push_back(std::move(connector));
  }
  std::sort(connectors.begin(), connectors.end(),
            [](const Connector& a, const Connector& b) { return a.name < b.name; });
  return connectors;
}

std::optional<Connector> FindConnector(Engine& engine, const std::string& name) {
  for (auto& connector : Connectors(engine)) {
    if (connector.name == name) return connector;
  }
  return std::nullopt;
}

// Writes the "config" object of the recorded {"name":..,"config":{..}} (values as text).
void WriteConfig(api::JsonWriter& json, const Connector& connector) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object config;
  json.BeginObject();
  std::string text = Annotation(connector.stream.config, kConfig);
  if (!parser.parse(text).get(root) && !root["config"].get_object().get(config)) {
    for (auto member : config) {
      std::string_view value;
      if (member.value.get_string().get(value)) {
        json.Member(member.key, simdjson::minify(member.value));
      } else {
        json.Member(member.key, value);
      }
    }
  }
  json.Member("name", connector.name);
  json.EndObject();
}

void WriteInfo(api::JsonWriter& json, const Connector& connector) {
  json.BeginObject();
  json.Member("name", connector.name);
  json.Key("config");
  WriteConfig(json, connector);
  json.Key("tasks");
  json.BeginArray();
  json.BeginObject();
  json.Member("connector", connector.name);
  json.MemberInt("task", 0);
  json.EndObject();
  json.EndArray();
  json.Member("type", "source");
  json.EndObject();
}

// Connect's states from the connector's recorded state, its capture and its sink.
void WriteStatus(api::JsonWriter& json, Engine& engine, const Connector& connector) {
  std::string recorded = Annotation(connector.stream.config, kState);
  const source::CaptureState capture = connector.stream.capture_state;
  std::string state = "RUNNING";
  std::string trace;
  if (recorded == "PAUSED" || recorded == "STOPPED") {
    state = recorded;
  } else if (capture == source::CaptureState::kFailed ||
             capture == source::CaptureState::kFinished) {
    state = "FAILED";
    trace = "capture " + std::string(source::CaptureStateName(capture)) + ": " +
            connector.stream.last_error;
  } else if (capture == source::CaptureState::kStopped) {
    state = "UNASSIGNED";
  }
  std::string task_state = state;
  std::string task_trace = trace;
  std::string sink_state;
  if (connector.has_sink) {
    if (auto sink = engine.FindSinkStatus(connector.name); sink.ok()) {
      sink_state = consume::SinkStateName(sink->state);
      if (sink->state == consume::SinkState::kFailed && task_state == "RUNNING") {
        task_state = "FAILED";
        task_trace = "Kafka sink FAILED: " + sink->reason;
      }
    }
  }
  json.BeginObject();
  json.Member("name", connector.name);
  json.Key("connector");
  json.BeginObject();
  json.Member("state", state);
  json.Member("worker_id", kWorker);
  if (!trace.empty()) json.Member("trace", trace);
  json.EndObject();
  json.Key("tasks");
  json.BeginArray();
  json.BeginObject();
  json.MemberInt("id", 0);
  json.Member("state", task_state);
  json.Member("worker_id", kWorker);
  if (!task_trace.empty()) json.Member("trace", task_trace);
  json.EndObject();
  json.EndArray();
  json.Member("type", "source");
  // eddy's parts, and where the changes go.
  json.Key("eddy");
  json.BeginObject();
  json.Member("source", connector.stream.source);
  json.Member("stream", connector.stream.config.name);
  json.Member("capture_state", source::CaptureStateName(capture));
  json.Member("sink", connector.has_sink ? connector.name : "");
  json.Member("sink_state", sink_state);
  json.Member("delivery",
              connector.has_sink
                  ? "Kafka topics " + Annotation(connector.stream.config, "connect.topic_prefix") +
                        ".* on [kafka] bootstrap_servers"
                  : "no Kafka cluster is configured ([kafka] bootstrap_servers): the changes "
                    "stay in eddy stream '" +
                        connector.stream.config.name + "', read them through the Kinesis API");
  json.EndObject();
  json.EndObject();
}

// The values of every `key` parameter of the request target's query, in order.
std::vector<std::string> QueryValues(std::string_view target, std::string_view key) {
  std::vector<std::string> values;
  size_t question = target.find('?');
  if (question == std::string_view::npos) return values;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) != key || equals == std::string_view::npos) continue;
    values.emplace_back(pair.substr(equals + 1));
  }
  return values;
}

// PATCH /connectors/{name}/config (Connect 3.x, KIP-477): the recorded configuration with the
// body's members merged in; a null member removes the property. The JSON object text, or
// nullopt when the body is not a JSON object.
std::optional<std::string> MergedConfig(const Connector& connector, std::string_view patch) {
  simdjson::dom::parser patch_parser;
  simdjson::padded_string padded(patch);
  simdjson::dom::element patch_root;
  simdjson::dom::object changes;
  if (patch_parser.parse(padded).get(patch_root) || patch_root.get_object().get(changes)) {
    return std::nullopt;
  }
  std::map<std::string, std::string> members;  // key -> JSON value text
  std::vector<std::string> order;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object config;
  std::string text = Annotation(connector.stream.config, kConfig);
  if (!parser.parse(text).get(root) && !root["config"].get_object().get(config)) {
    for (auto member : config) {
      std::string key(member.key);
      if (!members.count(key)) order.push_back(key);
      members[key] = simdjson::minify(member.value);
    }
  }
  for (auto member : changes) {
    std::string key(member.key);
    if (member.value.is_null()) {
      members.erase(key);
      continue;
    }
    if (!members.count(key)) order.push_back(key);
    members[key] = simdjson::minify(member.value);
  }
  api::JsonWriter json;
  json.BeginObject();
  for (const auto& key : order) {
    auto it = members.find(key);
    if (it == members.end()) continue;
    json.Key(key);
    json.RawValue(it->second);
  }
  json.EndObject();
  return json.Take();
}

// Creates the connector `name` from its configuration object `config` (the JSON text of the
// "config" member).
void Create(Engine& engine, const std::string& name, std::string_view config,
            api::HttpResponse* response, int success_status) {
  if (!IsConnectorName(name)) {
    ReplyError(response, 400, ConnectorNameProblem(name));
    return;
  }
  if (FindConnector(engine, name)) {
    ReplyError(response, 409, "Connector " + name + " already exists");
    return;
  }
  api::JsonWriter quoted;
  quoted.String(name);
  std::string recorded = "{\"name\":" + quoted.Take() + ",\"config\":" + std::string(config) + "}";
  auto mapped = MapDebeziumConnector(recorded, "connector '" + name + "'",
                                     engine.kafka_bootstrap_servers(), false);
  if (!mapped.ok()) {
    ReplyError(response, 400, mapped.status().message());
    return;
  }
  SourceConfig source = mapped->source;
  source.name = name;
  if (Status created = engine.CreateSource(source); !created.ok()) {
    ReplyError(response, StatusOf(created), created.message());
    return;
  }
  StreamConfig stream = mapped->streams.front();
  stream.source = name;
  stream.annotations[std::string(kName)] = name;
  stream.annotations[std::string(kConfig)] = recorded;
  if (!mapped->sinks.empty()) {
    stream.annotations["connect.topic_prefix"] = mapped->sinks.front().settings["topic_prefix"];
  }
  if (Status created = engine.CreateStream(stream); !created.ok()) {
    engine.DeleteSource(name).IgnoreError();
    ReplyError(response, StatusOf(created), created.message());
    return;
  }
  if (!mapped->sinks.empty()) {
    consume::SinkSpec sink = mapped->sinks.front();
    sink.name = name;
    sink.stream = stream.name;
    if (Status created = engine.CreateSink(sink); !created.ok()) {
      engine.DeleteStream(stream.name).IgnoreError();
      engine.DeleteSource(name).IgnoreError();
      ReplyError(response, StatusOf(created), created.message());
      return;
    }
  }
  auto connector = FindConnector(engine, name);
  if (!connector) {
    ReplyError(response, 500, "connector " + name + " was deleted meanwhile");
    return;
  }
  api::JsonWriter json;
  WriteInfo(json, *connector);
  Reply(response, success_status, json.Take());
}

// Pause, resume, stop and restart: the recorded state, the capture and the sink.
Status Control(Engine& engine, const Connector& connector, std::string_view action) {
  const std::string& stream = connector.stream.config.name;
  bool run = action == "resume" || action == "restart";
  std::string state = action == "pause" ? "PAUSED" : action == "stop" ? "STOPPED" : "";
  EDDY_RETURN_IF_ERROR(engine.SetStreamAnnotation(stream, std::string(kState), state));
  EDDY_RETURN_IF_ERROR(engine.SetCaptureRunning(stream, run));
  if (connector.has_sink) {
    auto applied = engine.ControlSink(
        connector.name, run ? consume::ControlRequest::kResume : consume::ControlRequest::kPause,
        log::StartPosition::TrimHorizon(), kControlWait);
    if (!applied.ok()) return applied.status();
  }
  return Status::Ok();
}

// Kafka Connect's offsets (KIP-875) of an eddy connector: the Debezium partition
// {"server": topic.prefix} holds the capture position (the change log's durable source
// position, where the capture resumes), one partition per shard of the stream
// {"server", "eddy_sink": sink, "shard": "shardId-..."} holds the Kafka sink's checkpoint
// (the next sequence number it delivers). docs/kafka-connect-api.md.
std::string TopicPrefix(const Connector& connector) {
  std::string prefix = Annotation(connector.stream.config, "connect.topic_prefix");
  return prefix.empty() ? connector.stream.config.name : prefix;
}

void WriteOffsets(api::JsonWriter& json, Engine& engine, const Connector& connector) {
  std::string server = TopicPrefix(connector);
  json.BeginObject();
  json.Key("offsets");
  json.BeginArray();
  SourcePosition position;
  if (engine.store() != nullptr) {
    if (auto stream = engine.store()->GetStream(connector.stream.config.name); stream.ok()) {
      position = (*stream)->HighestDurablePosition();
    }
  }
  if (!position.empty()) {
    json.BeginObject();
    json.Key("partition");
    json.BeginObject();
    json.Member("server", server);
    json.EndObject();
    json.Key("offset");
    json.BeginObject();
    if (const PostgresPosition* postgres = position.postgres()) {
      // Debezium's PostgreSQL offset keys: the commit's end LSN and the change's LSN.
      json.Key("lsn");
      json.UInt(postgres->commit_end_lsn.value());
      json.Key("lsn_proc");
      json.UInt(postgres->change_lsn.value());
    } else if (const MysqlPosition* mysql = position.mysql()) {
      json.Member("file", mysql->end.file);
      json.Key("pos");
      json.UInt(mysql->end.offset);
      if (!mysql->gtid.empty()) json.Member("gtids", mysql->gtid.text);
      json.Key("server_id");
      json.UInt(mysql->server_id);
    }
    json.Member("eddy_position", position.ToString());
    json.EndObject();
    json.EndObject();
  }
  if (connector.has_sink) {
    if (auto state = engine.SavedSinkState(connector.name); state.ok()) {
      for (const auto& [shard, checkpoint] : state->checkpoint.shards) {
        json.BeginObject();
        json.Key("partition");
        json.BeginObject();
        json.Member("server", server);
        json.Member(kConnectSinkPartitionKey, connector.name);
        json.Member("shard", ConnectShardId(shard));
        json.EndObject();
        json.Key("offset");
        json.BeginObject();
        json.Key("next_sequence");
        json.UInt(checkpoint.next.value());
        json.MemberBool("finished", checkpoint.finished);
        json.EndObject();
        json.EndObject();
      }
    }
  }
  json.EndArray();
  json.EndObject();
}

// GET, DELETE (reset) and PATCH (set) /connectors/{name}/offsets.
void Offsets(Engine& engine, const Connector& connector, const api::HttpRequest& request,
             api::HttpResponse* response) {
  api::JsonWriter json;
  if (request.method == "GET") {
    WriteOffsets(json, engine, connector);
    Reply(response, 200, json.Take());
    return;
  }
  if (request.method != "DELETE" && request.method != "PATCH") {
    ReplyError(response, 405,
               "use GET, PATCH or DELETE /connectors/" + connector.name + "/offsets");
    return;
  }
  if (Annotation(connector.stream.config, kState) != "STOPPED") {
    ReplyError(response, 400,
               "Connectors must be in the STOPPED state before their offsets can be modified. "
               "This can be done for the specified connector by issuing a 'PUT' request to the "
               "'/connectors/" +
                   connector.name + "/stop' endpoint");
    return;
  }
  std::vector<ConnectOffsetChange> changes;
  if (request.method == "PATCH") {
    auto parsed = ParseConnectOffsets(request.body, TopicPrefix(connector),
                                      connector.has_sink ? connector.name : "");
    if (!parsed.ok()) {
      ReplyError(response, 400, parsed.status().message());
      return;
    }
    changes = std::move(*parsed);
  }
  std::string message;
  if (!connector.has_sink) {
    message =
        "The connector writes no Kafka topics (no [kafka] bootstrap_servers): its changes "
        "stay in eddy stream '" +
        connector.stream.config.name +
        "', whose readers keep their own positions; the capture resumes where the log "
        "ends. Nothing was reset";
  } else {
    bool reset = request.method == "DELETE";
    Status edited = engine.RestartSink(
        connector.name, std::nullopt, [&](consume::ConsumerState& state) -> Status {
          // A new generation: the checkpoint Kafka holds from before no longer counts.
          ++state.checkpoint.generation;
          if (reset) {
            state.checkpoint.shards.clear();  // every shard from its beginning
          }
          for (const auto& change : changes) {
            if (change.next) {
              state.checkpoint.shards[change.shard] =
                  consume::ShardCheckpoint{SequenceNumber(*change.next), false};
            } else {
              state.checkpoint.shards.erase(change.shard);
            }
          }
          state.request = consume::ControlRequest::kNone;
          return Status::Ok();
        });
    if (!edited.ok()) {
      ReplyError(response, StatusOf(edited), edited.message());
      return;
    }
    message = reset ? "The offsets for this connector have been reset successfully"
                    : "The offsets for this connector have been altered successfully";
  }
  logging::Get("connect")->info("connector={} offsets {}", connector.name,
                                request.method == "DELETE" ? "reset" : "altered");
  json.BeginObject();
  json.Member("message", message);
  json.EndObject();
  Reply(response, 200, json.Take());
}

// PUT /connectors/{name}/config on an existing connector: the new configuration is mapped and
// checked as at creation; its source and stream settings restart only its capture, its Kafka
// sink restarts with its new settings. topic.prefix names the stream and cannot change.
void Update(Engine& engine, const Connector& connector, std::string_view config,
            api::HttpResponse* response) {
  const std::string& name = connector.name;
  api::JsonWriter quoted;
  quoted.String(name);
  std::string recorded = "{\"name\":" + quoted.Take() + ",\"config\":" + std::string(config) + "}";
  auto mapped = MapDebeziumConnector(recorded, "connector '" + name + "'",
                                     engine.kafka_bootstrap_servers(), false);
  if (!mapped.ok()) {
    ReplyError(response, 400, mapped.status().message());
    return;
  }
  StreamConfig stream = mapped->streams.front();
  if (stream.name != connector.stream.config.name) {
    ReplyError(response, 400,
               "topic.prefix is '" + stream.name + "' but connector " + name + " writes stream '" +
                   connector.stream.config.name +
                   "' (its topic.prefix): a connector's topic.prefix cannot change; DELETE "
                   "/connectors/" +
                   name + " and create it again");
    return;
  }
  SourceConfig source = mapped->source;
  source.name = name;
  stream.source = connector.stream.source;
  stream.annotations = connector.stream.config.annotations;
  stream.annotations[std::string(kConfig)] = recorded;
  std::optional<consume::SinkSpec> sink;
  if (!mapped->sinks.empty()) {
    sink = mapped->sinks.front();
    sink->name = name;
    sink->stream = stream.name;
    stream.annotations["connect.topic_prefix"] = sink->settings["topic_prefix"];
    if (!connector.has_sink) {
      ReplyError(response, 400,
                 "connector " + name +
                     " was created without a Kafka sink; DELETE it and create it again to "
                     "write Kafka topics");
      return;
    }
    if (Status checked = engine.CheckSinkSpec(*sink); !checked.ok()) {
      ReplyError(response, 400, checked.message());
      return;
    }
  }
  if (Status updated = engine.UpdateRuntimeCapture(source, stream); !updated.ok()) {
    ReplyError(response, StatusOf(updated), updated.message());
    return;
  }
  if (sink) {
    if (Status restarted = engine.RestartSink(name, sink, nullptr); !restarted.ok()) {
      ReplyError(response, StatusOf(restarted), restarted.message());
      return;
    }
  }
  logging::Get("connect")->info("connector={} configuration changed", name);
  auto changed = FindConnector(engine, name);
  if (!changed) {
    ReplyError(response, 500, "connector " + name + " was deleted meanwhile");
    return;
  }
  api::JsonWriter json;
  WriteInfo(json, *changed);
  Reply(response, 200, json.Take());
}

void Handle(Engine& engine, const ControlAuth& auth, const api::HttpRequest& request,
            api::HttpResponse* response) {
  if (auto refused = auth.Check(request)) {
    ReplyError(response, 401, *refused);
    return;
  }
  if (request.body.size() > kMaxBodyBytes) {
    ReplyError(
        response, 400,
        fmt::format("the body is {} bytes; the limit is {}", request.body.size(), kMaxBodyBytes));
    return;
  }
  std::string_view path = api::RequestPath(request.target);
  const std::string& method = request.method;
  api::JsonWriter json;
  if (path.starts_with("/connector-plugins/") && path.size() > 19) {
    // /connector-plugins/{plugin}/config and /connector-plugins/{plugin}/config/validate
    std::string_view rest = path.substr(19);
    if (rest.back() == '/') rest.remove_suffix(1);
    size_t slash = rest.find('/');
    std::string plugin(rest.substr(0, slash));
    std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (action != "config" && action != "config/validate") {
      ReplyError(response, 404,
                 "no resource at " + std::string(path) +
                     "; a connector plugin has /config and /config/validate");
      return;
    }
    auto connector_class = ResolveConnectPlugin(plugin);
    if (!connector_class) {
      ReplyError(response, 404,
                 "Unknown plugin " + plugin +
                     ". eddy runs io.debezium.connector.postgresql.PostgresConnector, "
                     "io.debezium.connector.mysql.MySqlConnector and "
                     "io.debezium.connector.mariadb.MariaDbConnector (GET /connector-plugins)");
      return;
    }
    if (action == "config") {
      if (method != "GET") {
        ReplyError(response, 405, "use GET /connector-plugins/" + plugin + "/config");
        return;
      }
      Reply(response, 200, ConnectPluginConfigJson(*connector_class));
      return;
    }
    if (method != "PUT") {
      ReplyError(response, 405, "use PUT /connector-plugins/" + plugin + "/config/validate");
      return;
    }
    ConnectValidation validation = ValidateConnectConfig(plugin, *connector_class, request.body,
                                                         engine.kafka_bootstrap_servers());
    if (validation.status != 200) {
      ReplyError(response, validation.status, validation.message);
      return;
    }
    Reply(response, 200, std::move(validation.body));
    return;
  }
  if (path == "/connector-plugins" || path == "/connector-plugins/") {
    if (method != "GET") {
      ReplyError(response, 405, "use GET /connector-plugins");
      return;
    }
    json.BeginArray();
    for (const char* plugin : {"io.debezium.connector.postgresql.PostgresConnector",
                               "io.debezium.connector.mysql.MySqlConnector",
                               "io.debezium.connector.mariadb.MariaDbConnector"}) {
      json.BeginObject();
      json.Member("class", plugin);
      json.Member("type", "source");
      json.Member("version", "eddy");
      json.EndObject();
    }
    json.EndArray();
    Reply(response, 200, json.Take());
    return;
  }
  std::string_view rest = path.substr(std::string_view("/connectors").size());
  if (!rest.empty() && rest.front() != '/') {
    ReplyError(response, 404, "no resource at " + std::string(path));
    return;
  }
  if (!rest.empty()) rest.remove_prefix(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) {
    if (method == "GET") {
      std::vector<std::string> expand = QueryValues(request.target, "expand");
      if (expand.empty()) {
        json.BeginArray();
        for (const auto& connector : Connectors(engine)) json.String(connector.name);
        json.EndArray();
        Reply(response, 200, json.Take());
        return;
      }
      // ?expand=status and/or ?expand=info: Connect's map of name -> {"status", "info"};
      // other values are ignored, as Connect ignores them.
      bool status = std::find(expand.begin(), expand.end(), "status") != expand.end();
      bool info = std::find(expand.begin(), expand.end(), "info") != expand.end();
      json.BeginObject();
      for (const auto& connector : Connectors(engine)) {
        json.Key(connector.name);
        json.BeginObject();
        if (status) {
          json.Key("status");
          WriteStatus(json, engine, connector);
        }
        if (info) {
          json.Key("info");
          WriteInfo(json, connector);
        }
        json.EndObject();
      }
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
    if (method != "POST") {
      ReplyError(response, 405, "use GET or POST /connectors");
      return;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string_view name;
    simdjson::dom::element config;
    if (parser.parse(request.body).get(root) || !root.is_object()) {
      ReplyError(response, 400,
                 "the body must be a JSON object {\"name\": ..., \"config\": {...}}");
      return;
    }
    if (root["name"].get_string().get(name)) {
      ReplyError(response, 400, "the body needs \"name\": the connector's name");
      return;
    }
    if (root["config"].get(config) || !config.is_object()) {
      ReplyError(response, 400, "the body needs \"config\": the connector's configuration object");
      return;
    }
    Create(engine, std::string(name), simdjson::minify(config), response, 201);
    return;
  }
  size_t slash = rest.find('/');
  std::string name(rest.substr(0, slash));
  std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  auto connector = FindConnector(engine, name);
  if (action == "config" && method == "PUT") {
    simdjson::dom::parser parser;
    simdjson::dom::element config;
    if (parser.parse(request.body).get(config) || !config.is_object()) {
      ReplyError(response, 400, "the body must be the connector's configuration object");
      return;
    }
    if (connector) {
      Update(engine, *connector, simdjson::minify(config), response);
    } else {
      Create(engine, name, simdjson::minify(config), response, 201);
    }
    return;
  }
  if (!connector) {
    ReplyError(response, 404, "Connector " + name + " not found");
    return;
  }
  if (action == "config" && method == "PATCH") {
    auto merged = MergedConfig(*connector, request.body);
    if (!merged) {
      ReplyError(response, 400,
                 "the body must be a JSON object of the properties to change (a null value "
                 "removes one), like {\"table.include.list\": \"public.orders\"}");
      return;
    }
    Update(engine, *connector, *merged, response);
    return;
  }
  if (action.empty()) {
    if (method == "GET") {
      WriteInfo(json, *connector);
      Reply(response, 200, json.Take());
      return;
    }
    if (method != "DELETE") {
      ReplyError(response, 405, "use GET or DELETE /connectors/" + name);
      return;
    }
    if (connector->has_sink) {
      if (Status deleted = engine.DeleteSink(name); !deleted.ok()) {
        ReplyError(response, StatusOf(deleted), deleted.message());
        return;
      }
    }
    Status deleted = engine.DeleteStream(connector->stream.config.name);
    if (deleted.ok()) deleted = engine.DeleteSource(connector->stream.source);
    if (!deleted.ok()) {
      ReplyError(response, StatusOf(deleted), deleted.message());
      return;
    }
    Reply(response, 204, "");
    return;
  }
  if (action == "offsets") {
    Offsets(engine, *connector, request, response);
    return;
  }
  if (action == "config" || action == "status" || action == "tasks") {
    if (method != "GET") {
      ReplyError(response, 405,
                 action == "config" ? "use GET, PUT or PATCH /connectors/" + name + "/config"
                                    : "use GET /connectors/" + name + "/" + std::string(action));
      return;
    }
    if (action == "config") {
      WriteConfig(json, *connector);
    } else if (action == "status") {
      WriteStatus(json, engine, *connector);
    } else {
      json.BeginArray();
      json.BeginObject();
      json.Key("id");
      json.BeginObject();
      json.Member("connector", name);
      json.MemberInt("task", 0);
      json.EndObject();
      json.Key("config");
      WriteConfig(json, *connector);
      json.EndObject();
      json.EndArray();
    }
    Reply(response, 200, json.Take());
    return;
  }
  bool put_action = action == "pause" || action == "resume" || action == "stop";
  if (put_action || action == "restart") {
    if ((put_action && method != "PUT") || (!put_action && method != "POST")) {
      ReplyError(response, 405,
                 std::string("use ") + (put_action ? "PUT" : "POST") + " /connectors/" + name +
                     "/" + std::string(action));
      return;
    }
    if (Status done = Control(engine, *connector, action); !done.ok()) {
      ReplyError(response, StatusOf(done), done.message());
      return;
    }
    logging::Get("connect")->info("connector={} {}", name, action);
    Reply(response, action == "pause" || action == "resume" ? 202 : 204, "");
    return;
  }
  ReplyError(response, 404,
             "no resource at " + std::string(path) +
                 "; a connector has /config, /status, /tasks, /offsets, /pause, /resume, /stop, "
                 "/restart");
}

}  // namespace

std::vector<api::HttpRoute> ConnectHttpRoutes(Engine* engine,
                                              std::shared_ptr<const ControlAuth> auth) {
  std::vector<api::HttpRoute> routes;
  for (const char* path : {"/connectors", "/connector-plugins"}) {
    api::HttpRoute route;
    route.path = path;
    route.prefix = true;
    route.handler = [engine, auth](const api::HttpRequest& request, api::HttpResponse* response) {
      Handle(*engine, *auth, request, response);
    };
    routes.push_back(std::move(route));
  }
  return routes;
}

}  // namespace eddy::engine
