// `eddy tail`: prints a stream's records as JSON lines on stdout, rendered in the stream's
// format (or --format). Opens the data directory read-only, so it runs beside `eddy run`.
// Without --follow it exits after every durable record; with --follow it keeps printing new
// ones until SIGINT/SIGTERM. --dedupe prints the latest image per primary key instead
// (app/tail_dedupe.h). A reader thread reads the log while this thread renders and writes
// (see Tail); native row changes render straight from their encoding (format/native_encoded.h).
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "app/commands.h"
#include "app/record_printer.h"
#include "app/shutdown.h"
#include "app/tail_dedupe.h"
#include "consume/stream_reader.h"
#include "engine/config.h"
#include "log/kinesis.h"

namespace eddy::app {
namespace {

struct TailFlags {
  std::string data_dir;
  std::string stream;
  std::string from = "trim-horizon";
  bool follow = false;
  std::string format;
  std::string view_type;
  bool dedupe = false;
  std::string dedupe_window = "1s";
};

// Lines are rendered into one buffer and written in chunks of about this size.
constexpr size_t kOutputChunkBytes = 1u << 20;
// With --follow, lines wait in the buffer at most this long while records keep arriving.
constexpr auto kFollowFlushInterval = std::chrono::milliseconds(100);

// One reader hand-over: records in log order (read in place: views into the log's buffers,
// which the batch keeps alive), or the reader's error; `last` ends the tail.
struct TailBatch {
  consume::StreamBatch records;
  Status status;
  bool last = false;
};

// Batches from the reader thread to the rendering thread, at most kCapacity in flight (bounded
// memory when the output is slower than the log). Close() makes Push return false.
class BatchQueue {
 public:
  static constexpr size_t kCapacity = 4;

  bool Push(TailBatch batch) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return closed_ || batches_.size() < kCapacity; });
    if (closed_) return false;
    batches_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }
  TailBatch Pop() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return !batches_.empty(); });
    TailBatch batch = std::move(batches_.front());
    batches_.pop_front();
    changed_.notify_all();
    return batch;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    changed_.notify_all();
  }
  // Rendered batches go back to the reader thread, which reads into them again (their
  // vectors keep their capacity; the log buffers they held go back to the reader's pool).
  void Recycle(consume::StreamBatch records) {
    records.Clear();
    std::lock_guard lock(mu_);
    if (spent_.size() < kCapacity) spent_.push_back(std::move(records));
  }
  consume::StreamBatch TakeRecycled() {
    std::lock_guard lock(mu_);
    if (spent_.empty()) return consume::StreamBatch();
    consume::StreamBatch records = std::move(spent_.back());
    spent_.pop_back();
    return records;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<TailBatch> batches_;  // guarded by mu_
  std::vector<consume::StreamBatch> spent_;  // guarded by mu_
  bool closed_ = false;            // guarded by mu_
};

int Fail(const Status& status, int code = kExitFailure) {
  std::fprintf(stderr, "eddy tail: %s\n", status.message().c_str());
  return code;
}

