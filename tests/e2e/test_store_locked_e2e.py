#!/usr/bin/env python3
"""Regression test (issue "Servers that hold against hostile clients", item 7):
a worker that cannot get the SQLite write lock keeps retrying with back-off,
acknowledges nothing and reports not ready meanwhile, and carries on when the
lock is free (it used to give up and exit after about 35 s of retries; here
store.busy_timeout_ms is 200 so that the old give-up came after ~4 s).

Another process holds the store's write lock (BEGIN IMMEDIATE) for 8 s while
`assay push` sends 50 traces: no ack arrives while it is held, /readyz
answers 503 and /metrics shows assay_store_blocked 1; after the release every
trace is committed and acknowledged, /readyz is 200 again, and the worker
drains and exits 0 on SIGTERM."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from e2e_common import Worker, arguments, check, finish, generate, query_one

a = arguments().parse_args()


def status(url):
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code


with tempfile.TemporaryDirectory(prefix="assay-locked-") as tmp:
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write("store: {busy_timeout_ms: 200}\nworker: {flush_ms: 20}\n"
                "scorers:\n  - {name: refusal, type: refusal}\n")
    db = os.path.join(tmp, "w.db")
    traces = os.path.join(tmp, "t.jsonl")
    generate(a.source, traces, "--n", "50", "--seed", "11", check=True)
    w = Worker(a.assay, ["--config", cfg, "--db", db, "--zmq-router", "tcp://127.0.0.1:*",
                         "--http-listen", "127.0.0.1:0"], need=("router", "http"))
    try:
        http = "http://" + w.endpoints["http"]
        check(status(http + "/readyz") == 200, "ready before the lock is taken")
        holder = sqlite3.connect(db, timeout=10, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        push = subprocess.Popen([a.assay, "push", "--endpoint", w.endpoints["router"], "--in", traces,
                                 "--batch", "10", "--deadline-ms", "60000"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        ready_blocked = status(http + "/readyz")
        blocked_metric = "assay_store_blocked 1" in w.metrics()
        time.sleep(5)  # 8 s in all: past the old give-up
        check(w.p.poll() is None, "the worker is still running while the lock is held")
        check(push.poll() is None, "nothing is acknowledged while the lock is held")
        check(ready_blocked == 503, "/readyz answers 503 while the store is locked (%s)" % ready_blocked)
        check(blocked_metric, "/metrics shows assay_store_blocked 1")
        holder.execute("ROLLBACK")
        holder.close()
        out, err = push.communicate(timeout=60)
        check(push.returncode == 0, "push completes once the lock is free (rc=%s %s)" % (push.returncode, err[-300:]))
        check("50 traces acknowledged (50 accepted" in out + err,
              "every trace acknowledged: " + (out + err).strip()[-200:])
        check(query_one(db, "SELECT count(*) FROM traces") == 50, "every trace committed")
        deadline = time.time() + 10
        while status(http + "/readyz") != 200 and time.time() < deadline:
            time.sleep(0.1)
        check(status(http + "/readyz") == 200, "ready again")
        check("assay_store_blocked 0" in w.metrics(), "assay_store_blocked back to 0")
    finally:
        rc = w.stop()
    check(rc == 0, "the worker drains and exits 0 (%s)" % rc)
    log = w.p.stderr.read()
    down = [l for l in log.splitlines() if "store unavailable" in l]
    back = [l for l in log.splitlines() if "store available again" in l]
    check(len(down) == 1 and len(back) == 1,
          "the outage is logged once when it starts and once when it ends (%d and %d lines: %s)"
          % (len(down), len(back), (down + back)[:3]))

sys.exit(finish())
