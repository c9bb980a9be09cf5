#include <cstdio>

#include "app/build_info.h"
#include "app/commands.h"

namespace eddy::app {

void RegisterVersionCommand(CLI::App& app, CommandRunner& runner) {
  auto* command = app.add_subcommand("version", "Print eddy's version");
  command->callback([&runner] {
    runner = [] {
      std::string commit = BuildCommit();
      std::printf("eddy %s%s%s\n", EDDY_VERSION, commit.empty() ? "" : " commit ", commit.c_str());
      return kExitOk;
    };
  });
}

}  // namespace eddy::app
