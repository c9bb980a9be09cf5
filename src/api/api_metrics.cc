#include "api/api_metrics.h"

#include <mutex>

#include "base/metrics.h"

namespace eddy::api {

ApiProbe::ApiProbe()
    : requests_(prometheus::BuildCounter()
                    .Name("eddy_api_requests_total")
                    .Help("Kinesis and DynamoDB Streams API requests by service, operation and "
                          "HTTP status")
                    .Register(metrics::Registry())),
      duration_(prometheus::BuildHistogram()
                    .Name("eddy_api_request_duration_seconds")
                    .Help("API request handling time, from the parsed request to the response "
                          "body, by service and operation")
                    .Register(metrics::Registry())) {}

ApiProbe::Operation& ApiProbe::Resolve(std::string_view service, std::string_view operation) {
  std::string key;
  key.reserve(service.size() + 1 + operation.size());
  key.append(service).push_back('\0');
  key.append(operation);
  {
    std::shared_lock lock(mutex_);
    auto it = operations_.find(key);
    if (it != operations_.end()) return it->second;
  }
  std::unique_lock lock(mutex_);
  auto [it, inserted] = operations_.try_emplace(key);
  if (inserted) {
    Operation& entry = it->second;
    entry.service = std::string(service);
    entry.operation = std::string(operation);
    entry.duration = &duration_.Add({{"service", entry.service}, {"operation", entry.operation}},
                                    metrics::LatencyBuckets());
    entry.ok = &requests_.Add(
        {{"service", entry.service}, {"operation", entry.operation}, {"status", "200"}});
  }
  return it->second;
}

void ApiProbe::Record(std::string_view service, std::string_view operation, int http_status,
                      double seconds) {
  Operation& entry = Resolve(service, operation);
  entry.duration->Observe(seconds);
  if (http_status == 200) {
    entry.ok->Increment();
    return;
  }
  // Errors are the uncommon path: the family's own lookup is fast enough.
  requests_
      .Add({{"service", entry.service},
            {"operation", entry.operation},
            {"status", std::to_string(http_status)}})
      .Increment();
}

}  // namespace eddy::api
