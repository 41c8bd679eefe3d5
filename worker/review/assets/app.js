// assay review: the pages' only script. Trace content is untrusted: it is put
// into the DOM with textContent (never innerHTML), and links are never built
// from it. The server's Content-Security-Policy forbids inline script.
"use strict";

// Behind a proxy (--public-url https://host/prefix) every path is under the
// prefix: this script is served at BASE + "/static/app.js".
const BASE = new URL(document.currentScript.src).pathname.replace(/\/static\/app\.js$/, "");

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function status(text, cls) {
  const s = document.getElementById("status");
  if (s) {
    s.textContent = text;
    s.className = cls || "";
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return "";
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.method === "POST") {
    opts.headers["Content-Type"] = "application/json";
    opts.headers["X-CSRF-Token"] = cookie("assay_csrf");
  }
  const res = await fetch(path, opts);
  if (res.status === 401) {
    window.location.assign(BASE + "/login");
    throw new Error("authentication required");
  }
  const type = res.headers.get("Content-Type") || "";
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    if (type.startsWith("application/json")) msg = (await res.json()).error || msg;
    throw new Error(msg);
  }
  return type.startsWith("application/json") ? res.json() : res.text();
}

function fmtNum(v, digits) {
  if (v === null || v === undefined) return "–";
  return Number(v).toFixed(digits === undefined ? 3 : digits);
}

function fmtBool(v) {
  return v === null || v === undefined ? "–" : v ? "pass" : "FAIL";
}

// The reviewer's name, remembered in localStorage.
function setupReviewer() {
  const input = document.getElementById("reviewer");
  if (!input) return;
  input.value = localStorage.getItem("assay.reviewer") || "";
  input.addEventListener("change", () => localStorage.setItem("assay.reviewer", input.value.trim()));
}

function reviewer() {
  const input = document.getElementById("reviewer");
  const name = (input ? input.value : localStorage.getItem("assay.reviewer") || "").trim();
  if (name) localStorage.setItem("assay.reviewer", name);
  return name;
}

// One option per scorer (its newest version, listed first by the API). With
// no choice in the URL, the first scorer that has scores is selected: a judge
// whose traces all wait for it would open an empty list.
async function fillScorers(select, selected, withAll) {
  const list = await api(BASE + "/api/scorers");
  const latest = new Map();
  for (const s of list) {
    if (latest.has(s.scorer)) continue;
    latest.set(s.scorer, s);
    const text = s.scorer + " (" + s.type + ")" + (s.scored ? "" :
      s.pending ? " · none scored, " + s.pending + " pending" : " · none scored");
    select.appendChild(el("option", { value: s.scorer, text: text }));
  }
  if (selected && latest.has(selected)) select.value = selected;
  else if (!withAll && select.options.length) {
    const first = Array.from(latest.values()).find((s) => s.scored);
    select.value = first ? first.scorer : select.options[0].value;
  }
  return latest;
}

const FILTER_KEYS = ["scorer", "scorer_version", "feature", "tenant", "prompt_version", "model", "since", "until",
  "passed", "labelled", "sort", "limit"];

function filterParams(from) {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = from.get(k);
    if (v) p.set(k, v);
  }
  return p;
}

// The calibration queue: a random unlabelled trace of the verdict with the
// fewest queue labels so far; its label is stored with source "calibration".
// Resolves to the workspace's URL parameters of that trace, or null (with a
// status line) when the queue is empty.
async function queuedTrace(scorer, version) {
  const p = new URLSearchParams({ scorer: scorer, n: "1" });
  if (version) p.set("scorer_version", version);
  const q = await api(BASE + "/api/calibration/queue?" + p.toString());
  if (!q.traces.length) {
    status("The calibration queue of " + scorer + " " + q.scorer_version + " is empty: every scored trace is labelled.", "ok");
    return null;
  }
  return new URLSearchParams({ scorer: scorer, scorer_version: q.scorer_version, queue: "calibration",
    id: q.traces[0].trace_id });
}

// Opens the next calibration-queue trace in the workspace (from another page).
async function nextQueued(scorer, version) {
  const t = await queuedTrace(scorer, version);
  if (t) window.location.assign(BASE + "/?" + t.toString());
}