int Tail(const TailFlags& flags) {
  consume::StreamReaderOptions options;
  if (flags.from == "trim-horizon") {
    options.start = log::StartPosition::TrimHorizon();
  } else if (flags.from == "latest") {
    options.start = log::StartPosition::Latest();
  } else {
    auto parsed = log::ParseSequenceNumber(flags.from);
    if (!parsed.ok()) {
      return Fail(InvalidArgument("--from '" + flags.from +
                                  "' is neither trim-horizon, latest nor a sequence number"),
                  kExitUsage);
    }
    options.start = log::StartPosition::AtSequence(parsed->sequence);
  }
  ShutdownSignal& shutdown = ShutdownSignal::Install();
  log::LogStoreOptions store_options;
  store_options.read_only = true;
  auto store = log::LogStore::Open(flags.data_dir, store_options);
  if (!store.ok()) return Fail(store.status());
  auto stream = (*store)->GetStream(flags.stream);
  if (!stream.ok()) return Fail(stream.status());
  if (flags.dedupe) {
    DedupeTailOptions dedupe;
    dedupe.format = flags.format;
    dedupe.view_type = flags.view_type;
    dedupe.start = options.start;
    dedupe.follow = flags.follow;
    auto window = engine::ParseDurationMillis(flags.dedupe_window);
    if (!window.ok() || *window <= 0) {
      return Fail(InvalidArgument("--dedupe-window '" + flags.dedupe_window +
                                  "' is not a duration like \"1s\" or \"500ms\""),
                  kExitUsage);
    }
    dedupe.window_ms = *window;
    auto stats = RunDedupeTail(*stream, dedupe, &shutdown, stdout);
    if (!stats.ok()) {
      return Fail(stats.status(), stats.status().code() == ErrorCode::kInvalidArgument
                                      ? kExitUsage
                                      : kExitFailure);
    }
    std::fprintf(stderr,
                 "eddy tail --dedupe: records=%llu applied=%llu stale=%llu keyless=%llu "
                 "ignored=%llu printed=%llu\n",
                 static_cast<unsigned long long>(stats->records),
                 static_cast<unsigned long long>(stats->applied),
                 static_cast<unsigned long long>(stats->stale),
                 static_cast<unsigned long long>(stats->keyless),
                 static_cast<unsigned long long>(stats->ignored),
                 static_cast<unsigned long long>(stats->printed));
    return kExitOk;
  }
  auto printer = RecordPrinter::Create((*stream)->Describe(), {flags.format, flags.view_type});
  if (!printer.ok()) return Fail(printer.status(), kExitUsage);
  auto reader = consume::StreamReader::Open(*stream, options);
  if (!reader.ok()) return Fail(reader.status());

  // Reading (frames, CRCs, reassembly) and rendering share the work about evenly, so they run
  // on two threads: a reader thread hands batches of records, in order, through a small
  // bounded queue to this thread, which renders and writes them. In follow mode the reader
  // thread also does the waiting; a batch with no records tells this thread it caught up.
  BatchQueue queue;
  std::thread reader_thread([&] {
    while (true) {
      TailBatch batch;
      batch.records = queue.TakeRecycled();
      batch.status = (*reader)->NextViews(&batch.records);
      const bool caught_up = batch.status.ok() && batch.records.records.empty();
      const bool stop =
          !batch.status.ok() || (caught_up && (!flags.follow || shutdown.requested()));
      batch.last = stop;
      if (!queue.Push(std::move(batch)) || stop) return;
      if (caught_up) {
        // A failed wait only means the next Next reads sooner (and reports a lasting problem).
        (*reader)
            ->WaitForCommit(std::chrono::steady_clock::now() + std::chrono::milliseconds(200))
            .IgnoreError();
        if (shutdown.requested()) {
          TailBatch end;
          end.last = true;
          queue.Push(std::move(end));
          return;
        }
      }
    }
  });

  std::string out;
  out.reserve(kOutputChunkBytes + (64u << 10));
  auto last_flush = std::chrono::steady_clock::now();
  auto write_out = [&] {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  };
  auto flush = [&] {
    write_out();
    std::fflush(stdout);
    last_flush = std::chrono::steady_clock::now();
  };
  int exit_code = kExitOk;
  while (true) {
    TailBatch batch = queue.Pop();
    Status status = batch.status;
    for (size_t i = 0; status.ok() && i < batch.records.records.size(); ++i) {
      status = printer->AppendLine(batch.records.records[i], &out);
      if (out.size() >= kOutputChunkBytes) write_out();
    }
    if (!status.ok()) {
      flush();
      exit_code = Fail(status);
      break;
    }
    const bool had_records = !batch.records.records.empty();
    queue.Recycle(std::move(batch.records));
    if (had_records) {
      if (flags.follow && std::chrono::steady_clock::now() - last_flush >= kFollowFlushInterval) {
        flush();
      }
      if (!batch.last) continue;
    }
    flush();  // caught up
    if (batch.last) break;
  }
  queue.Close();  // the reader thread stops at its next hand-over
  reader_thread.join();
  return exit_code;
}

}  // namespace

void RegisterTailCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<TailFlags>();
  auto* command = app.add_subcommand(
      "tail", "Print a stream's records as JSON lines (safe beside a running eddy run)");
  command->add_option("--data-dir", flags->data_dir, "The data directory")->required();
  command->add_option("--stream", flags->stream, "The stream")->required();
  command->add_option("--from", flags->from, "trim-horizon (default), latest, or a sequence number");
  command->add_flag("--follow", flags->follow, "Keep printing new records until interrupted");
  command->add_option("--format", flags->format,
                      "native|debezium|debezium-schema|dms|dynamodb (default: the stream's)");
  command->add_option("--view-type", flags->view_type,
                      "NEW_AND_OLD_IMAGES|NEW_IMAGE|OLD_IMAGE|KEYS_ONLY (default: the stream's)");
  command->add_flag("--dedupe", flags->dedupe,
                    "Print the latest image per primary key (last writer wins by commit time, "
                    "then log order); deleted keys are left out");
  command->add_option("--dedupe-window", flags->dedupe_window,
                      "With --dedupe --follow: print the keys changed every DURATION (default 1s)");
  command->callback([&runner, flags] {
    runner = [flags] { return Tail(*flags); };
  });
}

}  // namespace eddy::app
