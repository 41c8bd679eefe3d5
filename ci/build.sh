#!/usr/bin/env bash
# Installs the Debian packages, configures and builds Assay into build/
# (warnings on, and fatal). Usage: ci/build.sh [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASSAY_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
