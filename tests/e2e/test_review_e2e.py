#!/usr/bin/env python3
"""End-to-end: `assay review`, `assay calibrate` and `assay export` as a user
and a script run them, over real HTTP on 127.0.0.1 port 0, on a store made by
the real `assay score`. Checks filters, pagination, sorting, the JSON API,
labels stored, export output, token enforcement, CSRF rejection, security
headers, Host checking and the refusal of a non-loopback address without a
token. The store is a SQLite file, or with --backend postgres a database on
a private PostgreSQL server this script starts (`--db postgresql://...`;
exit 77 when the server binaries are missing); the checks read it either
way (e2e_common.StoreDb). Exits non-zero when any check fails."""
import json
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import review_fixture  # noqa: E402
from review_fixture import csrf_cookie, header, request  # noqa: E402
from e2e_common import add_backend_argument, arguments, check, finish, on_backend, run  # noqa: E402


def get_json(port, path, headers=None):
    st, h, raw = request(port, "GET", path, headers=headers)
    try:
        return st, json.loads(raw)
    except ValueError:
        return st, None


def key_order_checks(a, p, db, tmp, good):
    """Trace content keeps the key order it was produced with: trace page API,
    assay trace, assay export and the export API (never sorted)."""
    oid = review_fixture.ORDER_ID

    def ordered(keys, *names):
        return all(n in keys for n in names) and [k for k in keys if k in names] == list(names)

    st, t = get_json(p, "/api/trace?id=" + oid)
    pretty = (t or {}).get("output", {}).get("pretty_json") or ""
    shown = json.loads(pretty) if pretty else {}
    check(st == 200 and ordered(list(shown), "zeta", "alpha", "middle") and ordered(list(shown["alpha"]), "yellow", "blue"),
          "key order kept: the trace page's JSON output: %r" % pretty[:90])
    check(ordered(list(t["metadata"]), "feature", "zz_first", "aa_second"),
          "key order kept: the trace page's metadata: %s" % list(t["metadata"]))
    r = run([a.assay, "trace", "--db", db, oid, "--format", "json"])
    tj = json.loads(r.stdout) if r.returncode == 0 else {}
    tr = tj.get("trace", {})
    written = [t for t in review_fixture.hostile_traces() if t["trace_id"] == oid][0]
    check(list(tr) == list(written) and
          ordered(list(tr.get("metadata", {})), "feature", "zz_first", "aa_second") and
          list(tr.get("input", {})) == ["role", "content"],
          "key order kept: assay trace --format json: %s" % list(tr))
    out = os.path.join(tmp, "order.jsonl")
    r = run([a.assay, "export", "--db", db, "--scorer", "json", "--trace", oid, "--out", out])
    case = json.loads(open(out).readline()) if r.returncode == 0 else {}
    check(list(case.get("input", {})) == ["role", "content"] and
          ordered(list(case.get("metadata", {})), "feature", "zz_first", "aa_second"),
          "key order kept: assay export: %s" % case.get("metadata"))
    st, h, raw = request(p, "POST", "/api/export", {"scorer": "json", "trace_ids": [oid]}, good)
    case = json.loads(raw.decode().splitlines()[0]) if st == 200 else {}
    check(list(case.get("input", {})) == ["role", "content"] and
          ordered(list(case.get("metadata", {})), "feature", "zz_first", "aa_second"),
          "key order kept: the export API")


def scorer_without_scores_checks(p, con):
    """A judge scorer whose judge is disabled has nothing scored: the API says
    so, with its pending count, instead of an unexplained empty list."""
    st, sc = get_json(p, "/api/scorers")
    pending = con.query("SELECT count(*) FROM judge_queue").fetchone()[0]
    h = [s for s in sc if s["scorer"] == "helpfulness"]
    check(pending > 0 and h and h[0]["scored"] is False and h[0]["pending"] == pending,
          "judge scorer: not scored, %d pending (%s)" % (pending, h[:1]))
    why = (h[0]["why_none"] or "") if h else ""
    check("%d traces are waiting for its LLM judge" % pending in why and "disabled or not configured" in why,
          "judge scorer: why nothing is scored: " + why)
    check(all(s["scored"] is True and s["why_none"] is None for s in sc if s["scorer"] in ("refusal", "length")),
          "code scorers: scored, nothing to explain")


