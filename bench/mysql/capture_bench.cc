// MySQL/MariaDB capture benchmark (issue 6). One MariaDB 10.11 (src/localdb), one workload on
// `retail_trans` (inserts, then updates, then deletes, in transactions of --batch rows). Then,
// in the same run, over the same binlog range:
//   1. `mariadb-binlog --read-from-remote-server -v` decodes it (rows printed) to /dev/null;
//   2. eddy's MysqlCapture reads it into a durable log stream (fsync'd appends);
// and prints changes/s of each and the ratio eddy / mariadb-binlog (target > 1).
// With --big-transaction=N it also captures one N-row transaction (an INSERT ... SELECT) and
// prints eddy's peak RSS (VmHWM of this process) while doing so.
//
//   mysql_capture_bench [--inserts=1000000] [--updates=500000] [--deletes=200000]
//                       [--batch=10000] [--big-transaction=0] [--skip-workload=0] [--dir=/tmp]
//                       [--repeat=1] [--keep=0]
// --repeat=N times both decoders N times over the same binlog range, alternating (each run is
// printed, then the median ratio); --keep=1 leaves the data directory (the logs) in place.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/logging.h"
#include "localdb/local_mariadb.h"
#include "log/log_store.h"
#include "source/mysql/capture.h"

namespace {

using namespace eddy;
using SteadyClock = std::chrono::steady_clock;

long Flag(int argc, char** argv, const char* name, long fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::strtol(argv[i] + prefix.size(), nullptr, 10);
    }
  }
  return fallback;
}

std::string StringFlag(int argc, char** argv, const char* name, std::string fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

long StatusKb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  size_t length = std::strlen(field);
  while (std::getline(status, line)) {
    if (line.compare(0, length, field) == 0) return std::strtol(line.c_str() + length, nullptr, 10);
  }
  return -1;
}

