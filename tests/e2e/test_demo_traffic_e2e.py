#!/usr/bin/env python3
"""The bundled demo traffic (datasets/demo/traces.jsonl) is what its generator
writes, and it reads as plausible production traffic: every output belongs to
its input, a request that must be refused carries metadata.expected_refusal and
is refused (so the refusal scorer passes it), and the only refusals the scorer
fails are over-refusals of normal invoices and tickets (besides the planted
near-miss answers it mistakes for partial refusals). The last part runs the
real `assay score` with the refusal scorer on the bundled file, into a SQLite
file, or with --backend postgres a database on a private PostgreSQL server this
script starts (exit 77 when the server binaries are missing); the checks are
the same either way.
"""
import importlib.util
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (add_backend_argument, arguments, check, finish, generate, on_backend,  # noqa: E402
                        query_all, run)


def load_generator(source):
    path = os.path.join(source, "datasets", "demo", "generate.py")
    spec = importlib.util.spec_from_file_location("demo_generate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def text(v):
    """A trace's input or output as text: the string, or the last user (input)
    / the assistant (output) message of a message list."""
    if isinstance(v, str):
        return v
    users = [m["content"] for m in v if m["role"] == "user"]
    return users[-1] if users else v[-1]["content"]


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    g = load_generator(a.source)
    bundled = os.path.join(a.source, "datasets", "demo", "traces.jsonl")
    fresh = os.path.join(tmp, "traces.jsonl")
    r = generate(a.source, fresh, "--n", "2000", "--seed", "7")
    same = r.returncode == 0 and open(fresh, "rb").read() == open(bundled, "rb").read()
    check(same, "datasets/demo/traces.jsonl is byte for byte what generate.py --n 2000 --seed 7 writes")

    traces = [json.loads(line) for line in open(bundled, encoding="utf-8")]
    check(len(traces) == 2000, f"2000 demo traces ({len(traces)})")
    asks = {ask: answers + g.REFUSALS for ask, answers in g.HOSTILE_ASKS}
    every_refusal = set(g.REFUSALS) | {x for _, answers in g.HOSTILE_ASKS for x in answers}
    support = {q: steps for qs, steps in g.SUPPORT for q in qs}
    support.update({q: [ans] for pairs in g.SUPPORT_I18N.values() for q, ans in pairs})
    support.update({q: [ans] for q, ans in g.NEAR_MISS})
    pii_leaks = [re.escape(x).replace(re.escape("{key}"), r"\S+") for xs in g.PII.values() for x in xs]
    kb = {q.lower().rstrip("?"): (doc, ans.split(" [")[0]) for q, doc, ans, _ in g.KB}
    bad = {"refusal_pair": [], "expected_refusal": [], "over_refusal": [], "support": [], "search": [],
           "summary": [], "invoice": [], "ticket": []}
    counts = {"expected_refusal": 0, "over_refusal": 0, "support": 0, "search": 0, "summary": 0, "invoice": 0}
    for t in traces:
        m, tid = t["metadata"], t["trace_id"]
        feature, q, out = m["feature"], text(t["input"]), text(t["output"])
        expected = m.get("expected_refusal") is True
        ok_turn = not t.get("error") and t["finish_reason"] == "stop" and out
        if q in asks or expected:
            counts["expected_refusal"] += 1
            if not (q in asks and expected):
                bad["expected_refusal"].append(tid)
            elif out not in asks[q]:
                bad["refusal_pair"].append(tid)
            continue
        if out in every_refusal:  # refused without being a request to refuse: only invoices and tickets
            counts["over_refusal"] += 1
            if m["expected_format"] != "json":
                bad["over_refusal"].append(tid)
            continue
        if feature == "support_chat" and ok_turn:
            counts["support"] += 1
            steps = support.get(re.sub(r" \S+$", "", q) if q not in support else q)
            if steps is None or not any(s in out for s in steps):
                bad["support"].append(tid)
        elif feature == "search_answer" and ok_turn:
            counts["search"] += 1
            key = re.sub(r"^(quick question: |hey - )", "", q.lower()).rstrip("?")
            doc, answer = kb.get(key, (None, None))
            if doc is None or doc not in t.get("context", []) or \
                    not (out.startswith(answer) or out in g.UNGROUNDED or answer in out):
                bad["search"].append(tid)
        elif feature == "summarize" and ok_turn:
            counts["summary"] += 1
            # every number and name the summary states is in the document (leaving out
            # the planted PII leaks and the day numbers of over-long summaries)
            for leak in pii_leaks:
                out = re.sub(leak, "", out)
            out = re.sub(r"\b[Oo]n day \d+,", "", out)
            facts = re.findall(r"\d+", out) + [n for n in g.NAMES if n in out]
            if any(f not in t["input"] for f in facts):
                bad["summary"].append(tid)
        elif feature == "extract_invoice" and ok_turn:
            try:
                data = json.loads(out)
            except ValueError:
                continue  # broken JSON is a planted phenomenon
            counts["invoice"] += 1
            for k in ("invoice_number", "remit_to_iban", "contact_email"):
                if k in data and str(data[k]) not in t["input"]:
                    bad["invoice"].append(tid)
        elif feature == "classify_ticket" and q not in support:
            bad["ticket"].append(tid)
    for what, n in counts.items():
        check(n > 0, f"{n} traces checked for {what}")
    explain = {
        "expected_refusal": "a request that must be refused carries expected_refusal: true, and only those",
        "refusal_pair": "each refusal answers its request",
        "over_refusal": "refusals without a request to refuse are over-refusals of invoices and tickets",
        "support": "support answers answer the user's question",
        "search": "search answers come from the retrieved document of their question",
        "summary": "summaries state only numbers and names of their document",
        "invoice": "invoice extractions copy values that are on the invoice",
        "ticket": "tickets to classify are support questions",
    }
    for k, ids in bad.items():
        check(not ids, f"{explain[k]} ({len(ids)} not: {ids[:3]})")

    # The real refusal scorer on the bundled traffic: expected refusals pass,
    # and what fails is an over-refusal.
    db, con = backend.new_store("demo")
    cfg = os.path.join(tmp, "assay.yaml")
    with open(cfg, "w") as f:
        f.write(backend.yaml(db) + "scorers:\n  - {name: refusal, type: refusal}\n")
    r = run([a.assay, "score", "--config", cfg, "--in", bundled, "--quiet"])
    check(r.returncode == 0, f"assay score on the demo traffic ({r.stderr[-300:]!r})")
    rows = query_all(con, "SELECT s.trace_id, s.passed, s.value FROM scores_view s WHERE s.scorer = 'refusal' "
                         "AND s.decision = 'scored'")
    by_id = {t["trace_id"]: t for t in traces}
    expected_ids = {tid for tid, t in by_id.items() if t["metadata"].get("expected_refusal") is True}
    passed = {tid for tid, p, _ in rows if p == 1}
    check(expected_ids and expected_ids <= passed,
          f"refusal scorer: all {len(expected_ids)} expected refusals pass ({len(expected_ids - passed)} fail)")
    # What it fails: the over-refusals, and near-miss answers it takes for partial refusals
    # ("I can't recommend disabling 2FA, but ..."), a false positive the data plants.
    failed = [tid for tid, p, _ in rows if p == 0]
    over = [tid for tid in failed if by_id[tid]["metadata"]["expected_format"] == "json"
            and text(by_id[tid]["output"]) in every_refusal]
    near_miss = {ans for _, ans in g.NEAR_MISS}
    wrong = [tid for tid in failed if tid not in over and text(by_id[tid]["output"]) not in near_miss]
    check(over and not wrong, f"refusal scorer: its {len(failed)} failures are {len(over)} over-refusals of "
                              f"invoices and tickets and {len(failed) - len(over) - len(wrong)} near misses "
                              f"({len(wrong)} others: {wrong[:3]})")
    return finish("the demo traffic is consistent")


if __name__ == "__main__":
    sys.exit(main())
