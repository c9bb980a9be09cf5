#include "demo/workload.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace eddy::demo {
namespace {

class PgTarget final : public SqlTarget {
 public:
  explicit PgTarget(localdb::PgSession session) : session_(std::move(session)) {}
  Status Execute(std::string_view sql) override { return session_.Execute(sql); }
  source::SourceKind kind() const override { return source::SourceKind::kPostgres; }

 private:
  localdb::PgSession session_;
};

class MariadbTarget final : public SqlTarget {
 public:
  explicit MariadbTarget(localdb::MariadbSession session) : session_(std::move(session)) {}
  Status Execute(std::string_view sql) override { return session_.Execute(sql); }
  source::SourceKind kind() const override { return source::SourceKind::kMysql; }

 private:
  localdb::MariadbSession session_;
};

constexpr std::array<const char*, 4> kInsertEvents = {"purchase", "view", "add_to_cart",
                                                      "purchase"};
constexpr std::array<const char*, 3> kUpdateEvents = {"refund", "return", "exchange"};
constexpr std::array<const char*, 4> kDevices = {"ios", "android", "web", "pos"};
// 2025-01-01T00:00:00Z: demo timestamps are synthetic so runs are reproducible.
constexpr int64_t kBaseEpochSeconds = 1735689600;

std::string FormatTimestamp(int64_t seconds, int64_t micros) {
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  char buffer[96];  // generous: the compiler cannot bound tm fields
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64,
                parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                parts.tm_min, parts.tm_sec, micros);
  return buffer;
}

std::string FormatAmount(uint64_t cents) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%" PRIu64 ".%02" PRIu64, cents / 100, cents % 100);
  return buffer;
}

}  // namespace

Result<std::unique_ptr<SqlTarget>> ConnectTarget(const source::SourceUrl& url) {
  if (url.kind == source::SourceKind::kPostgres) {
    EDDY_ASSIGN_OR_RETURN(localdb::PgSession session, localdb::PgSession::Connect(url.ToEndpoint()));
    return WrapSession(std::move(session));
  }
  EDDY_ASSIGN_OR_RETURN(localdb::MariadbSession session,
                        localdb::MariadbSession::Connect(url.ToEndpoint()));
  return WrapSession(std::move(session));
}

std::unique_ptr<SqlTarget> WrapSession(localdb::PgSession session) {
  return std::make_unique<PgTarget>(std::move(session));
}

std::unique_ptr<SqlTarget> WrapSession(localdb::MariadbSession session) {
  return std::make_unique<MariadbTarget>(std::move(session));
}

Status CreateSampleTable(SqlTarget& target, bool drop_existing) {
  std::string sql;
  if (drop_existing) sql = std::string("DROP TABLE IF EXISTS ") + kSampleTable + "; ";
  if (target.kind() == source::SourceKind::kPostgres) {
    sql += std::string("CREATE TABLE IF NOT EXISTS ") + kSampleTable +
           " (trans_id bigint PRIMARY KEY,"
           " customer_id bigint NOT NULL,"
           " event varchar(32) NOT NULL,"
           " sku varchar(32) NOT NULL,"
           " amount numeric(10,2) NOT NULL,"
           " device varchar(16),"
           " trans_datetime timestamp(6) NOT NULL)";
  } else {
    sql += std::string("CREATE TABLE IF NOT EXISTS ") + kSampleTable +
           " (trans_id BIGINT PRIMARY KEY,"
           " customer_id BIGINT NOT NULL,"
           " event VARCHAR(32) NOT NULL,"
           " sku VARCHAR(32) NOT NULL,"
           " amount DECIMAL(10,2) NOT NULL,"
           " device VARCHAR(16),"
           " trans_datetime DATETIME(6) NOT NULL) ENGINE=InnoDB";
  }
  return target.Execute(sql).WithContext("creating the sample table " + std::string(kSampleTable));
}

void StopFlag::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_.store(true, std::memory_order_release);
  }
  changed_.notify_all();
}

bool StopFlag::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return stopped(); });
}

WorkloadGenerator::WorkloadGenerator(WorkloadOptions options)
    : options_(options), state_(options.seed), next_trans_id_(options.first_trans_id) {}

// splitmix64: tiny, fast, and the same sequence on every platform (unlike the distributions
// of <random>, whose results differ between standard libraries).
uint64_t WorkloadGenerator::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

RetailRow WorkloadGenerator::RandomValues(int64_t trans_id) {
  RetailRow row;
  row.trans_id = trans_id;
  row.customer_id = 1 + static_cast<int64_t>(Uniform(5000));
  row.event = kInsertEvents[Uniform(kInsertEvents.size())];
  char sku[16];
  std::snprintf(sku, sizeof(sku), "SKU-%05d", static_cast<int>(Uniform(100000)));
  row.sku = sku;
  row.amount = FormatAmount(100 + Uniform(99900));
  row.device = kDevices[Uniform(kDevices.size())];
  row.trans_datetime = FormatTimestamp(kBaseEpochSeconds + trans_id * 37 +
                                           static_cast<int64_t>(Uniform(37)),
                                       static_cast<int64_t>(Uniform(1000000)));
  return row;
}

Operation WorkloadGenerator::PlanInsert() {
  Operation operation;
  operation.kind = OperationKind::kInsert;
  operation.row = RandomValues(next_trans_id_++);
  live_.push_back(operation.row.trans_id);
  return operation;
}

Operation WorkloadGenerator::PlanUpdate() {
  if (live_.empty()) return PlanInsert();
  Operation operation;
  operation.kind = OperationKind::kUpdate;
  operation.row.trans_id = live_[Uniform(live_.size())];
  operation.row.event = kUpdateEvents[Uniform(kUpdateEvents.size())];
  operation.row.amount = FormatAmount(100 + Uniform(99900));
  return operation;
}

