// Change-log benchmark (issue 3). One run prints:
//  1. append throughput with group commit (8 appender threads, Stream::Append each record)
//     for 200-byte and 2 KiB payloads, against a plain loop that writes the same bytes to a
//     file with the same number of fsyncs (fdatasync) in the same run; prints the ratio;
//  2. sequential read throughput of one ShardReader from the page cache (records/s, MB/s).
//
//   log_bench [--dir=/path] [--seconds-per-case=N]
//
// With --memory it instead checks that memory stays flat (issues 4 and 6): peak RSS
// (getrusage ru_maxrss) and current RSS while
//  a. one source transaction of --tx-rows rows (default 5,000,000 x 200 B, ~1 GB) is appended
//     in parts of 10,000 rows through Stream::BeginTransaction and committed;
//  b. the log grows to --memory-gib GiB (default 4; 2 KiB records over 4 shards, 4 MiB
//     AppendRecords calls), with figures at every GiB, then is read back whole.
//
// The directory defaults to $TMPDIR or /tmp; it is created and removed.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "io/file_system.h"
#include "log/log_store.h"
#include "log/segment_format.h"

namespace {

using namespace eddy;
using namespace eddy::log;
using Clock = std::chrono::steady_clock;

// Counts fsyncs the log performs (files and directories) while delegating to POSIX.
class CountingFileSystem final : public io::FileSystem {
 public:
  class CountingFile final : public io::File {
   public:
    CountingFile(std::unique_ptr<io::File> file, std::atomic<uint64_t>* syncs)
        : file_(std::move(file)), syncs_(syncs) {}
    Status Append(std::string_view bytes) override { return file_->Append(bytes); }
    Result<size_t> ReadAt(uint64_t offset, size_t size, char* out) const override {
      return file_->ReadAt(offset, size, out);
    }
    Status Sync() override {
      ++*syncs_;
      return file_->Sync();
    }
    Result<uint64_t> Size() const override { return file_->Size(); }
    Status Truncate(uint64_t size) override { return file_->Truncate(size); }
    const std::string& path() const override { return file_->path(); }

   private:
    std::unique_ptr<io::File> file_;
    std::atomic<uint64_t>* syncs_;
  };

  Result<std::unique_ptr<io::File>> Open(const std::string& path, io::OpenMode mode) override {
    EDDY_ASSIGN_OR_RETURN(auto file, base_->Open(path, mode));
    return std::unique_ptr<io::File>(new CountingFile(std::move(file), &syncs));
  }
  Status SyncDirectory(const std::string& path) override {
    ++syncs;
    return base_->SyncDirectory(path);
  }
  Status Rename(const std::string& a, const std::string& b) override { return base_->Rename(a, b); }
  Status RenameNoReplace(const std::string& a, const std::string& b) override {
    return base_->RenameNoReplace(a, b);
  }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Status RemoveDirectory(const std::string& p) override { return base_->RemoveDirectory(p); }
  Result<std::vector<std::string>> List(const std::string& p) override { return base_->List(p); }
  Status Truncate(const std::string& p, uint64_t s) override { return base_->Truncate(p, s); }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Result<bool> Exists(const std::string& p) override { return base_->Exists(p); }
  Result<bool> IsDirectory(const std::string& p) override { return base_->IsDirectory(p); }
  Status CreateDirectory(const std::string& p) override { return base_->CreateDirectory(p); }
  Result<std::unique_ptr<io::FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }

  std::atomic<uint64_t> syncs{0};

