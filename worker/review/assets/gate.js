// assay review: the gate-report page (/gate), filled from GET /api/gate (the
// JSON report `assay review --gate-report R.json` loaded, and the dataset's
// cases when it could be read). The verdict and every rule with its test and
// p-value; each regressed case with the baseline and candidate outputs side
// by side (whole, as the report carries them for regressed cases), the words
// that differ marked, the checks that changed and the
// scorers' (judges') explanations on both sides. Reviewers mark each
// regression real or noise, with a note (kept in the store, shared by every
// reviewer of the run: /api/gate/marks) and download the real ones as dataset
// cases (/api/gate/export). Report content is text only.
"use strict";

// ---- word-level diff -------------------------------------------------------------
// Words and the spaces between them; the longest common subsequence of the
// words decides what is kept (the words both sides start and end with are kept
// without comparing, so a long output changed in one place diffs cheaply).
// Returns [{text, op: "same"|"del"|"add"}] for each side, or null when the
// differing middles are too long to compare cheaply.
function wordDiff(a, b) {
  const split = (s) => String(s || "").split(/(\s+)/).filter((w) => w !== "");
  const x = split(a), y = split(b);
  let head = 0, tail = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  while (tail < x.length - head && tail < y.length - head &&
    x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const n = x.length - tail, m = y.length - tail;
  if ((n - head) * (m - head) > 4000000) return null;
  // lcs[i - head][j - head]: the common words of x[i..n) and y[j..m)
  const rows = Array.from({ length: n - head + 1 }, () => new Uint16Array(m - head + 1));
  const lcs = (i, j) => rows[i - head][j - head];
  for (let i = n - 1; i >= head; i--) {
    for (let j = m - 1; j >= head; j--) {
      rows[i - head][j - head] = x[i] === y[j] ? lcs(i + 1, j + 1) + 1 : Math.max(lcs(i + 1, j), lcs(i, j + 1));
    }
  }
  const left = [], right = [];
  for (let k = 0; k < head; k++) {
    left.push({ text: x[k], op: "same" });
    right.push({ text: y[k], op: "same" });
  }
  let i = head, j = head;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      left.push({ text: x[i], op: "same" });
      right.push({ text: y[j], op: "same" });
      i++;
      j++;
    } else if (lcs(i + 1, j) >= lcs(i, j + 1)) {
      left.push({ text: x[i++], op: "del" });
    } else {
      right.push({ text: y[j++], op: "add" });
    }
  }
  while (i < n) left.push({ text: x[i++], op: "del" });
  while (j < m) right.push({ text: y[j++], op: "add" });
  for (let k = tail; k > 0; k--) {
    left.push({ text: x[x.length - k], op: "same" });
    right.push({ text: y[y.length - k], op: "same" });
  }
  return { left: left, right: right };
}

// A <pre> of diff parts: removed words in <del>, added ones in <ins> (whitespace-only changes unmarked).
function diffView(parts, cls) {
  const pre = el("pre", { class: "diff " + cls });
  for (const p of parts) {
    if (p.op === "same" || !p.text.trim()) pre.appendChild(document.createTextNode(p.text));
    else pre.appendChild(el(p.op === "del" ? "del" : "ins", { text: p.text }));
  }
  return pre;
}

// One side's output: {text, note} — the whole output the report carries for a
// regressed case, else its 300-byte excerpt; the note says when it is not whole.
function sideOutput(c, fallback) {
  if (c && typeof c.output === "string") {
    return { text: c.output, note: c.output_truncated ? "cut at the report's 64 KiB limit" : "" };
  }
  return { text: c ? c.output_excerpt : fallback, note: "excerpt: the report holds only the first 300 bytes" };
}

function outputsView(base, cand) {
  const d = wordDiff(base.text, cand.text);
  const left = d ? diffView(d.left, "baseline") : el("pre", { class: "diff baseline", text: base.text });
  const right = d ? diffView(d.right, "candidate") : el("pre", { class: "diff candidate", text: cand.text });
  const head = (label, o) => el("h4", {}, label, o.note ? el("span", { class: "output-note", text: " (" + o.note + ")" }) : null);
  return el("div", { class: "side-by-side" },
    el("div", {}, head("Baseline output", base), left),
    el("div", {}, head("Candidate output", cand), right));
}

// ---- one regressed case ------------------------------------------------------------
function byId(side) {
  const m = new Map();
  for (const c of (side && side.cases) || []) m.set(c.id, c);
  return m;
}

function checksChanged(b, c) {
  const before = new Map(((b && b.checks) || []).map((k) => [k.check, k]));
  const out = [];
  for (const k of (c && c.checks) || []) {
    const old = before.get(k.check);
    if (!old || old.passed !== k.passed) out.push({ check: k.check, baseline: old, candidate: k });
    before.delete(k.check);
  }
  for (const old of before.values()) out.push({ check: old.check, baseline: old, candidate: null });
  return out;
}

