#include "api/api_metrics.h"

#include <gtest/gtest.h>

#include "base/metrics.h"

namespace eddy::api {
namespace {

// The registry is process-wide and other tests of this binary serve real requests: the
// operation name here is one no other test uses.
TEST(ApiProbe, CountsRequestsByServiceOperationAndStatusWithLatency) {
  ApiProbe probe;
  probe.Record("kinesis", "ProbeTestOperation", 200, 0.002);
  probe.Record("kinesis", "ProbeTestOperation", 200, 0.004);
  probe.Record("kinesis", "ProbeTestOperation", 400, 0.001);
  probe.Record("dynamodbstreams", "ProbeTestOperation", 200, 0.5);
  std::string text = metrics::SerializeText();
  EXPECT_NE(
      text.find("eddy_api_requests_total{operation=\"ProbeTestOperation\",service=\"kinesis\","
                "status=\"200\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("eddy_api_requests_total{operation=\"ProbeTestOperation\",service=\"kinesis\","
                "status=\"400\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("eddy_api_requests_total{operation=\"ProbeTestOperation\",service="
                      "\"dynamodbstreams\",status=\"200\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("eddy_api_request_duration_seconds_count{operation=\"ProbeTestOperation\","
                      "service=\"kinesis\"} 3"),
            std::string::npos)
      << text;
  // 0.002 and 0.001 fall at or below the 2.5 ms bucket, 0.004 does not.
  EXPECT_NE(text.find("eddy_api_request_duration_seconds_bucket{operation=\"ProbeTestOperation\","
                      "service=\"kinesis\",le=\"0.0025\"} 2"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace eddy::api
