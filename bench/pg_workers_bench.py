#!/usr/bin/env python3
"""Several `assay worker` processes against one PostgreSQL database (issue 13).

Starts a private PostgreSQL server (tests/support/pg_server.py: Unix socket,
fsync off as in the tests), generates N traces (~1.2 KB each), then per round
and for K = 1, 2, 3 workers (--workers), each into a fresh database:
  K workers (`assay worker --db postgresql://... --zmq-router ...`), and one
  `assay push` that spreads the same N traces over all of them (one DEALER
  connected to every ROUTER), timed from the first send to the last ack.
Reports, per K, the median total rate (traces/s), the ratio to one worker,
and the median peak RSS per worker (wait4() after SIGTERM), and checks that
the store holds exactly N traces with 5 decisions each.

The machine has 2 cores and the server shares them: the workers' total rate
is bounded by the cores, not by the store; read the ratios as "more workers
do not slow the store down", not as scaling.

Usage: python3 bench/pg_workers_bench.py [--n 100000] [--rounds 3] [--build build] [--workers 1,2,3]
"""
import argparse
import os
import re
import signal
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
from score_bench import generate_traces  # noqa: E402
from scorer_configs import FIVE_SCORERS  # noqa: E402
import pg_server  # noqa: E402

CONFIG = """
pipeline: {batch_size: 2000}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def count(pg, uri, sql):
    r = subprocess.run([os.path.join(pg.bin, "psql"), "-X", "-A", "-t", "-d", uri, "-c", sql],
                       check=True, capture_output=True, text=True)
    return int(r.stdout.strip())


def run(assay, cfg, uri, traces, n, k):
    """One run with k workers: (traces/s, [peak RSS MiB per worker])."""
    workers = []
    for _ in range(k):
        p = subprocess.Popen([assay, "worker", "--config", cfg, "--db", uri, "--zmq-router", "tcp://127.0.0.1:*"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        m = re.search(r"router=(\S+)", line)
        if not m:
            sys.exit("pg_workers_bench: worker did not start: " + line)
        workers.append((p, m.group(1)))
    cmd = [assay, "push", "--in", traces, "--batch", "100", "--window", "20000", "--deadline-ms", "1800000"]
    for _, endpoint in workers:
        cmd += ["--endpoint", endpoint]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rate = n / (time.perf_counter() - t0)
    rss = []
    for p, _ in workers:
        p.send_signal(signal.SIGTERM)
        _, status, ru = os.wait4(p.pid, 0)
        rss.append(ru.ru_maxrss / 1024)
    return rate, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", default="1,2,3")
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    ks = [int(x) for x in a.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="assay-pgw-") as tmp, pg_server.PgServer() as pg:
        traces = generate_traces(tmp, a.n)
        cfg = os.path.join(tmp, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        rates = {k: [] for k in ks}
        rss = {k: [] for k in ks}
        for r in range(a.rounds):
            for k in ks:
                uri = pg.create_db("w%d_%d" % (k, r))
                rate, peaks = run(assay, cfg, uri, traces, a.n, k)
                stored = count(pg, uri, "SELECT count(*) FROM traces")
                scores = count(pg, uri, "SELECT count(*) FROM scores")
                if stored != a.n or scores != 5 * a.n:
                    sys.exit("pg_workers_bench: %d workers stored %d traces, %d decisions (want %d, %d)"
                             % (k, stored, scores, a.n, 5 * a.n))
                rates[k].append(rate)
                rss[k].extend(peaks)
                print("round %d: %d worker(s) %.0f traces/s, peak RSS %s MiB"
                      % (r + 1, k, rate, ", ".join("%.0f" % x for x in peaks)), file=sys.stderr)
        med = statistics.median
        one = med(rates[ks[0]])
        print("| workers | traces/s (median) | vs %d | peak RSS per worker (median) |" % ks[0])
        print("|---|---|---|---|")
        for k in ks:
            print("| %d | %s | %.2f | %.0f MiB |" % (k, f"{med(rates[k]):,.0f}", med(rates[k]) / one, med(rss[k])))


if __name__ == "__main__":
    main()
