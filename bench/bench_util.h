// Small pieces the C++ benchmark programs share: --name=value flags, a fatal check of a Status,
// and a figure of /proc/self/status. Benchmarks only (not a library of eddy); single-threaded
// use from main.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "base/status.h"

namespace eddy::bench {

// The value of --name=N, or `fallback` when absent.
inline long Flag(int argc, char** argv, const char* name, long fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::strtol(argv[i] + prefix.size(), nullptr, 10);
    }
  }
  return fallback;
}

// The value of --name=TEXT, or `fallback` when absent.
inline std::string StringFlag(int argc, char** argv, const char* name, std::string fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

// Prints "what: status" and exits 1 when `status` is an error.
inline void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// The kB figure of a /proc/self/status line (`field` with its colon: "VmHWM:", "VmRSS:"), or -1.
inline long ProcStatusKb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  size_t length = std::strlen(field);
  while (std::getline(status, line)) {
    if (line.compare(0, length, field) == 0) return std::strtol(line.c_str() + length, nullptr, 10);
  }
  return -1;
}

}  // namespace eddy::bench
