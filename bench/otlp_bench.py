#!/usr/bin/env python3
"""OTLP/HTTP receiver benchmark: `assay worker --otlp-listen` against `assay score`.

Per round:
  otlp:  a fresh worker; C client threads (keep-alive HTTP/1.1) POST N agent
         traces (3 spans each: root, LLM child with GenAI attributes, tool
         child), --per-request traces per request, in the OTLP JSON encoding. Timed from the
         first request to the moment every trace has all its scores committed
         (polling the database). Also: request latency p50/p99 (POST -> 200,
         which includes the durable commit of the spans), and traces/s.
  score: the traces the worker assembled (traces.raw) as JSON Lines, scored by
         `assay score` into a fresh database (the batch path, same content).
Prints the medians and the ratio otlp/score. The idle time (worker.otlp_idle_ms
= 100) is part of every trace's end-to-end time but not of the throughput.

Usage: python3 bench/otlp_bench.py [--n 20000] [--clients 8] [--per-request 1] [--rounds 3] [--build build]
"""
import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from scorer_configs import FIVE_SCORERS  # noqa: E402

CONFIG = """
pipeline: {batch_size: 2000}
worker: {flush_ms: 20, otlp_idle_ms: 100}
""" + FIVE_SCORERS


def attr(k, v):
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    return {"key": k, "value": {"stringValue": v}}


def spans_of(i):
    tid = "%032x" % (0xA000000000000000 + i)
    root, llm, tool = "%016x" % (3 * i + 1), "%016x" % (3 * i + 2), "%016x" % (3 * i + 3)
    t0 = 1795341600000000000 + i * 1000000
    q = f"Where is my order {i}? It was due on Monday."
    a = f"Order {i} left the warehouse today and should arrive within two days. " * 3
    span = lambda sid, parent, name, kind, start, end, attrs: {
        "traceId": tid, "spanId": sid, "parentSpanId": parent, "name": name, "kind": kind,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "attributes": attrs}
    spans = [
        span(root, "", "invoke_agent support", 2, t0, t0 + 900000000,
             [attr("gen_ai.operation.name", "invoke_agent"), attr("assay.feature", "support")]),
        span(llm, root, "chat gpt-4o-mini", 3, t0 + 1000000, t0 + 800000000,
             [attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "gpt-4o-mini"),
              attr("gen_ai.usage.input_tokens", 40), attr("gen_ai.usage.output_tokens", 45),
              attr("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": q}]}])),
              attr("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": a}]}]))]),
        span(tool, root, "execute_tool lookup_order", 1, t0 + 2000000, t0 + 50000000,
             [attr("gen_ai.operation.name", "execute_tool"), attr("gen_ai.tool.name", "lookup_order")]),
    ]
    return spans


def request(first, count):
    spans = [s for i in range(first, first + count) for s in spans_of(i)]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "bench")]},
                                          "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}).encode()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def run_otlp(assay, cfg, db, bodies, clients, n_traces):
    w = subprocess.Popen([assay, "worker", "--config", cfg, "--db", db, "--otlp-listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = w.stdout.readline()
    host, port = [p for p in line.split() if p.startswith("otlp=")][0][5:].rsplit(":", 1)
    lat, errors = [], []
    lock = threading.Lock()

    def client(k):
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = []
        for b in bodies[k::clients]:
            while True:
                t = time.perf_counter()
                c.request("POST", "/v1/traces", b, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                if r.status == 503:
                    time.sleep(0.05)
                    continue
                mine.append(time.perf_counter() - t)
                if r.status != 200:
                    errors.append(r.status)
                break
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_sent = time.perf_counter() - t0
    want = n_traces * 5
    while True:
        con = sqlite3.connect(db, timeout=30)
        n = con.execute("SELECT count(*) FROM scores").fetchone()[0]
        con.close()
        if n >= want:
            break
        time.sleep(0.02)
    t_all = time.perf_counter() - t0
    w.terminate()
    w.wait()
    return t_sent, t_all, lat, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-request", type=int, default=1, help="traces per request (an SDK batches spans)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default="build")
    a = ap.parse_args()
    assay = os.path.abspath(os.path.join(a.build, "assay"))
    bodies = [request(i, min(a.per_request, a.n - i)) for i in range(0, a.n, a.per_request)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "assay.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        for r in range(a.rounds):
            db = os.path.join(tmp, f"otlp{r}.db")
            t_sent, t_all, lat, errors = run_otlp(assay, cfg, db, bodies, a.clients, a.n)
            if errors:
                sys.exit(f"round {r}: {len(errors)} requests failed: {errors[:5]}")
            jsonl = os.path.join(tmp, "assembled.jsonl")
            con = sqlite3.connect(db)
            with open(jsonl, "w") as f:
                for (raw,) in con.execute("SELECT raw FROM traces"):
                    f.write(raw + "\n")
            con.close()
            t = time.perf_counter()
            subprocess.run([assay, "score", "--config", cfg, "--in", jsonl, "--db", os.path.join(tmp, f"score{r}.db"),
                            "--quiet"], check=True, stdout=subprocess.DEVNULL)
            t_score = time.perf_counter() - t
            row = {"otlp_traces_s": a.n / t_all, "requests_s": len(bodies) / t_sent, "p50_ms": pct(lat, 0.5) * 1000,
                   "p99_ms": pct(lat, 0.99) * 1000, "score_traces_s": a.n / t_score}
            row["ratio"] = row["otlp_traces_s"] / row["score_traces_s"]
            rows.append(row)
            print(f"round {r}: " + ", ".join(f"{k} {v:.1f}" if k != "ratio" else f"{k} {v:.3f}" for k, v in row.items()),
                  flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"median of {a.rounds} rounds, n={a.n}, clients={a.clients}, traces/request={a.per_request}: " +
          ", ".join(f"{k} {v:.1f}" if k != "ratio" else f"{k} {v:.3f}" for k, v in med.items()))


if __name__ == "__main__":
    main()