 private:
  io::FileSystem* base_ = io::DefaultFileSystem();
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct AppendFigures {
  uint64_t records = 0;
  uint64_t bytes = 0;  // bytes the log wrote to segments (frames)
  uint64_t syncs = 0;
  double seconds = 0;
};

AppendFigures RunLogAppends(const std::string& dir, size_t payload_size, int threads,
                            double seconds_budget, uint32_t shards = 1,
                            size_t records_per_call = 1) {
  CountingFileSystem fs;
  LogStoreOptions options;
  options.file_system = &fs;
  auto store = LogStore::Open(dir, options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  StreamOptions stream_options;
  stream_options.shard_count = shards;
  auto stream = *(*store)->CreateStream("bench", stream_options);
  uint64_t syncs_before = fs.syncs.load();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> records{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<AppendRecord> transaction(records_per_call);
      for (size_t i = 0; i < records_per_call; ++i) {
        transaction[i].partition_key = "key-" + std::to_string(t) + "-" + std::to_string(i);
        transaction[i].payload.assign(payload_size, static_cast<char>('a' + t));
      }
      while (!stop.load(std::memory_order_relaxed)) {
        Status status;
        if (records_per_call == 1) {
          status = stream->Append(transaction[0]).status();
        } else {
          status = stream->AppendTransaction(transaction, SourcePosition()).status();
        }
        if (!status.ok()) {
          std::fprintf(stderr, "append: %s\n", status.ToString().c_str());
          std::exit(1);
        }
        records.fetch_add(records_per_call, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds_budget));
  stop = true;
  for (auto& worker : workers) worker.join();
  AppendFigures figures;
  figures.seconds = Seconds(Clock::now() - start);
  figures.records = records.load();
  figures.syncs = fs.syncs.load() - syncs_before;
  Record sample;
  sample.partition_key = "key-0-0";
  sample.payload.assign(payload_size, 'a');
  figures.bytes = figures.records * FrameSize(sample);
  return figures;
}

// The reference: one thread writes the same bytes in `syncs` equal writes, each followed by
// fdatasync, to one pre-existing file.
double RunPlainLoop(const std::string& path, uint64_t bytes, uint64_t syncs) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  ::fsync(fd);
  uint64_t per_write = syncs == 0 ? bytes : (bytes + syncs - 1) / syncs;
  std::string buffer(per_write, 'x');
  auto start = Clock::now();
  uint64_t written = 0;
  for (uint64_t i = 0; i < syncs && written < bytes; ++i) {
    size_t size = static_cast<size_t>(std::min<uint64_t>(per_write, bytes - written));
    if (::write(fd, buffer.data(), size) != static_cast<ssize_t>(size)) {
      std::perror("write");
      std::exit(1);
    }
    ::fdatasync(fd);
    written += size;
  }
  double seconds = Seconds(Clock::now() - start);
  ::close(fd);
  ::unlink(path.c_str());
  return seconds;
}

void ReadBench(const std::string& dir, size_t payload_size, uint64_t target_bytes) {
  auto store = *LogStore::Open(dir);
  auto stream = *store->CreateStream("read", StreamOptions{});
  std::vector<AppendRecord> batch(static_cast<size_t>(16u << 20) / payload_size);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].partition_key = "k" + std::to_string(i % 16);
    batch[i].payload.assign(payload_size, static_cast<char>('a' + i % 26));
  }
  uint64_t appended = 0;
  while (appended * payload_size < target_bytes) {
    if (!stream->AppendRecords(batch).ok()) std::exit(1);
    appended += batch.size();
  }
  // Cold-ish pass to warm the page cache, then the measured pass.
  double best = 1e30;
  uint64_t records = 0;
  uint64_t bytes = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto reader = *stream->OpenReader(0, StartPosition::TrimHorizon());
    records = 0;
    bytes = 0;
    auto start = Clock::now();
    while (true) {
      auto result = reader->Read(ReadLimits{10000, 10u << 20});
      if (!result.ok()) std::exit(1);
      if (result->records.empty()) break;
      records += result->records.size();
      for (const auto& record : result->records) bytes += record.payload.size() + record.partition_key.size();
    }
    best = std::min(best, Seconds(Clock::now() - start));
  }
  std::printf("read  payload=%5zu B  records=%8llu  %10.0f records/s  %8.1f MB/s (payload+key)\n",
              payload_size, static_cast<unsigned long long>(records), records / best,
              bytes / best / 1e6);
}

// --- memory stays flat ---------------------------------------------------------------------

double PeakRssMiB() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KiB on Linux
}

