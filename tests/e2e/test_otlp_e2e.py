#!/usr/bin/env python3
"""End-to-end: `assay worker --otlp-listen` over real HTTP on 127.0.0.1.

- an agent trace arriving in two requests (GenAI attributes) is not scored
  before its root has ended and the idle time passed, and is scored after;
- GenAI and OpenInference samples map input, output, model and tool spans;
- the protobuf encoding, with and without gzip, is accepted and answered in
  protobuf; a bad payload (malformed protobuf, a Content-Type that lies, a
  truncated gzip, a gzip cut only in its CRC/length trailer, a JSON number out
  of range such as 1e309) gets 400 and a dead letter; another media type 415; an
  oversized body or a gzip bomb 413; /metrics passes promtool;
- kill -9 with pending spans, restart: every trace is scored exactly once
  (sampler counters count each scoring, so a second scoring would show);
- the real OpenTelemetry JS SDK (tests/e2e/otlp_js, installed by
  ci/install-npm.sh) exports traces to the worker and their scores land: the
  JSON, protobuf (with and without gzip) and gRPC (gzip) exporters, and the
  protobuf exporter configured only by OTEL_EXPORTER_OTLP_ENDPOINT; a gRPC
  message over the size limit is refused (RESOURCE_EXHAUSTED) and
  dead-lettered, and so is one over twice the limit that gRPC itself refuses
  (counted in /metrics too);
- SIGTERM drains and exits 0.
--backend postgres runs the same checks with the store on a private
PostgreSQL server (exit 77 when the server binaries are missing).
"""
import gzip
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import check, query_one as q, run_on_backend, wait_for  # noqa: E402
from scorer_configs import FIVE_SCORERS  # noqa: E402
from otlp_proto import encode_request  # noqa: E402

CONFIG = """
pipeline: {batch_size: 100}
worker: {flush_ms: 20, otlp_idle_ms: 1500, otlp_max_wait_ms: 120000, otlp_max_body_bytes: 65536}
""" + FIVE_SCORERS
N_SCORERS = 5
AGENT = "4bf92f3577b34da6a3ce929d0e0e4736"
GENAI = "5b8efff798038103d269b633813fc60c"
OPENINF = "0af7651916cd43dd8448eb211c80319c"


class Worker(e2e_common.Worker):
    """`assay worker` with an OTLP/HTTP receiver; otlp is its /v1/traces URL."""

    def __init__(self, assay, cfg, location):
        super().__init__(assay, ["--config", cfg, "--db", location, "--otlp-listen", "127.0.0.1:0",
                                 "--otlp-grpc-listen", "127.0.0.1:0",
                                 "--http-listen", "127.0.0.1:0"], need=("otlp", "otlp_grpc"))
        self.otlp = "http://" + self.endpoints["otlp"] + "/v1/traces"
        self.grpc = "http://" + self.endpoints["otlp_grpc"]


