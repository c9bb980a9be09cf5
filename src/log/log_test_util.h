// Helpers shared by the log tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "io/fault_file_system.h"
#include "log/log_store.h"

namespace eddy::log::testing {

inline SourcePosition PgPosition(uint64_t lsn) {
  PostgresPosition position;
  position.commit_end_lsn = Lsn(lsn);
  position.change_lsn = Lsn(lsn);
  return SourcePosition(position);
}

inline AppendRecord MakeRecord(std::string key, std::string payload,
                               SourcePosition position = {}) {
  AppendRecord record;
  record.partition_key = std::move(key);
  record.payload = std::move(payload);
  record.position = std::move(position);
  return record;
}

// Options for a stream of `shards` shards, everything else default.
inline StreamOptions Unordered(uint32_t shards) {
  StreamOptions options;
  options.shard_count = shards;
  return options;
}

// The records' payloads, in order.
inline std::vector<std::string> Payloads(const std::vector<Record>& records) {
  std::vector<std::string> payloads;
  for (const auto& record : records) payloads.push_back(record.payload);
  return payloads;
}

// Reads a whole shard from `start` to its current end.
inline std::vector<Record> ReadAll(Stream& stream, uint32_t shard,
                                   StartPosition start = StartPosition::TrimHorizon(),
                                   Status* error = nullptr) {
  std::vector<Record> records;
  auto reader = stream.OpenReader(shard, start);
  if (!reader.ok()) {
    if (error) *error = reader.status();
    return records;
  }
  while (true) {
    auto batch = (*reader)->Read(ReadLimits{});
    if (!batch.ok()) {
      if (error) *error = batch.status();
      return records;
    }
    if (batch->records.empty()) break;
    for (auto& record : batch->records) records.push_back(std::move(record));
  }
  return records;
}

struct FaultStore {
  io::FaultInjectionFileSystem fs;
  ManualClock clock;
  LogStoreOptions options;
  std::unique_ptr<LogStore> store;

  FaultStore() {
    options.file_system = &fs;
    options.clock = &clock;
  }
  void Open() {
    store.reset();
    auto opened = LogStore::Open("/data", options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
  }
  void CrashAndReopen() {
    store.reset();
    fs.ClearFaults();
    fs.SimulateCrash();
    Open();
  }
  std::shared_ptr<Stream> Get(const std::string& name) {
    auto stream = store->GetStream(name);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    return stream.ok() ? *stream : nullptr;
  }
};

}  // namespace eddy::log::testing
