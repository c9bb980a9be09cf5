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
#
# With all three presets, the next preset builds (at the lowest CPU priority) while the
# current preset's tests run: much of a test's time is spent waiting on database servers and
# client programs, and the build uses those idle cycles. EDDY_TEST_SERIAL=1 turns this off.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

presets=(dev debug tsan)
explicit=0
if [[ ${1:-} == --preset ]]; then
  presets=("$2")
  explicit=1
  shift 2
fi

bash scripts/install-deps.sh

build_log_dir=$(mktemp -d)
background_pid=""
background_preset=""
cleanup() {
  # A failing test run stops the script; a build still running behind it stops with it.
  if [[ -n $background_pid ]]; then kill -- -"$background_pid" 2>/dev/null || true; fi
  rm -rf "$build_log_dir"
}
trap cleanup EXIT

configure_and_build() {  # preset
  cmake --preset "$1" > "$build_log_dir/$1.configure.log" 2>&1 ||
    { cat "$build_log_dir/$1.configure.log"; return 1; }
  cmake --build --preset "$1" -j "$(nproc)"
}

# Starts building `preset` in the background; its output goes to a log printed when waited on.
start_background_build() {  # preset
  background_preset=$1
  (exec setsid nice -n 19 bash -c "$(declare -f configure_and_build); build_log_dir='$build_log_dir'; \
    configure_and_build '$1'") > "$build_log_dir/$1.build.log" 2>&1 &
  background_pid=$!
}
wait_background_build() {
  local status=0
  wait "$background_pid" || status=$?
  background_pid=""
  echo "== build of preset $background_preset (ran in the background) =="
  tail -n 40 "$build_log_dir/$background_preset.build.log"
  if ((status != 0)); then
    echo "the build of preset $background_preset failed (the last 40 lines of its log are above)" >&2
    return "$status"
  fi
}

pipelined=0
if ((explicit == 0)) && [[ ${EDDY_TEST_SERIAL:-0} != 1 ]]; then pipelined=1; fi

for i in "${!presets[@]}"; do
  preset=${presets[$i]}
  echo "== eddy tests, preset $preset =="
  if ((pipelined == 1 && i > 0)); then
    wait_background_build
  else
    configure_and_build "$preset"
  fi
  next=$((i + 1))
  if ((pipelined == 1 && next < ${#presets[@]})); then
    start_background_build "${presets[$next]}"
  fi
  # Integration tests start database servers; two at a time keeps a 2-core machine responsive.
  suites=()
  if [[ $preset == debug && $# -eq 0 ]]; then suites=(-LE e2e); fi
  ctest --preset "$preset" -j 2 --timeout 600 "${suites[@]}" "$@"
done
