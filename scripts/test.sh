#!/usr/bin/env bash
# Sets up everything and runs every eddy test: unit, integration (real PostgreSQL 15 and
# MariaDB 10.11 started in temporary directories) and e2e (real client programs).
#
#   scripts/test.sh [--preset dev|debug|release] [-L label] [extra ctest args]
#
# The default preset is `dev` (warnings as errors). `--preset debug` runs the same tests under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

preset=dev
if [[ ${1:-} == --preset ]]; then
  preset=$2
  shift 2
fi

bash scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
# Integration tests start database servers; two at a time keeps a 2-core machine responsive.
ctest --preset "$preset" -j 2 --timeout 600 "$@"
