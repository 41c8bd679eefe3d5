#!/usr/bin/env bash
# The main job on bundled sample traffic: builds Assay, scores the 2,000 demo
# traces from datasets/demo/ into a fresh SQLite store (demo.db) with the
# example config, and shows the worst traces for a few scorers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh
rm -f demo.db demo.db-wal demo.db-shm
./build/assay score --config assay.example.yaml --db demo.db --in datasets/demo/traces.jsonl
for scorer in invoice_schema refusal pii; do
  echo
  ./build/assay bottom --db demo.db --scorer "$scorer" --limit 3
done
echo "The store is demo.db: try  ./build/assay bottom --db demo.db --scorer json  or  sqlite3 demo.db"
