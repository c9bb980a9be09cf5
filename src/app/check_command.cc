// `eddy check --source URL`: reports every prerequisite for capture, each failing line saying
// what is wrong and the exact setting or SQL that fixes it. Exit 0 exactly when capture can
// start; 1 when a prerequisite fails or the server cannot be reached; 2 for a malformed URL.
#include <cstdio>

#include "app/commands.h"
#include "source/prerequisites.h"

namespace eddy::app {
namespace {

struct CheckFlags {
  std::string source;
  std::string publication;
  std::string tables;
};

int Check(const CheckFlags& flags) {
  source::CheckOptions options;
  options.publication = flags.publication;
  size_t start = 0;
  while (start < flags.tables.size()) {
    size_t comma = flags.tables.find(',', start);
    if (comma == std::string::npos) comma = flags.tables.size();
    if (comma > start) options.tables.push_back(flags.tables.substr(start, comma - start));
    start = comma + 1;
  }
  auto report = source::CheckSource(flags.source, options);
  if (!report.ok()) {
    std::fprintf(stderr, "eddy check: %s\n", report.status().message().c_str());
    return report.status().code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  std::fputs(report->ToText().c_str(), stdout);
  return report->CanCapture() ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterCheckCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<CheckFlags>();
  auto* command = app.add_subcommand(
      "check", "Check that a database is ready for capture; exit 0 only when it is");
  command->add_option("--source", flags->source,
                      "postgresql://user:pass@host:port/db or mysql://user:pass@host:port/db")
      ->required();
  command->add_option("--publication", flags->publication,
                      "PostgreSQL: also check this publication");
  command->add_option("--tables", flags->tables, "Only check these tables: a.b,c.d");
  command->callback([&runner, flags] {
    runner = [flags] { return Check(*flags); };
  });
}

}  // namespace eddy::app
