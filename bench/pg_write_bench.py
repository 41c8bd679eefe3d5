#!/usr/bin/env python3
"""`assay score` into PostgreSQL against a plain COPY of the same rows (issue 13).

Starts a private PostgreSQL server (tests/support/pg_server.py: initdb into a
temporary folder, Unix socket only; fsync, synchronous_commit and
full_page_writes off, as in the tests: both sides of the ratio run on the same
server with the same settings), generates N traces (~1.2 KB each,
datasets/demo/generate.py --size bench), then alternates R rounds of, each into
a fresh database:
  assay:  `assay score --db postgresql://...` with four code scorers
          (import_bench.py's set), as a whole process;
  copy:   the floor: psql running one transaction of two `\\copy ... FROM`
          commands that load the very trace and score rows assay stored (taken
          from the first round with COPY TO) into tables with the same columns
          and no index or constraint (pg_dump --section=pre-data), as a whole
          process (start, read, load, commit);
  schema: the second floor: the same psql transaction into Assay's own schema
          (pg_dump --schema-only of the database assay stored, with its
          scorer_versions and decisions rows: every index, key and CHECK, as
          bench/pg_index_cost.py's "all"), so that assay / schema is the part
          of the gap that is the writer, not the schema;
  ref:    (with --reference ASSAY) assay with a second binary.
Prints medians and the median of the per-round ratios assay / copy (wall time;
target <= 2.0) and assay / schema, and the same ratios of CPU time (the client
process plus its server backend, read from the postmaster's reaped-children
times): less sensitive than wall time to other work on a shared machine.

Usage: python3 bench/pg_write_bench.py [--n 100000] [--rounds 3] [--build build]
                                       [--reference /path/to/other/assay]
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
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from import_bench import CONFIG4  # noqa: E402
from score_bench import binaries_under_test, generate_traces  # noqa: E402
import pg_server  # noqa: E402

FLOOR = """BEGIN;
\\copy traces FROM '{traces}'
\\copy scores FROM '{scores}'
COMMIT;
"""


def psql(pg, uri, *args, stdin=None):
    r = subprocess.run([os.path.join(pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri, *args],
                       input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("pg_write_bench: psql %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def server_cpu(pg):
    """CPU seconds of the server's ended children (the backends of finished
    connections): the postmaster's cutime + cstime."""
    pid = int(open(os.path.join(pg.data, "postmaster.pid")).readline())
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")


def run_cpu(pg, cmd, stdin=None):
    """cmd run as run_with_rss does; returns (wall seconds, CPU seconds of cmd
    and of its server backend)."""
    before = server_cpu(pg)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = p.communicate(stdin)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("pg_write_bench: %s failed: %s" % (cmd[0], err[-500:].decode(errors="replace")))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = ru.ru_utime + ru.ru_stime - run_cpu.children
    run_cpu.children = ru.ru_utime + ru.ru_stime
    for _ in range(50):  # until the postmaster has reaped the backend
        time.sleep(0.1)
        server = server_cpu(pg) - before
        if server > 0:
            break
    return wall, client + server


run_cpu.children = 0.0


