#!/usr/bin/env python3
"""End-to-end: alerts on synthetic traffic that drifts in time.

Three weeks of traces are scored with the real `assay score`; in week 3 the
`chat` feature switches to prompt v2 and its answers get much shorter, and the
`extract` feature's JSON breaks more often. Judge calls of the last day (in the
`judgements` table of the judge module) error often and cost more than the
budget. A local HTTP receiver (127.0.0.1, port 0) checks exactly which alerts
arrive, once each; a second check fires nothing; a recovery week resolves each
alert once. Also: Slack payloads, webhook retries, `assay alerts`, `assay
report`, reproducibility with --now. Runs on either store (--backend
sqlite|postgres).
"""
import json
import os
import random
import shutil
import subprocess
import time
import sys
import tempfile
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Worker, add_backend_argument, arguments, check, finish, run,  # noqa: E402
                        on_backend)
from monitor_common import Receiver  # noqa: E402

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
DAY = timedelta(days=1)
WORDS = "the quick brown fox jumps over a lazy dog while reading the manual".split()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def ms(t):
    return int(t.timestamp() * 1000)


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def traffic(rng, start, days, chat_words, chat_pv, json_ok_rate, tag):
    """20 traces per feature per day from `start` for `days` days."""
    out = []
    for d in range(days):
        for i in range(20):
            ts = start + d * DAY + timedelta(seconds=60 + i * 4000)
            n = max(1, int(rng.gauss(chat_words, 4)))
            out.append({"trace_id": "%s-chat-%d-%d" % (tag, d, i), "timestamp": iso(ts),
                        "input": "question", "output": text(rng, n),
                        "metadata": {"feature": "chat", "prompt_version": chat_pv, "tenant": "acme",
                                     "model": "m1", "user_id": "u%d" % (i % 7)}})
            out.append({"trace_id": "%s-search-%d-%d" % (tag, d, i), "timestamp": iso(ts),
                        "input": "query", "output": text(rng, max(1, int(rng.gauss(40, 4)))),
                        "metadata": {"feature": "search", "prompt_version": "v1", "tenant": "globex",
                                     "model": "m1"}})
            body = '{"invoice": "A-%d", "total": %d.5, "lines": ["a", "b", "c"]}' % (i, i)
            if rng.random() >= json_ok_rate:
                body = body[:-1]  # truncated: invalid JSON
            out.append({"trace_id": "%s-extract-%d-%d" % (tag, d, i), "timestamp": iso(ts),
                        "input": "invoice", "output": body,
                        "metadata": {"feature": "extract", "prompt_version": "v1", "tenant": "initech",
                                     "model": "m2", "expected_format": "json"}})
    return out


def write(path, traces):
    with open(path, "w") as f:
        for t in traces:
            f.write(json.dumps(t) + "\n")


CONFIG = """
{store}judges:
  - {{name: primary, provider: openai, model: gpt-4o-mini-2024-07-18}}
scorers:
  - {{name: json, type: format, json: true, when: {{expected_format: json}}}}
  - {{name: length, type: length, measure: words, filter: {{feature: [chat, search]}}}}
alerts:
  webhook: {{url: "{url}", format: {fmt}, timeout_ms: 2000, max_retries: 2}}
  rules:
    - {{name: length-drop, kind: score_drop, scorer: length, by: feature, window: 7d, drop: 5, min_count: 50}}
    - {{name: json-broken, kind: pass_rate_below, scorer: json, by: feature, window: 7d, below: 0.9, min_count: 50}}
    - {{name: prompt-regression, kind: prompt_version_worse, scorer: length, by: feature, window: 21d, drop: 5, min_count: 50}}
    - {{name: judge-errors, kind: judge_error_rate_above, judge: primary, window: 1d, above: 0.05, min_count: 20}}
    - {{name: judge-spend, kind: spend_above, judge: primary, window: 1d, above_usd: 20}}
"""


