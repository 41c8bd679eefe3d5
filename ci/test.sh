#!/usr/bin/env bash
# Every test: installs dependencies, builds with warnings as errors, runs ctest
# (unit tests, each scorer's tests, the JSON-Schema suite, the scorer
# measurements on ../shared/data, and the end-to-end tests of the binary,
# including the OTLP one that needs the npm packages of tests/e2e/otlp_js).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh
bash ci/install-npm.sh   # the OpenTelemetry JS SDK for tests/e2e/test_otlp_e2e.py
cd build
ctest --output-on-failure --timeout 900
