#include "log/log_metrics.h"

#include <map>
#include <memory>
#include <mutex>

#include "base/metrics.h"

namespace eddy::log {
namespace {

struct StreamMetrics {
  prometheus::Histogram* commit_duration;
  prometheus::Counter* records;
  prometheus::Counter* bytes;
  prometheus::Counter* dropped_segments;
  prometheus::Counter* dropped_bytes;
};

class LogProbe {
 public:
  static LogProbe& Get() {
    static auto* probe = new LogProbe();  // never destroyed, as the registry
    return *probe;
  }

  prometheus::Histogram& fsync() { return fsync_; }

  const StreamMetrics& For(const std::string& stream) {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(stream);
    if (it != streams_.end()) return it->second;
    prometheus::Labels labels = {{"stream", stream}};
    StreamMetrics metrics{&commit_duration_.Add(labels, eddy::metrics::LatencyBuckets()),
                          &records_.Add(labels), &bytes_.Add(labels),
                          &dropped_segments_.Add(labels), &dropped_bytes_.Add(labels)};
    return streams_.emplace(stream, metrics).first->second;
  }

 private:
  LogProbe()
      : fsync_(prometheus::BuildHistogram()
                   .Name("eddy_log_fsync_duration_seconds")
                   .Help("Duration of each fsync of a log segment file or commit journal on "
                         "the commit path")
                   .Register(eddy::metrics::Registry())
                   .Add({}, eddy::metrics::LatencyBuckets())),
        commit_duration_(prometheus::BuildHistogram()
                             .Name("eddy_log_commit_duration_seconds")
                             .Help("Duration of one durable log commit (a group of appends or "
                                   "a transaction appended in parts): encode, write, fsync, "
                                   "commit record")
                             .Register(eddy::metrics::Registry())),
        records_(prometheus::BuildCounter()
                     .Name("eddy_log_appended_records_total")
                     .Help("Records made durable in the log (each chunk of a chunked record "
                           "counts)")
                     .Register(eddy::metrics::Registry())),
        bytes_(prometheus::BuildCounter()
                   .Name("eddy_log_appended_bytes_total")
                   .Help("Bytes of the records made durable, as framed in the segment files")
                   .Register(eddy::metrics::Registry())),
        dropped_segments_(prometheus::BuildCounter()
                              .Name("eddy_log_retention_dropped_segments_total")
                              .Help("Segment files removed by retention (age or size limit)")
                              .Register(eddy::metrics::Registry())),
        dropped_bytes_(prometheus::BuildCounter()
                           .Name("eddy_log_retention_dropped_bytes_total")
                           .Help("Bytes of the segment files removed by retention")
                           .Register(eddy::metrics::Registry())) {}

  prometheus::Histogram& fsync_;
  prometheus::Family<prometheus::Histogram>& commit_duration_;
  prometheus::Family<prometheus::Counter>& records_;
  prometheus::Family<prometheus::Counter>& bytes_;
  prometheus::Family<prometheus::Counter>& dropped_segments_;
  prometheus::Family<prometheus::Counter>& dropped_bytes_;
  std::mutex mutex_;  // guards streams_
  std::map<std::string, StreamMetrics, std::less<>> streams_;
};

double SecondsSince(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

Status TimedSync(io::File& file) {
  auto started = std::chrono::steady_clock::now();
  Status status = file.Sync();
  LogProbe::Get().fsync().Observe(SecondsSince(started));
  return status;
}

void RecordLogCommit(const std::string& stream, uint64_t records, uint64_t bytes,
                     std::chrono::steady_clock::time_point started) {
  const StreamMetrics& metrics = LogProbe::Get().For(stream);
  metrics.commit_duration->Observe(SecondsSince(started));
  metrics.records->Increment(static_cast<double>(records));
  metrics.bytes->Increment(static_cast<double>(bytes));
}

void RecordRetentionDrop(const std::string& stream, uint64_t bytes) {
  const StreamMetrics& metrics = LogProbe::Get().For(stream);
  metrics.dropped_segments->Increment();
  metrics.dropped_bytes->Increment(static_cast<double>(bytes));
}

}  // namespace eddy::log
