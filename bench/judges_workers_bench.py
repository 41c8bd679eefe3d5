#!/usr/bin/env python3
"""Judges across workers on one PostgreSQL database (issue 13, "Judges across
workers").

Starts a private PostgreSQL server (tests/support/pg_server.py: Unix socket,
fsync off as in the tests) and the fake provider (tests/fake_provider, every
reply after --latency-ms, 100 by default). Per round, into a fresh database:
K `assay worker` processes (--workers, 3) share one LLM judge scorer
(sample_rate 1, cache off, max_concurrency --concurrency, 16) and one
`assay push` spreads N traces over them. The rate is N sampled traces over
the time from the provider's first request to the moment the store holds N
`scored` judge decisions; the ideal is K * concurrency / latency (3 * 16 /
0.1 s = 480/s), and the ratio to it is the figure (target >= 0.9).

While judging, the judge queue table is sampled every 0.5 s (rows, and
pg_total_relation_size); at the end it must hold no row (finished tasks are
deleted, never piled up). Every round checks exactly N traces, N scored
decisions, N judgements and N provider requests (no claim doubled).

Reports the medians of the rounds, the committed transactions per judged
trace (pg_stat_database, every connection: the stage's claims and outcomes,
the ingest, the bench's own polling), and the load average before and after.

Usage: python3 bench/judges_workers_bench.py [--n 6000] [--rounds 3] [--build build]
           [--workers 3] [--concurrency 16] [--latency-ms 100]
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import pg_server  # noqa: E402
from scorer_configs import one_judge  # noqa: E402

KEY = "sk-bench-judges-workers"


def control(base, name, body=None):
    req = urllib.request.Request(base + "/_control/" + name, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))


def psql(pg, uri, sql):
    r = subprocess.run([os.path.join(pg.bin, "psql"), "-X", "-A", "-t", "-F", " ", "-d", uri, "-c", sql],
                       check=True, capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


def write_traces(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"trace_id": "jw-%06d" % i, "input": "Question number %d: is this helpful?" % i,
                                "output": "Answer number %d, short and to the point." % i}) + "\n")


def run(a, pg, base, cfg, traces, uri):
    """One round: (judged traces/s, [(t, queue rows, queue bytes)], final (rows, bytes),
    committed transactions per judged trace, all connections)."""
    control(base, "reset", {})
    control(base, "script", {"default": {"score": 4, "latency_ms": a.latency_ms}})
    env = dict(os.environ, ASSAY_BENCH_JUDGE_KEY=KEY)
    workers = []
    for _ in range(a.workers):
        p = subprocess.Popen([a.assay, "worker", "--config", cfg, "--db", uri, "--zmq-router", "tcp://127.0.0.1:*"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        m = re.search(r"router=(\S+)", p.stdout.readline())
        if not m:
            sys.exit("judges_workers_bench: a worker did not start")
        workers.append((p, m.group(1)))
    cmd = [a.assay, "push", "--in", traces, "--batch", "100", "--deadline-ms", "600000"]
    for _, endpoint in workers:
        cmd += ["--endpoint", endpoint]
    xacts = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    xact0 = psql(pg, uri, xacts)[0]
    push = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    while control(base, "counters")["requests"] == 0:
        time.sleep(0.01)
    t0 = time.perf_counter()
    samples = []
    scored = 0
    next_sample = t0
    deadline = t0 + 10 * a.n / (a.workers * a.concurrency * 1000.0 / a.latency_ms) + 60
    while scored < a.n and time.perf_counter() < deadline:
        now = time.perf_counter()
        if now >= next_sample:
            rows, size = psql(pg, uri, "SELECT count(*), pg_total_relation_size('judge_queue') FROM judge_queue")
            samples.append((now - t0, rows, size))
            next_sample += 0.5
        scored = psql(pg, uri, "SELECT count(*) FROM scores WHERE decision = 0")[0]
        if scored < a.n:
            time.sleep(0.05)
    rate = a.n / (time.perf_counter() - t0)
    if push.wait(60) != 0:
        sys.exit("judges_workers_bench: the push failed")
    for p, _ in workers:
        p.send_signal(signal.SIGTERM)
    for p, _ in workers:
        p.wait(60)
    time.sleep(1)  # the servers' statistics are flushed about once a second
    per_trace = (psql(pg, uri, xacts)[0] - xact0) / a.n
    final = tuple(psql(pg, uri, "SELECT count(*), pg_total_relation_size('judge_queue') FROM judge_queue"))
    got = psql(pg, uri, "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM scores WHERE decision = 0), "
                        "(SELECT count(*) FROM judgements)")
    requests = control(base, "counters")["requests"]
    if got != [a.n, a.n, a.n] or requests != a.n:
        sys.exit("judges_workers_bench: stored %s traces/scored/judgements and %d provider requests (want %d each)"
                 % (got, requests, a.n))
    return rate, samples, final, per_trace


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency-ms", type=int, default=100)
    a = ap.parse_args()
    a.assay = os.path.join(a.build, "assay")
    fake = os.path.join(a.build, "tests", "fake_provider", "fake_provider")
    ideal = a.workers * a.concurrency * 1000.0 / a.latency_ms
    load_before = os.getloadavg()
    fp = subprocess.Popen([fake, "--score", "4", "--threads", str(2 * a.workers * a.concurrency)],
                          stdout=subprocess.PIPE, text=True)
    try:
        base = "http://127.0.0.1:%d" % int(fp.stdout.readline().split(":")[1])
        with tempfile.TemporaryDirectory(prefix="assay-jw-") as tmp, pg_server.PgServer() as pg:
            os.symlink(os.path.join(ROOT, "rubrics"), os.path.join(tmp, "rubrics"))
            traces = os.path.join(tmp, "traces.jsonl")
            write_traces(traces, a.n)
            cfg = os.path.join(tmp, "bench.yaml")
            with open(cfg, "w") as f:
                f.write("worker: {flush_ms: 20}\n" + one_judge(base, a.concurrency, "ASSAY_BENCH_JUDGE_KEY", 60000,
                                                                 os.path.join(tmp, "rubrics", "helpfulness.yaml")))
            rates = []
            peaks = []
            for r in range(a.rounds):
                rate, samples, final, per_trace = run(a, pg, base, cfg, traces, pg.create_db("jw%d" % r))
                rates.append(rate)
                peak_rows = max(s[1] for s in samples)
                peak_bytes = max(s[2] for s in samples)
                peaks.append((peak_rows, peak_bytes))
                print("round %d: %.0f judged traces/s (%.3f of %.0f); %.1f transactions per judged trace; "
                      "judge_queue during the run: %s; at the end: %d rows, %d KiB"
                      % (r + 1, rate, rate / ideal, ideal, per_trace,
                         ", ".join("%.1fs %d rows %d KiB" % (t, n, b // 1024) for t, n, b in samples),
                         final[0], final[1] // 1024), file=sys.stderr)
                if final[0] != 0:
                    sys.exit("judges_workers_bench: %d finished rows left in judge_queue" % final[0])
    finally:
        fp.terminate()
        fp.wait(10)
    med = statistics.median(rates)
    print("%d workers x max_concurrency %d, %d ms latency, %d sampled traces, %d rounds" %
          (a.workers, a.concurrency, a.latency_ms, a.n, a.rounds))
    print("judged traces/s (median): %.0f; ideal %.0f; ratio %.3f (rounds %s)" %
          (med, ideal, med / ideal, ", ".join("%.3f" % (x / ideal) for x in rates)))
    print("judge_queue peak during the run (per round): %s; 0 rows at the end of every round" %
          ", ".join("%d rows / %d KiB" % (n, b // 1024) for n, b in peaks))
    print("load average before %.1f, after %.1f" % (load_before[0], os.getloadavg()[0]))


if __name__ == "__main__":
    main()
