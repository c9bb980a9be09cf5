// PostgreSQL capture benchmark (issue 4). One PostgreSQL 15 (src/localdb), one workload on
// `retail_trans` (inserts, then updates, then deletes, in transactions of --batch rows), two
// slots created before it. Then, in the same run:
//   1. pg_recvlogical drains slot A (pgoutput, proto 3, to /dev/null) up to the workload's end;
//   2. eddy's PostgresCapture drains slot B into a durable log stream up to the same point;
// and prints events/s of each and the ratio eddy / pg_recvlogical (target >= 0.9).
// With --big-transaction=N it also captures one N-row transaction and prints eddy's peak RSS
// (VmHWM of this process, reset before that phase) while doing so.
// With --latency-rate=R it also measures commit-to-durable latency: a paced writer commits
// transactions of --latency-rows rows at R rows/s for --latency-seconds while eddy captures;
// latency = the moment AppendTransaction returned (the transaction is fsync'd in the log)
// minus the transaction's commit timestamp in PostgreSQL (same machine clock). Prints
// p50/p90/p99/p99.9/max.
//
//   postgres_capture_bench [--inserts=1000000] [--updates=500000] [--deletes=200000]
//                          [--batch=10000] [--big-transaction=0] [--dir=/tmp] [--eddy-first=1]
//                          [--latency-rate=0] [--latency-rows=5] [--latency-seconds=20]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "bench_util.h"
#include "localdb/local_postgres.h"
#include "log/log_store.h"
#include "source/postgres/capture.h"
#include "source/postgres/pg_connection.h"

namespace {

using namespace eddy;
using bench::Check;
using bench::Flag;
using bench::ProcStatusKb;
using bench::StringFlag;
using SteadyClock = std::chrono::steady_clock;

template <typename T>
T Check(Result<T> result, const char* what) {
  Check(result.status(), what);
  return std::move(*result);
}

std::string One(source::postgres::PgConnection& sql, const std::string& query) {
  auto rows = Check(sql.Query(query), query.c_str());
  return rows.rows.at(0).at(0).value_or("");
}

// Drains `slot` with eddy until `events` events are durable; returns seconds and events.
std::pair<double, uint64_t> DrainWithEddy(const std::string& url, const std::string& slot,
                                          const std::string& dir, uint64_t events_wanted,
                                          const std::string& stream_name) {
  auto store = Check(log::LogStore::Open(dir + "/log"), "open log");
  log::StreamOptions stream_options;
  stream_options.shard_count = 4;
  auto stream = Check(store->CreateStream(stream_name, stream_options), "create stream");
  source::postgres::PostgresCaptureOptions options;
  options.conninfo = url;
  options.slot_name = slot;
  options.publication_name = "bench_pub";
  options.snapshot_mode = source::postgres::SnapshotMode::kNoData;
  options.spill_dir = dir + "/spill";
  auto started = SteadyClock::now();
  auto capture = Check(source::postgres::PostgresCapture::Start(options, stream), "start");
  while (true) {
    auto progress = capture->progress();
    if (progress.state == eddy::source::CaptureState::kFailed) {
      std::fprintf(stderr, "capture failed: %s\n", progress.last_error.c_str());
      std::exit(1);
    }
    if (progress.events >= events_wanted) break;
    capture->WaitUntilFinished(std::chrono::milliseconds(5));
  }
  double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  uint64_t events = capture->progress().events;
  Check(capture->Stop(), "stop");
  return {seconds, events};
}

// Forgets the peak RSS so far (Linux: writing 5 to clear_refs resets VmHWM).
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

int64_t RealtimeNanos() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void MeasureLatency(const std::string& url, const std::string& dir, long rate, long rows_per_tx,
                    long seconds) {
  auto sql = Check(source::postgres::PgConnection::Connect(url, false), "connect");
  // localdb runs with synchronous_commit = off: commits then reach WAL (and the walsender)
  // only at the WAL writer's next round (wal_writer_delay, 200 ms). Real deployments commit
  // synchronously; so does this writer.
  Check(sql->Execute("SET synchronous_commit = on"), "synchronous_commit");
  Check(sql->Execute("CREATE TABLE latency_t (id bigint PRIMARY KEY, payload text)"),
        "latency table");
  Check(sql->Execute("CREATE PUBLICATION latency_pub FOR TABLE latency_t"), "publication");
  auto store = Check(log::LogStore::Open(dir + "/latency-log"), "open log");
  log::StreamOptions stream_options;
  stream_options.shard_count = 4;
  auto stream = Check(store->CreateStream("latency", stream_options), "create stream");

  std::mutex mu;
  std::vector<int64_t> latencies_ns;
  uint64_t durable_rows = 0;
  source::postgres::PostgresCaptureOptions options;
  options.conninfo = url;
  options.slot_name = "bench_latency";
  options.publication_name = "latency_pub";
  options.snapshot_mode = source::postgres::SnapshotMode::kInitial;
  options.spill_dir = dir + "/latency-spill";
  options.append_hook = [&](const source::postgres::AppendStep& step) -> Status {
    using Kind = source::postgres::AppendStep::Kind;
    if (step.kind != Kind::kTransaction && step.kind != Kind::kCommit) return Status::Ok();
    int64_t now = RealtimeNanos();
    std::lock_guard lock(mu);
    latencies_ns.push_back(now - step.commit_time_ns);
    durable_rows += step.records;
    return Status::Ok();
  };
  auto capture = Check(source::postgres::PostgresCapture::Start(options, stream), "start");
  while (capture->progress().state != eddy::source::CaptureState::kStreaming) {
    if (capture->progress().state == eddy::source::CaptureState::kFailed) {
      std::fprintf(stderr, "capture failed: %s\n", capture->progress().last_error.c_str());
      std::exit(1);
    }
    capture->WaitUntilFinished(std::chrono::milliseconds(5));
  }

  // The writer: one transaction of `rows_per_tx` rows every rows_per_tx / rate seconds, on an
  // absolute schedule (a late transaction does not shift the ones after it).
  long transactions = rate * seconds / rows_per_tx;
  auto interval = std::chrono::nanoseconds(1'000'000'000LL * rows_per_tx / rate);
  auto start = SteadyClock::now();
  long id = 1;
  for (long t = 0; t < transactions; ++t) {
    std::this_thread::sleep_until(start + interval * t);
    Check(sql->Execute("INSERT INTO latency_t SELECT g, 'payload ' || g FROM generate_series(" +
                       std::to_string(id) + ", " + std::to_string(id + rows_per_tx - 1) + ") g"),
          "latency insert");
    id += rows_per_tx;
  }
  double wrote_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  uint64_t wanted = static_cast<uint64_t>(transactions * rows_per_tx);
  while (true) {
    {
      std::lock_guard lock(mu);
      if (durable_rows >= wanted) break;
    }
    if (capture->progress().state == eddy::source::CaptureState::kFailed) {
      std::fprintf(stderr, "capture failed: %s\n", capture->progress().last_error.c_str());
      std::exit(1);
    }
    capture->WaitUntilFinished(std::chrono::milliseconds(5));
  }
  Check(capture->Stop(), "stop");
  std::vector<int64_t> sorted;
  {
    std::lock_guard lock(mu);
    sorted = latencies_ns;
  }
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) {
    size_t index =
        std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[index]) / 1e6;
  };
  std::printf("latency: %ld transactions of %ld rows at %.0f rows/s (target %ld) for %.1f s\n",
              transactions, rows_per_tx, static_cast<double>(wanted) / wrote_seconds, rate,
              wrote_seconds);
  std::printf(
      "commit-to-durable latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f "
      "(%zu transactions)\n",
      at(0.50), at(0.90), at(0.99), at(0.999), at(1.0), sorted.size());
}

}  // namespace

