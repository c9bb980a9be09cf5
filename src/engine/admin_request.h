// Admin API requests (`/admin/v1/` on the API port, docs/admin-api.md): the routes and the
// JSON request bodies, parsed into values before anything acts on them. Every error is an
// AdminError: the HTTP status, a short code and a message that names what is wrong (the
// path, the method, the body's field) and how to fix it.
//
//   GET    /admin/v1/sources               POST /admin/v1/sources {"name","url","settings"}
//   GET    /admin/v1/sources/{name}        DELETE /admin/v1/sources/{name}
//   GET    /admin/v1/streams               POST /admin/v1/streams {"name","source","settings"}
//   GET    /admin/v1/streams/{name}        DELETE /admin/v1/streams/{name}
//   GET    /admin/v1/streams/{name}/tail?limit=N   the stream's newest records, rendered
//   POST   /admin/v1/streams/{name}/snapshots {"tables": [...], "where": "..."}
//   GET    /admin/v1/streams/{name}/snapshots       the incremental snapshot's progress
//   GET    /admin/v1/sinks                 POST /admin/v1/sinks  {"name","url","stream","settings"}
//   GET    /admin/v1/sinks/{name}          DELETE /admin/v1/sinks/{name}
//   POST   /admin/v1/sinks/{name}/pause|resume
//   POST   /admin/v1/sinks/{name}/reset    {"to": "trim-horizon" | "latest" | "SEQUENCE"}
//
// The bodies are untrusted bytes (fuzz target: fuzz_admin_request.cc); parsing never throws
// and checks sizes, types and unknown members.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consume/sink.h"
#include "engine/config.h"
#include "log/log_store.h"

namespace eddy::engine {

inline constexpr std::string_view kAdminPrefix = "/admin/v1/";

enum class AdminOperation : uint8_t {
  kListStreams = 0,
  kListSinks = 1,
  kGetSink = 2,
  kCreateSink = 3,
  kDeleteSink = 4,
  kPauseSink = 5,
  kResumeSink = 6,
  kResetSink = 7,
  kListSources = 8,
  kGetSource = 9,
  kCreateSource = 10,
  kDeleteSource = 11,
  kGetStream = 12,
  kCreateStream = 13,
  kDeleteStream = 14,
  kTailStream = 15,
  kRequestSnapshot = 16,
  kGetSnapshots = 17,
};

struct AdminError {
  int http_status = 400;
  std::string code;     // "BadRequest", "NotFound", "MethodNotAllowed", "Conflict", ...
  std::string message;  // what is wrong and how to fix it
  std::string allow;    // with 405: the methods the path allows ("GET, POST")
};

AdminError AdminBadRequest(std::string message);
AdminError AdminNotFound(std::string message);
AdminError AdminConflict(std::string message);

struct AdminRoute {
  AdminOperation operation = AdminOperation::kListStreams;
  std::string sink;  // for the /sinks/{name} operations
  std::string name;  // for the /sources/{name} and /streams/{name} operations
};

// `path` is the request path without the query ("/admin/v1/sinks/orders/pause").
// Unknown paths are 404, a known path with another method 405 (with `allow`).
std::optional<AdminError> ParseAdminRoute(std::string_view method, std::string_view path,
                                          AdminRoute* out);

// The body of POST .../reset. An empty body means trim-horizon.
std::optional<AdminError> ParseResetBody(std::string_view body, log::StartPosition* out);

// "trim-horizon" / "TRIM_HORIZON", "latest" / "LATEST", or a sequence number (as GetRecords
// shows it, or the plain counter). The one parser `eddy sink reset --to` and the admin API use.
Result<log::StartPosition> ParseResetTarget(std::string_view to);

// The body of POST /admin/v1/sinks: `name` and `url` required, `stream` optional (the only
// stream when there is one), `settings` an object of strings, numbers or booleans (numbers
// and booleans become their text, as TOML values do). The url's query parameters are
// settings too, as for `eddy run --sink` (engine/sink_config.h); a setting given in both is
// an error. The spec still has to pass the engine's checks (ResolveSinks, the destination).
std::optional<AdminError> ParseCreateSinkBody(std::string_view body, consume::SinkSpec* out);

// The body of POST /admin/v1/sources: `name` and `url` required, `settings` an object of the
// [[source]] keys (slot_name, snapshot_mode, server_id, ...) to strings, numbers or booleans.
std::optional<AdminError> ParseCreateSourceBody(std::string_view body, SourceConfig* out);

// The body of POST /admin/v1/streams: `name` required, `source` optional (the only source
// when there is one), `settings` an object of the stream settings (format, view_type, tables
// as "a.b,c.d" or a list of strings, shards, ...; engine/config.h ApplyStreamSetting).
std::optional<AdminError> ParseCreateStreamBody(std::string_view body, StreamConfig* out);

// The body of POST /admin/v1/streams/{name}/snapshots: `tables` required, a non-empty list of
// table names as the stream's tables are written ("schema.table" / "database.table"; PostgreSQL
// also "table"), `where` optional, an SQL condition limiting the rows of every table (Debezium's
// additional-conditions). Written as the execute-snapshot `data` JSON `eddy snapshot` writes
// (source::SnapshotRequestData) into `data`.
struct SnapshotRequestBody {
  std::vector<std::string> tables;
  std::string where;
  std::string data;  // the request file's JSON
};
std::optional<AdminError> ParseSnapshotRequestBody(std::string_view body, SnapshotRequestBody* out);

// Bodies larger than this are refused (a sink definition is small).
inline constexpr size_t kMaxAdminBodyBytes = 64 * 1024;

}  // namespace eddy::engine