def add_judgements(store, day_start, error_every, cost_each):
    """100 judge calls spread over 16.5 hours from day_start; every error_every-th one errors."""
    sv = store.one("SELECT id FROM scorer_versions WHERE scorer = 'length'")
    # Trace k of the first 100 (by id) gets a call at day_start + (600 k + 1) s.
    store.execute("INSERT INTO judgements (trace, scorer_version, judge, model, rubric, rubric_version, rubric_hash, "
                  "score, input_tokens, output_tokens, cost_usd, attempts, cached, error_type, at_ms) "
                  "SELECT id, ?, 'primary', 'gpt-4o-mini-2024-07-18', 'helpfulness', '1', 'h', "
                  "CASE WHEN k % ? = 0 THEN NULL ELSE 4.0 END, 500, 50, ?, 1, 0, "
                  "CASE WHEN k % ? = 0 THEN 'timeout' END, ? + 1000 * (k * 600 + 1) "
                  "FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM traces ORDER BY id LIMIT 100) t",
                  sv, error_every, cost_each, error_every, ms(day_start))


def keys(bodies):
    return sorted((b["rule"], b["group"], b["status"]) for b in bodies)


WORKER_CONFIG = """
{store}scorers:
  - {{name: json, type: format, json: true, when: {{expected_format: json}}}}
monitor: {{interval: 1s, metrics_window: 1d}}
alerts:
  interval: 1s
  webhook: {{url: "{url}", format: json}}
  rules:
    - {{name: json-broken, kind: pass_rate_below, scorer: json, by: feature, window: 1d, below: 0.9, min_count: 50}}
"""


