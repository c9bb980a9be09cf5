// Parquet writer benchmark driver (issue 14): writes N retail_trans rows with eddy's
// ParquetWriter and prints the time as one JSON line; bench/parquet/parquet_vs_duckdb.mjs runs
// it and DuckDB's `COPY ... TO 'x.parquet'` on the same rows in the same run and prints the
// ratio. It measures the writer alone; bench/parquet/objects_parquet_bench.py measures the
// `eddy` binary writing the same kind of rows through the objects sink (format=parquet).
//
// The rows (seed 002's retail_trans shape): trans_id BIGINT NOT NULL (key), customer_id,
// event, sku, device VARCHAR, quantity INT, trans_datetime TIMESTAMP(6); deterministic values
// from a fixed-seed generator. They are built in memory first (not timed), as the sink holds
// decoded events; the timed part is ParquetWriter::Open .. Finish into a file (no fsync, as
// DuckDB's COPY does not fsync either).
//
//   parquet_bench [--rows=1000000] [--dir=/tmp] [--compression=snappy|zstd|none]
//                 [--repeat=3] [--csv=PATH]   (--csv also writes the rows as CSV for DuckDB)
//                 [--stages]
//
// --stages splits the objects sink's per-row work as `eddy serve` does it for format=parquet,
// on the same rows as snapshot events of one transaction in the log's encoding (untimed
// model::EncodeEvent): "decode" is model::DecodeEvent of every stored event into a
// ChangeEvent kept alive until the file is written (what the sink runner does for a flush
// before the destination sees it), "append" the ParquetWriter with the CDC columns from those
// events to Finish (the destination's part), "free" destroying the events. One JSON line per
// run: {"run","rows","decode_seconds","append_seconds","free_seconds"}, CPU seconds of the
// thread.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "format/value_text.h"
#include "io/file_system.h"
#include "model/event_codec.h"
#include "parquet/parquet_test_util.h"
#include "parquet/writer.h"

