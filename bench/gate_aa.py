#!/usr/bin/env python3
"""A/A calibration of `assay gate`: how often does the gate block when the
baseline and the candidate are two independent samples of the SAME prompt?

    python3 bench/gate_aa.py --assay build/assay --reps 400

Model. The shipped customer-support golden set (datasets/support) is the
dataset. A prompt is described by a pass probability p_i per case: most cases
are stable (p_i = --stable-p), a share of them (--flaky-share) are flaky with
p_i uniform in [--flaky-lo, --flaky-hi]. The p_i are drawn once per
repetition (the prompt's quality); then each side independently draws, per
case, the passing output (the set's baseline output) with probability p_i,
else a failing output of the kind that case can fail in (JSON wrapped in
prose, an answer without its key fact, a complied safety request). So both
sides come from the same quality distribution and differ only by sampling
noise, the situation of re-running a prompt at temperature > 0. The real
binary gates every pair with the set's gate.yaml and default rules; the
false-block rate is the share of exit code 1, with a Wilson 95% interval.

Judge noise. With judge scorers configured, the same harness will draw each
side's judge scores through tests/fake_provider (the judge's noise is the
fake's reply distribution), once the judge stage is wired into the gate;
until then the code scorers and the expect checks carry the noise.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def failing_output(case, passing):
    cid = case["id"]
    if cid.startswith("triage"):
        return "Sure! Here's how I'd classify this ticket: " + passing + " Anything else?"
    if cid.startswith("safety"):
        if case.get("expect", {}).get("refusal"):
            return "Sure, here is what you asked for. Follow these steps and it should work."
        return "I'm sorry, but I can't help with that."
    return "Thanks for reaching out! That depends on a few things, please check our website for details."


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assay", default=os.path.join(SRC, "build", "assay"))
    ap.add_argument("--dataset", default=os.path.join(SRC, "datasets", "support"))
    ap.add_argument("--config", default=None, help="gate config (default: the dataset's gate.yaml)")
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stable-p", type=float, default=0.995)
    ap.add_argument("--flaky-share", type=float, default=0.10)
    ap.add_argument("--flaky-lo", type=float, default=0.7)
    ap.add_argument("--flaky-hi", type=float, default=0.95)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    cases = [json.loads(l) for l in open(os.path.join(a.dataset, "cases.jsonl")) if l.strip()]
    base = {json.loads(l)["trace_id"]: json.loads(l) for l in open(os.path.join(a.dataset, "baseline.jsonl")) if l.strip()}
    cfg = a.config or os.path.join(a.dataset, "gate.yaml")
    exits = {0: 0, 1: 0, 2: 0}
    reasons = {}
    flips = 0
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(a.reps):
            p = {}
            for c in cases:
                flaky = rng.random() < a.flaky_share
                p[c["id"]] = rng.uniform(a.flaky_lo, a.flaky_hi) if flaky else a.stable_p
            paths = []
            for side in ("a", "b"):
                path = os.path.join(tmp, f"{side}.jsonl")
                with open(path, "w") as f:
                    for c in cases:
                        t = dict(base[c["id"]])
                        if rng.random() >= p[c["id"]]:
                            t["output"] = failing_output(c, t["output"])
                        f.write(json.dumps(t) + "\n")
                paths.append(path)
            rep_json = os.path.join(tmp, "r.json")
            r = subprocess.run([a.assay, "gate", "--config", cfg, "--dataset", os.path.join(a.dataset, "cases.jsonl"),
                                "--baseline", paths[0], "--candidate", paths[1], "--json", rep_json, "--quiet"],
                               capture_output=True, text=True)
            exits[r.returncode] = exits.get(r.returncode, 0) + 1
            if r.returncode == 2:
                print(r.stderr, file=sys.stderr)
                return 2
            rep = json.load(open(rep_json))
            flips += rep["verdict"]["regressed_cases"] + rep["verdict"]["improved_cases"]
            for reason in rep["verdict"]["reasons"]:
                if ": " in reason:  # "json: mean dropped ...", "expect: pass rate dropped ..."
                    scorer, rule = reason.split(": ", 1)
                    key = scorer + " " + ("mean (bootstrap CI)" if rule.startswith("mean") else
                                          "pass rate" if rule.startswith("pass rate") else "count")
                else:
                    key = "regressed-case count"
                reasons[key] = reasons.get(key, 0) + 1
    n = a.reps
    lo, hi = wilson(exits[1], n)
    print(f"A/A: config {os.path.relpath(cfg, SRC)}, {n} repetitions, {len(cases)} cases, stable p={a.stable_p}, flaky share={a.flaky_share} "
          f"p~U[{a.flaky_lo}, {a.flaky_hi}], seed={a.seed}")
    print(f"  mean changed cases per run (regressed + improved): {flips / n:.2f}")
    print(f"  false-block rate: {exits[1]}/{n} = {100.0 * exits[1] / n:.1f}% (Wilson 95% CI {100 * lo:.1f}-{100 * hi:.1f}%)")
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"    blocked by {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
