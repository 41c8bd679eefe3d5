// assay review: the workspace (/, and /trace?id=… for old links): the list of
// traces on the left, the selected trace in the middle (trace_view.js), the
// label panel on the right. Moving, labelling and filtering never reload the
// page: the state (filters, page, selected trace, calibration-queue mode) is
// kept in the URL with history.replaceState/pushState, so a reload or a
// shared link opens the same view. Trace content is text only.
"use strict";

const ws = {
  params: new URLSearchParams(), // filters + offset + id + queue, as in the URL
  scorer: "",
  version: "",
  rows: [], // {data, item, link}
  current: -1,
  traceId: "",
  loadSeq: 0,
};

function queueMode() {
  return ws.params.get("queue") === "calibration";
}

// The URL of the current state; `push` adds a history entry (filters, pages),
// otherwise the entry is replaced (moving through the list).
function saveState(push) {
  const url = BASE + "/?" + ws.params.toString();
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

function rowView(r) {
  const why = r.explanation_excerpt || "";
  const io = "in: " + (r.input_excerpt || "–") + "  →  out: " + (r.output_excerpt || "–");
  const meta = [r.feature, r.tenant].filter((x) => x).join(" / ") || "–";
  const verdict = r.passed === null ? "–" : r.passed ? "pass" : "FAIL";
  const q = new URLSearchParams(ws.params);
  q.set("id", r.trace_id);
  const link = el("a", { class: "row", href: BASE + "/?" + q.toString(), "data-id": r.trace_id },
    el("span", { class: "l1" },
      el("span", { class: "score num", text: fmtNum(r.value, 2) }),
      el("span", { class: "badge " + (r.passed === false ? "fail" : r.passed ? "pass" : ""), text: verdict }),
      r.label ? el("span", { class: "chip", text: r.label }) : null,
      el("span", { class: "tid", text: r.trace_id }),
      el("span", { class: "meta", text: meta, title: [r.feature, r.tenant, r.prompt_version, r.model]
        .filter((x) => x).join(" / ") }),
      el("span", { class: "nlabels" + (r.labels ? " has" : ""), text: "✎ " + r.labels,
        title: r.labels + " label(s)" })),
    el("span", { class: "l2 excerpt why", text: why || "–", title: why }),
    el("span", { class: "l3 excerpt io", text: io, title: io }));
  const pick = el("input", { type: "checkbox", class: "pick", "data-id": r.trace_id,
    "aria-label": "tick " + r.trace_id + " for export" });
  const item = el("li", { class: r.passed === false ? "failed" : "" }, pick, link);
  return { data: r, item: item, link: link };
}

async function loadList() {
  const p = filterParams(ws.params);
  p.set("scorer", ws.scorer);
  const offset = parseInt(ws.params.get("offset") || "0", 10) || 0;
  p.set("offset", String(offset));
  const list = document.getElementById("rows");
  clear(list);
  ws.rows = [];
  ws.current = -1;
  const data = await api(BASE + "/api/bottom?" + p.toString());
  ws.version = data.scorer_version;
  const pages = Math.max(1, Math.ceil(data.total / data.limit));
  document.getElementById("pageinfo").textContent = "page " + (Math.floor(offset / data.limit) + 1) + " of " + pages;
  document.getElementById("prev").disabled = offset <= 0;
  document.getElementById("next").disabled = offset + data.limit >= data.total;
  const info = ws.scorers.get(ws.scorer);
  if (data.total === 0 && info && info.why_none) status(info.why_none, "warn");
  else status(data.total + " traces scored by " + data.scorer + " " + data.scorer_version + " match");
  for (const r of data.rows) {
    const row = rowView(r);
    const index = ws.rows.length;
    row.link.addEventListener("click", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return; // a new tab keeps the link
      ev.preventDefault();
      select(index);
    });
    list.appendChild(row.item);
    ws.rows.push(row);
  }
  return data;
}

function highlight(index) {
  if (ws.current >= 0 && ws.rows[ws.current]) {
    ws.rows[ws.current].item.classList.remove("current");
    ws.rows[ws.current].link.removeAttribute("aria-current");
  }
  ws.current = index;
  if (index < 0) return;
  const row = ws.rows[index];
  row.item.classList.add("current");
  row.link.setAttribute("aria-current", "true");
  row.item.scrollIntoView({ block: "nearest" });
}

// Selects row `index` (clamped) and shows its trace.
function select(index, focus) {
  if (!ws.rows.length) return Promise.resolve();
  index = Math.max(0, Math.min(ws.rows.length - 1, index));
  highlight(index);
  if (focus !== false) ws.rows[index].link.focus({ preventScroll: true });
  return openTrace(ws.rows[index].data.trace_id);
}

