// The captures' metrics probe (base/metrics.h), shared by the PostgreSQL and MySQL/MariaDB
// captures so both report the same names (docs/operations/metrics.md):
//
//   eddy_capture_events_total{stream,op,table}            counter: events durable in the log
//   eddy_capture_transactions_total{stream}               counter: source transactions durable
//   eddy_capture_lag_seconds{stream}                      gauge: now - commit time of the last
//                                                         durable transaction, when it became
//                                                         durable
//   eddy_capture_commit_to_durable_seconds{stream}        histogram: the same, per transaction
//   eddy_capture_last_durable_commit_timestamp_seconds{stream}  gauge: that commit time
//   eddy_source_lag_bytes{stream}                         gauge: source log bytes not yet
//                                                         acknowledged (PostgreSQL WAL, binlog)
//   eddy_source_slot_wal_status{stream,status}            gauge: 1 for the slot's wal_status
//   eddy_source_slot_safe_wal_size_bytes{stream}          gauge: absent when unlimited
//   eddy_snapshot_rows_total{stream,table}                counter: snapshot rows read
//   eddy_snapshot_tables_remaining{stream}                gauge
//
// Besides the metrics, each capture's lag poll publishes the source's replication position
// (ReplicationStatus: the PostgreSQL slot's row, the MySQL/MariaDB binlog positions) by stream,
// for the admin API's sources view and the console (LatestReplicationStatus).
//
// Cost: the hot paths count per transaction or batch, not per row. A capture resolves a
// table's counters once (TableCounters, a stable pointer it may cache) and collects a batch's
// counts in an EventTally that it applies once the batch is durable.
//
// Thread safety: every method may be called from any thread; an EventTally is used by one
// thread at a time.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "model/event.h"
#include "model/schema.h"

namespace eddy::source {

class CaptureProbe;

// Where a capture stands in its source's log, as its last lag poll saw it. Texts are as the
// server shows them; an unknown number is nullopt.
struct ReplicationStatus {
  std::string kind;  // "postgresql" or "mysql"
  // PostgreSQL: the slot's pg_replication_slots row (wal_status and safe_wal_size from 13).
  std::string slot_name;
  bool slot_exists = false;
  std::optional<bool> active;
  std::string wal_status;
  std::string restart_lsn;
  std::string confirmed_flush_lsn;
  std::optional<int64_t> safe_wal_size_bytes;
  // MySQL/MariaDB: the position durable in eddy's log, and the server's current binlog end.
  std::string binlog_file;
  std::optional<uint64_t> binlog_position;
  std::string gtid;
  std::string server_binlog_file;
  std::optional<uint64_t> server_binlog_position;
  // Source log bytes not yet acknowledged (as eddy_source_lag_bytes).
  std::optional<int64_t> lag_bytes;
  std::string error;  // why the last poll failed; empty when it succeeded
  int64_t polled_at_nanos = 0;
};

// The status the capture of `stream` published last; nullopt before its first poll.
std::optional<ReplicationStatus> LatestReplicationStatus(const std::string& stream);

// One table's event counters by operation, created on first use of each operation.
class TableCounters {
 public:
  prometheus::Counter& For(model::Operation op);

 private:
  friend class CaptureProbe;
  TableCounters(CaptureProbe* probe, std::string table) : probe_(probe), table_(std::move(table)) {}
  static constexpr size_t kSlots = static_cast<size_t>(model::kLastOperation) + 1;
  CaptureProbe* probe_;
  std::string table_;
  std::array<std::atomic<prometheus::Counter*>, kSlots> by_op_{};
};

// Event counts of a batch (or one transaction), applied to the counters once it is durable.
class EventTally {
 public:
  // A null `table` (not captured) is ignored.
  void Add(TableCounters* table, model::Operation op, uint64_t count = 1) {
    if (table == nullptr || count == 0) return;
    if (!entries_.empty() && entries_.back().table == table && entries_.back().op == op) {
      entries_.back().count += count;
      return;
    }
    AddSlow(table, op, count);
  }
  void Merge(const EventTally& other);
  void Apply() const;
  void Clear() { entries_.clear(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    TableCounters* table;
    model::Operation op;
    uint64_t count;
  };
  void AddSlow(TableCounters* table, model::Operation op, uint64_t count);
  std::vector<Entry> entries_;
};

// The capture metrics of one stream. Objects of the probe stay registered after it is
// destroyed (the registry outlives every capture): a restarted capture of the same stream
// continues the same counters.
class CaptureProbe {
 public:
  explicit CaptureProbe(std::string stream);
  CaptureProbe(const CaptureProbe&) = delete;
  CaptureProbe& operator=(const CaptureProbe&) = delete;

