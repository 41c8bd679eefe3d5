#!/usr/bin/env python3
"""End-to-end: several `assay worker` processes on one host sharing one store,
the supported multi-worker layout (README "Several workers on one host"): one
SQLite file (WAL), or with --backend postgres one database on a private
PostgreSQL server.

Two workers, each with its own ROUTER endpoint, write the same database while two
`assay push` producers send overlapping traffic to them at the same time (a third
of the trace ids go to both workers). Afterwards the store must hold every distinct
trace exactly once, with all its code decisions, nothing dead-lettered, no failed
commits, and both pushes must have exited 0 (every trace acknowledged).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, check, finish, generate,  # noqa: E402
                        on_backend)
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 200}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def start_worker(assay, cfg, db):
    return Worker(assay, ["--config", cfg, "--db", db, "--zmq-router", "tcp://127.0.0.1:*",
                          "--http-listen", "127.0.0.1:0"])


def metric(w, name):
    for line in w.metrics().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    ap = add_backend_argument(arguments())
    ap.add_argument("--n", type=int, default=30000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    db, store = backend.new_store("shared")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
        if a.backend == "sqlite":
            # SQLite only: the shared file is locked while the other worker commits.
            f.write("store: {busy_timeout_ms: 10000}\n")
    allp = os.path.join(tmp, "all.jsonl")
    generate(a.source, allp, "--n", str(a.n), "--seed", "21", check=True)
    lines = open(allp, encoding="utf-8").read().splitlines(keepends=True)
    third = len(lines) // 3
    # Worker A gets the first two thirds, worker B the last two: the middle third goes to both.
    parts = {"a": lines[: 2 * third], "b": lines[third:]}
    for name, part in parts.items():
        with open(os.path.join(tmp, name + ".jsonl"), "w", encoding="utf-8") as f:
            f.writelines(part)

    wa = start_worker(a.assay, cfg, db)
    wb = start_worker(a.assay, cfg, db)
    pushes = [subprocess.Popen([a.assay, "push", "--endpoint", w.endpoints["router"], "--in",
                                os.path.join(tmp, name + ".jsonl"), "--batch", "20", "--deadline-ms", "240000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for name, w in (("a", wa), ("b", wb))]
    outs = [p.communicate(timeout=300) for p in pushes]
    for name, p, (out, err) in zip("ab", pushes, outs):
        check(p.returncode == 0, f"push to worker {name} exits 0: every trace acknowledged "
                                 f"(rc={p.returncode}, {out.strip()!r} {err[-300:]!r})")
    failures = [metric(w, "assay_commit_failures_total") for w in (wa, wb)]
    check(failures == [0.0, 0.0], f"no failed commits on either worker ({failures})")
    codes = [w.stop(timeout=60) for w in (wa, wb)]
    check(codes == [0, 0], f"both workers drain and exit 0 on SIGTERM ({codes})")

    q = store.one
    n = len(lines)
    if a.backend == "sqlite":
        # SQLite only: WAL is how two processes share one file (PostgreSQL has no journal mode).
        check(q("PRAGMA journal_mode") == "wal", "the shared file is in WAL mode")
    check(q("SELECT count(*) FROM traces") == n, f"every distinct trace stored once ({q('SELECT count(*) FROM traces')}/{n})")
    check(q("SELECT count(DISTINCT trace_id) FROM traces") == n, "no duplicate trace ids")
    check(q("SELECT count(*) FROM scores") == n * 5, f"every trace has its 5 code decisions ({q('SELECT count(*) FROM scores')})")
    check(q("SELECT count(*) FROM (SELECT trace FROM scores GROUP BY trace HAVING count(*) != 5) AS t") == 0,
          "no trace has a missing or extra decision")
    check(q("SELECT count(*) FROM dead_letters") == 0, "nothing dead-lettered")
    return finish("all multi-worker checks passed (%s)" % a.backend)


if __name__ == "__main__":
    sys.exit(main())
