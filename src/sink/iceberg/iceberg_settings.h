// The settings an Iceberg destination owns (`iceberg+file:///WAREHOUSE` and
// `iceberg+s3://BUCKET/WAREHOUSE`), parsed once from a consume::SinkSpec without I/O.
// docs/sinks/iceberg.md has the table:
//
//   commit_interval   1 s..1 h, default 60 s   commit at the latest this long after the first
//                                              change of a commit was read
//   commit_rows       1..1,000,000, default 100,000   ... or once this many records are read
//   compression       snappy (default) | zstd | none   of the Parquet data and delete files
//   catalog           hadoop (the default on file://): metadata files with version-hint.text,
//                     new versions published put-if-absent; sqlite:///PATH (the default on
//                     s3://, at DATA_DIR/iceberg/<sink>.db): Iceberg's SQL (JDBC) catalog in
//                     a SQLite file, commits by a conditional UPDATE
//   changelog         false (default) | true: also an append-only `<table>_changelog` table
//                     per source table, every change with _op, _commit_time, _position,
//                     _sequence and _transaction
//   compact_delete_files  0 (default: never) | N: compact a table (iceberg/compact.h) after
//                     a commit once its current snapshot has N or more delete files
//   compact_data_files    0 (default: never) | N: ... or N or more data files
//   compact_file_size_mb  1..65536, default 512: the compacted data files' target size
//   region, endpoint  iceberg+s3:// only: the bucket's region (default AWS_REGION, else
//                     us-east-1) and a custom endpoint (path-style; http(s)://HOST:PORT)
//   type              "iceberg" when given ([[sink]] type = "iceberg")
//
// The runner's batching keys (batch_size, batch_bytes, max_batching_window) are refused in
// favour of commit_rows and commit_interval, and parallelization_factor must stay 1 (a table
// has one writer, and commits follow the log's order).
//
// Thread safety: values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "consume/sink.h"
#include "parquet/writer.h"

namespace eddy::sink::iceberg {

enum class Backend : uint8_t {
  kFile = 0,  // iceberg+file:///WAREHOUSE
  kS3 = 1,    // iceberg+s3://BUCKET/WAREHOUSE
};

enum class Catalog : uint8_t {
  kHadoop = 0,  // v<N>.metadata.json put-if-absent + version-hint.text
  kSql = 1,     // Iceberg's SQL catalog in a SQLite file (iceberg/sql_catalog.h)
};

inline constexpr uint32_t kMaxCommitRows = 1'000'000;

struct IcebergSettings {
  Backend backend = Backend::kFile;
  std::string directory;  // kFile: absolute, without a trailing '/'
  std::string bucket;     // kS3
  std::string prefix;     // kS3: the warehouse's key prefix, without slashes around it
  std::string region;     // kS3; empty: the AWS chain's region, else us-east-1
  std::string endpoint;   // kS3; empty: AWS
  std::chrono::milliseconds commit_interval{60'000};
  uint32_t commit_rows = 100'000;
  parquet::Compression compression = parquet::Compression::kSnappy;
  Catalog catalog = Catalog::kHadoop;
  bool changelog = false;             // also an append-only <table>_changelog table of every change
  uint32_t compact_delete_files = 0;  // 0: never
  uint32_t compact_data_files = 0;    // 0: never
  uint64_t compact_file_bytes = 512ull << 20;
  std::string catalog_path;  // kSql: the SQLite database file (absolute)
};

// Parses and checks every setting; InvalidArgument names the key (or the URL part), the value
// and what is allowed. No I/O.
Result<IcebergSettings> ParseIcebergSettings(const consume::SinkSpec& spec);

}  // namespace eddy::sink::iceberg
