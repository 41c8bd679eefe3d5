#!/usr/bin/env python3
"""OTLP answers 503 with Retry-After once 16 export requests are in progress
(README "OTLP receiver", Answers; issue 18 item 2), through both transports,
against the real worker.

Another process holds the store's write lock, so the spans of accepted
requests cannot be committed and their requests stay in progress: on SQLite
BEGIN IMMEDIATE (store.busy_timeout_ms is long enough to outlast the hold),
with --backend postgres (a private PostgreSQL server; exit 77 when its
binaries are missing) a psql session holding LOCK TABLE otlp_spans IN
EXCLUSIVE MODE (the spans' INSERT waits; reads do not). Then:
  - 16 OTLP/HTTP JSON requests (2 traces each) are sent at once and all stay
    unanswered while the lock is held;
  - 4 more HTTP requests get 503 with Retry-After at once, and 2 gRPC calls get
    UNAVAILABLE with a RetryInfo detail (grpc-status-details-bin);
  - /healthz answers 200 throughout;
  - after the lock is released the 16 get 200 and exactly their 32 traces are
    stored (none of the refused ones); /metrics counts 16 answers 200 and 6 503."""
import concurrent.futures
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-grpcio
import grpc  # noqa: E402

from e2e_common import Worker, check, query_one, run_on_backend, wait_for  # noqa: E402
from otlp_proto import encode_request  # noqa: E402

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
IN_PROGRESS = 16  # README: "more than 16 requests in progress"


