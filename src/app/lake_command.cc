// `eddy lake`: maintenance of the Iceberg tables the Iceberg sink writes (iceberg/maintenance.h,
// iceberg/compact.h). The warehouse is named by the sink's own URL (`iceberg+file:///WAREHOUSE`,
// `iceberg+s3://BUCKET/WAREHOUSE?endpoint=...`, with its catalog= setting); on S3 the default
// SQL catalog lives in the data directory under the sink's name, hence --data-dir and --sink.
//
//   eddy lake expire --warehouse URL --older-than DURATION
//       expires snapshots older than DURATION and deletes the files only they referenced
//   eddy lake compact --warehouse URL [--table NS.TABLE] [--target-file-size SIZE]
//       rewrites each table's data and delete files into fresh data files (a `replace`
//       snapshot leaving zero delete files); a table holding a staged transaction is
//       retried (backing off) until the sink publishes it, for up to 2 minutes
//   eddy lake remove-orphans --warehouse URL [--table NS.TABLE] [--older-than DURATION]
//       [--dry-run]   deletes files no metadata references, older than DURATION (default 3d)
//
// All are safe while the sink writes (optimistic commits, retried); retriable failures (the
// store answering 5xx or unreachable, a staged transaction) are retried, backing off, for up
// to 2 minutes. Exit 0 when every table
// was handled, 1 when one failed (the others are still done), 2 for bad flags.
#include <chrono>
#include <cstdio>
#include <thread>

#include "app/commands.h"
#include "base/backoff.h"
#include "base/duration.h"
#include "engine/sink_config.h"
#include "iceberg/compact.h"
#include "iceberg/maintenance.h"
#include "sink/iceberg/iceberg_destination.h"

