#!/usr/bin/env python3
"""Regression test (issue "Servers that hold against hostile clients", item 5):
a ZeroMQ message with more traces than worker.zmq_max_traces_per_message is
refused whole, with one reason in its ack and one dead letter, never split
silently; an ack's size is bounded (rejections beyond 100 are counted, not
listed); and `assay push` never sends a line cut at its size limit.

Against the real worker on 127.0.0.1 with a limit of 1,000:
- a DEALER message holding a JSON array of a million `1`s: its ack says
  accepted 0 and gives the one reason (naming the key and the limit), the
  store holds exactly one dead letter with the whole message, the counter
  assay_zmq_messages_too_many_traces_total is 1, and the ack comes at once;
- the same on the PULL socket: one more dead letter, counter 2;
- a message of 500 invalid traces (under the limit): 500 dead letters, an ack
  listing 100 of them with rejected_total 500, under 20 KB;
- `assay push --batch 1500` of 2,000 valid lines: the first message is
  refused whole and push says so with its line range; the worker stays up,
  /healthz answers, and a valid message afterwards is accepted.

On SQLite by default; `--backend postgres` runs it against a private
PostgreSQL server (dead letters and counts read through StoreDb)."""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from e2e_common import (Worker, add_backend_argument, arguments, check, finish, generate, on_backend,
                        query_all, query_one)

PYZMQ = "/usr/bin/python3"  # Debian's python3-zmq

CLIENT = r'''
import json, sys, time, zmq
router, pull = sys.argv[1], sys.argv[2]
ctx = zmq.Context()
dealer = ctx.socket(zmq.DEALER); dealer.connect(router)
push = ctx.socket(zmq.PUSH); push.connect(pull)
out = {}
def ask(mid, *frames):
    t = time.monotonic()
    dealer.send_multipart([mid] + list(frames))
    if not dealer.poll(30000):
        return None, None, None
    rid, ack = dealer.recv_multipart()
    return rid.decode(), ack.decode(), time.monotonic() - t
million = b"[" + b",".join([b"1"] * 1000000) + b"]"
out["million_len"] = len(million)
out["million"] = ask(b"m1", million)
push.send_multipart([million])
bad = b"[" + b",".join([b'{"trace_id": 7}'] * 500) + b"]"
out["bad"] = ask(b"b1", bad)
out["good"] = ask(b"g1", json.dumps({"trace_id": "after-1", "output": "fine"}).encode())
print(json.dumps(out))
'''


