#include "source/capture_metrics.h"

#include <algorithm>

#include "base/metrics.h"

namespace eddy::source {
namespace {

constexpr std::array<std::string_view, 4> kWalStatuses = {"reserved", "extended", "unreserved",
                                                          "lost"};

// Sets the gauge of `labels`, or removes it when `value` is unknown. No pointer to the gauge is
// kept: two probes of one stream name (a capture restarted while the old one winds down, or
// tests) share the sample, and one removing it must not leave the other a dangling pointer.
void SetOptionalGauge(prometheus::Family<prometheus::Gauge>& family,
                      const prometheus::Labels& labels, std::optional<int64_t> value) {
  static std::mutex mutex;  // Has + Add + Remove as one step
  std::lock_guard lock(mutex);
  if (!value) {
    if (family.Has(labels)) family.Remove(&family.Add(labels));
    return;
  }
  family.Add(labels).Set(static_cast<double>(*value));
}

}  // namespace

prometheus::Counter& TableCounters::For(model::Operation op) {
  auto slot = static_cast<size_t>(op);
  if (slot >= kSlots) slot = 0;
  prometheus::Counter* counter = by_op_[slot].load(std::memory_order_acquire);
  if (counter != nullptr) return *counter;
  // Family::Add returns the same object for the same labels, so a race here is harmless.
  counter = &probe_->events_.Add({{"stream", probe_->stream_},
                                  {"op", std::string(model::OperationCode(op))},
                                  {"table", table_}});
  by_op_[slot].store(counter, std::memory_order_release);
  return *counter;
}

void EventTally::AddSlow(TableCounters* table, model::Operation op, uint64_t count) {
  for (Entry& entry : entries_) {
    if (entry.table == table && entry.op == op) {
      entry.count += count;
      return;
    }
  }
  entries_.push_back(Entry{table, op, count});
}

void EventTally::Merge(const EventTally& other) {
  for (const Entry& entry : other.entries_) Add(entry.table, entry.op, entry.count);
}

void EventTally::Apply() const {
  for (const Entry& entry : entries_) {
    entry.table->For(entry.op).Increment(static_cast<double>(entry.count));
  }
}

CaptureProbe::CaptureProbe(std::string stream)
    : stream_(std::move(stream)),
      events_(prometheus::BuildCounter()
                  .Name("eddy_capture_events_total")
                  .Help("Change events captured and durable in the log, by stream, operation "
                        "(c, u, d, r, t, s, m) and table")
                  .Register(metrics::Registry())),
      transactions_(prometheus::BuildCounter()
                        .Name("eddy_capture_transactions_total")
                        .Help("Source transactions captured and durable in the log")
                        .Register(metrics::Registry())
                        .Add({{"stream", stream_}})),
      lag_seconds_(prometheus::BuildGauge()
                       .Name("eddy_capture_lag_seconds")
                       .Help("Seconds from the source commit of the last durable transaction "
                             "to the moment it became durable in the log")
                       .Register(metrics::Registry())
                       .Add({{"stream", stream_}})),
      last_commit_(prometheus::BuildGauge()
                       .Name("eddy_capture_last_durable_commit_timestamp_seconds")
                       .Help("Source commit time (Unix seconds) of the last transaction durable "
                             "in the log")
                       .Register(metrics::Registry())
                       .Add({{"stream", stream_}})),
      commit_to_durable_(prometheus::BuildHistogram()
                             .Name("eddy_capture_commit_to_durable_seconds")
                             .Help("Per transaction: seconds from the source commit to durable "
                                   "in the log")
                             .Register(metrics::Registry())
                             .Add({{"stream", stream_}}, metrics::LatencyBuckets())),
      lag_bytes_family_(prometheus::BuildGauge()
                            .Name("eddy_source_lag_bytes")
                            .Help("Source log bytes written after the position eddy has "
                                  "acknowledged (PostgreSQL: WAL from the slot's "
                                  "confirmed_flush_lsn to the current LSN; MySQL/MariaDB: "
                                  "binlog bytes after the durable position)")
                            .Register(metrics::Registry())),
      wal_status_(prometheus::BuildGauge()
                      .Name("eddy_source_slot_wal_status")
                      .Help("PostgreSQL replication slot wal_status: 1 for the current one "
                            "(reserved, extended, unreserved, lost), 0 for the others")
                      .Register(metrics::Registry())),
      safe_wal_size_family_(prometheus::BuildGauge()
                                .Name("eddy_source_slot_safe_wal_size_bytes")
                                .Help("PostgreSQL slot safe_wal_size: WAL bytes that can still "
                                      "be written before the slot risks being lost; absent "
                                      "when max_slot_wal_keep_size is unlimited")
                                .Register(metrics::Registry())),
      snapshot_rows_(prometheus::BuildCounter()
                         .Name("eddy_snapshot_rows_total")
                         .Help("Rows read by initial snapshots, by stream and table")
                         .Register(metrics::Registry())),
      snapshot_tables_remaining_(prometheus::BuildGauge()
                                     .Name("eddy_snapshot_tables_remaining")
                                     .Help("Tables the running snapshot has not finished; 0 "
                                           "when no snapshot runs")
                                     .Register(metrics::Registry())
                                     .Add({{"stream", stream_}})) {}

TableCounters* CaptureProbe::Table(const model::TableId& table) {
  return Table(table.QualifiedName());
}

TableCounters* CaptureProbe::Table(const std::string& qualified_name) {
  std::lock_guard lock(mutex_);
  auto it = tables_.find(qualified_name);
  if (it == tables_.end()) {
    it = tables_
             .emplace(qualified_name,
                      std::unique_ptr<TableCounters>(new TableCounters(this, qualified_name)))
             .first;
  }
  return it->second.get();
}

void CaptureProbe::TransactionDurable(int64_t commit_time_ns, int64_t now_ns) {
  double lag = std::max<int64_t>(now_ns - commit_time_ns, 0) / 1e9;
  transactions_.Increment();
  commit_to_durable_.Observe(lag);
  lag_seconds_.Set(lag);
  last_commit_.Set(static_cast<double>(commit_time_ns) / 1e9);
}

void CaptureProbe::TransactionsDurable(const std::vector<CommitRun>& runs, int64_t now_ns) {
  if (runs.empty()) return;
  const auto& bounds = metrics::LatencyBuckets();
  std::vector<double> increments(bounds.size() + 1, 0.0);  // the last one is +Inf
  double sum = 0;
  double total = 0;
  double lag = 0;
  for (const CommitRun& run : runs) {
    lag = std::max<int64_t>(now_ns - run.commit_time_ns, 0) / 1e9;
    auto bucket = std::lower_bound(bounds.begin(), bounds.end(), lag) - bounds.begin();
    increments[static_cast<size_t>(bucket)] += static_cast<double>(run.transactions);
    sum += lag * static_cast<double>(run.transactions);
    total += static_cast<double>(run.transactions);
  }
  commit_to_durable_.ObserveMultiple(increments, sum);
  transactions_.Increment(total);
  lag_seconds_.Set(lag);
  last_commit_.Set(static_cast<double>(runs.back().commit_time_ns) / 1e9);
}

void CaptureProbe::SetSourceLagBytes(std::optional<int64_t> bytes) {
  SetOptionalGauge(lag_bytes_family_, {{"stream", stream_}}, bytes);
}

void CaptureProbe::SetSlotWalStatus(std::string_view status) {
  for (std::string_view known : kWalStatuses) {
    wal_status_.Add({{"stream", stream_}, {"status", std::string(known)}})
        .Set(known == status ? 1 : 0);
  }
}

namespace {

// The replication statuses by stream: process-wide like the metrics registry (a restarted
// capture of a stream replaces its entry).
struct ReplicationStatuses {
  std::mutex mutex;
  std::map<std::string, ReplicationStatus> by_stream;
};
ReplicationStatuses& Statuses() {
  static auto* statuses = new ReplicationStatuses();  // never destroyed: used at exit
  return *statuses;
}

}  // namespace

void CaptureProbe::SetReplicationStatus(ReplicationStatus status) {
  ReplicationStatuses& statuses = Statuses();
  std::lock_guard lock(statuses.mutex);
  statuses.by_stream[stream_] = std::move(status);
}

std::optional<ReplicationStatus> LatestReplicationStatus(const std::string& stream) {
  ReplicationStatuses& statuses = Statuses();
  std::lock_guard lock(statuses.mutex);
  auto it = statuses.by_stream.find(stream);
  if (it == statuses.by_stream.end()) return std::nullopt;
  return it->second;
}

void CaptureProbe::SetSlotSafeWalSize(std::optional<int64_t> bytes) {
  SetOptionalGauge(safe_wal_size_family_, {{"stream", stream_}}, bytes);
}

void CaptureProbe::AddSnapshotRows(const std::string& qualified_table, uint64_t rows) {
  snapshot_rows_.Add({{"stream", stream_}, {"table", qualified_table}})
      .Increment(static_cast<double>(rows));
}

void CaptureProbe::SetSnapshotTablesRemaining(uint64_t tables) {
  snapshot_tables_remaining_.Set(static_cast<double>(tables));
}

PeriodicPoller::PeriodicPoller(std::chrono::milliseconds interval, std::function<void()> poll)
    : interval_(interval), poll_(std::move(poll)), thread_([this] { Loop(); }) {}

PeriodicPoller::~PeriodicPoller() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void PeriodicPoller::Poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  changed_.notify_all();
}

bool PeriodicPoller::stopping() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

void PeriodicPoller::Loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    poked_ = false;
    lock.unlock();
    poll_();
    lock.lock();
    changed_.wait_for(lock, interval_, [this] { return stop_ || poked_; });
  }
}

}  // namespace eddy::source
