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

With --reference ASSAY a second assay binary (e.g. the previous release, built
in another worktree) runs in every round too, against the same floors.

Usage: python3 bench/score_bench.py [--n 200000] [--rounds 5] [--build build]
                                    [--reference /path/to/other/assay]
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


def run_with_rss(cmd, stdin=None):
    """Runs cmd (feeding it the bytes `stdin`, if given); returns (wall seconds, peak RSS in MiB,
    stdout, stderr). Exits when cmd fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=out, stderr=err)
        if stdin is not None:
            p.stdin.write(stdin)
            p.stdin.close()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {stderr[-500:]}")
    return wall, ru.ru_maxrss / 1024.0, stdout, stderr


def generate_traces(tmp, n):
    """Writes n bench traces (~1.2 KB each, seed 1) to tmp/traces.jsonl; returns the path."""
    traces = os.path.join(tmp, "traces.jsonl")
    subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "demo", "generate.py"), "--size", "bench",
                    "--n", str(n), "--seed", "1", "--out", traces], check=True, stderr=subprocess.DEVNULL)
    return traces


def remove_databases(tmp):
    for name in os.listdir(tmp):
        if name.endswith((".db", ".db-wal", ".db-shm", ".db-journal")):
            os.remove(os.path.join(tmp, name))


def binaries_under_test(a):
    """[("assay", BUILD/assay)], plus ("ref", --reference) when given: the
    binaries every round times, in order."""
    out = [("assay", os.path.join(a.build, "assay"))]
    if a.reference:
        out.append(("ref", a.reference))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reference", default=None,
                    help="a second assay binary (e.g. an earlier release) timed in the same rounds")
    a = ap.parse_args()
    binaries = binaries_under_test(a)
    floor = os.path.join(a.build, "bench", "sqlite_floor")
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        traces = generate_traces(tmp, a.n)
        size = os.path.getsize(traces)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        floor_rates, floor5_rates = [], []
        rates = {name: [] for name, _ in binaries}
        rss = {name: [] for name, _ in binaries}
        for r in range(a.rounds):
            _, _, out, _ = run_with_rss([floor, traces, os.path.join(tmp, "floor.db")])
            floor_rates.append(float(out.split()[2]))
            _, _, out, _ = run_with_rss([floor, "--scores", "5", traces, os.path.join(tmp, "floor5.db")])
            floor5_rates.append(float(out.split()[2]))
            line = f"round {r + 1}: floor {floor_rates[-1]:,.0f}/s, floor+5 {floor5_rates[-1]:,.0f}/s"
            for name, exe in binaries:
                wall, peak, _, _ = run_with_rss([exe, "score", "--config", cfg, "--db",
                                                 os.path.join(tmp, name + ".db"), "--in", traces, "--quiet"])
                rates[name].append(a.n / wall)
                rss[name].append(peak)
                line += f", {name} {rates[name][-1]:,.0f} traces/s, peak RSS {peak:.0f} MiB"
            remove_databases(tmp)
            print(line, file=sys.stderr)
        med = statistics.median
        print("| traces | avg bytes | binary | floor traces/s | floor+5 scores traces/s | assay traces/s | "
              "assay / floor | assay / floor+5 | assay peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, _ in binaries:
            r1 = med([x / y for x, y in zip(rates[name], floor_rates)])
            r5 = med([x / y for x, y in zip(rates[name], floor5_rates)])
            print(f"| {a.n:,} | {size // a.n:,} | {name} | {med(floor_rates):,.0f} | {med(floor5_rates):,.0f} | "
                  f"{med(rates[name]):,.0f} | {r1:.2f} | {r5:.2f} | {med(rss[name]):.0f} MiB |")
        if a.reference:
            ratio = med([x / y for x, y in zip(rates["assay"], rates["ref"])])
            print(f"\nassay / ref rate (median of rounds): {ratio:.3f}")


if __name__ == "__main__":
    main()
