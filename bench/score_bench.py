#!/usr/bin/env python3
"""Throughput benchmark for `assay score` against the plain-SQLite floor.

Generates N realistic traces (~1.2 KB each, mixed JSON/text, some refusals),
then alternates R rounds of:
  floor:     build/bench/sqlite_floor  (plain SQLite inserts of the same trace
             rows into the same table, one transaction, prepared statement,
             timed inside the process around the inserts and the commit)
  floor+5:   the same plus 5 `scores` rows per trace (what Assay also stores:
             one decision row per trace x scorer)
  assay:     build/assay score with the 5 code scorers into a fresh database
             (wall time of the whole process: start, read, parse, score, store)
and prints medians, the ratios assay/floor, and assay's peak RSS.

Usage: python3 bench/score_bench.py [--n 200000] [--rounds 5] [--build build]
"""
import argparse
import os
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
""" + FIVE_SCORERS


def run_with_rss(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, stdout)."""
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
        floor_rates, floor5_rates, assay_rates, rss = [], [], [], []

        def clean():
            for name in os.listdir(tmp):
                if name.endswith((".db", ".db-wal", ".db-shm")):
                    os.remove(os.path.join(tmp, name))

        for r in range(a.rounds):
            _, _, out = run_with_rss([floor, traces, os.path.join(tmp, "floor.db")])
            floor_rates.append(float(out.split()[2]))
            _, _, out = run_with_rss([floor, "--scores", "5", traces, os.path.join(tmp, "floor5.db")])
            floor5_rates.append(float(out.split()[2]))
            wall, peak, _ = run_with_rss([assay, "score", "--config", cfg, "--db", os.path.join(tmp, "assay.db"),
                                          "--in", traces, "--quiet"])
            assay_rates.append(a.n / wall)
            rss.append(peak)
            clean()
            print(f"round {r + 1}: floor {floor_rates[-1]:,.0f}/s, floor+5 {floor5_rates[-1]:,.0f}/s, "
                  f"assay {assay_rates[-1]:,.0f} traces/s, peak RSS {peak:.0f} MiB", file=sys.stderr)
        med = statistics.median
        r1 = med([x / y for x, y in zip(assay_rates, floor_rates)])
        r5 = med([x / y for x, y in zip(assay_rates, floor5_rates)])
        print("| traces | avg bytes | floor traces/s | floor+5 scores traces/s | assay traces/s | "
              "assay / floor | assay / floor+5 | assay peak RSS |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {a.n:,} | {size // a.n:,} | {med(floor_rates):,.0f} | {med(floor5_rates):,.0f} | "
              f"{med(assay_rates):,.0f} | {r1:.2f} | {r5:.2f} | {med(rss):.0f} MiB |")


if __name__ == "__main__":
    main()
