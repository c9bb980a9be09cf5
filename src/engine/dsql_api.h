// The Aurora DSQL stream API on the API port (engine/dsql_request.h has the requests and
// error shapes; docs/dsql-stream-api.md every field): CreateStream, GetStream, ListStreams,
// DeleteStream, served through the Engine's run-time streams. A cluster is an eddy source
// (configured or created at run time); a DSQL stream is an eddy stream created at run time
// whose "dsql.*" annotations (identifier, ARNs, ordering, format, client token, creation
// time, tags) are recorded with it in DATA/runtime-sinks, so it survives a restart.
//
// Status: the stream's capture decides it: starting or snapshot -> CREATING, streaming ->
// ACTIVE, reconnecting -> IMPAIRED, failed, finished or stopped -> FAILED (statusReason
// INTERNAL_ERROR with the capture's error in eddy's logs and /admin/v1/streams/NAME). After
// DeleteStream the stream is gone: GetStream answers ResourceNotFoundException (the SDKs'
// StreamNotExists waiter).
//
// Authentication: with an admin token ([api] admin_token / EDDY_ADMIN_TOKEN) a request needs
// `Authorization: Bearer TOKEN`, or a SigV4 signature by access key id kDsqlAccessKeyId with
// the token as the secret key (what an AWS SDK sends); AccessDeniedException (403) otherwise.
//
// Thread safety: the handler is called concurrently from the server's connection threads;
// `engine` must outlive the server.
#pragma once

#include <string>
#include <string_view>

#include "api/http_routes.h"

namespace eddy::engine {

class Engine;

inline constexpr std::string_view kDsqlAccessKeyId = "eddy-admin";

// The prefix route serving /stream/ for `engine`; an empty `token` requires none.
api::HttpRoute DsqlHttpRoute(Engine* engine, std::string token, std::string region,
                             std::string account_id);

}  // namespace eddy::engine
