#!/usr/bin/env python3
"""OTLP receiver benchmark: the three doors of `assay worker` against `assay score`.

Per round, for each door (--doors: json = OTLP/HTTP JSON, protobuf = OTLP/HTTP
protobuf, grpc = OTLP/gRPC; all in the same run, on the same traces):
  a fresh worker; C client threads (keep-alive HTTP/1.1, or one gRPC channel
  each) send N agent traces (3 spans each: root, LLM child with GenAI
  attributes, tool child), --per-request traces per request. Timed from the
  first request to the moment every trace has all its scores committed
  (polling the database). Also: request latency p50/p99 (send -> 200/OK, which
  includes the durable commit of the spans), traces/s, and the worker's peak
  RSS (VmHWM) and CPU seconds (user + system, all threads; and of its main
  thread, the producer that assembles and maps every trace).
Then `assay score` on the traces the worker assembled (traces.raw) as JSON
Lines, into a fresh database (the batch path, same content).
Prints the medians and each door's ratio door/score. With --reference ASSAY a
second assay binary (another build, e.g. ASSAY_ALLOCATOR=system or an earlier
release) runs each door right after, on the same requests, and each door's
ratio <door>_traces_s / ref_<door>_traces_s (as <door>_vs_ref: above 1 when
the build under test is faster) is printed too. gRPC needs Debian's
python3-grpcio (found in /usr/lib/python3/dist-packages when the python3 in
use is another build). The idle time (worker.otlp_idle_ms
= 100) is part of every trace's end-to-end time but not of the throughput.

Usage: python3 bench/otlp_bench.py [--n 20000] [--clients 8] [--per-request 1] [--rounds 3]
                                   [--doors json,protobuf,grpc] [--build build]
                                   [--reference /path/to/other/assay]
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
from otlp_proto import encode_request  # noqa: E402

GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

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
    return {"resourceSpans": [{"resource": {"attributes": [attr("service.name", "bench")]},
                               "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}


def import_grpc():
    try:
        import grpc  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
    import grpc
    return grpc


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid, stat="stat"):
    """User + system CPU seconds of a live process (all its threads), or of
    its main thread with stat="task/<pid>/stat"."""
    try:
        with open(f"/proc/{pid}/{stat}") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def run_otlp(assay, cfg, db, door, bodies, clients, n_traces):
    flag, key = ("--otlp-grpc-listen", "otlp_grpc=") if door == "grpc" else ("--otlp-listen", "otlp=")
    w = subprocess.Popen([assay, "worker", "--config", cfg, "--db", db, flag, "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = w.stdout.readline()
    host, port = [p for p in line.split() if p.startswith(key)][0][len(key):].rsplit(":", 1)
    lat, errors = [], []
    lock = threading.Lock()
    ctype = "application/json" if door == "json" else "application/x-protobuf"

    def http_client(k):
        c = http.client.HTTPConnection(host, int(port), timeout=30)
        mine = []
        for b in bodies[k::clients]:
            while True:
                t = time.perf_counter()
                c.request("POST", "/v1/traces", b, {"Content-Type": ctype})
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

    def grpc_client(k):
        grpc = import_grpc()
        ch = grpc.insecure_channel(f"{host}:{port}")
        export = ch.unary_unary(GRPC_METHOD)
        mine = []
        for b in bodies[k::clients]:
            while True:
                t = time.perf_counter()
                try:
                    export(b, timeout=30)
                except grpc.RpcError as e:
                    if e.code() == grpc.StatusCode.UNAVAILABLE:
                        time.sleep(0.05)
                        continue
                    errors.append(str(e.code()))
                mine.append(time.perf_counter() - t)
                break
        ch.close()
        with lock:
            lat.extend(mine)

    client = grpc_client if door == "grpc" else http_client

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_sent = time.perf_counter() - t0
    want = n_traces * 5
    while True:
        # Polled cheaply: a trace is committed with its scores, and on this
        # fresh file trace ids count from 1, so max(id) is the traces stored
        # (count(*) of the scores, a scan, took a tenth of a core here); the
        # scores are counted once at the end.
        con = sqlite3.connect(db, timeout=30)
        if (con.execute("SELECT max(id) FROM traces").fetchone()[0] or 0) >= n_traces:
            n = con.execute("SELECT count(*) FROM scores").fetchone()[0]
            if n >= want:
                con.close()
                break
        con.close()
        time.sleep(0.02)
    t_all = time.perf_counter() - t0
    rss = peak_rss_mib(w.pid)
    cpu = cpu_s(w.pid)
    # The worker's main thread runs the producer (assembly, mapping, submit):
    # one thread, so its CPU time bounds the rate.
    main_cpu = cpu_s(w.pid, f"task/{w.pid}/stat")
    w.terminate()
    w.wait()
    return t_sent, t_all, lat, errors, rss, cpu, main_cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-request", type=int, default=1, help="traces per request (an SDK batches spans)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--doors", default="json,protobuf,grpc")
    ap.add_argument("--build", default="build")
    ap.add_argument("--reference", default=None, help="a second assay binary timed on the same doors")
    a = ap.parse_args()
    assay = os.path.abspath(os.path.join(a.build, "assay"))
    doors = a.doors.split(",")
    reqs = [request(i, min(a.per_request, a.n - i)) for i in range(0, a.n, a.per_request)]
    encoded = {"json": [json.dumps(r).encode() for r in reqs]}
    encoded["protobuf"] = encoded["grpc"] = [encode_request(r) for r in reqs]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "assay.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        for r in range(a.rounds):
            row = {}
            for door in doors:
                db = os.path.join(tmp, f"otlp{r}_{door}.db")
                t_sent, t_all, lat, errors, rss, cpu, main_cpu = run_otlp(assay, cfg, db, door, encoded[door], a.clients, a.n)
                if errors:
                    sys.exit(f"round {r} {door}: {len(errors)} requests failed: {errors[:5]}")
                row.update({f"{door}_traces_s": a.n / t_all, f"{door}_p50_ms": pct(lat, 0.5) * 1000,
                            f"{door}_p99_ms": pct(lat, 0.99) * 1000, f"{door}_rss_mib": rss,
                            f"{door}_cpu_s": cpu, f"{door}_main_cpu_s": main_cpu,
                            f"{door}_sent_s": t_sent, f"{door}_all_s": t_all})
                if a.reference:
                    rdb = os.path.join(tmp, f"ref{r}_{door}.db")
                    _, r_all, r_lat, errors, r_rss, r_cpu, _ = run_otlp(os.path.abspath(a.reference), cfg, rdb,
                                                                       door, encoded[door], a.clients, a.n)
                    if errors:
                        sys.exit(f"round {r} {door} (reference): {len(errors)} requests failed: {errors[:5]}")
                    row.update({f"ref_{door}_traces_s": a.n / r_all, f"ref_{door}_p99_ms": pct(r_lat, 0.99) * 1000,
                                f"ref_{door}_rss_mib": r_rss, f"ref_{door}_cpu_s": r_cpu})
            # The reference: the traces the last door assembled, scored by `assay score`.
            jsonl = os.path.join(tmp, "assembled.jsonl")
            con = sqlite3.connect(db)
            with open(jsonl, "w") as f:
                for (raw,) in con.execute("SELECT raw FROM traces"):
                    f.write(raw + "\n")
            con.close()
            t = time.perf_counter()
            before = os.times()
            subprocess.run([assay, "score", "--config", cfg, "--in", jsonl, "--db", os.path.join(tmp, f"score{r}.db"),
                            "--quiet"], check=True, stdout=subprocess.DEVNULL)
            row["score_traces_s"] = a.n / (time.perf_counter() - t)
            after = os.times()
            row["score_cpu_s"] = (after.children_user - before.children_user +
                                  after.children_system - before.children_system)
            for door in doors:
                row[f"{door}_ratio"] = row[f"{door}_traces_s"] / row["score_traces_s"]
                if a.reference:
                    row[f"{door}_vs_ref"] = row[f"{door}_traces_s"] / row[f"ref_{door}_traces_s"]
            rows.append(row)
            print(f"round {r}: " + ", ".join(f"{k} {v:.3f}" if k.endswith(("ratio", "vs_ref")) else f"{k} {v:.1f}"
                                             for k, v in row.items()), flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"median of {a.rounds} rounds, n={a.n}, clients={a.clients}, traces/request={a.per_request}: " +
          ", ".join(f"{k} {v:.3f}" if k.endswith(("ratio", "vs_ref")) else f"{k} {v:.1f}" for k, v in med.items()))


if __name__ == "__main__":
    main()
