// Child processes for the local database servers: fork/exec as an optional other user, output
// to a log file, and a guarantee that the child never outlives the thread that started it.
//
// Why not posix_spawn: we must drop privileges (setgid/setuid) and then set
// PR_SET_PDEATHSIG, in that order, because the kernel clears the parent-death signal on any
// credential change. Between fork and exec the child calls only async-signal-safe functions,
// so starting a child from a multithreaded process is safe.
//
// Caveat: Linux delivers the parent-death signal when the *thread* that forked exits, not the
// process. Start servers from a thread that lives as long as them (main, or the owner's).
//
// Thread safety: one ChildProcess is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace eddy::localdb {

// Credentials a child runs under. Empty when the child keeps ours.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The credentials of a system user ("postgres", "mysql"), or an error naming it.
Result<RunAs> LookUpUser(const std::string& name);

struct ChildOptions {
  std::vector<std::string> argv;   // argv[0] is the program path
  std::vector<std::string> env;    // extra NAME=value entries added to our environment
  std::string log_path;            // stdout and stderr go here (appended); /dev/null if empty
  std::optional<RunAs> run_as;     // switch to this user before exec (needs root)
  int death_signal = 9;            // sent to the child when the starting thread dies
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  static Result<ChildProcess> Start(const ChildOptions& options);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Non-blocking: the exit status (as from waitpid) if the child has exited, reaping it.
  std::optional<int> TryWait();

  // Sends `signal`, then waits up to `timeout` for exit; SIGKILLs after that. Returns the wait
  // status. A no-op returning 0 when nothing runs.
  int Stop(int signal, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
};

// Runs a program to completion (initdb, mariadb-install-db) with a deadline. OK only on exit
// status 0; otherwise the error carries the last lines of its log.
Status RunToCompletion(const ChildOptions& options, std::chrono::milliseconds timeout);

// "exit status 1", "killed by signal 9".
std::string DescribeWaitStatus(int status);

// The last `max_lines` lines of a text file ("" when unreadable); for error messages.
std::string TailOfFile(const std::string& path, int max_lines);

// The first `max_lines` lines of a text file that mention ERROR or FATAL; for error messages.
std::string ErrorLinesOfFile(const std::string& path, int max_lines);

}  // namespace eddy::localdb