namespace eddy::app {
namespace {

// How long a subcommand retries a retriable failure (a staged transaction the sink has not
// published yet, an object store answering 5xx) before giving up on a table.
constexpr std::chrono::seconds kRetryFor{120};
// ... and opening the warehouse (the store's check, the table listing).
constexpr std::chrono::seconds kOpenRetryFor{15};

struct WarehouseFlags {
  std::string warehouse;
  std::string data_dir;
  std::string sink;   // empty: ParseSinkUrl's default name (iceberg-file-1, iceberg-s3-1)
  std::string table;  // empty: every table
};

struct LakeFlags {
  WarehouseFlags where;
  std::string older_than;
  std::string target_file_size = "512MB";
  bool dry_run = false;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "512MB", "64MiB", "1GB", "1048576" (bytes). Units are powers of 1024 (MB = MiB).
Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (value > (UINT64_MAX - 9) / 10) return InvalidArgument("too large");
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return InvalidArgument("no number");
  std::string unit;
  for (char c : text.substr(i))
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  uint64_t scale = 1;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KB" || unit == "KIB" || unit == "K") {
    scale = 1ull << 10;
  } else if (unit == "MB" || unit == "MIB" || unit == "M") {
    scale = 1ull << 20;
  } else if (unit == "GB" || unit == "GIB" || unit == "G") {
    scale = 1ull << 30;
  } else {
    return InvalidArgument("unknown unit");
  }
  if (value > UINT64_MAX / scale) return InvalidArgument("too large");
  return value * scale;
}

// Calls `attempt` until it succeeds or fails with a permanent error, backing off, for up to
// `retry_for`: a staged transaction the sink publishes soon (kUnavailable), an object store
// answering 500 or 503 for a while.
template <typename Attempt>
auto Retrying(Attempt attempt, std::chrono::seconds retry_for = kRetryFor) -> decltype(attempt()) {
  Backoff backoff(BackoffPolicy{std::chrono::milliseconds(100), std::chrono::milliseconds(2000)});
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  auto result = attempt();
  while (!result.ok() && result.status().IsRetriable() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(backoff.NextDelay());
    result = attempt();
  }
  return result;
}

struct Opened {
  sink::iceberg::Warehouse warehouse;
  std::vector<std::string> tables;
};

// Opens the warehouse and lists its tables (only --table's when given). Prints the error and
// returns the exit code on failure.
Result<Opened> OpenTables(const char* command, const WarehouseFlags& flags, int* exit_code) {
  // The URL's query string holds the sink's settings (catalog=, endpoint=, region=), parsed as
  // `eddy run --sink URL` parses them (and named as the first such sink is by default).
  auto parsed = engine::ParseSinkUrl(flags.warehouse, 1);
  if (!parsed.ok()) {
    std::fprintf(stderr, "eddy lake %s: %s\n", command, parsed.status().message().c_str());
    *exit_code = kExitUsage;
    return parsed.status();
  }
  consume::SinkSpec spec = std::move(parsed).value();
  if (!flags.sink.empty()) spec.name = flags.sink;
  spec.data_dir = flags.data_dir;
  // Opening is retried briefly: a wrong endpoint is reported within kOpenRetryFor.
  auto warehouse = Retrying([&] { return sink::iceberg::OpenWarehouse(spec); }, kOpenRetryFor);
  if (!warehouse.ok()) {
    std::fprintf(stderr, "eddy lake %s: %s\n", command, warehouse.status().message().c_str());
    *exit_code =
        warehouse.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
    return warehouse.status();
  }
  auto tables =
      Retrying([&] { return warehouse->catalog->ListTables(warehouse->prefix); }, kOpenRetryFor);
  if (!tables.ok()) {
    std::fprintf(stderr, "eddy lake %s: listing the tables: %s\n", command,
                 tables.status().message().c_str());
    *exit_code = kExitFailure;
    return tables.status();
  }
  Opened opened{std::move(warehouse).value(), {}};
  for (const std::string& table : *tables) {
    if (!flags.table.empty()) {
      // "db.public.items" or "db/public/items", relative to the warehouse.
      std::string name = table.substr(opened.warehouse.prefix.size());
      std::string dotted = name;
      for (char& c : dotted) c = c == '/' ? '.' : c;
      if (flags.table != name && flags.table != dotted) continue;
    }
    opened.tables.push_back(table);
  }
  if (!flags.table.empty() && opened.tables.empty()) {
    std::fprintf(stderr,
                 "eddy lake %s: no table %s in %s; name it as namespace.table (database.schema."
                 "table for PostgreSQL sources, database.table for MySQL)\n",
                 command, flags.table.c_str(), flags.warehouse.c_str());
    *exit_code = kExitUsage;
    return NotFound("no such table");
  }
  return opened;
}

Result<int64_t> CutoffMs(const char* command, const std::string& older_than) {
  auto duration = ParseSecondsOrDuration(older_than);
  if (!duration.ok() || duration->count() < 0) {
    std::fprintf(stderr,
                 "eddy lake %s: --older-than '%s' is not a duration; write it like 7d, 12h, "
                 "30m or 3600 (seconds)\n",
                 command, older_than.c_str());
    return InvalidArgument("bad duration");
  }
  return NowMs() - std::chrono::duration_cast<std::chrono::milliseconds>(*duration).count();
}

int Expire(const LakeFlags& flags) {
  auto cutoff = CutoffMs("expire", flags.older_than);
  if (!cutoff.ok()) return kExitUsage;
  int exit_code = kExitOk;
  auto opened = OpenTables("expire", flags.where, &exit_code);
  if (!opened.ok()) return exit_code;
  iceberg::ExpireOptions options;
  options.older_than_ms = *cutoff;
  iceberg::Catalog& catalog = *opened->warehouse.catalog;
  for (const std::string& table : opened->tables) {
    auto report = Retrying([&] { return iceberg::ExpireSnapshots(catalog, table, options); });
    if (!report.ok()) {
      std::fprintf(stderr, "eddy lake expire: %s: %s\n", catalog.Location(table).c_str(),
                   report.status().message().c_str());
      exit_code = kExitFailure;
      continue;
    }
    std::printf("%s: %zu snapshots expired, %zu kept, %zu files deleted (version %lld)\n",
                catalog.Location(table).c_str(), report->expired_snapshots, report->kept_snapshots,
                report->deleted_files, static_cast<long long>(report->version));
  }
  return exit_code;
}

int Compact(const LakeFlags& flags) {
  auto target = ParseSize(flags.target_file_size);
  if (!target.ok() || *target < (1u << 20)) {
    std::fprintf(stderr,
                 "eddy lake compact: --target-file-size '%s' is not a size of at least 1MB; "
                 "write it like 512MB, 1GB or 134217728 (bytes)\n",
                 flags.target_file_size.c_str());
    return kExitUsage;
  }
  int exit_code = kExitOk;
  auto opened = OpenTables("compact", flags.where, &exit_code);
  if (!opened.ok()) return exit_code;
  iceberg::CompactOptions options;
  options.target_file_bytes = *target;
  iceberg::Catalog& catalog = *opened->warehouse.catalog;
  for (const std::string& table : opened->tables) {
    // A staged transaction (kUnavailable) is published by the sink's next commit: wait for
    // it, backing off, for up to kRetryFor.
    auto report = Retrying([&] { return iceberg::CompactTable(catalog, table, options); });
    if (!report.ok()) {
      std::fprintf(stderr, "eddy lake compact: %s: %s\n", catalog.Location(table).c_str(),
                   report.status().message().c_str());
      exit_code = kExitFailure;
      continue;
    }
    const long long version = report->table ? static_cast<long long>(report->table->version) : 0;
    if (!report->compacted) {
      std::printf("%s: nothing to compact (%zu data files, no delete files; version %lld)\n",
                  catalog.Location(table).c_str(), report->data_files_before, version);
      continue;
    }
    std::printf(
        "%s: %zu data files and %zu delete files (%lld rows) rewritten into %zu data files "
        "(%lld rows), 0 delete files (version %lld, %d attempt%s)\n",
        catalog.Location(table).c_str(), report->data_files_before, report->delete_files_before,
        static_cast<long long>(report->rows_before), report->data_files_after,
        static_cast<long long>(report->rows_after), version, report->attempts,
        report->attempts == 1 ? "" : "s");
  }
  return exit_code;
}

int RemoveOrphans(const LakeFlags& flags) {
  auto cutoff = CutoffMs("remove-orphans", flags.older_than.empty() ? "3d" : flags.older_than);
  if (!cutoff.ok()) return kExitUsage;
  int exit_code = kExitOk;
  auto opened = OpenTables("remove-orphans", flags.where, &exit_code);
  if (!opened.ok()) return exit_code;
  iceberg::OrphanOptions options;
  options.older_than_ms = *cutoff;
  options.dry_run = flags.dry_run;
  iceberg::Catalog& catalog = *opened->warehouse.catalog;
  for (const std::string& table : opened->tables) {
    auto report = Retrying([&] { return iceberg::RemoveOrphanFiles(catalog, table, options); });
    if (!report.ok()) {
      std::fprintf(stderr, "eddy lake remove-orphans: %s: %s\n", catalog.Location(table).c_str(),
                   report.status().message().c_str());
      exit_code = kExitFailure;
      continue;
    }
    for (const std::string& file : report->removed) {
      std::printf("%s %s\n", flags.dry_run ? "would remove" : "removed", file.c_str());
    }
    std::printf("%s: %zu orphan files %s (%llu bytes), %zu recent ones kept, %zu referenced\n",
                catalog.Location(table).c_str(), report->removed_files,
                flags.dry_run ? "would be removed" : "removed",
                static_cast<unsigned long long>(report->removed_bytes), report->kept_recent_files,
                report->referenced_files);
  }
  return exit_code;
}

void AddWarehouseOptions(CLI::App* command, WarehouseFlags& flags, bool with_table) {
  command
      ->add_option("--warehouse", flags.warehouse,
                   "The sink's URL: iceberg+file:///WAREHOUSE or "
                   "iceberg+s3://BUCKET/WAREHOUSE?endpoint=...&catalog=...")
      ->required();
  command->add_option("--data-dir", flags.data_dir,
                      "eddy's data directory (iceberg+s3:// without catalog=: the default SQL "
                      "catalog is DATA_DIR/iceberg/<sink>.db)");
  command->add_option("--sink", flags.sink,
                      "The sink's name, for the default SQL catalog's file (default: the name "
                      "`eddy run --sink URL` gives, iceberg-s3-1)");
  if (with_table) {
    command->add_option("--table", flags.table,
                        "Only this table: namespace.table (database.schema.table for "
                        "PostgreSQL sources, database.table for MySQL); default: every table");
  }
}

}  // namespace

