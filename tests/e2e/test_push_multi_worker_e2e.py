#!/usr/bin/env python3
"""End-to-end: one `assay push` spreads its traces over three workers that
share one store (README "Several workers"), and one worker is killed with
kill -9 in the middle of the push while another is stopped (SIGSTOP) for a
few seconds and resumed.

The producer's DEALER connects to all three ROUTERs; what the killed worker
never acknowledged is resent to the live ones. Afterwards:
  - the push exits 0 (every trace acknowledged) and reports resends;
  - every worker took part before the kill;
  - the store holds every trace exactly once with all its decisions, nothing
    dead-lettered, no failed commit on the workers that stayed up.
--backend postgres runs it against a private PostgreSQL server."""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, check, finish, generate,  # noqa: E402
                        on_backend)
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 100}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def received(w):
    """Traces the worker took from ZeroMQ so far (0 when it cannot answer)."""
    try:
        return w.metric("assay_traces_received_total") or 0
    except OSError:
        return 0


def main():
    ap = add_backend_argument(arguments())
    ap.add_argument("--n", type=int, default=6000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-push-multi-") as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    location, db = backend.new_store("shared")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        store = backend.yaml(location)
        if a.backend == "sqlite":
            # SQLite only: the shared file is locked while another worker commits.
            store = store.replace("}", ", busy_timeout_ms: 20000}")
        f.write(CONFIG + store)
    traces = os.path.join(tmp, "traces.jsonl")
    generate(a.source, traces, "--n", str(a.n), "--seed", "33", check=True)

    workers = [Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*",
                                "--http-listen", "127.0.0.1:0"]) for _ in range(3)]
    endpoints = [w.endpoints["router"] for w in workers]
    # About 6 s of traffic, so the faults land in the middle of it.
    push = subprocess.Popen([a.assay, "push", "--in", traces, "--batch", "20", "--timeout-ms", "1500",
                             "--rate", str(a.n // 6), "--deadline-ms", "180000",
                             "--endpoint", endpoints[0], "--endpoint", ",".join(endpoints[1:])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while min(received(w) for w in workers) < 100 and time.time() < deadline and push.poll() is None:
        time.sleep(0.05)
    before = [received(w) for w in workers]
    check(all(r >= 100 for r in before), "every worker took part before the faults (received %s)" % before)

    killed, stopped = workers[1], workers[2]
    killed.p.send_signal(signal.SIGKILL)
    killed.p.wait(timeout=30)
    stopped.p.send_signal(signal.SIGSTOP)
    time.sleep(3)
    stopped.p.send_signal(signal.SIGCONT)
    out, err = push.communicate(timeout=240)
    check(push.returncode == 0, "the push exits 0: every trace acknowledged (rc=%s, %r %r)"
          % (push.returncode, out.strip(), err[-400:]))
    m = re.search(r"(\d+) traces acknowledged \((\d+) accepted, (\d+) rejected\), (\d+) resends", out)
    check(m is not None and int(m.group(1)) == a.n and int(m.group(2)) == a.n,
          "the push counts all %d traces accepted (%r)" % (a.n, out.strip()))
    check(m is not None and int(m.group(4)) > 0,
          "and resent what the killed worker never acknowledged (%s resends)" % (m.group(4) if m else "?"))
    live = [workers[0], stopped]
    failures = [w.metric("assay_commit_failures_total") for w in live]
    check(failures == [0.0, 0.0], "no failed commit on the workers that stayed up (%s)" % failures)
    after = [received(w) for w in live]
    check(after[0] > before[0] and after[1] > before[2],
          "both live workers kept taking traces (%s -> %s)" % ([before[0], before[2]], after))
    codes = [w.stop(timeout=60) for w in live]
    check(codes == [0, 0], "the live workers drain and exit 0 on SIGTERM (%s)" % codes)

    n = a.n
    stored = db.one("SELECT count(*) FROM traces")
    check(stored == n, "every trace stored once (%s/%d)" % (stored, n))
    check(db.one("SELECT count(DISTINCT trace_id) FROM traces") == n, "no duplicate trace ids")
    scores = db.one("SELECT count(*) FROM scores")
    check(scores == n * 5, "every trace has its 5 decisions (%s)" % scores)
    check(db.one("SELECT count(*) FROM (SELECT trace FROM scores GROUP BY trace HAVING count(*) != 5) x") == 0,
          "no trace has a missing or extra decision")
    check(db.one("SELECT count(*) FROM dead_letters") == 0, "nothing dead-lettered")
    return finish("all checks passed: one push over three workers, one killed and one stopped (%s)"
                  % a.backend)


if __name__ == "__main__":
    sys.exit(main())
