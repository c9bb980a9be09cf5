#include "base/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace eddy::metrics {

prometheus::Registry& Registry() {
  static auto* registry = new prometheus::Registry();
  return *registry;
}

std::string SerializeText() {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Registry().Collect());
  return out.str();
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10, 30, 60};
  return buckets;
}

}  // namespace eddy::metrics
