#!/usr/bin/env python3
"""End-to-end: the spans of OTLP traces spread round-robin over three workers
that share one store (README "Scaling out", "OTLP receiver"), each span in its
own OTLP/HTTP JSON request, as a round-robin load balancer would spread them.

1. 1,000 traces of 3 children and a root: exactly 1,000 traces stored, each
   with all 4 spans, none incomplete, none split; nothing left in otlp_spans
   or otlp_claims.
2. The same with one worker killed (kill -9) half-way: the requests after it
   go to the other two (a balancer's failover; one refused by the dead worker
   is resent). The traces it held unfinished (their root, or its claim) are
   completed by the others: still exactly 1,000 traces of 4 spans each.
--backend postgres runs it against a private PostgreSQL server."""
import http.client
import json
import os
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, check, finish,  # noqa: E402
                        on_backend)

CONFIG = """
pipeline: {batch_size: 100}
worker: {flush_ms: 20, otlp_idle_ms: 2000, otlp_max_wait_ms: %d, otlp_claim_lease_ms: %d}
scorers:
  - {name: length, type: length, max_words: 400}
"""

SENDERS = 6


def span(trace_id, span_id, parent, name, start_s):
    return {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
            "kind": 2 if not parent else 1,
            "startTimeUnixNano": str(int(start_s * 1e9)), "endTimeUnixNano": str(int((start_s + 0.5) * 1e9)),
            "attributes": [{"key": "gen_ai.prompt", "value": {"stringValue": "question " + trace_id}}]
            if not parent else [{"key": "step", "value": {"stringValue": name}}]}


def request(s):
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "multi"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": [s]}]}]}).encode()


def trace_spans(i, seed):
    """The 4 requests of trace i: 3 children, then the root, in the order they
    end (an SDK exports a span when it ends; the root ends last). Each is sent
    after the previous one was answered, so however slow the workers are, the
    children are stored before the root arrives."""
    tid = "%08x%024x" % (seed, i + 1)
    root = "%016x" % (i * 4 + 1)
    t0 = 1795341600 + i
    out = [request(span(tid, "%016x" % (i * 4 + 2 + k), root, "step%d" % k, t0 + 0.1 * k)) for k in range(3)]
    out.append(request(span(tid, root, "", "agent", t0)))
    return out


