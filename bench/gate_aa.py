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
binary gates every pair with the set's gate.yaml and default rules (the
shipped per-scorer overrides under gate.scorers, e.g. refusal:
{max_regressions: 0}, are left out unless --keep-scorer-rules: such a rule
blocks on any single regressed case by design, noise included); the
false-block rate is the share of exit code 1, with a Wilson 95% interval.

Judge noise (--judge-sd S > 0). A judge scorer (rubrics/helpfulness.yaml,
1-5, pass at 4) is added to the config and judged for real through the gate's
judge stage against tests/fake_provider (the only fake: a real HTTP server).
Each case gets a true quality q_i ~ U[--quality-lo, --quality-hi] per
repetition; each side's output for the case is a different sample (a distinct
text, so the judge cache cannot make the sides agree) whose own quality is
q_i + N(0, --sample-sd), planted in the text as "quality=X.XX" (for JSON
answers inside the reply field, so the JSON and schema checks still see what
they saw). The fake provider, scripted with quality_marker and
score_noise_sd = S, answers each judge call with round(quality + N(0, S))
clamped to 1..5: a noisy judge around the output's quality. Each repetition
uses a fresh scratch store, so no cache carries over between repetitions.
"""
import argparse
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import urllib.request

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


def plant_quality(output, quality, nonce):
    """The output with its simulated quality (and a nonce making the text a distinct sample)."""
    marker = f"quality={quality:.2f} ref {nonce}"
    try:
        doc = json.loads(output)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("reply"), str):
        doc["reply"] += f" ({marker})"
        return json.dumps(doc)
    return output + f" ({marker})"


def absolute_paths(text, dataset):
    """A config text whose schema_file paths (relative to the dataset) are made absolute."""
    for name in os.listdir(dataset):
        if name.endswith(".schema.json"):
            text = text.replace(f"schema_file: {name}", f"schema_file: '{os.path.join(dataset, name)}'")
    return text


def without_scorer_rules(text):
    """A config text without the `scorers:` block under `gate:` (the per-scorer overrides)."""
    out, in_gate, skipping = [], False, False
    for line in text.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if not line.startswith(" ") and line.strip():
            in_gate = line.startswith("gate:")
            skipping = False
        elif in_gate and indent == 2 and line.strip().startswith("scorers:"):
            skipping = True
            continue
        elif skipping and line.strip() and indent <= 2:
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def judged_config(dataset, base_cfg, base_url, tmp):
    """The set's gate.yaml (schema paths made absolute) plus one noisy judge scorer."""
    text = absolute_paths(open(base_cfg).read(), dataset)
    rubric = os.path.join(SRC, "rubrics", "helpfulness.yaml")
    text = text.replace("scorers:\n", "scorers:\n  - {name: helpful, type: judge, judges: [noisy], sample_rate: 1, rubric: '" + rubric + "'}\n", 1)
    text = ("judges:\n  - {name: noisy, provider: openai, model: judge-m, base_url: '" + base_url +
            "/v1', api_key_env: ASSAY_AA_KEY, max_concurrency: 16, max_retries: 2, timeout_ms: 10000}\n" + text)
    path = os.path.join(tmp, "judged.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def start_fake(build, judge_sd, seed):
    fake_bin = os.path.join(build, "tests", "fake_provider", "fake_provider")
    proc = subprocess.Popen([fake_bin, "--threads", "32"], stdout=subprocess.PIPE, text=True)
    base = "http://127.0.0.1:" + proc.stdout.readline().split(":")[1].strip()
    script = {"default": {"quality_marker": "quality=", "score_noise_sd": judge_sd}, "noise_seed": seed}
    urllib.request.urlopen(urllib.request.Request(base + "/_control/script", method="POST",
                                                  data=json.dumps(script).encode())).read()
    return proc, base


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
    ap.add_argument("--judge-sd", type=float, default=0.0,
                    help="> 0: add a judge scorer whose fake provider scores quality + N(0, sd)")
    ap.add_argument("--sample-sd", type=float, default=0.3, help="per-output quality spread around the case's")
    ap.add_argument("--quality-lo", type=float, default=2.5)
    ap.add_argument("--quality-hi", type=float, default=4.8)
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra gate rule, e.g. count_test=none (repeatable)")
    ap.add_argument("--keep-scorer-rules", action="store_true",
                    help="keep the config's gate.scorers overrides (default: default rules only)")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    cases = [json.loads(l) for l in open(os.path.join(a.dataset, "cases.jsonl")) if l.strip()]
    base = {json.loads(l)["trace_id"]: json.loads(l) for l in open(os.path.join(a.dataset, "baseline.jsonl")) if l.strip()}
    cfg = a.config or os.path.join(a.dataset, "gate.yaml")
    exits = {0: 0, 1: 0, 2: 0}
    reasons = {}
    flips = 0
    judged = 0
    env = dict(os.environ, ASSAY_AA_KEY="sk-aa-bench")
    fake = None
    with tempfile.TemporaryDirectory() as tmp:
        if not a.keep_scorer_rules:
            text = absolute_paths(open(cfg).read(), a.dataset)
            cfg = os.path.join(tmp, "default_rules.yaml")
            with open(cfg, "w") as f:
                f.write(without_scorer_rules(text))
        if a.judge_sd > 0:
            fake, base_url = start_fake(a.build, a.judge_sd, a.seed)
            cfg = judged_config(a.dataset, cfg, base_url, tmp)
        if a.set:
            text = absolute_paths(open(cfg).read(), a.dataset)
            extra = "".join(f"  {kv.split('=', 1)[0]}: {kv.split('=', 1)[1]}\n" for kv in a.set)
            cfg = os.path.join(tmp, "rules.yaml")
            with open(cfg, "w") as f:
                f.write(text.replace("gate:\n", "gate:\n" + extra, 1))
        for rep in range(a.reps):
            p = {}
            q = {}
            for c in cases:
                flaky = rng.random() < a.flaky_share
                p[c["id"]] = rng.uniform(a.flaky_lo, a.flaky_hi) if flaky else a.stable_p
                q[c["id"]] = rng.uniform(a.quality_lo, a.quality_hi)
            paths = []
            for side in ("a", "b"):
                path = os.path.join(tmp, f"{side}.jsonl")
                with open(path, "w") as f:
                    for c in cases:
                        t = dict(base[c["id"]])
                        if rng.random() >= p[c["id"]]:
                            t["output"] = failing_output(c, t["output"])
                        if a.judge_sd > 0:
                            quality = min(5.0, max(1.0, q[c["id"]] + rng.gauss(0.0, a.sample_sd)))
                            nonce = hashlib.sha256(f"{a.seed}/{rep}/{side}/{c['id']}".encode()).hexdigest()[:8]
                            t["output"] = plant_quality(t["output"], quality, nonce)
                        f.write(json.dumps(t) + "\n")
                paths.append(path)
            rep_json = os.path.join(tmp, "r.json")
            r = subprocess.run([a.assay, "gate", "--config", cfg, "--dataset", os.path.join(a.dataset, "cases.jsonl"),
                                "--baseline", paths[0], "--candidate", paths[1], "--json", rep_json, "--quiet"],
                               capture_output=True, text=True, env=env)
            exits[r.returncode] = exits.get(r.returncode, 0) + 1
            if r.returncode == 2:
                print(r.stderr, file=sys.stderr)
                if fake:
                    fake.terminate()
                return 2
            rep = json.load(open(rep_json))
            judged += sum(1 for c in rep["sides"]["candidate"]["cases"]
                          if c["scorers"].get("helpful", {}).get("value") is not None)
            flips += rep["verdict"]["regressed_cases"] + rep["verdict"]["improved_cases"]
            for reason in rep["verdict"]["reasons"]:
                if ": " in reason:  # "json: mean dropped ...", "expect: pass rate dropped ..."
                    scorer, rule = reason.split(": ", 1)
                    key = scorer + " " + ("mean (bootstrap CI)" if rule.startswith("mean") else
                                          "pass rate" if rule.startswith("pass rate") else "count")
                else:
                    key = "regressed-case count"
                reasons[key] = reasons.get(key, 0) + 1
        if fake:
            fake.terminate()
            fake.wait()
    n = a.reps
    lo, hi = wilson(exits[1], n)
    print(f"A/A: {n} repetitions, {len(cases)} cases, stable p={a.stable_p}, flaky share={a.flaky_share} "
          f"p~U[{a.flaky_lo}, {a.flaky_hi}], seed={a.seed}, rules {a.set or 'as configured'}"
          f"{' with' if a.keep_scorer_rules else ' without'} the gate.scorers overrides")
    if a.judge_sd > 0:
        print(f"  judge: helpfulness 1-5 via fake provider, quality~U[{a.quality_lo}, {a.quality_hi}], "
              f"sample sd {a.sample_sd}, judge sd {a.judge_sd}; judged candidate cases per run: {judged / n:.1f}")
    print(f"  mean changed cases per run (regressed + improved): {flips / n:.2f}")
    print(f"  false-block rate: {exits[1]}/{n} = {100.0 * exits[1] / n:.1f}% (Wilson 95% CI {100 * lo:.1f}-{100 * hi:.1f}%)")
    for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"    blocked by {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
