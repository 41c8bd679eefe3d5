#!/usr/bin/env python3
"""The OTLP/gRPC door holds the HTTP doors' limits (issue 18, "the same limits
apply there"; issue 14 item 2), against the real worker with Debian's
python3-grpcio as the client. With worker.http_max_header_bytes 4096 and
worker.otlp_max_body_bytes 65536:
  1. metadata over the limit (6 KB): RESOURCE_EXHAUSTED naming the limit and
     worker.http_max_header_bytes, counted (assay_otlp_requests_total
     code 431), dead-lettered; far over it (100 KB): RESOURCE_EXHAUSTED from
     gRPC itself;
  2. a message over the limit (100 KB): RESOURCE_EXHAUSTED naming
     worker.otlp_max_body_bytes, counted (413), dead-lettered; far over it
     (16 MB): RESOURCE_EXHAUSTED, counted too;
  3. 8 clients sending 48 such calls (16 MB messages and 100 KB metadata) at
     once, each on a connection of its own: every one refused, /healthz
     answering throughout, the worker's RSS growing by less than 96 MiB (a
     server that buffered the messages would hold 8 x 16 MB = 128 MiB; with
     gRPC's memory quota at 16 MiB here, 45-70 MiB was measured, 82-88 MiB with
     a 64 MiB quota or none), and afterwards a normal export is answered OK and
     its trace stored.
--backend postgres runs the same checks with the store on a private
PostgreSQL server (exit 77 when the server binaries are missing)."""
import os
import sys
import threading
import time
import urllib.request

sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-grpcio
import grpc  # noqa: E402

