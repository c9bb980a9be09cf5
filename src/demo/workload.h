// The demo's data: the sample table `retail_trans` and a workload generator of inserts, updates
// and deletes against it, on PostgreSQL or MariaDB/MySQL. Used by `eddy demo` (steady rate,
// stopped by Ctrl-C) and by benchmarks (bulk: N inserts, M updates, K deletes, as fast as the
// database allows).
//
// Determinism: the sequence of operations and every value in them depends only on the seed and
// on the operations planned before (never on the clock or the database), so two generators
// with the same seed produce the same rows on PostgreSQL and on MariaDB.
//
// Thread safety: a WorkloadGenerator is driven by one thread; counts() and StopFlag::Stop() may
// be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "localdb/sql_session.h"
#include "source/source_url.h"

namespace eddy::demo {

inline constexpr char kSampleTable[] = "retail_trans";

// A connection the workload writes through; adapters for both databases below.
class SqlTarget {
 public:
  virtual ~SqlTarget() = default;
  // Runs one or more ';'-separated statements.
  virtual Status Execute(std::string_view sql) = 0;
  virtual source::SourceKind kind() const = 0;
};

// Connects to the database named by `url` (postgresql:// or mysql:// / mariadb://).
Result<std::unique_ptr<SqlTarget>> ConnectTarget(const source::SourceUrl& url);
std::unique_ptr<SqlTarget> WrapSession(localdb::PgSession session);
std::unique_ptr<SqlTarget> WrapSession(localdb::MariadbSession session);

// CREATE TABLE retail_trans (trans_id bigint PRIMARY KEY, customer_id bigint, event, sku,
// amount numeric(10,2), device, trans_datetime timestamp). With `drop_existing` the table is
// dropped first (a fresh demo); otherwise an existing table is kept.
Status CreateSampleTable(SqlTarget& target, bool drop_existing = false);

// A stop request another thread (a signal handler's thread, a test) can give; waits wake at once.
class StopFlag {
 public:
  void Stop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // Waits until `deadline` or Stop(), whichever is first; true when stopped.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
};

enum class OperationKind : uint8_t { kInsert = 0, kUpdate = 1, kDelete = 2 };

struct RetailRow {
  int64_t trans_id = 0;
  int64_t customer_id = 0;
  std::string event;           // purchase, return, view, add_to_cart, refund, ...
  std::string sku;             // SKU-00042
  std::string amount;          // exact decimal text, 2 places: "123.45"
  std::string device;          // ios, android, web, pos
  std::string trans_datetime;  // "2025-01-01 00:00:07.123456" (naive)
};

struct Operation {
  OperationKind kind = OperationKind::kInsert;
  RetailRow row;  // insert: the new row; update: key + new values; delete: key only
};

struct WorkloadOptions {
  uint64_t seed = 1;
  // Operations per second in Run(); each is its own transaction.
  double rate_per_second = 10;
  // Relative weights of the operation kinds in Run() (an update or delete with no live row
  // becomes an insert).
  int insert_weight = 6;
  int update_weight = 3;
  int delete_weight = 1;
  int64_t first_trans_id = 1;
};

struct WorkloadCounts {
  int64_t inserts = 0;
  int64_t updates = 0;
  int64_t deletes = 0;
  int64_t total() const { return inserts + updates + deletes; }
  int64_t live_rows() const { return inserts - deletes; }
};

class WorkloadGenerator {
 public:
  explicit WorkloadGenerator(WorkloadOptions options);

  // The next operation from the mix, without touching a database (deterministic).
  Operation Plan();
  Operation PlanInsert();
  Operation PlanUpdate();  // an insert when no row is live
  Operation PlanDelete();  // an insert when no row is live

  // SQL for one operation (both dialects accept it).
  static std::string ToSql(const Operation& operation);

  // Runs the mix at options.rate_per_second until `stop`, one transaction per operation.
  // Returns the counts, or the first database error.
  Result<WorkloadCounts> Run(SqlTarget& target, StopFlag& stop);

  // Bulk mode: `inserts` new rows, then `updates` updates of random live rows, then `deletes`
  // deletes of random live rows, `batch_size` operations per transaction and round trip.
  // Stops early (returning the counts so far) when `stop` is given and set.
  Result<WorkloadCounts> RunBulk(SqlTarget& target, int64_t inserts, int64_t updates,
                                 int64_t deletes, int batch_size = 500, StopFlag* stop = nullptr);

  // Applied so far by Run/RunBulk; safe from any thread.
  WorkloadCounts counts() const;
  // Rows this generator believes are live (inserted and not deleted).
  size_t live_row_count() const { return live_.size(); }

 private:
  uint64_t Next();
  uint64_t Uniform(uint64_t bound) { return Next() % bound; }
  RetailRow RandomValues(int64_t trans_id);
  void Count(OperationKind kind);

  WorkloadOptions options_;
  uint64_t state_;
  int64_t next_trans_id_;
  std::vector<int64_t> live_;
  std::atomic<int64_t> inserts_{0};
  std::atomic<int64_t> updates_{0};
  std::atomic<int64_t> deletes_{0};
};

}  // namespace eddy::demo