def scenario(a, tmp, backend):
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write("worker: {flush_ms: 20, zmq_max_traces_per_message: 1000}\n"
                "scorers:\n  - {name: refusal, type: refusal}\n")
    db, store = backend.new_store("w")
    w = Worker(a.assay, ["--config", cfg, "--db", db, "--zmq-router", "tcp://127.0.0.1:*",
                         "--zmq-pull", "tcp://127.0.0.1:*", "--http-listen", "127.0.0.1:0"],
               need=("router", "pull", "http"))
    try:
        router, pull = w.endpoints["router"], w.endpoints["pull"]
        r = subprocess.run([PYZMQ, "-c", CLIENT, router, pull], capture_output=True, text=True, timeout=180)
        check(r.returncode == 0, "the ZeroMQ client ran (%s)" % r.stderr[-300:])
        out = json.loads(r.stdout) if r.returncode == 0 else {}

        rid, ack, secs = out.get("million", (None, None, None))
        ack = json.loads(ack) if ack else {}
        check(rid == "m1" and ack.get("accepted") == 0 and ack.get("rejected") == [],
              "a million-item message: accepted 0, nothing listed (%s)" % str(ack)[:300])
        check("worker.zmq_max_traces_per_message" in ack.get("error", "") and "1000" in ack.get("error", ""),
              "its one reason names the key and the limit: %r" % ack.get("error"))
        check(secs is not None and secs < 10, "the ack comes at once (%.2f s)" % (secs or -1))
        n_dead, raw_len = query_all(store, "SELECT count(*), max(length(raw)) FROM dead_letters "
                                        "WHERE error LIKE '%zmq_max_traces_per_message%'")[0]
        check(n_dead >= 1 and raw_len == out.get("million_len"),
              "one dead letter holds the whole message (%s rows, %s of %s bytes)" % (n_dead, raw_len,
                                                                                   out.get("million_len")))

        rid, ack, _ = out.get("bad", (None, None, None))
        size = len(ack or "")
        ack = json.loads(ack) if ack else {}
        check(ack.get("accepted") == 0 and len(ack.get("rejected", [])) == 100 and ack.get("rejected_total") == 500,
              "500 invalid traces: 100 listed, rejected_total 500 (%s listed, total %s)" %
              (len(ack.get("rejected", [])), ack.get("rejected_total")))
        check(0 < size < 20000, "the ack stays small (%d bytes)" % size)

        rid, ack, _ = out.get("good", (None, None, None))
        check(ack and json.loads(ack).get("accepted") == 1, "a valid message afterwards is accepted (%s)" % ack)

        def counter():
            for line in w.metrics().splitlines():
                if line.startswith("assay_zmq_messages_too_many_traces_total "):
                    return int(float(line.split()[1]))
            return None
        import time
        deadline = time.time() + 10
        while counter() != 2 and time.time() < deadline:
            time.sleep(0.1)
        check(counter() == 2, "assay_zmq_messages_too_many_traces_total counts both sockets (%s)" % counter())
        check(query_one(store, "SELECT count(*) FROM dead_letters WHERE error LIKE '%zmq_max_traces_per_message%'",
                        timeout=10) == 2, "the PULL message is one dead letter too")
        check(query_one(store, "SELECT count(*) FROM dead_letters WHERE source LIKE 'zmq:router id=b1%'") == 500,
              "every one of the 500 invalid traces is a dead letter")

        lines = os.path.join(tmp, "lines.jsonl")
        generate(a.source, lines, "--n", "2000", "--seed", "3", check=True)
        p = subprocess.run([a.assay, "push", "--endpoint", router, "--in", lines, "--batch", "1500",
                            "--deadline-ms", "60000"], capture_output=True, text=True, timeout=120)
        check("lines 1-1500 rejected as one message" in p.stderr and "zmq_max_traces_per_message" in p.stderr,
              "push names the refused message's lines and the reason: %r" % p.stderr[-400:])
        check("1500 rejected" in p.stderr, "push counts its 1,500 traces as rejected: %r" % p.stderr[-300:])
        # A line over --max-trace-bytes is never sent cut: reported with its true size.
        small = os.path.join(tmp, "long.jsonl")
        long_line = json.dumps({"trace_id": "too-long", "output": "x" * 5000})
        with open(small, "w") as f:
            f.write(json.dumps({"trace_id": "short-1", "output": "ok"}) + "\n" + long_line + "\n" +
                    json.dumps({"trace_id": "short-2", "output": "ok"}) + "\n")
        p = subprocess.run([a.assay, "push", "--endpoint", router, "--in", small, "--max-trace-bytes", "2048",
                            "--deadline-ms", "60000"], capture_output=True, text=True, timeout=120)
        check("line 2 not sent: it is %d bytes, over --max-trace-bytes (2048)" % len(long_line) in p.stderr,
              "push names the long line and its true size: %r" % p.stderr[-300:])
        check("1 lines not sent" in p.stdout and "2 traces acknowledged (2 accepted" in p.stdout,
              "the summary counts it apart from the 2 sent: %r" % p.stdout[-300:])
        check(query_one(store, "SELECT count(*) FROM traces WHERE trace_id = 'too-long'") == 0,
              "no prefix of the long line was stored")
        health = urllib.request.urlopen("http://" + w.endpoints["http"] + "/healthz", timeout=5).status
        check(health == 200, "the worker is healthy throughout (%s)" % health)
    finally:
        rc = w.stop()
    check(rc == 0, "the worker drains and exits 0 (%s)" % rc)
    return finish("all ZeroMQ limit checks passed (%s)" % a.backend)


a = add_backend_argument(arguments()).parse_args()
with tempfile.TemporaryDirectory(prefix="assay-zmqlim-") as tmp:
    sys.exit(on_backend(a, tmp, scenario))
