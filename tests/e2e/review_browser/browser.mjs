// Drives Debian's chromium (headless, through playwright-core) over a running
// `assay review`: the workspace's keyboard flow (filter, move, label three
// traces, next unlabelled, reload keeps the state), the hostile trace shown as
// text, the calibration queue, the trends page, screenshots at 1280 and 1920
// px and an axe-core scan of every page. Prints one JSON line of findings;
// the Python driver (test_review_browser.py) checks them and the database.
// Usage: node browser.mjs BASE_URL XSS_TRACE_ID FEATURE SCREENSHOT_DIR [AGENT_TRACE_ID [GATE_CASE
//        [GATE_LONG_CASE]]]
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [base, xssId, feature, shots, agentId, gateCase, gateLongCase] = process.argv.slice(2);
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const result = { dialogs: [], console_errors: [], axe: {} };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});

// axe-core, evaluated through the DevTools protocol (the page's CSP forbids
// injected script tags and stays on): serious and critical violations only.
async function axeScan(page, name) {
  await page.evaluate(axeSource + "\n;0");
  const r = await page.evaluate(async () => {
    const out = await window.axe.run(document, { resultTypes: ["violations"] });
    return out.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  result.axe[name] = r;
}

// page.waitForFunction polls with eval, which the page's CSP forbids: poll from here.
async function waitFor(page, fn, arg, timeout) {
  const end = Date.now() + (timeout || 15000);
  for (;;) {
    const v = await page.evaluate(fn, arg).catch(() => false);
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + String(fn).slice(0, 120) + " (" + arg + ")");
    await new Promise((r) => setTimeout(r, 50));
  }
}
const traceOnScreen = (page) => page.evaluate(() => document.body.dataset.trace || "");
const waitTraceChange = (page, old) => waitFor(page,
  (o) => document.body.dataset.trace && document.body.dataset.trace !== o, old);

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("dialog", async (d) => {
    result.dialogs.push(d.message());
    await d.dismiss();
  });
  page.on("console", (m) => {
    if (m.type() === "error") result.console_errors.push(m.text());
  });
  page.on("pageerror", (e) => result.console_errors.push(String(e)));

  // with no scorer in the URL, the list opens on one that has scores; a judge
  // scorer with nothing scored says why (its traces wait for a disabled judge)
  await page.goto(base + "/");
  await page.waitForSelector("#status:not(:empty)");
  result.default_scorer = await page.inputValue("#scorer");
  result.default_rows = await page.locator("#rows li").count();
  await page.goto(base + "/?scorer=helpfulness");
  await page.waitForSelector("#status:not(:empty)");
  result.judge_status = await page.textContent("#status");
  result.judge_option = await page.textContent("#scorer option[value=helpfulness]");
  await page.screenshot({ path: path.join(shots, "08-list-judge-pending.png") });

  await page.goto(base + "/?scorer=refusal");
  await page.waitForSelector("#rows li");
  await waitFor(page, () => document.body.dataset.trace);
  await page.fill("#reviewer", "browser-bot");
  await page.dispatchEvent("#reviewer", "change");
  result.list_rows = await page.locator("#rows li").count();
  result.row_heights = await page.$$eval("#rows li", (lis) => Array.from(new Set(lis.slice(1).map((l) =>
    Math.round(l.getBoundingClientRect().height)))));
  await page.evaluate(() => { window.__marker = "same page"; });

  // filter: feature + failed only, applied without a page load
  await page.fill("input[name=feature]", feature);
  await page.selectOption("select[name=passed]", "false");
  await Promise.all([page.waitForURL(/feature=/), page.click("#apply")]);
  await waitFor(page, () => document.querySelectorAll("#rows li").length &&
    Array.from(document.querySelectorAll("#rows .meta")).every((m) => m.textContent.startsWith("support_chat")));
  result.filtered_status = await page.textContent("#status");
  result.filtered_features = await page.$$eval("#rows a.row .meta", (s) => s.map((t) => t.textContent));
  result.filtered_passed = await page.$$eval("#rows a.row .badge", (s) => s.map((t) => t.textContent));
  result.list_has_xss_row = await page.locator(`a.row[data-id="${xssId}"]`).count();
  result.list_img_count = await page.locator("#rows img").count();
  result.row_ids = await page.$$eval("#rows a.row", (as) => as.map((a) => a.dataset.id));

  // hovering a row (the hostile one: its text is long) moves no row; its
  // full text is in the excerpts' tooltips
  const rowBoxes = () => page.$$eval("#rows li", (ls) => ls.map((l) => {
    const r = l.getBoundingClientRect();
    return [Math.round(r.top), Math.round(r.height)];
  }));
  const hostileRow = page.locator(`#rows li:has(a.row[data-id="${xssId}"])`);
  await hostileRow.scrollIntoViewIfNeeded();
  result.hover_before = await rowBoxes();
  await hostileRow.hover();
  result.hover_after = await rowBoxes();
  result.hover_full = await hostileRow.evaluate((l) => Array.from(l.querySelectorAll(".excerpt"))
    .map((e) => ({ title: e.title, text: e.textContent, cut: e.scrollWidth > e.clientWidth })));
  await page.mouse.move(0, 0);

  // moving: j, k, ArrowDown (no page load: the marker survives)
  await page.evaluate(() => document.activeElement.blur());
  const moves = [];
  await page.click("#rows a.row >> nth=0");
  await waitFor(page, (id) => document.body.dataset.trace === id, result.row_ids[0]);
  for (const key of ["j", "j", "k", "ArrowDown", "ArrowUp"]) {
    const before = await traceOnScreen(page);
    await page.keyboard.press(key);
    await waitTraceChange(page, before);
    moves.push(await traceOnScreen(page));
  }
  result.moves = moves;
  result.current_row = await page.$eval("#rows li.current a.row", (a) => a.dataset.id);

  // open the hostile trace from the list
  await page.click(`a.row[data-id="${xssId}"]`);
  await waitFor(page, (id) => document.body.dataset.trace === id &&
    document.querySelector("#trace-id").textContent === id, xssId);
  result.output_text = await page.textContent("#output");
  result.input_text = await page.textContent("#input");
  result.context_text = await page.textContent("#context");
  result.list_text = await page.textContent("#rows");
  result.injected = await page.evaluate(() => ({
    scripts: document.querySelectorAll("script").length,
    imgs: document.querySelectorAll("img").length,
    js_links: Array.from(document.querySelectorAll("a")).filter((a) => a.href.startsWith("javascript:")).length,
    xss_flag: window.__xss === 1,
  }));
  await page.screenshot({ path: path.join(shots, "01-workspace-1280.png") });

  // label three traces with the keyboard: d + note on the hostile one, a on
  // the next, s 0.5 on the third; after each save the next unlabelled opens
  const labelled = [];
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("d");
  await page.keyboard.press("e");
  await page.keyboard.type("browser: <b>not</b> a refusal");
  await page.keyboard.press("Escape");
  for (const step of [[], ["a"], ["s", "0.5"]]) {
    for (const k of step) {
      if (k === "0.5") {
        await page.keyboard.type(k);
        await page.keyboard.press("Escape");
      } else await page.keyboard.press(k);
    }
    const before = await traceOnScreen(page);
    labelled.push(before);
    await page.keyboard.press("Control+Enter");
    await waitTraceChange(page, before);
  }
  result.labelled = labelled;
  result.after_labels_trace = await traceOnScreen(page);
  result.labelled_counts = await page.$$eval("#rows a.row", (as, ids) => as.filter((a) => ids.includes(a.dataset.id))
    .map((a) => a.querySelector(".nlabels").textContent), labelled);
  await waitFor(page, () => /3 labels/.test(document.querySelector("#agreement").textContent));
  result.agreement_text = await page.textContent("#agreement");
  // n: the next unlabelled trace, without labelling this one
  const beforeN = await traceOnScreen(page);
  await page.keyboard.press("n");
  await waitTraceChange(page, beforeN);
  result.after_n_trace = await traceOnScreen(page);
  result.after_n_labels = await page.$eval(`a.row[data-id="${result.after_n_trace}"] .nlabels`, (s) => s.textContent)
    .catch(() => "not in the list");
  result.marker = await page.evaluate(() => window.__marker || "");
  result.state_url = page.url();
  await page.screenshot({ path: path.join(shots, "02-after-labels-1280.png") });
  await axeScan(page, "workspace");

  // reload: the filters and the selected trace come back from the URL
  await page.reload();
  await waitFor(page, (id) => document.body.dataset.trace === id, result.after_n_trace);
  result.reload = {
    marker: await page.evaluate(() => window.__marker || ""),
    feature: await page.inputValue("input[name=feature]"),
    passed: await page.inputValue("select[name=passed]"),
    trace: await traceOnScreen(page),
    current_row: await page.$eval("#rows li.current a.row", (a) => a.dataset.id).catch(() => ""),
  };
  // a shared link in a fresh browser context opens the same view
  const other = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await other.goto(result.state_url);
  await waitFor(other, (id) => document.body.dataset.trace === id, result.after_n_trace);
  result.shared = { trace: await traceOnScreen(other), feature: await other.inputValue("input[name=feature]") };
  await other.screenshot({ path: path.join(shots, "03-workspace-1920.png") });
  const dark = await browser.newPage({ viewport: { width: 1920, height: 1080 }, colorScheme: "dark" });
  await dark.goto(result.state_url);
  await waitFor(dark, () => document.body.dataset.trace);
  await dark.screenshot({ path: path.join(shots, "04-workspace-dark-1920.png") });
  await axeScan(dark, "workspace_dark");
  await dark.close();
  await other.close();

  // an older /trace?id= link opens the workspace on that trace
  await page.goto(base + "/trace?id=" + encodeURIComponent(xssId) + "&scorer=refusal");
  await waitFor(page, (id) => document.body.dataset.trace === id, xssId);
  result.old_link_url = page.url();

  // an OTLP agent trace: its spans as a timeline, each span's input and output on demand
  if (agentId) {
    await page.goto(base + "/?scorer=refusal&id=" + agentId);
    await waitFor(page, () => document.querySelectorAll("#timeline li.span").length);
    result.timeline = await page.$$eval("#timeline li.span", (lis) => lis.map((li) => ({
      kind: li.querySelector(".kind").textContent,
      name: li.querySelector(".span-name").textContent,
      duration: li.querySelector(".dur").textContent,
      facts: (li.querySelector(".facts") || {}).textContent || "",
      bar_width: li.querySelector(".bar").getBoundingClientRect().width,
      open: li.querySelector("details").open,
    })));
    result.timeline_scores = await page.textContent("#timeline-scores");
    await page.click("#timeline li.span:has(.kind-tool) summary");
    result.tool_output_visible = await page.isVisible("#timeline li.span:has(.kind-tool) .span-output");
    result.tool_output = await page.textContent("#timeline li.span:has(.kind-tool) .span-output");
    result.tool_input = await page.textContent("#timeline li.span:has(.kind-tool) .span-input");
    await page.click("#timeline li.span:has(.kind-agent) summary");
    result.agent_input = await page.textContent("#timeline li.span:has(.kind-agent) .span-input");
    result.timeline_injected = await page.evaluate(() => ({
      imgs: document.querySelectorAll("img").length,
      scripts: document.querySelectorAll("script").length,
      xss_flag: window.__xss === 1,
    }));
    await page.screenshot({ path: path.join(shots, "10-timeline-1280.png") });
    await axeScan(page, "timeline");
  }

  // the gate report of `assay review --gate-report`: verdict, rules, regressed
  // cases side by side with the differences marked; label, export the real ones
  if (gateCase) {
    await page.goto(base + "/gate");
    await waitFor(page, () => document.querySelectorAll("article.case").length);
    result.gate = await page.evaluate(([gc, lc]) => {
      const box = document.querySelector(`article.case[data-case="${gc}"]`);
      const longBox = document.querySelector(`article.case[data-case="${lc}"]`);
      return {
        result: document.getElementById("gate-result").textContent,
        reasons: Array.from(document.querySelectorAll("ul.reasons li")).map((l) => l.textContent),
        rules: Array.from(document.querySelectorAll("#gate-rules tbody tr")).map((tr) =>
          Array.from(tr.children).map((td) => td.textContent)),
        cases: Array.from(document.querySelectorAll("article.case")).map((a) => a.dataset.case),
        planted: box ? {
          changes: box.querySelector("ul.changes").textContent,
          baseline: box.querySelector("pre.diff.baseline").textContent,
          candidate: box.querySelector("pre.diff.candidate").textContent,
          ins: Array.from(box.querySelectorAll("pre.diff.candidate ins")).map((e) => e.textContent),
          del: Array.from(box.querySelectorAll("pre.diff.baseline del")).map((e) => e.textContent),
          checks: Array.from(box.querySelectorAll("table.checks tbody tr")).map((tr) => tr.textContent),
          reasoning: Array.from(box.querySelectorAll(".reasoning")).map((r) => r.textContent),
          judges: Object.fromEntries(Array.from(box.querySelectorAll(".reasoning")).map((r) =>
            [r.querySelector(".reasoning-head").textContent,
              Array.from(r.querySelectorAll(".side-by-side pre")).map((p) => p.textContent)])),
        } : null,
        long: longBox ? {
          baseline: longBox.querySelector("pre.diff.baseline").textContent,
          candidate: longBox.querySelector("pre.diff.candidate").textContent,
          ins: Array.from(longBox.querySelectorAll("pre.diff.candidate ins")).map((e) => e.textContent),
          del: Array.from(longBox.querySelectorAll("pre.diff.baseline del")).map((e) => e.textContent),
          notes: Array.from(longBox.querySelectorAll(".output-note")).map((e) => e.textContent),
        } : null,
        imgs: document.querySelectorAll("img").length,
        scripts: document.querySelectorAll("script").length,
        xss_flag: window.__xss === 1,
      };
    }, [gateCase, gateLongCase]);
    await page.screenshot({ path: path.join(shots, "11-gate-1280.png") });
    await axeScan(page, "gate");
    // mark the planted case and the next one real, the third noise; export
    const ids = result.gate.cases;
    const pick = async (id, v) => page.check(`article.case[data-case="${id}"] input[value=${v}]`);
    await pick(ids[0], "real");
    await pick(ids[1], "real");
    await page.fill(`article.case[data-case="${ids[2]}"] input.mark-note`, "flaky judge <b>x</b>");
    await pick(ids[2], "noise");
    await waitFor(page, () => /2 real, 1 noise/.test(document.getElementById("gate-tally").textContent));
    result.gate_tally = await page.textContent("#gate-tally");
    // the marks are in the store: a second browser context (no shared storage) sees them
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const second = await other.newPage();
    await second.goto(base + "/gate");
    await waitFor(second, () => document.querySelectorAll("article.case").length);
    result.gate_second = await second.evaluate((ids) => ({
      tally: document.getElementById("gate-tally").textContent,
      checked: ids.map((id) => (document.querySelector(`article.case[data-case="${id}"] input:checked`) || {}).value || ""),
      who: document.querySelector(`article.case[data-case="${ids[2]}"] .mark-who`).textContent,
      note: document.querySelector(`article.case[data-case="${ids[2]}"] input.mark-note`).value,
      local: Object.keys(localStorage).filter((k) => k.startsWith("assay.gate")),
    }), ids.slice(0, 3));
    await other.close();
    // the planted case's card, marked (README's docs/screenshots/gate-report.png)
    await page.locator(`article.case[data-case="${gateCase}"]`).screenshot({ path: path.join(shots, "13-gate-case.png") });
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#gate-export")]);
    result.gate_export_name = download.suggestedFilename();
    result.gate_export = fs.readFileSync(await download.path(), "utf8");
    await page.reload();
    await waitFor(page, () => document.querySelectorAll("article.case").length);
    result.gate_tally_after_reload = await page.textContent("#gate-tally");
    const wide = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await wide.goto(base + "/gate#case-" + gateCase);
    await waitFor(wide, () => document.querySelectorAll("article.case").length);
    await wide.evaluate((gc) => document.querySelector(`article.case[data-case="${gc}"]`).scrollIntoView(), gateCase);
    await wide.screenshot({ path: path.join(shots, "12-gate-1920.png") });
    await wide.close();
  }

  // the calibration queue from the calibration page
  await page.goto(base + "/calibration?scorer=refusal");
  await page.waitForSelector("#calibration section, #status:not(:empty)");
  result.calibration_text = await page.textContent("#calibration");
  await axeScan(page, "calibration");
  await page.click("button.queue-start[data-scorer=refusal]");
  await page.waitForURL(/queue=calibration/);
  await waitFor(page, () => document.body.dataset.trace);
  result.queue_url = page.url();
  result.queue_banner_visible = await page.isVisible("#queue-banner");
  await page.screenshot({ path: path.join(shots, "05-queue-trace.png") });
  const queued = await traceOnScreen(page);
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("a");
  await page.keyboard.press("Control+Enter");
  await waitTraceChange(page, queued);
  result.after_queue_label_url = page.url();
  await page.goto(base + "/calibration?scorer=refusal");
  await page.waitForSelector("#calibration section.version");
  result.calibration_after_queue = await page.textContent("#calibration");
  await page.screenshot({ path: path.join(shots, "06-calibration.png"), fullPage: true });

  await page.goto(base + "/trends?scorer=refusal");
  await page.waitForSelector("#charts svg polyline.ma");
  result.trend_charts = await page.locator("#charts svg").count();
  await axeScan(page, "trends");
  await page.screenshot({ path: path.join(shots, "07-trends.png"), fullPage: true });

  // a one-day trend: its point is drawn, and its labels neither collide nor leave the chart
  await page.goto(base + "/trends?scorer=refusal&days=1");
  await page.waitForSelector("#charts svg");
  result.one_day = await page.$$eval("#charts svg", (svgs) => svgs.map((s) => {
    const box = (e) => { const b = e.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; };
    const texts = Array.from(s.querySelectorAll("text")).map(box);
    let collisions = 0;
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const [a, b] = [texts[i], texts[j]];
        if (a[0] < b[2] + 2 && b[0] < a[2] + 2 && a[1] < b[3] && b[1] < a[3]) collisions++;
      }
    }
    const vb = s.viewBox.baseVal;
    return {
      points: Array.from(s.querySelectorAll("circle.dot")).length,
      drawn: Array.from(s.querySelectorAll("circle.dot")).filter((c) => c.getBBox().width > 0).length,
      day_labels: s.querySelectorAll("text.day").length,
      collisions: collisions,
      outside: texts.filter((t) => t[0] < 0 || t[2] > vb.width || t[1] < 0 || t[3] > vb.height).length,
    };
  }));
  await page.screenshot({ path: path.join(shots, "09-trend-one-day.png"), fullPage: true });

  // a link `assay calibrate --queue` printed (QUEUE_LINK) opens that trace in queue mode;
  // an old /trace?id= link still opens the trace, under /
  if (process.env.QUEUE_LINK) {
    const [linkPath, linkId] = process.env.QUEUE_LINK.split(" ");
    await page.goto(base + linkPath);
    await waitFor(page, (id) => document.body.dataset.trace === id, linkId);
    result.queue_link = { url: page.url(), trace: await traceOnScreen(page),
      banner: await page.isVisible("#queue-banner") };
    await page.goto(base + "/trace?id=" + encodeURIComponent(linkId));
    await waitFor(page, (id) => document.body.dataset.trace === id, linkId);
    result.old_link = { url: page.url(), trace: await traceOnScreen(page) };
  }
  result.final_dialogs = result.dialogs.length;
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
