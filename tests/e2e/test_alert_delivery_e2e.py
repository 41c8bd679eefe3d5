#!/usr/bin/env python3
"""End-to-end: webhook delivery of an alert by several `assay worker`s sharing
one store, when the worker that is delivering dies or stalls (README
"Alerts", Delivery across workers).

A local HTTP receiver (127.0.0.1, port 0) records every POST with its
Idempotency-Key header and holds the first one unanswered, so the worker that
sent it is caught between sending and recording the delivery:

  1. kill -9: two workers check the same alert rule every second. The one
     that claimed the delivery is stuck on the held POST; for 3 s the other
     sends nothing (the claim is held). The holder is killed with SIGKILL;
     the other takes its claim over at once (a dead process of this host) and
     delivers: the receiver has exactly two POSTs with the same key, the alert
     is recorded delivered, and later rounds send nothing.
  2. SIGSTOP: one worker sends the held POST and is stopped; a second worker
     started then waits for the claim's lease (12 s with timeout_ms 1000,
     max_retries 0) and delivers after it; the stopped worker, continued,
     cannot record anything over it (its claim is gone): two POSTs, one key,
     the alert delivered once in the store.

Runs on either store (--backend sqlite|postgres)."""
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import http.server
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, check, finish, on_backend,  # noqa: E402
                        run)

CONFIG = """
{store}scorers:
  - {{name: json, type: format, json: true, when: {{expected_format: json}}}}
monitor: {{interval: 1s, metrics_window: 1d}}
alerts:
  interval: 1s
  webhook: {{url: "{url}", format: json, timeout_ms: {timeout_ms}, max_retries: 0}}
  rules:
    - {{name: json-broken, kind: pass_rate_below, scorer: json, by: feature, window: 1d, below: 0.9, min_count: 50}}
"""


class HoldingReceiver:
    """Records (Idempotency-Key, body key) of every POST; the first one is held
    unanswered until release() (or 120 s), and on_first() runs when it arrives."""

    def __init__(self, on_first=None):
        self.posts = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with outer.lock:
                    outer.posts.append((self.headers.get("Idempotency-Key"), body.get("idempotency_key")))
                    first = len(outer.posts) == 1
                if first:
                    if on_first:
                        on_first()
                    outer.released.wait(120)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone (killed, or its timeout passed)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def count(self):
        with self.lock:
            return len(self.posts)

    def wait_for(self, n, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline and self.count() < n:
            time.sleep(0.1)
        return self.count()

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def store_with_alert(a, tmp, backend, name, url, timeout_ms):
    """A store whose json rule fires (half the JSON of the last 20 hours broken) and its config."""
    rng = random.Random(11)
    db, con = backend.new_store(name)
    cfg = os.path.join(tmp, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db), url=url, timeout_ms=timeout_ms))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    src = os.path.join(tmp, name + ".jsonl")
    with open(src, "w") as f:
        for i in range(200):
            ts = now - timedelta(hours=20) + timedelta(minutes=5 * i)
            ok = rng.random() < 0.5
            f.write(json.dumps({"trace_id": "%s%d" % (name, i), "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "input": "invoice", "output": '{"a": 1}' if ok else '{"a": ',
                                "metadata": {"feature": "extract", "expected_format": "json"}}) + "\n")
    s = run([a.assay, "score", "--config", cfg, "--in", src, "--quiet"])
    check(s.returncode == 0, "%s: traffic of the last 20 hours scored (%s)" % (name, s.stderr.strip()[-200:]))
    return cfg, con


def start_worker(a, cfg, tmp, name):
    log = open(os.path.join(tmp, name + ".log"), "w")
    return Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*"], need=(), stderr=log)


def holder_pid(con):
    """The pid in the delivery claim of the one alert ("host:pid:nonce"), or None."""
    deadline = time.time() + 10
    while time.time() < deadline:
        held = con.one("SELECT delivery_claimed_by FROM alerts")
        if held:
            return int(held.split(":")[-2])
        time.sleep(0.1)
    return None


def delivered(con, seconds=15):
    deadline = time.time() + seconds
    row = None
    while time.time() < deadline:
        row = con.all("SELECT fire_delivered, delivery_claimed_by FROM alerts")
        if row and row[0][0] == 1 and row[0][1] is None:
            break
        time.sleep(0.1)
    return row


