#!/usr/bin/env bash
# Installs everything eddy needs to build, run its demo and run its tests on Debian 12.
# Idempotent: packages already present are left alone; safe to run again.
# Every dependency comes from Debian's archive; node packages for the e2e clients come from
# tests/e2e/package-lock.json via `npm ci`.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

PACKAGES=(
  # build
  build-essential g++ cmake ninja-build pkg-config git lld
  # libraries eddy links
  libpq-dev libmariadb-dev libssl-dev librdkafka-dev libnghttp2-dev libsimdjson-dev
  libzstd-dev libsnappy-dev zlib1g-dev libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev prometheus-cpp-dev
  # the Iceberg SQL catalog (src/iceberg/sql_catalog.h)
  libsqlite3-dev
  # real peers for integration and e2e tests
  postgresql-15 postgresql-client-15 mariadb-server mariadb-client
  python3 python3-boto3 python3-confluent-kafka awscli kcat nodejs
  # promtool (checks the /metrics output); the server it ships is never started
  prometheus
  # the browser the web console test drives headless (through playwright-core from npm)
  chromium
  # tooling
  clang-format procps
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps.sh: installing ${missing[*]}"
  # Package install scripts must not start system-wide database servers: tests start their own
  # throwaway instances. policy-rc.d answering 101 tells invoke-rc.d "not allowed".
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || apt-get update
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((created_policy)); then rm -f "$policy"; fi
fi

# npm is shipped with the nodejs package on some images and separately on others.
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi

# The e2e test clients (AWS SDK for JavaScript, ...) pinned by the lock file.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -f $root/tests/e2e/package-lock.json ]]; then
  if [[ ! -d $root/tests/e2e/node_modules ]] || [[ $root/tests/e2e/package-lock.json -nt $root/tests/e2e/node_modules ]]; then
    (cd "$root/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$root/tests/e2e/node_modules"
  fi
fi
echo "install-deps.sh: all dependencies present"
