#include <cstdio>

#include "app/commands.h"

namespace eddy::app {

void RegisterVersionCommand(CLI::App& app, CommandRunner& runner) {
  auto* command = app.add_subcommand("version", "Print eddy's version");
  command->callback([&runner] {
    runner = [] {
      std::printf("eddy %s\n", EDDY_VERSION);
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
