#!/usr/bin/env python3
"""Acknowledged-push benchmark for `assay worker` against `assay score`.

Generates N traces (~1.2 KB each), then per round:
  score:  `assay score` on the file into a fresh database (the batch path);
  worker: `assay worker` on 127.0.0.1 and `assay push` of the same file (the
          network path), timed from the first send to the last ack; the ack
          latency percentiles (send -> all of a message's traces committed)
          come from `assay push`, and the worker's peak RSS from wait4();
  latency: the same worker, then `assay push --rate 5000 --batch 10` of
          50,000 traces (an offered load of 5,000 traces/s): ack latency
          p50/p99 (send -> every trace of the message committed and acked).
Prints medians and the ratio worker/score. With --reference ASSAY a second
assay binary (e.g. the previous release, built in another worktree) runs the
same round right after, with its own push.

Usage: python3 bench/worker_bench.py [--n 1000000] [--rounds 3] [--build build]
                                     [--reference /path/to/other/assay]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from score_bench import binaries_under_test, generate_traces, remove_databases  # noqa: E402
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 2000}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def run_round(assay, cfg, traces, tmp, n):
    """One round for one assay binary: (score rate, worker rate, ack p50, ack p99, worker RSS MiB)."""
    db = os.path.join(tmp, "score.db")
    t0 = time.perf_counter()
    subprocess.run([assay, "score", "--config", cfg, "--db", db, "--in", traces, "--quiet"], check=True)
    score_rate = n / (time.perf_counter() - t0)
    wdb = os.path.join(tmp, "worker.db")
    w = subprocess.Popen([assay, "worker", "--config", cfg, "--db", wdb, "--zmq-router", "tcp://127.0.0.1:*"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = re.search(r"router=(\S+)", w.stdout.readline()).group(1)
    t0 = time.perf_counter()
    subprocess.run([assay, "push", "--endpoint", endpoint, "--in", traces, "--window", "20000",
                    "--batch", "200"], check=True, capture_output=True, text=True)
    worker_rate = n / (time.perf_counter() - t0)
    lat = subprocess.run([assay, "push", "--endpoint", endpoint, "--in", traces, "--rate", "5000",
                          "--batch", "10", "--window", "5000", "--max-traces", "50000"],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"p50 ([\d.]+) ms p99 ([\d.]+) ms", lat)
    w.terminate()
    _, status, ru = os.wait4(w.pid, 0)
    remove_databases(tmp)
    return score_rate, worker_rate, float(m.group(1)), float(m.group(2)), ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reference", default=None,
                    help="a second assay binary (e.g. an earlier release) measured in the same rounds")
    a = ap.parse_args()
    binaries = binaries_under_test(a)
    with tempfile.TemporaryDirectory(prefix="assay-wbench-") as tmp:
        traces = generate_traces(tmp, a.n)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        results = {name: [] for name, _ in binaries}
        for r in range(a.rounds):
            for name, exe in binaries:
                res = run_round(exe, cfg, traces, tmp, a.n)
                results[name].append(res)
                print(f"round {r + 1} {name}: score {res[0]:,.0f}/s, worker {res[1]:,.0f}/s, "
                      f"at 5,000/s ack p50 {res[2]:.0f} ms p99 {res[3]:.0f} ms, worker RSS {res[4]:.0f} MiB",
                      file=sys.stderr)
        med = statistics.median
        print("| traces | binary | score traces/s | worker traces/s | worker / score | ack p50 at 5,000/s | "
              "ack p99 at 5,000/s | worker peak RSS |")
        print("|---|---|---|---|---|---|---|---|")
        for name, _ in binaries:
            score, worker, p50, p99, rss = zip(*results[name])
            ratio = med([w / s for w, s in zip(worker, score)])
            print(f"| {a.n:,} | {name} | {med(score):,.0f} | {med(worker):,.0f} | {ratio:.2f} | {med(p50):.0f} ms | "
                  f"{med(p99):.0f} ms | {med(rss):.0f} MiB |")


if __name__ == "__main__":
    main()
