// The web console: one page served at `GET /` on the API port, compiled into the binary
// (nothing fetched at run time, no CDN). Every two seconds it lists the sources, streams and
// sinks from the admin API (/admin/v1/, docs/admin-api.md), adds the new samples of the
// server's last-hour history to its charts (/admin/v1/history: a page opened late shows the
// past hour), shows the alerts the server evaluated (/admin/v1/alerts) and lets the operator
// change their thresholds, shows the commands that read each stream (/admin/v1/clients),
// pauses, resumes and resets sinks, and tails a stream. With an admin token it asks for the
// token and keeps it in the tab's sessionStorage. docs/console.md describes the page.
//
// Thread safety: the route's handler is stateless.
#pragma once

#include "api/http_routes.h"

namespace eddy::engine {

// GET / (other methods on / go on to the AWS protocol, which answers POST /).
api::HttpRoute AdminConsoleRoute();

}  // namespace eddy::engine
