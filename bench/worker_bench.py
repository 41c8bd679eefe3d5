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
Prints medians and the ratio worker/score.

Usage: python3 bench/worker_bench.py [--n 1000000] [--rounds 3] [--build build]
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
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 2000}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    with tempfile.TemporaryDirectory(prefix="assay-wbench-") as tmp:
        traces = os.path.join(tmp, "traces.jsonl")
        subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "demo", "generate.py"), "--size", "bench",
                        "--n", str(a.n), "--seed", "1", "--out", traces], check=True, stderr=subprocess.DEVNULL)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        score_rates, worker_rates, p50s, p99s, rss = [], [], [], [], []
        for r in range(a.rounds):
            db = os.path.join(tmp, "score.db")
            t0 = time.perf_counter()
            subprocess.run([assay, "score", "--config", cfg, "--db", db, "--in", traces, "--quiet"], check=True)
            score_rates.append(a.n / (time.perf_counter() - t0))
            wdb = os.path.join(tmp, "worker.db")
            w = subprocess.Popen([assay, "worker", "--config", cfg, "--db", wdb, "--zmq-router", "tcp://127.0.0.1:*"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            endpoint = re.search(r"router=(\S+)", w.stdout.readline()).group(1)
            t0 = time.perf_counter()
            out = subprocess.run([assay, "push", "--endpoint", endpoint, "--in", traces, "--window", "20000",
                                  "--batch", "200"], check=True, capture_output=True, text=True).stdout
            worker_rates.append(a.n / (time.perf_counter() - t0))
            lat = subprocess.run([assay, "push", "--endpoint", endpoint, "--in", traces, "--rate", "5000",
                                  "--batch", "10", "--window", "5000", "--max-traces", "50000"],
                                 check=True, capture_output=True, text=True).stdout
            m = re.search(r"p50 ([\d.]+) ms p99 ([\d.]+) ms", lat)
            p50s.append(float(m.group(1)))
            p99s.append(float(m.group(2)))
            w.terminate()
            _, status, ru = os.wait4(w.pid, 0)
            rss.append(ru.ru_maxrss / 1024.0)
            for name in os.listdir(tmp):
                if name.endswith((".db", ".db-wal", ".db-shm")):
                    os.remove(os.path.join(tmp, name))
            print(f"round {r + 1}: score {score_rates[-1]:,.0f}/s, worker {worker_rates[-1]:,.0f}/s, "
                  f"at 5,000/s ack p50 {p50s[-1]:.0f} ms p99 {p99s[-1]:.0f} ms, worker RSS {rss[-1]:.0f} MiB",
                  file=sys.stderr)
        med = statistics.median
        ratio = med([w / s for w, s in zip(worker_rates, score_rates)])
        print("| traces | score traces/s | worker traces/s | worker / score | ack p50 at 5,000/s | ack p99 at 5,000/s | "
              "worker peak RSS |")
        print("|---|---|---|---|---|---|---|")
        print(f"| {a.n:,} | {med(score_rates):,.0f} | {med(worker_rates):,.0f} | {ratio:.2f} | {med(p50s):.0f} ms | "
              f"{med(p99s):.0f} ms | {med(rss):.0f} MiB |")


if __name__ == "__main__":
    main()
