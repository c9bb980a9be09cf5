// Writes a change log of the seeds' workload for bench/tail/tail_throughput.py: a CDC stream
// (native format, NEW_AND_OLD_IMAGES, 4 shards, as `eddy run` creates it) holding the change
// events a MariaDB capture of `retail_trans` (trans_id BIGINT key, customer_id INT, four
// VARCHARs, trans_datetime DATETIME(6)) stores for N inserts, then M updates (before and after
// images), then K deletes, in source transactions of --batch rows, each appended with its
// binlog position as eddy's capture appends it.
//
//   tail_bench_make_log --data-dir=DIR [--stream=cdc] [--inserts=1000000] [--updates=500000]
//                       [--deletes=200000] [--batch=5000]
//
// Prints the number of records written. Values are deterministic (derived from the row id).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "log/log_store.h"
#include "log/stream_tags.h"
#include "model/event.h"
#include "model/event_codec.h"

namespace {

using namespace eddy;
using bench::Check;
using bench::Flag;
using bench::StringFlag;

constexpr int64_t kBaseMicros = 1'735'689'600'000'000;  // 2025-01-01 00:00:00 UTC

model::Row RowOf(int64_t id, bool updated) {
  static const char* kEvents[] = {"purchase", "return", "view", "add_to_cart", "refund"};
  static const char* kDevices[] = {"ios", "android", "web", "pos"};
  char sku[16];
  std::snprintf(sku, sizeof sku, "SKU-%05lld", static_cast<long long>(id % 100000));
  model::Row row;
  row.push_back({"trans_id", model::Value::Int64(id)});
  row.push_back({"customer_id", model::Value::Int64(id % 100000)});
  row.push_back({"event", model::Value::Text(updated ? "refund" : kEvents[id % 5])});
  row.push_back({"sku", model::Value::Text(sku)});
  row.push_back({"device", model::Value::Text(kDevices[id % 4])});
  row.push_back({"store", model::Value::Text("store-" + std::to_string(id % 250))});
  row.push_back(
      {"trans_datetime", model::Value::Timestamp({model::TemporalKind::kFinite,
                                                  kBaseMicros + id * 1'000 + (updated ? 7 : 0)})});
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data_dir = StringFlag(argc, argv, "data-dir", "");
  const std::string stream_name = StringFlag(argc, argv, "stream", "cdc");
  const long inserts = Flag(argc, argv, "inserts", 1'000'000);
  const long updates = Flag(argc, argv, "updates", 500'000);
  const long deletes = Flag(argc, argv, "deletes", 200'000);
  const long batch = Flag(argc, argv, "batch", 5'000);
  if (data_dir.empty() || batch <= 0) {
    std::fprintf(stderr,
                 "usage: tail_bench_make_log --data-dir=DIR [--stream=cdc] "
                 "[--inserts=N] [--updates=M] [--deletes=K] [--batch=B]\n");
    return 2;
  }
  auto store = log::LogStore::Open(data_dir);
  Check(store.status(), "open the log");
  log::StreamOptions options;
  options.shard_count = 4;
  options.tags[std::string(log::kTagCdc)] = "true";
  options.tags[std::string(log::kTagFormat)] = "native";
  options.tags[std::string(log::kTagViewType)] = "NEW_AND_OLD_IMAGES";
  options.tags["eddy:tables"] = "eddy.retail_trans";
  auto stream = (*store)->CreateStream(stream_name, options);
  Check(stream.status(), "create the stream");

  uint64_t offset = 4;
  uint64_t transactions = 0;
  uint64_t written = 0;
  std::vector<log::AppendRecord> records;
  model::ChangeEvent event;
  event.table = model::TableId{"eddy", "", "retail_trans"};
  event.schema_version = 1;
  event.source.connector = model::ConnectorKind::kMariadb;
  event.source.server_name = "eddy";
  event.source.mysql_thread_id = 9;
  // Appends ops [from, to) of one kind as source transactions of `batch` rows.
  auto run = [&](model::Operation op, long from, long to) {
    for (long first = from; first < to; first += batch) {
      long last = std::min(to, first + batch);
      ++transactions;
      MysqlPosition position;
      position.server_id = 1;
      position.gtid.text = "0-1-" + std::to_string(transactions);
      records.clear();
      event.transaction_id = position.gtid.text;
      event.commit_time_ns = (kBaseMicros + static_cast<int64_t>(transactions) * 1000) * 1000;
      for (long id = first; id < last; ++id) {
        event.op = op;
        event.key = {{"trans_id", model::Value::Int64(id)}};
        event.before.reset();
        event.after.reset();
        if (op != model::Operation::kInsert) event.before = RowOf(id, false);
        if (op == model::Operation::kInsert) event.after = RowOf(id, false);
        if (op == model::Operation::kUpdate) event.after = RowOf(id, true);
        offset += 120;
        position.end = BinlogPosition{"binlog.000001", offset};
        event.position = SourcePosition(position);
        event.capture_time_ns = event.commit_time_ns + 1'000'000;
        event.ordinal_in_transaction = static_cast<uint64_t>(id - first);
        event.source.mysql_row = static_cast<uint32_t>((id - first) % 100);
        log::AppendRecord record;
        record.partition_key = event.PartitionKey();
        model::EncodeEvent(event, record.payload);
        record.position = event.position;
        records.push_back(std::move(record));
      }
      written += records.size();
      auto result = (*stream)->AppendTransaction(std::move(records), SourcePosition(position));
      Check(result.status(), "append");
      records = {};
    }
  };
  run(model::Operation::kInsert, 1, 1 + inserts);
  run(model::Operation::kUpdate, 1, 1 + updates);
  run(model::Operation::kDelete, 1, 1 + deletes);
  std::printf("%llu\n", static_cast<unsigned long long>(written));
  return 0;
}
