// eddy-localdb: start a throwaway PostgreSQL or MariaDB for scripts. Prints the server's URL on
// stdout once it accepts connections and stays in the foreground; SIGTERM or SIGINT stops the
// server and deletes its directory. See src/localdb/README.md.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/logging.h"
#include "localdb/local_mariadb.h"
#include "localdb/local_postgres.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "eddy-localdb: " << message << "\n";
  return 1;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"eddy-localdb: throwaway PostgreSQL 15 / MariaDB 10.11 servers for tests and "
               "scripts"};
  app.require_subcommand(1);
  CLI::App* start = app.add_subcommand(
      "start", "start a server, print its URL, run until SIGTERM/SIGINT, then stop and clean up");
  std::string kind;
  std::string dir;
  std::string url_file;
  std::string log_level = "warn";
  bool capture_user = false;
  bool no_log_bin = false;
  std::vector<std::string> settings;
  start->add_option("kind", kind, "postgres or mariadb")
      ->required()
      ->check(CLI::IsMember({"postgres", "postgresql", "mariadb", "mysql"}));
  start->add_option("--dir", dir,
                    "directory for the server (new or empty; deleted on stop); default a fresh "
                    "temp dir");
  start->add_option("--url-file", url_file,
                    "also write the URL to this file (atomically, once the server is ready)");
  start->add_flag("--capture-user", capture_user,
                  "also create the user eddy_capture/capture with capture privileges and print "
                  "its URL on a second line");
  start->add_option("--set", settings,
                    "server setting NAME=VALUE, repeatable, applied last (postgres: -c NAME=VALUE, "
                    "e.g. wal_level=replica; mariadb: --NAME=VALUE, e.g. binlog_format=STATEMENT)");
  start->add_flag("--no-log-bin", no_log_bin, "mariadb: start without the binary log");
  start->add_option("--log-level", log_level, "trace, debug, info, warn, error, off");
  CLI11_PARSE(app, argc, argv);
  if (!eddy::logging::Configure(log_level, eddy::logging::Format::kText)) {
    return Fail("unknown log level " + log_level);
  }

  // Block the stop signals before starting children so they arrive only through sigwaitinfo.
  // SIGCHLD tells us the server died on its own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<eddy::localdb::LocalPostgres> postgres;
  std::unique_ptr<eddy::localdb::LocalMariadb> mariadb;
  std::string url;
  std::string capture_url;
  pid_t server_pid = -1;
  if (kind == "postgres" || kind == "postgresql") {
    eddy::localdb::LocalPostgresOptions options;
    options.dir = dir;
    for (const std::string& setting : settings) {
      const size_t equals = setting.find('=');
      if (equals == std::string::npos || equals == 0) {
        return Fail("--set needs NAME=VALUE, got '" + setting + "'");
      }
      options.settings.emplace_back(setting.substr(0, equals), setting.substr(equals + 1));
    }
    auto started = eddy::localdb::LocalPostgres::Start(options);
    if (!started.ok()) return Fail(started.status().ToString());
    postgres = std::move(*started);
    url = postgres->Url();
    server_pid = postgres->pid();
    if (capture_user) {
      auto created = postgres->CreateCaptureUser();
      if (!created.ok()) return Fail(created.status().ToString());
      capture_url = *created;
    }
  } else {
    eddy::localdb::LocalMariadbOptions options;
    options.dir = dir;
    options.log_bin = !no_log_bin;
    for (const std::string& setting : settings) {
      const size_t equals = setting.find('=');
      if (equals == std::string::npos || equals == 0) {
        return Fail("--set needs NAME=VALUE, got '" + setting + "'");
      }
      options.extra_arguments.push_back("--" + setting);
    }
    auto started = eddy::localdb::LocalMariadb::Start(options);
    if (!started.ok()) return Fail(started.status().ToString());
    mariadb = std::move(*started);
    url = mariadb->Url();
    server_pid = mariadb->pid();
    if (capture_user) {
      auto created = mariadb->CreateCaptureUser();
      if (!created.ok()) return Fail(created.status().ToString());
      capture_url = *created;
    }
  }
  std::cout << url << "\n";
  if (!capture_url.empty()) std::cout << capture_url << "\n";
  std::cout.flush();
  if (!url_file.empty() && !WriteFileAtomically(url_file, url + "\n")) {
    return Fail("cannot write " + url_file);
  }

  int exit_code = 0;
  while (true) {
    siginfo_t info{};
    int signal_number = sigwaitinfo(&signals, &info);
    if (signal_number < 0) continue;  // EINTR
    if (signal_number == SIGCHLD) {
      if (info.si_pid != server_pid) continue;
      std::cerr << "eddy-localdb: the server (pid " << server_pid << ") exited unexpectedly\n";
      exit_code = 1;
    }
    break;
  }
  eddy::Status stopped = postgres ? postgres->Stop() : mariadb->Stop();
  if (!stopped.ok()) return Fail(stopped.ToString());
  if (!url_file.empty()) std::remove(url_file.c_str());
  return exit_code;
}
