#!/usr/bin/env python3
"""End-to-end: judges on today's models with the real `assay` binary against
the standalone fake provider (which follows the providers' documented rules
for reasoning models, the Responses API and Anthropic extended thinking):

  1. an OpenAI reasoning model with the default keys is judged (sent
     max_completion_tokens, no temperature, reasoning_effort);
  2. a reasoning model sent max_tokens (max_tokens_field: max_tokens) pauses
     the judge; its traces stay pending and `assay judges status` names the fix;
  3. a reasoning judge with a 512-token budget: every verdict is
     judge_truncated (never a score), with the billed tokens and cost in the
     judgements rows, judge_spend and judges status;
  4. the same with max_tokens_on_truncation: scored after one larger retry;
  5. the Responses API and 6. Anthropic thinking judges score;
  7. samples: 3 asks the judge three times (seeds 1..3) and stores the median.
--backend postgres runs the same checks with each store a database on a
private PostgreSQL server (exit 77 when the server binaries are missing).
Exits non-zero on the first failed check (all checks are printed)."""
import functools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import FakeProvider, check, control, query_all, run_on_backend  # noqa: E402

KEY = "sk-e2e-SECRET-models-91a2"
run = functools.partial(e2e_common.run, timeout=120)
N = 6


def q(db, sql, *args):
    return query_all(db, sql, args)


def write(backend, name, base, judge_keys, scorer_keys=""):
    """A config on a new store `name` of the backend: (the config's path, the store's StoreDb)."""
    location, db = backend.new_store(name)
    cfg = os.path.join(backend.tmp, name + ".yaml")
    keys = "".join(f"    {k}: {v}\n" for k, v in judge_keys.items())
    with open(cfg, "w") as f:
        f.write(backend.yaml(location) + f"""judges:
  - name: primary
    base_url: {base}/v1
    api_key_env: ASSAY_E2E_JUDGE_KEY
    max_retries: 1
    timeout_ms: 5000
    price: {{input_per_mtok: 1.25, output_per_mtok: 10}}
{keys}scorers:
  - {{name: helpful, type: judge, rubric: rubrics/helpfulness.yaml, judges: [primary], sample_rate: 1{scorer_keys}}}
""")
    return cfg, db


def bodies(base):
    return [json.loads(r["body"]) for r in control(base, "requests")["requests"]]


def score(a, env, cfg, traces):
    r = run([a.assay, "score", "--config", cfg, "--in", traces, "--format", "json"], env=env)
    check(r.returncode == 0, f"score exits 0 (rc={r.returncode}, stderr={r.stderr[-300:]!r})")
    return r


def status(a, env, cfg):
    r = run([a.assay, "judges", "status", "--config", cfg, "--format", "json"], env=env)
    check(r.returncode == 0, f"judges status exits 0 ({r.stderr[-300:]!r})")
    return json.loads(r.stdout)["judges"][0] if r.returncode == 0 else {}


