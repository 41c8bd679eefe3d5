#!/usr/bin/env python3
"""End-to-end: `assay gate` pairwise mode (the real binary, the standalone fake_provider).

On datasets/rag with a judge scorer using rubrics/pairwise_preference.yaml:
- a position-biased judge (always answers "A") gives only ties, every case
  order-inconsistent, and the gate passes; both orders of every case were
  sent (the baseline's output is A in one request and B in the other); the
  pair traces are stored as pair/<case>/ab and pair/<case>/ba; a re-run on the
  same --db is answered from the judge cache with a byte-identical report;
- a judge that prefers the baseline in both orders makes every case a loss
  and blocks (exit 1), with the counts in the JSON report, the terminal table,
  the Markdown summary and one failed JUnit testcase per case;
- a judge that prefers the candidate in both orders gives wins and passes;
- --baseline-report with a pairwise scorer exits 2 naming the problem;
- `assay score` never queues the pairwise scorer (no request, filtered_out).
The stores (--db, assay score's) are SQLite files, or with --backend postgres
databases on a private PostgreSQL server this script starts (exit 77 when the
server binaries are missing); the checks are the same either way.
Exits non-zero when a check fails.
"""
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (FakeProvider, add_backend_argument, arguments, check, control, finish,  # noqa: E402
                        on_backend, run, without_timestamp)

KEY_ENV = "ASSAY_PAIR_E2E_KEY"


def choice(label):
    return {"content": json.dumps({"reasoning": f"Fake judge: answer {label}.", "choice": label})}


def user_message(record):
    body = json.loads(record["body"])
    return [m["content"] for m in body["messages"] if m["role"] == "user"][0]


def block(prompt, name):
    """The text of the data block <<<ASSAY_NAME_BEGIN ...>>> ... <<<ASSAY_NAME_END ...>>>."""
    start = prompt.find("<<<ASSAY_" + name + "_BEGIN")
    end = prompt.find("<<<ASSAY_" + name + "_END")
    if start < 0 or end < 0:
        return None
    return prompt[prompt.find("\n", start) + 1:end]


