#!/usr/bin/env python3
"""Throughput benchmark for `assay score` against the plain-SQLite floor.

Generates N realistic traces (~1.2 KB each, mixed JSON/text, some refusals),
then alternates R rounds of:
  floor: build/bench/sqlite_floor  (plain SQLite inserts of the same trace rows
         into the same table, one transaction, prepared statement, timed inside)
  assay: build/assay score with every code scorer into a fresh database
         (wall time of the whole process: read, parse, score, store)
and prints medians, the ratio assay/floor, and assay's peak RSS.

Usage: python3 bench/score_bench.py [--n 200000] [--rounds 5] [--build build]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIG = """
pipeline: {batch_size: 2000}
scorers:
  - {name: json, type: format, json: true, when: {expected_format: json}}
  - {name: refusal, type: refusal}
  - {name: length, type: length, max_words: 400}
  - {name: pii, type: pii_leak}
  - {name: truncation, type: truncation}
"""


def run_child(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {err.decode()[-500:]}")
    # ru_maxrss of the largest child so far; we read it per child via wait4 below.
    return wall, out.decode()


def run_with_rss(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err.decode()[-500:]}")
    return wall, ru.ru_maxrss / 1024.0, out.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    floor = os.path.join(a.build, "bench", "sqlite_floor")
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        traces = os.path.join(tmp, "traces.jsonl")
        subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "demo", "generate.py"), "--size", "bench",
                        "--n", str(a.n), "--seed", "1", "--out", traces], check=True, stderr=subprocess.DEVNULL)
        size = os.path.getsize(traces)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        floor_rates, assay_rates, rss = [], [], []
        for r in range(a.rounds):
            db = os.path.join(tmp, f"floor{r}.db")
            _, _, out = run_with_rss([floor, traces, db])
            rows, secs, rate = out.split()
            floor_rates.append(float(rate))
            db = os.path.join(tmp, f"assay{r}.db")
            wall, peak, _ = run_with_rss([assay, "score", "--config", cfg, "--db", db, "--in", traces, "--quiet"])
            assay_rates.append(a.n / wall)
            rss.append(peak)
            for suffix in ("", "-wal", "-shm"):
                for name in (f"floor{r}.db", f"assay{r}.db"):
                    try:
                        os.remove(os.path.join(tmp, name + suffix))
                    except FileNotFoundError:
                        pass
            print(f"round {r + 1}: floor {float(rate):,.0f} rows/s, assay {a.n / wall:,.0f} traces/s, "
                  f"peak RSS {peak:.0f} MiB", file=sys.stderr)
        fm, am = statistics.median(floor_rates), statistics.median(assay_rates)
        ratios = [x / y for x, y in zip(assay_rates, floor_rates)]
        print(f"| traces | avg bytes | floor rows/s (median) | assay traces/s (median) | assay/floor (median of rounds) | assay peak RSS |")
        print(f"|---|---|---|---|---|---|")
        print(f"| {a.n:,} | {size // a.n:,} | {fm:,.0f} | {am:,.0f} | {statistics.median(ratios):.2f} | "
              f"{statistics.median(rss):.0f} MiB |")


if __name__ == "__main__":
    main()
