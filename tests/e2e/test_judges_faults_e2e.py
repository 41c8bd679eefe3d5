#!/usr/bin/env python3
"""End-to-end: three `assay worker` processes (distinct worker ids: each its
own pid, so its own `hostname:pid:nonce` claimant) share one store and one
LLM judge scorer (sample_rate 1, cache off) against the standalone fake
provider, slow enough that judging takes several seconds (README "Scaling
out", issue 13 "The multi-worker tests"). Traffic is pushed to all three;
during judging one worker is killed with kill -9 and another is stopped with
SIGSTOP for longer than its lease (store.judge_lease_ms), then resumed with
SIGCONT. Afterwards, exactly:
  - every trace stored once with its one judge decision (`scored`);
  - one judgement per sampled trace, no trace judged twice in the store;
  - provider requests (the fake provider's log) = sampled traces + at most
    the calls of the killed and the stopped worker whose outcome was not yet
    stored: those in flight (max_concurrency) and those answered but not yet
    written, i.e. at most the tasks each held (twice max_concurrency);
  - the stopped worker's claims were taken over while it slept, and when it
    woke its late results were fenced off (lease_lost counted, nothing
    stored: the judgement count above is exact).
--backend postgres runs it against a private PostgreSQL server."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (FakeProvider, Worker, add_backend_argument, arguments, check, control,  # noqa: E402
                        finish, on_backend)
from scorer_configs import one_judge  # noqa: E402

KEY = "sk-e2e-SECRET-faults0001"
CONCURRENCY = 4  # max_concurrency of the judge: the bound of each worker's calls in flight
LATENCY_MS = 300
LEASE_MS = 2000


def tasks_total(w, decision):
    """assay_judge_tasks_total of one decision, summed over scorers (0 when absent)."""
    n = 0
    for line in w.metrics().splitlines():
        if line.startswith("assay_judge_tasks_total{") and 'decision="%s"' % decision in line:
            n += int(float(line.split()[-1]))
    return n


def claims_by(db, pid):
    return db.one("SELECT count(*) FROM judge_queue WHERE claimed_by LIKE ?", "%%:%d:%%" % pid)


def main():
    ap = add_backend_argument(arguments(fake=True))
    ap.add_argument("--n", type=int, default=300)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-judge-faults-") as tmp:
        rc = on_backend(a, tmp, run)
    return rc if rc == 77 else finish(
        "all checks passed: judging on three workers, one killed and one stalled past its lease")


def run(a, tmp, backend):
    fake = FakeProvider(a.fake, "--score", "4", "--threads", "32")
    workers = []
    try:
        scenario(a, backend, fake.base, tmp, workers)
    finally:
        for w in workers:
            if w.p.poll() is None:
                w.p.send_signal(signal.SIGCONT)
                w.p.kill()
                w.p.wait(10)
        fake.stop()


def scenario(a, backend, base, tmp, workers):
    n = a.n
    location, db = backend.new_store("shared")
    os.symlink(os.path.join(os.path.abspath(a.source), "rubrics"), os.path.join(tmp, "rubrics"))
    cfg = os.path.join(tmp, "assay.yaml")
    # The shared SQLite file is busy while another worker commits.
    extra = ", judge_lease_ms: %d" % LEASE_MS + (", busy_timeout_ms: 20000" if backend.pg is None else "")
    store = backend.yaml(location).replace("}", extra + "}")
    with open(cfg, "w") as f:
        f.write(store + "worker: {flush_ms: 20}\n" + one_judge(base, CONCURRENCY))
    traces = os.path.join(tmp, "traces.jsonl")
    with open(traces, "w") as f:
        for i in range(n):
            f.write(json.dumps({"trace_id": "jf-%04d" % i, "input": "Question jf-%04d?" % i,
                                "output": "Answer jf-%04d." % i}) + "\n")
    control(base, "script", {"default": {"score": 4, "latency_ms": LATENCY_MS}})
    env = dict(os.environ, ASSAY_E2E_JUDGE_KEY=KEY)
    for _ in range(3):
        workers.append(Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*",
                                        "--http-listen", "127.0.0.1:0"], env=env, stderr=subprocess.DEVNULL))
    ends = [w.endpoints["router"] for w in workers]
    r = subprocess.run([a.assay, "push", "--in", traces, "--batch", "10", "--deadline-ms", "60000",
                        "--endpoint", ends[0], "--endpoint", ",".join(ends[1:])],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "the push exits 0 (%r)" % r.stderr[-300:])
    # Judging takes n / (3 * CONCURRENCY) * LATENCY_MS: about 8 s for 300. A worker claims
    # at most twice its judges' max_concurrency, so all three hold claims.
    survivor, killed, stalled = workers
    deadline = time.time() + 30
    while time.time() < deadline and min(claims_by(db, w.p.pid) for w in workers) == 0:
        time.sleep(0.05)
    held = [claims_by(db, w.p.pid) for w in workers]
    check(min(held) > 0, "all three workers hold judge claims before the faults (%s)" % held)
    check(db.one("SELECT count(*) FROM judge_queue") > 3 * CONCURRENCY,
          "judging is still under way at the faults (%s queued)" % db.one("SELECT count(*) FROM judge_queue"))

    killed.p.kill()
    killed.p.wait(10)
    lost_before = tasks_total(stalled, "lease_lost")
    stalled.p.send_signal(signal.SIGSTOP)
    stalled_claims = claims_by(db, stalled.p.pid)
    check(0 < stalled_claims <= 2 * CONCURRENCY,
          "the stopped worker holds %d claims (at most twice max_concurrency)" % stalled_claims)
    # Past the lease: the survivor takes its claims over. On a loaded machine
    # (CI, two tests at a time) that can take the survivor a while: it works
    # through its own claims and the killed worker's first, and a session the
    # stopped worker left inside a transaction holds its rows' locks until the
    # server ends it (idle_in_transaction_session_timeout, 5 s).
    deadline = time.time() + LEASE_MS / 1000 + 40
    while time.time() < deadline and claims_by(db, stalled.p.pid) > 0:
        time.sleep(0.1)
    left = claims_by(db, stalled.p.pid)
    check(left == 0, "while it sleeps its claims pass to the survivor once the lease runs out (%d left)" % left)
    time.sleep(0.5)
    stalled.p.send_signal(signal.SIGCONT)

    deadline = time.time() + 120
    while time.time() < deadline and db.one("SELECT count(*) FROM judge_queue") > 0:
        time.sleep(0.2)
    check(db.one("SELECT count(*) FROM judge_queue") == 0, "the judge queue empties")
    # The stopped worker's late replies are fenced off when they come in.
    deadline = time.time() + 15
    while time.time() < deadline and tasks_total(stalled, "lease_lost") == lost_before:
        time.sleep(0.1)
    lease_lost = tasks_total(stalled, "lease_lost") - lost_before
    # Its calls in flight come back and are fenced off; its claimed tasks not yet sent are
    # withdrawn (never sent) and released: both counted lease_lost, at most its 2 x
    # max_concurrency claims.
    check(1 <= lease_lost <= 2 * CONCURRENCY,
          "the woken worker's late results are dropped: lease_lost %d (1..%d)" % (lease_lost, 2 * CONCURRENCY))
    print("survivor: lease_lost %d" % tasks_total(survivor, "lease_lost"))
    time.sleep(1)  # anything sent late by the woken worker reaches the log
    codes = [survivor.stop(timeout=60), stalled.stop(timeout=60)]
    check(codes == [0, 0], "the live workers exit 0 on SIGTERM (%s)" % codes)

    check(db.one("SELECT count(*) FROM traces") == n, "every trace stored once (%s/%d)"
          % (db.one("SELECT count(*) FROM traces"), n))
    scored = db.one("SELECT count(*) FROM scores_view WHERE scorer = 'helpful' AND decision = 'scored'")
    check(scored == n and db.one("SELECT count(*) FROM scores") == n,
          "every trace has exactly its one judge decision, scored (%s)" % scored)
    judgements = db.one("SELECT count(*) FROM judgements")
    check(judgements == n, "one judgement per sampled trace (%s for %d)" % (judgements, n))
    twice = db.one("SELECT count(*) FROM (SELECT trace FROM judgements GROUP BY trace HAVING count(*) > 1) x")
    check(twice == 0, "no trace judged twice in the store (%s)" % twice)

    log = control(base, "requests")["requests"]
    asked = {}
    for req in log:
        m = re.search(r"Question jf-(\d{4})", req["body"])
        if m:
            asked[m.group(1)] = asked.get(m.group(1), 0) + 1
    # Per faulty worker: its tasks with a call sent and no outcome stored yet, at most the
    # tasks it may hold (2 x max_concurrency): calls in flight and answers not yet written.
    bound = 2 * 2 * CONCURRENCY
    check(len(asked) == n, "every sampled trace was sent to the judge (%d/%d)" % (len(asked), n))
    check(n <= len(log) <= n + bound,
          "provider requests = sampled traces + at most the unstored calls of the killed and the "
          "stopped worker (%d for %d, bound %d)" % (len(log), n, n + bound))
    again = sum(c - 1 for c in asked.values())
    check(again <= bound and max(asked.values()) <= 3,
          "no trace asked more often than the unstored calls allow (%d repeats)" % again)


if __name__ == "__main__":
    sys.exit(main())
