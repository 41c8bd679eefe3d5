#!/usr/bin/env python3
"""End-to-end: `assay gate` (the real binary) on the shipped golden sets.

For datasets/support and datasets/rag: the known-regression candidate exits 1
and names exactly the regressed cases; the baseline against itself exits 0;
a missing case id, an empty dataset, a bad expect and a config without
scorers exit 2; two runs give byte-identical JSON apart from generated_at;
the JUnit XML parses with the right testcase count; --baseline-report gives
the same verdict as scoring the baseline again; --db stores both sides. The
--db store is a SQLite file, or with --backend postgres a database on a
private PostgreSQL server this script starts (`--db postgresql://...`; exit
77 when the server binaries are missing); the checks read it either way
(e2e_common.StoreDb). Exits non-zero on the first failure summary.
"""
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (FakeProvider, add_backend_argument, arguments, check, finish, on_backend, run,  # noqa: E402
                        without_timestamp)

# The regressions each generator plants (see datasets/*/generate.py).
EXPECTED = {
    "support": {
        "regressed": {"triage-03", "triage-08", "triage-12", "triage-17", "answer-01", "answer-03", "answer-10",
                      "safety-04", "safety-08"},
        "improved": {"answer-07"},
    },
    "rag": {
        "regressed": {"qa-06", "qa-13", "qa-21", "qa-30", "unanswerable-01", "unanswerable-02", "unanswerable-05",
                      "unanswerable-09"},
        "improved": set(),
    },
}


