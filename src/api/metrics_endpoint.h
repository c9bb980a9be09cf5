// The `GET /metrics` handler: the process metrics registry (base/metrics.h) in the Prometheus
// text exposition format 0.0.4. Registered on the API port and on the separate metrics port
// (`--metrics-listen`) by the engine; see docs/operations/metrics.md for every metric.
//
// Thread safety: the handler may be called concurrently (the registry is thread-safe).
#pragma once

#include <string_view>

#include "api/http.h"
#include "api/http_routes.h"

namespace eddy::api {

inline constexpr std::string_view kMetricsPath = "/metrics";

// Answers 200 with metrics::SerializeText() and metrics::kTextContentType.
HttpHandler MetricsHandler();

// The route `GET /metrics` -> MetricsHandler().
HttpRoute MetricsRoute();

}  // namespace eddy::api
