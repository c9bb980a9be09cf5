// The databases side of `eddy demo`: a throwaway PostgreSQL and MariaDB (localdb), the sample
// table retail_trans on each, capture users, and one workload generator thread per database.
// Stop() ends the generators promptly, then the servers, leaving nothing running or on disk.
//
// Ownership: owns the servers and the generator threads. Thread safety: Start, StartWorkload
// and Stop from one thread (the one that lives longest: the servers die with the thread that
// started them); the accessors and counts from any thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "demo/workload.h"
#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace eddy::demo {

struct DemoOptions {
  bool postgres = true;
  bool mariadb = true;
  double rate_per_second = 5;  // per database
  uint64_t seed = 1;
};

class DemoDatabases {
 public:
  // Starts the servers and creates the sample table and the capture users.
  static Result<std::unique_ptr<DemoDatabases>> Start(const DemoOptions& options = {});
  ~DemoDatabases();  // Stop(), errors logged
  DemoDatabases(const DemoDatabases&) = delete;
  DemoDatabases& operator=(const DemoDatabases&) = delete;

  // Starts one generator thread per database. Each database gets the same seed, so both hold
  // the same rows.
  Status StartWorkload();
  // Stops the generators (they wake at once) and then the servers. Returns the first
  // generator error, if any. Idempotent.
  Status Stop();

  // Superuser URLs (empty when that database is not part of the demo) and the capture users'.
  std::string postgres_url() const { return postgres_ ? postgres_->Url() : ""; }
  std::string mariadb_url() const { return mariadb_ ? mariadb_->Url() : ""; }
  const std::string& postgres_capture_url() const { return postgres_capture_url_; }
  const std::string& mariadb_capture_url() const { return mariadb_capture_url_; }
  localdb::LocalPostgres* postgres() { return postgres_.get(); }
  localdb::LocalMariadb* mariadb() { return mariadb_.get(); }

  WorkloadCounts postgres_counts() const;
  WorkloadCounts mariadb_counts() const;

 private:
  struct Worker {
    std::unique_ptr<SqlTarget> target;
    std::unique_ptr<WorkloadGenerator> generator;
    std::thread thread;
    Status result;
  };

  DemoDatabases() = default;
  Status StartWorker(Worker& worker, const std::string& url);

  DemoOptions options_;
  std::unique_ptr<localdb::LocalPostgres> postgres_;
  std::unique_ptr<localdb::LocalMariadb> mariadb_;
  std::string postgres_capture_url_;
  std::string mariadb_capture_url_;
  StopFlag stop_;
  Worker postgres_worker_;
  Worker mariadb_worker_;
};

}  // namespace eddy::demo
