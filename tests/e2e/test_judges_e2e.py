#!/usr/bin/env python3
"""End-to-end: `assay score`, `assay judges status` and `assay backfill` with
LLM-judge scorers, against the standalone fake provider (the only fake) over
real HTTP on 127.0.0.1, checking the store: a SQLite file with Python's
sqlite3, or with --backend postgres a database on a private PostgreSQL server
this script starts (store.postgres; exit 77 when the server binaries are
missing). Exits non-zero on the first failed check (all checks are printed)."""
import functools
import hashlib
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
import time  # noqa: E402
from e2e_common import (FakeProvider, StoreBackend, Worker, add_backend_argument, arguments, check,  # noqa: E402
                        control, finish, missing_server)

KEY = "sk-e2e-SECRET-b7c1d2e3f4"


run = functools.partial(e2e_common.run, timeout=120)


def u(trace_id):
    return int.from_bytes(hashlib.sha256(trace_id.encode()).digest()[:8], "big") / 2**64


STORES = {}  # location -> StoreDb of the backend it is on


def q(db, sql, *args):
    return STORES[db].all(sql, *args)


def wait_for(db, sql, want, seconds=30):
    deadline = time.time() + seconds
    got = None
    while time.time() < deadline:
        try:
            got = q(db, sql)[0][0]
        except Exception:  # noqa: BLE001 (busy store: poll again)
            got = None
        if got == want:
            return got
        time.sleep(0.1)
    return got


def key_absent(db, backend):
    """The API key is in no stored byte (SQLite: the file and its WAL; PostgreSQL: every text the judge
    stage stores)."""
    if backend.pg is None:
        blob = open(db, "rb").read() + (open(db + "-wal", "rb").read() if os.path.exists(db + "-wal") else b"")
        return KEY.encode() not in blob
    like = "%" + KEY + "%"
    return q(db, "SELECT (SELECT count(*) FROM judge_cache WHERE reply LIKE ?) + (SELECT count(*) FROM judgements "
                 "WHERE coalesce(reasoning, '') || coalesce(error_message, '') LIKE ?) + (SELECT count(*) FROM "
                 "scores WHERE reason LIKE ?) + (SELECT count(*) FROM scorer_versions WHERE config_json LIKE ?)",
             like, like, like, like)[0][0] == 0


def main():
    a = add_backend_argument(arguments(fake=True)).parse_args()
    with FakeProvider(a.fake, "--score", "4") as fake:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                backend = StoreBackend(a.backend, tmp)
            except Exception as e:  # noqa: BLE001 (only a missing server is a skip)
                if not missing_server(e):
                    raise
                print("SKIP: %s" % e)
                return 77
            with backend:
                scenario(a, fake.base, tmp, backend)
    return finish("all passed")


def new_store(backend, name):
    location, store = backend.new_store(name)
    STORES[location] = store
    return location


def write_config(path, base, db, extra_scorer="", backend=None):
    rubric = "rubrics/helpfulness.yaml"
    with open(path, "w") as f:
        f.write(f"""
{backend.yaml(db).strip()}
judges:
  - name: primary
    provider: openai
    base_url: {base}/v1
    model: gpt-4o-mini-2024-07-18
    api_key_env: ASSAY_E2E_JUDGE_KEY
    max_retries: 1
    timeout_ms: 5000
    price: {{input_per_mtok: 2.5, output_per_mtok: 10}}
    daily_budget_usd: 5
scorers:
  - {{name: refusal, type: refusal}}
  - {{name: helpful, type: judge, rubric: {rubric}, judges: [primary], sample_rate: 0.5}}
{extra_scorer}""")


