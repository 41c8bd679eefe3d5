#!/usr/bin/env bash
# Installs every Debian 12 package Assay needs to build, test and benchmark;
# with --build-only, only what configuring and building needs (ci/demo.sh).
# Idempotent: packages already present are skipped, and apt-get update runs
# only when something is missing.
set -euo pipefail

# What `cmake` finds and the compilers need (python3 also runs ci/demo.sh's
# metrics excerpt).
PACKAGES=(
  build-essential cmake pkg-config git python3 clang-format
  libcurl4-openssl-dev nlohmann-json3-dev
  libzmq3-dev cppzmq-dev
  libsqlite3-dev sqlite3
  libre2-dev libspdlog-dev libfmt-dev doctest-dev
  libyaml-cpp-dev libcli11-dev libcpp-httplib-dev libmicrohttpd-dev
  libvalijson-dev libssl-dev zlib1g-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libpq-dev
  libgoogle-perftools-dev
)
if [ "${1:-}" != "--build-only" ]; then
  # What only the tests use: the JSON-Schema suite, pyzmq, promtool, the browser,
  # clang with libFuzzer and the sanitizer runtimes (ci/fuzz.sh), and the
  # PostgreSQL server the store tests start privately (tests/support/pg_server.py).
  PACKAGES+=(
    postgresql
    json-schema-test-suite
    python3-zmq python3-grpcio
    prometheus
    chromium
    clang libclang-rt-14-dev
  )
  # Node.js and npm for the e2e tests' npm packages (ci/install-npm.sh): Debian's
  # nodejs and npm, unless the machine already has a node and an npm (a
  # NodeSource nodejs bundles npm and conflicts with Debian's npm package).
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PACKAGES+=(nodejs npm)
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
