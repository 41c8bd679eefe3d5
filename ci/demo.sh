#!/usr/bin/env bash
# The main job on bundled sample traffic: builds the `assay` binary only (no
# tests, benchmarks or fake provider; ci/test.sh builds those), starts
# `assay worker` (SQLite store demo.db, the example config) on loopback, sends
# it the 2,000 demo traces of datasets/demo/ over the acknowledged ZeroMQ
# socket with `assay push`, shows the worker's metrics, stops it with SIGTERM
# (it drains and exits 0), and shows the worst traces for a few scorers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh --target assay
rm -f demo.db demo.db-wal demo.db-shm
out=$(mktemp)
trap 'rm -f "$out"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true' EXIT
./build/assay worker --config assay.example.yaml --db demo.db \
  --zmq-router 'tcp://127.0.0.1:*' --http-listen 127.0.0.1:0 >"$out" &
pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening' "$out" && break
  kill -0 "$pid" 2>/dev/null || { echo "demo: the worker did not start" >&2; exit 2; }
  sleep 0.1
done
cat "$out"
router=$(grep -o 'router=[^ ]*' "$out" | cut -d= -f2)
http=$(grep -o 'http=[^ ]*' "$out" | cut -d= -f2)
./build/assay push --endpoint "$router" --in datasets/demo/traces.jsonl
echo
echo "--- http://$http/metrics (excerpt)"
python3 - "$http" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=5).read().decode()
for line in text.splitlines():
    if line.startswith(("assay_traces_", "assay_decisions_total")) and not line.endswith(" 0"):
        print(line)
EOF
kill -TERM "$pid"
wait "$pid"
pid=
echo "worker drained and stopped"
for scorer in invoice_schema refusal pii; do
  echo
  ./build/assay bottom --db demo.db --scorer "$scorer" --limit 3
done
echo "The store is demo.db: try  ./build/assay bottom --db demo.db --scorer json  or  sqlite3 demo.db"