async function openTrace(id) {
  const seq = ++ws.loadSeq;
  ws.traceId = id;
  ws.params.set("id", id);
  saveState(false);
  const i = ws.rows.findIndex((r) => r.data.trace_id === id);
  if (i !== ws.current) highlight(i);
  let t;
  try {
    t = await api(BASE + "/api/trace?id=" + encodeURIComponent(id));
  } catch (e) {
    status(e.message, "error");
    return;
  }
  if (seq !== ws.loadSeq) return; // a later selection won
  document.getElementById("empty-detail").hidden = true;
  document.getElementById("trace-view").hidden = false;
  const scored = renderTrace(t);
  document.getElementById("detail").scrollTop = 0;
  labelPanel(scored);
  document.body.dataset.trace = id; // for tests and scripts: the trace on screen
}

function labelPanel(scored) {
  const select = document.getElementById("label-scorer");
  clear(select);
  for (const d of scored) {
    select.appendChild(el("option", { value: d.scorer, "data-version": d.scorer_version,
      text: d.scorer + " " + d.scorer_version + ": " + fmtNum(d.value) + " " + fmtBool(d.passed) }));
  }
  if (scored.some((d) => d.scorer === ws.scorer)) select.value = ws.scorer;
  for (const r of document.querySelectorAll("#label-form input[name=verdict]")) r.checked = false;
  document.getElementById("label-score").value = "";
  document.getElementById("label-note").value = "";
  const banner = document.getElementById("queue-banner");
  banner.hidden = !queueMode();
  if (queueMode()) {
    const d = scored.find((x) => x.scorer === select.value);
    banner.textContent = "Calibration queue: a trace picked at random among those " + select.value +
      " scored " + (d ? fmtBool(d.passed) : "") + " (the queue alternates between the scorer's verdicts). " +
      "Judge the output yourself; after saving, the next random trace opens (n skips).";
  }
  document.getElementById("next-unlabelled").textContent = "";
  document.getElementById("next-unlabelled").append(queueMode() ? "Next in the queue " : "Next unlabelled ",
    el("kbd", { text: "n" }));
}

// The next trace to review: in queue mode the queue's next; otherwise the
// next unlabelled row of this page after the selected one (wrapping), then
// the first unlabelled trace of these filters on any page.
async function nextTrace() {
  if (queueMode()) {
    const t = await queuedTrace(ws.scorer, ws.params.get("scorer_version"));
    if (t) await openTrace(t.get("id"));
    return;
  }
  const n = ws.rows.length;
  for (let k = 1; k <= n; k++) {
    const i = (Math.max(ws.current, 0) + k) % n;
    if (ws.rows[i].data.labels === 0 && ws.rows[i].data.trace_id !== ws.traceId) return select(i);
  }
  const p = filterParams(ws.params);
  p.set("scorer", ws.scorer);
  p.set("labelled", "false");
  p.set("limit", "2");
  const data = await api(BASE + "/api/bottom?" + p.toString());
  const row = data.rows.find((r) => r.trace_id !== ws.traceId);
  if (!row) {
    status("No unlabelled trace left for these filters.", "ok");
    return;
  }
  await openTrace(row.trace_id);
}

async function saveLabel() {
  const form = document.getElementById("label-form");
  const verdict = (form.querySelector("input[name=verdict]:checked") || {}).value;
  const name = reviewer();
  if (!name) {
    status("Enter your name in the Reviewer field first.", "error");
    document.getElementById("reviewer").focus();
    return;
  }
  if (!ws.traceId) {
    status("Select a trace first.", "error");
    return;
  }
  if (!verdict) {
    status("Choose agree (a), disagree (d) or your own score (s).", "error");
    return;
  }
  const opt = document.getElementById("label-scorer").selectedOptions[0];
  if (!opt) {
    status("No scored decision on this trace to label.", "error");
    return;
  }
  const body = { trace_id: ws.traceId, scorer: opt.value, scorer_version: opt.dataset.version, reviewer: name,
    verdict: verdict, note: document.getElementById("label-note").value,
    source: queueMode() ? "calibration" : "review" };
  if (verdict === "score") {
    const v = document.getElementById("label-score").value;
    if (v === "") {
      status("Enter your score.", "error");
      document.getElementById("label-score").focus();
      return;
    }
    body.score = Number(v);
  }
  const r = await api(BASE + "/api/labels", { method: "POST", body: JSON.stringify(body) });
  status("Label " + r.id + " saved (" + verdict + " on " + ws.traceId + ").", "ok");
  const row = ws.rows.find((x) => x.data.trace_id === body.trace_id);
  if (row) {
    row.data.labels += 1;
    const count = row.link.querySelector(".nlabels");
    count.textContent = "✎ " + row.data.labels;
    count.classList.add("has");
  }
  if (document.activeElement) document.activeElement.blur();
  refreshAgreement(opt.value, opt.dataset.version).catch(() => {});
  await nextTrace();
}