function passText(k) {
  return !k ? "not run" : k.passed ? "pass" : "FAIL";
}

function caseView(id, changes, sides, judges, mark) {
  const b = sides.baseline.get(id), c = sides.candidate.get(id);
  const box = el("article", { class: "case", id: "case-" + id.replace(/[^A-Za-z0-9_-]/g, "_"), "data-case": id });
  const group = "verdict-" + box.id;
  const real = el("input", { type: "radio", name: group, value: "real" });
  const noise = el("input", { type: "radio", name: group, value: "noise" });
  const choice = el("fieldset", { class: "case-label" }, el("legend", { text: "This regression is" }),
    el("label", {}, real, " real"), el("label", {}, noise, " noise"));
  const note = el("input", { type: "text", class: "mark-note", maxlength: "2000", "aria-label": "Note on " + id,
    placeholder: "note (optional)" });
  const who = el("span", { class: "mark-who help" });
  const show = () => {
    const m = mark.get(id);
    real.checked = !!m && m.mark === "real";
    noise.checked = !!m && m.mark === "noise";
    if (m && document.activeElement !== note) note.value = m.note || "";
    who.textContent = m ? m.mark + " · " + m.reviewer + " · " + m.at : "";
  };
  show();
  mark.onChange(show);
  for (const r of [real, noise]) r.addEventListener("change", () => mark.set(id, r.value, note.value));
  note.addEventListener("change", () => {
    const m = mark.get(id);
    if (m) mark.set(id, m.mark, note.value);
  });
  choice.appendChild(note);
  choice.appendChild(who);
  box.appendChild(el("header", { class: "case-head" }, el("h3", { text: id }), choice));
  const list = el("ul", { class: "changes" });
  for (const ch of changes) {
    list.appendChild(el("li", {}, el("strong", { text: ch.scorer + (ch.check ? " · " + ch.check : "") }),
      " " + ch.baseline + " → " + ch.candidate + (ch.explanation ? ": " : ""),
      ch.explanation ? el("span", { class: "facts", text: ch.explanation }) : null));
  }
  box.appendChild(list);
  box.appendChild(outputsView(sideOutput(b, changes[0].baseline_excerpt),
    sideOutput(c, changes[0].candidate_excerpt)));
  const checks = checksChanged(b, c);
  if (checks.length) {
    const t = el("table", { class: "checks" }, el("caption", { text: "Checks that changed" }),
      el("thead", {}, el("tr", {}, el("th", { text: "Check" }), el("th", { text: "Baseline" }),
        el("th", { text: "Candidate" }))));
    const tb = el("tbody");
    for (const k of checks) {
      tb.appendChild(el("tr", {}, el("td", { text: k.check }),
        el("td", { text: passText(k.baseline) + (k.baseline ? ": " + k.baseline.explanation : "") }),
        el("td", { class: k.candidate && !k.candidate.passed ? "fail" : "",
          text: passText(k.candidate) + (k.candidate ? ": " + k.candidate.explanation : "") })));
    }
    t.appendChild(tb);
    box.appendChild(t);
  }
  // the scorers' explanations on both sides: the regressed ones, and every judge's reasoning
  const names = new Set(changes.map((ch) => ch.scorer).filter((s) => b && b.scorers && b.scorers[s]));
  for (const s of judges) names.add(s);
  for (const s of names) {
    const bs = b && b.scorers ? b.scorers[s] : null, cs = c && c.scorers ? c.scorers[s] : null;
    if (!bs && !cs) continue;
    const side = (o, label) => el("div", {}, el("h4", { text: label + ": " + (o ? fmtNum(o.value, 3) + " " +
      fmtBool(o.passed) + (o.label ? " · " + o.label : "") : "not scored") }),
      el("pre", { text: o ? o.explanation || o.decision : "–" }));
    box.appendChild(el("div", { class: "reasoning" },
      el("h4", { class: "reasoning-head", text: (judges.has(s) ? "Judge " : "Scorer ") + s }),
      el("div", { class: "side-by-side" }, side(bs, "Baseline"), side(cs, "Candidate"))));
  }
  return box;
}

// ---- the page ----------------------------------------------------------------------
function rulesRows(report) {
  const rows = [];
  const v = report.verdict;
  if (v.count_rule) rows.push(["all scorers", v.count_rule]);
  for (const s of report.summary) for (const r of s.rules) rows.push([s.scorer, r]);
  return rows;
}