def count(pg, uri, table):
    return int(psql(pg, uri, "-A", "-t", "-c", "SELECT count(*) FROM %s" % table).strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reference", default=None, help="a second assay binary timed in the same rounds")
    a = ap.parse_args()
    binaries = binaries_under_test(a)
    with tempfile.TemporaryDirectory(prefix="assay-pgbench-") as tmp, pg_server.PgServer() as pg:
        traces = generate_traces(tmp, a.n)
        cfg = os.path.join(tmp, "bench4.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG4)
        rows = {t: os.path.join(tmp, t + ".copy") for t in ("traces", "scores")}
        refs = {t: os.path.join(tmp, t + ".copy") for t in ("scorer_versions", "decisions")}
        ddl = full = None
        copies, walls = [], {name: [] for name, _ in binaries}
        copy_cpus, cpus = [], {name: [] for name, _ in binaries}
        schemas, schema_cpus = [], []
        for r in range(a.rounds):
            line = "round %d:" % (r + 1)
            for name, exe in binaries:
                uri = pg.create_db("%s_%d" % (name, r))
                run_cpu.children = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
                wall, cpu = run_cpu(pg, [exe, "score", "--config", cfg, "--db", uri, "--in", traces, "--quiet"])
                cpus[name].append(cpu)
                if count(pg, uri, "traces") != a.n:
                    sys.exit("pg_write_bench: %s did not store every trace" % exe)
                walls[name].append(wall)
                line += " %s %.0f traces/s" % (name, a.n / wall)
                if ddl is None:
                    # The floors' input: the rows this run stored, their tables' columns, and
                    # the whole schema with the rows the scores name.
                    for t, path in list(rows.items()) + list(refs.items()):
                        psql(pg, uri, "-c", "\\copy %s TO '%s'" % (t, path))
                    dump = [os.path.join(pg.bin, "pg_dump"), "--schema-only", "--no-owner", "-d", uri]
                    ddl = subprocess.run(dump[:-2] + ["--section=pre-data", "-t", "traces", "-t", "scores",
                                                      "-d", uri],
                                         check=True, capture_output=True, text=True).stdout
                    full = subprocess.run(dump, check=True, capture_output=True, text=True).stdout
            uri = pg.create_db("copy_%d" % r)
            psql(pg, uri, stdin=ddl)
            run_cpu.children = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
            wall, cpu = run_cpu(pg, [os.path.join(pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                     "-d", uri], stdin=FLOOR.format(**rows).encode())
            copy_cpus.append(cpu)
            if count(pg, uri, "traces") != a.n:
                sys.exit("pg_write_bench: the COPY floor did not load every trace")
            copies.append(wall)
            line += ", copy %.0f traces/s" % (a.n / wall)
            uri = pg.create_db("schema_%d" % r)
            psql(pg, uri, stdin=full)
            for t, path in refs.items():
                psql(pg, uri, "-c", "\\copy %s FROM '%s'" % (t, path))
            run_cpu.children = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
            swall, scpu = run_cpu(pg, [os.path.join(pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                       "-d", uri], stdin=FLOOR.format(**rows).encode())
            if count(pg, uri, "traces") != a.n:
                sys.exit("pg_write_bench: the COPY into the schema did not load every trace")
            schemas.append(swall)
            schema_cpus.append(scpu)
            line += ", schema %.0f traces/s" % (a.n / swall)
            for name, _ in binaries:
                line += ", %s/copy %.2f (CPU %.2f)" % (name, walls[name][-1] / wall, cpus[name][-1] / cpu)
            print(line, file=sys.stderr)
        med = statistics.median
        scores = sum(1 for _ in open(rows["scores"]))
        print("| traces | score rows | binary | COPY traces/s | assay traces/s | assay / COPY (time) "
              "| CPU s: COPY, assay | assay / COPY (CPU) |")
        print("|---|---|---|---|---|---|---|---|")
        for name, _ in binaries:
            ratio = med([w / c for w, c in zip(walls[name], copies)])
            cpu_ratio = med([w / c for w, c in zip(cpus[name], copy_cpus)])
            print("| %s | %s | %s | %s | %s | %.2f | %.2f, %.2f | %.2f |"
                  % (f"{a.n:,}", f"{scores:,}", name, f"{a.n / med(copies):,.0f}",
                     f"{a.n / med(walls[name]):,.0f}", ratio, med(copy_cpus), med(cpus[name]), cpu_ratio))
        print("\nThe second floor, COPY into Assay's schema (%s's): %s traces/s, CPU %.2f s; schema / COPY "
              "%.2f wall, %.2f CPU" % (binaries[0][0], f"{a.n / med(schemas):,.0f}", med(schema_cpus),
                                       med([x / y for x, y in zip(schemas, copies)]),
                                       med([x / y for x, y in zip(schema_cpus, copy_cpus)])))
        for name, _ in binaries:
            print("%s / schema: %.2f wall, %.2f CPU" % (
                name, med([x / y for x, y in zip(walls[name], schemas)]),
                med([x / y for x, y in zip(cpus[name], schema_cpus)])))
        if a.reference:
            print("\nassay / ref wall time (median of rounds): %.3f; CPU time: %.3f"
                  % (med([x / y for x, y in zip(walls["assay"], walls["ref"])]),
                     med([x / y for x, y in zip(cpus["assay"], cpus["ref"])])))


if __name__ == "__main__":
    main()