def main():
    a = add_backend_argument(arguments(fake=True)).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    src = os.path.abspath(a.source)
    d = os.path.join(src, "datasets", "rag")
    cases = os.path.join(d, "cases.jsonl")
    base = os.path.join(d, "baseline.jsonl")
    cand = os.path.join(d, "candidate.jsonl")
    n = sum(1 for l in open(cases) if l.strip())
    outputs = {}
    for side, path in (("baseline", base), ("candidate", cand)):
        for line in open(path):
            if line.strip():
                t = json.loads(line)
                outputs.setdefault(t["trace_id"], {})[side] = t["output"]
    env = dict(os.environ, **{KEY_ENV: "sk-pair-e2e"})
    # Cases whose outputs are the same text on both sides are ties without a
    # call; the others (m of them) are judged in both orders.
    differing = sorted(cid for cid, o in outputs.items() if o["baseline"] != o["candidate"])
    m = len(differing)
    check(m >= 5, f"the rag candidate differs from the baseline on {m} cases")

    with FakeProvider(a.fake) as fake:
        fbase = fake.base
        cfg = os.path.join(tmp, "pairwise.yaml")
        with open(cfg, "w") as f:
            f.write(f"""judges:
  - {{name: j1, provider: openai, model: m, base_url: '{fbase}/v1', api_key_env: {KEY_ENV}}}
scorers:
  - {{name: preference, type: judge, judges: [j1], sample_rate: 1,
     rubric: '{os.path.join(src, "rubrics", "pairwise_preference.yaml")}'}}
gate:
  short_circuit: false   # judge every differing case, so each order is exactly {m} requests
  scorers:
    expect: {{ignore: true}}   # the pairwise verdict alone decides here
""")
        gate = [a.assay, "gate", "--config", cfg, "--dataset", cases, "--baseline", base, "--candidate", cand]

        # 1. A position-biased judge: always "A".
        control(fbase, "script", {"default": choice("A"), "queue": []})
        db, con = backend.new_store("pair")
        j1, j2 = os.path.join(tmp, "biased-1.json"), os.path.join(tmp, "biased-2.json")
        r = run(gate + ["--db", db, "--json", j1], env=env)
        check(r.returncode == 0, f"position-biased judge: the gate passes (rc={r.returncode}, "
                                 f"{r.stderr.strip()[-300:]!r})")
        rep = json.load(open(j1)) if os.path.exists(j1) else {}
        pw = (rep.get("pairwise") or [{}])[0]
        check((pw.get("wins"), pw.get("ties"), pw.get("losses")) == (0, n, 0),
              f"position-biased judge: all {n} cases are ties ({pw.get('wins')}, {pw.get('ties')}, "
              f"{pw.get('losses')})")
        check(pw.get("order_inconsistent") == m and pw.get("identical") == n - m,
              f"every judged case is order-inconsistent ({pw.get('order_inconsistent')} of {m}), the "
              f"{n - m} identical ones are ties without a call ({pw.get('identical')})")
        check(all(c["ab"] == "baseline" and c["ba"] == "candidate" for c in pw.get("cases", [])
                  if c["how"] == "judged") and
              sum(1 for c in pw.get("cases", []) if c["how"] == "judged") == m,
              "order ab prefers the baseline (A), order ba the candidate (A)")
        check("Pairwise" in r.stdout and "preference" in r.stdout, "the terminal output has the pairwise table")
        recs = control(fbase, "requests")["requests"]
        check(len(recs) == 2 * m, f"two requests per differing case ({len(recs)} for {m} cases)")
        # Both orders were sent: for each case whose outputs differ, the baseline's
        # output is A in one request and B in the other.
        seen = {}
        for rec in recs:
            p = user_message(rec)
            oa, ob = block(p, "OUTPUT_A"), block(p, "OUTPUT_B")
            for cid, o in outputs.items():
                if o["baseline"] == o["candidate"]:
                    continue
                if oa is not None and ob is not None and o["baseline"].strip() == oa.strip() \
                        and o["candidate"].strip() == ob.strip():
                    seen.setdefault(cid, set()).add("ab")
                if oa is not None and ob is not None and o["candidate"].strip() == oa.strip() \
                        and o["baseline"].strip() == ob.strip():
                    seen.setdefault(cid, set()).add("ba")
        both = [cid for cid in differing if seen.get(cid) == {"ab", "ba"}]
        check(len(differing) > 0 and len(both) == len(differing),
              f"both orders sent for every case whose outputs differ ({len(both)} of {len(differing)})")
        ids = {row[0] for row in con.all("SELECT trace_id FROM traces WHERE trace_id LIKE 'pair/%'")}
        choices = con.all("SELECT j.choice, count(*) FROM judgements j JOIN traces t ON t.id = j.trace "
                          "WHERE t.trace_id LIKE 'pair/%' GROUP BY j.choice")
        first = differing[0]
        check(len(ids) == 2 * m and f"pair/{first}/ab" in ids and f"pair/{first}/ba" in ids,
              f"pair traces stored as pair/<case>/ab and /ba ({len(ids)})")
        check(choices == [("A", 2 * m)], f"one judgements row per pair request, choice A ({choices})")
        # A re-run on the same store: the judge cache answers, the report is identical.
        r = run(gate + ["--db", db, "--json", j2, "--quiet"], env=env)
        recs2 = control(fbase, "requests")["requests"]
        check(r.returncode == 0 and len(recs2) == len(recs), f"re-run answered from the judge cache "
                                                             f"(rc={r.returncode}, requests {len(recs2)})")
        if os.path.exists(j1) and os.path.exists(j2):
            check(without_timestamp(j1) == without_timestamp(j2),
                  "the JSON report is identical on a re-run (apart from generated_at)")

        # 2. A judge that prefers the baseline in both orders: the first n requests
        # (order ab, A = baseline) get "A", the next n (order ba, B = baseline) "B".
        control(fbase, "reset", {})
        control(fbase, "script", {"queue": [dict(choice("A"), repeat=m)], "default": choice("B")})
        jl, junit, md = os.path.join(tmp, "lose.json"), os.path.join(tmp, "lose.xml"), os.path.join(tmp, "lose.md")
        r = run(gate + ["--json", jl, "--junit", junit, "--markdown", md], env=env)
        check(r.returncode == 1, f"a candidate that loses both orders blocks (rc={r.returncode}, "
                                 f"{r.stderr.strip()[-300:]!r})")
        rep = json.load(open(jl)) if os.path.exists(jl) else {}
        pw = (rep.get("pairwise") or [{}])[0]
        check((pw.get("wins"), pw.get("ties"), pw.get("losses")) == (0, n - m, m),
              f"every differing case is a loss ({pw.get('wins')}, {pw.get('ties')}, {pw.get('losses')})")
        check(pw.get("order_inconsistent") == 0 and pw.get("blocks"), "consistent orders; the scorer blocks")
        check(rep.get("verdict", {}).get("result") == "block" and
              any("preference: pairwise:" in x for x in rep.get("verdict", {}).get("reasons", [])),
              f"the verdict names the pairwise rule ({rep.get('verdict', {}).get('reasons')})")
        check("Lost cases (preference)" in r.stdout, "the terminal output lists the lost cases")
        text = open(md).read() if os.path.exists(md) else ""
        check("**Pairwise**" in text and f"| preference | 0 | {n - m} | {m} |" in text,
              "the Markdown summary has the pairwise table")
        try:
            root = ET.parse(junit).getroot()
            tcs = [tc for tc in root.iter("testcase") if tc.get("classname") == "assay.gate.pairwise.preference"]
            failed = [tc for tc in tcs if tc.find("failure") is not None]
            check(len(tcs) == n and len(failed) == m, f"JUnit: one pairwise testcase per case, each loss "
                                                      f"failed ({len(tcs)}, {len(failed)})")
        except (ET.ParseError, FileNotFoundError) as e:
            check(False, f"JUnit XML parses ({e})")

        # 3. A judge that prefers the candidate in both orders: wins, pass.
        control(fbase, "reset", {})
        control(fbase, "script", {"queue": [dict(choice("B"), repeat=m)], "default": choice("A")})
        jw = os.path.join(tmp, "win.json")
        r = run(gate + ["--json", jw, "--quiet"], env=env)
        rep = json.load(open(jw)) if os.path.exists(jw) else {}
        pw = (rep.get("pairwise") or [{}])[0]
        check(r.returncode == 0 and (pw.get("wins"), pw.get("losses")) == (m, 0),
              f"a candidate preferred in both orders wins and passes (rc={r.returncode}, {pw.get('wins')})")

        # 4. --baseline-report cannot feed a pairwise scorer.
        r = run([a.assay, "gate", "--config", cfg, "--dataset", cases, "--baseline-report", jw, "--candidate",
                 cand], env=env)
        check(r.returncode == 2 and "--baseline-report" in r.stderr and "pairwise" in r.stderr,
              f"--baseline-report with a pairwise scorer exits 2 ({r.stderr.strip()[:200]!r})")

        # 5. `assay score` never queues it.
        control(fbase, "reset", {})
        r = run([a.assay, "score", "--config", cfg, "--in", base, "--db", backend.new_store("score")[0],
                 "--format", "json"], env=env)
        summary = {}
        try:
            summary = json.loads(r.stdout)
        except json.JSONDecodeError:
            pass
        sc = [s for s in summary.get("scorers", []) if s.get("scorer") == "preference"]
        check(r.returncode == 0 and sc and sc[0].get("filtered_out") == n and sc[0].get("pending_judge") == 0,
              f"assay score records the pairwise scorer as filtered_out, never pending (rc={r.returncode}, {sc})")
        counters = control(fbase, "counters")
        check(counters["requests"] == 0, f"assay score sent no judge request ({counters['requests']})")
    return finish("all checks passed")


if __name__ == "__main__":
    sys.exit(main())