class Balancer:
    """Round-robin over the live workers' /v1/traces, one span per request,
    SENDERS threads each with a keep-alive connection per worker. A request
    a worker does not answer (it was killed) goes to the next live one."""

    def __init__(self, workers):
        self.addrs = [w.endpoints["otlp"] for w in workers]
        self.live = list(range(len(workers)))
        self.next = 0
        self.mu = threading.Lock()
        self.sent = [0] * len(workers)
        self.resent = 0
        self.errors = []

    def pick(self):
        with self.mu:
            i = self.live[self.next % len(self.live)]
            self.next += 1
            return i

    def drop(self, i):
        with self.mu:
            if i in self.live:
                self.live.remove(i)

    def send_all(self, bodies):
        conns = {}
        for body in bodies:
            for _attempt in range(5):
                i = self.pick()
                try:
                    c = conns.get(i) or http.client.HTTPConnection(*self.addrs[i].rsplit(":", 1), timeout=30)
                    conns[i] = c
                    c.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
                    r = c.getresponse()
                    text = r.read()
                    if r.status == 200 and json.loads(text) == {}:
                        with self.mu:
                            self.sent[i] += 1
                        break
                    if r.status != 503:
                        self.errors.append("%s: %s %r" % (self.addrs[i], r.status, text[:200]))
                        return
                    time.sleep(0.2)
                except (OSError, http.client.HTTPException):
                    conns.pop(i, None)
                    if i not in self.live:
                        with self.mu:
                            self.resent += 1
                        continue
                    time.sleep(0.2)
            else:
                self.errors.append("a span was never accepted")
                return

    def run(self, traces, on_half=None):
        """Sends the traces' spans (each trace's 4 in order, by one sender);
        calls on_half() once half of the traces are sent."""
        lock = threading.Lock()
        state = {"next": 0, "done": 0, "half": False}

        def sender():
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= len(traces):
                    return
                self.send_all(traces[i])
                with lock:
                    state["done"] += 1
                    fire = on_half is not None and not state["half"] and state["done"] >= len(traces) // 2
                    state["half"] = state["half"] or fire
                if fire:
                    on_half()

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def start_workers(a, tmp, backend, name, max_wait_ms, lease_ms):
    location, db = backend.new_store(name)
    cfg = os.path.join(tmp, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG % (max_wait_ms, lease_ms) + backend.yaml(location).replace("}", ", busy_timeout_ms: 20000}"))
    # Their logs go to files: a pipe nobody reads would stall a worker once full.
    logs = [open(os.path.join(tmp, "%s-%d.log" % (name, i)), "w") for i in range(3)]
    workers = [Worker(a.assay, ["--config", cfg, "--otlp-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                      need=("otlp", "http"), stderr=log) for log in logs]
    return workers, db


def wait_for(db, sql, want, seconds):
    """Polls db.one(sql) (either backend) until it is `want` or `seconds` pass; the last value."""
    deadline = time.time() + seconds
    got = None
    while time.time() < deadline:
        try:
            got = db.one(sql)
        except Exception:  # noqa: BLE001 (busy: try again)
            got = None
        if got == want:
            return got
        time.sleep(0.2)
    return got


def check_traces(db, n, what):
    stored = wait_for(db, "SELECT count(*) FROM traces", n, seconds=90)
    check(stored == n, "%s: exactly %d traces stored (%s)" % (what, n, stored))
    check(db.one("SELECT count(DISTINCT trace_id) FROM traces") == n, what + ": no trace stored twice")
    whole = db.one("SELECT count(*) FROM traces WHERE raw LIKE '%\"otel.span_count\":4%'")
    check(whole == n, "%s: every trace has all its 4 spans (%s of %d)" % (what, whole, n))
    if whole != n:
        print(db.all("SELECT trace_id, substr(raw, 1, 600) FROM traces "
                     "WHERE raw NOT LIKE '%\"otel.span_count\":4%' LIMIT 3"))
    split = db.one("SELECT count(*) FROM traces WHERE raw LIKE '%incomplete_trace%'")
    check(split == 0, "%s: none is incomplete or split (%s)" % (what, split))
    check(db.one("SELECT count(*) FROM scores") == n, what + ": each scored once")
    left = wait_for(db, "SELECT count(*) FROM otlp_spans", 0, seconds=30)
    check(left == 0, "%s: no pending span left (%s)" % (what, left))
    check(wait_for(db, "SELECT count(*) FROM otlp_claims", 0, seconds=30) == 0, what + ": no claim left")
    check(db.one("SELECT count(*) FROM dead_letters") == 0, what + ": nothing dead-lettered")


def scenario(a, tmp, backend):
    n = a.n
    # 1. Three workers, all up.
    workers, db = start_workers(a, tmp, backend, "all_up", 10000, 60000)
    lb = Balancer(workers)
    lb.run([trace_spans(i, 1) for i in range(n)])
    check(not lb.errors, "every span accepted with 200 (%s)" % lb.errors[:3])
    check(min(lb.sent) >= n * 4 // 3 - SENDERS, "the spans were spread evenly (%s)" % lb.sent)
    check_traces(db, n, "three workers")
    merged = sum(w.metric('assay_otlp_traces_shared_total{found="assembled"}') or 0 for w in workers)
    waited = sum(w.metric('assay_otlp_trace_claims_total{outcome="spans_arriving_elsewhere"}') or 0 for w in workers)
    check(merged + waited >= n // 2, "traces were built from spans other workers received "
          "(%d at once, %d after waiting for them)" % (merged, waited))
    codes = [w.stop(timeout=60) for w in workers]
    check(codes == [0, 0, 0], "the workers exit 0 on SIGTERM (%s)" % codes)

    # 2. One worker killed half-way; its unfinished traces go to the others.
    workers, db = start_workers(a, tmp, backend, "one_killed", 6000, 4000)
    lb = Balancer(workers)
    killed = {}

    def kill():
        killed["stored"] = db.one("SELECT count(*) FROM traces")
        workers[1].p.send_signal(signal.SIGKILL)
        lb.drop(1)
        workers[1].p.wait(timeout=30)
        killed["pending"] = db.one("SELECT count(DISTINCT trace_key) FROM otlp_spans")
    lb.run([trace_spans(i, 2) for i in range(n)], on_half=kill)
    check(not lb.errors, "every span accepted by a live worker (%s)" % lb.errors[:3])
    check(lb.sent[1] > 0 and killed["stored"] < n,
          "the killed worker took spans before it died (%d sent, %s traces stored then)" % (lb.sent[1], killed["stored"]))
    check(killed["pending"] > 0, "traces were unfinished when it died (%s)" % killed["pending"])
    check_traces(db, n, "one worker killed")
    live = [workers[0], workers[2]]
    swept = sum(w.metric('assay_otlp_traces_shared_total{found="sweep"}') or 0 for w in live)
    merged = sum(w.metric('assay_otlp_traces_shared_total{found="assembled"}') or 0 for w in live)
    print("killed worker: %d spans sent to it, %d traces pending then, %d resent; "
          "the others built %d traces with shared spans, %d by the sweep"
          % (lb.sent[1], killed["pending"], lb.resent, merged, swept))
    codes = [w.stop(timeout=60) for w in live]
    check(codes == [0, 0], "the live workers exit 0 on SIGTERM (%s)" % codes)
    return finish("all checks passed: OTLP spans over three workers, one killed")


def main():
    ap = add_backend_argument(arguments())
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-otlp-multi-") as tmp:
        return on_backend(a, tmp, scenario)


if __name__ == "__main__":
    sys.exit(main())
