// eddy: change-data-capture engine. See README.md and `eddy --help`.
#include <cstdio>
#include <iostream>

#include "app/build_info.h"
#include "app/commands.h"
#include "base/allocator_tuning.h"

int main(int argc, char** argv) {
  // Before any thread starts (base/allocator_tuning.h says why).
  (void)eddy::TuneAllocator();
  CLI::App app{
      "eddy: change-data-capture from PostgreSQL and MySQL/MariaDB into a durable change log,\n"
      "served through Kinesis- and DynamoDB-Streams-compatible APIs.",
      "eddy"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(EDDY_VERSION));
  eddy::app::CommandRunner runner;
  eddy::app::RegisterVersionCommand(app, runner);
  eddy::app::RegisterCheckCommand(app, runner);
  eddy::app::RegisterRunCommand(app, runner);
  eddy::app::RegisterTailCommand(app, runner);
  eddy::app::RegisterServeCommand(app, runner);
  eddy::app::RegisterDemoCommand(app, runner);
  eddy::app::RegisterStatusCommand(app, runner);
  eddy::app::RegisterSinkCommand(app, runner);
  eddy::app::RegisterSnapshotCommand(app, runner);
  eddy::app::RegisterLogCommand(app, runner);
  eddy::app::RegisterValidateCommand(app, runner);
  eddy::app::RegisterLakeCommand(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return eddy::app::kExitUsage;
  }
  if (!runner) return eddy::app::kExitUsage;
  eddy::app::RegisterBuildInfo();
  return runner();
}
