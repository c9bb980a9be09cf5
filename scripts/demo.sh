#!/usr/bin/env bash
# Sets up everything, builds eddy and runs its main job: `eddy demo` (throwaway PostgreSQL and
# MariaDB, a sample workload, capture into eddy's log, the stream API on 127.0.0.1).
# Stop it with Ctrl-C; it cleans up everything it started.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target eddy
exec ./build/release/src/app/eddy demo "$@"
