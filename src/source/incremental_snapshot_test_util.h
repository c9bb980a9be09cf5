// What the PostgreSQL and MySQL/MariaDB incremental snapshot integration tests share (tests
// only; header-only, GoogleTest): the log they capture into, reading it back, the table as the
// log tells it (folded by key, last writer wins), how often each key was read by snapshots,
// the seed, and the random writers of the DBLog property test. Each source's test adds its
// server, its capture options and its SQL dialect.
//
// Thread safety: RandomWriters runs its own threads; the rest is for the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "log/log_store.h"
#include "model/event.h"
#include "model/event_codec.h"

namespace eddy::source::testing {

// EDDY_TEST_SEED replays a randomized test; otherwise a random seed (tests print it).
inline uint64_t TestSeed() {
  if (const char* text = std::getenv("EDDY_TEST_SEED")) return std::strtoull(text, nullptr, 10);
  return std::random_device{}();
}

// The running test's name in lower case with every other character '_' (database, slot and
// directory names are made from it).
inline std::string SanitizedTestName() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : name) {
    c = std::isalnum(static_cast<unsigned char>(c))
            ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
            : '_';
  }
  return name;
}

// Every event of shard 0 of `stream` (the tests' single-shard stream), in log order.
inline std::vector<model::ChangeEvent> ReadAllEvents(log::Stream& stream) {
  std::vector<model::ChangeEvent> events;
  auto reader = stream.OpenReader(0, log::StartPosition::TrimHorizon());
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return events;
  while (true) {
    auto batch = (*reader)->Read(log::ReadLimits{});
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || batch->records.empty()) break;
    for (const log::Record& record : batch->records) {
      auto event = model::DecodeEvent(record.payload);
      EXPECT_TRUE(event.ok()) << event.status().ToString();
      if (event.ok()) events.push_back(std::move(*event));
    }
  }
  return events;
}

// The log a test captures into: DIR/log with one ordered single-shard stream "cdc". Close()
// lets a child process take the directory's lock (the kill -9 tests).
class TestLog {
 public:
  void Open(const std::string& dir) {
    dir_ = dir;
    Close();
    auto store = log::LogStore::Open(dir_ + "/log");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto stream = store_->GetStream("cdc");
    if (!stream.ok()) {
      log::StreamOptions options;
      options.ordering = log::OrderingMode::kOrdered;
      options.shard_count = 1;
      stream = store_->CreateStream("cdc", options);
    }
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    stream_ = *stream;
  }
  void Close() {
    stream_.reset();
    store_.reset();
  }
  const std::shared_ptr<log::Stream>& stream() const { return stream_; }

  // Every event of the stream, in log order.
  std::vector<model::ChangeEvent> ReadAll() const { return ReadAllEvents(*stream_); }

