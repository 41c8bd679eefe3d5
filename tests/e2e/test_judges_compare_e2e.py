#!/usr/bin/env python3
"""End-to-end: `assay judges compare` with the real binary on a labelled store
against the standalone fake provider (whose verdicts are a hash of the request
body: the same model and keys give the same verdicts, another model others).

  1. `assay score` judges N traces with the current judge; reviewers label
     every one (labels table: agree with the scorer, so the current judge's
     kappa is 1);
  2. a candidate YAML file with the same model and keys under another name:
     identical verdicts, exit 0, kappa 1 on both sides, agreement between the
     judges 1, its calls booked in judge_spend under its name;
  3. a candidate judge of the config on another model: verdicts unrelated to
     the reviewers', worse beyond the CI: exit 1; same numbers on a re-run with
     the same seed;
  4. no labels for the scorer version asked: exit 2 naming the problem.
The store is a SQLite file, or with --backend postgres a database on a private
PostgreSQL server this script starts; every command gets it with --db (a
postgresql:// URI there; exit 77 when the server binaries are missing); the
checks read it either way (e2e_common.StoreDb).
Exits non-zero on the first failed check (all checks are printed)."""
import functools
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import (FakeProvider, add_backend_argument, arguments, check, control, finish,  # noqa: E402
                        on_backend)

run = functools.partial(e2e_common.run, timeout=180)
N = 40


def main():
    a = add_backend_argument(arguments(fake=True)).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    with FakeProvider(a.fake) as fake:
        base = fake.base
        env = dict(os.environ, ASSAY_E2E_JUDGE_KEY="sk-e2e-compare")
        db, con = backend.new_store("compare")
        cfg = os.path.join(tmp, "assay.yaml")
        rubric = os.path.join(os.path.abspath(a.source), "rubrics", "helpfulness.yaml")
        judge = f"base_url: '{base}/v1', api_key_env: ASSAY_E2E_JUDGE_KEY, max_retries: 0"
        with open(cfg, "w") as f:
            f.write(f"""
judges:
  - {{name: primary, provider: openai, model: gpt-4o-mini, {judge}, price: {{input_per_mtok: 1, output_per_mtok: 4}}}}
  - {{name: other, provider: openai, model: gpt-4.1-nano, {judge}, price: {{input_per_mtok: 0.1, output_per_mtok: 0.4}}}}
scorers:
  - {{name: helpful, type: judge, rubric: '{rubric}', judges: [primary], sample_rate: 1}}
""")
        same = os.path.join(tmp, "candidate.yaml")
        with open(same, "w") as f:
            f.write(f"{{name: primary-next, provider: openai, model: gpt-4o-mini, {judge}, "
                    f"price: {{input_per_mtok: 1, output_per_mtok: 4}}}}\n")
        traces = os.path.join(tmp, "traces.jsonl")
        with open(traces, "w") as f:
            for i in range(N):
                f.write(json.dumps({"trace_id": f"c-{i}", "input": f"Question {i}?",
                                    "output": f"Answer {i}: it depends."}) + "\n")
        r = run([a.assay, "score", "--config", cfg, "--db", db, "--in", traces, "--quiet"], env=env)
        check(r.returncode == 0, f"score exits 0 ({r.stderr[-300:]!r})")
        n = con.one("SELECT count(*) FROM scores WHERE passed IS NOT NULL")
        check(n == N, f"{N} traces scored with pass/fail ({n})")
        fails = con.one("SELECT count(*) FROM scores WHERE passed = 0")
        check(0 < fails < N, f"the current judge says pass and fail ({fails} fails)")
        con.execute("INSERT INTO labels (trace, scorer_version, reviewer, verdict, at_ms) "
                    "SELECT trace, scorer_version, 'ann', 'agree', 1 FROM scores WHERE passed IS NOT NULL")

        def compare(candidate, *extra):
            return run([a.assay, "judges", "compare", "--config", cfg, "--db", db, "--scorer",
                        "helpful", "--candidate", candidate, "--format", "json", *extra], env=env)

        # 2. The same model under another name: identical verdicts.
        control(base, "reset", {})
        r = compare(same)
        check(r.returncode == 0, f"same model: exit 0 (rc={r.returncode}, {r.stderr[-300:]!r})")
        rep = json.loads(r.stdout) if r.returncode == 0 else {}
        check(rep.get("traces") == N and rep["current"]["kappa"] == 1 and rep["candidate"]["kappa"] == 1
              and rep["between_judges"]["raw_agreement"] == 1, f"same model: kappa 1, judges agree ({r.stdout[:400]})")
        check(control(base, "counters")["requests"] == N, "same model: one request per labelled trace")
        spend = con.all("SELECT calls, cost_usd FROM judge_spend WHERE judge = 'primary-next'")
        check(len(spend) == 1 and spend[0][0] == N and float(spend[0][1]) > 0,
              f"same model: the candidate's calls are in judge_spend ({spend})")
        check(rep.get("candidate", {}).get("usage", {}).get("cost_usd", 0) > 0, "same model: the candidate's cost is reported")

        # 3. Another model: unrelated verdicts, worse beyond the CI.
        r = compare("other")
        check(r.returncode == 1, f"other model: exit 1 (rc={r.returncode}, {r.stderr[-300:]!r})")
        rep = json.loads(r.stdout) if r.stdout.strip() else {}
        check(rep.get("candidate_worse") is True and rep["kappa_difference"]["ci95"][1] < 0,
              f"other model: worse beyond the CI ({json.dumps(rep.get('kappa_difference'))})")
        again = compare("other")
        rep2 = json.loads(again.stdout) if again.stdout.strip() else {}
        check(rep2.get("kappa_difference") == rep.get("kappa_difference"), "other model: same numbers on a re-run (seeded)")
        table = run([a.assay, "judges", "compare", "--config", cfg, "--db", db, "--scorer", "helpful",
                     "--candidate", "other"], env=env)
        check(table.returncode == 1 and "WORSE" in table.stdout and "kappa" in table.stdout,
              f"other model: the table says WORSE ({table.stdout[-400:]!r})")

        # 4. No labels for the version asked.
        r = compare("other", "--scorer-version", "nope")
        check(r.returncode == 2 and "no labelled traces" in r.stderr, f"no labels: exit 2 ({r.stderr[-300:]!r})")
    return finish("all passed")


if __name__ == "__main__":
    sys.exit(main())
