#!/usr/bin/env python3
"""End-to-end: two `assay worker` processes share one store and one LLM
judge scorer (sample_rate 1, judge cache off) against the standalone fake
provider. Judge work is shared by claims (README "Judges", "Several workers,
one store: claims"), so:

1. with both workers running, the provider gets exactly one request per
   sampled trace (no trace judged twice) and every trace is scored once;
2. when one worker is killed (SIGKILL) with claimed tasks in flight, the other
   takes them over at once (the claimant's pid is gone), long before the
   300 s lease runs out; only the requests sent and not yet stored at the
   kill (at most the tasks a held: twice max_concurrency) may be sent again.
--backend postgres runs it with both workers on one database of a private
PostgreSQL server (exit 77 when the server binaries are missing), with the
same checks. Exits non-zero on the first failed check (all checks are
printed)."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (FakeProvider, Worker, check, control, query_one, run_on_backend,  # noqa: E402
                        wait_for)

KEY = "sk-e2e-SECRET-lease0001"
CONCURRENCY = 2


def q(db, sql, *args):
    return query_one(db, sql, args, timeout=30)


def start_worker(assay, cfg, db, env):
    return Worker(assay, ["--config", cfg, "--db", db, "--zmq-router", "tcp://127.0.0.1:*",
                          "--http-listen", "127.0.0.1:0"], env=env, stderr=subprocess.DEVNULL)


def judged_by(w):
    n = 0
    for line in w.metrics().splitlines():
        if line.startswith("assay_judge_tasks_total{"):
            n += int(float(line.split()[-1]))
    return n


def push(assay, w, path):
    r = subprocess.run([assay, "push", "--endpoint", w.endpoints["router"], "--in", path, "--batch", "10",
                        "--deadline-ms", "60000"], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"push {os.path.basename(path)} exits 0 ({r.stderr[-300:]!r})")


def write_traces(path, prefix, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"trace_id": f"{prefix}-{i:03d}", "input": f"Question {prefix} {i}?",
                                "output": f"Answer {prefix} number {i}."}) + "\n")


def wait_scored(db, prefix, n, seconds):
    done = wait_for(db, "SELECT count(*) FROM scores_view WHERE scorer = 'helpful' AND decision = 'scored' "
                        "AND trace_id LIKE ?", n, seconds=seconds, args=(prefix + "-%",), timeout=30)
    return done, done == n


def main():
    return run_on_backend(run, prefix="assay-judges-mw-", fake=True, passed="all passed")


def run(a, tmp, backend):
    fake = FakeProvider(a.fake, "--score", "4")
    workers = []
    try:
        scenario(a, fake.base, tmp, workers, backend)
    finally:
        for w in workers:
            if w.p.poll() is None:
                w.p.kill()
                w.p.wait(10)
        fake.stop()


def scenario(a, base, tmp, workers, backend):
    env = dict(os.environ, ASSAY_E2E_JUDGE_KEY=KEY)
    os.symlink(os.path.join(os.path.abspath(a.source), "rubrics"), os.path.join(tmp, "rubrics"))
    # db: a StoreDb (either backend); location: what --db takes (a path or a postgresql:// URI).
    location, db = backend.new_store("shared")
    cfg = os.path.join(tmp, "assay.yaml")
    # SQLite only: the shared file is busy while the other worker commits.
    busy = "store: {busy_timeout_ms: 10000}\n" if backend.pg is None else ""
    with open(cfg, "w") as f:
        f.write(busy + f"""
worker: {{flush_ms: 20}}
judges:
  - name: primary
    provider: openai
    base_url: {base}/v1
    model: gpt-4o-mini-2024-07-18
    api_key_env: ASSAY_E2E_JUDGE_KEY
    max_retries: 0
    max_concurrency: {CONCURRENCY}
    cache: false
    timeout_ms: 10000
scorers:
  - {{name: helpful, type: judge, rubric: rubrics/helpfulness.yaml, judges: [primary], sample_rate: 1}}