std::string LoadAverage() {
  std::ifstream loadavg("/proc/loadavg");
  std::string one, five, fifteen;
  loadavg >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// Lowers VmHWM to the current RSS so the next reading is the peak of what follows.
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

template <typename T>
T Check(Result<T> result, const char* what) {
  Check(result.status(), what);
  return std::move(*result);
}

double CpuSeconds(int who) {
  struct rusage usage {};
  ::getrusage(who, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

BinlogPosition MasterPosition(const localdb::LocalMariadb& server) {
  auto session = Check(server.Connect(), "connect");
  auto rows = Check(session.Query("SHOW MASTER STATUS"), "SHOW MASTER STATUS");
  return BinlogPosition{rows.Get(0, "File").value_or(""),
                        std::stoull(rows.Get(0, "Position").value_or("0"))};
}

// mariadb-binlog decoding [start, end) from the server with rows printed, to /dev/null.
// Returns wall seconds; adds the tool's CPU seconds to *cpu_seconds.
double RunMariadbBinlog(double* cpu_seconds, const localdb::LocalMariadb& server, const BinlogPosition& start,
                        const BinlogPosition& end) {
  std::string command = "mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=" +
                        std::to_string(server.port()) + " --user=" + server.options().user +
                        " --password=" + server.options().password + " -v --start-position=" +
                        std::to_string(start.offset) + " --stop-position=" +
                        std::to_string(end.offset) + " " + start.file + " > /dev/null";
  double cpu_began = CpuSeconds(RUSAGE_CHILDREN);
  auto began = SteadyClock::now();
  int rc = std::system(command.c_str());
  *cpu_seconds = CpuSeconds(RUSAGE_CHILDREN) - cpu_began;
  double seconds = std::chrono::duration<double>(SteadyClock::now() - began).count();
  if (rc != 0) {
    std::fprintf(stderr, "mariadb-binlog failed with status %d\n", rc);
    std::exit(1);
  }
  return seconds;
}

struct EddyRun {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system time of this process while capturing
  uint64_t log_bytes = 0;  // segment bytes of the stream afterwards
  source::mysql::MysqlCaptureProgress progress;
};

// eddy captures [start, end) into a fresh durable log stream; returns when `end` is durable.
EddyRun RunEddy(const localdb::LocalMariadb& server, const BinlogPosition& start,
                const BinlogPosition& end, const std::string& dir, uint32_t server_id = 4242) {
  std::filesystem::create_directories(dir);
  auto store = Check(log::LogStore::Open(dir + "/log"), "open log");
  log::StreamOptions stream_options;
  stream_options.shard_count = 4;
  auto stream = Check(store->CreateStream("bench", stream_options), "create stream");
  source::mysql::MysqlCaptureOptions options;
  options.url = server.Url();
  options.server_id = server_id;  // one per run: the previous run's dump thread may linger
  options.snapshot_mode = source::mysql::SnapshotMode::kNoData;
  options.data_dir = dir + "/data";
  options.server_name = "bench";
  options.start_position = start;
  double cpu_began = CpuSeconds(RUSAGE_SELF);
  auto began = SteadyClock::now();
  auto capture = Check(source::mysql::MysqlCapture::Start(options, stream), "start capture");
  EddyRun run;
  while (true) {
    run.progress = capture->progress();
    if (run.progress.state == "failed") {
      std::fprintf(stderr, "capture failed: %s\n", run.progress.last_error.c_str());
      std::exit(1);
    }
    if (!run.progress.durable.file.empty() && !(run.progress.durable < end)) break;
    capture->WaitUntilFinished(std::chrono::milliseconds(2));
  }
  run.seconds = std::chrono::duration<double>(SteadyClock::now() - began).count();
  run.cpu_seconds = CpuSeconds(RUSAGE_SELF) - cpu_began;
  Check(capture->Stop(), "stop capture");
  run.progress = capture->progress();
  for (const auto& shard : stream->Describe().shards) run.log_bytes += shard.bytes;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  logging::Configure("warn", logging::Format::kText);
  long inserts = Flag(argc, argv, "inserts", 1'000'000);
  long updates = Flag(argc, argv, "updates", 500'000);
  long deletes = Flag(argc, argv, "deletes", 200'000);
  long batch = Flag(argc, argv, "batch", 10'000);
  long big = Flag(argc, argv, "big-transaction", 0);
  bool skip_workload = Flag(argc, argv, "skip-workload", 0) != 0;
  long repeat = std::max(1L, Flag(argc, argv, "repeat", 1));
  bool keep = Flag(argc, argv, "keep", 0) != 0;
  std::string base = StringFlag(argc, argv, "dir", std::filesystem::temp_directory_path());
  std::string dir = base + "/eddy_mysql_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);

  localdb::LocalMariadbOptions server_options;
  server_options.extra_arguments = {"--max-binlog-size=1073741824",
                                    "--innodb-buffer-pool-size=1073741824",
                                    "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"};
  auto server = Check(localdb::LocalMariadb::Start(server_options), "start MariaDB");
  Check(server->Execute("CREATE TABLE retail_trans (id BIGINT PRIMARY KEY, store_id INT, "
                        "item VARCHAR(40), quantity INT, price DECIMAL(10,2), sold_at "
                        "DATETIME(6))",
                        "eddy"),
        "create table");
  long total = inserts + updates + deletes;
  if (!skip_workload) {
    BinlogPosition start = MasterPosition(*server);
    auto session = Check(server->Connect("eddy"), "connect");
    auto workload_started = SteadyClock::now();
    for (long from = 1; from <= inserts; from += batch) {
      long to = std::min(inserts, from + batch - 1);
      Check(session.Execute("INSERT INTO retail_trans SELECT seq, seq % 100, CONCAT('item-', seq), "
                            "seq % 7, (seq % 10000) / 100.0, NOW(6) FROM seq_" +
                            std::to_string(from) + "_to_" + std::to_string(to)),
            "insert");
    }
    for (long from = 1; from <= updates; from += batch) {
      long to = std::min(updates, from + batch - 1);
      Check(session.Execute("UPDATE retail_trans SET quantity = quantity + 1 WHERE id BETWEEN " +
                            std::to_string(from) + " AND " + std::to_string(to)),
            "update");
    }
    for (long from = 1; from <= deletes; from += batch) {
      long to = std::min(deletes, from + batch - 1);
      Check(session.Execute("DELETE FROM retail_trans WHERE id BETWEEN " + std::to_string(from) +
                            " AND " + std::to_string(to)),
            "delete");
    }
    BinlogPosition end = MasterPosition(*server);
    double workload_seconds =
        std::chrono::duration<double>(SteadyClock::now() - workload_started).count();
    if (end.file != start.file) {
      std::fprintf(stderr, "the workload spans binlog files %s..%s; mariadb-binlog's range "
                           "needs one file\n", start.file.c_str(), end.file.c_str());
      return 1;
    }
    std::printf("workload: %ld inserts, %ld updates, %ld deletes (%ld changes) in %.1f s, "
                "binlog %s:%llu..%llu (%.0f MB)\n",
                inserts, updates, deletes, total, workload_seconds, start.file.c_str(),
                static_cast<unsigned long long>(start.offset),
                static_cast<unsigned long long>(end.offset), (end.offset - start.offset) / 1e6);

    std::vector<double> ratios;
    for (long run = 1; run <= repeat; ++run) {
      if (repeat > 1) std::printf("run %ld of %ld (load average %s)\n", run, repeat, LoadAverage().c_str());
      double tool_cpu = 0;
      double tool_seconds = RunMariadbBinlog(&tool_cpu, *server, start, end);
      double tool_rate = static_cast<double>(total) / tool_seconds;
      std::printf("mariadb-binlog -v: %.2f s, %.0f changes/s, %.2f CPU s\n", tool_seconds,
                  tool_rate, tool_cpu);

      EddyRun eddy = RunEddy(*server, start, end, dir + "/run" + std::to_string(run),
                             static_cast<uint32_t>(4242 + run));
      double eddy_rate = static_cast<double>(eddy.progress.events) / eddy.seconds;
      std::printf("eddy:              %.2f s, %.0f changes/s, %.2f CPU s (%llu changes durable in "
                  "%llu transactions, %.0f MB of log; decode %.2f s, appends %.2f s of which the "
                  "decoder waited %.2f s)\n",
                  eddy.seconds, eddy_rate, eddy.cpu_seconds,
                  static_cast<unsigned long long>(eddy.progress.events),
                  static_cast<unsigned long long>(eddy.progress.transactions),
                  eddy.log_bytes / 1e6, eddy.progress.decode_nanos / 1e9,
                  eddy.progress.append_nanos / 1e9, eddy.progress.append_wait_nanos / 1e9);
      if (eddy.progress.events != static_cast<uint64_t>(total)) {
        std::fprintf(stderr, "eddy captured %llu changes, expected %ld\n",
                     static_cast<unsigned long long>(eddy.progress.events), total);
        return 1;
      }
      std::printf("ratio eddy / mariadb-binlog: %.2f (target > 1); CPU ratio mariadb-binlog / "
                  "eddy: %.2f\n", eddy_rate / tool_rate, tool_cpu / eddy.cpu_seconds);
      ratios.push_back(eddy_rate / tool_rate);
      if (!keep) std::filesystem::remove_all(dir + "/run" + std::to_string(run));
    }
    if (repeat > 1) {
      std::sort(ratios.begin(), ratios.end());
      std::printf("median ratio of %ld runs: %.2f (min %.2f, max %.2f)\n", repeat,
                  ratios[ratios.size() / 2], ratios.front(), ratios.back());
    }
  }

  if (big > 0) {
    BinlogPosition start = MasterPosition(*server);
    Check(server->Execute("INSERT INTO retail_trans SELECT seq, seq % 100, CONCAT('item-', seq), "
                          "seq % 7, (seq % 10000) / 100.0, NOW(6) FROM seq_20000001_to_" +
                              std::to_string(20000000 + big),
                          "eddy"),
          "big transaction");
    BinlogPosition end = MasterPosition(*server);
    std::printf("one %ld-row transaction: binlog %.0f MB\n", big, (end.offset - start.offset) / 1e6);
    if (end.file == start.file) {
      double tool_cpu = 0;
      double tool_seconds = RunMariadbBinlog(&tool_cpu, *server, start, end);
      std::printf("one %ld-row transaction, mariadb-binlog -v: %.2f s\n", big, tool_seconds);
    }
    ResetPeakRss();
    long rss_before = StatusKb("VmRSS:");
    EddyRun eddy = RunEddy(*server, start, end, dir + "/big");
    std::printf("one %ld-row transaction, eddy: %.2f s, %llu changes, peak RSS %ld MB (RSS "
                "before: %ld MB)\n",
                big, eddy.seconds, static_cast<unsigned long long>(eddy.progress.events),
                StatusKb("VmHWM:") / 1024, rss_before / 1024);
  }
  if (keep) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
