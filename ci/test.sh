#!/usr/bin/env bash
# Every test: installs dependencies, builds with warnings as errors, runs ctest
# (unit tests, each scorer's tests, the JSON-Schema suite, the scorer
# measurements on ../shared/data, and the end-to-end tests of the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh
bash ci/install-npm-deps.sh
cd build
ctest --output-on-failure --timeout 900
