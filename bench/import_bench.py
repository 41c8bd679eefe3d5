#!/usr/bin/env python3
"""`assay score` against a plain `sqlite3` CLI `.import` of the same traces.

Generates N traces (~1.2 KB each, datasets/demo/generate.py --size bench),
then alternates R rounds of, each into a fresh database file:
  import:  Debian's `sqlite3` CLI importing the JSONL lines as one TEXT column
           of a one-table file (`.mode ascii`, column separator 0x1F, which
           never occurs in JSON text, row separator newline), as a whole
           process (start, read, insert, commit);
  assay:   `assay score` with four code scorers (format/json, refusal, length,
           pii_leak; the first four of score_bench.py's set) into a fresh
           SQLite file, as a whole process (a new file is built under a
           private name without a WAL and renamed into place at the end:
           README, `assay score`);
  ref:     (with --reference ASSAY) the same with a second assay binary, e.g.
           an earlier release built in another worktree.
  floor:   build/bench/sqlite_floor --scores 4: plain SQLite inserting the
           same trace rows and 4 score rows per trace into Assay's own schema
           (its indexes, its pragmas), one transaction, one prepared statement
           per table, values extracted before its clock starts, its commit
           running SQLite's checkpoint of the WAL into the file (as assay's
           checkpoint thread and close do): what storing these rows in this
           schema costs SQLite itself in WAL mode (as in a store that is
           written in place), with no parsing, scoring or batching.
Prints medians and the median of the per-round ratios assay / import (wall
time; target <= 2.0), floor / import and assay / floor. `--stages` also runs
assay with --log-level debug once more per round and prints the median
busy/wait seconds of its stages.

Usage: python3 bench/import_bench.py [--n 100000] [--rounds 5] [--build build]
                                     [--reference /path/to/other/assay] [--sqlite3 sqlite3]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from score_bench import binaries_under_test, generate_traces, remove_databases, run_with_rss  # noqa: E402
from scorer_configs import scorers_block  # noqa: E402

# The four code scorers of the target: score_bench.py's five without truncation.
CONFIG4 = "pipeline: {batch_size: 2000}\n" + scorers_block("json", "refusal", "length", "pii")
IMPORT = """CREATE TABLE traces (line TEXT);
.mode ascii
.separator "\\037" "\\n"
.import '{path}' traces
"""


def sqlite3_import(sqlite3, traces, db):
    """Imports traces into db with the sqlite3 CLI; returns wall seconds."""
    script = IMPORT.format(path=traces.replace("'", "''"))
    wall, _, _, _ = run_with_rss([sqlite3, db], stdin=script.encode())
    return wall


def count_rows(sqlite3, db, table):
    out = subprocess.run([sqlite3, db, f"SELECT count(*) FROM {table}"], check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip())


STAGES = re.compile(r"scoring busy ([\d.]+) s, waited ([\d.]+) s; writer busy ([\d.]+) s, waited ([\d.]+) s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reference", default=None, help="a second assay binary timed in the same rounds")
    ap.add_argument("--sqlite3", default=shutil.which("sqlite3") or "sqlite3")
    ap.add_argument("--stages", action="store_true", help="also print assay's stage busy/wait times")
    a = ap.parse_args()
    binaries = binaries_under_test(a)
    with tempfile.TemporaryDirectory(prefix="assay-ibench-") as tmp:
        traces = generate_traces(tmp, a.n)
        size = os.path.getsize(traces)
        cfg = os.path.join(tmp, "bench4.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG4)
        imports = []
        walls = {name: [] for name, _ in binaries}
        rss = {name: [] for name, _ in binaries}
        stages = []
        floors = []
        floor = os.path.join(a.build, "bench", "sqlite_floor")
        for r in range(a.rounds):
            db = os.path.join(tmp, "import.db")
            imports.append(sqlite3_import(a.sqlite3, traces, db))
            if count_rows(a.sqlite3, db, "traces") != a.n:
                sys.exit("import_bench: sqlite3 .import did not store one row per line")
            line = f"round {r + 1}: import {a.n / imports[-1]:,.0f} rows/s"
            db = os.path.join(tmp, "floor.db")
            _, _, out, _ = run_with_rss([floor, "--scores", "4", traces, db])
            floors.append(float(out.split()[1]))
            if count_rows(a.sqlite3, db, "scores") != 4 * a.n:
                sys.exit("import_bench: sqlite_floor did not store 4 score rows per trace")
            line += f", schema floor {a.n / floors[-1]:,.0f} traces/s ({floors[-1] / imports[-1]:.2f}x)"
            for name, exe in binaries:
                db = os.path.join(tmp, name + ".db")
                wall, peak, _, _ = run_with_rss([exe, "score", "--config", cfg, "--db", db, "--in", traces, "--quiet"])
                if count_rows(a.sqlite3, db, "traces") != a.n:
                    sys.exit(f"import_bench: {exe} did not store every trace")
                walls[name].append(wall)
                rss[name].append(peak)
                line += f", {name} {a.n / wall:,.0f} traces/s ({wall / imports[-1]:.2f}x)"
            if a.stages:
                _, _, _, err = run_with_rss([binaries[0][1], "score", "--config", cfg, "--db",
                                             os.path.join(tmp, "stages.db"), "--in", traces, "--quiet",
                                             "--log-level", "debug"])
                m = STAGES.search(err)
                if m:
                    stages.append([float(x) for x in m.groups()])
            remove_databases(tmp)
            print(line, file=sys.stderr)
        med = statistics.median
        print(f"| traces | avg bytes | binary | sqlite3 .import rows/s | schema floor traces/s | "
              f"assay traces/s | assay / import (time) | floor / import | assay / floor | assay peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        floor_ratio = med([f / i for f, i in zip(floors, imports)])
        for name, exe in binaries:
            ratio = med([w / i for w, i in zip(walls[name], imports)])
            over_floor = med([w / f for w, f in zip(walls[name], floors)])
            print(f"| {a.n:,} | {size // a.n:,} | {name} | {a.n / med(imports):,.0f} | "
                  f"{a.n / med(floors):,.0f} | {a.n / med(walls[name]):,.0f} | {ratio:.2f} | "
                  f"{floor_ratio:.2f} | {over_floor:.2f} | {med(rss[name]):.0f} MiB |")
        if a.reference:
            after = med([x / y for x, y in zip(walls["assay"], walls["ref"])])
            print(f"\nassay / ref wall time (median of rounds): {after:.3f}")
        if stages:
            cols = list(zip(*stages))
            print(f"\nassay stages (median s): scoring busy {med(cols[0]):.2f} (summed over threads), "
                  f"waited {med(cols[1]):.2f}; writer busy {med(cols[2]):.2f}, waited {med(cols[3]):.2f}")


if __name__ == "__main__":
    main()
