#!/usr/bin/env python3
"""What each index and key of `traces` and `scores` costs a load (issue 13).

Starts a private PostgreSQL server (tests/support/pg_server.py, fsync off as in
the tests), stores N bench traces with `assay score` (import_bench.py's four
code scorers), and takes the rows it stored. Then, for R rounds, loads those
rows with one psql transaction (`\\copy traces`, `\\copy scores`) into a fresh
database with Assay's whole schema (pg_dump of the stored database), once with
every index and key ("all"), once with one of them dropped in turn, and once
with none ("none": the columns only, pg_write_bench.py's floor). Prints per
variant the median CPU time (psql plus its server backend) and wall time, and
what the dropped object costs: all - variant.

Usage: python3 bench/pg_index_cost.py [--n 20000] [--rounds 3] [--build build] [--only-groups]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from import_bench import CONFIG4  # noqa: E402
from pg_write_bench import FLOOR, psql, run_cpu  # noqa: E402
from score_bench import generate_traces  # noqa: E402
import pg_server  # noqa: E402

# The objects dropped in turn: index names, and constraints as table.name.
LIST = """SELECT 'index', indexrelid::regclass::text FROM pg_index i
  WHERE indrelid IN ('traces'::regclass, 'scores'::regclass)
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname FROM pg_constraint
  WHERE conrelid IN ('traces'::regclass, 'scores'::regclass) AND contype IN ('p', 'u', 'f')
ORDER BY 2"""


def drop_sql(kind, name):
    if kind == "index":
        return "DROP INDEX %s" % name
    table, con = name.split(".", 1)
    return "ALTER TABLE %s DROP CONSTRAINT %s CASCADE" % (table, con)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--only-groups", action="store_true", help="skip the objects one by one")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-pgidx-") as tmp, pg_server.PgServer() as pg:
        traces = generate_traces(tmp, a.n)
        cfg = os.path.join(tmp, "bench4.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG4)
        src = pg.create_db("src")
        subprocess.run([os.path.join(a.build, "assay"), "score", "--config", cfg, "--db", src, "--in",
                        traces, "--quiet"], check=True)
        rows = {t: os.path.join(tmp, t + ".copy") for t in ("traces", "scores", "scorer_versions", "decisions")}
        for t, path in rows.items():
            psql(pg, src, "-c", "\\copy %s TO '%s'" % (t, path))
        dump = [os.path.join(pg.bin, "pg_dump"), "--schema-only", "--no-owner", "-d", src]
        full = subprocess.run(dump, check=True, capture_output=True, text=True).stdout
        bare = subprocess.run(dump + ["--section=pre-data", "-t", "traces", "-t", "scores"], check=True,
                              capture_output=True, text=True).stdout
        objects = [tuple(line.split("|")) for line in
                   psql(pg, src, "-A", "-t", "-c", LIST).strip().splitlines()]
        # Each object alone, then groups: the foreign keys, the secondary
        # indexes of each table (what a change of the schema can touch).
        fks = [o for o in objects if o[1].endswith("_fkey")]
        keys = [o[1] for o in objects if o[0] == "constraint"]
        second = {t: [o for o in objects if o[0] == "index" and o[1].startswith(t + "_")]
                  for t in ("traces", "scores")}
        variants = ([("all", [])] + [("-" + name, [(kind, name)]) for kind, name in objects] +
                    [("-foreign keys of scores", fks)] +
                    [("-secondary indexes of " + t, second[t]) for t in ("traces", "scores")] +
                    [("only " + ", ".join(keys), second["traces"] + second["scores"])] + [("none", [])])
        if a.only_groups:
            variants = [v for v in variants if not v[0].startswith("-") or len(v[1]) > 1]
        cpu = {v: [] for v, _ in variants}
        wall = {v: [] for v, _ in variants}
        k = 0
        for r in range(a.rounds):
            for v, drop in variants:
                k += 1
                uri = pg.create_db("v%d" % k)
                if v == "none":
                    psql(pg, uri, stdin=bare)
                else:
                    psql(pg, uri, stdin=full)
                    for t in ("scorer_versions", "decisions"):
                        psql(pg, uri, "-c", "\\copy %s FROM '%s'" % (t, rows[t]))
                    for d in drop:
                        psql(pg, uri, "-c", drop_sql(*d))
                run_cpu.children = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
                w, c = run_cpu(pg, [os.path.join(pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                    "-d", uri], stdin=FLOOR.format(**rows).encode())
                wall[v].append(w)
                cpu[v].append(c)
                psql(pg, pg.uri("postgres"), "-c", "DROP DATABASE v%d" % k)
            print("round %d done" % (r + 1), file=sys.stderr)
        med = statistics.median
        base_c, base_w = med(cpu["all"]), med(wall["all"])
        print("| load | CPU s | wall s | costs (CPU s, all - this) | share of all's CPU |")
        print("|---|---|---|---|---|")
        for v, _ in variants:
            c, w = med(cpu[v]), med(wall[v])
            print("| %s | %.2f | %.2f | %s | %s |" % (
                v, c, w, "" if v == "all" else "%.2f" % (base_c - c),
                "" if v == "all" else "%.0f%%" % (100 * (base_c - c) / base_c)))


if __name__ == "__main__":
    main()
