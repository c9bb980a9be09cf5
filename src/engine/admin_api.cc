#include "engine/admin_api.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

#include "api/json_writer.h"
#include "api/record_rendering.h"
#include "base/logging.h"
#include "consume/checkpoint_format.h"
#include "engine/admin_request.h"
#include "engine/config.h"
#include "engine/control_auth.h"
#include "engine/engine.h"
#include "log/kinesis.h"
#include "source/capture_metrics.h"
#include "source/incremental_snapshot.h"
#include "source/snapshot_signal.h"

namespace eddy::engine {
namespace {

// How long a pause, resume or reset waits for the sink to apply it before answering 202.
constexpr auto kControlWait = std::chrono::seconds(5);
// GET /admin/v1/streams/NAME/tail: records shown by default and at most.
constexpr size_t kTailDefault = 20;
constexpr size_t kTailMax = 500;

void Reply(api::HttpResponse* response, int status, std::string body) {
  response->status = status;
  response->headers.emplace_back("content-type", "application/json");
  response->headers.emplace_back("cache-control", "no-store");
  response->body = std::move(body);
  response->body += '\n';
}

void ReplyError(api::HttpResponse* response, const AdminError& error) {
  api::JsonWriter json;
  json.BeginObject();
  json.Key("error");
  json.BeginObject();
  json.MemberInt("status", error.http_status);
  json.Member("code", error.code);
  json.Member("message", error.message);
  json.EndObject();
  json.EndObject();
  Reply(response, error.http_status, json.Take());
  if (!error.allow.empty()) response->headers.emplace_back("allow", error.allow);
  if (error.http_status == 401) {
    response->headers.emplace_back("www-authenticate", "Bearer realm=\"eddy admin\"");
  }
}

AdminError FromStatus(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
      return AdminBadRequest(status.message());
    case ErrorCode::kNotFound:
      return AdminNotFound(status.message());
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return AdminConflict(status.message());
    case ErrorCode::kPermissionDenied:
      return {502, "DestinationRefused", status.message(), ""};
    default:
      if (status.IsRetriable()) return {503, "Unavailable", status.message(), ""};
      return {500, "Internal", status.message(), ""};
  }
}

std::string Iso8601(int64_t nanos) {
  if (nanos == 0) return "";
  std::time_t seconds = static_cast<std::time_t>(nanos / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The source's URL without its password.
std::string UrlWithoutPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

void WriteSource(api::JsonWriter& json, const Engine::SourceView& source) {
  json.BeginObject();
  json.Member("name", source.config.name);
  json.Member("url", UrlWithoutPassword(source.config.url));
  json.Member("origin", source.runtime ? "runtime" : "config");
  json.Key("settings");
  json.BeginObject();
  for (const auto& [key, value] : SourceSettings(source.config)) json.Member(key, value);
  json.EndObject();
  json.Key("streams");
  json.BeginArray();
  for (const auto& stream : source.streams) json.String(stream);
  json.EndArray();
  // Where each stream's capture stands in the source's log (its last lag poll).
  json.Key("replication");
  json.BeginArray();
  for (const auto& stream : source.streams) {
    auto status = source::LatestReplicationStatus(stream);
    if (!status) continue;
    auto optional_int = [&](std::string_view key, const auto& value) {
      json.Key(key);
      if (value) {
        json.Int(static_cast<int64_t>(*value));
      } else {
        json.Null();
      }
    };
    json.BeginObject();
    json.Member("stream", stream);
    json.Member("kind", status->kind);
    if (status->kind == "postgresql") {
      json.Member("slot_name", status->slot_name);
      json.MemberBool("slot_exists", status->slot_exists);
      json.Key("active");
      if (status->active) {
        json.Bool(*status->active);
      } else {
        json.Null();
      }
      json.Member("wal_status", status->wal_status);
      json.Member("restart_lsn", status->restart_lsn);
      json.Member("confirmed_flush_lsn", status->confirmed_flush_lsn);
      optional_int("safe_wal_size_bytes", status->safe_wal_size_bytes);
    } else {
      json.Member("binlog_file", status->binlog_file);
      optional_int("binlog_position", status->binlog_position);
      json.Member("gtid", status->gtid);
      json.Member("server_binlog_file", status->server_binlog_file);
      optional_int("server_binlog_position", status->server_binlog_position);
    }
    optional_int("lag_bytes", status->lag_bytes);
    json.Member("error", status->error);
    json.MemberInt("polled_at_ms", status->polled_at_nanos / 1'000'000);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

// `view` is null for a log stream no capture writes (created through the Kinesis API).
void WriteStream(api::JsonWriter& json, const log::StreamInfo& info,
                 const Engine::StreamView* view) {
  json.BeginObject();
  json.Member("name", info.name);
  json.Member("source", view ? view->source : "");
  json.Member("origin", view == nullptr ? "log" : view->runtime ? "runtime" : "config");
  json.Member("capture_state",
              view ? source::CaptureStateName(view->capture_state) : std::string_view("none"));
  json.Member("capture_error", view ? view->last_error : "");
  json.Member("capture_position", view ? view->capture_position : "");
  json.Member("snapshot_progress", view ? view->snapshot_progress : "");
  // Sequence numbers count the stream's records (one counter for all its shards), so the
  // records it holds are the span from the lowest trim horizon to the highest last sequence
  // (an upper bound when shards were trimmed unevenly; chunks of a large record count each).
  size_t open_shards = 0;
  uint64_t lowest = UINT64_MAX;
  uint64_t highest = 0;
  for (const auto& shard : info.shards) {
    open_shards += shard.open ? 1 : 0;
    if (shard.last_sequence.value() == 0) continue;  // empty shard
    lowest = std::min(lowest, std::max<uint64_t>(shard.trim_horizon.value(), 1));
    highest = std::max(highest, shard.last_sequence.value());
  }
  uint64_t records = highest >= lowest && highest != 0 ? highest - lowest + 1 : 0;
  json.MemberInt("open_shards", static_cast<int64_t>(open_shards));
  json.MemberInt("shards", static_cast<int64_t>(info.shards.size()));
  json.Key("records");
  json.UInt(records);
  json.MemberInt("retention_hours", info.options.retention_nanos / 3'600'000'000'000);
  json.Member("ordering",
              info.options.ordering == log::OrderingMode::kOrdered ? "ORDERED" : "UNORDERED");
  auto tag = [&](std::string_view name) -> std::string {
    auto it = info.options.tags.find(std::string(name));
    return it == info.options.tags.end() ? "" : it->second;
  };
  json.Member("format", tag("eddy:format"));
  json.Member("created", Iso8601(info.creation_nanos));
  json.Key("shard_list");
  json.BeginArray();
  for (const auto& shard : info.shards) {
    json.BeginObject();
    json.Member("id", shard.id);
    json.MemberBool("open", shard.open);
    json.Member("trim_horizon", std::to_string(shard.trim_horizon.value()));
    json.Member("last_sequence", std::to_string(shard.last_sequence.value()));
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

void WriteSink(api::JsonWriter& json, Engine& engine, const consume::SinkStatus& sink) {
  json.BeginObject();
  json.Member("name", sink.name);
  json.Member("stream", sink.stream);
  if (auto saved = engine.SavedSinkState(sink.name); saved.ok()) json.Member("url", saved->url);
  json.Member("origin", engine.IsRuntimeSink(sink.name) ? "runtime" : "config");
  json.Member("state", consume::SinkStateName(sink.state));
  json.Member("reason", sink.reason);
  json.Member("state_since", Iso8601(sink.state_since_nanos));
  json.Key("lag_records");
  json.UInt(sink.lag_records);
  json.Key("lag_seconds");
  json.RawValue(fmt::format("{:.3f}", sink.lag_seconds));
  json.Key("delivered_records");
  json.UInt(sink.delivered_records);
  json.Key("delivered_bytes");
  json.UInt(sink.delivered_bytes);
  json.Key("failed_records");
  json.UInt(sink.failed_records);
  json.Member("last_delivered_position", sink.last_delivered_position.empty()
                                             ? std::string()
                                             : sink.last_delivered_position.ToString());
  json.MemberBool("request_pending", sink.request_pending);
  json.Key("checkpoint");
  json.BeginObject();
  json.Key("generation");
  json.UInt(sink.checkpoint.generation);
  json.Key("shards");
  json.BeginArray();
  for (const auto& [index, shard] : sink.checkpoint.shards) {
    json.BeginObject();
    json.Member("shard_id", log::FormatShardId(index));
    json.Member("next_sequence", std::to_string(shard.next.value()));
    json.MemberBool("finished", shard.finished);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  json.EndObject();
}

// The stream's newest `limit` records (sequence numbers count the whole stream, so they are
// the records at or above the highest last sequence minus limit, from every shard), rendered
// as the Kinesis API renders their Data, oldest first:
// {"records": [{"shard", "sequence", "arrival_ms", "data"}]}; `data` is the rendered text.
Result<std::string> TailRecords(log::Stream& stream, size_t limit,
                                const api::RecordRendering& rendering) {
  log::StreamInfo info = stream.Describe();
  uint64_t highest = 0;
  for (const auto& shard : info.shards) highest = std::max(highest, shard.last_sequence.value());
  struct Line {
    uint64_t sequence;
    std::string shard;
    int64_t arrival_ms;
    std::string data;
  };
  std::vector<Line> lines;
  uint64_t first = highest >= limit ? highest - limit + 1 : 1;
  for (const auto& shard : info.shards) {
    if (shard.last_sequence.value() < first) continue;
    uint64_t start = std::max<uint64_t>(first, shard.trim_horizon.value());
    auto reader =
        stream.OpenReader(shard.index, log::StartPosition::AtSequence(SequenceNumber(start)));
    if (!reader.ok()) continue;  // trimmed or expired meanwhile
    log::ReadLimits limits;
    limits.max_records = limit;
    limits.max_bytes = 4u << 20;
    auto batch = (*reader)->Read(limits);
    if (!batch.ok()) return batch.status();
    for (const auto& record : batch->records) {
      std::string sequence = std::to_string(record.sequence.value());
      std::string data = record.payload;
      if (rendering.kinesis_data) {
        auto rendered = rendering.kinesis_data(info, record, sequence);
        if (!rendered.ok() || !rendered->has_value()) continue;  // no record in this format
        data = std::move(**rendered);
      }
      lines.push_back(
          {record.sequence.value(), shard.id, record.arrival_nanos / 1'000'000, std::move(data)});
    }
  }
  std::sort(lines.begin(), lines.end(),
            [](const Line& a, const Line& b) { return a.sequence < b.sequence; });
  if (lines.size() > limit) lines.erase(lines.begin(), lines.end() - static_cast<long>(limit));
  api::JsonWriter json;
  json.BeginObject();
  json.Key("records");
  json.BeginArray();
  for (const auto& line : lines) {
    json.BeginObject();
    json.Member("shard", line.shard);
    json.Member("sequence", std::to_string(line.sequence));
    json.MemberInt("arrival_ms", line.arrival_ms);
    json.Member("data", line.data);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return json.Take();
}

// ---- snapshots: the requests `eddy snapshot` writes, the capture's progress file ----

// How long POST .../snapshots waits for the running capture to accept the request.
constexpr auto kSnapshotAcceptWait = std::chrono::seconds(10);

std::string CaptureDirectory(Engine& engine, const std::string& stream) {
  return engine.data_dir() + "/capture/" + stream;
}

// The stream's capture, or the error naming why there is none.
std::optional<AdminError> CapturedStream(Engine& engine, const std::string& name) {
  auto view = engine.FindStream(name);
  if (!view.ok()) {
    return AdminNotFound("no stream named '" + name + "' (GET /admin/v1/streams lists them)");
  }
  if (view->source.empty()) {
    return AdminConflict("stream '" + name +
                         "' has no capture (it was created through the Kinesis API or eddy "
                         "serve): snapshots are taken by a stream's capture");
  }
  return std::nullopt;
}

// {"stream", "status", "snapshot": {"id", "origin", "tables": [{"table", "condition", "state",
// "rows", "ranges", "ranges_done", "reason"}]} | null}; one line per table, its key ranges
// summed.
Result<std::string> SnapshotProgress(Engine& engine, const std::string& stream) {
  io::FileSystem* fs = io::DefaultFileSystem();
  std::string path =
      io::JoinPath(CaptureDirectory(engine, stream), std::string(source::kIncrementalSnapshotFile));
  api::JsonWriter json;
  json.BeginObject();
  json.Member("stream", stream);
  EDDY_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) {
    json.Member("status", "none");
    json.Key("snapshot");
    json.RawValue("null");
    json.EndObject();
    return json.Take();
  }
  EDDY_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(path));
  EDDY_ASSIGN_OR_RETURN(source::IncrementalSnapshotState state,
                        source::DecodeIncrementalSnapshotState(bytes));
  json.Member("status", state.Complete() ? "complete" : state.paused ? "paused" : "running");
  json.Key("snapshot");
  json.BeginObject();
  json.Member("id", state.id);
  json.Member("origin", state.origin);
  json.Key("tables");
  json.BeginArray();
  std::vector<std::string> order;
  std::map<std::string, std::vector<const source::TableSnapshotProgress*>> by_table;
  for (const auto& entry : state.tables) {
    auto& entries = by_table[entry.table];
    if (entries.empty()) order.push_back(entry.table);
    entries.push_back(&entry);
  }
  for (const std::string& table : order) {
    const auto& entries = by_table[table];
    uint64_t rows = 0;
    size_t done = 0;
    bool skipped = false;
    std::string reason;
    for (const auto* entry : entries) {
      rows += entry->rows;
      done += entry->state == source::TableSnapshotState::kDone ? 1 : 0;
      if (entry->state == source::TableSnapshotState::kSkipped) {
        skipped = true;
        if (reason.empty()) reason = entry->reason;
      }
    }
    json.BeginObject();
    json.Member("table", table);
    json.Member("condition", entries.front()->condition);
    json.Member("state", skipped ? "skipped" : done == entries.size() ? "done" : "pending");
    json.Key("rows");
    json.UInt(rows);
    json.MemberInt("ranges", static_cast<int64_t>(entries.size()));
    json.MemberInt("ranges_done", static_cast<int64_t>(done));
    json.Member("reason", reason);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  json.EndObject();
  return json.Take();
}

// Bearer token or SigV4 (engine/control_auth.h); false after answering 401.
bool Authenticated(const ControlAuth& auth, const api::HttpRequest& request,
                   api::HttpResponse* response) {
  auto refused = auth.Check(request);
  if (!refused) return true;
  ReplyError(response, {401, "Unauthorized", *refused, ""});
  return false;
}

void Handle(Engine& engine, const ControlAuth& auth, const api::HttpRequest& request,
            api::HttpResponse* response) {
  if (!Authenticated(auth, request, response)) return;
  // The console's history, alerts and client commands (engine/console_monitor.h).
  if (ConsoleMonitor* monitor = engine.console_monitor();
      monitor != nullptr && monitor->Handle(request, response)) {
    return;
  }
  AdminRoute route;
  if (auto error = ParseAdminRoute(request.method, api::RequestPath(request.target), &route)) {
    ReplyError(response, *error);
    return;
  }
  api::JsonWriter json;
  switch (route.operation) {
    case AdminOperation::kListStreams: {
      std::vector<Engine::StreamView> views = engine.Streams();
      json.BeginObject();
      json.Key("streams");
      json.BeginArray();
      for (const auto& name : engine.store()->ListStreams()) {
        auto stream = engine.store()->GetStream(name);
        if (!stream.ok()) continue;  // deleted meanwhile
        const Engine::StreamView* view = nullptr;
        for (const auto& candidate : views) {
          if (candidate.config.name == name) view = &candidate;
        }
        WriteStream(json, (*stream)->Describe(), view);
      }
      json.EndArray();
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kGetStream: {
      auto stream = engine.store()->GetStream(route.name);
      if (!stream.ok()) {
        ReplyError(response, AdminNotFound("no stream named '" + route.name +
                                           "' (GET /admin/v1/streams lists them)"));
        return;
      }
      auto view = engine.FindStream(route.name);
      WriteStream(json, (*stream)->Describe(), view.ok() ? &*view : nullptr);
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kTailStream: {
      auto stream = engine.store()->GetStream(route.name);
      if (!stream.ok()) {
        ReplyError(response, AdminNotFound("no stream named '" + route.name +
                                           "' (GET /admin/v1/streams lists them)"));
        return;
      }
      size_t limit = kTailDefault;
      std::string_view target = request.target;
      if (size_t at = target.find("limit="); at != std::string_view::npos) {
        std::string_view text = target.substr(at + 6);
        text = text.substr(0, text.find('&'));
        size_t number = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error != std::errc() || end != text.data() + text.size() || number < 1 ||
            number > kTailMax) {
          ReplyError(response, AdminBadRequest(fmt::format("limit={} must be between 1 and {}",
                                                           text, kTailMax)));
          return;
        }
        limit = number;
      }
      auto records = TailRecords(**stream, limit, engine.rendering());
      if (!records.ok()) {
        ReplyError(response, FromStatus(records.status()));
        return;
      }
      Reply(response, 200, std::move(*records));
      return;
    }
    case AdminOperation::kRequestSnapshot: {
      SnapshotRequestBody body;
      if (auto error = ParseSnapshotRequestBody(request.body, &body)) {
        ReplyError(response, *error);
        return;
      }
      if (auto error = CapturedStream(engine, route.name)) {
        ReplyError(response, *error);
        return;
      }
      auto submitted = source::SubmitSnapshotRequest(
          io::DefaultFileSystem(), CaptureDirectory(engine, route.name), body.data,
          std::chrono::duration_cast<std::chrono::milliseconds>(kSnapshotAcceptWait));
      if (!submitted.ok()) {
        const Status& status = submitted.status();
        if (status.code() == ErrorCode::kInvalidArgument) {
          ReplyError(response, AdminBadRequest(status.message()));
        } else if (status.code() == ErrorCode::kNotFound || status.IsRetriable()) {
          ReplyError(response,
                     {503, "Unavailable",
                      "the capture of stream '" + route.name +
                          "' is not running (it did not take the request within 10 s: see GET "
                          "/admin/v1/streams/" +
                          route.name + " for its state and error)",
                      ""});
        } else {
          ReplyError(response, FromStatus(status));
        }
        return;
      }
      json.BeginObject();
      json.Member("request", *submitted);
      json.Member("stream", route.name);
      json.Member("state", "accepted");
      json.Key("tables");
      json.BeginArray();
      for (const std::string& table : body.tables) json.String(table);
      json.EndArray();
      json.Member("where", body.where);
      json.EndObject();
      // 202: accepted by the capture, read in chunks from now on (GET shows the progress).
      Reply(response, 202, json.Take());
      response->headers.emplace_back(
          "location", std::string(kAdminPrefix) + "streams/" + route.name + "/snapshots");
      return;
    }
    case AdminOperation::kGetSnapshots: {
      if (auto error = CapturedStream(engine, route.name)) {
        ReplyError(response, *error);
        return;
      }
      auto progress = SnapshotProgress(engine, route.name);
      if (!progress.ok()) {
        ReplyError(response, {500, "Internal", progress.status().message(), ""});
        return;
      }
      Reply(response, 200, std::move(*progress));
      return;
    }
    case AdminOperation::kCreateStream: {
      StreamConfig stream;
      if (auto error = ParseCreateStreamBody(request.body, &stream)) {
        ReplyError(response, *error);
        return;
      }
      std::string name = stream.name;
      if (Status created = engine.CreateStream(std::move(stream)); !created.ok()) {
        ReplyError(response, FromStatus(created));
        return;
      }
      auto log_stream = engine.store()->GetStream(name);
      auto view = engine.FindStream(name);
      if (!log_stream.ok() || !view.ok()) {
        ReplyError(response, AdminNotFound("stream '" + name + "' was deleted meanwhile"));
        return;
      }
      WriteStream(json, (*log_stream)->Describe(), &*view);
      Reply(response, 201, json.Take());
      response->headers.emplace_back("location", std::string(kAdminPrefix) + "streams/" + name);
      return;
    }
    case AdminOperation::kDeleteStream:
    case AdminOperation::kDeleteSource: {
      bool is_stream = route.operation == AdminOperation::kDeleteStream;
      Status deleted =
          is_stream ? engine.DeleteStream(route.name) : engine.DeleteSource(route.name);
      if (!deleted.ok()) {
        ReplyError(response, FromStatus(deleted));
        return;
      }
      json.BeginObject();
      json.Member("deleted", route.name);
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kListSources: {
      json.BeginObject();
      json.Key("sources");
      json.BeginArray();
      for (const auto& source : engine.Sources()) WriteSource(json, source);
      json.EndArray();
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kGetSource:
    case AdminOperation::kCreateSource: {
      std::string name = route.name;
      if (route.operation == AdminOperation::kCreateSource) {
        SourceConfig source;
        if (auto error = ParseCreateSourceBody(request.body, &source)) {
          ReplyError(response, *error);
          return;
        }
        name = source.name;
        if (Status created = engine.CreateSource(std::move(source)); !created.ok()) {
          ReplyError(response, FromStatus(created));
          return;
        }
      }
      for (const auto& source : engine.Sources()) {
        if (source.config.name != name) continue;
        WriteSource(json, source);
        if (route.operation == AdminOperation::kCreateSource) {
          Reply(response, 201, json.Take());
          response->headers.emplace_back("location", std::string(kAdminPrefix) + "sources/" + name);
        } else {
          Reply(response, 200, json.Take());
        }
        return;
      }
      ReplyError(response, AdminNotFound("no source named '" + name +
                                         "' (GET /admin/v1/sources lists them)"));
      return;
    }
    case AdminOperation::kListSinks: {
      json.BeginObject();
      json.Key("sinks");
      json.BeginArray();
      for (const auto& sink : engine.SinkStatuses()) WriteSink(json, engine, sink);
      json.EndArray();
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kGetSink: {
      auto sink = engine.FindSinkStatus(route.sink);
      if (!sink.ok()) {
        ReplyError(response, AdminNotFound("no sink named '" + route.sink +
                                           "' (GET /admin/v1/sinks lists them)"));
        return;
      }
      WriteSink(json, engine, *sink);
      Reply(response, 200, json.Take());
      return;
    }
    case AdminOperation::kPauseSink:
    case AdminOperation::kResumeSink:
    case AdminOperation::kResetSink: {
      log::StartPosition to;
      consume::ControlRequest control = consume::ControlRequest::kPause;
      if (route.operation == AdminOperation::kResetSink) {
        if (auto error = ParseResetBody(request.body, &to)) {
          ReplyError(response, *error);
          return;
        }
        control = consume::ControlRequest::kReset;
      } else if (route.operation == AdminOperation::kResumeSink) {
        control = consume::ControlRequest::kResume;
      }
      auto applied = engine.ControlSink(route.sink, control, to, kControlWait);
      if (!applied.ok()) {
        ReplyError(response, applied.status().code() == ErrorCode::kNotFound
                                 ? AdminNotFound("no sink named '" + route.sink +
                                                 "' (GET /admin/v1/sinks lists them)")
                                 : FromStatus(applied.status()));
        return;
      }
      auto sink = engine.FindSinkStatus(route.sink);
      if (!sink.ok()) {
        ReplyError(response, AdminNotFound("sink '" + route.sink + "' was deleted meanwhile"));
        return;
      }
      // 202: taken, not applied yet (the sink applies it when its batch in flight ends).
      WriteSink(json, engine, *sink);
      Reply(response, *applied ? 200 : 202, json.Take());
      return;
    }
    case AdminOperation::kCreateSink: {
      consume::SinkSpec spec;
      if (auto error = ParseCreateSinkBody(request.body, &spec)) {
        ReplyError(response, *error);
        return;
      }
      std::string name = spec.name;
      if (Status created = engine.CreateSink(std::move(spec)); !created.ok()) {
        ReplyError(response, FromStatus(created));
        return;
      }
      auto sink = engine.FindSinkStatus(name);
      if (!sink.ok()) {
        ReplyError(response, AdminNotFound("sink '" + name + "' was deleted meanwhile"));
        return;
      }
      WriteSink(json, engine, *sink);
      Reply(response, 201, json.Take());
      response->headers.emplace_back("location", std::string(kAdminPrefix) + "sinks/" + name);
      return;
    }
    case AdminOperation::kDeleteSink: {
      if (Status deleted = engine.DeleteSink(route.sink); !deleted.ok()) {
        ReplyError(response, FromStatus(deleted));
        return;
      }
      json.BeginObject();
      json.Member("deleted", route.sink);
      json.EndObject();
      Reply(response, 200, json.Take());
      return;
    }
  }
}

}  // namespace

bool AdminAuthorized(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || authorization.size() < kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  std::string_view given = authorization.substr(kScheme.size());
  unsigned char given_hash[SHA256_DIGEST_LENGTH];
  unsigned char token_hash[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), given_hash);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), token_hash);
  return CRYPTO_memcmp(given_hash, token_hash, SHA256_DIGEST_LENGTH) == 0;
}

bool IsLoopbackListen(std::string_view listen) {
  auto parsed = ParseListenAddress(listen);
  if (!parsed.ok()) return false;
  std::string_view host = parsed->first;
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

api::HttpRoute AdminHttpRoute(Engine* engine, std::shared_ptr<const ControlAuth> auth) {
  api::HttpRoute route;
  route.path = std::string(kAdminPrefix);
  route.prefix = true;
  route.handler = [engine, auth = std::move(auth)](const api::HttpRequest& request,
                                                   api::HttpResponse* response) {
    Handle(*engine, *auth, request, response);
  };
  return route;
}

}  // namespace eddy::engine
