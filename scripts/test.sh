#!/usr/bin/env bash
# Sets up everything and runs every eddy test: unit, integration (real PostgreSQL 15 and
# MariaDB 10.11 started in temporary directories) and e2e (real client programs).
#
#   scripts/test.sh                      # every test under the `dev` preset (warnings as
#                                        # errors); the unit and integration tests again under
#                                        # `debug` (AddressSanitizer + UBSan: the suites that
#                                        # drive eddy's code in-process, fuzz replays included);
#                                        # then the unit tests of the concurrency-heavy modules
#                                        # (log, consume, sinks) under `tsan` (ThreadSanitizer).
#                                        # The e2e suite drives the dev binary with real clients.
#   scripts/test.sh --preset dev|debug|tsan|release [extra ctest args, e.g. -L unit]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

presets=(dev debug tsan)
if [[ ${1:-} == --preset ]]; then
  presets=("$2")
  shift 2
fi

bash scripts/install-deps.sh
for preset in "${presets[@]}"; do
  echo "== eddy tests, preset $preset =="
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$(nproc)"
  # Integration tests start database servers; two at a time keeps a 2-core machine responsive.
  suites=()
  if [[ $preset == debug && $# -eq 0 ]]; then suites=(-LE e2e); fi
  ctest --preset "$preset" -j 2 --timeout 600 "${suites[@]}" "$@"
done
