#!/usr/bin/env python3
"""Real-browser test of `assay review`: Debian's chromium, headless, driven by
playwright-core (npm, installed by ci/install-npm.sh) through browser.mjs.
The workspace's keyboard flow (filter, move with j/k and the arrows, label
three traces with a/d/s, n for the next unlabelled, reload and a shared link
restore the state), a trace whose output holds <script>, an <img onerror>
and a javascript: link rendered as text with nothing run, the calibration
queue and trends pages, and an axe-core scan of every page (no serious or
critical violation); the labels are checked in the database.
Screenshots go to --artifacts (kept under the build directory)."""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import review_fixture  # noqa: E402
from e2e_common import arguments, check, finish, run  # noqa: E402


def main():
    ap = arguments()
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
        db = review_fixture.make_store(a.assay, a.source, tmp)
        srv = review_fixture.Server(a.assay, db)
        try:
            r = run(["node", os.path.join(HERE, "browser.mjs"), srv.base, review_fixture.XSS_ID, "support_chat",
                     a.artifacts], timeout=180, cwd=HERE)
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
        # accessibility: no serious or critical axe-core violation on any page
        axe = res.get("axe", {})
        check(set(axe) >= {"workspace", "workspace_dark", "calibration", "trends"}, "axe-core ran on: %s" % sorted(axe))
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
        # a one-day trend is drawn, its labels do not collide
        one = res.get("one_day") or []
        check(one and all(c["points"] == 1 and c["drawn"] == 1 for c in one),
              "one-day trend: the single point is drawn: %s" % one)
        check(one and all(c["day_labels"] == 1 and c["collisions"] == 0 and c["outside"] == 0 for c in one),
              "one-day trend: one date label, no text collides or leaves the chart: %s" % one)
        con = sqlite3.connect(db)
        queued = con.execute("SELECT count(*) FROM labels WHERE source = 'calibration'").fetchone()[0]
        check(queued == 1, "the queue label is stored with source calibration (%d)" % queued)
        rows = con.execute(
            "SELECT t.trace_id, l.reviewer, l.verdict, l.score, l.note, v.scorer, l.source FROM labels l "
            "JOIN traces t ON t.id = l.trace JOIN scorer_versions v ON v.id = l.scorer_version "
            "WHERE l.source = 'review' ORDER BY l.id").fetchall()
        want = [(labelled[0] if labelled else "", "browser-bot", "disagree", None, "browser: <b>not</b> a refusal",
                 "refusal", "review")]
        if len(labelled) == 3:
            want += [(labelled[1], "browser-bot", "agree", None, "", "refusal", "review"),
                     (labelled[2], "browser-bot", "score", 0.5, "", "refusal", "review")]
        check(rows == want, "the three labels stored in the database: %s" % rows)
        shots = sorted(os.listdir(a.artifacts))
        check(len(shots) == 9, "screenshots kept in %s: %s" % (a.artifacts, shots))
    return finish("all review browser checks passed")


if __name__ == "__main__":
    sys.exit(main())
