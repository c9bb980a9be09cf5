// What the eddy binary is: its version and the git commit it was built from, for
// `eddy version` and the eddy_build_info metric.
#pragma once

#include <string>

namespace eddy::app {

// The abbreviated git commit the binary was built from; empty outside a git checkout.
std::string BuildCommit();

// Registers eddy_build_info{version,commit} = 1 in the process metrics registry
// (docs/operations/metrics.md). Call once at startup.
void RegisterBuildInfo();

}  // namespace eddy::app
