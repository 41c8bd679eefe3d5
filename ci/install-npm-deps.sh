#!/usr/bin/env bash
# Installs the npm packages the tests use (exact versions from the lock
# files): playwright-core for the review browser test, which drives Debian's
# chromium (installed by ci/install-deps.sh). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --prefix tests/e2e/review_browser
