// Drives Debian's chromium (headless, through playwright-core) through the
// review server's login behind a path prefix: BASE is the public URL (a proxy
// that strips the prefix). Opens a page (-> login form), logs in, waits for
// the workspace's list to load through the API, selects a trace, logs out, and checks the
// session is gone. Prints one JSON line of findings for
// test_review_login_browser.py.
// Usage: node login.mjs BASE TOKEN SCREENSHOT_DIR
import { chromium } from "playwright-core";
import path from "node:path";

const [base, token, shots] = process.argv.slice(2);
const result = { console_errors: [], bad_responses: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => {
    // failed loads are in bad_responses, with their URL
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      result.console_errors.push(m.text());
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400) result.bad_responses.push(r.status() + " " + r.url());
  });
  page.on("pageerror", (e) => result.console_errors.push(String(e)));

  await page.goto(base + "/?scorer=refusal");
  result.first_url = page.url();
  await page.fill("input[name=token]", token);
  const underBase = (u) => u.href === base + "/" || u.href.startsWith(base + "/?");
  await Promise.all([page.waitForURL(underBase), page.click("button[type=submit]")]);
  await page.waitForSelector("#rows a.row");
  result.after_login_url = page.url();
  result.list_rows = await page.locator("#rows a.row").count();
  result.logout_visible = await page.isVisible("#logout");
  await page.screenshot({ path: path.join(shots, "20-login-list-under-prefix.png"), fullPage: false });

  // selecting a row opens its trace in the workspace (no page load); the URL keeps it
  const first = await page.$eval("#rows a.row", (a) => a.dataset.id);
  await page.click("#rows a.row >> nth=0");
  for (const end = Date.now() + 15000; Date.now() < end;) {
    if ((await page.evaluate(() => document.body.dataset.trace || "")) === first) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  result.trace_shown = await page.evaluate(() => document.body.dataset.trace || "");
  result.trace_first = first;
  result.trace_url = page.url();

  await Promise.all([page.waitForURL(base + "/login"), page.click("#logout")]);
  result.after_logout_url = page.url();
  await page.goto(base + "/");
  result.after_logout_goto_url = page.url();
  const api = await page.evaluate(async (b) => (await fetch(b + "/api/scorers")).status, base);
  result.after_logout_api_status = api;
  await page.screenshot({ path: path.join(shots, "21-logged-out.png"), fullPage: false });
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