  const std::string& stream() const { return stream_; }

  // The counters of `table` (its QualifiedName() is the label); the pointer stays valid for
  // the probe's lifetime.
  TableCounters* Table(const model::TableId& table);
  TableCounters* Table(const std::string& qualified_name);

  // A source transaction committed at `commit_time_ns` (Unix ns) became durable in the log at
  // `now_ns`. Call once per transaction (a group committed together: once for each).
  void TransactionDurable(int64_t commit_time_ns, int64_t now_ns);
  // Transactions made durable together, as runs of equal commit times (MySQL's are whole
  // seconds, so a batch is a few runs): one histogram update for the whole batch.
  struct CommitRun {
    int64_t commit_time_ns = 0;
    uint64_t transactions = 0;
  };
  void TransactionsDurable(const std::vector<CommitRun>& runs, int64_t now_ns);

  // Source log bytes behind the acknowledged position; nullopt removes the sample (unknown).
  void SetSourceLagBytes(std::optional<int64_t> bytes);
  // PostgreSQL slot health. `status` is pg_replication_slots.wal_status (reserved, extended,
  // unreserved, lost); empty when the slot does not exist (every status 0).
  void SetSlotWalStatus(std::string_view status);
  void SetSlotSafeWalSize(std::optional<int64_t> bytes);
  // Publishes the replication position (LatestReplicationStatus); from the lag poller.
  void SetReplicationStatus(ReplicationStatus status);

  void AddSnapshotRows(const std::string& qualified_table, uint64_t rows);
  void SetSnapshotTablesRemaining(uint64_t tables);

 private:
  friend class TableCounters;
  std::string stream_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Counter& transactions_;
  prometheus::Gauge& lag_seconds_;
  prometheus::Gauge& last_commit_;
  prometheus::Histogram& commit_to_durable_;
  prometheus::Family<prometheus::Gauge>& lag_bytes_family_;
  prometheus::Family<prometheus::Gauge>& wal_status_;
  prometheus::Family<prometheus::Gauge>& safe_wal_size_family_;
  prometheus::Family<prometheus::Counter>& snapshot_rows_;
  prometheus::Gauge& snapshot_tables_remaining_;
  std::mutex mutex_;  // guards tables_
  std::map<std::string, std::unique_ptr<TableCounters>, std::less<>> tables_;
};

// Runs `poll` on a thread of its own: at once, then every `interval`, and soon after Poke(),
// until destroyed (the destructor waits for a running poll, so a poll must bound its own
// time: the captures' lag queries use connect and statement/read timeouts of a few seconds).
// Used for the source lag queries, which run on their own database connection so that the
// replication stream never waits on them.
class PeriodicPoller {
 public:
  PeriodicPoller(std::chrono::milliseconds interval, std::function<void()> poll);
  ~PeriodicPoller();
  PeriodicPoller(const PeriodicPoller&) = delete;
  PeriodicPoller& operator=(const PeriodicPoller&) = delete;

  void Poke();
  // Whether the poller was asked to stop (for a poll that loops).
  bool stopping() const;

 private:
  void Loop();
  std::chrono::milliseconds interval_;
  std::function<void()> poll_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool poked_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace eddy::source
