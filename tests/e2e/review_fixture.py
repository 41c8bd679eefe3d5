"""Shared set-up of the review end-to-end tests: a store scored by the real
`assay score` from datasets/demo/traces.jsonl plus hostile traces, an agent
trace sent over OTLP/HTTP to a real `assay worker` (add_otlp_agent_trace),
and a real `assay review` server on 127.0.0.1 port 0."""
import http.client
import json
import os
import re
import subprocess
import time
import urllib.request

import e2e_common
from e2e_common import run
from scorer_configs import scorers_block

# `helpfulness` is a judge scorer whose judge is disabled (its key variable is
# never set): its sampled traces stay pending, none is scored.
UNSET_KEY = "ASSAY_REVIEW_E2E_UNSET_KEY"
CODE_CONFIG = "store: {sqlite: review.db}\n" + scorers_block("json", "refusal", "length", "pii")
CONFIG = ("store: {sqlite: review.db}\n"
          "judges:\n"
          "  - {name: primary, provider: openai, base_url: \"http://127.0.0.1:9/v1\", model: m,\n"
          "     api_key_env: " + UNSET_KEY + "}\n" +
          scorers_block("json", "refusal", "length", "pii") +
          "  - {name: helpfulness, type: judge, rubric: RUBRIC, judges: [primary], sample_rate: 0.1}\n")

XSS_ID = "tr_xss_review"
# A JSON output, input and metadata whose keys are not in alphabetical order:
# reviewers must see them as produced.
ORDER_ID = "tr_key_order"
ORDER_OUTPUT = '{"zeta": 1, "alpha": {"yellow": 2, "blue": 3}, "middle": [1, 2]}'

XSS_OUTPUT = ("I'm sorry, but I can't help with that. <script>alert(1)</script> "
              "<img src=x onerror=\"window.__xss=1;alert(2)\"> "
              "<a href=\"javascript:alert(3)\">click me</a>")


def hostile_traces():
    base = {
        "timestamp": "2026-11-22T00:00:00Z",
        "metadata": {"feature": "support_chat", "tenant": "initech", "prompt_version": "v7",
                     "model": "gpt-4o-mini-2024-07-18", "environment": "prod", "expected_format": "text"},
        "usage": {"input_tokens": 10, "output_tokens": 20, "cost_usd": 0.0001},
        "latency_ms": 321.0, "finish_reason": "stop",
    }
    xss = dict(base, trace_id=XSS_ID,
               input=[{"role": "system", "content": "<b>system</b> prompt"},
                      {"role": "user", "content": "<img src=x onerror=alert(4)> please help"}],
               output=XSS_OUTPUT, context=["<script>alert(5)</script> doc one"])
    order = dict(base, trace_id=ORDER_ID, input={"role": "user", "content": "Extract the invoice as JSON"},
                 output=ORDER_OUTPUT,
                 metadata=dict(base["metadata"], expected_format="json", zz_first="1", aa_second="2"))
    return [xss, order]


# tests/data/otlp/genai_agent.json (an agent span, two chat calls, a tool
# call, an embeddings call), with a hostile tool result.
AGENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
AGENT_TOOL_RESULT = '{"status": "shipped <img src=x onerror=\\"window.__xss=1\\"> <script>alert(7)</script>"}'


def add_otlp_agent_trace(assay, source, tmp, db, con):
    """Sends the GenAI agent sample (trace id AGENT_ID) to `assay worker
    --otlp-listen` writing to `db` (a SQLite path or a postgresql:// URI),
    waits until `con` (its e2e_common.StoreDb) shows it scored, stops the worker."""
    with open(os.path.join(source, "tests", "data", "otlp", "genai_agent.json")) as f:
        body = json.load(f)
    for rs in body["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                sp["traceId"] = AGENT_ID
                for a in sp.get("attributes", []):
                    if a["key"] == "gen_ai.tool.call.result":
                        a["value"] = {"stringValue": AGENT_TOOL_RESULT}
    cfg = os.path.join(tmp, "assay-otlp.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.replace("RUBRIC", os.path.join(os.path.abspath(source), "rubrics", "helpfulness.yaml")) +
                "worker: {flush_ms: 20, otlp_idle_ms: 200}\n")
    env = {k: v for k, v in os.environ.items() if k != UNSET_KEY}
    w = e2e_common.Worker(assay, ["--config", cfg, "--db", db, "--otlp-listen", "127.0.0.1:0"], need=("otlp",),
                          env=env)
    try:
        req = urllib.request.Request("http://" + w.endpoints["otlp"] + "/v1/traces", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            if r.status != 200:
                raise RuntimeError("OTLP export answered %d" % r.status)
        got = e2e_common.wait_for(con, "SELECT count(*) FROM scores_view WHERE trace_id = ? AND scorer = 'refusal'",
                                  1, args=(AGENT_ID,))
        if got != 1:
            raise RuntimeError("the OTLP agent trace was not scored")
    finally:
        w.stop()


def make_store(assay, source, tmp, db=None, judge=True):
    """Scores the traces into `db` (a SQLite path or a postgresql:// URI;
    default tmp/review.db) and returns its location. judge=False leaves the
    judge scorer `helpfulness` out (code scorers only)."""
    traces = os.path.join(tmp, "traces.jsonl")
    with open(os.path.join(source, "datasets", "demo", "traces.jsonl")) as f, open(traces, "w") as out:
        out.write(f.read())
        for t in hostile_traces():
            out.write(json.dumps(t) + "\n")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.replace("RUBRIC", os.path.join(os.path.abspath(source), "rubrics", "helpfulness.yaml"))
                if judge else CODE_CONFIG)
    db = db or os.path.join(tmp, "review.db")
    env = {k: v for k, v in os.environ.items() if k != UNSET_KEY}
    r = run([assay, "score", "--config", cfg, "--db", db, "--in", traces, "--format", "json", "--no-wait-judges"],
            env=env)
    if r.returncode != 0:
        raise RuntimeError("assay score failed: " + r.stderr[-500:])
    return db


def request(port, method, path, body=None, headers=None, host=None, source=None):
    """One request on its own connection; `source`: the client address to send from
    (any 127.x.y.z works on Linux). Returns (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                   source_address=(source, 0) if source else None)
    h = dict(headers or {})
    if host:
        h["Host"] = host
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    hdrs = r.getheaders()
    c.close()
    return r.status, hdrs, raw


def header(hdrs, name):
    return [v for k, v in hdrs if k.lower() == name.lower()]


def csrf_cookie(port):
    st, h, _ = request(port, "GET", "/")
    for v in header(h, "Set-Cookie"):
        if v.startswith("assay_csrf="):
            return v.split(";")[0].split("=", 1)[1]
    return ""


class Server:
    """`assay review` on 127.0.0.1:0; the bound port is read from its first line."""

    def __init__(self, assay, db, *extra):
        self.proc = subprocess.Popen([assay, "review", "--db", db, "--listen", "127.0.0.1:0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line or self.proc.poll() is not None:
                break
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("review server did not start: %r %r" % (line, self.proc.stderr.read()))
        self.port = int(m.group(1))
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9