def post(url, body, ctype="application/json", encoding=None, raw=False):
    headers = {"Content-Type": ctype}
    if encoding:
        headers["Content-Encoding"] = encoding
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    decode = (lambda b: b) if raw else (lambda b: b.decode(errors="replace"))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, decode(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, decode(e.read()), dict(e.headers)


def scores_of(db, trace_id):
    return q(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", (trace_id,))


def seen_total(db):
    return q(db, "SELECT coalesce(sum(seen), 0) FROM sampler_counters WHERE scorer = 'length'")


def raw_of(db, trace_id):
    return json.loads(q(db, "SELECT raw FROM traces WHERE trace_id = ?", (trace_id,)))


def main():
    sys.exit(run_on_backend(scenario, prefix="assay-otlp-", passed="all passed"))


def scenario(a, tmp, backend):
    data = os.path.join(a.source, "tests", "data", "otlp")
    body = lambda name: open(os.path.join(data, name), "rb").read()
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG)
    # db: a StoreDb (either backend); location: what --db takes (a path or a postgresql:// URI).
    location, db = backend.new_store("o")
    w = Worker(a.assay, cfg, location)

    # 1. An agent trace in two requests: children first, then the root.
    st, text, _ = post(w.otlp, body("agent_part1.json"))
    check(st == 200 and json.loads(text) == {}, f"part 1 answered 200 {{}} ({st} {text})")
    check(q(db, "SELECT sum(span_count) FROM otlp_spans") == 3, "part 1's 3 spans are stored before the answer")
    check(q(db, "SELECT count(*) FROM otlp_spans") == 1, "in one row: one per trace and request")
    time.sleep(2.5)  # longer than otlp_idle_ms: still no root, so no score
    check(q(db, "SELECT count(*) FROM traces") == 0, "no trace is scored while its root is missing")
    st, text, _ = post(w.otlp, body("agent_part2.json"))
    check(st == 200, f"part 2 answered 200 ({st})")
    check(q(db, "SELECT count(*) FROM traces") == 0, "not scored right after the root arrived (idle time)")
    check(wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(AGENT,)) == N_SCORERS,
          "the agent trace is scored by every scorer after the idle time")
    check(wait_for(db, "SELECT count(*) FROM otlp_spans", 0) == 0, "its pending spans are deleted after the commit")
    t = raw_of(db, AGENT)
    kinds = sorted(s.get("kind") for s in t["metadata"].get("spans", []))
    check(kinds.count("tool") == 2 and kinds.count("llm") == 2, f"tool and LLM spans recorded in metadata.spans ({kinds})")
    check(t["metadata"].get("otel.span_count") == 5, "all 5 spans of both requests are in the trace")
    check(t["metadata"].get("tenant") == "globex" or q(db, "SELECT tenant FROM traces WHERE trace_id = ?", (AGENT,)) == "globex",
          "resource attribute assay.tenant becomes the tenant")

    # 2. GenAI and OpenInference samples.
    for name, tid in (("genai_chat.json", GENAI), ("openinference_rag.json", OPENINF)):
        st, text, _ = post(w.otlp, body(name))
        check(st == 200, f"{name} answered 200 ({st} {text})")
    for tid, what in ((GENAI, "GenAI"), (OPENINF, "OpenInference")):
        check(wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(tid,)) == N_SCORERS,
              f"the {what} trace is scored")
        r = raw_of(db, tid)
        check(bool(r.get("input")) and bool(r.get("output")), f"{what}: input and output are mapped")
        check(bool(q(db, "SELECT model FROM traces WHERE trace_id = ?", (tid,))), f"{what}: the model is mapped")

    # 2b. The protobuf encoding, plain and gzip, answered in protobuf.
    for tid, enc in (("7b8efff798038103d269b633813fc60c", None), ("8b8efff798038103d269b633813fc60c", "gzip")):
        req = json.loads(body("genai_chat.json").replace(GENAI.encode(), tid.encode()))
        pbody = encode_request(req)
        st, answer, hdr = post(w.otlp, gzip.compress(pbody) if enc else pbody, "application/x-protobuf", enc, raw=True)
        check(st == 200 and answer == b"" and hdr.get("Content-Type") == "application/x-protobuf",
              f"protobuf ({enc or 'identity'}): 200 with an empty ExportTraceServiceResponse ({st} {answer[:60]!r})")
        check(wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(tid,)) == N_SCORERS,
              f"protobuf ({enc or 'identity'}): the trace is scored")
        r = raw_of(db, tid)
        check(r.get("input") == raw_of(db, GENAI).get("input") and r.get("output") == raw_of(db, GENAI).get("output"),
              f"protobuf ({enc or 'identity'}): mapped as its JSON encoding is")

    # 3. Bad input.
    dead0 = q(db, "SELECT count(*) FROM dead_letters")
    st, text, _ = post(w.otlp, body("truncated.json"))
    check(st == 400 and "message" in json.loads(text), f"truncated JSON: 400 with an OTLP message ({st} {text[:120]})")
    check(q(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:http' AND error LIKE 'otlp: invalid%'") == 1,
          "the bad payload is dead-lettered with its reason")
    st, text, _ = post(w.otlp, body("bad_trace_id.json"))
    check(st == 400 and "traceId" in text, f"bad trace id: 400 naming the field ({text[:160]})")
    st, text, _ = post(w.otlp, b"<xml/>", "text/xml")
    check(st == 415 and "x-protobuf" in text, f"another media type: 415 naming the accepted ones ({st} {text[:120]})")
    # resourceSpans (field 1) claims 16 bytes and 2 follow.
    st, text, hdr = post(w.otlp, b"\x0a\x10\x0a\x02", "application/x-protobuf")
    check(st == 400 and "ExportTraceServiceRequest" in text and hdr.get("Content-Type") == "application/x-protobuf",
          f"malformed protobuf: 400 with a protobuf google.rpc.Status ({st} {text[:120]})")
    st, text, _ = post(w.otlp, body("genai_chat.json"), "application/x-protobuf")
    check(st == 400, f"JSON sent as protobuf (a lying Content-Type): 400 ({st})")
    pb = encode_request(json.loads(body("genai_chat.json")))
    st, text, _ = post(w.otlp, pb, "application/json")
    check(st == 400 and "invalid JSON" in text, f"protobuf sent as JSON: 400 ({st} {text[:100]})")
    gz = gzip.compress(pb)
    st, text, _ = post(w.otlp, gz[: len(gz) // 2], "application/x-protobuf", "gzip")
    check(st == 400, f"truncated gzip: 400 ({st} {text[:100]})")
    # Cut only in its trailer (CRC-32 and length): every deflate block is whole.
    st, text, _ = post(w.otlp, gz[:-4], "application/x-protobuf", "gzip")
    check(st == 400 and "end of stream" in text, f"gzip cut in its trailer: 400 ({st} {text[:100]})")
    # Numbers out of a double's range: 400 naming the problem, never a 500.
    for number in (b"1e309", b"1" + b"0" * 309):
        st, text, _ = post(w.otlp, b'{"resourceSpans": [{"resource": {"x": ' + number + b'}}]}')
        check(st == 400 and "number overflow" in text, f"JSON number {number[:12]!r}...: 400 ({st} {text[:120]})")
    bomb = gzip.compress(b"{" + b" " * 20_000_000 + b"}")
    st, text, _ = post(w.otlp, bomb, "application/json", "gzip")
    check(st == 413 and "65536" in text, f"gzip bomb ({len(bomb)} bytes inflating to 20 MB): 413 ({st} {text[:120]})")
    st, text, _ = post(w.otlp, b" " * 70000)
    check(st == 413 and "65536" in text, f"oversized body: 413 naming the limit ({st} {text[:120]})")
    check(q(db, "SELECT count(*) FROM dead_letters") == dead0 + 12, "each refused request is dead-lettered")
    check(w.p.poll() is None, "the worker is up after the bad requests")
    st, text, _ = post(w.otlp, body("agent_part2.json"))
    check(st == 200 and json.loads(text).get("partialSuccess", {}).get("rejectedSpans") == "2",
          f"spans of an already scored trace: partialSuccess ({text})")

    # Metrics.
    metrics = w.metrics()
    check('assay_otlp_requests_total{code="400"} 9' in metrics, "/metrics counts 400s")
    check('assay_otlp_requests_total{code="413"} 2' in metrics, "/metrics counts 413s")
    check('assay_otlp_traces_total{outcome="complete"} 5' in metrics, "/metrics counts assembled traces")
    check("assay_otlp_pending_traces 0" in metrics, "/metrics shows the pending traces")
    pt = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
    check(pt.returncode == 0, f"promtool check metrics passes ({pt.stdout[-300:]}{pt.stderr[-300:]})")

    # 4. kill -9 with pending spans: one complete trace waiting for its idle
    # time, and one trace whose root has not arrived yet.
    # The old process remembers the traces it scored, so use new trace ids.
    genai2, agent2 = "6b8efff798038103d269b633813fc60c", "5bf92f3577b34da6a3ce929d0e0e4736"
    genai_b = body("genai_chat.json").replace(GENAI.encode(), genai2.encode())
    part1_b = body("agent_part1.json").replace(AGENT.encode(), agent2.encode())
    part2_b = body("agent_part2.json").replace(AGENT.encode(), agent2.encode())
    seen0 = seen_total(db)
    traces0 = q(db, "SELECT count(*) FROM traces")
    check(post(w.otlp, genai_b)[0] == 200, "complete trace posted before the crash")
    check(post(w.otlp, part1_b)[0] == 200, "half a trace posted before the crash")
    w.p.kill()
    w.p.wait()
    check(q(db, "SELECT sum(span_count) FROM otlp_spans") == 4, "4 pending spans are in the store after kill -9")
    check(q(db, "SELECT count(*) FROM traces") == traces0, "nothing was scored before the crash")
    w = Worker(a.assay, cfg, location)
    check(wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(genai2,)) == N_SCORERS,
          "after the restart the complete trace is scored")
    check(q(db, "SELECT count(*) FROM traces WHERE trace_id = ?", (agent2,)) == 0,
          "the half trace still waits for its root")
    check(post(w.otlp, part2_b)[0] == 200, "the rest of the half trace arrives after the restart")
    check(wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(agent2,)) == N_SCORERS,
          "the resumed trace is scored")
    check(raw_of(db, agent2)["metadata"].get("otel.span_count") == 5, "with the spans from before the crash")
    check(wait_for(db, "SELECT count(*) FROM otlp_spans", 0) == 0, "no pending span is left")
    time.sleep(2)
    check(seen_total(db) - seen0 == 2, f"each trace was scored exactly once ({seen_total(db) - seen0} scorings of 2)")
    check(q(db, "SELECT count(*) FROM traces") == traces0 + 2, "no duplicate trace rows")

    # 5. The real OpenTelemetry JS SDK.
    js_dir = os.path.join(a.source, "tests", "e2e", "otlp_js")
    have_sdk = os.path.isdir(os.path.join(js_dir, "node_modules", "@opentelemetry", "sdk-trace-base"))
    check(have_sdk, "the OpenTelemetry JS SDK is installed (bash ci/install-npm.sh)")
    if have_sdk:
        n = 4
        modes = (("json", w.otlp), ("proto", w.otlp), ("proto-gzip", w.otlp), ("grpc-gzip", w.grpc),
                 ("env", None))
        for mode, url in modes:
            env = dict(os.environ)
            if mode == "env":
                # Only the endpoint: the exporter appends /v1/traces and sends its default encoding.
                env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + w.endpoints["otlp"]
                env.pop("OTEL_EXPORTER_OTLP_PROTOCOL", None)
            js = subprocess.run(["node", os.path.join(js_dir, "export_traces.js"), url or "", str(n), mode],
                                capture_output=True, text=True, timeout=60, env=env)
            check(js.returncode == 0, f"JS {mode}: the exporter ran ({js.stderr[-300:]})")
            traces = json.loads(js.stdout)["traces"] if js.returncode == 0 else []
            check(len(traces) == n, f"JS {mode}: {n} traces exported")
            for tr in traces:
                tid = tr["trace_id"]
                got = wait_for(db, "SELECT count(*) FROM scores_view WHERE trace_id = ?", N_SCORERS, args=(tid,))
                check(got == N_SCORERS, f"JS {mode} {tr['kind']} trace {tid}: all scores landed")
                if got != N_SCORERS:
                    continue
                r = raw_of(db, tid)
                check("Order" in json.dumps(r.get("output")) and "Where is order" in json.dumps(r.get("input")),
                      f"JS {mode} {tr['kind']}: input and output come from the spans")
                check(any(s.get("kind") == "tool" for s in r["metadata"].get("spans", [])),
                      f"JS {mode} {tr['kind']}: the tool span is recorded")
                model = q(db, "SELECT model FROM traces WHERE trace_id = ?", (tid,))
                check(model is not None and model.startswith("gpt-4o-mini"), f"JS {mode} {tr['kind']}: model {model}")
                pii = q(db, "SELECT passed FROM scores_view WHERE trace_id = ? AND scorer = 'pii'", (tid,))
                check(pii == 0, f"JS {mode} {tr['kind']}: the pii scorer found the e-mail in the output")
        doors = w.metrics()
        for door in ("http_json", "http_protobuf", "grpc"):
            check(f'assay_otlp_requests_by_door_total{{door="{door}"}} 0' not in doors, f"/metrics counts {door} requests")

        # A gRPC message over worker.otlp_max_body_bytes: RESOURCE_EXHAUSTED, dead-lettered.
        dead_grpc = q(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc'")
        big = subprocess.run(["node", os.path.join(js_dir, "export_traces.js"), w.grpc, "1", "grpc-big"],
                             capture_output=True, text=True, timeout=60)
        check("code: 8" in big.stderr and "the limit is 65536" in big.stderr,
              f"JS grpc-big: refused with RESOURCE_EXHAUSTED naming the limit ({big.stderr[-200:]})")
        check(wait_for(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc'", dead_grpc + 1) == dead_grpc + 1,
              "the oversized gRPC message is dead-lettered")
        check(w.p.poll() is None, "the worker is up after the oversized gRPC message")

        # Over twice the limit, plain or gzip (gRPC checks the inflated size): gRPC
        # refuses it itself, and the refusal is still counted and dead-lettered.
        refused = lambda: q(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc' "
                                "AND error LIKE 'otlp: no message received%'")
        n413 = lambda: int(re.search(r'assay_otlp_requests_total\{code="413"\} (\d+)', w.metrics()).group(1))
        refused0, m0 = refused(), n413()
        for size, comp in ((200_000, ""), (5_000_000, "gzip")):
            r = subprocess.run(["node", os.path.join(js_dir, "grpc_raw.js"), w.endpoints["otlp_grpc"], str(size), comp],
                               capture_output=True, text=True, timeout=60)
            out = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else {}
            check(out.get("code") == 8, f"gRPC {size} bytes {comp or 'plain'}: RESOURCE_EXHAUSTED ({out} {r.stderr[-200:]})")
        check(wait_for(db, "SELECT count(*) FROM dead_letters WHERE source = 'otlp:grpc' AND error LIKE "
                           "'otlp: no message received%'", refused0 + 2) == refused0 + 2,
              "each message gRPC refused is dead-lettered, naming gRPC's limit")
        check(n413() == m0 + 2, f"/metrics counts the messages gRPC refused ({n413()} vs {m0} + 2)")
        check(w.p.poll() is None, "the worker is up after messages over gRPC's limit")

    rc = w.stop()
    check(rc == 0, f"SIGTERM: exit 0 (rc={rc})")


if __name__ == "__main__":
    main()
