// The web console: one page served at `GET /` on the API port, compiled into the binary
// (nothing fetched at run time, no CDN). It lists the streams and the sinks from the admin API
// (/admin/v1/, docs/admin-api.md) every two seconds and pauses and resumes sinks through it;
// with an admin token it asks for the token and keeps it in the tab's sessionStorage.
//
// Thread safety: the route's handler is stateless.
#pragma once

#include "api/http_routes.h"

namespace eddy::engine {

// GET / (other methods on / go on to the AWS protocol, which answers POST /).
api::HttpRoute AdminConsoleRoute();

}  // namespace eddy::engine
