#!/usr/bin/env bash
# Every test: installs dependencies, builds with warnings as errors, runs ctest
# (unit tests, each scorer's tests, the JSON-Schema suite, the scorer
# measurements on ../shared/data, and the end-to-end tests of the binary,
# including the OTLP and browser ones that need npm packages: ci/install-npm.sh),
# then the fuzz targets for a bounded time each (ci/fuzz.sh, clang, in build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh
bash ci/install-npm.sh   # npm packages of the OTLP and review-browser e2e tests
cd build
ctest --output-on-failure --timeout 900 -j2   # most tests wait on sockets and processes
cd ..
bash ci/fuzz.sh --seconds "${ASSAY_FUZZ_SECONDS:-20}"
