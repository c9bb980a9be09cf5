#include "api/metrics_endpoint.h"

#include "base/metrics.h"

namespace eddy::api {

HttpHandler MetricsHandler() {
  return [](const HttpRequest&, HttpResponse* response) {
    response->status = 200;
    response->headers.emplace_back("content-type", metrics::kTextContentType);
    response->body = metrics::SerializeText();
  };
}

HttpRoute MetricsRoute() { return HttpRoute{"GET", std::string(kMetricsPath), MetricsHandler()}; }

}  // namespace eddy::api
