// The Aurora DSQL stream API on the API port (engine/dsql_request.h has the requests and
// error shapes; docs/dsql-stream-api.md every field): CreateStream, GetStream, ListStreams,
// DeleteStream, served through the Engine's run-time streams. A cluster is an eddy source
// (configured or created at run time); a DSQL stream is an eddy stream created at run time
// whose "dsql.*" annotations (identifier, ARNs, ordering, format, client token, creation
// time, tags) are recorded with it in DATA/runtime-sinks, so it survives a restart.
//
// With `[dsql] kinesis_endpoint` the ARN names an existing Kinesis stream at that endpoint:
// CreateStream adds a Kinesis sink (`dsql-NAME`, opened before the answer: a missing target
// is a ValidationException) that delivers the eddy stream there; DeleteStream deletes it.
//
// Status: the stream's capture decides it (with an external target, the sink's IMPAIRED or
// FAILED too): starting or snapshot -> CREATING, streaming ->
// ACTIVE, reconnecting -> IMPAIRED, failed, finished or stopped -> FAILED (statusReason
// INTERNAL_ERROR with the capture's error in eddy's logs and /admin/v1/streams/NAME). After
// DeleteStream the stream is gone: GetStream answers ResourceNotFoundException (the SDKs'
// StreamNotExists waiter).
//
// Authentication: the control plane's (engine/control_auth.h): with an admin token ([api]
// admin_token / EDDY_ADMIN_TOKEN) `Authorization: Bearer TOKEN` or a SigV4 signature by access
// key id kDsqlAccessKeyId with the token as the secret key, with [api] access_key_id a SigV4
// signature with those credentials (what an AWS SDK sends); AccessDeniedException (403)
// otherwise.
//
// Thread safety: the handler is called concurrently from the server's connection threads;
// `engine` must outlive the server.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/http_routes.h"
#include "engine/control_auth.h"

namespace eddy::engine {

class Engine;

inline constexpr std::string_view kDsqlAccessKeyId = kControlAccessKeyId;

// The prefix route serving /stream/ for `engine`; `auth` decides who may call it.
api::HttpRoute DsqlHttpRoute(Engine* engine, std::shared_ptr<const ControlAuth> auth,
                             std::string region, std::string account_id);

}  // namespace eddy::engine