namespace {

using namespace eddy;
using model::Value;
using model::ValueType;

std::string Flag(int argc, char** argv, const char* name, std::string fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

model::TableSchema RetailSchema() {
  model::TableSchema schema;
  schema.table = {"bench", "public", "retail_trans"};
  schema.columns = {parquet::testing::Col("trans_id", ValueType::kInt64, "int8", false),
                    parquet::testing::Col("customer_id", ValueType::kText, "varchar"),
                    parquet::testing::Col("event", ValueType::kText, "varchar"),
                    parquet::testing::Col("sku", ValueType::kText, "varchar"),
                    parquet::testing::Col("device", ValueType::kText, "varchar"),
                    parquet::testing::Col("quantity", ValueType::kInt64, "int4"),
                    parquet::testing::Col("trans_datetime", ValueType::kTimestamp, "timestamp")};
  schema.primary_key = {"trans_id"};
  return schema;
}

std::vector<model::Row> RetailRows(int64_t count, std::string* csv) {
  static const char* kEvents[] = {"purchase", "return", "view", "add_to_cart", "refund"};
  static const char* kDevices[] = {"ios", "android", "web", "pos"};
  uint64_t state = 2;  // seed 002
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  const int64_t start = model::DaysFromCivil({2025, 1, 1}) * 86'400'000'000LL;
  std::vector<model::Row> rows;
  rows.reserve(static_cast<size_t>(count));
  char buffer[32];
  for (int64_t id = 1; id <= count; ++id) {
    std::snprintf(buffer, sizeof(buffer), "CUST-%06" PRIu64, next() % 1000000);
    std::string customer = buffer;
    std::string event = kEvents[next() % 5];
    std::snprintf(buffer, sizeof(buffer), "SKU-%05" PRIu64, next() % 100000);
    std::string sku = buffer;
    std::string device = kDevices[next() % 4];
    const int64_t quantity = static_cast<int64_t>(next() % 20) + 1;
    const int64_t micros = start + id * 7'000'000 + static_cast<int64_t>(next() % 1'000'000);
    if (csv != nullptr) {
      model::TimestampValue ts{model::TemporalKind::kFinite, micros};
      std::string when = format::FormatTimestamp(ts);
      std::replace(when.begin(), when.end(), 'T', ' ');
      *csv += std::to_string(id) + "," + customer + "," + event + "," + sku + "," + device + "," +
              std::to_string(quantity) + "," + when + "\n";
    }
    rows.push_back({{"trans_id", Value::Int64(id)},
                    {"customer_id", Value::Text(std::move(customer))},
                    {"event", Value::Text(std::move(event))},
                    {"sku", Value::Text(std::move(sku))},
                    {"device", Value::Text(std::move(device))},
                    {"quantity", Value::Int64(quantity)},
                    {"trans_datetime", Value::Timestamp({model::TemporalKind::kFinite, micros})}});
  }
  return rows;
}

// The rows as the log stores them: snapshot reads of one transaction, PostgreSQL positions.
std::vector<std::string> EncodedEvents(const model::TableSchema& schema,
                                       const std::vector<model::Row>& rows) {
  std::vector<std::string> encoded;
  encoded.reserve(rows.size());
  model::ChangeEvent event;
  event.op = model::Operation::kRead;
  event.table = schema.table;
  event.position = SourcePosition(PostgresPosition{Lsn(0x16B374D900), Lsn(0x16B374D848)});
  event.commit_time_ns = 1'796'478'240'384'268'145;
  event.capture_time_ns = event.commit_time_ns;
  event.transaction_id = "snapshot:16/B374D848";
  event.schema_version = 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    event.ordinal_in_transaction = i;
    event.key = {rows[i][0]};
    event.after = rows[i];
    encoded.push_back(model::EncodeEvent(event));
  }
  return encoded;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "parquet_bench: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t count = std::atoll(Flag(argc, argv, "rows", "1000000").c_str());
  const std::string dir = Flag(argc, argv, "dir", "/tmp");
  const int repeat = std::max(1, std::atoi(Flag(argc, argv, "repeat", "3").c_str()));
  const std::string csv_path = Flag(argc, argv, "csv", "");
  auto compression = parquet::ParseCompression(Flag(argc, argv, "compression", "snappy"));
  if (!compression.ok()) return Fail(compression.status());

  io::FileSystem* fs = io::DefaultFileSystem();
  std::string csv;
  std::vector<model::Row> rows = RetailRows(count, csv_path.empty() ? nullptr : &csv);
  if (!csv_path.empty()) {
    Status written = fs->WriteFileAtomically(csv_path, csv);
    if (!written.ok()) return Fail(written);
  }
  const model::TableSchema schema = RetailSchema();
  parquet::WriterOptions options;
  options.compression = *compression;
  const std::string path = io::JoinPath(dir, "eddy_parquet_bench.parquet");
  const bool stages = std::any_of(
      argv + 1, argv + argc, [](const char* arg) { return std::strcmp(arg, "--stages") == 0; });
  if (stages) {
    const std::vector<std::string> encoded = EncodedEvents(schema, rows);
    options.cdc_columns = true;
    // CPU time of this (the only) thread: what each stage costs, whatever else shares the
    // cores (wall time on a loaded machine is mostly waiting for one).
    auto now = [] {
      timespec t{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
    };
    for (int run = 0; run < repeat; ++run) {
      double begin = now();
      std::vector<std::shared_ptr<const model::ChangeEvent>> events;
      events.reserve(encoded.size());
      for (const std::string& bytes : encoded) {
        auto event = model::DecodeEvent(bytes);
        if (!event.ok()) return Fail(event.status());
        events.push_back(std::make_shared<const model::ChangeEvent>(std::move(*event)));
      }
      const double decode = now() - begin;
      std::string out;
      begin = now();
      auto writer = parquet::ParquetWriter::OpenBuffer(schema, options, &out);
      if (!writer.ok()) return Fail(writer.status());
      for (const auto& event : events) {
        Status status = (*writer)->AppendEvent(*event);
        if (!status.ok()) return Fail(status);
      }
      auto summary = (*writer)->Finish();
      if (!summary.ok()) return Fail(summary.status());
      const double append = now() - begin;
      begin = now();
      events = {};
      const double free = now() - begin;
      std::printf("{\"run\":%d,\"rows\":%" PRId64
                  ",\"decode_seconds\":%.6f,\"append_seconds\":%.6f,\"free_seconds\":%.6f}\n",
                  run, count, decode, append, free);
      std::fflush(stdout);
    }
    return 0;
  }
  for (int run = 0; run < repeat; ++run) {
    auto file = fs->Open(path, io::OpenMode::kCreateOrTruncate);
    if (!file.ok()) return Fail(file.status());
    const auto begin = std::chrono::steady_clock::now();
    auto writer = parquet::ParquetWriter::Open(schema, options, file->get());
    if (!writer.ok()) return Fail(writer.status());
    for (const model::Row& row : rows) {
      Status status = (*writer)->AppendRow(row);
      if (!status.ok()) return Fail(status);
    }
    auto summary = (*writer)->Finish();
    if (!summary.ok()) return Fail(summary.status());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::printf("{\"run\":%d,\"rows\":%" PRId64 ",\"seconds\":%.6f,\"file_bytes\":%" PRIu64
                ",\"row_groups\":%u,\"compression\":\"%s\",\"path\":\"%s\"}\n",
                run, count, seconds, summary->file_bytes, summary->row_group_count,
                std::string(parquet::CompressionName(*compression)).c_str(), path.c_str());
    std::fflush(stdout);
  }
  return 0;
}