double CurrentRssMiB() {
  long pages = 0;
  long resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

void PrintMemory(const char* when) {
  std::printf("  %-44s peak RSS %7.1f MiB   current RSS %7.1f MiB\n", when, PeakRssMiB(),
              CurrentRssMiB());
  std::fflush(stdout);
}

void Fail(const Status& status, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

// A 5,000,000-row UPDATE as the PostgreSQL/MySQL capture appends it: parts of 10,000 rows.
void BigTransactionMemory(const std::string& dir, uint64_t rows) {
  constexpr uint64_t kPartRows = 10000;
  constexpr size_t kRowBytes = 200;
  auto store = LogStore::Open(dir);
  if (!store.ok()) Fail(store.status(), "open");
  StreamOptions options;
  options.shard_count = 4;
  auto stream = (*store)->CreateStream("tx", options);
  if (!stream.ok()) Fail(stream.status(), "create");
  PrintMemory("before the transaction:");
  auto start = Clock::now();
  auto appender = (*stream)->BeginTransaction();
  if (!appender.ok()) Fail(appender.status(), "begin");
  for (uint64_t done = 0; done < rows;) {
    uint64_t count = std::min(kPartRows, rows - done);
    std::vector<AppendRecord> part(count);
    for (uint64_t i = 0; i < count; ++i) {
      part[i].partition_key = "{\"id\":" + std::to_string(done + i) + "}";
      part[i].payload.assign(kRowBytes, static_cast<char>('a' + (done + i) % 26));
    }
    Status status = (*appender)->Append(std::move(part));
    if (!status.ok()) Fail(status, "append part");
    done += count;
    if (done == rows / 2) PrintMemory("half the rows appended (uncommitted):");
  }
  auto committed = (*appender)->Commit(SourcePosition());
  if (!committed.ok()) Fail(committed.status(), "commit");
  double seconds = Seconds(Clock::now() - start);
  uint64_t bytes = 0;
  for (const auto& shard : (*stream)->Describe().shards) bytes += shard.bytes;
  std::printf("transaction of %llu rows x %zu B in parts of %llu: %llu records, %.2f GB of "
              "segments, %.1f s (%.0f rows/s)\n",
              static_cast<unsigned long long>(rows), kRowBytes,
              static_cast<unsigned long long>(kPartRows),
              static_cast<unsigned long long>(committed->record_count), bytes / 1e9, seconds,
              rows / seconds);
  PrintMemory("after commit:");
}

void GrowingLogMemory(const std::string& dir, uint64_t gib) {
  constexpr size_t kPayload = 2048;
  constexpr size_t kPerCall = (4u << 20) / kPayload;  // 4 MiB per AppendRecords call
  auto store = LogStore::Open(dir);
  if (!store.ok()) Fail(store.status(), "open");
  StreamOptions options;
  options.shard_count = 4;
  auto stream = (*store)->CreateStream("grow", options);
  if (!stream.ok()) Fail(stream.status(), "create");
  std::vector<AppendRecord> batch(kPerCall);
  for (size_t i = 0; i < kPerCall; ++i) {
    batch[i].partition_key = "k" + std::to_string(i);
    batch[i].payload.assign(kPayload, static_cast<char>('a' + i % 26));
  }
  const uint64_t target = gib << 30;
  uint64_t appended = 0;
  uint64_t next_report = 1ull << 30;
  auto start = Clock::now();
  while (appended < target) {
    auto result = (*stream)->AppendRecords(batch);
    if (!result.ok()) Fail(result.status(), "append");
    appended += kPerCall * kPayload;
    if (appended >= next_report) {
      std::string when = "log at " + std::to_string(next_report >> 30) + " GiB:";
      PrintMemory(when.c_str());
      next_report += 1ull << 30;
    }
  }
  double append_seconds = Seconds(Clock::now() - start);
  std::printf("appended %.2f GiB in %.1f s (%.0f MB/s)\n", appended / double(1 << 30),
              append_seconds, appended / append_seconds / 1e6);
  start = Clock::now();
  uint64_t read_bytes = 0;
  uint64_t records = 0;
  for (const auto& shard : (*stream)->Describe().shards) {
    auto reader = (*stream)->OpenReader(shard.index, StartPosition::TrimHorizon());
    if (!reader.ok()) Fail(reader.status(), "open reader");
    while (true) {
      auto result = (*reader)->Read(ReadLimits{});
      if (!result.ok()) Fail(result.status(), "read");
      if (result->records.empty()) break;
      records += result->records.size();
      for (const auto& record : result->records) read_bytes += record.payload.size();
    }
  }
  double read_seconds = Seconds(Clock::now() - start);
  std::printf("read back %llu records, %.2f GiB of payload in %.1f s (%.0f MB/s)\n",
              static_cast<unsigned long long>(records), read_bytes / double(1 << 30),
              read_seconds, read_bytes / read_seconds / 1e6);
  if (read_bytes != appended) {
    std::fprintf(stderr, "read %llu bytes, appended %llu\n",
                 static_cast<unsigned long long>(read_bytes),
                 static_cast<unsigned long long>(appended));
    std::exit(1);
  }
  PrintMemory("after reading the whole log:");
}

struct CaseFigures {
  AppendFigures log;
  double plain_seconds = 0;
};

// Alternates short log runs with plain-loop runs over the same bytes and fsync count, so that
// both see the same disk (its flush latency drifts on a shared machine).
CaseFigures RunCase(const std::string& root, size_t payload, int threads, uint32_t shards,
                    size_t per_call, double seconds, int rounds) {
  CaseFigures total;
  for (int round = 0; round < rounds; ++round) {
    std::string dir = root + "/append_" + std::to_string(payload) + "_" + std::to_string(round);
    AppendFigures log = RunLogAppends(dir, payload, threads, seconds / rounds, shards, per_call);
    std::filesystem::remove_all(dir);
    total.plain_seconds += RunPlainLoop(root + "/plain.dat", log.bytes, log.syncs);
    total.log.records += log.records;
    total.log.bytes += log.bytes;
    total.log.syncs += log.syncs;
    total.log.seconds += log.seconds;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  logging::Configure("warn", logging::Format::kText);
  const char* tmp = std::getenv("TMPDIR");
  std::string root = std::string(tmp ? tmp : "/tmp") + "/eddy_log_bench_" + std::to_string(::getpid());
  double seconds_per_case = 3;
  bool read_only = false;
  bool memory = false;
  uint64_t memory_gib = 4;
  uint64_t tx_rows = 5'000'000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--memory") memory = true;
    if (arg.rfind("--memory-gib=", 0) == 0) memory_gib = std::strtoull(arg.c_str() + 13, nullptr, 10);
    if (arg.rfind("--tx-rows=", 0) == 0) tx_rows = std::strtoull(arg.c_str() + 10, nullptr, 10);
    if (arg.rfind("--dir=", 0) == 0) root = arg.substr(6) + "/eddy_log_bench_" + std::to_string(::getpid());
    if (arg == "--read-only") read_only = true;
    if (arg.rfind("--seconds-per-case=", 0) == 0) seconds_per_case = std::atof(arg.c_str() + 19);
  }
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::printf("eddy log benchmark in %s\n", root.c_str());
  if (memory) {
    PrintMemory("start:");
    if (tx_rows > 0) BigTransactionMemory(root + "/tx", tx_rows);
    std::filesystem::remove_all(root + "/tx");
    if (memory_gib > 0) GrowingLogMemory(root + "/grow", memory_gib);
    std::filesystem::remove_all(root);
    return 0;
  }
  if (!read_only) {
    for (size_t payload : {size_t{200}, size_t{2048}}) {
      CaseFigures c = RunCase(root, payload, 8, 1, 1, seconds_per_case, 3);
      double log_rate = c.log.bytes / c.log.seconds;
      double plain_rate = c.log.bytes / c.plain_seconds;
      std::printf("append payload=%5zu B, 8 threads, 1 shard: %9.0f records/s  %7.2f MB/s  "
                  "fsyncs=%llu (%.1f records per fsync)\n",
                  payload, c.log.records / c.log.seconds, log_rate / 1e6,
                  static_cast<unsigned long long>(c.log.syncs),
                  static_cast<double>(c.log.records) / std::max<uint64_t>(1, c.log.syncs));
      std::printf("  plain loop, same bytes and fsync count: %7.2f MB/s   ratio log/plain = %.2f\n",
                  plain_rate / 1e6, log_rate / plain_rate);
    }
    // Source transactions of 16 records over 4 shards: one commit per batch, the shard files
    // flushed in parallel, then the commit journal. Throughput only (the plain loop would
    // flush serially, so a ratio would flatter the log).
    std::string dir = root + "/append_tx";
    AppendFigures tx = RunLogAppends(dir, 200, 4, seconds_per_case, 4, 16);
    std::filesystem::remove_all(dir);
    std::printf("append tx: 16 x 200 B over 4 shards, 4 threads: %9.0f records/s  %7.2f MB/s  "
                "fsyncs=%llu\n",
                tx.records / tx.seconds, tx.bytes / tx.seconds / 1e6,
                static_cast<unsigned long long>(tx.syncs));
  }
  ReadBench(root + "/read200", 200, 200u << 20);
  ReadBench(root + "/read2k", 2048, 400u << 20);
  std::filesystem::remove_all(root);
  return 0;
}