from e2e_common import Worker, check, query_one, run_on_backend, wait_for  # noqa: E402
from otlp_proto import encode_request  # noqa: E402

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
# Channels do not share connections (grpcio pools them by target otherwise).
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_trace(tid):
    t0 = 1795341600000000000
    span = {"traceId": tid, "spanId": "00000000000000a1", "name": "chat", "kind": 3,
            "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 5000000),
            "attributes": [{"key": "gen_ai.prompt.0.content", "value": {"stringValue": "hello"}},
                           {"key": "gen_ai.completion.0.content", "value": {"stringValue": "hi there"}}]}
    return encode_request({"resourceSpans": [{"resource": {"attributes": []},
                                              "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]})


def call(export, body, metadata=None):
    """(code, details) of one Export call."""
    try:
        export(body, metadata=metadata, timeout=30)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details() or ""


def main():
    return run_on_backend(scenario, prefix="assay-grpc-limits-")


def scenario(a, tmp, backend):
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write("worker: {otlp_max_body_bytes: 65536, http_max_header_bytes: 4096, otlp_idle_ms: 100,"
                " flush_ms: 20}\nscorers:\n  - {name: refusal, type: refusal}\n")
    # db: a StoreDb (either backend); location: what --db takes (a path or a postgresql:// URI).
    location, db = backend.new_store("w")
    w = Worker(a.assay, ["--config", cfg, "--db", location, "--otlp-grpc-listen", "127.0.0.1:0",
                         "--http-listen", "127.0.0.1:0"], need=("otlp_grpc", "http"))
    try:
        health = "http://" + w.endpoints["http"] + "/healthz"
        channel = grpc.insecure_channel(w.endpoints["otlp_grpc"], options=OWN_CONNECTION)
        export = channel.unary_unary(METHOD)
        dead = lambda: query_one(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc'")

        # 1. Metadata.
        code, details = call(export, one_trace("%032x" % 1), [("x-big", "a" * 6000)])
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED and "worker.http_max_header_bytes" in details
              and "4096" in details, f"6 KB of metadata: RESOURCE_EXHAUSTED naming the limit ({code} {details})")
        check(w.metric('assay_otlp_requests_total{code="431"}') == 1, "counted as 431 in /metrics")
        check(wait_for(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc' AND error LIKE "
                       "'%metadata%'", 1) == 1, "and dead-lettered")
        code, details = call(export, one_trace("%032x" % 2), [("x-big", "a" * 100000)])
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED, f"100 KB of metadata: RESOURCE_EXHAUSTED ({code} {details})")
        # gRPC closes the connection after refusing such metadata itself: a new one.
        channel.close()
        channel = grpc.insecure_channel(w.endpoints["otlp_grpc"], options=OWN_CONNECTION)
        export = channel.unary_unary(METHOD)

        # 2. Messages.
        code, details = call(export, b"\x0a" + b"x" * 100000)
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED and "worker.otlp_max_body_bytes" in details,
              f"a 100 KB message: RESOURCE_EXHAUSTED naming the limit ({code} {details})")
        code, details = call(export, b"\x0a" + b"x" * (16 << 20))
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED, f"a 16 MB message: RESOURCE_EXHAUSTED ({code} {details})")
        check(w.metric('assay_otlp_requests_total{code="413"}') == 2, "both counted as 413 in /metrics")
        check(wait_for(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc'", 3) == 3,
              "the metadata refusal and both messages dead-lettered (%s)" % dead())
        check(query_one(db, "SELECT count(*) FROM traces") == 0, "nothing refused was stored")

        # 3. Many at once: refused, healthy, memory bounded.
        base = rss_kb(w.p.pid)
        big = b"\x0a" + b"x" * (16 << 20)
        codes, health_codes, health_slowest = {"msg": [], "meta": []}, [], [0.0]
        lock = threading.Lock()
        done = threading.Event()

        def attacker(k):
            for i in range(6):
                # A connection per call: gRPC closes the connection after refusing metadata.
                ch = grpc.insecure_channel(w.endpoints["otlp_grpc"], options=OWN_CONNECTION)
                ex = ch.unary_unary(METHOD)
                got = call(ex, big) if (i + k) % 2 == 0 else call(ex, b"", [("x-big", "a" * 100000)])
                ch.close()
                with lock:
                    codes["msg" if (i + k) % 2 == 0 else "meta"].append(got[0])

        def prober():
            while not done.is_set():
                t = time.perf_counter()
                try:
                    st = urllib.request.urlopen(health, timeout=5).status
                except Exception as e:  # noqa: BLE001 - any failure is the finding
                    st = str(e)
                health_slowest[0] = max(health_slowest[0], time.perf_counter() - t)
                health_codes.append(st)
                time.sleep(0.1)

        peak = [base]

        def sampler():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(w.p.pid))
                time.sleep(0.02)

        side = [threading.Thread(target=prober), threading.Thread(target=sampler)]
        for t in side:
            t.start()
        attackers = [threading.Thread(target=attacker, args=(k,)) for k in range(8)]
        for t in attackers:
            t.start()
        for t in attackers:
            t.join()
        done.set()
        for t in side:
            t.join()
        # Every call refused. gRPC's own refusals may end the connection (metadata far over
        # the limit does; the memory quota closes connections under pressure): the call then
        # sees UNAVAILABLE, never OK.
        refused = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)
        exhausted = codes["msg"].count(grpc.StatusCode.RESOURCE_EXHAUSTED)
        check(len(codes["msg"]) == 24 and all(c in refused for c in codes["msg"]) and exhausted >= 12,
              "all 24 16 MB messages refused, %d with RESOURCE_EXHAUSTED (%s)"
              % (exhausted, sorted({str(c) for c in codes["msg"]})))
        check(len(codes["meta"]) == 24 and all(c in refused for c in codes["meta"]),
              "all 24 calls with 100 KB of metadata refused (%s)" % sorted({str(c) for c in codes["meta"]}))
        check(health_codes and all(c == 200 for c in health_codes),
              "/healthz answered 200 throughout (%d probes, slowest %.2f s)" % (len(health_codes), health_slowest[0]))
        grew = (peak[0] - base) / 1024
        check(grew < 96, "RSS grew by %.1f MiB (< 96 MiB) while 8 clients sent 16 MB messages" % grew)
        counted = w.metric('assay_otlp_requests_total{code="413"}') - 2
        check(counted >= exhausted, "the refused messages counted as 413 (%d, %d answered RESOURCE_EXHAUSTED)"
              % (counted, exhausted))

        code, details = call(export, one_trace("%032x" % 7))
        check(code == grpc.StatusCode.OK, f"a normal export afterwards is answered OK ({code} {details})")
        check(wait_for(db, "SELECT count(*) FROM traces", 1) == 1, "and its trace is stored")
        channel.close()
    finally:
        rc = w.stop()
    check(rc == 0, "the worker exits 0 (%s)" % rc)


if __name__ == "__main__":
    sys.exit(main())
