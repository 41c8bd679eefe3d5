#!/usr/bin/env python3
"""Benchmark of `assay review` on a large store (run by hand, never timed in
tests): 1,000,000 traces and 5,000,000 scores generated straight into SQLite
with recursive CTEs (the schema and scorer versions come from the real
`assay score`), then the JSON API and the list page for a filtered bottom-50
are timed over real HTTP on 127.0.0.1. Prints medians of the rounds and the
ratio to a trivial request measured in the same run (the HTTP floor).

With --backend postgres the same store is generated with generate_series in
a database on a private PostgreSQL server (tests/support/pg_server.py, stopped
at the end) and `assay review --db postgresql://...` is timed the same way.

  python3 bench/review_bench.py --assay build/assay [--traces 1000000] [--rounds 21] [--keep DB]
  python3 bench/review_bench.py --assay build/assay --backend postgres [--traces 1000000] [--keep DIR]

With --backend postgres, --keep DIR keeps the server and its generated
database in DIR, left running at the end (stop it with
`python3 tests/support/pg_server.py stop DIR`); a later run with the same DIR
reuses it and only measures.
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from scorer_configs import FIVE_SCORERS as CONFIG  # noqa: E402

FEATURES = ["support_chat", "invoice_extract", "rag_answer", "summarise", "classify", "translate", "search",
            "agent", "email_draft", "code_review"]


def generate(assay, db, n):
    seed_schema(assay, db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA cache_size = -262144")
    t0 = time.time()
    feats = " ".join("WHEN %d THEN '%s'" % (i, f) for i, f in enumerate(FEATURES))
    con.execute("BEGIN")
    # Timestamps over 60 days from 2026-09-23; ten features, 50 tenants, 4 prompt versions, 3 models.
    con.execute(f"""
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n})
INSERT INTO traces (trace_id, ts_ms, received_ms, feature, tenant, prompt_version, model, expected_format,
                    latency_ms, input_tokens, output_tokens, cost_usd, raw)
SELECT printf('tr_%08d', i), 1790121600000 + (i * 5184) % 5184000000, 1790121600000,
       CASE (i * 7) % 10 {feats} END, 'tenant_' || (i % 50), 'v' || (i % 4), 'model_' || (i % 3), 'text',
       200 + i % 900, 100 + i % 50, 30 + i % 200, 0.0001,
       json_object('trace_id', printf('tr_%08d', i), 'timestamp', '2026-10-01T00:00:00Z',
                   'input', json_array(json_object('role', 'user', 'content', 'question number ' || i ||
                        ' about invoices and the billing page, please help me find it')),
                   'output', 'Answer ' || i || ': the invoices are under Settings > Billing > Invoices.',
                   'metadata', json_object('feature', CASE (i * 7) % 10 {feats} END, 'tenant', 'tenant_' || (i % 50),
                                           'prompt_version', 'v' || (i % 4), 'model', 'model_' || (i % 3)),
                   'usage', json_object('input_tokens', 100 + i % 50, 'output_tokens', 30 + i % 200),
                   'latency_ms', 200 + i % 900)
FROM g
""")
    # Five scores per trace (one per scorer version); about 8% fail.
    con.execute("""
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
SELECT t.id, v.id, 0, ((t.id * 2654435761 + v.id * 40503) % 1000) / 1000.0,
       ((t.id * 2654435761 + v.id * 40503) % 1000) >= 80, 'ok', 'generated score for the benchmark', '', 1
FROM traces t CROSS JOIN scorer_versions v WHERE t.trace_id != 'seed'
""")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    return time.time() - t0


def seed_schema(assay, db):
    """The schema and the five scorer versions, from the real `assay score`."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "assay.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        one = os.path.join(tmp, "one.jsonl")
        with open(one, "w") as f:
            f.write(json.dumps({"trace_id": "seed", "timestamp": "2026-11-01T00:00:00Z", "input": "q",
                                "output": "a", "metadata": {"feature": "seed"}}) + "\n")
        subprocess.run([assay, "score", "--config", cfg, "--db", db, "--in", one], check=True,
                       capture_output=True)


def generate_postgres(assay, pg, uri, n):
    """The SQLite generator's rows (same ids, features, tenants, values and
    failures) with generate_series, then VACUUM ANALYZE (as autovacuum would
    leave an insert-only table: visibility map set for index-only scans)."""
    seed_schema(assay, uri)
    t0 = time.time()
    feats = "ARRAY[%s]" % ", ".join("'%s'" % f for f in FEATURES)
    pg.psql("bench", f"""
INSERT INTO traces (trace_id, ts_ms, received_ms, feature, tenant, prompt_version, model, expected_format,
                    latency_ms, input_tokens, output_tokens, cost_usd, raw)
SELECT 'tr_' || lpad(i::text, 8, '0'), 1790121600000 + (i::bigint * 5184) % 5184000000, 1790121600000,
       ({feats})[(i * 7) % 10 + 1], 'tenant_' || (i % 50), 'v' || (i % 4), 'model_' || (i % 3), 'text',
       200 + i % 900, 100 + i % 50, 30 + i % 200, 0.0001,
       json_build_object('trace_id', 'tr_' || lpad(i::text, 8, '0'), 'timestamp', '2026-10-01T00:00:00Z',
                   'input', json_build_array(json_build_object('role', 'user', 'content', 'question number ' || i ||
                        ' about invoices and the billing page, please help me find it')),
                   'output', 'Answer ' || i || ': the invoices are under Settings > Billing > Invoices.',
                   'metadata', json_build_object('feature', ({feats})[(i * 7) % 10 + 1], 'tenant', 'tenant_' || (i % 50),
                                           'prompt_version', 'v' || (i % 4), 'model', 'model_' || (i % 3)),
                   'usage', json_build_object('input_tokens', 100 + i % 50, 'output_tokens', 30 + i % 200),
                   'latency_ms', 200 + i % 900)::text
FROM generate_series(1, {n}) i""")
    pg.psql("bench", """
INSERT INTO scores (trace, scorer_version, decision, value, passed, label, explanation, reason, at_ms)
SELECT t.id, v.id, 0, ((t.id * 2654435761 + v.id * 40503) % 1000) / 1000.0,
       (((t.id * 2654435761 + v.id * 40503) % 1000) >= 80)::int, 'ok', 'generated score for the benchmark', '', 1
FROM traces t CROSS JOIN scorer_versions v WHERE t.trace_id != 'seed'""")
    pg.psql("bench", "VACUUM ANALYZE")
    return time.time() - t0