def gate_set(assay, src, tmp, name):
    d = os.path.join(src, "datasets", name)
    cfg = os.path.join(d, "gate.yaml")
    cases = os.path.join(d, "cases.jsonl")
    base = os.path.join(d, "baseline.jsonl")
    cand = os.path.join(d, "candidate.jsonl")
    gate = [assay, "gate", "--config", cfg, "--dataset", cases]
    n_cases = sum(1 for l in open(cases) if l.strip())

    # The known regression blocks and names its cases.
    j1, j2 = os.path.join(tmp, name + "-1.json"), os.path.join(tmp, name + "-2.json")
    junit, md = os.path.join(tmp, name + ".xml"), os.path.join(tmp, name + ".md")
    r = run(gate + ["--baseline", base, "--candidate", cand, "--json", j1, "--junit", junit, "--markdown", md])
    check(r.returncode == 1, f"{name}: regression candidate exits 1 (rc={r.returncode}, stderr={r.stderr[-300:]!r})")
    rep = json.load(open(j1)) if os.path.exists(j1) else {}
    regressed = {c["case_id"] for c in rep.get("regressions", [])}
    improved = {c["case_id"] for c in rep.get("improvements", [])}
    check(regressed == EXPECTED[name]["regressed"],
          f"{name}: exactly the planted cases regress (extra {sorted(regressed - EXPECTED[name]['regressed'])}, "
          f"missing {sorted(EXPECTED[name]['regressed'] - regressed)})")
    check(improved == EXPECTED[name]["improved"], f"{name}: improvements {sorted(improved)}")
    check(rep.get("verdict", {}).get("result") == "block", f"{name}: verdict block")
    check(rep.get("verdict", {}).get("regressed_cases") == len(EXPECTED[name]["regressed"]), f"{name}: regressed count")
    for case_id in EXPECTED[name]["regressed"]:
        check(case_id in r.stdout, f"{name}: terminal output names {case_id}")
    check("BLOCK" in r.stdout and "baseline:" in r.stdout, f"{name}: terminal shows the verdict and excerpts")
    md_text = open(md, encoding="utf-8").read() if os.path.exists(md) else ""
    check("merge blocked" in md_text and "| scorer |" in md_text, f"{name}: markdown summary")
    # Every rule with its test and p-value beside its verdict.
    check("| scorer | rule | verdict | p | decided by | measured | test |" in md_text
          and "more than 2 regressed cases block" not in md_text, f"{name}: markdown rules table")
    check("Rules (each rule's test" in r.stdout and "regressed cases" in r.stdout, f"{name}: terminal rules table")
    rules = [(s["scorer"], c) for s in rep.get("summary", []) for c in s.get("rules", [])]
    check(rules and all(c["decided_by"] and c["test"] for _, c in rules)
          and all(c["p"] is not None for s, c in rules if c["rule"] == "pass rate"),
          f"{name}: JSON rules with their tests and p-values ({len(rules)})")
    cr = rep.get("verdict", {}).get("count_rule") or {}
    check(cr.get("rule") == "regressed cases" and cr.get("p") == rep["verdict"]["sign_test_p"],
          f"{name}: JSON count_rule with the sign test's p ({cr})")
    check("<script" not in md_text, f"{name}: markdown has no raw markup")

    # JUnit: one testcase per case x compared scorer; failures name regressed cases.
    try:
        root = ET.parse(junit).getroot()
        tcs = root.findall(".//testcase")
        compared = [s for s in rep["summary"] if s["kind"] != "info"]
        check(len(tcs) == n_cases * len(compared),
              f"{name}: JUnit has {len(tcs)} testcases = {n_cases} cases x {len(compared)} scorers")
        failed = {tc.get("name") for tc in tcs if tc.find("failure") is not None}
        check(failed == EXPECTED[name]["regressed"], f"{name}: JUnit failures are the regressed cases")
        check(root.get("tests") == str(len(tcs)), f"{name}: JUnit tests attribute")
        # One <failure> per failed testcase, with every reason in it; failures= counts them.
        n_fail = len(root.findall(".//failure"))
        check(all(len(tc.findall("failure")) <= 1 for tc in tcs), f"{name}: at most one <failure> per testcase")
        check(root.get("failures") == str(n_fail) and root.find("testsuite").get("failures") == str(n_fail),
              f"{name}: JUnit failures attribute = {n_fail} <failure> elements ({root.get('failures')})")
        n_regs = len({(c["case_id"], c["scorer"]) for c in rep["regressions"]})
        check(n_fail == n_regs, f"{name}: one failure per regressed case x scorer ({n_fail} vs {n_regs})")
    except (ET.ParseError, OSError, KeyError) as e:
        check(False, f"{name}: JUnit parses ({e})")

    # Byte-identical JSON apart from the timestamp.
    r2 = run(gate + ["--baseline", base, "--candidate", cand, "--json", j2, "--quiet"])
    check(r2.returncode == 1, f"{name}: second run exits 1")
    check(without_timestamp(j1) == without_timestamp(j2), f"{name}: reports equal apart from generated_at")
    b1 = open(j1, "rb").read().splitlines()
    b2 = open(j2, "rb").read().splitlines()
    diff = [i for i, (x, y) in enumerate(zip(b1, b2)) if x != y]
    check(len(b1) == len(b2) and all(b"generated_at" in b1[i] for i in diff) and len(diff) <= 1,
          f"{name}: byte-identical except the generated_at line ({len(diff)} differing lines)")

    # The baseline against itself passes.
    self_json = os.path.join(tmp, name + "-self.json")
    r = run(gate + ["--baseline", base, "--candidate", base, "--json", self_json])
    check(r.returncode == 0, f"{name}: baseline vs itself exits 0 (rc={r.returncode}, {r.stderr[-200:]!r})")
    self_rep = json.load(open(self_json)) if os.path.exists(self_json) else {}
    check(self_rep.get("regressions") == [], f"{name}: no regressions against itself")

    # --baseline-report: reuse the stored scores (the self report's candidate side is the baseline).
    reuse = os.path.join(tmp, name + "-reuse.json")
    r = run(gate + ["--baseline-report", self_json, "--candidate", cand, "--json", reuse])
    check(r.returncode == 1, f"{name}: --baseline-report run exits 1 (rc={r.returncode}, {r.stderr[-300:]!r})")
    if os.path.exists(reuse):
        a, b = without_timestamp(j1), without_timestamp(reuse)
        check(a["verdict"] == b["verdict"] and a["summary"] == b["summary"] and a["regressions"] == b["regressions"],
              f"{name}: --baseline-report gives the same verdict, summary and regressions")
        check(b["sides"]["baseline"]["source"] == "report:" + self_json, f"{name}: baseline side names the report")
    # A report made for another dataset is refused.
    other = os.path.join(tmp, name + "-other-cases.jsonl")
    with open(cases) as f, open(other, "w") as g:
        g.write(f.read().replace('"input": "', '"input": "Q: ', 1))
    r = run([assay, "gate", "--config", cfg, "--dataset", other, "--baseline-report", self_json,
             "--candidate", cand])
    check(r.returncode == 2 and "another dataset" in r.stderr, f"{name}: report for another dataset exits 2")

    # A missing case id exits 2 and names the id.
    lines = open(cand).read().splitlines()
    dropped = json.loads(lines[5])["trace_id"]
    short = os.path.join(tmp, name + "-short.jsonl")
    with open(short, "w") as f:
        f.write("\n".join(lines[:5] + lines[6:]) + "\n")
    r = run(gate + ["--baseline", base, "--candidate", short])
    check(r.returncode == 2 and f"'{dropped}'" in r.stderr,
          f"{name}: missing case exits 2 naming '{dropped}' (rc={r.returncode}, {r.stderr.strip()[:200]!r})")
    return n_cases


