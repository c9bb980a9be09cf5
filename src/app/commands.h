// The eddy command line: each subcommand registers its flags on the CLI11 app and returns the
// function that runs it. Exit codes: 0 success, 1 the command failed (the message says why),
// 2 usage error (bad flags or configuration).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace eddy::app {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using CommandRunner = std::function<int()>;

// Each Register* adds a subcommand to `app` and stores its runner in `runner` when parsed.
void RegisterVersionCommand(CLI::App& app, CommandRunner& runner);
void RegisterRunCommand(CLI::App& app, CommandRunner& runner);
void RegisterTailCommand(CLI::App& app, CommandRunner& runner);
void RegisterLogCommand(CLI::App& app, CommandRunner& runner);
void RegisterCheckCommand(CLI::App& app, CommandRunner& runner);
void RegisterServeCommand(CLI::App& app, CommandRunner& runner);
void RegisterDemoCommand(CLI::App& app, CommandRunner& runner);
void RegisterStatusCommand(CLI::App& app, CommandRunner& runner);
void RegisterSinkCommand(CLI::App& app, CommandRunner& runner);
void RegisterValidateCommand(CLI::App& app, CommandRunner& runner);
void RegisterSnapshotCommand(CLI::App& app, CommandRunner& runner);
void RegisterLakeCommand(CLI::App& app, CommandRunner& runner);

}  // namespace eddy::app
