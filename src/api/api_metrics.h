// The API's metrics probe (base/metrics.h): requests by service, operation and HTTP status,
// and a latency histogram per operation.
//
//   eddy_api_requests_total{service,operation,status}     counter
//   eddy_api_request_duration_seconds{service,operation}  histogram (metrics::LatencyBuckets)
//
// `service` is "kinesis" or "dynamodbstreams" (both have GetRecords, DescribeStream, ...);
// `operation` is the X-Amz-Target operation when the service knows it, else "unknown", so
// a client sending junk targets cannot grow the label set.
//
// Thread safety: Record may be called concurrently from connection threads. The per-operation
// metrics are resolved once and kept (a shared lock on the hot path, no allocation).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eddy::api {

class ApiProbe {
 public:
  ApiProbe();
  ApiProbe(const ApiProbe&) = delete;
  ApiProbe& operator=(const ApiProbe&) = delete;

  void Record(std::string_view service, std::string_view operation, int http_status,
              double seconds);

 private:
  struct Operation {
    std::string service;
    std::string operation;
    prometheus::Histogram* duration = nullptr;
    prometheus::Counter* ok = nullptr;  // status 200, the common case
  };
  Operation& Resolve(std::string_view service, std::string_view operation);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  std::shared_mutex mutex_;  // guards operations_ (entries are never removed)
  std::unordered_map<std::string, Operation> operations_;  // by service + '\0' + operation
};

}  // namespace eddy::api
