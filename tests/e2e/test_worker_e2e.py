#!/usr/bin/env python3
"""End-to-end: `assay worker` over real ZeroMQ sockets on 127.0.0.1.

- acknowledged pushes with `assay push` (hostile lines included): acks list the
  rejected lines, the store holds exactly the valid traces;
- fire-and-forget PULL and the README's pyzmq producer (examples/push_traces.py),
  run with Debian's python3-zmq;
- kill -9 in the middle of a 100,000-trace acknowledged push, restart, let the
  push finish: exactly 100,000 traces, each with all its code scores;
- SIGTERM drains and exits 0.

On SQLite by default; `--backend postgres` runs every step against a private
PostgreSQL server (tests/support/pg_server.py) instead.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, bad_lines, check, finish,  # noqa: E402
                        free_port, generate, on_backend, query_one, wait_for)
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 500}
worker: {flush_ms: 20}
""" + FIVE_SCORERS


def start(assay, cfg, db, args):
    return Worker(assay, ["--config", cfg, "--db", db] + args)


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    pyzmq = "/usr/bin/python3"
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)

    # 1. Acknowledged push with hostile lines.
    hostile = os.path.join(tmp, "hostile.jsonl")
    g = generate(a.source, hostile, "--n", "300", "--seed", "5", "--bad-lines", "18", check=True)
    bad, n_bad = bad_lines(g.stderr)
    db, store = backend.new_store("w")
    w = start(a.assay, cfg, db, ["--zmq-router", "tcp://127.0.0.1:*", "--zmq-pull", "tcp://127.0.0.1:*",
                                 "--http-listen", "127.0.0.1:0"])
    router, pull, http = w.endpoints["router"], w.endpoints["pull"], "http://" + w.endpoints["http"]
    p = subprocess.run([a.assay, "push", "--endpoint", router, "--in", hostile, "--batch", "7",
                        "--deadline-ms", "60000"], capture_output=True, text=True)
    check(p.returncode == 0, f"push exits 0 when all acked (rc={p.returncode}, {p.stderr[-300:]!r})")
    check("300 accepted" in p.stdout and f"{n_bad} rejected" in p.stdout, f"push summary: {p.stdout.strip()!r}")
    for kind, lines in bad.items():
        if kind != "empty_line":
            for line in lines:
                check(f"line {line} rejected:" in p.stderr, f"ack names rejected line {line} ({kind})")
    check(query_one(store, "SELECT count(*) FROM traces") == 300, "300 traces committed before their acks")
    check(query_one(store, "SELECT count(*) FROM dead_letters") == n_bad, f"{n_bad} dead letters")
    check(query_one(store, "SELECT count(*) FROM scores") == 300 * 5, "every trace has all 5 decisions")

    # Operations endpoints.
    import urllib.request
    get = lambda path: urllib.request.urlopen(http + path, timeout=5)
    check(get("/healthz").status == 200 and get("/readyz").status == 200, "/healthz and /readyz answer 200")
    metrics = get("/metrics").read().decode()
    check("assay_traces_committed_total 300" in metrics, "/metrics counts committed traces")
    check(f'assay_traces_rejected_total{{reason="invalid JSON"}}' in metrics, "/metrics counts rejections by reason")
    check('assay_decisions_total{scorer="pii",decision="scored"}' in metrics, "/metrics has decisions by scorer")
    check("assay_batch_commit_seconds_bucket" in metrics, "/metrics has the commit-latency histogram")
    pt = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
    check(pt.returncode == 0, f"promtool check metrics passes ({pt.stdout[-300:]}{pt.stderr[-300:]})")

    # 2. Fire-and-forget PULL, with garbage frames, and the README's pyzmq producer.
    have_pyzmq = subprocess.run([pyzmq, "-c", "import zmq"], capture_output=True).returncode == 0
    check(have_pyzmq, "Debian's python3-zmq is installed (ci/install-deps.sh)")
    if have_pyzmq:
        script = f"""
import zmq, json, time
s = zmq.Context().socket(zmq.PUSH); s.connect({pull!r})
s.send(json.dumps({{"trace_id": "pull-1", "output": "hello"}}).encode())
s.send_multipart([b'[{{"trace_id": "pull-2", "output": "a"}}, {{"trace_id": "pull-3", "output": "b"}}]', b'\\xff\\xfe binary garbage'])
s.send(b'{{"trace_id": "pull-4", "output": "' + b'[' * 100000 + b'"}}')
time.sleep(0.5)
"""
        r = subprocess.run([pyzmq, "-c", script], capture_output=True, text=True)
        check(r.returncode == 0, f"pyzmq PUSH ran ({r.stderr[-200:]!r})")
        got = wait_for(store, "SELECT count(*) FROM traces WHERE trace_id LIKE 'pull-%'", 4)
        check(got == 4, f"PULL traces stored, batch array split, brackets inside strings fine ({got})")
        got = wait_for(store, "SELECT count(*) FROM dead_letters WHERE source = 'zmq:pull'", 1)
        check(got == 1, f"the garbage frame is dead-lettered ({got})")
        example = os.path.join(a.source, "examples", "push_traces.py")
        small = os.path.join(tmp, "small.jsonl")
        generate(a.source, small, "--n", "50", "--seed", "9", check=True)
        r = subprocess.run([pyzmq, example, router, small], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "all acknowledged" in r.stdout, f"README pyzmq producer ({r.stderr[-200:]!r})")
        # A fuzz-like mix on both sockets: garbage, truncated JSON, empty and
        # oversized frames, bad ids, mixed with valid traces. The worker must
        # stay up and store every valid trace.
        fuzz = f'''
import json, random, zmq
rnd = random.Random(1234)
ctx = zmq.Context()
push = ctx.socket(zmq.PUSH); push.connect({pull!r})
dealer = ctx.socket(zmq.DEALER); dealer.connect({router!r})
valid = 0
for i in range(400):
    good = json.dumps({{"trace_id": f"fuzz-{{i}}", "output": "ok " * rnd.randint(0, 50)}}).encode()
    kind = rnd.randint(0, 7)
    junk = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 300))), good[: rnd.randint(0, len(good))],
            b"", b"[" * 5000, b"{{}}", b'[{{"trace_id": 1}}]', b"\\x00" * 10, b"x" * 70000][kind]
    if i % 2 == 0:
        push.send_multipart([good, junk])
    else:
        dealer.send_multipart([str(i).encode(), junk, good])
    valid += 1
dealer.send_multipart([b"i" * 200, b'{{"trace_id": "bad-id", "output": "x"}}'])   # id too long
dealer.send_multipart([b""])                                                   # empty id, nothing else
acks = 0
while dealer.poll(5000):
    dealer.recv_multipart(); acks += 1
    if acks == 200:
        break
print(valid, acks)
'''
        r = subprocess.run([pyzmq, "-c", fuzz], capture_output=True, text=True, timeout=120)
        valid, acks = (int(x) for x in r.stdout.split()) if r.returncode == 0 else (0, 0)
        check(r.returncode == 0 and acks == 200, f"fuzz mix sent, every ROUTER message acked ({acks}, {r.stderr[-200:]!r})")
        got = wait_for(store, "SELECT count(*) FROM traces WHERE trace_id LIKE 'fuzz-%'", 400)
        check(got == 400, f"every valid trace in the fuzz mix is stored ({got}/400)")
        check(w.p.poll() is None and get("/readyz").status == 200, "the worker is still up and ready")
        raw_text = "convert_from(raw, 'UTF8')" if store.psql else "CAST(raw AS TEXT)"
        got = wait_for(store, "SELECT count(*) FROM dead_letters WHERE error LIKE '%id frame must be 1-128 bytes, "
                              "got 200' AND " + raw_text + " LIKE '%bad-id%'", 1)
        check(got == 1, "the payload of a message with an oversized id is dead-lettered with the reason")
        got = wait_for(store, "SELECT count(*) FROM dead_letters WHERE error LIKE '%id frame must be 1-128 bytes, got 0'", 1)
        check(got == 1, "a message with an empty id frame is dead-lettered")
    rc = w.stop()
    check(rc == 0, f"SIGTERM: worker drains and exits 0 (rc={rc})")

    # 3. kill -9 in the middle of a 100,000-trace acknowledged push.
    big = os.path.join(tmp, "big.jsonl")
    generate(a.source, big, "--size", "bench", "--n", "100000", "--seed", "2", check=True)
    db2, store2 = backend.new_store("crash")
    port = free_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    w = start(a.assay, cfg, db2, ["--zmq-router", endpoint])
    push = subprocess.Popen([a.assay, "push", "--endpoint", endpoint, "--in", big, "--window", "5000",
                             "--batch", "100", "--timeout-ms", "1000", "--deadline-ms", "240000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mid = wait_for(store2, "SELECT CASE WHEN count(*) > 10000 THEN 1 ELSE 0 END FROM traces", 1, seconds=180)
    w.p.kill()  # SIGKILL: no drain, no goodbye
    w.p.wait()
    before = query_one(store2, "SELECT count(*) FROM traces")
    check(mid == 1 and 0 < before < 100000, f"killed mid-push with {before} traces committed")
    time.sleep(0.5)
    w = start(a.assay, cfg, db2, ["--zmq-router", endpoint])
    out, err = push.communicate(timeout=300)
    check(push.returncode == 0, f"push finishes after the restart (rc={push.returncode}, {err[-300:]!r})")
    rc = w.stop()
    check(rc == 0, "restarted worker exits 0 on SIGTERM")
    check(query_one(store2, "SELECT count(*) FROM traces") == 100000, "exactly 100,000 traces")
    check(query_one(store2, "SELECT count(DISTINCT trace_id) FROM traces") == 100000, "no duplicate traces")
    check(query_one(store2, "SELECT count(*) FROM scores") == 500000, "exactly 5 decisions per trace")
    check(query_one(store2, "SELECT count(*) FROM (SELECT trace FROM scores GROUP BY trace "
                         "HAVING count(*) <> 5) AS t") == 0, "no trace is missing a score")
    check(query_one(store2, "SELECT count(*) FROM dead_letters") == 0, "nothing dead-lettered")

    return finish("all worker end-to-end checks passed (%s)" % a.backend)


if __name__ == "__main__":
    sys.exit(main())