def timed_get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        raise RuntimeError("%s -> %d %s" % (path, r.status, body[:200]))
    return dt, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assay", required=True)
    ap.add_argument("--traces", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--keep", help="keep (or reuse) the generated store at this path (SQLite: the file; "
                    "PostgreSQL: the server's folder, left running)")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    a = ap.parse_args()
    if a.backend == "postgres":
        import pg_server  # noqa: E402
        if a.keep and os.path.exists(os.path.join(a.keep, "bench-ready")):
            pg = pg_server.PgServer(a.keep)  # left running by an earlier run
            pg.port = 5432
            measure_postgres(a, pg, pg.uri("bench"))
            return
        pg = pg_server.PgServer(a.keep).start()
        try:
            uri = pg.create_db("bench")
            secs = generate_postgres(a.assay, pg, uri, a.traces)
            print("generated %d traces and %d scores in %.1f s" % (a.traces, a.traces * 5, secs))
            if a.keep:
                pg_server._STARTED.remove(pg)  # left running, folder kept
                open(os.path.join(a.keep, "bench-ready"), "w").close()
                print("server left running in %s (stop: python3 tests/support/pg_server.py stop %s)"
                      % (a.keep, a.keep))
            measure_postgres(a, pg, uri)
        finally:
            if not a.keep:
                pg.stop()
        return
    tmp = tempfile.mkdtemp()
    db = a.keep or os.path.join(tmp, "bench.db")
    if not (a.keep and os.path.exists(db)):
        secs = generate(a.assay, db, a.traces)
        print("generated %d traces and %d scores in %.1f s" % (a.traces, a.traces * 5, secs))
    con = sqlite3.connect(db)
    n_traces = con.execute("SELECT count(*) FROM traces").fetchone()[0]
    n_scores = con.execute("SELECT count(*) FROM scores").fetchone()[0]
    con.close()
    print("store: %d traces, %d scores" % (n_traces, n_scores))
    measure(a, db)


def measure_postgres(a, pg, uri):
    counts = pg.psql("bench", "SELECT (SELECT count(*) FROM traces) || ' ' || (SELECT count(*) FROM scores)")
    print("store (PostgreSQL): %s traces, scores" % counts.strip())
    measure(a, uri)


def measure(a, db):
    """Times the requests against `assay review --db db` and prints the table."""
    proc = subprocess.Popen([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)/", line).group(1))
    queries = {
        "floor: GET /static/style.css": "/static/style.css",
        "list page HTML: GET /?scorer=refusal&feature=rag_answer&passed=false": "/?scorer=refusal&feature=rag_answer&passed=false",
        "API bottom-50, feature + failed": "/api/bottom?scorer=refusal&feature=rag_answer&passed=false&limit=50",
        "API bottom-50, feature + tenant": "/api/bottom?scorer=refusal&feature=rag_answer&tenant=tenant_16&limit=50",
        "API bottom-50, feature + unlabelled": "/api/bottom?scorer=refusal&feature=rag_answer&labelled=false&limit=50",
        "API bottom-50, feature + 7 days": "/api/bottom?scorer=refusal&feature=rag_answer&since=2026-11-15&limit=50",
        "API bottom-50, no filter": "/api/bottom?scorer=refusal&limit=50",
        "API calibration (the workspace's agreement panel)": "/api/calibration?scorer=refusal",
    }
    results = {}
    try:
        for name, path in queries.items():
            timed_get(port, path)  # warm
            times = [timed_get(port, path)[0] for _ in range(a.rounds)]
            results[name] = statistics.median(times) * 1000
        # The workspace as a browser loads it, one request after the other:
        # the HTML, its three scripts, the scorer list, the filtered bottom-50,
        # the first row's trace and the agreement panel.
        _, body = timed_get(port, queries["API bottom-50, feature + failed"])
        j = json.loads(body)
        page = ["/?scorer=refusal&feature=rag_answer&passed=false", "/static/app.js", "/static/trace_view.js",
                "/static/workspace.js", "/api/scorers",
                "/api/bottom?scorer=refusal&feature=rag_answer&passed=false&limit=50",
                "/api/trace?id=" + j["rows"][0]["trace_id"], "/api/calibration?scorer=refusal"]
        times = []
        for _ in range(a.rounds):
            times.append(sum(timed_get(port, u)[0] for u in page))
        results["workspace load (HTML + 3 scripts + scorers + bottom-50 + first trace + agreement)"] = \
            statistics.median(times) * 1000
        print("filtered bottom-50: total %d, rows %d" % (j["total"], len(j["rows"])))
    finally:
        proc.terminate()
        proc.wait()
    floor = results["floor: GET /static/style.css"]
    print("\n| request | median ms | × floor |")
    print("|---|---:|---:|")
    for name, ms in results.items():
        print("| %s | %.1f | %.0f |" % (name, ms, ms / floor if floor else 0))


if __name__ == "__main__":
    main()