  // Waits (at most 200 ms) for the stream to get new records.
  void WaitForData() const {
    auto reader = stream_->OpenReader(0, log::StartPosition::Latest());
    if (!reader.ok()) return;
    Status waited =
        (*reader)->WaitForData(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    waited.IgnoreError();
  }

 private:
  std::string dir_;
  std::unique_ptr<log::LogStore> store_;
  std::shared_ptr<log::Stream> stream_;
};

using TableFilter = std::function<bool(const model::TableId&)>;

// The table as the log tells it: every event of the tables `filter` takes, in log order, last
// writer wins; rows are id -> v (both bigint columns).
inline std::map<int64_t, int64_t> Fold(const std::vector<model::ChangeEvent>& events,
                                       const TableFilter& filter) {
  std::map<int64_t, int64_t> rows;
  auto field = [](const model::Row& row, const char* name) {
    return model::FindField(row, name)->Get<int64_t>();
  };
  for (const model::ChangeEvent& event : events) {
    if (!filter(event.table)) continue;
    if (event.op == model::Operation::kTruncate) {
      rows.clear();
      continue;
    }
    if (event.op == model::Operation::kDelete) {
      rows.erase(field(*event.before, "id"));
      continue;
    }
    if (event.op == model::Operation::kUpdate && event.before.has_value()) {
      rows.erase(field(*event.before, "id"));  // the key changed
    }
    rows[field(*event.after, "id")] = field(*event.after, "v");
  }
  return rows;
}

// How often incremental snapshots read each key (the first key column) of the tables `filter`
// takes; every read must be marked `incremental`.
inline std::map<int64_t, int> ReadCounts(const std::vector<model::ChangeEvent>& events,
                                         const TableFilter& filter) {
  std::map<int64_t, int> counts;
  for (const model::ChangeEvent& event : events) {
    if (!filter(event.table) || event.op != model::Operation::kRead) continue;
    EXPECT_EQ(event.source.snapshot, model::SnapshotMarker::kIncremental);
    counts[event.key[0].value.Get<int64_t>()]++;
  }
  return counts;
}

// The writers of the DBLog property test: each on a connection of its own, inserting, updating
// (also the key) and deleting random rows of `table` (id bigint PRIMARY KEY, v bigint) with keys
// in 1..4000, now and then two changes in one transaction, until Stop() or `max_writes` each.
class RandomWriters {
 public:
  // Runs one statement; a failure (a taken key) is part of the workload.
  using Execute = std::function<Status(const std::string&)>;
  struct Options {
    std::string table;  // as the statements name it
    size_t writers = 2;
    size_t max_writes = 5000;  // per writer
    uint64_t seed = 0;
    // A connection of its own for one writer (nullptr-like failure: the writer does nothing).
    std::function<Result<Execute>()> connect;
    // "insert row (id, 1) unless the key is taken" in the source's dialect.
    std::function<std::string(const std::string& table, const std::string& id)> insert_if_absent;
    // How many writes (all writers together) may have run by now; unset means no limit. Tied to
    // the snapshot's progress, it keeps the writers from outrunning the capture: unpaced, two
    // writers on a loaded machine committed 400,000 changes while the capture, which must stream
    // all of them to see each chunk's watermarks, finished 80 chunks in 152 s.
    std::function<uint64_t()> budget;
  };

  explicit RandomWriters(Options options) : options_(std::move(options)) {
    for (size_t w = 0; w < options_.writers; ++w) {
      threads_.emplace_back([this, w] { Run(w); });
    }
  }
  ~RandomWriters() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  uint64_t writes() const { return writes_.load(); }

 private:
  void Run(size_t writer) {
    Result<Execute> execute = options_.connect();
    if (!execute.ok()) return;
    std::mt19937_64 random(options_.seed + writer);
    const std::string& t = options_.table;
    auto any_id = [&] { return std::to_string(random() % 4000 + 1); };
    for (size_t i = 0; i < options_.max_writes && !stop_.load(); ++i) {
      if (options_.budget && writes_.load() >= options_.budget()) {
        // Pacing, not waiting for a result: the budget grows as chunks finish.
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        --i;
        continue;
      }
      std::string statement;
      switch (random() % 5) {
        case 0:
          statement = options_.insert_if_absent(t, any_id());
          break;
        case 1:
          statement = "DELETE FROM " + t + " WHERE id = " + any_id();
          break;
        case 2:  // moves a row to another key (fails when that key is taken)
          statement = "UPDATE " + t + " SET id = " + any_id() + " WHERE id = " + any_id();
          break;
        default:
          statement = "UPDATE " + t + " SET v = v + 1 WHERE id = " + any_id();
          break;
      }
      if (random() % 4 == 0) {
        // Several changes in one transaction now and then.
        if (!(*execute)("BEGIN").ok()) continue;
        bool ok = (*execute)(statement).ok() &&
                  (*execute)("UPDATE " + t + " SET v = v + 7 WHERE id = " + any_id()).ok();
        (*execute)(ok ? "COMMIT" : "ROLLBACK").IgnoreError();
      } else {
        (*execute)(statement).IgnoreError();  // a taken key fails the statement
      }
      writes_++;
    }
  }

  Options options_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> writes_{0};
  std::vector<std::thread> threads_;
};

}  // namespace eddy::source::testing