// The scorer version's agreement with the reviewers (GET /api/calibration),
// refreshed after every saved label.
async function refreshAgreement(scorer, version) {
  const out = document.getElementById("agreement");
  const data = await api(BASE + "/api/calibration?" + new URLSearchParams({ scorer: scorer }).toString());
  const v = data.versions.find((x) => x.scorer_version === version) || data.versions[0];
  document.getElementById("calibration-link").setAttribute("href", BASE + "/calibration?" +
    new URLSearchParams({ scorer: scorer }).toString());
  if (!v) {
    out.textContent = "No labels of " + scorer + " yet.";
    return;
  }
  const k = v.pass_fail || v.choice;
  const fail = v.by_verdict.find((b) => b.verdict === "fail");
  out.textContent = v.scorer + " " + v.scorer_version + ": " + v.labels + " labels (" + v.queue_labels +
    " from the queue). " + (v.agreement.value === null ? "Agreement not measured yet." :
    "Agreement " + fmtNum(v.agreement.value, 2) + fmtCi(v.agreement.ci95) + ".") +
    (fail && fail.labels ? " Failures confirmed: " + fail.agree + " of " + fail.labels + "." : "") +
    (k ? (k.kappa === null ? " Kappa not defined yet." : " Kappa " + fmtNum(k.kappa, 2) + ".") : "");
}

function pickVerdict(v) {
  document.querySelector("#label-form input[name=verdict][value=" + v + "]").checked = true;
}

function onKey(ev) {
  const fail = (e) => status(e.message, "error");
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    saveLabel().catch(fail);
    return;
  }
  if (ev.target.closest("input, select, textarea")) {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const moves = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };
  if (ev.key in moves) {
    ev.preventDefault();
    select(ws.current < 0 && moves[ev.key] > 0 ? 0 : ws.current + moves[ev.key]).catch(fail);
  } else if (ev.key === "a") pickVerdict("agree");
  else if (ev.key === "d") pickVerdict("disagree");
  else if (ev.key === "s") {
    ev.preventDefault();
    pickVerdict("score");
    document.getElementById("label-score").focus();
  } else if (ev.key === "e") {
    ev.preventDefault();
    document.getElementById("label-note").focus();
  } else if (ev.key === "n") nextTrace().catch(fail);
}

// Reads the state from the URL into the form and shows it (first load, back/forward).
async function showState() {
  ws.params = new URLSearchParams(window.location.search);
  const form = document.getElementById("filters");
  for (const k of FILTER_KEYS) {
    const def = { sort: "bottom", limit: "50" }[k] || "";
    if (form.elements[k] && k !== "scorer") form.elements[k].value = ws.params.get(k) || def;
  }
  const scorerSelect = document.getElementById("scorer");
  if (ws.params.get("scorer") && ws.scorers.has(ws.params.get("scorer"))) scorerSelect.value = ws.params.get("scorer");
  ws.scorer = scorerSelect.value;
  if (!ws.scorer) {
    status("No scorer has written to this store yet.");
    return;
  }
  await loadList();
  refreshAgreement(ws.scorer, ws.version).catch(() => {});
  const id = ws.params.get("id");
  if (id) await openTrace(id);
  else if (ws.rows.length) await select(0, false);
}

async function workspacePage() {
  // /trace?id=… (older links, `assay calibrate`) is the same page: keep its state under /.
  if (window.location.pathname !== BASE + "/") history.replaceState(null, "", BASE + "/" + window.location.search);
  ws.scorers = await fillScorers(document.getElementById("scorer"), new URLSearchParams(window.location.search)
    .get("scorer"), false);
  const form = document.getElementById("filters");
  const fail = (e) => status(e.message, "error");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const k of FILTER_KEYS) {
      if (form.elements[k] && form.elements[k].value) p.set(k, form.elements[k].value);
    }
    ws.params = p;
    ws.scorer = form.elements.scorer.value;
    saveState(true);
    loadList().then(() => (ws.rows.length ? select(0, false) : null)).catch(fail);
  });
  const page = (delta) => {
    const limit = parseInt(form.elements.limit.value, 10) || 50;
    const offset = Math.max(0, (parseInt(ws.params.get("offset") || "0", 10) || 0) + delta * limit);
    ws.params.set("offset", String(offset));
    ws.params.delete("id");
    saveState(true);
    loadList().then(() => select(0, false)).catch(fail);
  };
  document.getElementById("prev").addEventListener("click", () => page(-1));
  document.getElementById("next").addEventListener("click", () => page(1));
  document.getElementById("calibration-queue").addEventListener("click", () => {
    ws.params.set("queue", "calibration");
    ws.params.set("scorer", ws.scorer);
    nextTrace().catch(fail);
  });
  document.getElementById("export-selected").addEventListener("click", () => {
    const ids = Array.from(document.querySelectorAll("input.pick:checked")).map((c) => c.dataset.id);
    if (!ids.length) {
      status("Tick the traces to export first.", "error");
      return;
    }
    download({ scorer: ws.scorer, scorer_version: ws.version, trace_ids: ids }).catch(fail);
  });
  document.getElementById("export-bottom").addEventListener("click", () => {
    download({ scorer: ws.scorer, scorer_version: ws.version, trace_ids: ws.rows.map((r) => r.data.trace_id) })
      .catch(fail);
  });
  document.getElementById("label-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    saveLabel().catch(fail);
  });
  document.getElementById("next-unlabelled").addEventListener("click", () => nextTrace().catch(fail));
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", () => showState().catch(fail));
  await showState();
}

PAGES.list = workspacePage;