def scenario(a, base, tmp, backend):
    env = dict(os.environ, ASSAY_E2E_JUDGE_KEY=KEY)
    os.symlink(os.path.join(os.path.abspath(a.source), "rubrics"), os.path.join(tmp, "rubrics"))
    traces = os.path.join(tmp, "traces.jsonl")
    with open(traces, "w") as f:
        for i in range(N):
            f.write(json.dumps({"trace_id": f"models-{i}", "input": f"Question {i}?",
                                "output": f"Answer {i}: Paris."}) + "\n")

    # 1. A reasoning model with the default keys.
    control(base, "reset", {})
    cfg, db = write(backend, "reasoning", base, {"provider": "openai", "model": "gpt-5-mini",
                                              "reasoning_effort": "low"})
    score(a, env, cfg, traces)
    n = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0]
    check(n == N, f"reasoning model: {N} traces scored ({n})")
    sent = bodies(base)
    check(len(sent) == N and all(b.get("max_completion_tokens") == 4096 and "max_tokens" not in b
                                 and "temperature" not in b and b.get("reasoning_effort") == "low"
                                 for b in sent),
          f"reasoning model: max_completion_tokens 4096, no temperature, reasoning_effort ({sent[:1]})")

    # 2. max_tokens sent to a reasoning model: the judge pauses, nothing is scored.
    control(base, "reset", {})
    cfg, db = write(backend, "refused", base, {"provider": "openai", "model": "o4-mini",
                                            "max_tokens_field": "max_tokens"})
    r = score(a, env, cfg, traces)
    check("paused" in r.stderr and "max_tokens_field" in r.stderr, f"refused: the pause names the fix ({r.stderr[-400:]!r})")
    check(q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0] == 0, "refused: nothing scored")
    pending = q(db, "SELECT count(*) FROM judge_queue")[0][0]
    check(pending == N, f"refused: every trace stays pending ({pending})")
    # The refusal pauses the judge: requests already in flight (up to max_concurrency, here every
    # trace) are answered 400 too, but none is retried and none after the pause is sent.
    sent_n = control(base, "counters")["requests"]
    check(1 <= sent_n <= N, f"refused: at most one request per trace, none retried ({sent_n})")
    st = status(a, env, cfg)
    check(st.get("state") == "paused" and "refuses parameter 'max_tokens'" in st.get("detail", "")
          and "max_tokens_field" in st.get("detail", ""), f"refused: judges status says paused and why ({st})")

    # 3. Reasoning tokens use up a 512-token budget: judge_truncated, billed.
    control(base, "reset", {})
    cfg, db = write(backend, "truncated", base, {"provider": "openai", "model": "gpt-5-mini", "max_tokens": 512})
    score(a, env, cfg, traces)
    rows = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'failed' AND reason LIKE '%judge_truncated%'")
    check(rows == [(N,)], f"truncated: every task failed with judge_truncated ({rows})")
    check(q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0] == 0, "truncated: never a score")
    j = q(db, "SELECT min(error_type), max(error_type), min(output_tokens), min(cost_usd), max(attempts), "
              "min(error_message) FROM judgements")[0]
    check(j[0] == j[1] == "judge_truncated" and j[2] == 512 and float(j[3]) > 0 and j[4] == 1,
          f"truncated: judgements keep the billed tokens and cost, one attempt each ({j[:5]})")
    check("512 output tokens used of max_tokens 512" in (j[5] or "") and "raise" in (j[5] or ""),
          f"truncated: the message says what was used and what to raise ({j[5]!r})")
    spend = q(db, "SELECT calls, output_tokens, cost_usd FROM judge_spend")
    check(len(spend) == 1 and spend[0][0] == N and spend[0][1] == N * 512 and float(spend[0][2]) > 0,
          f"truncated: judge_spend counts the billed attempts ({spend})")
    st = status(a, env, cfg)
    check(st.get("spent_usd", 0) > 0 and st.get("calls") == N, f"truncated: judges status shows the spend ({st})")

    # 4. max_tokens_on_truncation: one retry with the larger budget, then scored.
    control(base, "reset", {})
    cfg, db = write(backend, "retried", base, {"provider": "openai", "model": "gpt-5-mini", "max_tokens": 512,
                                            "max_tokens_on_truncation": 2048})
    score(a, env, cfg, traces)
    n = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0]
    check(n == N, f"retried: {N} scored ({n})")
    j = q(db, "SELECT min(attempts), max(attempts), min(output_tokens) FROM judgements")[0]
    check(j[0] == j[1] == 2 and j[2] > 512 + 640, f"retried: two attempts each, both billed ({j})")
    budgets = sorted({b.get("max_completion_tokens") for b in bodies(base)})
    check(budgets == [512, 2048], f"retried: budgets 512 then 2048 ({budgets})")

    # 5. The Responses API.
    control(base, "reset", {})
    cfg, db = write(backend, "responses", base, {"provider": "openai", "api": "responses", "model": "gpt-5"})
    score(a, env, cfg, traces)
    n = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0]
    check(n == N, f"responses: {N} scored ({n})")
    reqs = control(base, "requests")["requests"]
    check(reqs and all(r["path"] == "/v1/responses" for r in reqs), "responses: sent to /v1/responses")
    check(all(json.loads(r["body"]).get("max_output_tokens") == 4096 for r in reqs), "responses: max_output_tokens")

    # 6. Anthropic with extended thinking.
    control(base, "reset", {})
    cfg, db = write(backend, "thinking", base, {"provider": "anthropic", "model": "claude-sonnet-4-5",
                                             "thinking_budget_tokens": 2048})
    score(a, env, cfg, traces)
    n = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0]
    check(n == N, f"thinking: {N} scored ({n})")
    sent = bodies(base)
    check(all(b.get("thinking", {}).get("budget_tokens") == 2048 and "temperature" not in b for b in sent),
          "thinking: budget sent, temperature left out")

    # 7. Self-consistency: samples: 3, aggregate: median.
    control(base, "reset", {})
    cfg, db = write(backend, "samples", base, {"provider": "openai", "model": "gpt-4o-mini"},
                    ", samples: 3, aggregate: median")
    score(a, env, cfg, traces)
    n = q(db, "SELECT count(*) FROM scores_view WHERE decision = 'scored'")[0][0]
    check(n == N, f"samples: {N} scored ({n})")
    per = q(db, "SELECT min(c), max(c) FROM (SELECT count(*) c FROM judgements_view GROUP BY trace_id) x")[0]
    check(per == (3, 3), f"samples: three judgements per trace ({per})")
    seeds = sorted({b.get("seed") for b in bodies(base)})
    check(seeds == [1, 2, 3], f"samples: seeds 1..3 sent ({seeds})")
    ex = q(db, "SELECT explanation FROM scores_view WHERE decision = 'scored' LIMIT 1")[0][0]
    check("median of 3" in ex and "primary#3=" in ex and "disagreement" in ex,
          f"samples: each sample's verdict and the spread in the explanation ({ex!r})")
    rows = q(db, "SELECT trace_id, score FROM judgements_view ORDER BY trace_id, id")
    vals = {}
    for t, sc in rows:
        vals.setdefault(t, []).append(sc)
    med = dict(q(db, "SELECT trace_id, value FROM scores_view WHERE decision = 'scored'"))
    check(all(med[t] == sorted(v)[1] for t, v in vals.items()), "samples: the score is the median of the samples")
    spread = sum(1 for v in vals.values() if max(v) != min(v))
    check(spread > 0, f"samples: the seeds give different verdicts on some traces ({spread})")
    score(a, env, cfg, traces)
    check(control(base, "counters")["requests"] == 3 * N, "samples: a re-run is answered from the cache")


def run_with_fake(a, tmp, backend):
    with FakeProvider(a.fake) as fake:
        scenario(a, fake.base, tmp, backend)


def main():
    return run_on_backend(run_with_fake, prefix="assay-judges-models-", fake=True, passed="all passed")


if __name__ == "__main__":
    sys.exit(main())