def killed_holder(a, tmp, backend):
    recv = HoldingReceiver()
    cfg, con = store_with_alert(a, tmp, backend, "kill", recv.url(), timeout_ms=60000)
    workers = [start_worker(a, cfg, tmp, "kill-%d" % i) for i in range(2)]
    try:
        check(recv.wait_for(1, 30) == 1, "kill: one worker sends the firing notice (held by the receiver)")
        pid = holder_pid(con)
        victim = [w for w in workers if w.p.pid == pid]
        check(len(victim) == 1, "kill: the delivery claim names one of the workers (pid %s)" % pid)
        if len(victim) != 1:
            return
        survivor = [w for w in workers if w is not victim[0]][0]
        time.sleep(3)
        check(recv.count() == 1, "kill: while the holder lives, the other worker sends nothing (%d POSTs)" %
              recv.count())
        victim[0].p.kill()
        victim[0].p.wait()
        check(recv.wait_for(2, 15) == 2, "kill: the other worker delivers after the holder's kill -9")
        time.sleep(2.5)  # more rounds of the survivor
        keys = [k for k, _ in recv.posts]
        alert_id = con.one("SELECT id FROM alerts")
        want = "assay-alert-%s-firing" % alert_id
        check(keys == [want, want] and all(b == want for _, b in recv.posts),
              "kill: exactly two POSTs, both with the idempotency key %s (header and body): %s" % (want, recv.posts))
        row = delivered(con)
        check(row == [(1, None)], "kill: the store records the notice delivered, the claim released (%s)" % row)
        recv.released.set()
        check(survivor.p.poll() is None and survivor.stop() == 0, "kill: the surviving worker exits 0 on SIGTERM")
    finally:
        for w in workers:
            if w.p.poll() is None:
                w.p.kill()
                w.p.wait()
        recv.close()


def stopped_holder(a, tmp, backend):
    stopped = []
    recv = HoldingReceiver(on_first=lambda: [os.kill(w.p.pid, signal.SIGSTOP) for w in stopped])
    cfg, con = store_with_alert(a, tmp, backend, "stop", recv.url(), timeout_ms=1000)
    first = start_worker(a, cfg, tmp, "stop-0")
    stopped.append(first)
    second = None
    try:
        check(recv.wait_for(1, 30) == 1, "stop: the first worker sends the firing notice and is stopped")
        claimed_until = con.one("SELECT delivery_claimed_until_ms FROM alerts")
        check(holder_pid(con) == first.p.pid, "stop: the stopped worker holds the delivery claim")
        second = start_worker(a, cfg, tmp, "stop-1")
        lease_left = claimed_until / 1000.0 - time.time() if claimed_until else 0
        time.sleep(max(0.0, lease_left - 2))
        check(recv.count() == 1, "stop: the second worker waits for the lease (%d POSTs, %.1f s of lease left)" %
              (recv.count(), lease_left))
        check(recv.wait_for(2, 10) == 2, "stop: after the lease ran out the second worker delivers")
        row = delivered(con)
        check(row == [(1, None)], "stop: the store records the notice delivered, the claim released (%s)" % row)
        os.kill(first.p.pid, signal.SIGCONT)
        recv.released.set()
        time.sleep(3)  # the continued worker finishes its round: its write is fenced out
        row = con.all("SELECT fire_delivered, delivery_claimed_by FROM alerts")
        alert_id = con.one("SELECT id FROM alerts")
        want = "assay-alert-%s-firing" % alert_id
        check([k for k, _ in recv.posts] == [want, want] and row == [(1, None)],
              "stop: two POSTs with one key, delivered once in the store after the stopped worker woke "
              "(%s, %s)" % (recv.posts, row))
        log = open(os.path.join(tmp, "stop-0.log")).read()
        check("claim ran out" in log, "stop: the woken worker logs that its claim ran out")
    finally:
        for w in (first, second):
            if w is not None and w.p.poll() is None:
                os.kill(w.p.pid, signal.SIGCONT)
                w.stop()
        recv.close()


def scenario(a, tmp, backend):
    killed_holder(a, tmp, backend)
    stopped_holder(a, tmp, backend)
    return finish("all alert delivery checks passed")


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


if __name__ == "__main__":
    sys.exit(main())
