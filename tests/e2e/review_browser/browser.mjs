// Drives Debian's chromium (headless, through playwright-core) over a running
// `assay review`: list -> filter -> open the hostile trace -> check nothing
// ran and it shows as text -> label it. Prints one JSON line of findings;
// the Python driver (test_review_browser.py) checks them and the database.
// Usage: node browser.mjs BASE_URL XSS_TRACE_ID FEATURE SCREENSHOT_DIR
import { chromium } from "playwright-core";
import path from "node:path";

const [base, xssId, feature, shots] = process.argv.slice(2);
const result = { dialogs: [], console_errors: [], steps: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
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
  result.default_rows = await page.locator("#rows tbody tr").count();
  await page.screenshot({ path: path.join(shots, "07-list-default.png"), fullPage: false });
  await page.goto(base + "/?scorer=helpfulness");
  await page.waitForSelector("#status:not(:empty)");
  result.judge_status = await page.textContent("#status");
  result.judge_option = await page.textContent("#scorer option[value=helpfulness]");
  await page.screenshot({ path: path.join(shots, "08-list-judge-pending.png"), fullPage: false });

  await page.goto(base + "/?scorer=refusal");
  await page.waitForSelector("#rows tbody tr");
  await page.fill("#reviewer", "browser-bot");
  await page.dispatchEvent("#reviewer", "change");
  result.list_rows = await page.locator("#rows tbody tr").count();
  await page.screenshot({ path: path.join(shots, "01-list.png"), fullPage: false });

  // filter: feature + failed only
  await page.fill("input[name=feature]", feature);
  await page.selectOption("select[name=passed]", "false");
  await Promise.all([page.waitForURL(/feature=/), page.click("#apply")]);
  await page.waitForSelector("#rows tbody tr");
  result.filtered_status = await page.textContent("#status");
  result.filtered_features = await page.$$eval("#rows tbody tr td:nth-child(9)", (tds) => tds.map((t) => t.textContent));
  result.filtered_passed = await page.$$eval("#rows tbody tr td.passed", (tds) => tds.map((t) => t.textContent));
  result.list_has_xss_row = await page.locator(`a.open:text-is("${xssId}")`).count();
  result.list_img_count = await page.locator("#rows img").count();
  await page.screenshot({ path: path.join(shots, "02-filtered.png"), fullPage: false });

  // open the hostile trace from the list
  await Promise.all([page.waitForURL(/\/trace\?/), page.click(`a.open:text-is("${xssId}")`)]);
  await page.waitForSelector("#decisions tbody tr");
  result.output_text = await page.textContent("#output");
  result.input_text = await page.textContent("#input");
  result.context_text = await page.textContent("#context");
  result.injected = await page.evaluate(() => ({
    scripts: document.querySelectorAll("script").length,
    imgs: document.querySelectorAll("img").length,
    js_links: Array.from(document.querySelectorAll("a")).filter((a) => a.href.startsWith("javascript:")).length,
    xss_flag: window.__xss === 1,
  }));
  await page.screenshot({ path: path.join(shots, "03-trace.png"), fullPage: true });

  // label it (keyboard: d = disagree), with a note, then Ctrl+Enter
  await page.selectOption("#label-scorer", "refusal");
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("d");
  await page.fill("#label-note", "browser: <b>not</b> a refusal");
  await page.evaluate(() => document.activeElement.blur());
  await Promise.all([
    page.waitForURL((u) => !u.toString().includes(xssId), { timeout: 15000 }).catch(() => {}),
    page.click("#label-submit"),
  ]);
  await page.waitForLoadState("load");
  result.after_label_status = await page.textContent("#status");
  result.after_label_url = page.url();
  await page.screenshot({ path: path.join(shots, "04-after-label.png"), fullPage: false });

  // calibration and trends pages render (charts as inline SVG)
  await page.goto(base + "/calibration?scorer=refusal");
  await page.waitForSelector("#calibration section, #status:not(:empty)");
  result.calibration_text = await page.textContent("#calibration");
  await page.screenshot({ path: path.join(shots, "05-calibration.png"), fullPage: true });
  // the calibration queue: a random trace, labelled with source "calibration", then the next one
  await page.click("button.queue-start[data-scorer=refusal]");
  await page.waitForURL(/queue=calibration/);
  await page.waitForSelector("#decisions tbody tr");
  result.queue_url = page.url();
  result.queue_banner = await page.textContent("#queue-banner");
  result.queue_banner_visible = await page.isVisible("#queue-banner");
  await page.screenshot({ path: path.join(shots, "09-queue-trace.png"), fullPage: false });
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("a");
  await Promise.all([
    page.waitForURL((u) => u.toString() !== result.queue_url, { timeout: 15000 }).catch(() => {}),
    page.click("#label-submit"),
  ]);
  await page.waitForLoadState("load");
  result.after_queue_label_url = page.url();
  await page.goto(base + "/calibration?scorer=refusal");
  await page.waitForSelector("#calibration section.version");
  result.calibration_after_queue = await page.textContent("#calibration");
  await page.screenshot({ path: path.join(shots, "10-calibration-after-queue.png"), fullPage: true });

  await page.goto(base + "/trends?scorer=refusal");
  await page.waitForSelector("#charts svg polyline.ma");
  result.trend_charts = await page.locator("#charts svg").count();
  await page.screenshot({ path: path.join(shots, "06-trends.png"), fullPage: true });

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
  await page.screenshot({ path: path.join(shots, "11-trend-one-day.png"), fullPage: true });
  result.final_dialogs = result.dialogs.length;
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