// Real/noise marks of this gate run's cases, kept in the store through
// /api/gate/marks and so shared by every reviewer: {mark, note, reviewer, at} by case.
async function marks() {
  const m = new Map(Object.entries((await api(BASE + "/api/gate/marks")).marks));
  const listeners = [];
  const changed = () => { for (const f of listeners) f(); };
  return {
    get: (id) => m.get(id),
    set: async (id, v, note) => {
      const name = reviewer();
      if (!name) {
        status("Enter your name (Reviewer, top right) before marking a regression", "warn");
        document.getElementById("reviewer").focus();
        changed();
        return;
      }
      try {
        const saved = await api(BASE + "/api/gate/marks", { method: "POST",
          body: JSON.stringify({ case_id: id, mark: v, note: note || "", reviewer: name }) });
        m.set(id, saved);
        status("Marked " + id + " " + v, "ok");
      } catch (e) {
        status("Mark not saved: " + e.message, "warn");
      }
      changed();
    },
    onChange: (f) => listeners.push(f),
  };
}

async function gatePage() {
  let data;
  try {
    data = await api(BASE + "/api/gate");
  } catch (e) {
    status(e.message, "warn");
    return;
  }
  const r = data.report;
  const v = r.verdict;
  const res = document.getElementById("gate-result");
  res.className = "badge big " + (v.result === "pass" ? "pass" : "fail");
  res.textContent = v.result.toUpperCase() + " (exit " + v.exit_code + ")";
  const head = document.getElementById("gate-head");
  head.appendChild(el("p", { class: "facts", text: "dataset " + r.dataset.path + " (" + r.dataset.cases +
    " cases, sha256 " + r.dataset.sha256.slice(0, 12) + ") · generated " + r.generated_at + " · baseline " +
    r.sides.baseline.source + " · candidate " + r.sides.candidate.source }));
  head.appendChild(el("p", { text: v.regressed_cases + " regressed, " + v.improved_cases + " improved; sign test p = " +
    fmtNum(v.sign_test_p, 4) + "; judge errors " + v.judge_errors.baseline + " / " + v.judge_errors.candidate }));
  const reasons = el("ul", { class: "reasons" });
  for (const x of v.reasons) reasons.appendChild(el("li", { text: x }));
  if (!v.reasons.length) reasons.appendChild(el("li", { text: "No rule blocks." }));
  head.appendChild(reasons);

  const tbody = document.querySelector("#gate-rules tbody");
  for (const [scorer, c] of rulesRows(r)) {
    tbody.appendChild(el("tr", { class: c.blocks ? "failed" : "" }, el("td", { text: scorer }), el("td", { text: c.rule }),
      el("td", { text: c.test }), el("td", { text: c.measured }), el("td", { class: "num", text: fmtNum(c.p, 4) }),
      el("td", { text: c.decided_by }), el("td", { class: "passed", text: c.blocks ? "BLOCK" : "ok" })));
  }
  document.getElementById("gate-rules-box").hidden = false;

  const sides = { baseline: byId(r.sides.baseline), candidate: byId(r.sides.candidate) };
  const judges = new Set(r.scorers.filter((s) => s.judge || s.type === "judge").map((s) => s.name));
  const byCase = new Map();
  for (const ch of r.regressions) {
    if (!byCase.has(ch.case_id)) byCase.set(ch.case_id, []);
    byCase.get(ch.case_id).push(ch);
  }
  let mark;
  try {
    mark = await marks();
  } catch (e) {
    status("Marks unavailable: " + e.message, "warn");
    return;
  }
  const out = document.getElementById("gate-cases");
  for (const [id, changes] of byCase) out.appendChild(caseView(id, changes, sides, judges, mark));
  document.getElementById("gate-cases-box").hidden = false;
  if (!byCase.size) out.appendChild(el("p", { text: "No case regressed." }));

  const exportButton = document.getElementById("gate-export");
  const note = document.getElementById("gate-export-note");
  const tally = () => {
    let real = 0, noise = 0;
    for (const id of byCase.keys()) {
      const m = mark.get(id);
      if (m && m.mark === "real") real++;
      else if (m && m.mark === "noise") noise++;
    }
    document.getElementById("gate-tally").textContent = byCase.size + " regressed cases: " + real + " real, " +
      noise + " noise, " + (byCase.size - real - noise) + " to review";
    exportButton.disabled = !data.cases || real === 0;
  };
  mark.onChange(tally);
  tally();
  note.textContent = data.cases ? "Downloads real-regressions.jsonl: the dataset lines of the cases marked real, " +
    "in the format assay gate --dataset reads." : "Export unavailable: " + data.cases_note;
  // the real ones as the store has them now (every reviewer's marks)
  exportButton.addEventListener("click", async () => {
    let text;
    try {
      text = await api(BASE + "/api/gate/export");
    } catch (e) {
      status("Export failed: " + e.message, "warn");
      return;
    }
    const n = text.split("\n").filter((l) => l.trim()).length;
    const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    const a = el("a", { href: url, download: "real-regressions.jsonl" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status("Exported " + n + " cases to real-regressions.jsonl", "ok");
  });
}

PAGES.gate = gatePage;