class StoreLock:
    """Holds the store's write lock from another process until release()."""

    def __init__(self, backend, location):
        if backend.pg is None:
            self.con = sqlite3.connect(location, timeout=10, isolation_level=None)
            self.con.execute("BEGIN IMMEDIATE")
            self.psql = None
            return
        self.psql = subprocess.Popen([os.path.join(backend.pg.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                      "-d", location], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.psql.stdin.write("BEGIN;\nLOCK TABLE otlp_spans IN EXCLUSIVE MODE;\n\\echo locked\n")
        self.psql.stdin.flush()
        line = self.psql.stdout.readline()
        if line.strip() != "locked":
            self.psql.kill()
            raise RuntimeError("psql did not take the lock: %r" % line)

    def release(self):
        if self.psql is None:
            self.con.execute("ROLLBACK")
            self.con.close()
            return
        self.psql.communicate("ROLLBACK;\n\\q\n", timeout=30)


def request(first, count=2):
    """An ExportTraceServiceRequest (as a dict) with `count` one-span traces."""
    t0 = 1795341600000000000
    spans = [{"traceId": "%032x" % (0xB000 + i), "spanId": "%016x" % (0xB000 + i), "name": "chat", "kind": 3,
              "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 5000000),
              "attributes": [{"key": "gen_ai.prompt.0.content", "value": {"stringValue": "question %d" % i}},
                             {"key": "gen_ai.completion.0.content", "value": {"stringValue": "answer %d" % i}}]}
             for i in range(first, first + count)]
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}


def post(url, body, timeout=60):
    """(status, Retry-After header, seconds taken) of one POST."""
    t = time.perf_counter()
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Retry-After"), time.perf_counter() - t
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Retry-After"), time.perf_counter() - t


def main():
    return run_on_backend(scenario, prefix="assay-otlp-busy-")


def scenario(a, tmp, backend):
    # db: a StoreDb (either backend); location: what --db takes (a path or a postgresql:// URI).
    location, db = backend.new_store("w")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        # SQLite only: busy_timeout_ms outlasts the hold (PostgreSQL waits for a lock anyway).
        f.write(("store: {busy_timeout_ms: 60000}\n" if backend.pg is None else "") +
                "worker: {otlp_idle_ms: 100, flush_ms: 20}\nscorers:\n  - {name: refusal, type: refusal}\n")
    w = Worker(a.assay, ["--config", cfg, "--db", location, "--otlp-listen", "127.0.0.1:0",
                         "--otlp-grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
               need=("otlp", "otlp_grpc", "http"))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=IN_PROGRESS + 8)
    holder = None
    try:
        url = "http://" + w.endpoints["otlp"] + "/v1/traces"
        health = "http://" + w.endpoints["http"] + "/healthz"
        health_codes, done = [], threading.Event()

        def prober():
            while not done.is_set():
                try:
                    health_codes.append(urllib.request.urlopen(health, timeout=2).status)
                except Exception as e:  # noqa: BLE001 - any failure is the finding
                    health_codes.append(str(e))
                time.sleep(0.1)

        probe = threading.Thread(target=prober)
        probe.start()

        holder = StoreLock(backend, location)
        held = [pool.submit(post, url, request(2 * k)) for k in range(IN_PROGRESS)]
        # Every one of them has entered the intake (counted by door) and none is answered.
        deadline = time.time() + 20
        while w.metric('assay_otlp_requests_by_door_total{door="http_json"}') < IN_PROGRESS and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        check(w.metric('assay_otlp_requests_by_door_total{door="http_json"}') == IN_PROGRESS,
              "%d requests reached the intake" % IN_PROGRESS)
        check(not any(f.done() for f in held), "none of them is answered while the store is locked")

        extra = [post(url, request(1000 + 2 * k), timeout=10) for k in range(4)]
        check(all(s == 503 for s, _, _ in extra), "the 4 requests past %d get 503 (%s)" % (IN_PROGRESS, [s for s, _, _ in extra]))
        check(all(r is not None and int(r) >= 1 for _, r, _ in extra),
              "with Retry-After (%s)" % [r for _, r, _ in extra])
        check(all(t < 5 for _, _, t in extra), "at once (slowest %.2f s)" % max(t for _, _, t in extra))

        channel = grpc.insecure_channel(w.endpoints["otlp_grpc"])
        export = channel.unary_unary(METHOD)
        for k in range(2):
            try:
                export(encode_request(request(2000 + 2 * k)), timeout=10)
                check(False, "gRPC call past %d refused" % IN_PROGRESS)
            except grpc.RpcError as e:
                details = dict(e.trailing_metadata() or ())
                check(e.code() == grpc.StatusCode.UNAVAILABLE and "grpc-status-details-bin" in details,
                      "gRPC call past %d: UNAVAILABLE with a RetryInfo detail (%s %s)" % (IN_PROGRESS, e.code(), e.details()))
        channel.close()
        time.sleep(2)  # /healthz keeps answering while the 16 wait
        check(not any(f.done() for f in held), "the 16 are still in progress")

        holder.release()
        holder = None
        answers = [f.result(timeout=60) for f in held]
        check(all(s == 200 for s, _, _ in answers), "after the release the 16 get 200 (%s)" % [s for s, _, _ in answers])
        done.set()
        probe.join()
        check(health_codes and all(c == 200 for c in health_codes),
              "/healthz answered 200 throughout (%d probes: %s)" % (len(health_codes), sorted({str(c) for c in health_codes})))

        want = 2 * IN_PROGRESS
        check(wait_for(db, "SELECT count(*) FROM traces", want) == want, "exactly the %d accepted traces stored" % want)
        time.sleep(0.5)
        check(query_one(db, "SELECT count(*) FROM traces") == want, "and no refused one (%d)" % query_one(db, "SELECT count(*) FROM traces"))
        last = "%032x" % (0xB000 + want - 1)
        check(query_one(db, "SELECT count(*) FROM traces WHERE trace_id > ?", (last,)) == 0,
              "none of the refused requests' traces is stored")
        check(wait_for(db, "SELECT count(*) FROM otlp_spans", 0) == 0, "no span left pending")
        check(w.metric('assay_otlp_requests_total{code="200"}') == IN_PROGRESS, "/metrics: 16 answered 200")
        check(w.metric('assay_otlp_requests_total{code="503"}') == 6, "/metrics: 6 answered 503 (4 HTTP, 2 gRPC)")
    finally:
        if holder is not None:
            holder.release()
        pool.shutdown(wait=False, cancel_futures=True)
        rc = w.stop()
    check(rc == 0, "the worker exits 0 (%s)" % rc)


if __name__ == "__main__":
    sys.exit(main())
