#include "demo/demo_databases.h"

#include "base/logging.h"

namespace eddy::demo {
namespace {

Result<std::unique_ptr<SqlTarget>> ConnectUrl(const std::string& url) {
  EDDY_ASSIGN_OR_RETURN(source::SourceUrl parsed, source::ParseSourceUrl(url));
  return ConnectTarget(parsed);
}

}  // namespace

Result<std::unique_ptr<DemoDatabases>> DemoDatabases::Start(const DemoOptions& options) {
  std::unique_ptr<DemoDatabases> demo(new DemoDatabases());
  demo->options_ = options;
  if (options.postgres) {
    EDDY_ASSIGN_OR_RETURN(demo->postgres_, localdb::LocalPostgres::Start());
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<SqlTarget> target, ConnectUrl(demo->postgres_->Url()));
    EDDY_RETURN_IF_ERROR(CreateSampleTable(*target));
    EDDY_ASSIGN_OR_RETURN(demo->postgres_capture_url_, demo->postgres_->CreateCaptureUser());
  }
  if (options.mariadb) {
    EDDY_ASSIGN_OR_RETURN(demo->mariadb_, localdb::LocalMariadb::Start());
    EDDY_ASSIGN_OR_RETURN(std::unique_ptr<SqlTarget> target, ConnectUrl(demo->mariadb_->Url()));
    EDDY_RETURN_IF_ERROR(CreateSampleTable(*target));
    EDDY_ASSIGN_OR_RETURN(demo->mariadb_capture_url_, demo->mariadb_->CreateCaptureUser());
  }
  return demo;
}

Status DemoDatabases::StartWorker(Worker& worker, const std::string& url) {
  if (worker.thread.joinable()) return FailedPrecondition("the demo workload already runs");
  EDDY_ASSIGN_OR_RETURN(worker.target, ConnectUrl(url));
  WorkloadOptions options;
  options.seed = options_.seed;
  options.rate_per_second = options_.rate_per_second;
  worker.generator = std::make_unique<WorkloadGenerator>(options);
  worker.thread = std::thread([this, &worker] {
    Result<WorkloadCounts> counts = worker.generator->Run(*worker.target, stop_);
    if (!counts.ok()) {
      worker.result = counts.status();
      logging::Get("demo")->error("workload stopped: {}", counts.status().message());
    }
  });
  return Status::Ok();
}

Status DemoDatabases::StartWorkload() {
  if (postgres_) EDDY_RETURN_IF_ERROR(StartWorker(postgres_worker_, postgres_->Url()));
  if (mariadb_) EDDY_RETURN_IF_ERROR(StartWorker(mariadb_worker_, mariadb_->Url()));
  return Status::Ok();
}

Status DemoDatabases::Stop() {
  stop_.Stop();
  Status first = Status::Ok();
  for (Worker* worker : {&postgres_worker_, &mariadb_worker_}) {
    if (worker->thread.joinable()) worker->thread.join();
    if (first.ok() && !worker->result.ok()) first = worker->result;
    worker->target.reset();  // close the session before its server goes away
  }
  if (postgres_) {
    Status stopped = postgres_->Stop();
    if (first.ok() && !stopped.ok()) first = stopped;
  }
  if (mariadb_) {
    Status stopped = mariadb_->Stop();
    if (first.ok() && !stopped.ok()) first = stopped;
  }
  return first;
}

DemoDatabases::~DemoDatabases() {
  Status stopped = Stop();
  if (!stopped.ok()) logging::Get("demo")->warn("demo stop: {}", stopped.message());
}

WorkloadCounts DemoDatabases::postgres_counts() const {
  return postgres_worker_.generator ? postgres_worker_.generator->counts() : WorkloadCounts{};
}

WorkloadCounts DemoDatabases::mariadb_counts() const {
  return mariadb_worker_.generator ? mariadb_worker_.generator->counts() : WorkloadCounts{};
}

}  // namespace eddy::demo