def calibration_queue_checks(a, p, db, con, good):
    """Issue 16: 25 bottom-list labels (all failures) give the precision of the
    flagged failures and no kappa (it is not defined), never "kappa 0.000";
    the calibration queue samples both verdicts at random and its labels give
    agreement with a Wilson interval and a defined kappa."""
    _, bottom = get_json(p, "/api/bottom?scorer=refusal&passed=false&labelled=false&limit=25")
    rows = bottom["rows"]
    check(len(rows) == 25, "25 unlabelled failures to label (%d)" % len(rows))
    for i, r in enumerate(rows):
        request(p, "POST", "/api/labels", {"trace_id": r["trace_id"], "scorer": "refusal", "reviewer": "e2e-bottom",
                                           "verdict": "agree" if i < 19 else "disagree"}, good)
    r = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--format", "json"])
    v = json.loads(r.stdout)["versions"][0] if r.stdout.strip().startswith("{") else {}
    pf = v.get("pass_fail") or {}
    check(pf.get("kappa") is None and "the scorer said 'fail' on every labelled trace" in (pf.get("kappa_not_defined") or ""),
          "bottom labels: kappa not defined, and why: %s" % pf.get("kappa_not_defined"))
    prec = v.get("precision_of_failures") or {}
    agree = con.query("SELECT count(*) FROM labels l JOIN scorer_versions v ON v.id = l.scorer_version "
                        "JOIN scores s ON s.trace = l.trace AND s.scorer_version = l.scorer_version "
                        "WHERE v.scorer = 'refusal' AND l.verdict = 'agree' AND s.passed = 0").fetchone()[0]
    check(prec.get("labels") == 26 and prec.get("agree") == agree and prec.get("ci95") and
          prec["ci95"][0] < prec["rate"] < prec["ci95"][1],
          "bottom labels: precision of flagged failures with a Wilson interval: %s" % prec)
    check(v.get("agreement", {}).get("value") is None and "calibration queue" in v["agreement"]["not_measured"],
          "bottom labels: agreement not measured, and why")
    r = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal"])
    check("kappa 0.000" not in r.stdout and "kappa not defined" in r.stdout and
          "the precision of the failures it flags" in r.stdout and "agreement: not measured" in r.stdout,
          "calibrate table says which numbers hold and why not:\n" + r.stdout)

    st, q = get_json(p, "/api/calibration/queue?scorer=refusal&n=6")
    items = (q or {}).get("traces", [])
    check(st == 200 and [i["verdict"] for i in items] == ["fail", "pass"] * 3,
          "queue: 6 traces alternating between the verdicts: %s" % [i["verdict"] for i in items])
    for i in items:
        passed, labels = con.query(
            "SELECT s.passed, (SELECT count(*) FROM labels l JOIN traces t ON t.id = l.trace WHERE t.trace_id = ?) "
            "FROM scores_view s WHERE s.trace_id = ? AND s.scorer = 'refusal'", (i["trace_id"], i["trace_id"])).fetchone()
        check(labels == 0 and passed == (1 if i["verdict"] == "pass" else 0),
              "queue trace %s: unlabelled, scorer said %s" % (i["trace_id"], i["verdict"]))
    st, _, _ = request(p, "POST", "/api/labels", {"trace_id": items[0]["trace_id"], "scorer": "refusal",
                                                  "reviewer": "e2e", "verdict": "agree", "source": "bogus"}, good)
    check(st == 400, "label with an unknown source: 400")
    for i in items:
        st, _, _ = request(p, "POST", "/api/labels", {"trace_id": i["trace_id"], "scorer": "refusal", "reviewer": "e2e-q",
                                                      "verdict": "agree", "source": "calibration"}, good)
        check(st == 201, "queue label stored")
    check(con.query("SELECT count(*) FROM labels WHERE source = 'calibration'").fetchone()[0] == 6,
          "queue labels stored with source calibration")
    st, capi = get_json(p, "/api/calibration?scorer=refusal")
    v = capi["versions"][0]
    ag = v["agreement"]
    check(v["queue_labels"] == 6 and abs((ag["value"] or 0) - 1.0) < 1e-9 and ag["ci95"] and ag["ci95"][0] < 0.9,
          "queue labels: agreement with a Wilson interval: %s" % ag)
    check(v["pass_fail"]["kappa"] is not None, "queue labels: kappa defined (%s)" % v["pass_fail"]["kappa"])
    r = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--queue", "4", "--seed", "3"])
    lines = [l for l in r.stdout.splitlines() if l.strip().startswith("tr_")]
    check(r.returncode == 0 and "calibration queue of refusal" in r.stdout and len(lines) == 4,
          "assay calibrate --queue 4:\n" + r.stdout)
    r2 = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--queue", "4", "--seed", "3"])
    check(r2.stdout == r.stdout, "assay calibrate --queue --seed is reproducible")
    # each trace with its workspace link (queue mode), the form the workspace writes; no /trace?id= links
    version = con.query("SELECT version FROM scorer_versions WHERE scorer = 'refusal' ORDER BY id DESC").fetchone()[0]
    links = [l.split()[-1] for l in lines]
    want = ["/?scorer=refusal&scorer_version=%s&queue=calibration&id=%s" % (urllib.parse.quote(version, safe=""),
                                                                          l.split()[0]) for l in lines]
    check(links == want and "/trace?id=" not in r.stdout, "calibrate --queue prints workspace links: %s" % links)
    rj = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--queue", "4", "--seed", "3", "--format", "json"])
    js = json.loads(rj.stdout) if rj.stdout.strip().startswith("{") else {}
    check([t.get("link") for t in js.get("traces", [])] == want, "calibrate --queue --format json: the links")
    for link in links[:1]:
        st, _, body = request(p, "GET", link)
        check(st == 200 and b"/static/workspace.js" in body, "the queue link opens the workspace: %d" % st)
    st, _, body = request(p, "GET", "/trace?id=" + lines[0].split()[0] if lines else "/trace?id=x")
    check(st == 200 and b"/static/workspace.js" in body, "old /trace?id= links still open the workspace")


