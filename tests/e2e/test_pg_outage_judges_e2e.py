#!/usr/bin/env python3
"""End-to-end: the judge part of the PostgreSQL outage (issue 13 item 6;
README "Scaling out"). One `assay worker` on PostgreSQL judges pushed traffic
(one LLM judge on the fake provider, sample_rate 1, cache off, slow enough
that judging takes several seconds); in the middle of the judge run the
server goes away (`pg_ctl stop -m immediate`) for 3 s and comes back.
Afterwards, exactly: every trace stored once with its one judge decision
(`scored`), one judgement per sampled trace (none twice), the judge queue
empty, and provider requests = sampled traces + at most the calls whose
outcome could not be stored during the outage (the tasks the worker holds:
twice max_concurrency). Skipped (77) when the server binaries are missing."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import FakeProvider, Worker, arguments, check, control, finish, on_backend  # noqa: E402
from scorer_configs import one_judge  # noqa: E402

KEY = "sk-e2e-SECRET-outage0001"
CONCURRENCY = 4
LATENCY_MS = 300


def scored(db):
    return db.one("SELECT count(*) FROM scores_view WHERE scorer = 'helpful' AND decision = 'scored'")


def wait_until(what, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if what():
                return True
        except RuntimeError:  # psql while the server is down
            pass
        time.sleep(0.1)
    return what()


def main():
    ap = arguments(fake=True)
    ap.add_argument("--n", type=int, default=120)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-pg-outage-judges-") as tmp:
        # Durable: a commit the server confirmed must survive its crash.
        rc = on_backend(a, tmp, run, backend="postgres", durable=True)
    return rc if rc == 77 else finish("all checks passed: a PostgreSQL outage in the middle of a judge run")


def run(a, tmp, backend):
    n = a.n
    fake = FakeProvider(a.fake, "--score", "4")
    w = None
    try:
        location, db = backend.new_store("outage")
        os.symlink(os.path.join(os.path.abspath(a.source), "rubrics"), os.path.join(tmp, "rubrics"))
        cfg = os.path.join(tmp, "assay.yaml")
        with open(cfg, "w") as f:
            f.write(backend.yaml(location) + "worker: {flush_ms: 20}\n" + one_judge(fake.base, CONCURRENCY))
        traces = os.path.join(tmp, "traces.jsonl")
        with open(traces, "w") as f:
            for i in range(n):
                f.write(json.dumps({"trace_id": "po-%04d" % i, "input": "Question po-%04d?" % i,
                                    "output": "Answer po-%04d." % i}) + "\n")
        control(fake.base, "script", {"default": {"score": 4, "latency_ms": LATENCY_MS}})
        w = Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*", "--http-listen",
                             "127.0.0.1:0"], env=dict(os.environ, ASSAY_E2E_JUDGE_KEY=KEY),
                   stderr=subprocess.DEVNULL)
        r = subprocess.run([a.assay, "push", "--endpoint", w.endpoints["router"], "--in", traces,
                            "--batch", "10", "--deadline-ms", "60000"], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "the push exits 0: every trace acknowledged (%r)" % r.stderr[-300:])
        # n / CONCURRENCY * LATENCY_MS: about 9 s of judging for 120.
        check(wait_until(lambda: scored(db) >= 20, 60), "judging is under way (%s scored)" % scored(db))
        at_crash = scored(db)
        backend.pg.crash()
        time.sleep(3)
        backend.pg.resume()
        print("server down for 3 s at %d of %d judged" % (at_crash, n))
        check(at_crash < n - 2 * CONCURRENCY, "the outage came in the middle of the judge run")
        check(wait_until(lambda: scored(db) == n and db.one("SELECT count(*) FROM judge_queue") == 0, 120),
              "every sampled trace judged once the server is back (%s/%d, %s queued)"
              % (scored(db), n, db.one("SELECT count(*) FROM judge_queue")))
        rc = w.stop(timeout=60)
        check(rc == 0, "the worker drains and exits 0 (%s)" % rc)
        check(db.one("SELECT count(*) FROM traces") == n, "every trace stored once (%s/%d)"
              % (db.one("SELECT count(*) FROM traces"), n))
        check(db.one("SELECT count(*) FROM scores") == n, "one decision per trace (%s)"
              % db.one("SELECT count(*) FROM scores"))
        judgements = db.one("SELECT count(*) FROM judgements")
        check(judgements == n, "one judgement per sampled trace (%s for %d)" % (judgements, n))
        twice = db.one("SELECT count(*) FROM (SELECT trace FROM judgements GROUP BY trace "
                       "HAVING count(*) > 1) x")
        check(twice == 0, "no trace judged twice in the store (%s)" % twice)
        log = control(fake.base, "requests")["requests"]
        asked = {}
        for req in log:
            m = re.search(r"Question po-(\d{4})", req["body"])
            if m:
                asked[m.group(1)] = asked.get(m.group(1), 0) + 1
        check(len(asked) == n, "every sampled trace was sent to the judge (%d/%d)" % (len(asked), n))
        bound = 2 * CONCURRENCY
        check(n <= len(log) <= n + bound,
              "provider requests = sampled traces + at most the calls whose outcome the outage kept "
              "from the store (%d for %d, bound %d)" % (len(log), n, n + bound))
    finally:
        if w is not None and w.p.poll() is None:
            w.p.kill()
            w.p.wait(10)
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
