#!/usr/bin/env python3
"""End-to-end: `assay push` to an endpoint nobody listens on says what it is
waiting for instead of hanging silently.

- stderr not a terminal: after about 5 s without an ack, exactly one line
  naming the endpoint and the unacknowledged traces; --deadline-ms still ends
  the run with exit 1 and a line saying what was left;
- stderr a terminal (a pseudo-terminal): a progress line naming the endpoint
  within the first second, refreshed in place;
- a worker that starts listening later: the push completes (exit 0) and says
  that acknowledgements resumed, and its store holds every trace once with its
  decision.

On SQLite by default; `--backend postgres` gives the late worker a database on
a private PostgreSQL server instead.
"""
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import Worker, add_backend_argument, arguments, check, finish, free_port, on_backend  # noqa: E402


def read_lines_until(proc, seconds):
    """(time since start, line) for each stderr line of proc until it exits or seconds pass."""
    out = []
    start = time.time()
    fd = proc.stderr.fileno()
    buf = b""
    while time.time() - start < seconds:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out.append((time.time() - start, line.decode(errors="replace")))
        elif proc.poll() is not None:
            break
    return out


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def push_without_worker(a, traces, endpoint):
    """Steps 1 and 2: the push's lines while no worker listens."""
    # 1. Not a terminal: one line after ~5 s without an ack, then the deadline.
    p = subprocess.Popen([a.assay, "push", "--endpoint", endpoint, "--in", traces, "--deadline-ms", "9000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = read_lines_until(p, 30)
    rc = p.wait(10)
    stall = [(t, l) for t, l in lines if "no acknowledgement" in l]
    check(len(stall) == 1, f"one stall line, not a stream ({lines!r})")
    if stall:
        t, l = stall[0]
        check(4.0 <= t <= 8.5, f"the stall line comes after a few seconds without an ack ({t:.1f} s)")
        check(endpoint in l and "250 traces in 3 messages unacknowledged" in l,
              f"the stall line names the endpoint and what is unacknowledged ({l!r})")
    check(rc == 1, f"--deadline-ms still ends the run with exit 1 (rc={rc})")
    last = lines[-1][1] if lines else ""
    check("--deadline-ms 9000 passed" in last and endpoint in last and "250 traces" in last,
          f"the deadline line says what was left and where ({last!r})")

    # 2. A terminal: a progress line at once, refreshed in place.
    master, slave = pty.openpty()
    p = subprocess.Popen([a.assay, "push", "--endpoint", endpoint, "--in", traces, "--deadline-ms", "2500"],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    seen = b""
    first = None
    start = time.time()
    while time.time() - start < 10:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if first is None and endpoint.encode() in seen:
                first = time.time() - start
        elif p.poll() is not None:
            break
    p.wait(10)
    os.close(master)
    text = seen.decode(errors="replace")
    check(first is not None and first < 1.5, f"terminal: progress within the first second ({first})")
    check("250 sent, 0 acknowledged, 250 traces in 3 messages unacknowledged" in text and "no ack yet" in text,
          f"terminal: the progress line says what is sent and waiting ({text[:300]!r})")
    check(text.count("\r") >= 3, f"terminal: the line is refreshed in place ({text.count(chr(13))} updates)")
    check("no acknowledgement from" not in text, "terminal: progress instead of the stall line")


def scenario(a, tmp, backend):
    traces = os.path.join(tmp, "t.jsonl")
    with open(traces, "w") as f:
        for i in range(250):
            f.write('{"trace_id": "push-%03d", "input": "q", "output": "a"}\n' % i)
    port = free_port()
    endpoint = "tcp://127.0.0.1:%d" % port

    # Steps 1 and 2 run no worker and touch no store: on SQLite only, not
    # repeated for PostgreSQL.
    if backend.backend == "sqlite":
        push_without_worker(a, traces, endpoint)

    # 3. A worker that comes up later: the push finishes and says so.
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write("worker: {flush_ms: 20}\nscorers:\n  - {name: length, type: length}\n")
    db, store = backend.new_store("w")
    p = subprocess.Popen([a.assay, "push", "--endpoint", endpoint, "--in", traces, "--timeout-ms", "500",
                          "--deadline-ms", "60000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = read_lines_until(p, 6.5)
    check(any("no acknowledgement" in l for _, l in lines), "late worker: the stall is reported first")
    w = Worker(a.assay, ["--config", cfg, "--db", db, "--zmq-router", endpoint])
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, f"late worker: the push completes (rc={p.returncode}, {err[-300:]!r})")
    check(b"acknowledgements from " + endpoint.encode() + b" resumed" in err,
          f"late worker: it says the acks resumed ({err[-300:]!r})")
    check(b"250 traces acknowledged" in out, f"late worker: every trace acknowledged ({out!r})")
    check(w.stop() == 0, "worker exits 0 on SIGTERM")
    stored = store.one("SELECT count(DISTINCT trace_id) FROM traces WHERE trace_id LIKE 'push-%'")
    check(stored == 250 and store.one("SELECT count(*) FROM traces") == 250,
          f"late worker: its store holds the 250 traces once ({stored})")
    check(store.one("SELECT count(*) FROM scores") == 250, "late worker: each with its length decision")
    check(store.one("SELECT count(*) FROM dead_letters") == 0, "late worker: nothing dead-lettered")
    return finish("all push checks passed (%s)" % a.backend)


if __name__ == "__main__":
    sys.exit(main())