def gate_mark_checks(p, con, g):
    """Real/noise marks through /api/gate/marks: CSRF-protected like labels,
    only on the run's regressed cases, stored in gate_marks (the latest per
    case), exported from the store by /api/gate/export."""
    regressed = []
    for c in g["report"]["regressions"]:
        if c["case_id"] not in regressed:
            regressed.append(c["case_id"])
    mark = {"case_id": regressed[0], "mark": "real", "reviewer": "e2e-gate", "note": "a real miss"}
    st, _, _ = request(p, "POST", "/api/gate/marks", mark)
    check(st == 403, "gate mark without CSRF token: 403")
    tok = csrf_cookie(p)
    good = {"Cookie": "assay_csrf=" + tok, "X-CSRF-Token": tok}
    for bad, why in ((dict(mark, case_id="answer-02"), "not a regressed case"), (dict(mark, mark="maybe"), "mark"),
                     (dict(mark, reviewer=" "), "reviewer")):
        st, _, raw = request(p, "POST", "/api/gate/marks", bad, good)
        check(st == 400 and why in raw.decode(), "gate mark refused (%s): %d %s" % (why, st, raw[:200]))
    st, _, raw = request(p, "POST", "/api/gate/marks", dict(mark, mark="noise"), good)
    check(st == 201, "gate mark stored: %d %s" % (st, raw[:200]))
    for cid in regressed[:2]:  # the first case's noise mark replaced by real
        st, _, _ = request(p, "POST", "/api/gate/marks", dict(mark, case_id=cid), good)
        check(st == 201, "gate mark %s stored" % cid)
    rows = sorted(con.query("SELECT gate_run, case_id, mark, note, reviewer FROM gate_marks").fetchall())
    check(rows == sorted((g["run_id"], c, "real", "a real miss", "e2e-gate") for c in regressed[:2]),
          "gate marks in the database, one per case: %s" % rows)
    st, m = get_json(p, "/api/gate/marks")
    check(st == 200 and sorted(m["marks"]) == sorted(regressed[:2]) and
          m["marks"][regressed[0]]["reviewer"] == "e2e-gate", "GET /api/gate/marks: %s" % m)
    st, h, raw = request(p, "GET", "/api/gate/export")
    lines = [json.loads(l) for l in raw.decode().splitlines() if l.strip()]
    check(st == 200 and [c["id"] for c in lines] == regressed[:2] and "real-regressions.jsonl" in
          " ".join(header(h, "Content-Disposition")), "export: the real cases from the store: %s" % [c.get("id") for c in lines])


