#!/usr/bin/env bash
# Installs the npm packages of the OTLP end-to-end test (the real
# OpenTelemetry JS SDK, pinned by tests/e2e/otlp_js/package-lock.json) into
# tests/e2e/otlp_js/node_modules with `npm ci`. Needs node and npm (Debian
# packages nodejs and npm, installed by ci/install-deps.sh) and the npm
# registry. Skips the install when node_modules is newer than the lock file.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e/otlp_js"
if [ -d node_modules/@opentelemetry/sdk-trace-base ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "install-npm: tests/e2e/otlp_js is up to date"
  exit 0
fi
npm ci --no-audit --no-fund
