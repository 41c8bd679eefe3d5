#!/usr/bin/env python3
"""Real-browser test of `assay review`: Debian's chromium, headless, driven by
playwright-core (npm, installed by ci/install-npm.sh) through browser.mjs.
The workspace's keyboard flow (filter, move with j/k and the arrows, label
three traces with a/d/s, n for the next unlabelled, reload and a shared link
restore the state), a trace whose output holds <script>, an <img onerror>
and a javascript: link rendered as text with nothing run, the calibration
queue and trends pages, and an axe-core scan of every page (no serious or
critical violation); the labels are checked in the database. The store is
a SQLite file, or with --backend postgres a database on a private PostgreSQL
server this script starts (exit 77 when the server binaries are missing); the
checks are the same either way. Screenshots go to --artifacts (kept under the
build directory)."""
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import review_fixture  # noqa: E402
from e2e_common import FakeProvider, add_backend_argument, arguments, check, finish, on_backend, run  # noqa: E402


# The gate run shown on /gate: datasets/support's planted regressions, with
# hostile text added to the candidate output of one of them.
GATE_CASE = "triage-03"
GATE_HOSTILE = " <img src=x onerror=\"window.__xss=1\"> <script>alert(8)</script>"  # after "Sure!"
# A planted regression whose outputs are longer than the report's 300-byte
# excerpts and differ only after byte 300: the candidate says "guarantee",
# which the case's expect.not_contains forbids.
GATE_LONG_CASE = "answer-05"
GATE_LONG_TAIL = {"baseline": " Send the link within those 14 days and we confirm the refund by email.",
                  "candidate": " Send the link within those 14 days and we guarantee the refund by email."}


def long_output(output, side):
    """The original output, padded past byte 300, then the side's tail."""
    pad = (" Keep your receipt and the order number; our team checks the retailer's page before it pays."
           " Price matches apply to the same model, colour and size only.")
    out = output + pad
    assert len(out.encode()) > 300
    return out + GATE_LONG_TAIL[side]


# The gate run also has two LLM judges on the fake provider (both fixed at
# score 4, so they add no regression, and run on every case: short_circuit
# off): `helpful`, whose reasoning names the hash of its request and so differs
# between the sides, and `tone`, whose reasoning is hostile markup.
JUDGE_HOSTILE = 'tone <img src=x onerror="window.__xss=1"> <script>alert(9)</script> fine'