def gate_report_checks(a, db, con, tmp):
    """--gate-report: GET /api/gate serves the report (404 without one), with the
    dataset's cases when the dataset is found and unchanged; a file that is not a
    gate report stops the server at start."""
    bad = os.path.join(tmp, "not-a-report.json")
    with open(bad, "w") as f:
        f.write('{"hello": 1}')
    r = run([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0", "--gate-report", bad], timeout=30)
    check(r.returncode == 2 and "not-a-report.json" in r.stderr and "not an assay gate report" in r.stderr,
          "--gate-report of a non-report refused at start: " + r.stderr.strip())
    d = os.path.join(a.source, "datasets", "support")
    report = os.path.join(tmp, "support-gate.json")
    # relative paths: the report names its dataset "cases.jsonl", found neither here nor beside the report
    r = run([a.assay, "gate", "--config", "gate.yaml", "--dataset", "cases.jsonl", "--baseline", "baseline.jsonl",
             "--candidate", "candidate.jsonl", "--json", report, "--quiet"], cwd=d)
    check(r.returncode == 1 and os.path.exists(report), "gate report written (rc=%d)" % r.returncode)
    for extra, want_cases in (([], None), (["--gate-dataset", os.path.join(d, "cases.jsonl")], 58)):
        srv = review_fixture.Server(a.assay, db, "--gate-report", report, *extra)
        try:
            st, g = get_json(srv.port, "/api/gate")
            cases = g.get("cases") if st == 200 else "?"
            check(st == 200 and g["report"]["verdict"]["result"] == "block" and
                  (len(cases) if isinstance(cases, dict) else cases) == want_cases,
                  "GET /api/gate serves the report %s (cases: %s)" % (extra, want_cases))
            if want_cases is None:
                check("--gate-dataset" in g.get("cases_note", ""), "the reason export is off: %s" % g.get("cases_note"))
            else:
                check(cases["triage-03"]["id"] == "triage-03" and "input" in cases["triage-03"],
                      "the dataset's cases by id")
                gate_mark_checks(srv.port, con, g)
            st, _, body = request(srv.port, "GET", "/gate")
            check(st == 200 and b"/static/gate.js" in body, "the /gate page")
        finally:
            srv.stop()
    srv = review_fixture.Server(a.assay, db)
    try:
        st, g = get_json(srv.port, "/api/gate")
        check(st == 404 and "--gate-report" in g.get("error", ""), "GET /api/gate without a report: 404 saying how")
    finally:
        srv.stop()


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def password_checks(a, db, tmp):
    """PostgreSQL: a password in --db is refused by review, calibrate and
    export, and never printed (the URI is shown masked)."""
    leaky = db.replace("assay@", "assay:hunter2@", 1)
    for args in (["review", "--db", leaky, "--listen", "127.0.0.1:0"],
                 ["calibrate", "--db", leaky, "--scorer", "refusal"],
                 ["export", "--db", leaky, "--scorer", "refusal", "--limit", "1", "--out", os.path.join(tmp, "x.jsonl")]):
        r = run([a.assay, *args], timeout=30)
        check(r.returncode != 0 and "hunter2" not in r.stderr + r.stdout and "assay:***@" in r.stderr and
              "PGPASSWORD" in r.stderr, "%s: a password in --db is refused, masked (%r)" % (args[0], r.stderr.strip()))


def scenario(a, tmp, backend):
    db, con = backend.new_store("review")
    review_fixture.make_store(a.assay, a.source, tmp, db)
    srv = review_fixture.Server(a.assay, db)
    p = srv.port
    try:
        # --- pages and headers
        st, h, body = request(p, "GET", "/")
        check(st == 200, "list page 200")
        csp = (header(h, "Content-Security-Policy") or [""])[0]
        check("default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp,
              "strict CSP: " + csp)
        check(header(h, "X-Content-Type-Options") == ["nosniff"], "nosniff")
        check(b"<script src=\"/static/app.js\"" in body and b"<script>" not in body, "no inline script")
        st, h, js = request(p, "GET", "/static/app.js")
        check(st == 200 and b"innerHTML" not in js.replace(b"never innerHTML", b""),
              "app.js served, uses no innerHTML")
        check(header(h, "Content-Type")[0].startswith("text/javascript"), "app.js content type")
        for page in ("/trace?id=x", "/calibration", "/trends"):
            check(request(p, "GET", page)[0] == 200, "page " + page)
        check(request(p, "GET", "/", host="evil.example:80")[0] == 403, "foreign Host header refused")

        # --- JSON API: scorers, bottom list, sorting, pagination, filters
        st, scorers = get_json(p, "/api/scorers")
        check(st == 200 and {"refusal", "length", "pii", "json"} <= {s["scorer"] for s in scorers}, "scorers")
        st, page1 = get_json(p, "/api/bottom?scorer=refusal&limit=5")
        want_total = con.query(
            "SELECT count(*) FROM scores_view WHERE scorer='refusal' AND decision='scored'").fetchone()[0]
        check(st == 200 and page1["total"] == want_total, "bottom total %s == %s" % (page1.get("total"), want_total))
        check(len(page1["rows"]) == 5, "limit 5")
        keys = [(r["passed"] is None, r["passed"], r["value"]) for r in page1["rows"]]
        check(keys == sorted(keys), "failures first, lowest value first")
        for k in ("trace_id", "value", "passed", "label", "explanation_excerpt", "input_excerpt",
                  "output_excerpt", "timestamp", "feature", "tenant", "labels"):
            check(k in page1["rows"][0], "row has " + k)
        _, page2 = get_json(p, "/api/bottom?scorer=refusal&limit=5&offset=5")
        _, both = get_json(p, "/api/bottom?scorer=refusal&limit=10")
        check([r["trace_id"] for r in page1["rows"] + page2["rows"]] == [r["trace_id"] for r in both["rows"]],
              "pagination: two pages of 5 == one page of 10")
        _, top = get_json(p, "/api/bottom?scorer=length&sort=top&limit=3")
        vals = [r["value"] for r in top["rows"]]
        check(vals == sorted(vals, reverse=True), "sort=top")
        _, newest = get_json(p, "/api/bottom?scorer=length&sort=newest&limit=5")
        ts = [r["timestamp"] for r in newest["rows"]]
        check(ts == sorted(ts, reverse=True), "sort=newest")

        feature, tenant = con.query(
            "SELECT feature, tenant FROM traces GROUP BY feature, tenant ORDER BY count(*) DESC LIMIT 1").fetchone()
        q = urllib.parse.urlencode({"scorer": "length", "feature": feature, "tenant": tenant, "passed": "false",
                                    "since": "2026-11-01", "until": "2026-12-01", "limit": 500})
        _, filt = get_json(p, "/api/bottom?" + q)
        want = con.query(
            "SELECT count(*) FROM scores_view s JOIN traces t USING (trace_id) WHERE s.scorer='length' AND "
            "s.decision='scored' AND t.feature=? AND t.tenant=? AND s.passed=0 AND t.ts_ms >= ? AND t.ts_ms < ?",
            (feature, tenant, 1793491200000, 1796083200000)).fetchone()[0]
        check(want > 0 and filt["total"] == want, "filters: total %s == sqlite %s" % (filt["total"], want))
        check(filt["rows"] and all(r["feature"] == feature and r["tenant"] == tenant and r["passed"] is False for r in filt["rows"]),
              "filters: every row matches")
        pv, model = con.query("SELECT prompt_version, model FROM traces LIMIT 1").fetchone()
        _, f2 = get_json(p, "/api/bottom?" + urllib.parse.urlencode(
            {"scorer": "refusal", "prompt_version": pv, "model": model, "limit": 500}))
        want2 = con.query(
            "SELECT count(*) FROM scores_view s JOIN traces t USING (trace_id) WHERE s.scorer='refusal' AND "
            "s.decision='scored' AND t.prompt_version=? AND t.model=?", (pv, model)).fetchone()[0]
        check(want2 > 0 and f2["total"] == want2 and all(r["model"] == model for r in f2["rows"]),
              "prompt_version + model filter (%s == %s)" % (f2["total"], want2))
        for bad in ("/api/bottom", "/api/bottom?scorer=refusal&limit=0", "/api/bottom?scorer=refusal&sort=up",
                    "/api/bottom?scorer=refusal&passed=maybe", "/api/bottom?scorer=refusal&since=yesterday",
                    "/api/bottom?scorer=refusal&until=2026-02-30", "/api/bottom?scorer=refusal&until=2026-02-29"):
            st, j = get_json(p, bad)
            check(st == 400 and j and j.get("error"), "400 with a message: %s -> %s" % (bad, j))
        check(get_json(p, "/api/bottom?scorer=nope")[0] == 404, "unknown scorer 404")

        # --- trace detail
        st, t = get_json(p, "/api/trace?id=" + review_fixture.XSS_ID)
        check(st == 200, "trace detail 200")
        check(t["output"]["text"] == review_fixture.XSS_OUTPUT, "output verbatim in JSON")
        check([m["role"] for m in t["input"]["messages"]] == ["system", "user"], "input messages by role")
        check(t["context"] == ["<script>alert(5)</script> doc one"], "context docs")
        check(t["usage"]["input_tokens"] == 10 and t["latency_ms"] == 321.0, "usage and latency")
        decs = {d["scorer"]: d for d in t["decisions"]}
        check(set(decs) == {"json", "refusal", "length", "pii"} | {"helpfulness"},
              "a decision per scorer: %s" % sorted(decs))
        check(decs["json"]["decision"] == "filtered_out" and decs["json"]["reason"], "why json did not run: " +
              decs["json"]["reason"])
        check(decs["refusal"]["passed"] is False and decs["refusal"]["explanation"], "refusal score + explanation")
        jt = con.query("SELECT trace_id FROM traces WHERE expected_format='json' LIMIT 1").fetchone()
        if jt:
            _, tj = get_json(p, "/api/trace?id=" + jt[0])
            out = tj["output"]
            check(out["pretty_json"] is None or out["pretty_json"].startswith(("{\n", "[\n")), "pretty JSON output")
        check(get_json(p, "/api/trace?id=nope")[0] == 404, "unknown trace 404")

        # --- labels: CSRF, then stored
        label = {"trace_id": review_fixture.XSS_ID, "scorer": "refusal", "reviewer": "e2e", "verdict": "agree",
                 "note": "refused a harmless request"}
        st, _, _ = request(p, "POST", "/api/labels", label)
        check(st == 403, "label without CSRF token: 403")
        tok = csrf_cookie(p)
        check(len(tok) == 64, "CSRF cookie set")
        good = {"Cookie": "assay_csrf=" + tok, "X-CSRF-Token": tok}
        st, _, _ = request(p, "POST", "/api/labels", label, {"Cookie": "assay_csrf=" + tok, "X-CSRF-Token": "x" * 64})
        check(st == 403, "label with a wrong CSRF token: 403")
        st, _, _ = request(p, "POST", "/api/labels", label, dict(good, Origin="http://evil.example"))
        check(st == 403, "label from a foreign Origin: 403")
        check(con.query("SELECT count(*) FROM labels").fetchone()[0] == 0, "nothing stored by rejected posts")
        st, _, raw = request(p, "POST", "/api/labels", label, dict(good, Origin=srv.base))
        check(st == 201, "label stored: %s %s" % (st, raw[:200]))
        st, _, raw = request(p, "POST", "/api/labels", dict(label, verdict="score", score=0.25, trace_id=both["rows"][1]["trace_id"]), good)
        check(st == 201, "score label stored")
        st, _, raw = request(p, "POST", "/api/labels", dict(label, verdict="meh"), good)
        check(st == 400 and b"verdict" in raw, "bad verdict 400")
        st, _, raw = request(p, "POST", "/api/labels", "{not json", good)
        check(st == 400, "bad JSON 400")
        rows = con.query(
            "SELECT t.trace_id, v.scorer, v.version, l.reviewer, l.verdict, l.score, l.note, l.at_ms "
            "FROM labels l JOIN traces t ON t.id = l.trace JOIN scorer_versions v ON v.id = l.scorer_version "
            "ORDER BY l.id").fetchall()
        check(len(rows) == 2 and rows[0][:5] == (review_fixture.XSS_ID, "refusal", decs["refusal"]["scorer_version"],
                                                 "e2e", "agree"), "label row in the DB: %s" % (rows[:1],))
        check(rows[0][7] > 1700000000000 and float(rows[1][5]) == 0.25, "label time and score stored")
        _, lab = get_json(p, "/api/bottom?scorer=refusal&labelled=true")
        check(lab["total"] == 2, "labelled filter")
        _, unl = get_json(p, "/api/bottom?scorer=refusal&labelled=false&limit=1")
        check(unl["total"] == want_total - 2 and unl["rows"][0]["trace_id"] not in (rows[0][0], rows[1][0]),
              "next unlabelled bottom trace")
        check(con.query("SELECT count(*) FROM traces").fetchone()[0] == 2002, "trace data untouched")

        # --- export from the API (selected traces) and the CLI (bottom N)
        st, h, raw = request(p, "POST", "/api/export",
                             {"scorer": "refusal", "trace_ids": [review_fixture.XSS_ID]}, good)
        check(st == 200 and header(h, "Content-Disposition"), "export selected: 200, attachment")
        cases = [json.loads(l) for l in raw.decode().splitlines()]
        check(len(cases) == 1 and cases[0]["id"] == review_fixture.XSS_ID, "one case")
        check(cases[0].get("expect") == {"refusal": False}, "agree with a failed refusal -> expect refusal false")
        check(cases[0]["metadata"]["review"]["note"] == "refused a harmless request", "note kept")
        check(request(p, "POST", "/api/export", {"scorer": "refusal"})[0] == 403, "export without CSRF: 403")
        out = os.path.join(tmp, "datasets", "regressions", "cases.jsonl")
        r = run([a.assay, "export", "--db", db, "--scorer", "refusal", "--limit", "7", "--out", out])
        check(r.returncode == 0, "assay export exits 0: " + r.stderr)
        lines = open(out).read().splitlines() if os.path.exists(out) else []
        check(len(lines) == 7, "7 cases written")
        cases = [json.loads(l) for l in lines]
        check(all(set(c) <= {"id", "input", "reference", "context", "metadata", "expect"} and "input" in c
                  for c in cases), "cases in the dataset format")
        check([c["id"] for c in cases] == [r["trace_id"] for r in both["rows"][:7]], "bottom 7 in order")
        check(cases[1].get("expect") == {"min_score": {"refusal": 0.25}}, "own score -> min_score")

        # --- calibrate
        r = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--format", "json"])
        cal = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(r.returncode == 1 and cal.get("versions") and cal["versions"][0]["labels"] == 2,
              "calibrate: 2 labels, exit 1 (too few labels)")
        check(any("too few labels" in w for w in cal["versions"][0]["warnings"]), "too-few-labels warning")
        r = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal"])
        check("WARNING" in r.stdout and "pass/fail" in r.stdout, "calibrate table")
        st, capi = get_json(p, "/api/calibration?scorer=refusal")
        check(st == 200 and capi["versions"][0]["labels"] == 2, "calibration API")
        st, tr = get_json(p, "/api/trends?scorer=refusal")
        check(st == 200 and tr["series"] and all(s["points"] and all("ma7" in pt for pt in s["points"])
                                                 for s in tr["series"]),
              "trends API")

        key_order_checks(a, p, db, tmp, good)
        scorer_without_scores_checks(p, con)
        calibration_queue_checks(a, p, db, con, good)
    finally:
        rc = srv.stop()
        check(rc == 0, "server stops cleanly on SIGTERM (rc=%s)" % rc)

    # --- token
    srv = review_fixture.Server(a.assay, db, "--token", "s3cret-token-0123456789")
    p = srv.port
    try:
        check(request(p, "GET", "/api/scorers")[0] == 401, "token: API without it is 401")
        check(request(p, "GET", "/api/scorers", headers={"Authorization": "Bearer wrong"})[0] == 401,
              "token: wrong bearer 401")
        check(request(p, "GET", "/api/scorers", headers={"Authorization": "Bearer s3cret-token-0123456789"})[0] == 200,
              "token: bearer 200")
        st, h, _ = request(p, "GET", "/")
        check(st == 303 and header(h, "Location") == ["/login"], "token: page redirects to /login")
        check(request(p, "GET", "/login")[0] == 200, "login page")
        st, h, _ = request(p, "POST", "/login", "token=nope",
                           {"Content-Type": "application/x-www-form-urlencoded"})
        check(st == 303 and "failed" in header(h, "Location")[0], "login with a wrong token fails")
        st, h, _ = request(p, "POST", "/login", "token=s3cret-token-0123456789",
                           {"Content-Type": "application/x-www-form-urlencoded"})
        cookies = [c for c in header(h, "Set-Cookie") if c.startswith("assay_session=")]
        check(st == 303 and cookies and "HttpOnly" in cookies[0] and "SameSite=Strict" in cookies[0],
              "login sets an HttpOnly SameSite=Strict cookie: %s" % cookies)
        sess = cookies[0].split(";")[0] if cookies else ""
        check(request(p, "GET", "/api/scorers", headers={"Cookie": sess})[0] == 200, "session cookie works")
        check(request(p, "GET", "/api/scorers", headers={"Cookie": "assay_session=forged"})[0] == 401,
              "forged session 401")
        st, _, _ = request(p, "POST", "/api/labels", dict(label, trace_id=both["rows"][2]["trace_id"]),
                           {"Cookie": sess})
        check(st == 403, "session without CSRF token: 403")
        st, _, _ = request(p, "POST", "/api/labels", dict(label, trace_id=both["rows"][2]["trace_id"]),
                           {"Authorization": "Bearer s3cret-token-0123456789"})
        check(st == 201, "bearer script may post labels")
    finally:
        srv.stop()

    # --- non-loopback without token is refused at startup
    r = run([a.assay, "review", "--db", db, "--listen", "0.0.0.0:0"], timeout=30)
    check(r.returncode == 2 and "--token" in r.stderr and "0.0.0.0" in r.stderr,
          "non-loopback without --token refused: " + r.stderr.strip())
    r = run([a.assay, "review", "--db", os.path.join(tmp, "missing.db")], timeout=30)
    check(r.returncode == 2 and "no store" in r.stderr, "missing store refused")
    gate_report_checks(a, db, con, tmp)
    if a.backend == "postgres":
        password_checks(a, db, tmp)
    return finish("all review e2e checks passed")


if __name__ == "__main__":
    sys.exit(main())
