// assay review: the selected trace in the workspace's middle pane (content,
// agent timeline, decisions, judge calls, usage, metadata, labels), filled
// from GET /api/trace. Trace content is untrusted: text only (el()/textContent).
"use strict";

function messagesView(container, part) {
  clear(container);
  if (part.messages && part.messages.length) {
    for (const m of part.messages) {
      container.appendChild(el("div", { class: "msg role-" + String(m.role).replace(/[^a-z_]/gi, "") },
        el("div", { class: "role", text: m.role }),
        el("pre", { text: m.content })));
    }
  } else {
    container.appendChild(el("pre", { text: part.pretty_json || part.text }));
  }
}

function kv(tbody, key, value) {
  tbody.appendChild(el("tr", {}, el("th", { scope: "row", text: key }),
    el("td", { text: value === null || value === undefined ? "–" : String(value) })));
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms >= 1000 ? fmtNum(ms / 1000, 2) + " s" : fmtNum(ms, 0) + " ms";
}

// One line of facts about a span: model, tokens, tool, agent.
function spanFacts(s) {
  const parts = [];
  if (s.model) parts.push(s.model);
  if (s.input_tokens !== undefined || s.output_tokens !== undefined) {
    parts.push((s.input_tokens ?? "?") + " in / " + (s.output_tokens ?? "?") + " out tokens" +
      (s.reasoning_tokens ? " (" + s.reasoning_tokens + " reasoning)" : ""));
  }
  if (s.tool) parts.push("tool " + s.tool);
  if (s.agent) parts.push("agent " + s.agent);
  return parts.join(" · ");
}

// A span's input or output as messagesView() takes it: a list of chat
// messages by role, else the text (JSON pretty-printed).
function spanContent(v) {
  const isMsg = (m) => m && typeof m === "object" && typeof m.role === "string";
  if (Array.isArray(v) && v.length && v.every(isMsg)) {
    return { messages: v.map((m) => ({ role: m.role, content: typeof m.content === "string" ? m.content
      : JSON.stringify(m.content !== undefined ? m.content : m.parts !== undefined ? m.parts : m, null, 2) })) };
  }
  if (typeof v === "string") {
    try {
      const j = JSON.parse(v);
      if (j && typeof j === "object") return { pretty_json: JSON.stringify(j, null, 2) };
    } catch (e) {
      // plain text
    }
    return { text: v };
  }
  return { pretty_json: JSON.stringify(v, null, 2) };
}

// The LLM, tool, retriever and agent spans of an OTLP trace (metadata.spans,
// written by the OTLP assembly in start order), each a row with its duration
// drawn to scale (offset by its start when the store has it), and its input
// and output in a <details> opened on demand.
function timelineView(t) {
  const box = document.getElementById("timeline-box");
  const list = document.getElementById("timeline");
  clear(list);
  const spans = t.metadata && Array.isArray(t.metadata.spans) ? t.metadata.spans : [];
  box.hidden = spans.length === 0;
  if (!spans.length) return;
  const end = Math.max(1, ...spans.map((s) => (Number(s.start_ms) || 0) + (Number(s.duration_ms) || 0)));
  for (const s of spans) {
    const kind = String(s.kind || "other").replace(/[^a-z_]/gi, "");
    const left = ((Number(s.start_ms) || 0) / end) * 100;
    const width = Math.max(0.5, ((Number(s.duration_ms) || 0) / end) * 100);
    const bar = el("span", { class: "bar kind-" + kind, "aria-hidden": "true" });
    bar.style.marginLeft = left.toFixed(2) + "%";
    bar.style.width = width.toFixed(2) + "%";
    const head = el("summary", {},
      el("span", { class: "kind kind-" + kind, text: kind }),
      el("span", { class: "span-name", text: s.name || "(unnamed)" }),
      el("span", { class: "dur", text: fmtMs(s.duration_ms) }),
      s.error ? el("span", { class: "badge fail", text: "error" }) : null);
    const body = el("div", { class: "span-body" });
    const facts = spanFacts(s);
    if (facts) body.appendChild(el("p", { class: "facts", text: facts }));
    if (s.error) body.appendChild(el("p", { class: "error", text: "Error: " + s.error }));
    for (const [label, key] of [["Input", "input"], ["Output", "output"]]) {
      if (s[key] === undefined || s[key] === null) continue;
      body.appendChild(el("h4", { text: label }));
      const box = el("div", { class: "span-" + key });
      messagesView(box, spanContent(s[key]));
      body.appendChild(box);
    }
    if (s.input === undefined && s.output === undefined) {
      body.appendChild(el("p", { class: "help", text: "No input or output was recorded on this span." }));
    }
    list.appendChild(el("li", { class: "span" + (s.error ? " failed" : "") },
      el("details", {}, head, el("div", { class: "track" }, bar), body)));
  }
  if (t.metadata.spans_omitted) {
    list.appendChild(el("li", { class: "help", text: t.metadata.spans_omitted + " more spans not kept" }));
  }
}