def judged_config(source, tmp, helpful_base, tone_base):
    d = os.path.join(source, "datasets", "support")
    rubrics = [os.path.join(source, "rubrics", r + ".yaml") for r in ("helpfulness", "conciseness")]
    with open(os.path.join(d, "gate.yaml")) as f:
        text = f.read().replace("schema_file: triage.schema.json", "schema_file: " + os.path.join(d, "triage.schema.json"))
    judges = ("judges:\n"
              "  - {name: fake_a, provider: openai, model: m, base_url: '%s/v1', api_key_env: ASSAY_REVIEW_E2E_JUDGE}\n"
              "  - {name: fake_b, provider: openai, model: m2, base_url: '%s/v1', api_key_env: ASSAY_REVIEW_E2E_JUDGE}\n"
              % (helpful_base, tone_base))
    extra = ("  - {name: helpful, type: judge, judges: [fake_a], sample_rate: 1, rubric: '%s'}\n"
             "  - {name: tone, type: judge, judges: [fake_b], sample_rate: 1, rubric: '%s'}\n" % tuple(rubrics))
    text = judges + text.replace("gate:\n", extra + "gate:\n  short_circuit: false\n", 1)
    path = os.path.join(tmp, "gate-judged.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def gate_report(assay, fake, source, tmp):
    d = os.path.join(source, "datasets", "support")
    sides = {}
    for side in ("baseline", "candidate"):
        sides[side] = os.path.join(tmp, "gate-%s.jsonl" % side)
        with open(os.path.join(d, side + ".jsonl")) as f, open(sides[side], "w") as out:
            for line in f:
                t = json.loads(line)
                if t["trace_id"] == GATE_CASE and side == "candidate":
                    t["output"] = t["output"].replace("Sure!", "Sure!" + GATE_HOSTILE, 1)
                if t["trace_id"] == GATE_LONG_CASE:
                    t["output"] = long_output(t["output"], side)
                out.write(json.dumps(t) + "\n")
    report = os.path.join(tmp, "gate.json")
    cmd = [assay, "gate", "--config", os.path.join(d, "gate.yaml"), "--dataset", os.path.join(d, "cases.jsonl"),
           "--baseline", sides["baseline"], "--candidate", sides["candidate"]]
    script = os.path.join(tmp, "tone-judge.json")
    with open(script, "w") as f:
        json.dump({"default": {"score": 4, "reasoning": JUDGE_HOSTILE}}, f)
    with FakeProvider(fake, "--score", "4") as helpful, FakeProvider(fake, "--script", script) as tone:
        judged = list(cmd)
        judged[judged.index("--config") + 1] = judged_config(source, tmp, helpful.base, tone.base)
        r = run(judged + ["--json", report, "--quiet"], env=dict(os.environ, ASSAY_REVIEW_E2E_JUDGE="sk-review-e2e"))
    check(r.returncode == 1, "the planted regression blocks the gate (rc=%d %s)" % (r.returncode, r.stderr[-300:]))
    # `cmd` (the code scorers only) re-runs the gate on exported cases
    return {"json": report, "cmd": cmd, "cases": os.path.join(d, "cases.jsonl")}


def main():
    ap = add_backend_argument(arguments(fake=True))
    ap.add_argument("--artifacts", required=True)
    a = ap.parse_args()
    for pkg in ("playwright-core", "axe-core"):
        if not os.path.isdir(os.path.join(HERE, "node_modules", pkg)):
            print("FAIL %s is not installed: run bash ci/install-npm.sh" % pkg)
            return 1
    if not os.path.exists("/usr/bin/chromium"):
        print("FAIL /usr/bin/chromium is missing: run bash ci/install-deps.sh")
        return 1
    shutil.rmtree(a.artifacts, ignore_errors=True)
    os.makedirs(a.artifacts)
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    db, con = backend.new_store("review_browser")
    review_fixture.make_store(a.assay, a.source, tmp, db)
    review_fixture.add_otlp_agent_trace(a.assay, a.source, tmp, db, con)
    gate = gate_report(a.assay, a.fake, a.source, tmp)
    # the workspace link `assay calibrate --queue` prints for one trace
    q = run([a.assay, "calibrate", "--db", db, "--scorer", "refusal", "--queue", "1", "--seed", "5"])
    row = [l.split() for l in q.stdout.splitlines() if "queue=calibration&id=" in l]
    queue_link = (row[0][-1], row[0][0]) if row else ("/", "?")
    srv = review_fixture.Server(a.assay, db, "--gate-report", gate["json"])
    try:
        r = run(["node", os.path.join(HERE, "browser.mjs"), srv.base, review_fixture.XSS_ID, "support_chat",
                 a.artifacts, review_fixture.AGENT_ID, GATE_CASE, GATE_LONG_CASE], timeout=180, cwd=HERE,
                env=dict(os.environ, QUEUE_LINK=" ".join(queue_link)))
    finally:
        srv.stop()
    print(r.stderr[-2000:])
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    check(r.returncode == 0 and lines, "browser script ran (rc=%d)" % r.returncode)
    res = json.loads(lines[-1]) if lines else {}
    check("error" not in res, "no browser error: %s" % res.get("error", ""))
    check(res.get("list_rows", 0) > 0, "list shows rows (%s)" % res.get("list_rows"))
    check(len(res.get("row_heights", [])) == 1, "list rows have one fixed height: %s" % res.get("row_heights"))
    feats = res.get("filtered_features", [])
    check(feats and all(f.startswith("support_chat") for f in feats), "filter: only support_chat rows")
    check(res.get("filtered_passed") and set(res["filtered_passed"]) == {"FAIL"}, "filter: only failures")
    check(res.get("list_has_xss_row") == 1, "hostile trace listed")
    check(res.get("list_img_count") == 0, "no <img> element from the excerpts in the list")
    check("<img src=x onerror=alert(4)>" in res.get("list_text", ""), "hostile excerpt shown as text in the list")
    before, after = res.get("hover_before"), res.get("hover_after")
    check(before and len(before) >= 3 and before == after,
          "hovering a row moves no row and keeps every row's height: %s -> %s" % (before, after))
    full = res.get("hover_full") or []
    check(len(full) == 2 and all(f["title"] and f["title"] == f["text"] for f in full)
          and any(f["cut"] for f in full),
          "the hovered row's excerpts are cut on screen and whole in their tooltips: %s" % full)
    ids = res.get("row_ids", [])
    check(len(ids) >= 5 and res.get("moves") == [ids[1], ids[2], ids[1], ids[2], ids[1]],
          "j, j, k, ArrowDown, ArrowUp move through the list: %s" % res.get("moves"))
    check(res.get("current_row") == ids[1] if ids else False, "the selected row is highlighted")
    out = res.get("output_text", "")
    check("<script>alert(1)</script>" in out, "script tag shown as text")
    check("<img src=x onerror=" in out, "img onerror shown as text")
    check('<a href="javascript:alert(3)">click me</a>' in out, "javascript: link shown as text")
    check("<img src=x onerror=alert(4)>" in res.get("input_text", ""), "hostile input shown as text")
    check("<script>alert(5)</script>" in res.get("context_text", ""), "hostile context shown as text")
    inj = res.get("injected", {})
    check(inj.get("scripts") == 3, "only the page's own three script elements (%s)" % inj.get("scripts"))
    check(inj.get("imgs") == 0 and inj.get("js_links") == 0 and inj.get("xss_flag") is False,
          "no injected img, javascript: link or onerror effect: %s" % inj)
    check(res.get("dialogs") == [], "no dialog opened: %s" % res.get("dialogs"))
    check(not [e for e in res.get("console_errors", []) if "Content Security Policy" in e],
          "no CSP violations: %s" % res.get("console_errors"))
    check(not res.get("console_errors"), "no console errors: %s" % res.get("console_errors"))
    # the keyboard flow: three labels, each followed by the next unlabelled trace; n skips
    labelled = res.get("labelled", [])
    check(labelled[:1] == [review_fixture.XSS_ID] and len(set(labelled)) == 3,
          "three different traces labelled: %s" % labelled)
    check(res.get("labelled_counts") == ["\u270e 1"] * 3, "their rows count one label each: %s"
          % res.get("labelled_counts"))
    check(res.get("after_labels_trace") not in labelled and res.get("after_n_trace") not in labelled + [
          res.get("after_labels_trace")] and res.get("after_n_labels") == "\u270e 0",
          "n moves on to an unlabelled trace: %s (%s)" % (res.get("after_n_trace"), res.get("after_n_labels")))
    check("3 labels" in res.get("agreement_text", ""), "agreement panel updated: %s" % res.get("agreement_text"))
    check(res.get("marker") == "same page", "filtering, moving and labelling never reloaded the page")
    url = res.get("state_url", "")
    check("feature=support_chat" in url and "passed=false" in url and "id=" + str(res.get("after_n_trace")) in url,
          "the URL holds the filters and the selected trace: %s" % url)
    rl = res.get("reload", {})
    check(rl.get("marker") == "" and rl.get("feature") == "support_chat" and rl.get("passed") == "false" and
          rl.get("trace") == res.get("after_n_trace") and rl.get("current_row") == res.get("after_n_trace"),
          "a reload restores the filters and the selected trace: %s" % rl)
    sh = res.get("shared", {})
    check(sh.get("trace") == res.get("after_n_trace") and sh.get("feature") == "support_chat",
          "a shared link opens the same view: %s" % sh)
    check("id=" + review_fixture.XSS_ID in res.get("old_link_url", "") and
          res.get("old_link_url", "").split("?")[0].endswith("/"),
          "an old /trace?id= link opens the workspace: %s" % res.get("old_link_url"))
    # the OTLP agent trace as a timeline
    tl = res.get("timeline", [])
    check([s["kind"] for s in tl] == ["agent", "llm", "tool", "llm"],
          "timeline: the agent, chat, tool and chat spans in start order: %s" % [s.get("kind") for s in tl])
    check(len(tl) == 4 and tl[2]["name"] == "execute_tool lookup_order" and tl[2]["duration"] == "190 ms" and
          tl[0]["duration"] == "2.58 s", "timeline: names and durations: %s" % tl)
    check(len(tl) == 4 and "o4-mini" in tl[1]["facts"] and "reasoning" in tl[1]["facts"] and
          "tool lookup_order" in tl[2]["facts"], "timeline: models, tokens and tool names: %s" % tl)
    check(len(tl) == 4 and all(s["bar_width"] > 0 for s in tl) and tl[0]["bar_width"] > tl[2]["bar_width"],
          "timeline: a duration bar per span, to scale")
    check(len(tl) == 4 and not any(s["open"] for s in tl) and res.get("tool_output_visible"),
          "span input and output are shown on demand")
    check(review_fixture.AGENT_TOOL_RESULT.replace(" ", "") in res.get("tool_output", "").replace(" ", "")
          .replace("\n", "") or "<img src=x onerror=" in res.get("tool_output", ""),
          "the hostile tool result is shown as text: %s" % res.get("tool_output"))
    check("1234" in res.get("tool_input", "") and "Where is order 1234?" in res.get("agent_input", ""),
          "the tool's arguments and the agent's input are shown")
    check("refusal" in res.get("timeline_scores", ""), "the trace's scores beside its timeline: %s"
          % res.get("timeline_scores"))
    ti = res.get("timeline_injected", {})
    check(ti.get("imgs") == 0 and ti.get("scripts") == 3 and ti.get("xss_flag") is False,
          "nothing injected from span content: %s" % ti)
    # the gate report
    g = res.get("gate") or {}
    rep = json.load(open(gate["json"]))
    check(g.get("result", "").startswith("BLOCK"), "gate: the verdict is shown: %s" % g.get("result"))
    check(g.get("reasons") == rep["verdict"]["reasons"], "gate: the verdict's reasons: %s" % g.get("reasons"))
    n_rules = (1 if rep["verdict"]["count_rule"] else 0) + sum(len(s["rules"]) for s in rep["summary"])
    check(len(g.get("rules", [])) == n_rules and any("sign test" in row[2] for row in g.get("rules", [])),
          "gate: every rule with its test (%d rows of %d)" % (len(g.get("rules", [])), n_rules))
    check(any(row[4] == "%.4f" % rep["verdict"]["count_rule"]["p"] for row in g.get("rules", [])),
          "gate: the p-values are shown")
    want_cases = []
    for c in rep["regressions"]:
        if c["case_id"] not in want_cases:
            want_cases.append(c["case_id"])
    check(g.get("cases") == want_cases and GATE_CASE in want_cases,
          "gate: one card per regressed case: %s" % g.get("cases"))
    pl = g.get("planted") or {}
    check("json" in pl.get("changes", "") and "(pass)" in pl.get("changes", "") and "(fail)" in pl.get("changes", ""),
          "gate: the planted case's regressed scorers: %s" % pl.get("changes"))
    check(pl.get("baseline", "").startswith('{"intent"') and pl.get("candidate", "").startswith("Sure!"),
          "gate: baseline and candidate outputs side by side")
    check("Sure!" in pl.get("ins", []) and "classify" in pl.get("ins", []) and not pl.get("del"),
          "gate: the words the candidate added are marked, none removed: %s / %s" % (pl.get("ins"), pl.get("del")))
    # the long planted case: the whole outputs, diffed past the 300-byte excerpt
    lo = g.get("long") or {}
    want = {side: long_output(next(json.loads(l)["output"] for l in open(os.path.join(
        a.source, "datasets", "support", side + ".jsonl")) if GATE_LONG_CASE in l), side)
        for side in ("baseline", "candidate")}
    check(want["baseline"][:300] == want["candidate"][:300] and GATE_LONG_CASE in g.get("cases", []),
          "gate: the long planted case regressed, its outputs differ only after byte 300")
    check(lo.get("baseline") == want["baseline"] and lo.get("candidate") == want["candidate"],
          "gate: the whole outputs shown, not the excerpts: %r / %r" % (lo.get("baseline", "")[-80:],
                                                                         lo.get("candidate", "")[-80:]))
    check(lo.get("ins") == ["guarantee"] and lo.get("del") == ["confirm"],
          "gate: the difference after byte 300 is marked: %s / %s" % (lo.get("ins"), lo.get("del")))
    check(not any("excerpt" in n or "cut" in n for n in lo.get("notes", [])),
          "gate: the whole outputs are not called excerpts: %s" % lo.get("notes"))
    rc = {s: next(c for c in rep["sides"][s]["cases"] if c["id"] == GATE_LONG_CASE) for s in ("baseline", "candidate")}
    check(all(rc[s].get("output") == want[s] and rc[s].get("output_truncated") is False for s in rc),
          "gate: the report carries the whole outputs of the regressed case")
    check(any("format=json" in c and "FAIL" in c for c in pl.get("checks", [])),
          "gate: the checks that changed: %s" % pl.get("checks"))
    check(any("Baseline" in x and "Candidate" in x and "inside prose" in x for x in pl.get("reasoning", [])),
          "gate: the scorers' explanations on both sides")
    # the LLM judges' reasoning on both sides, as text
    expl = {s: next(c for c in rep["sides"][s]["cases"] if c["id"] == GATE_CASE)["scorers"]
            for s in ("baseline", "candidate")}
    jr = pl.get("judges") or {}
    hb, hc = expl["baseline"]["helpful"]["explanation"], expl["candidate"]["helpful"]["explanation"]
    check("Fake judge: request hash" in hb and "Fake judge: request hash" in hc and hb != hc,
          "gate: the judge reasoned differently on the two sides: %r / %r" % (hb, hc))
    check(jr.get("Judge helpful") == [hb, hc], "gate: the judge's reasoning on both sides: %s" % jr.get("Judge helpful"))
    tb, tc = expl["baseline"]["tone"]["explanation"], expl["candidate"]["tone"]["explanation"]
    check(jr.get("Judge tone") == [tb, tc] and JUDGE_HOSTILE in tb and JUDGE_HOSTILE in tc,
          "gate: hostile judge reasoning shown as text on both sides: %s" % jr.get("Judge tone"))
    check("<img src=x onerror=" in pl.get("candidate", "") and "<script>alert(8)</script>" in pl.get("candidate", ""),
          "gate: hostile output shown as text")
    check(g.get("imgs") == 0 and g.get("scripts") == 2 and g.get("xss_flag") is False,
          "gate: nothing injected: %s" % {k: g.get(k) for k in ("imgs", "scripts", "xss_flag")})
    check(re.match(r"\d+ regressed cases: 2 real, 1 noise, \d+ to review", res.get("gate_tally", "")) and
          res.get("gate_tally") == res.get("gate_tally_after_reload"),
          "gate: real/noise marks counted and kept over a reload: %s / %s" % (res.get("gate_tally"),
                                                                            res.get("gate_tally_after_reload")))
    sec = res.get("gate_second") or {}
    check(sec.get("tally") == res.get("gate_tally") and sec.get("checked") == ["real", "real", "noise"] and
          not sec.get("local"), "gate: a second browser context sees the stored marks: %s" % sec)
    check(sec.get("who", "").startswith("noise · browser-bot · 20") and sec.get("note") == "flaky judge <b>x</b>",
          "gate: the mark's reviewer, time and note: %s / %s" % (sec.get("who"), sec.get("note")))
    rows = con.all("SELECT case_id, mark, note, reviewer FROM gate_marks ORDER BY case_id")
    ids3 = g.get("cases", [])[:3]
    want_rows = sorted([(ids3[0], "real", "", "browser-bot"), (ids3[1], "real", "", "browser-bot"),
                        (ids3[2], "noise", "flaky judge <b>x</b>", "browser-bot")]) if len(ids3) == 3 else None
    check(rows == want_rows, "gate: the database holds the marks: %s" % rows)
    exported = [json.loads(l) for l in res.get("gate_export", "").splitlines() if l.strip()]
    dataset = {json.loads(l)["id"]: json.loads(l) for l in open(gate["cases"]) if l.strip()}
    check(res.get("gate_export_name") == "real-regressions.jsonl" and len(exported) == 2 and
          [c["id"] for c in exported] == want_cases[:2] and all(c == dataset[c["id"]] for c in exported),
          "gate: the two real regressions exported as their dataset lines: %s" % [c.get("id") for c in exported])
    if exported:
        real = os.path.join(tmp, "real.jsonl")
        with open(real, "w") as f:
            f.write(res["gate_export"])
        cmd = list(gate["cmd"])
        cmd[cmd.index("--dataset") + 1] = real
        keep = {c["id"] for c in exported}
        for side in ("--baseline", "--candidate"):  # the outputs of those cases only
            path = os.path.join(tmp, "real" + side.strip("-") + ".jsonl")
            with open(cmd[cmd.index(side) + 1]) as f, open(path, "w") as out:
                out.writelines(l for l in f if l.strip() and json.loads(l)["trace_id"] in keep)
            cmd[cmd.index(side) + 1] = path
        again = os.path.join(tmp, "real-gate.json")
        rr = run(cmd + ["--quiet", "--json", again])
        regressed = sorted({c["case_id"] for c in json.load(open(again))["regressions"]}) \
            if rr.returncode in (0, 1) and os.path.exists(again) else []
        check(regressed == sorted(keep), "gate: assay gate reads the exported cases and finds them regressed "
              "(rc=%d, %s %s)" % (rr.returncode, regressed, rr.stderr[-300:]))
    # accessibility: no serious or critical axe-core violation on any page
    axe = res.get("axe", {})
    check(set(axe) >= {"workspace", "workspace_dark", "timeline", "gate", "calibration", "trends"}, "axe-core ran on: %s" % sorted(axe))
    bad = {k: [v for v in vs if v.get("impact") in ("serious", "critical")] for k, vs in axe.items()}
    check(not any(bad.values()), "no serious or critical axe-core violations: %s" % bad)
    check(res.get("trend_charts", 0) >= 1, "trend charts drawn as SVG")
    # opens on a scorer with scores; a judge scorer with none says why
    check(res.get("default_scorer") not in (None, "", "helpfulness") and res.get("default_rows", 0) > 0,
          "list opens on a scorer that has scores: %s (%s rows)" % (res.get("default_scorer"), res.get("default_rows")))
    js = res.get("judge_status", "")
    check("waiting for its LLM judge" in js and "disabled or not configured" in js,
          "judge scorer without scores says why: %s" % js)
    check("pending" in res.get("judge_option", ""), "its option says pending: %s" % res.get("judge_option"))
    # the calibration queue from the calibration page
    check("queue=calibration" in res.get("queue_url", "") and res.get("queue_banner_visible"),
          "calibration queue opens a trace in queue mode: %s" % res.get("queue_url"))
    check("queue=calibration" in res.get("after_queue_label_url", "") and
          res.get("after_queue_label_url") != res.get("queue_url"),
          "after a queue label, the next queue trace opens: %s" % res.get("after_queue_label_url"))
    cal = res.get("calibration_after_queue", "")
    check("1 from the calibration queue" in cal and "Agreement:" in cal and "precision of the failures" in cal,
          "calibration page reports the queue label, agreement and precision")
    ql, ol = res.get("queue_link") or {}, res.get("old_link") or {}
    check(row and ql.get("trace") == queue_link[1] and ql.get("banner") and
          "queue=calibration" in ql.get("url", "") and ("id=" + queue_link[1]) in ql.get("url", ""),
          "the link of assay calibrate --queue opens its trace in the workspace's queue mode: %s" % ql)
    check(ol.get("trace") == queue_link[1] and "/trace" not in ol.get("url", "") and
          ("id=" + queue_link[1]) in ol.get("url", ""),
          "an old /trace?id= link opens the trace, under /: %s" % ol)
    # a one-day trend is drawn, its labels do not collide
    one = res.get("one_day") or []
    check(one and all(c["points"] == 1 and c["drawn"] == 1 for c in one),
          "one-day trend: the single point is drawn: %s" % one)
    check(one and all(c["day_labels"] == 1 and c["collisions"] == 0 and c["outside"] == 0 for c in one),
          "one-day trend: one date label, no text collides or leaves the chart: %s" % one)
    queued = con.one("SELECT count(*) FROM labels WHERE source = 'calibration'")
    check(queued == 1, "the queue label is stored with source calibration (%d)" % queued)
    # the score as a float: psql prints PostgreSQL's 0.5 as text
    rows = [r[:3] + (None if r[3] is None else float(r[3]),) + r[4:] for r in con.all(
        "SELECT t.trace_id, l.reviewer, l.verdict, l.score, l.note, v.scorer, l.source FROM labels l "
        "JOIN traces t ON t.id = l.trace JOIN scorer_versions v ON v.id = l.scorer_version "
        "WHERE l.source = 'review' ORDER BY l.id")]
    want = [(labelled[0] if labelled else "", "browser-bot", "disagree", None, "browser: <b>not</b> a refusal",
             "refusal", "review")]
    if len(labelled) == 3:
        want += [(labelled[1], "browser-bot", "agree", None, "", "refusal", "review"),
                 (labelled[2], "browser-bot", "score", 0.5, "", "refusal", "review")]
    check(rows == want, "the three labels stored in the database: %s" % rows)
    shots = sorted(os.listdir(a.artifacts))
    check(len(shots) == 13, "screenshots kept in %s: %s" % (a.artifacts, shots))
    return finish("all review browser checks passed")


if __name__ == "__main__":
    sys.exit(main())
