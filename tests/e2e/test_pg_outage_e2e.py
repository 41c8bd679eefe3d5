#!/usr/bin/env python3
"""End-to-end: `assay worker` on PostgreSQL while the server goes away
(`pg_ctl stop -m immediate`) in the middle of an acknowledged push, and comes
back (README "PostgreSQL", outages; issue 13 item 6).

While the server is down the worker
  - acknowledges nothing over ZeroMQ (the acks counter stands still),
  - answers OTLP/HTTP exports 503 with Retry-After,
  - reports not ready on /readyz (and assay_store_blocked 1),
  - keeps running, and logs the outage once;
when the server is back it carries on by itself: the push exits 0, the store
holds every trace exactly once with its 5 decisions, nothing is
dead-lettered, /readyz is 200 again, and OTLP exports are accepted and stored.
Skipped (77) when the PostgreSQL server binaries are missing."""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import StoreBackend, Worker, arguments, check, finish, generate, missing_server  # noqa: E402
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 100}
worker: {flush_ms: 20, otlp_idle_ms: 100}
""" + FIVE_SCORERS


def http_status(url, body=None):
    """(status, Retry-After) of a GET, or of a POST of the JSON `body`."""
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Retry-After")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Retry-After")


def otlp_request(k):
    """An OTLP/HTTP JSON export of one complete one-span trace."""
    t0 = 1795341600000000000
    span = {"traceId": "%032x" % (0xC0FFEE00 + k), "spanId": "%016x" % (0xC0FFEE00 + k), "name": "chat",
            "kind": 3, "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 5000000),
            "attributes": [{"key": "gen_ai.prompt.0.content", "value": {"stringValue": "q %d" % k}},
                           {"key": "gen_ai.completion.0.content", "value": {"stringValue": "a %d" % k}}]}
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]}


def wait_until(what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = what()
        if v:
            return v
        time.sleep(0.1)
    return what()


def main():
    ap = arguments()
    ap.add_argument("--n", type=int, default=3000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-pg-outage-") as tmp:
        try:
            # Durable: a commit the server confirmed must survive its crash.
            backend = StoreBackend("postgres", tmp, durable=True)
        except Exception as e:  # noqa: BLE001
            if missing_server(e):
                print("SKIP: %s" % e)
                return 77
            raise
        with backend:
            location, db = backend.new_store("outage")
            cfg = os.path.join(tmp, "assay.yaml")
            with open(cfg, "w") as f:
                f.write(CONFIG + backend.yaml(location))
            traces = os.path.join(tmp, "traces.jsonl")
            generate(a.source, traces, "--n", str(a.n), "--seed", "44", check=True)
            log = open(os.path.join(tmp, "worker.log"), "w+")
            w = Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*", "--http-listen",
                                 "127.0.0.1:0", "--otlp-listen", "127.0.0.1:0"],
                       need=("router", "http", "otlp"), stderr=log)
            http = "http://" + w.endpoints["http"]
            otlp = "http://" + w.endpoints["otlp"] + "/v1/traces"
            try:
                check(http_status(http + "/readyz")[0] == 200, "ready before the outage")
                check(http_status(otlp, otlp_request(0))[0] == 200, "an OTLP export is accepted before it")
                push = subprocess.Popen([a.assay, "push", "--endpoint", w.endpoints["router"], "--in", traces,
                                         "--batch", "20", "--timeout-ms", "2000", "--rate", str(a.n // 8),
                                         "--deadline-ms", "180000"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                wait_until(lambda: (w.metric("assay_acks_sent_total") or 0) >= 20)
                backend.pg.crash()
                down = time.time()
                blocked = wait_until(lambda: http_status(http + "/readyz")[0] == 503)
                check(blocked, "/readyz answers 503 while the server is down")
                check("assay_store_blocked 1" in w.metrics(), "/metrics shows assay_store_blocked 1")
                acks = w.metric("assay_acks_sent_total")
                refused = http_status(otlp, otlp_request(1))
                time.sleep(3)
                check(w.metric("assay_acks_sent_total") == acks,
                      "nothing is acknowledged while the server is down (%s acks before and after 3 s)" % acks)
                check(refused[0] == 503 and refused[1] is not None and int(refused[1]) >= 1,
                      "an OTLP export gets 503 with Retry-After (%s)" % (refused,))
                check(w.p.poll() is None and push.poll() is None, "the worker and the push keep running")
                backend.pg.resume()
                print("server down for %.1f s" % (time.time() - down))
                out, err = push.communicate(timeout=240)
                check(push.returncode == 0, "the push completes once the server is back (rc=%s, %r %r)"
                      % (push.returncode, out.strip(), err[-300:]))
                check(wait_until(lambda: http_status(http + "/readyz")[0] == 200), "ready again")
                check(http_status(otlp, otlp_request(2))[0] == 200, "OTLP exports are accepted again")
                otlp_ids = ["%032x" % (0xC0FFEE00 + k) for k in (0, 2)]
                check(wait_until(lambda: db.one("SELECT count(*) FROM traces WHERE trace_id IN (?, ?)", *otlp_ids) == 2),
                      "the accepted OTLP traces are stored")
            finally:
                rc = w.stop(timeout=60)
            check(rc == 0, "the worker drains and exits 0 (%s)" % rc)
            # The export refused during the outage may still complete its trace
            # from the worker's memory (its retry would upsert the same id):
            # never counted as lost, never stored twice.
            pushed = db.one("SELECT count(*) FROM traces WHERE trace_id NOT LIKE '%c0ffee0%'")
            check(pushed == a.n, "every pushed trace stored once (%s/%d)" % (pushed, a.n))
            otlp_n = db.one("SELECT count(*) FROM traces WHERE trace_id LIKE '%c0ffee0%'")
            check(otlp_n in (2, 3), "the OTLP traces stored once each (%s)" % otlp_n)
            n = pushed + otlp_n
            check(db.one("SELECT count(DISTINCT trace_id) FROM traces") == n, "no trace id twice")
            check(db.one("SELECT count(*) FROM scores") == 5 * n, "each with its 5 decisions (%s)"
                  % db.one("SELECT count(*) FROM scores"))
            check(db.one("SELECT count(*) FROM dead_letters") == 0, "nothing dead-lettered")
            log.seek(0)
            text = log.read()
            down_lines = [ln for ln in text.splitlines() if "store unavailable" in ln]
            back_lines = [ln for ln in text.splitlines() if "store available again" in ln]
            check(len(down_lines) == 1 and len(back_lines) == 1,
                  "the writer logs the outage once when it starts and once when it ends (%d, %d)"
                  % (len(down_lines), len(back_lines)))
    return finish("all checks passed: a PostgreSQL outage in the middle of a push")


if __name__ == "__main__":
    sys.exit(main())
