#include "localdb/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

extern char** environ;

namespace eddy::localdb {

Result<RunAs> LookUpUser(const std::string& name) {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  int rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return NotFound("system user '" + name +
                    "' does not exist; install the Debian package that creates it "
                    "(postgresql-15 creates 'postgres', mariadb-server creates 'mysql')");
  }
  return RunAs{found->pw_uid, found->pw_gid};
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(SIGKILL, std::chrono::milliseconds(5000));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) Stop(SIGKILL, std::chrono::milliseconds(5000));
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

Result<ChildProcess> ChildProcess::Start(const ChildOptions& options) {
  if (options.argv.empty()) return InvalidArgument("child process needs a program");
  // Everything the child touches is prepared before fork: after fork only async-signal-safe
  // calls are allowed.
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) env_storage.emplace_back(*entry);
  for (const std::string& entry : options.env) env_storage.push_back(entry);
  std::vector<char*> envp;
  for (const std::string& entry : env_storage) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string log_path = options.log_path.empty() ? "/dev/null" : options.log_path;
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return IoError("cannot open child log " + log_path + ": " + std::strerror(errno));
  }
  if (options.run_as.has_value() && fchown(log_fd, options.run_as->uid, options.run_as->gid) != 0) {
    close(log_fd);
    return IoError("cannot chown child log " + log_path + ": " + std::strerror(errno));
  }
  const pid_t parent = getpid();
  const int death_signal = options.death_signal;
  const std::optional<RunAs> run_as = options.run_as;

  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    close(log_fd);
    return IoError(std::string("fork failed: ") + std::strerror(error));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    // Our own process group, so a terminal's Ctrl-C reaches only us; we stop the child.
    setpgid(0, 0);
    if (run_as.has_value()) {
      if (setgroups(0, nullptr) != 0 || setgid(run_as->gid) != 0 || setuid(run_as->uid) != 0) {
        static const char kMessage[] = "localdb: cannot switch user\n";
        (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
        _exit(126);
      }
    }
    // After the credential change: the kernel clears the death signal on setuid.
    prctl(PR_SET_PDEATHSIG, death_signal);
    if (getppid() != parent) _exit(125);  // the parent died before prctl took effect
    execve(argv[0], argv.data(), envp.data());
    static const char kMessage[] = "localdb: exec failed\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(127);
  }
  close(log_fd);
  ChildProcess child;
  child.pid_ = pid;
  return child;
}

std::optional<int> ChildProcess::TryWait() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t rc = waitpid(pid_, &status, WNOHANG);
  if (rc == pid_ || (rc < 0 && errno == ECHILD)) {
    pid_ = -1;
    return status;
  }
  return std::nullopt;
}

int ChildProcess::Stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Waiting on a condition (the child's exit) with a deadline; waitpid has no timeout, so poll.
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> status = TryWait()) return *status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::string TailOfFile(const std::string& path, int max_lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const std::string& kept : lines) {
    if (!out.empty()) out += "\n";
    out += kept;
  }
  return out;
}

std::string ErrorLinesOfFile(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::string out;
  std::string line;
  int kept = 0;
  while (kept < max_lines && std::getline(in, line)) {
    if (line.find("ERROR") == std::string::npos && line.find("[ERROR]") == std::string::npos &&
        line.find("FATAL") == std::string::npos) {
      continue;
    }
    if (!out.empty()) out += "\n";
    out += line;
    ++kept;
  }
  return out;
}

Status RunToCompletion(const ChildOptions& options, std::chrono::milliseconds timeout) {
  EDDY_ASSIGN_OR_RETURN(ChildProcess child, ChildProcess::Start(options));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::optional<int> status = child.TryWait()) {
      if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return Status::Ok();
      std::string errors = ErrorLinesOfFile(options.log_path, 10);
      return Internal(options.argv[0] + " failed (" + DescribeWaitStatus(*status) + "); " +
                      (errors.empty() ? "" : "its errors:\n" + errors + "\n") +
                      "its output ends with:\n" + TailOfFile(options.log_path, 15));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  child.Stop(SIGKILL, std::chrono::milliseconds(2000));
  return Timeout(options.argv[0] + " did not finish within " +
                 std::to_string(timeout.count()) + " ms; its output ends with:\n" +
                 TailOfFile(options.log_path, 15));
}

}  // namespace eddy::localdb