def scenario(a, base, tmp, backend):
    env = dict(os.environ, ASSAY_E2E_JUDGE_KEY=KEY)
    # rubric paths are relative to the config's folder
    os.symlink(os.path.join(os.path.abspath(a.source), "rubrics"), os.path.join(tmp, "rubrics"))
    traces = os.path.join(tmp, "traces.jsonl")
    ids = [f"judge-e2e-{i:03d}" for i in range(60)]
    with open(traces, "w") as f:
        for i, t in enumerate(ids):
            out = "" if i % 10 == 9 else f"Answer number {i}: the capital of France is Paris."
            f.write(json.dumps({"trace_id": t, "input": f"Question {i}: what is the capital of France?",
                                "output": out}) + "\n")
    sampled = [t for t in ids if u(t) < 0.5]
    judged = [t for t in sampled if int(t[-3:]) % 10 != 9]
    empty = [t for t in sampled if int(t[-3:]) % 10 == 9]
    db = new_store(backend, "assay")
    cfg = os.path.join(tmp, "assay.yaml")
    write_config(cfg, base, db, backend=backend)

    # 1. assay score waits for the judges, then prints the summary.
    r = run([a.assay, "score", "--config", cfg, "--in", traces, "--format", "json"], env=env)
    check(r.returncode == 0, f"score exits 0 (rc={r.returncode}, stderr={r.stderr[-400:]!r})")
    summary = json.loads(r.stdout) if r.returncode == 0 else {"scorers": []}
    helpful = next((s for s in summary["scorers"] if s["scorer"] == "helpful"), {})
    check(helpful.get("scored") == len(judged), f"summary: {len(judged)} judged ({helpful.get('scored')})")
    check(helpful.get("pending_judge") == 0, f"summary: nothing pending ({helpful.get('pending_judge')})")
    check(helpful.get("skipped_missing_input") == len(empty),
          f"summary: {len(empty)} empty outputs skipped ({helpful.get('skipped_missing_input')})")
    check(helpful.get("mean") == 4, f"summary: mean 4 ({helpful.get('mean')})")
    rows = dict(q(db, "SELECT trace_id, decision FROM scores_view WHERE scorer = 'helpful'"))
    check(sorted(t for t, d in rows.items() if d == "scored") == sorted(judged), "store: exactly the sampled "
          "traces with an output are scored")
    check(all(rows.get(t) == "sampled_out" for t in ids if t not in sampled), "store: the rest is sampled_out")
    check(all(rows.get(t) == "skipped_missing_input" for t in empty), "store: empty outputs skipped_missing_input")
    reasons = [r for (r,) in q(db, "SELECT reason FROM scores_view WHERE scorer = 'helpful' AND "
                                   "decision = 'skipped_missing_input'")]
    check(reasons and all("output" in r for r in reasons), f"store: the reason names the output ({reasons[:1]})")
    check("disabled" not in r.stderr and "paused" not in r.stderr, f"score: no pause reported ({r.stderr[-200:]!r})")
    check(q(db, "SELECT count(*) FROM judge_queue") == [(0,)], "store: judge_queue is empty")
    j = q(db, "SELECT count(*), min(score), max(score), min(input_tokens), min(cost_usd), min(attempts), "
              "sum(cached), min(latency_ms) FROM judgements_view WHERE scorer = 'helpful'")[0]
    check(j[0] == len(judged) and j[1] == 4 and j[2] == 4, f"judgements: one per judged trace, score 4 ({j})")
    check(j[3] > 0 and float(j[4]) > 0 and j[5] == 1 and j[6] == 0 and float(j[7]) > 0,
          f"judgements: tokens, cost, one attempt, not cached, latency ({j})")
    requests = control(base, "counters")["requests"]
    check(requests == len(judged), f"provider: one request per judged trace ({requests})")
    check(key_absent(db, backend), "the API key is not in the database")
    check(KEY not in r.stderr and KEY not in r.stdout, "the API key is not in the output")

    # 2. Re-running is free: identical requests come from the cache.
    r = run([a.assay, "score", "--config", cfg, "--in", traces, "--format", "json"], env=env)
    check(r.returncode == 0, "re-score exits 0")
    check(control(base, "counters")["requests"] == requests, "re-score: no new provider request")
    cached = q(db, "SELECT count(*) FROM judgements WHERE cached = 1")[0][0]
    check(cached == len(judged), f"re-score: {len(judged)} cached judgements ({cached})")

    # 3. judges status.
    r = run([a.assay, "judges", "status", "--config", cfg, "--format", "json"], env=env)
    check(r.returncode == 0, f"judges status exits 0 ({r.stderr[-300:]!r})")
    st = json.loads(r.stdout)["judges"][0] if r.returncode == 0 else {}
    check(st.get("state") == "active" and st.get("pending") == 0, f"status: active, nothing pending ({st})")
    check(st.get("calls") == len(judged) and st.get("cache_hits") == len(judged), f"status: calls, cache hits ({st})")
    check(st.get("budget_usd") == 5 and st.get("spent_usd", 0) > 0, f"status: spend vs budget ({st})")

    # 4. backfill: a second judge scorer over the stored traces.
    cfg2 = os.path.join(tmp, "assay2.yaml")
    write_config(cfg2, base, db,
                 "  - {name: helpful_all, type: judge, rubric: rubrics/helpfulness.yaml, judges: [primary], "
                 "sample_rate: 1, aggregate: median}\n", backend=backend)
    r = run([a.assay, "backfill", "--config", cfg2, "--scorer", "helpful_all", "--estimate"], env=env)
    check(r.returncode == 0 and "54 judge calls" in r.stdout, f"backfill --estimate: 54 calls ({r.stdout!r})")
    check(control(base, "counters")["requests"] == requests, "backfill --estimate spends nothing")
    decided = ("SELECT count(*) FROM scores_view WHERE scorer = 'helpful_all' AND decision IN "
               "('scored', 'skipped_missing_input')")
    # Each call is estimated at about $0.0078: $0.02 buys the first two traces.
    r = run([a.assay, "backfill", "--config", cfg2, "--scorer", "helpful_all", "--max-usd", "0.02"], env=env)
    check(r.returncode == 0 and "queued 2 traces" in r.stdout and "--max-usd 0.0200 reached" in r.stdout,
          f"backfill --max-usd 0.02 queues 2 traces ({r.stdout!r})")
    n = q(db, decided)[0][0]
    check(n == 2, f"backfill --max-usd: 2 decided ({n})")
    r = run([a.assay, "backfill", "--config", cfg2, "--scorer", "helpful_all", "--limit", "10"], env=env)
    check(r.returncode == 0, f"backfill --limit 10 exits 0 ({r.stderr[-300:]!r})")
    n = q(db, decided)[0][0]
    check(n == 12, f"backfill --limit 10: 10 more decided ({n})")
    r = run([a.assay, "backfill", "--config", cfg2, "--scorer", "helpful_all"], env=env)
    check(r.returncode == 0, "backfill (the rest) exits 0")
    n = q(db, "SELECT count(*) FROM scores_view WHERE scorer = 'helpful_all' AND decision = 'scored'")[0][0]
    check(n == 54, f"backfill: 54 scored, no duplicates ({n})")
    dup = q(db, "SELECT count(*) FROM (SELECT trace FROM judgements j JOIN scorer_versions v "
                "ON v.id = j.scorer_version WHERE v.scorer = 'helpful_all' GROUP BY trace HAVING count(*) > 1) x")[0][0]
    check(dup == 0, f"backfill: one judgement per trace ({dup} traces judged twice)")
    r = run([a.assay, "backfill", "--config", cfg2, "--scorer", "helpful_all", "--estimate"], env=env)
    check("0 judge calls" in r.stdout, f"backfill again: nothing left ({r.stdout!r})")

    # 4b. --no-wait-judges prints at once; what the judges did not finish stays queued.
    control(base, "script", {"default": {"score": 3, "latency_ms": 300}})
    db5 = new_store(backend, "nowait")
    cfg5 = os.path.join(tmp, "assay5.yaml")
    write_config(cfg5, base, db5, backend=backend)
    r = run([a.assay, "score", "--config", cfg5, "--in", traces, "--format", "json", "--no-wait-judges"], env=env)
    check(r.returncode == 0, f"score --no-wait-judges exits 0 ({r.stderr[-300:]!r})")
    h = next((s for s in json.loads(r.stdout)["scorers"] if s["scorer"] == "helpful"), {}) if r.returncode == 0 else {}
    queued = q(db5, "SELECT count(*) FROM judge_queue")[0][0]
    check(h.get("pending_judge", 0) > 0 and h.get("pending_judge") == queued,
          f"--no-wait-judges: pending in the summary = queued in the store ({h.get('pending_judge')}, {queued})")
    done = h.get("scored", -1) + h.get("skipped_missing_input", 0)
    check(done + h.get("pending_judge", 0) == len(sampled),
          f"--no-wait-judges: decided + pending = {len(sampled)} ({done} + {h.get('pending_judge')})")
    r = run([a.assay, "score", "--config", cfg5, "--in", traces, "--format", "json"], env=env)
    check(q(db5, "SELECT count(*) FROM judge_queue")[0][0] == 0, "the next run finishes the queued work")

    # 5. A 401 pauses the judge: its traces stay pending, visible in status.
    control(base, "script", {"default": {"status": 401}})
    db3 = new_store(backend, "paused")
    cfg3 = os.path.join(tmp, "assay3.yaml")
    write_config(cfg3, base, db3, backend=backend)
    r = run([a.assay, "score", "--config", cfg3, "--in", traces, "--format", "json"], env=env)
    check(r.returncode == 0, f"score with a rejected key exits 0 ({r.stderr[-300:]!r})")
    check("paused" in r.stderr, "score: the pause is logged")
    pending = q(db3, "SELECT count(*) FROM judge_queue")[0][0]
    check(len(judged) <= pending <= len(sampled),
          f"paused: the sampled traces stay queued ({pending}; {len(judged)} have an output)")
    r = run([a.assay, "judges", "status", "--config", cfg3, "--format", "json"], env=env)
    st = json.loads(r.stdout)["judges"][0] if r.returncode == 0 else {}
    check(st.get("state") == "paused" and st.get("pending") == pending, f"status: paused with pending work ({st})")
    check(key_absent(db3, backend) and KEY not in r.stdout, "paused: the API key is not stored or printed")

    # 5b. backfill's estimate and cap cover the work already queued that it drains
    # (regression: "--estimate: 0 judge calls, $0.0000", then --max-usd judged all of it).
    control(base, "script", {"default": {"score": 4}})
    output = "json_extract(t.raw, '$.output')" if backend.pg is None else "(t.raw::json ->> 'output')"
    with_output = q(db3, "SELECT count(*) FROM judge_queue_view v JOIN traces t ON t.trace_id = v.trace_id "
                         "WHERE " + output + " <> ''")[0][0]
    r = run([a.assay, "backfill", "--config", cfg3, "--scorer", "helpful", "--estimate"], env=env)
    check(r.returncode == 0 and f"{pending} traces already queued ({with_output} judge calls" in r.stdout
          and f"in all {with_output} judge calls" in r.stdout,
          f"backfill --estimate counts the {pending} queued traces: {with_output} calls ({r.stdout.strip()!r})")
    est = float(r.stdout.rsplit("$", 1)[1]) if "$" in r.stdout else 0.0
    check(est > 0.1, f"backfill --estimate prices them (${est})")
    before = control(base, "counters")["requests"]
    # Each call is estimated at about $0.0078: $0.02 pays for two of the queued traces.
    r = run([a.assay, "backfill", "--config", cfg3, "--scorer", "helpful", "--max-usd", "0.02"], env=env)
    sent = control(base, "counters")["requests"] - before
    check(r.returncode == 0 and sent == 2, f"backfill --max-usd 0.02 sends 2 calls, not all {with_output} ({sent}, "
                                           f"{r.stdout.strip()!r}, {r.stderr[-300:]!r})")
    check("--max-usd 0.0200 reached while judging" in r.stdout, f"backfill says the cap stopped it ({r.stdout!r})")
    left = q(db3, "SELECT count(*) FROM judge_queue")[0][0]
    check(left == with_output - 2, f"backfill --max-usd: the rest stays queued ({left} of {with_output})")
    r = run([a.assay, "backfill", "--config", cfg3, "--scorer", "helpful"], env=env)
    check(r.returncode == 0 and q(db3, "SELECT count(*) FROM judge_queue")[0][0] == 0,
          f"backfill without a cap drains the queue ({r.stdout.strip()[-300:]!r})")

    # 6. assay worker runs the judge stage beside code scoring and stops it on SIGTERM.
    control(base, "script", {"default": {"score": 5, "latency_ms": 20}})
    db4 = new_store(backend, "worker")
    cfg4 = os.path.join(tmp, "assay4.yaml")
    write_config(cfg4, base, db4, backend=backend)
    w = Worker(a.assay, ["--config", cfg4, "--zmq-router", "tcp://127.0.0.1:*", "--http-listen", "127.0.0.1:0"],
               need=(), env=env)
    ends = w.endpoints
    check("router" in ends and "http" in ends, f"worker started ({w.line.strip()!r})")
    if "router" not in ends:
        w.p.kill()
        return
    p = run([a.assay, "push", "--endpoint", ends["router"], "--in", traces], env=env)
    check(p.returncode == 0, f"push to the worker exits 0 ({p.stderr[-200:]!r})")
    n = wait_for(db4, "SELECT count(*) FROM scores_view WHERE scorer = 'helpful' AND decision = 'scored'",
                 len(judged), seconds=30)
    check(n == len(judged), f"worker: {len(judged)} traces judged ({n})")
    metrics = w.metrics(timeout=10)
    check(f'assay_judge_tasks_total{{decision="scored"}} {len(judged)}' in metrics, "worker /metrics: judge tasks")
    check('assay_judge_paused{judge="primary"} 0' in metrics, "worker /metrics: judge not paused")
    rc = w.stop()
    check(rc == 0, f"worker exits 0 on SIGTERM ({rc})")


if __name__ == "__main__":
    sys.exit(main())