void RegisterLakeCommand(CLI::App& app, CommandRunner& runner) {
  auto* lake = app.add_subcommand("lake", "Maintain the Iceberg tables the Iceberg sink writes");
  lake->require_subcommand(1);

  auto expire_flags = std::make_shared<LakeFlags>();
  auto* expire = lake->add_subcommand(
      "expire",
      "Expire every table's snapshots older than a duration and delete the files only they "
      "referenced (main's current snapshot is always kept); safe while the sink writes");
  AddWarehouseOptions(expire, expire_flags->where, /*with_table=*/false);
  expire->add_option("--older-than", expire_flags->older_than, "7d, 12h, 30m, or seconds")
      ->required();
  expire->callback(
      [&runner, expire_flags] { runner = [expire_flags] { return Expire(*expire_flags); }; });

  auto compact_flags = std::make_shared<LakeFlags>();
  auto* compact = lake->add_subcommand(
      "compact",
      "Rewrite each table's data and delete files into fresh data files (a replace snapshot "
      "with no delete files, equal rows); safe while the sink writes");
  AddWarehouseOptions(compact, compact_flags->where, /*with_table=*/true);
  compact->add_option("--target-file-size", compact_flags->target_file_size,
                      "Start a new data file once one reaches this size: 512MB (default), "
                      "1GB, or bytes");
  compact->callback(
      [&runner, compact_flags] { runner = [compact_flags] { return Compact(*compact_flags); }; });

  auto orphan_flags = std::make_shared<LakeFlags>();
  auto* orphans = lake->add_subcommand(
      "remove-orphans",
      "Delete the files in each table's data/ and metadata/ folders that no snapshot "
      "references (left by failed commits), older than a safety age");
  AddWarehouseOptions(orphans, orphan_flags->where, /*with_table=*/true);
  orphans->add_option("--older-than", orphan_flags->older_than,
                      "Safety age: only files last modified longer ago go (default 3d; longer "
                      "than any commit takes)");
  orphans->add_flag("--dry-run", orphan_flags->dry_run, "List what would be removed");
  orphans->callback([&runner, orphan_flags] {
    runner = [orphan_flags] { return RemoveOrphans(*orphan_flags); };
  });
}

}  // namespace eddy::app
