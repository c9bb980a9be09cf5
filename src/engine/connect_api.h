// Kafka Connect's REST API for Debezium connectors on the API port, so Debezium scripts and
// UIs manage eddy (docs/kafka-connect-api.md has every request and answer):
//
//   GET  /connectors                      POST /connectors {"name", "config"}
//   GET  /connectors/{name}               DELETE /connectors/{name}
//   GET  /connectors/{name}/config        PUT /connectors/{name}/config {config} (create or
//                                         change: only the connector's capture and sink restart)
//   GET  /connectors/{name}/status        GET|PATCH|DELETE /connectors/{name}/offsets (capture
//                                         position; Kafka sink checkpoint, set when STOPPED)
//   PUT  /connectors/{name}/pause|resume|stop     POST /connectors/{name}/restart
//   PATCH /connectors/{name}/config {...} (merge; a null value removes a property)
//   GET  /connectors?expand=status|info   Connect's map of name -> {status, info}
//   GET  /connector-plugins               GET /connector-plugins/{plugin}/config
//   PUT  /connector-plugins/{plugin}/config/validate   (engine/connect_plugins.h)
//
// A connector is a Debezium PostgreSQL or MySQL connector configuration mapped by
// MapDebeziumConnector (engine/debezium_config.h) onto a source named after the connector, a
// stream named after `topic.prefix` (its "connect.*" annotations keep the connector's name,
// configuration and state) and, with `[kafka] bootstrap_servers`, a Kafka sink named after
// the connector. Without a Kafka cluster the changes stay in the eddy stream (read it through
// the Kinesis API) and the status says so. All three are created at run time, so they are
// recorded in DATA/runtime-sinks and survive a restart; pause and stop stop the capture (the
// source keeps its position) and pause the sink, resume and restart start them again.
//
// Errors have Connect's shape: {"error_code": 404, "message": "..."}.
// Authentication: the control plane's (engine/control_auth.h: bearer token or SigV4).
//
// Thread safety: the handlers are called concurrently from the server's connection threads;
// `engine` must outlive the server.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/http_routes.h"

namespace eddy::engine {

class Engine;
class ControlAuth;

// The routes of /connectors (prefix) and /connector-plugins; `auth` (engine/control_auth.h)
// decides who may call them.
std::vector<api::HttpRoute> ConnectHttpRoutes(Engine* engine,
                                              std::shared_ptr<const ControlAuth> auth);

}  // namespace eddy::engine
