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
//
// --table=seeds uses the seeds' retail_trans instead (trans_id BIGINT key, customer_id INT,
// four VARCHAR columns, trans_datetime DATETIME(6)); --eddy=PATH times the `eddy` binary as
// users run it instead of the library: `eddy run --source mysql://... --tables
// eddy.retail_trans` is run once before the workload (it records its starting position) and
// stopped; each run starts it again from a copy of that stopped state and times it until
// `eddy status` shows the stream's durable binlog position at the end of the workload
// (polled every --poll-ms=50 after the previous poll returned), then stops it:
//   mysql_capture_bench --table=seeds --batch=5000 --eddy=build/dev/src/app/eddy --repeat=5
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "bench_util.h"
#include "localdb/local_mariadb.h"
#include "log/log_store.h"
#include "source/mysql/capture.h"

namespace {

using namespace eddy;
using bench::Check;
using bench::Flag;
using bench::ProcStatusKb;
using bench::StringFlag;
using SteadyClock = std::chrono::steady_clock;

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
double RunMariadbBinlog(double* cpu_seconds, const localdb::LocalMariadb& server,
                        const BinlogPosition& start, const BinlogPosition& end) {
  std::string command = "mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=" +
                        std::to_string(server.port()) + " --user=" + server.options().user +
                        " --password=" + server.options().password +
                        " -v --start-position=" + std::to_string(start.offset) +
                        " --stop-position=" + std::to_string(end.offset) + " " + start.file +
                        " > /dev/null";
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
    if (run.progress.state == eddy::source::CaptureState::kFailed) {
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

// ---- the `eddy` binary (--eddy=PATH) ----

// Output of `command` (stdout), or nullopt when it fails.
std::optional<std::string> Capture(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return out;
}

// The stream's durable binlog position as `eddy status` prints it ("durable_position=binlog
// FILE:OFFSET ..."), or an empty file name when there is none yet.
BinlogPosition StatusDurablePosition(const std::string& eddy, const std::string& data_dir) {
  auto out = Capture(eddy + " status --data-dir " + data_dir + " 2>/dev/null");
  BinlogPosition position;
  if (!out.has_value()) return position;
  const std::string marker = "durable_position=binlog ";
  size_t at = out->find(marker);
  if (at == std::string::npos) return position;
  size_t begin = at + marker.size();
  size_t end = out->find_first_of(" \n", begin);
  std::string text = out->substr(begin, end - begin);
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return position;
  position.file = text.substr(0, colon);
  position.offset = std::strtoull(text.c_str() + colon + 1, nullptr, 10);
  return position;
}

// The status file's capture state ("state=streaming ..." of `eddy status`), or "".
std::string StatusCaptureState(const std::string& data_dir) {
  std::ifstream file(data_dir + "/status");
  std::string line;
  while (std::getline(file, line)) {
    size_t at = line.find("state=");
    if (line.rfind("pid=", 0) == 0 || at == std::string::npos) continue;
    size_t end = line.find(' ', at);
    return line.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
  }
  return "";
}

// Starts `eddy run` on `data_dir` (its output to data_dir.log); returns the child's pid.
pid_t StartEddyRun(const std::string& eddy, const localdb::LocalMariadb& server,
                   const std::string& data_dir) {
  std::string log_file = data_dir + ".log";
  std::fflush(stdout);  // or the child's freopen writes the parent's buffered lines again
  pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    FILE* out = std::freopen(log_file.c_str(), "a", stdout);
    if (out == nullptr || ::dup2(::fileno(stdout), 2) < 0) ::_exit(126);
    std::string source = server.Url();
    ::execl(eddy.c_str(), eddy.c_str(), "run", "--source", source.c_str(), "--data-dir",
            data_dir.c_str(), "--stream", "cdc", "--tables", "eddy.retail_trans", "--api-listen",
            "127.0.0.1:0", "--log-level", "info", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Stops eddy run; returns its CPU seconds (user + system).
double StopEddyRun(pid_t pid, const std::string& data_dir) {
  ::kill(pid, SIGTERM);
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "eddy run did not stop cleanly (wait status %d); see %s.log\n", status,
                 data_dir.c_str());
    std::exit(1);
  }
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Whether the child has exited (then it failed: eddy run only stops when told to).
void CheckStillRunning(pid_t pid, const std::string& data_dir) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    std::fprintf(stderr, "eddy run exited (wait status %d); see %s.log\n", status,
                 data_dir.c_str());
    std::exit(1);
  }
}

// The stopped state the timed runs start from: eddy run has captured up to `MasterPosition`
// (nothing yet) and was stopped.
void PrepareStoppedState(const std::string& eddy, const localdb::LocalMariadb& server,
                         const std::string& data_dir) {
  pid_t pid = StartEddyRun(eddy, server, data_dir);
  auto deadline = SteadyClock::now() + std::chrono::seconds(60);
  while (StatusCaptureState(data_dir) != "streaming") {
    CheckStillRunning(pid, data_dir);
    if (SteadyClock::now() > deadline) {
      std::fprintf(stderr, "eddy run did not reach state=streaming in 60 s; see %s.log\n",
                   data_dir.c_str());
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a file, bounded
  }
  (void)StopEddyRun(pid, data_dir);
}

struct BinaryRun {
  double seconds = 0;
  double cpu_seconds = 0;       // eddy run's user + system time (with its start and stop)
  double poll_cpu_seconds = 0;  // the `eddy status` polls'
  int polls = 0;
};

// Times `eddy run` from a copy of the stopped state until `eddy status` shows `end` durable.
BinaryRun RunEddyBinary(const std::string& eddy, const localdb::LocalMariadb& server,
                        const std::string& stopped_state, const std::string& data_dir,
                        const BinlogPosition& end, int poll_ms) {
  std::filesystem::copy(stopped_state, data_dir, std::filesystem::copy_options::recursive);
  BinaryRun run;
  double cpu_began = CpuSeconds(RUSAGE_CHILDREN);
  auto began = SteadyClock::now();
  pid_t pid = StartEddyRun(eddy, server, data_dir);
  auto deadline = began + std::chrono::seconds(600);
  while (true) {
    BinlogPosition durable = StatusDurablePosition(eddy, data_dir);
    ++run.polls;
    if (!durable.file.empty() && !(durable < end)) break;
    CheckStillRunning(pid, data_dir);
    if (SteadyClock::now() > deadline) {
      std::fprintf(stderr, "eddy run did not reach %s in 600 s\n", end.ToString().c_str());
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));  // the poll interval
  }
  run.seconds = std::chrono::duration<double>(SteadyClock::now() - began).count();
  run.cpu_seconds = StopEddyRun(pid, data_dir);
  run.poll_cpu_seconds = CpuSeconds(RUSAGE_CHILDREN) - cpu_began - run.cpu_seconds;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  logging::Configure("warn", logging::Format::kText);
  long inserts = Flag(argc, argv, "inserts", 1'000'000);
  long updates = Flag(argc, argv, "updates", 500'000);
  long deletes = Flag(argc, argv, "deletes", 200'000);
  const std::string table = StringFlag(argc, argv, "table", "bench");
  const bool seeds = table == "seeds";
  if (!seeds && table != "bench") {
    std::fprintf(stderr, "--table must be bench or seeds\n");
    return 2;
  }
  long batch = Flag(argc, argv, "batch", seeds ? 5'000 : 10'000);
  const std::string eddy_binary = StringFlag(argc, argv, "eddy", "");
  const int poll_ms = static_cast<int>(Flag(argc, argv, "poll-ms", 50));
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
  if (seeds) {
    // The seeds' shape: BIGINT key, INT, four VARCHARs, DATETIME(6).
    Check(server->Execute("CREATE TABLE retail_trans (trans_id BIGINT PRIMARY KEY, customer_id "
                          "INT, event VARCHAR(32), sku VARCHAR(32), device VARCHAR(16), store "
                          "VARCHAR(32), trans_datetime DATETIME(6))",
                          "eddy"),
          "create table");
  } else {
    Check(server->Execute("CREATE TABLE retail_trans (id BIGINT PRIMARY KEY, store_id INT, "
                          "item VARCHAR(40), quantity INT, price DECIMAL(10,2), sold_at "
                          "DATETIME(6))",
                          "eddy"),
          "create table");
  }
  const std::string key = seeds ? "trans_id" : "id";
  const std::string stopped_state = dir + "/stopped";
  if (!eddy_binary.empty()) PrepareStoppedState(eddy_binary, *server, stopped_state);
  long total = inserts + updates + deletes;
  if (!skip_workload) {
    BinlogPosition start = MasterPosition(*server);
    auto session = Check(server->Connect("eddy"), "connect");
    auto workload_started = SteadyClock::now();
    for (long from = 1; from <= inserts; from += batch) {
      long to = std::min(inserts, from + batch - 1);
      std::string range = "seq_" + std::to_string(from) + "_to_" + std::to_string(to);
      Check(session.Execute(
                seeds ? "INSERT INTO retail_trans SELECT seq, seq % 100000, ELT(1 + seq % 5, "
                        "'purchase', 'return', 'view', 'add_to_cart', 'refund'), CONCAT('SKU-', "
                        "LPAD(seq % 100000, 5, '0')), ELT(1 + seq % 4, 'ios', 'android', 'web', "
                        "'pos'), CONCAT('store-', seq % 250), NOW(6) FROM " +
                            range
                      : "INSERT INTO retail_trans SELECT seq, seq % 100, CONCAT('item-', seq), "
                        "seq % 7, (seq % 10000) / 100.0, NOW(6) FROM " +
                            range),
            "insert");
    }
    for (long from = 1; from <= updates; from += batch) {
      long to = std::min(updates, from + batch - 1);
      std::string where =
          " WHERE " + key + " BETWEEN " + std::to_string(from) + " AND " + std::to_string(to);
      Check(session.Execute(seeds ? "UPDATE retail_trans SET event = 'refund', trans_datetime = "
                                    "NOW(6)" +
                                        where
                                  : "UPDATE retail_trans SET quantity = quantity + 1" + where),
            "update");
    }
    for (long from = 1; from <= deletes; from += batch) {
      long to = std::min(deletes, from + batch - 1);
      Check(session.Execute("DELETE FROM retail_trans WHERE " + key + " BETWEEN " +
                            std::to_string(from) + " AND " + std::to_string(to)),
            "delete");
    }
    BinlogPosition end = MasterPosition(*server);
    double workload_seconds =
        std::chrono::duration<double>(SteadyClock::now() - workload_started).count();
    if (end.file != start.file) {
      std::fprintf(stderr,
                   "the workload spans binlog files %s..%s; mariadb-binlog's range "
                   "needs one file\n",
                   start.file.c_str(), end.file.c_str());
      return 1;
    }
    std::printf(
        "workload: %ld inserts, %ld updates, %ld deletes (%ld changes) in %.1f s, "
        "binlog %s:%llu..%llu (%.0f MB)\n",
        inserts, updates, deletes, total, workload_seconds, start.file.c_str(),
        static_cast<unsigned long long>(start.offset), static_cast<unsigned long long>(end.offset),
        (end.offset - start.offset) / 1e6);

    std::vector<double> ratios;
    for (long run = 1; run <= repeat; ++run) {
      if (repeat > 1)
        std::printf("run %ld of %ld (load average %s)\n", run, repeat, LoadAverage().c_str());
      double tool_cpu = 0;
      double tool_seconds = RunMariadbBinlog(&tool_cpu, *server, start, end);
      double tool_rate = static_cast<double>(total) / tool_seconds;
      std::printf("mariadb-binlog -v: %.2f s, %.0f changes/s, %.2f CPU s\n", tool_seconds,
                  tool_rate, tool_cpu);

      if (!eddy_binary.empty()) {
        BinaryRun binary = RunEddyBinary(eddy_binary, *server, stopped_state,
                                         dir + "/run" + std::to_string(run), end, poll_ms);
        double eddy_rate = static_cast<double>(total) / binary.seconds;
        std::printf(
            "eddy run (binary): %.2f s, %.0f changes/s, %.2f CPU s (%d eddy status "
            "polls: %.2f CPU s)\n",
            binary.seconds, eddy_rate, binary.cpu_seconds, binary.polls, binary.poll_cpu_seconds);
        std::printf("ratio eddy / mariadb-binlog: %.2f (target > 1)\n", eddy_rate / tool_rate);
        ratios.push_back(eddy_rate / tool_rate);
        if (!keep) std::filesystem::remove_all(dir + "/run" + std::to_string(run));
        continue;
      }
      EddyRun eddy = RunEddy(*server, start, end, dir + "/run" + std::to_string(run),
                             static_cast<uint32_t>(4242 + run));
      double eddy_rate = static_cast<double>(eddy.progress.events) / eddy.seconds;
      std::printf(
          "eddy:              %.2f s, %.0f changes/s, %.2f CPU s (%llu changes durable in "
          "%llu transactions, %.0f MB of log; decode %.2f s, appends %.2f s of which the "
          "decoder waited %.2f s)\n",
          eddy.seconds, eddy_rate, eddy.cpu_seconds,
          static_cast<unsigned long long>(eddy.progress.events),
          static_cast<unsigned long long>(eddy.progress.transactions), eddy.log_bytes / 1e6,
          eddy.progress.decode_nanos / 1e9, eddy.progress.append_nanos / 1e9,
          eddy.progress.append_wait_nanos / 1e9);
      if (eddy.progress.events != static_cast<uint64_t>(total)) {
        std::fprintf(stderr, "eddy captured %llu changes, expected %ld\n",
                     static_cast<unsigned long long>(eddy.progress.events), total);
        return 1;
      }
      std::printf(
          "ratio eddy / mariadb-binlog: %.2f (target > 1); CPU ratio mariadb-binlog / "
          "eddy: %.2f\n",
          eddy_rate / tool_rate, tool_cpu / eddy.cpu_seconds);
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
    std::printf("one %ld-row transaction: binlog %.0f MB\n", big,
                (end.offset - start.offset) / 1e6);
    if (end.file == start.file) {
      double tool_cpu = 0;
      double tool_seconds = RunMariadbBinlog(&tool_cpu, *server, start, end);
      std::printf("one %ld-row transaction, mariadb-binlog -v: %.2f s\n", big, tool_seconds);
    }
    ResetPeakRss();
    long rss_before = ProcStatusKb("VmRSS:");
    EddyRun eddy = RunEddy(*server, start, end, dir + "/big");
    std::printf(
        "one %ld-row transaction, eddy: %.2f s, %llu changes, peak RSS %ld MB (RSS "
        "before: %ld MB)\n",
        big, eddy.seconds, static_cast<unsigned long long>(eddy.progress.events),
        ProcStatusKb("VmHWM:") / 1024, rss_before / 1024);
  }
  if (keep) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