def worker_section(a, tmp, recv, backend):
    """The worker's monitor loop: periodic rule evaluation and /metrics quality gauges (real time)."""
    rng = random.Random(11)
    db, _ = backend.new_store("w")
    cfg = os.path.join(tmp, "w.yaml")
    with open(cfg, "w") as f:
        f.write(WORKER_CONFIG.format(store=backend.yaml(db), url=recv.url()))
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    lines = []
    for i in range(200):
        ts = now - timedelta(hours=20) + timedelta(minutes=5 * i)  # the last 20 complete hours
        ok = rng.random() < 0.5
        lines.append({"trace_id": "w%d" % i, "timestamp": iso(ts), "input": "invoice",
                      "output": '{"a": 1}' if ok else '{"a": ',
                      "metadata": {"feature": "extract", "expected_format": "json", "tenant": "tenant-%d" % i,
                                   "user_id": "user-%d" % i}})
    src = os.path.join(tmp, "w.jsonl")
    write(src, lines)
    s = run([a.assay, "score", "--config", cfg, "--in", src, "--quiet"])
    check(s.returncode == 0, "worker section: traffic of the last 20 hours scored")
    w = Worker(a.assay, ["--config", cfg, "--zmq-router", "tcp://127.0.0.1:*", "--http-listen", "127.0.0.1:0"],
               need=())
    try:
        check("http" in w.endpoints, "worker started with /metrics (%s)" % w.line.strip())
        got = []
        deadline = time.time() + 30
        while time.time() < deadline and not got:
            time.sleep(0.2)
            got = recv.take()
        check(keys(got) == [("json-broken", "feature=extract", "firing")],
              "the worker's periodic check delivers the alert once: %s" % keys(got))
        metrics = ""
        deadline = time.time() + 10
        while time.time() < deadline and "assay_quality_pass_rate{" not in metrics:
            metrics = w.metrics()
            time.sleep(0.2)
        gauge = [l for l in metrics.splitlines() if l.startswith('assay_quality_pass_rate{scorer="json",feature="extract"}')]
        check(len(gauge) == 1 and 0.3 < float(gauge[0].split()[-1]) < 0.7,
              "/metrics has the quality gauge per scorer and feature: %s" % gauge)
        check('assay_quality_scored{scorer="json",feature="extract"} 200' in metrics, "/metrics counts the window's scores")
        check("tenant" not in metrics and "user" not in metrics, "/metrics never labels by tenant or user")
        if shutil.which("promtool"):
            pt = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
            check(pt.returncode == 0, "promtool check metrics passes (%s%s)" % (pt.stdout[-300:], pt.stderr[-300:]))
        time.sleep(2.5)  # a few more evaluation rounds
        check(recv.take() == [], "later rounds of the worker send nothing new")
    finally:
        rc = w.stop()
    check(rc == 0, "worker exits 0 on SIGTERM")


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    rng = random.Random(7)
    recv = Receiver(fail_first=1)
    db, store = backend.new_store("m")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db), url=recv.url(), fmt="json"))
    # Weeks 1-2 healthy; week 3: chat on prompt v2 answers in ~15 words, 30% broken JSON.
    traces = traffic(rng, NOW - 21 * DAY, 14, 40, "v1", 0.99, "w12")
    traces += traffic(rng, NOW - 7 * DAY, 7, 15, "v2", 0.70, "w3")
    src = os.path.join(tmp, "weeks1-3.jsonl")
    write(src, traces)
    s = run([a.assay, "score", "--config", cfg, "--in", src, "--db", db, "--quiet"])
    check(s.returncode == 0, "assay score ingests 3 weeks (%s)" % s.stderr.strip()[-200:])
    add_judgements(store, NOW - DAY, error_every=8, cost_each=0.25)  # 13% errors, $25

    c1 = run([a.assay, "alerts", "check", "--config", cfg, "--now", iso(NOW), "--format", "json"])
    check(c1.returncode == 0, "alerts check exits 0 (%s)" % c1.stderr.strip())
    got = recv.take()
    expected = sorted([
        ("json-broken", "feature=extract", "firing"),
        ("judge-errors", "judge=primary", "firing"),
        ("judge-spend", "judge=primary", "firing"),
        ("length-drop", "feature=chat", "firing"),
        ("prompt-regression", "feature=chat prompt_version=v2", "firing"),
    ])
    check(keys(got) == expected, "exactly the five expected alerts arrive, once each: %s" % keys(got))
    check(recv.requests == 6, "the first POST got HTTP 500 and was retried (%d requests)" % recv.requests)
    out = json.loads(c1.stdout or "{}")
    states = {(f["rule"], f["group"]): f["state"] for f in out.get("findings", [])}
    check(states.get(("length-drop", "feature=search")) == "ok", "stable feature is evaluated and ok")
    check(states.get(("json-broken", "feature=extract")) == "firing", "findings list the firing group")
    drop = next((b for b in got if b["rule"] == "length-drop"), {})
    check(drop.get("baseline", 0) - drop.get("value", 0) > 20 and drop.get("p_value", 1) < 0.01,
          "the drop alert carries the figures (%s)" % drop.get("message"))

    c2 = run([a.assay, "alerts", "check", "--config", cfg, "--now", iso(NOW + timedelta(minutes=30))])
    check(c2.returncode == 0 and recv.take() == [], "a second check with the same state sends nothing")
    lst = run([a.assay, "alerts", "--db", db, "--format", "json"])
    stored = json.loads(lst.stdout or "[]")
    check(len(stored) == 5 and all(x["state"] == "firing" and x["fire_delivery"] == "delivered" for x in stored),
          "assay alerts lists five firing, delivered alerts")
    check(all(sorted(x) == sorted(["id", "rule", "kind", "group", "state", "fired_at", "resolved_at",
                                   "value", "baseline", "count", "baseline_count", "p_value",
                                   "message", "fire_delivery", "resolve_delivery",
                                   "delivery_error"]) for x in stored),
          "assay alerts --format json: each alert has exactly the documented keys (%s)" %
          (sorted(stored[0]) if stored else None))
    table = run([a.assay, "alerts", "--db", db])
    check(table.returncode == 0 and "length-drop" in table.stdout, "assay alerts prints a table")

    rep = run([a.assay, "report", "--db", db, "--now", iso(NOW), "--by", "feature", "--format", "json"])
    check(rep.returncode == 0, "assay report runs (%s)" % rep.stderr.strip())
    r = json.loads(rep.stdout or "{}")
    chat = [x for x in r.get("rows", []) if x["scorer"] == "length" and x["group"] == "chat"]
    check(len(chat) == 1 and chat[0]["mean_delta"] < -20 and chat[0]["count"] == 140,
          "report: chat's length mean fell week over week (%s)" % chat)
    ext = [x for x in r.get("rows", []) if x["scorer"] == "json" and x["group"] == "extract"]
    check(len(ext) == 1 and ext[0]["pass_rate_delta"] < -0.15, "report: extract's pass rate fell")
    wf = [x["group"] for x in r.get("worst_features", []) if x["scorer"] == "length"]
    check(wf[:1] == ["chat"], "report: chat is the worst feature for length (%s)" % wf)
    wp = [x["group"] for x in r.get("worst_prompt_versions", []) if x["scorer"] == "length"]
    check(wp[:1] == ["v2"], "report: v2 is the worst prompt version (%s)" % wp)
    for fmt in ("table", "markdown"):
        o = run([a.assay, "report", "--db", db, "--now", iso(NOW), "--format", fmt])
        check(o.returncode == 0 and "Worst features" in o.stdout, "report --format %s" % fmt)

    # Recovery week: chat on prompt v3 back to ~40 words, JSON healthy, judge calm and cheap.
    week4 = traffic(rng, NOW, 7, 40, "v3", 0.99, "w4")
    src4 = os.path.join(tmp, "week4.jsonl")
    write(src4, week4)
    s = run([a.assay, "score", "--config", cfg, "--in", src4, "--db", db, "--quiet"])
    check(s.returncode == 0, "assay score ingests the recovery week")
    add_judgements(store, NOW + 6 * DAY, error_every=100, cost_each=0.01)  # 1% errors, $1
    later = NOW + 7 * DAY
    c3 = run([a.assay, "alerts", "check", "--config", cfg, "--now", iso(later), "--format", "json"])
    check(c3.returncode == 0, "recovery check exits 0")
    got = recv.take()
    check(keys(got) == sorted((k, g, "resolved") for k, g, _ in expected),
          "each alert resolves exactly once: %s" % keys(got))
    c4 = run([a.assay, "alerts", "check", "--config", cfg, "--now", iso(later + timedelta(hours=1))])
    check(c4.returncode == 0 and recv.take() == [], "a check after recovery sends nothing")
    stored = json.loads(run([a.assay, "alerts", "--db", db, "--format", "json"]).stdout or "[]")
    check(len(stored) == 5 and all(x["state"] == "resolved" for x in stored), "all five stored as resolved")

    # Slack format from the same store with no alert state, evaluated at NOW again.
    store.execute("DELETE FROM alerts")
    cfg2 = os.path.join(tmp, "slack.yaml")
    with open(cfg2, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db), url=recv.url(), fmt="slack"))
    c5 = run([a.assay, "alerts", "check", "--config", cfg2, "--now", iso(NOW)])
    got = recv.take()
    check(c5.returncode == 0 and len(got) == 5 and all(list(b) == ["text"] and b["text"].startswith("[FIRING] ")
                                                       for b in got),
          "slack format: five {\"text\": \"[FIRING] ...\"} payloads")

    # Webhook down: the alert is stored, the delivery failure reported, retried next time.
    db3 = db
    store.execute("DELETE FROM alerts")
    cfg3 = os.path.join(tmp, "down.yaml")
    closed = Receiver()
    dead_url = closed.url()
    closed.close()
    with open(cfg3, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db3), url=dead_url, fmt="json").replace("max_retries: 2", "max_retries: 0"))
    c6 = run([a.assay, "alerts", "check", "--config", cfg3, "--now", iso(NOW)])
    check(c6.returncode == 1 and "delivery" in c6.stderr, "unreachable webhook: exit 1, named on stderr")
    failed = json.loads(run([a.assay, "alerts", "--db", db3, "--format", "json"]).stdout or "[]")
    check(len(failed) == 5 and all(x["fire_delivery"] == "failed" for x in failed), "alerts stored as undelivered")
    with open(cfg3, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db3), url=recv.url(), fmt="json"))
    c7 = run([a.assay, "alerts", "check", "--config", cfg3, "--now", iso(NOW + timedelta(minutes=5))])
    got = recv.take()
    check(c7.returncode == 0 and keys(got) == expected, "the next check delivers them, once each: %s %s" % (keys(got), c7.stderr.strip()))

    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write(CONFIG.format(store=backend.yaml(db), url=recv.url(), fmt="json").replace("below: 0.9", "below: 9"))
    b = run([a.assay, "alerts", "check", "--config", bad])
    check(b.returncode == 2 and "key 'below'" in b.stderr, "a bad rule is rejected naming the key (%s)" % b.stderr.strip())

    worker_section(a, tmp, recv, backend)
    recv.close()
    return finish("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
