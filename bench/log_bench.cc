// Change-log benchmark (issue 3). One run prints:
//  1. append throughput with group commit (8 appender threads, Stream::Append each record)
//     for 200-byte and 2 KiB payloads, against a plain loop that writes the same bytes to a
//     file with the same number of fsyncs (fdatasync) in the same run; prints the ratio;
//  2. sequential read throughput of one ShardReader from the page cache (records/s, MB/s).
//
//   log_bench [--dir=/path] [--seconds-per-case=N]
//
// The directory defaults to $TMPDIR or /tmp; it is created and removed.
#include <fcntl.h>
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
                            double seconds_budget) {
  CountingFileSystem fs;
  LogStoreOptions options;
  options.file_system = &fs;
  auto store = LogStore::Open(dir, options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  auto stream = *(*store)->CreateStream("bench", StreamOptions{});
  uint64_t syncs_before = fs.syncs.load();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> records{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      AppendRecord record;
      record.partition_key = "key-" + std::to_string(t);
      record.payload.assign(payload_size, static_cast<char>('a' + t));
      while (!stop.load(std::memory_order_relaxed)) {
        auto appended = stream->Append(record);
        if (!appended.ok()) {
          std::fprintf(stderr, "append: %s\n", appended.status().ToString().c_str());
          std::exit(1);
        }
        records.fetch_add(1, std::memory_order_relaxed);
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
  sample.partition_key = "key-0";
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

}  // namespace

int main(int argc, char** argv) {
  logging::Configure("warn", logging::Format::kText);
  const char* tmp = std::getenv("TMPDIR");
  std::string root = std::string(tmp ? tmp : "/tmp") + "/eddy_log_bench_" + std::to_string(::getpid());
  double seconds_per_case = 5;
  bool read_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--dir=", 0) == 0) root = arg.substr(6) + "/eddy_log_bench_" + std::to_string(::getpid());
    if (arg == "--read-only") read_only = true;
    if (arg.rfind("--seconds-per-case=", 0) == 0) seconds_per_case = std::atof(arg.c_str() + 19);
  }
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::printf("eddy log benchmark in %s (8 appender threads, group commit)\n", root.c_str());
  for (size_t payload : {size_t{200}, size_t{2048}}) {
    if (read_only) break;
    std::string dir = root + "/append_" + std::to_string(payload);
    AppendFigures log = RunLogAppends(dir, payload, 8, seconds_per_case);
    double plain = RunPlainLoop(root + "/plain.dat", log.bytes, log.syncs);
    double log_rate = log.bytes / log.seconds;
    double plain_rate = log.bytes / plain;
    std::printf("append payload=%5zu B  records=%8llu  %9.0f records/s  %7.1f MB/s  fsyncs=%llu "
                "(%.1f records per fsync)\n",
                payload, static_cast<unsigned long long>(log.records), log.records / log.seconds,
                log_rate / 1e6, static_cast<unsigned long long>(log.syncs),
                static_cast<double>(log.records) / std::max<uint64_t>(1, log.syncs));
    std::printf("plain  same bytes, same fsync count: %7.1f MB/s   ratio log/plain = %.2f\n",
                plain_rate / 1e6, log_rate / plain_rate);
    std::filesystem::remove_all(dir);
  }
  ReadBench(root + "/read200", 200, 200u << 20);
  ReadBench(root + "/read2k", 2048, 400u << 20);
  if (read_only) {
    std::filesystem::remove_all(root);
    return 0;
  }
  std::filesystem::remove_all(root);
  return 0;
}