int main(int argc, char** argv) {
  logging::Configure("warn", logging::Format::kText);
  long inserts = Flag(argc, argv, "inserts", 1'000'000);
  long updates = Flag(argc, argv, "updates", 500'000);
  long deletes = Flag(argc, argv, "deletes", 200'000);
  long batch = Flag(argc, argv, "batch", 10'000);
  long big = Flag(argc, argv, "big-transaction", 0);
  bool eddy_first = Flag(argc, argv, "eddy-first", 0) != 0;
  long latency_rate = Flag(argc, argv, "latency-rate", 0);
  long latency_rows = std::max(1L, Flag(argc, argv, "latency-rows", 5));
  long latency_seconds = Flag(argc, argv, "latency-seconds", 20);
  std::string base = StringFlag(argc, argv, "dir", std::filesystem::temp_directory_path());
  std::string dir = base + "/eddy_pg_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);

  localdb::LocalPostgresOptions server_options;
  server_options.settings.push_back({"max_wal_size", "4GB"});
  auto server = Check(localdb::LocalPostgres::Start(server_options), "start PostgreSQL");
  std::string url = server->Url();
  auto sql = Check(source::postgres::PgConnection::Connect(url, false), "connect");
  Check(sql->Execute("CREATE TABLE retail_trans (id bigint PRIMARY KEY, store_id int, "
                     "item text, quantity int, price numeric(10,2), sold_at timestamptz)"),
        "create table");
  Check(sql->Execute("CREATE PUBLICATION bench_pub FOR TABLE retail_trans"), "publication");
  Check(sql->Execute("SELECT pg_create_logical_replication_slot('bench_recvlogical', 'pgoutput')"),
        "slot A");
  Check(sql->Execute("SELECT pg_create_logical_replication_slot('bench_eddy', 'pgoutput')"),
        "slot B");

  auto workload_started = SteadyClock::now();
  for (long from = 1; from <= inserts; from += batch) {
    long to = std::min(inserts, from + batch - 1);
    Check(sql->Execute("INSERT INTO retail_trans SELECT g, g % 100, 'item-' || g, g % 7, "
                       "(g % 10000) / 100.0, now() FROM generate_series(" +
                       std::to_string(from) + ", " + std::to_string(to) + ") g"),
          "insert");
  }
  for (long from = 1; from <= updates; from += batch) {
    long to = std::min(updates, from + batch - 1);
    Check(sql->Execute("UPDATE retail_trans SET quantity = quantity + 1 WHERE id BETWEEN " +
                       std::to_string(from) + " AND " + std::to_string(to)),
          "update");
  }
  for (long from = 1; from <= deletes; from += batch) {
    long to = std::min(deletes, from + batch - 1);
    Check(sql->Execute("DELETE FROM retail_trans WHERE id BETWEEN " + std::to_string(from) +
                       " AND " + std::to_string(to)),
          "delete");
  }
  std::string end_text = One(*sql, "SELECT pg_current_wal_lsn()::text");
  double workload_seconds =
      std::chrono::duration<double>(SteadyClock::now() - workload_started).count();
  long total = inserts + updates + deletes;
  std::printf("workload: %ld inserts, %ld updates, %ld deletes (%ld events) in %.1f s, end %s\n",
              inserts, updates, deletes, total, workload_seconds, end_text.c_str());

  if (total > 0) {
    // The two drains run one after the other over the same WAL; --eddy-first swaps the order,
    // so a run can show that neither side gains from going second (warm WAL pages, a warmed
    // decoding cache in the server).
    double recv_rate = 0;
    auto run_recvlogical = [&] {
      std::string command = std::string(localdb::kPostgresBinDir) + "/pg_recvlogical -d '" + url +
                            "' --slot bench_recvlogical --start -o proto_version=3 "
                            "-o publication_names=bench_pub --endpos=" +
                            end_text + " --no-loop -f /dev/null";
      auto recv_started = SteadyClock::now();
      int recv_status = std::system(command.c_str());
      double recv_seconds =
          std::chrono::duration<double>(SteadyClock::now() - recv_started).count();
      if (recv_status != 0) {
        std::fprintf(stderr, "pg_recvlogical failed with status %d\n", recv_status);
        std::exit(1);
      }
      recv_rate = static_cast<double>(total) / recv_seconds;
      std::printf("pg_recvlogical: %.2f s, %.0f events/s\n", recv_seconds, recv_rate);
    };
    double eddy_rate = 0;
    auto run_eddy = [&] {
      // eddy into a durable log (fsync per transaction), until every event is durable.
      auto [eddy_seconds, eddy_events] =
          DrainWithEddy(url, "bench_eddy", dir, static_cast<uint64_t>(total), "bench");
      eddy_rate = static_cast<double>(eddy_events) / eddy_seconds;
      std::printf("eddy:           %.2f s, %.0f events/s (%llu events durable)\n", eddy_seconds,
                  eddy_rate, static_cast<unsigned long long>(eddy_events));
    };
    if (eddy_first) {
      run_eddy();
      run_recvlogical();
    } else {
      run_recvlogical();
      run_eddy();
    }
    std::printf("ratio eddy / pg_recvlogical: %.2f (target >= 0.90; %s ran first)\n",
                eddy_rate / recv_rate, eddy_first ? "eddy" : "pg_recvlogical");
  }

  if (big > 0) {
    Check(sql->Execute("SELECT pg_create_logical_replication_slot('bench_big', 'pgoutput')"),
          "slot big");
    Check(sql->Execute("SELECT pg_create_logical_replication_slot('bench_big_recv', 'pgoutput')"),
          "slot big recv");
    Check(sql->Execute("INSERT INTO retail_trans SELECT g, g % 100, 'item-' || g, g % 7, "
                       "(g % 10000) / 100.0, now() FROM generate_series(10000001, " +
                       std::to_string(10000000 + big) + ") g"),
          "big transaction");
    std::string big_end = One(*sql, "SELECT pg_current_wal_lsn()::text");
    std::string big_command = std::string(localdb::kPostgresBinDir) + "/pg_recvlogical -d '" + url +
                              "' --slot bench_big_recv --start -o proto_version=3 "
                              "-o publication_names=bench_pub --endpos=" +
                              big_end + " --no-loop -f /dev/null";
    auto big_recv_started = SteadyClock::now();
    if (std::system(big_command.c_str()) != 0) {
      std::fprintf(stderr, "pg_recvlogical failed on the big transaction\n");
      return 1;
    }
    std::printf("one %ld-row transaction, pg_recvlogical: %.2f s\n", big,
                std::chrono::duration<double>(SteadyClock::now() - big_recv_started).count());
    long rss_before = ProcStatusKb("VmHWM:");
    ResetPeakRss();
    auto [big_seconds, big_events] =
        DrainWithEddy(url, "bench_big", dir + "/big", static_cast<uint64_t>(big), "big");
    std::printf(
        "one %ld-row transaction, eddy: %.2f s, %llu events, peak RSS %ld MB (peak before this "
        "phase: %ld MB)\n",
        big, big_seconds, static_cast<unsigned long long>(big_events),
        ProcStatusKb("VmHWM:") / 1024, rss_before / 1024);
  }
  if (latency_rate > 0) MeasureLatency(url, dir, latency_rate, latency_rows, latency_seconds);
  std::filesystem::remove_all(dir);
  return 0;
}