function judgementView(d, j) {
  return el("div", { class: "msg judge" },
    el("div", { class: "role", text: "judge " + j.judge + " · " + d.scorer }),
    el("div", { class: "facts", text: "model " + j.model + " · rubric " + j.rubric + " " + j.rubric_version +
      " (" + j.rubric_hash.slice(0, 12) + ") · score " + fmtNum(j.score) + " · passed " + fmtBool(j.passed) +
      (j.choice ? " · choice " + j.choice : "") + " · cost $" + fmtNum(j.cost_usd, 6) + " · " +
      j.input_tokens + "+" + j.output_tokens + " tokens · " + fmtNum(j.latency_ms, 0) + " ms · " +
      j.attempts + " attempt(s)" + (j.cached ? " · cached" : "") }),
    j.error_type ? el("div", { class: "error", text: j.error_type + ": " + j.error_message }) : null,
    el("pre", { text: j.reasoning }));
}

function labelText(l) {
  return l.at + " · " + l.reviewer + " · " + l.scorer + " " + l.scorer_version + " · " + l.verdict +
    (l.score !== null && l.score !== undefined ? " " + l.score : "") + (l.note ? " · " + l.note : "") +
    (l.source === "calibration" ? " · calibration queue" : "");
}

// Fills the middle pane with trace `t` (GET /api/trace). Returns its scored
// decisions, one per scorer (the newest version first, as the API lists them).
function renderTrace(t) {
  document.getElementById("trace-id").textContent = t.trace_id;
  for (const id of ["input", "output", "reference", "context", "metadata", "labels", "judgements"]) {
    clear(document.getElementById(id));
  }
  for (const sel of ["#decisions tbody", "#usage tbody"]) clear(document.querySelector(sel));
  if (t.parse_error) status("The stored trace no longer parses: " + t.parse_error, "error");
  if (t.input) {
    messagesView(document.getElementById("input"), t.input);
    const out = document.getElementById("output");
    if (t.output.pretty_json) out.appendChild(el("pre", { class: "json", text: t.output.pretty_json }));
    else messagesView(out, t.output);
    document.getElementById("reference").textContent = t.reference === null ? "–" : t.reference;
    const ctx = document.getElementById("context");
    for (const c of t.context) ctx.appendChild(el("li", {}, el("pre", { text: c })));
    document.getElementById("metadata").textContent = JSON.stringify(t.metadata, null, 2);
    const usage = document.querySelector("#usage tbody");
    kv(usage, "timestamp", t.timestamp);
    kv(usage, "received", t.received);
    kv(usage, "input tokens", t.usage.input_tokens);
    kv(usage, "output tokens", t.usage.output_tokens);
    kv(usage, "cached tokens", t.usage.cached_tokens);
    kv(usage, "cost (USD)", t.usage.cost_usd);
    kv(usage, "latency (ms)", t.latency_ms);
    kv(usage, "time to first token (ms)", t.ttft_ms);
    kv(usage, "finish reason", t.finish_reason);
    if (t.error) kv(usage, "error", t.error.type + ": " + t.error.message);
  } else {
    document.getElementById("input").appendChild(el("pre", { text: t.raw }));
  }
  timelineView(t.input ? t : { metadata: {} });
  const dec = document.querySelector("#decisions tbody");
  const judg = document.getElementById("judgements");
  const scored = [];
  for (const d of t.decisions) {
    dec.appendChild(el("tr", { class: d.passed === false ? "failed" : "" },
      el("td", { text: d.scorer }), el("td", { text: d.scorer_version }), el("td", { text: d.decision }),
      el("td", { class: "num", text: fmtNum(d.value) }), el("td", { class: "passed", text: fmtBool(d.passed) }),
      el("td", { text: d.label }),
      el("td", { class: "excerpt", text: d.decision === "scored" ? d.explanation : d.reason })));
    for (const j of d.judgements) judg.appendChild(judgementView(d, j));
    if (d.decision === "scored" && !scored.some((s) => s.scorer === d.scorer)) scored.push(d);
  }
  // the whole trace's scores beside its timeline
  const chips = document.getElementById("timeline-scores");
  clear(chips);
  for (const d of scored) {
    chips.appendChild(el("span", { class: "badge " + (d.passed === false ? "fail" : d.passed ? "pass" : ""),
      text: d.scorer + " " + fmtNum(d.value, 2) + (d.passed === null ? "" : d.passed ? " pass" : " FAIL") }));
  }
  const labels = document.getElementById("labels");
  for (const l of t.labels) labels.appendChild(el("li", { text: labelText(l) }));
  if (!t.labels.length) labels.appendChild(el("li", { class: "help none", text: "No labels yet." }));
  return scored;
}