""")
    control(base, "script", {"default": {"score": 4, "latency_ms": 150}})
    wa = start_worker(a.assay, cfg, location, env)
    workers.append(wa)
    wb = start_worker(a.assay, cfg, location, env)
    workers.append(wb)

    # 1. Both workers take traces and both judge stages poll the shared queue.
    n1 = 40
    write_traces(os.path.join(tmp, "a.jsonl"), "p1a", n1)
    write_traces(os.path.join(tmp, "b.jsonl"), "p1b", n1)
    pa = subprocess.Popen([a.assay, "push", "--endpoint", wa.endpoints["router"], "--in", os.path.join(tmp, "a.jsonl"),
                           "--batch", "5", "--deadline-ms", "60000"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    push(a.assay, wb, os.path.join(tmp, "b.jsonl"))
    check(pa.wait(120) == 0, "push to worker a exits 0")
    da, oka = wait_scored(db, "p1a", n1, 60)
    db_, okb = wait_scored(db, "p1b", n1, 60)
    check(oka and okb, f"phase 1: all {2 * n1} traces scored ({da} + {db_})")
    requests = control(base, "counters")["requests"]
    check(requests == 2 * n1, f"phase 1: one provider request per sampled trace ({requests} for {2 * n1})")
    check(q(db, "SELECT count(*) FROM judgements") == 2 * n1, "phase 1: one judgement per trace")
    check(q(db, "SELECT count(*) FROM (SELECT trace FROM judgements GROUP BY trace HAVING count(*) > 1) x") == 0,
          "phase 1: no trace judged twice")
    split = (judged_by(wa), judged_by(wb))
    check(sum(split) == 2 * n1, f"phase 1: the two stages' judged tasks add up ({split[0]} + {split[1]})")

    # 2. Slow judge; worker a holds claims when it is killed; b takes over at once.
    control(base, "script", {"default": {"score": 4, "latency_ms": 400}})
    n2 = 30
    write_traces(os.path.join(tmp, "c.jsonl"), "p2", n2)
    before = control(base, "counters")["requests"]
    # Stop b's stage from competing while a fills its claims: b is stopped and restarted below.
    check(wb.stop(timeout=60) == 0, "worker b stops cleanly")
    push(a.assay, wa, os.path.join(tmp, "c.jsonl"))
    deadline = time.time() + 30
    # A stage holds at most twice its judges' max_concurrency in tasks.
    while time.time() < deadline and q(db, "SELECT count(*) FROM judge_queue WHERE claimed_by IS NOT NULL") < 2 * CONCURRENCY:
        time.sleep(0.05)
    claimed = q(db, "SELECT count(*) FROM judge_queue WHERE claimed_by IS NOT NULL")
    check(CONCURRENCY <= claimed <= 2 * CONCURRENCY, f"phase 2: worker a holds claims, at most twice "
          f"max_concurrency ({claimed})")
    wa.p.kill()
    wa.p.wait(10)
    left = q(db, "SELECT count(*) FROM judge_queue")
    check(left > 0, f"phase 2: tasks left in the queue when a is killed ({left})")
    start = time.time()
    wb2 = start_worker(a.assay, cfg, location, env)
    workers.append(wb2)
    done, ok = wait_scored(db, "p2", n2, 60)
    took = time.time() - start
    check(ok, f"phase 2: all {n2} traces scored after the kill ({done}) in {took:.1f} s, "
              "well under the 300 s lease")
    sent = control(base, "counters")["requests"] - before
    check(n2 <= sent <= n2 + 2 * CONCURRENCY,
          f"phase 2: only requests sent and not stored at the kill are sent again ({sent} for {n2}, "
          f"at most the {2 * CONCURRENCY} tasks a holds)")
    check(q(db, "SELECT count(*) FROM judge_queue") == 0, "phase 2: queue empty")
    check(wb2.stop(timeout=60) == 0, "worker b (restarted) exits 0 on SIGTERM")


if __name__ == "__main__":
    sys.exit(main())
