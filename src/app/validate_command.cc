// `eddy validate --source URL --target URL [--tables t1,t2] [--chunk-size N]`: compares each
// table of the source with the target's copy (row counts, per-chunk checksums computed in each
// database, then the keys that differ). Exit codes as diff(1) and cmp(1) have them: 0 only when
// every table is equal, 1 when a table differs, 2 on errors (bad URL or flag, unreachable
// server, a missing table, a table without a primary key). docs/validate.md.
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "validate/validate.h"

namespace eddy::app {
namespace {

constexpr int kExitDifferent = 1;
constexpr int kExitError = 2;

struct ValidateFlags {
  std::string source;
  std::string target;
  std::string tables;
  int64_t chunk_size = 10000;
  size_t max_keys = 100;
};

int Validate(const ValidateFlags& flags) {
  validate::ValidateOptions options;
  options.chunk_size = flags.chunk_size;
  options.max_keys_listed = flags.max_keys;
  size_t start = 0;
  while (start < flags.tables.size()) {
    size_t comma = flags.tables.find(',', start);
    if (comma == std::string::npos) comma = flags.tables.size();
    if (comma > start) options.tables.push_back(flags.tables.substr(start, comma - start));
    start = comma + 1;
  }
  auto report = validate::Validate(flags.source, flags.target, options);
  if (!report.ok()) {
    std::fprintf(stderr, "eddy validate: %s\n", report.status().message().c_str());
    return kExitError;
  }
  std::fputs(report->ToText().c_str(), stdout);
  for (const validate::TableReport& table : report->tables) {
    if (!table.error.empty()) {
      std::fprintf(stderr, "eddy validate: %s: %s\n", table.source_table.c_str(),
                   table.error.c_str());
    }
  }
  if (report->has_errors()) return kExitError;
  return report->equal() ? kExitOk : kExitDifferent;
}

}  // namespace

void RegisterValidateCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<ValidateFlags>();
  auto* command = app.add_subcommand(
      "validate",
      "Compare tables of a source and a target database (row counts, per-chunk checksums, the "
      "keys that differ); exit 0 only when equal, 1 on differences, 2 on errors");
  command
      ->add_option("--source", flags->source,
                   "postgresql://user:pass@host:port/db[?schema=S] or "
                   "mysql://user:pass@host:port/db")
      ->required();
  command->add_option("--target", flags->target, "the copy to check, same URL forms")->required();
  command->add_option("--tables", flags->tables,
                      "Only these tables: t1,t2 (default: every table of the source schema or "
                      "database)");
  command->add_option("--chunk-size", flags->chunk_size, "Rows per checksum chunk")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  command->add_option("--max-keys", flags->max_keys,
                      "List at most this many keys per table and kind of difference");
  command->callback([&runner, flags] { runner = [flags] { return Validate(*flags); }; });
}

}  // namespace eddy::app
