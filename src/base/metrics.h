// The one metrics registry of the process, on Debian's prometheus-cpp core library.
//
// Every module registers its metric families here (a module's "probe", in Redpanda's sense:
// one small struct per module holding references to its families, created once) and updates
// them on its own threads; prometheus-cpp counters, gauges and histograms are thread-safe.
// `GET /metrics` (api/ or engine wiring) serves SerializeText().
//
// Naming (https://prometheus.io/docs/practices/naming/): the `eddy_` prefix, base units
// (seconds, bytes), counters end in `_total`, `_info` for build metadata; labels name
// dimensions (stream, sink, table, op, operation, status), never keys or transaction ids.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace eddy::metrics {

// The process-wide registry (never destroyed: probes of objects that outlive main's locals
// may still update it during exit).
prometheus::Registry& Registry();

// The registry in the Prometheus text exposition format 0.0.4.
std::string SerializeText();
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Histogram buckets in seconds for latencies from 100 µs to 60 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace eddy::metrics
