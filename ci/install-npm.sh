#!/usr/bin/env bash
# Installs the npm packages the end-to-end tests use, at the exact versions of
# their lock files, with `npm ci` (node and npm are Debian's nodejs and npm,
# installed by ci/install-deps.sh; the packages come from the npm registry):
#   tests/e2e/otlp_js         the real OpenTelemetry JS SDK (test_otlp_e2e.py)
#   tests/e2e/review_browser  playwright-core, driving Debian's chromium, and axe-core
#                             (test_review_browser)
# A folder whose node_modules is newer than its lock file is left alone.
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e"
for dir in otlp_js review_browser; do
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    echo "install-npm: tests/e2e/$dir is up to date"
    continue
  fi
  (cd "$dir" && npm ci --no-audit --no-fund)
done