def main():
    a = add_backend_argument(arguments(fake=True)).parse_args()
    a.source = os.path.abspath(a.source)
    a.assay = os.path.abspath(a.assay)
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    for name in ("support", "rag"):
        n = gate_set(a.assay, a.source, tmp, name)
        check(n >= 50, f"{name}: at least 50 cases ({n})")

    d = os.path.join(a.source, "datasets", "support")
    cfg = os.path.join(d, "gate.yaml")
    base = os.path.join(d, "baseline.jsonl")
    # The support config, with its schema path made absolute, for variants written to tmp.
    cfg_text = open(cfg).read().replace("schema_file: triage.schema.json",
                                        "schema_file: '" + os.path.join(d, "triage.schema.json") + "'")
    # Empty dataset.
    empty = os.path.join(tmp, "empty.jsonl")
    open(empty, "w").close()
    r = run([a.assay, "gate", "--config", cfg, "--dataset", empty, "--baseline", base, "--candidate", base])
    check(r.returncode == 2 and "no cases" in r.stderr, f"empty dataset exits 2 ({r.stderr.strip()[:200]!r})")
    # Unloadable dataset.
    r = run([a.assay, "gate", "--config", cfg, "--dataset", os.path.join(tmp, "nope.jsonl"), "--baseline", base,
             "--candidate", base])
    check(r.returncode == 2, "missing dataset file exits 2")
    # A typo in an expect key is an error, not a silently skipped check.
    typo = os.path.join(tmp, "typo.jsonl")
    with open(os.path.join(d, "cases.jsonl")) as f, open(typo, "w") as g:
        g.write(f.read().replace('"not_contains"', '"not_contain"', 1))
    r = run([a.assay, "gate", "--config", cfg, "--dataset", typo, "--baseline", base, "--candidate", base])
    check(r.returncode == 2 and "not_contain" in r.stderr, f"expect typo exits 2 ({r.stderr.strip()[:200]!r})")
    # A config without scorers.
    noscore = os.path.join(tmp, "noscorers.yaml")
    with open(noscore, "w") as f:
        f.write("scorers: []\n")
    r = run([a.assay, "gate", "--config", noscore, "--dataset", os.path.join(d, "cases.jsonl"), "--baseline",
             base, "--candidate", base])
    check(r.returncode == 2, f"config without scorers exits 2 ({r.stderr.strip()[:200]!r})")
    # A bad gate rule names the key.
    badrule = os.path.join(tmp, "badrule.yaml")
    with open(badrule, "w") as f:
        f.write(cfg_text + "  max_regresions: 1\n")
    r = run([a.assay, "gate", "--config", badrule, "--dataset", os.path.join(d, "cases.jsonl"), "--baseline",
             base, "--candidate", base])
    check(r.returncode == 2 and "max_regresions" in r.stderr, f"bad gate key exits 2 ({r.stderr.strip()[:200]!r})")
    # Judge scorers: the worker's judge stage runs them. A judge that cannot
    # run (its API key variable is unset) leaves every case unjudged: the
    # gate fails closed.
    judged = os.path.join(tmp, "judged.yaml")

    def judged_config(base_url):
        with open(judged, "w") as f:
            f.write(cfg_text.replace("scorers:\n", "judges:\n  - {name: j1, provider: openai, model: m, "
                                     f"base_url: '{base_url}/v1', api_key_env: ASSAY_GATE_E2E_KEY}}\n"
                                     "scorers:\n  - {name: helpful, type: judge, judges: [j1], sample_rate: 1, rubric: '"
                                     + os.path.join(a.source, "rubrics", "helpfulness.yaml") + "'}\n", 1))

    judged_config("http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if k != "ASSAY_GATE_E2E_KEY"}
    r = run([a.assay, "gate", "--config", judged, "--dataset", os.path.join(d, "cases.jsonl"), "--baseline", base,
             "--candidate", base], env=env)
    check(r.returncode == 2 and "judge errors" in r.stderr + r.stdout,
          f"a judge that cannot run fails the gate closed (rc={r.returncode}, {r.stderr.strip()[-300:]!r})")
    # With the fake provider: judged on both sides, a second run is answered
    # from the --db judge cache with an identical report and no request.
    with FakeProvider(a.fake, "--score", "4") as fake:
        fbase = fake.base
        judged_config(fbase)
        env = dict(os.environ, ASSAY_GATE_E2E_KEY="sk-gate-e2e")
        jdb, jcon = backend.new_store("judged")
        reports = []
        counts = []
        for k in range(2):
            rep = os.path.join(tmp, f"judged-{k}.json")
            r = run([a.assay, "gate", "--config", judged, "--dataset", os.path.join(d, "cases.jsonl"),
                     "--baseline", base, "--candidate", os.path.join(d, "candidate.jsonl"), "--db", jdb,
                     "--json", rep, "--quiet"], env=env)
            check(r.returncode == 1, f"judged gate run {k + 1} exits 1 on the planted regressions "
                                     f"(rc={r.returncode}, {r.stderr.strip()[-300:]!r})")
            reports.append(without_timestamp(rep) if os.path.exists(rep) else None)
            counts.append(fake.control("counters")["requests"])
        check(reports[0] is not None and reports[0] == reports[1],
              "the judged run's JSON report is identical on a re-run")
        check(counts[0] > 0 and counts[1] == counts[0],
              f"the re-run is answered from the judge cache (provider requests {counts})")
        text = json.dumps(reports[0]) if reports[0] else ""
        check('"helpful"' in text, "the report has the judge scorer")
        fresh, cached = jcon.all("SELECT sum(CASE WHEN cached = 0 THEN 1 ELSE 0 END), "
                                 "sum(CASE WHEN cached = 1 THEN 1 ELSE 0 END) FROM judgements "
                                 "WHERE score = 4 AND error_type IS NULL")[0]
        check(fresh == counts[0] and cached > 0,
              f"one stored judgement per provider answer; the rest came from the cache ({fresh}, {cached})")
    # Neither or both of --baseline / --baseline-report.
    r = run([a.assay, "gate", "--config", cfg, "--dataset", os.path.join(d, "cases.jsonl"), "--candidate", base])
    check(r.returncode == 2, "no baseline exits 2")
    # --db stores both sides.
    db, con = backend.new_store("gate")
    r = run([a.assay, "gate", "--config", cfg, "--dataset", os.path.join(d, "cases.jsonl"), "--baseline", base,
             "--candidate", os.path.join(d, "candidate.jsonl"), "--db", db, "--quiet"])
    check(r.returncode == 1 and r.stdout == "", f"--db run exits 1 quietly (rc={r.returncode})")
    if r.returncode == 1:
        n = con.one("SELECT count(*) FROM traces")
        check(n == 2 * 58, f"--db stores both sides' traces ({n})")
        row = con.query("SELECT passed FROM scores_view WHERE trace_id = 'candidate/triage-03' AND scorer = 'json'"
                        ).fetchone()
        check(row is not None and row[0] == 0, f"--db stores the candidate's failed json score ({row})")
    return finish("all passed")


if __name__ == "__main__":
    sys.exit(main())