async function download(body) {
  const res = await fetch(BASE + "/api/export", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": cookie("assay_csrf") },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const j = await res.json().catch(() => ({}));
    throw new Error(j.error || res.statusText);
  }
  const text = await res.text();
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  const a = el("a", { href: url, download: "cases.jsonl" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  const n = text.split("\n").filter((l) => l).length;
  status("Exported " + n + " cases to cases.jsonl", "ok");
}

// ---- calibration page ----------------------------------------------------------
function matrixView(title, k) {
  const head = k.kappa === null
    ? title + ": kappa not defined (" + k.kappa_not_defined + ") over " + k.pairs + " labels (observed agreement " +
      fmtNum(k.observed_agreement) + ")"
    : title + ": kappa " + fmtNum(k.kappa) + " over " + k.pairs + " labels (observed agreement " +
      fmtNum(k.observed_agreement) + ", by chance " + fmtNum(k.chance_agreement) + ")";
  const box = el("div", {}, el("h3", { text: head }));
  const hrow = el("tr", {}, el("th", { text: "scorer \\ human" }));
  for (const c of k.confusion.categories) hrow.appendChild(el("th", { text: c }));
  const table = el("table", { class: "confusion" }, el("thead", {}, hrow));
  const body = el("tbody");
  k.confusion.categories.forEach((c, i) => {
    const tr = el("tr", {}, el("th", { text: c }));
    for (const n of k.confusion.counts[i]) tr.appendChild(el("td", { text: String(n) }));
    body.appendChild(tr);
  });
  table.appendChild(body);
  box.appendChild(table);
  return box;
}

function fmtCi(ci) {
  return ci ? " (95% CI " + fmtNum(ci[0]) + "–" + fmtNum(ci[1]) + ")" : "";
}

// Per verdict of the scorer: how often the reviewers agreed, with a Wilson interval.
function verdictTable(v) {
  const table = el("table", { class: "verdicts" }, el("thead", {}, el("tr", {},
    el("th", { text: "scorer said" }), el("th", { text: "scored traces" }), el("th", { text: "labels" }),
    el("th", { text: "reviewers agreed" }), el("th", { text: "from the queue" }), el("th", { text: "what it measures" }))));
  const body = el("tbody");
  for (const b of v.by_verdict) {
    body.appendChild(el("tr", {},
      el("td", { text: b.verdict }),
      el("td", { text: b.scored + " (" + Math.round(b.share * 100) + "%)" }),
      el("td", { text: String(b.labels) }),
      el("td", { text: b.labels ? b.agree + " of " + b.labels + " = " + fmtNum(b.rate) + fmtCi(b.ci95) : "n/a" }),
      el("td", { text: b.queue.labels ? b.queue.agree + " of " + b.queue.labels : "none" }),
      el("td", { text: b.verdict === "fail" ? "precision of the failures it flags" : "" })));
  }
  table.appendChild(body);
  return table;
}

// The queue's entry points: one button per scorer with scores (its newest version).
function queueView(scorers) {
  const box = el("section", { id: "queue" }, el("h2", { text: "Calibration queue" }),
    el("p", { class: "help", text: "Labels of the bottom list are all failures: they measure the precision of the " +
      "failures a scorer flags, not how often it is right. The queue picks unlabelled traces at random, alternating " +
      "between the scorer's verdicts (pass, fail), so that agreement and kappa can be measured." }));
  const list = el("div", { class: "toolbar" });
  for (const s of scorers.values()) {
    if (!s.scored) continue;
    const b = el("button", { type: "button", class: "queue-start", "data-scorer": s.scorer,
      text: "Label random traces of " + s.scorer });
    b.addEventListener("click", () => nextQueued(s.scorer, s.version).catch((e) => status(e.message, "error")));
    list.appendChild(b);
  }
  box.appendChild(list);
  return box;
}

async function calibrationPage() {
  const params = new URLSearchParams(window.location.search);
  const select = document.getElementById("cal-scorer");
  const scorers = await fillScorers(select, params.get("scorer"), true);
  if (params.get("min_kappa")) document.getElementById("cal-kappa").value = params.get("min_kappa");
  document.getElementById("cal-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    if (select.value) q.set("scorer", select.value);
    q.set("min_kappa", document.getElementById("cal-kappa").value);
    window.location.assign(BASE + "/calibration?" + q.toString());
  });
  const out = document.getElementById("calibration");
  out.appendChild(queueView(select.value ? new Map([[select.value, scorers.get(select.value)]]) : scorers));
  const q = new URLSearchParams();
  if (select.value) q.set("scorer", select.value);
  q.set("min_kappa", document.getElementById("cal-kappa").value);
  let data;
  try {
    data = await api(BASE + "/api/calibration?" + q.toString());
  } catch (e) {
    status(e.message, "error");
    return;
  }
  if (!data.versions.length) status("No labels yet: label traces from the calibration queue or the list page.");
  for (const v of data.versions) {
    const box = el("section", { class: "version" },
      el("h2", { text: v.scorer + " " + v.scorer_version + ": " + v.labels + " labels (" + v.queue_labels +
        " from the calibration queue)" }));
    for (const w of v.warnings) box.appendChild(el("p", { class: "warn", text: "⚠ " + w }));
    if (!v.warnings.length) box.appendChild(el("p", { class: "ok", text: "Agreement is above the bar." }));
    const a = v.agreement;
    box.appendChild(el("p", { class: "agreement", text: a.value === null
      ? "Agreement: not measured: " + a.not_measured
      : "Agreement: " + fmtNum(a.value) + fmtCi(a.ci95) + " from " + a.labels + " calibration-queue labels, each " +
        "verdict weighted by its share of the scored traces" }));
    if (v.by_verdict.length) box.appendChild(verdictTable(v));
    if (v.pass_fail) box.appendChild(matrixView("Pass/fail", v.pass_fail));
    if (v.choice) box.appendChild(matrixView("Choice", v.choice));
    box.appendChild(el("p", { text: "Numeric: Spearman " + fmtNum(v.numeric.spearman) + ", mean absolute error " +
      fmtNum(v.numeric.mae) + " over " + v.numeric.pairs + " labels" }));
    out.appendChild(box);
  }
}

// ---- trends page ----------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function chart(series) {
  const W = 720, H = 200, L = 48, R = 12, T = 12, B = 28;
  const pts = series.points;
  const vals = pts.map((p) => p.value).concat(pts.map((p) => p.ma7));
  let lo = series.metric === "pass_rate" ? 0 : Math.min(...vals);
  let hi = series.metric === "pass_rate" ? 1 : Math.max(...vals);
  if (hi === lo) { hi += 1; lo -= 1; }
  const day = (s) => Date.parse(s + "T00:00:00Z") / 86400000;
  const d0 = day(pts[0].day), d1 = day(pts[pts.length - 1].day);
  // One day: its point in the middle (a line needs two points: each day is also a dot).
  const x = (p) => d1 === d0 ? (L + W - R) / 2 : L + ((day(p.day) - d0) / (d1 - d0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const s = svg("svg", { class: "chart", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
  const title = svg("title");
  title.textContent = series.feature + ": daily " + series.metric + " and 7-day moving average";
  s.appendChild(title);
  s.appendChild(svg("line", { class: "axis", x1: L, y1: y(lo), x2: W - R, y2: y(lo) }));
  s.appendChild(svg("line", { class: "axis", x1: L, y1: y(hi), x2: W - R, y2: y(hi) }));
  for (const [v, yy] of [[hi, y(hi)], [lo, y(lo)]]) {
    const t = svg("text", { x: 4, y: yy + 4 });
    t.textContent = fmtNum(v, 2);
    s.appendChild(t);
  }
  // Date labels: the first day at the left end, the last at the right end;
  // one label, centred, when the series has one day (two would overlap).
  const labels = d1 === d0 ? [[pts[0], "middle"]] : [[pts[0], "start"], [pts[pts.length - 1], "end"]];
  for (const [p, anchor] of labels) {
    const t = svg("text", { class: "day", x: x(p), y: H - 8, "text-anchor": anchor });
    t.textContent = p.day;
    s.appendChild(t);
  }
  s.appendChild(svg("polyline", { class: "daily", points: pts.map((p) => x(p) + "," + y(p.value)).join(" ") }));
  s.appendChild(svg("polyline", { class: "ma", points: pts.map((p) => x(p) + "," + y(p.ma7)).join(" ") }));
  for (const p of pts) {
    const dot = svg("circle", { class: "dot", cx: x(p), cy: y(p.value), r: 3 });
    const tip = svg("title");
    tip.textContent = p.day + ": " + fmtNum(p.value) + " (n=" + p.n + ")";
    dot.appendChild(tip);
    s.appendChild(dot);
  }
  return s;
}

async function trendsPage() {
  const params = new URLSearchParams(window.location.search);
  const select = document.getElementById("trend-scorer");
  await fillScorers(select, params.get("scorer"), false);
  if (params.get("days")) document.getElementById("trend-days").value = params.get("days");
  document.getElementById("trend-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ scorer: select.value, days: document.getElementById("trend-days").value });
    window.location.assign(BASE + "/trends?" + q.toString());
  });
  if (!select.value) {
    status("No scorer has written to this store yet.");
    return;
  }
  let data;
  try {
    data = await api(BASE + "/api/trends?" + new URLSearchParams({ scorer: select.value,
      days: document.getElementById("trend-days").value }).toString());
  } catch (e) {
    status(e.message, "error");
    return;
  }
  const out = document.getElementById("charts");
  if (!data.series.length) status("No scored traces in this period.");
  for (const s of data.series) {
    const last = s.points[s.points.length - 1];
    out.appendChild(el("h2", { text: (s.feature || "(no feature)") + " · " + s.metric + " · last day " +
      fmtNum(last.value) + ", 7-day average " + fmtNum(last.ma7) }));
    out.appendChild(chart(s));
  }
}

function loginPage() {
  if (new URLSearchParams(window.location.search).get("failed")) status("Wrong token.", "error");
}

// Each page's entry point, by the body's data-page; scripts loaded after this
// one add theirs (workspace.js: "list").
const PAGES = {};

// "Log out" ends the session on the server (a CSRF-checked POST), then shows the login form.
function setupLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    await fetch(BASE + "/logout", { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": cookie("assay_csrf") } });
    window.location.assign(BASE + "/login");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupReviewer();
  setupLogout();
  const page = document.body.dataset.page;
  const run = Object.assign({ calibration: calibrationPage, trends: trendsPage, login: loginPage }, PAGES)[page];
  if (run) Promise.resolve(run()).catch((e) => status(e.message, "error"));
});