Operation WorkloadGenerator::PlanDelete() {
  if (live_.empty()) return PlanInsert();
  Operation operation;
  operation.kind = OperationKind::kDelete;
  const size_t index = Uniform(live_.size());
  operation.row.trans_id = live_[index];
  live_[index] = live_.back();
  live_.pop_back();
  return operation;
}

Operation WorkloadGenerator::Plan() {
  const int total = std::max(1, options_.insert_weight + options_.update_weight +
                                    options_.delete_weight);
  const int pick = static_cast<int>(Uniform(static_cast<uint64_t>(total)));
  if (pick < options_.insert_weight) return PlanInsert();
  if (pick < options_.insert_weight + options_.update_weight) return PlanUpdate();
  return PlanDelete();
}

std::string WorkloadGenerator::ToSql(const Operation& operation) {
  const RetailRow& row = operation.row;
  switch (operation.kind) {
    case OperationKind::kInsert:
      return std::string("INSERT INTO ") + kSampleTable +
             " (trans_id, customer_id, event, sku, amount, device, trans_datetime) VALUES (" +
             std::to_string(row.trans_id) + ", " + std::to_string(row.customer_id) + ", '" +
             row.event + "', '" + row.sku + "', " + row.amount + ", '" + row.device + "', '" +
             row.trans_datetime + "')";
    case OperationKind::kUpdate:
      return std::string("UPDATE ") + kSampleTable + " SET event = '" + row.event +
             "', amount = " + row.amount + " WHERE trans_id = " + std::to_string(row.trans_id);
    case OperationKind::kDelete:
      return std::string("DELETE FROM ") + kSampleTable +
             " WHERE trans_id = " + std::to_string(row.trans_id);
  }
  return "";
}

void WorkloadGenerator::Count(OperationKind kind) {
  switch (kind) {
    case OperationKind::kInsert:
      inserts_.fetch_add(1, std::memory_order_relaxed);
      break;
    case OperationKind::kUpdate:
      updates_.fetch_add(1, std::memory_order_relaxed);
      break;
    case OperationKind::kDelete:
      deletes_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

WorkloadCounts WorkloadGenerator::counts() const {
  WorkloadCounts counts;
  counts.inserts = inserts_.load(std::memory_order_relaxed);
  counts.updates = updates_.load(std::memory_order_relaxed);
  counts.deletes = deletes_.load(std::memory_order_relaxed);
  return counts;
}

Result<WorkloadCounts> WorkloadGenerator::Run(SqlTarget& target, StopFlag& stop) {
  using Clock = std::chrono::steady_clock;
  const double rate = options_.rate_per_second > 0 ? options_.rate_per_second : 1e9;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1.0 / rate));
  auto next = Clock::now();
  while (!stop.stopped()) {
    const Operation operation = Plan();
    EDDY_RETURN_IF_ERROR(target.Execute(ToSql(operation)));
    Count(operation.kind);
    next += interval;
    // Behind schedule (a slow database): do not burst to catch up.
    const auto now = Clock::now();
    if (next < now) next = now;
    if (stop.WaitUntil(next)) break;
  }
  return counts();
}

Result<WorkloadCounts> WorkloadGenerator::RunBulk(SqlTarget& target, int64_t inserts,
                                                  int64_t updates, int64_t deletes,
                                                  int batch_size, StopFlag* stop) {
  batch_size = std::max(1, batch_size);
  auto run_phase = [&](int64_t count, OperationKind kind) -> Status {
    int64_t done = 0;
    while (done < count) {
      if (stop != nullptr && stop->stopped()) return Status::Ok();
      const int64_t in_batch = std::min<int64_t>(batch_size, count - done);
      std::vector<Operation> batch;
      batch.reserve(static_cast<size_t>(in_batch));
      for (int64_t i = 0; i < in_batch; ++i) {
        switch (kind) {
          case OperationKind::kInsert:
            batch.push_back(PlanInsert());
            break;
          case OperationKind::kUpdate:
            batch.push_back(PlanUpdate());
            break;
          case OperationKind::kDelete:
            batch.push_back(PlanDelete());
            break;
        }
      }
      std::string sql = "BEGIN; ";
      if (kind == OperationKind::kInsert) {
        // One multi-row INSERT per batch: the cheapest way to load rows on both databases.
        sql += std::string("INSERT INTO ") + kSampleTable +
               " (trans_id, customer_id, event, sku, amount, device, trans_datetime) VALUES ";
        for (size_t i = 0; i < batch.size(); ++i) {
          const RetailRow& row = batch[i].row;
          if (i > 0) sql += ", ";
          sql += "(" + std::to_string(row.trans_id) + ", " + std::to_string(row.customer_id) +
                 ", '" + row.event + "', '" + row.sku + "', " + row.amount + ", '" + row.device +
                 "', '" + row.trans_datetime + "')";
        }
        sql += "; ";
      } else {
        for (const Operation& operation : batch) sql += ToSql(operation) + "; ";
      }
      sql += "COMMIT";
      EDDY_RETURN_IF_ERROR(target.Execute(sql));
      for (const Operation& operation : batch) Count(operation.kind);
      done += in_batch;
    }
    return Status::Ok();
  };
  EDDY_RETURN_IF_ERROR(run_phase(inserts, OperationKind::kInsert));
  EDDY_RETURN_IF_ERROR(run_phase(updates, OperationKind::kUpdate));
  EDDY_RETURN_IF_ERROR(run_phase(deletes, OperationKind::kDelete));
  return counts();
}

}  // namespace eddy::demo
