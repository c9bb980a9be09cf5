// `eddy lake expire --warehouse URL --older-than DURATION [--data-dir DIR] [--sink NAME]`:
// expires the snapshots older than DURATION of every table in an Iceberg warehouse the Iceberg
// sink writes, and deletes the files only they referenced (iceberg/maintenance.h). The
// warehouse is named by the sink's own URL (`iceberg+file:///WAREHOUSE`,
// `iceberg+s3://BUCKET/WAREHOUSE?endpoint=...`, with its catalog= setting); on S3 the default
// SQL catalog lives in the data directory under the sink's name, hence --data-dir and --sink.
// Safe while the sink writes (optimistic commits, retried). Exit 0 when every table was
// handled, 1 when one failed (the others are still done), 2 for bad flags.
#include <chrono>
#include <cstdio>

#include "app/commands.h"
#include "base/duration.h"
#include "engine/sink_config.h"
#include "iceberg/maintenance.h"
#include "sink/iceberg/iceberg_destination.h"

namespace eddy::app {
namespace {

struct ExpireFlags {
  std::string warehouse;
  std::string older_than;
  std::string data_dir;
  std::string sink;  // empty: ParseSinkUrl's default name (iceberg-file-1, iceberg-s3-1)
};

int Expire(const ExpireFlags& flags) {
  auto older_than = ParseSecondsOrDuration(flags.older_than);
  if (!older_than.ok() || older_than->count() < 0) {
    std::fprintf(stderr,
                 "eddy lake expire: --older-than '%s' is not a duration; write it like 7d, 12h, "
                 "30m or 3600 (seconds)\n",
                 flags.older_than.c_str());
    return kExitUsage;
  }
  // The URL's query string holds the sink's settings (catalog=, endpoint=, region=), parsed as
  // `eddy run --sink URL` parses them (and named as the first such sink is by default).
  auto parsed = engine::ParseSinkUrl(flags.warehouse, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "eddy lake expire: %s\n", parsed.status().message().c_str());
    return kExitUsage;
  }
  consume::SinkSpec spec = std::move(parsed).value();
  if (!flags.sink.empty()) spec.name = flags.sink;
  spec.data_dir = flags.data_dir;
  auto warehouse = sink::iceberg::OpenWarehouse(spec);
  if (!warehouse.ok()) {
    std::fprintf(stderr, "eddy lake expire: %s\n", warehouse.status().message().c_str());
    return warehouse.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  auto tables = warehouse->catalog->ListTables(warehouse->prefix);
  if (!tables.ok()) {
    std::fprintf(stderr, "eddy lake expire: listing the tables: %s\n",
                 tables.status().message().c_str());
    return kExitFailure;
  }
  iceberg::ExpireOptions options;
  options.older_than_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          older_than->count();
  int result = kExitOk;
  for (const std::string& table : *tables) {
    auto report = iceberg::ExpireSnapshots(*warehouse->catalog, table, options);
    if (!report.ok()) {
      std::fprintf(stderr, "eddy lake expire: %s: %s\n",
                   warehouse->catalog->Location(table).c_str(), report.status().message().c_str());
      result = kExitFailure;
      continue;
    }
    std::printf("%s: %zu snapshots expired, %zu kept, %zu files deleted (version %lld)\n",
                warehouse->catalog->Location(table).c_str(), report->expired_snapshots,
                report->kept_snapshots, report->deleted_files,
                static_cast<long long>(report->version));
  }
  return result;
}

}  // namespace

void RegisterLakeCommand(CLI::App& app, CommandRunner& runner) {
  auto* lake = app.add_subcommand("lake", "Maintain the Iceberg tables the Iceberg sink writes");
  lake->require_subcommand(1);
  auto flags = std::make_shared<ExpireFlags>();
  auto* expire = lake->add_subcommand(
      "expire",
      "Expire every table's snapshots older than a duration and delete the files only they "
      "referenced (main's current snapshot is always kept); safe while the sink writes");
  expire
      ->add_option("--warehouse", flags->warehouse,
                   "The sink's URL: iceberg+file:///WAREHOUSE or "
                   "iceberg+s3://BUCKET/WAREHOUSE?endpoint=...&catalog=...")
      ->required();
  expire->add_option("--older-than", flags->older_than, "7d, 12h, 30m, or seconds")->required();
  expire->add_option("--data-dir", flags->data_dir,
                     "eddy's data directory (iceberg+s3:// without catalog=: the default SQL "
                     "catalog is DATA_DIR/iceberg/<sink>.db)");
  expire->add_option("--sink", flags->sink,
                     "The sink's name, for the default SQL catalog's file (default: the name "
                     "`eddy run --sink URL` gives, iceberg-s3-1)");
  expire->callback([&runner, flags] { runner = [flags] { return Expire(*flags); }; });
}

}  // namespace eddy::app
