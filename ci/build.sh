#!/usr/bin/env bash
# Installs the Debian packages, configures and builds Assay into build/
# (warnings on, and fatal).
#   ci/build.sh [extra cmake args...]                  every target, and every
#                                                       package the tests need
#   ci/build.sh --target NAME [--target NAME]... [...]  only those targets, and
#                                                       only the build packages
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
cmake_args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--target" ] && [ $# -ge 2 ]; then
    targets+=(--target "$2")
    shift 2
  else
    cmake_args+=("$1")
    shift
  fi
done
if [ ${#targets[@]} -gt 0 ]; then
  bash ci/install-deps.sh --build-only
else
  bash ci/install-deps.sh
fi
# -g1 (line tables: backtraces and sanitizer reports keep file:line) instead
# of -g: a quarter less compile time, no variable-level debug info.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DASSAY_WERROR=ON "${cmake_args[@]}" >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"
