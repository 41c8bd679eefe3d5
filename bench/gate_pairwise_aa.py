#!/usr/bin/env python3
"""A/A calibration of `assay gate` pairwise mode: how often does a pairwise
scorer block when the judge has no real preference (the two sides are
equally good) and only noise decides each answer?

    python3 bench/gate_pairwise_aa.py --assay build/assay \
        --fake build/tests/fake_provider/fake_provider --reps 500

Model. Dataset: datasets/rag (55 cases). The baseline is the set's
baseline.jsonl; the candidate is the same outputs with a neutral suffix, so
every case differs and is judged in both orders (two samples of one prompt).
The judge is the standalone fake provider, scripted per repetition with one
random answer per request: "A" or "B" with probability (1 - tie)/2 each, "tie"
with probability --tie; with --position-bias b, an answer is "A" with
probability b regardless (a judge that favours the first position). Each
repetition is one run of the real binary, with a fresh scratch store (no
cache), `gate.short_circuit: false`, expect checks ignored, default pairwise
rule (K = 2, sign test at 0.05) or --count-test none. The false-block rate
is the share of exit code 1, with a Wilson 95% interval.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.request

from gate_aa import wilson  # the same Wilson interval as the code/judge-noise A/A

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
KEY_ENV = "ASSAY_PAIR_AA_KEY"


def control(base, path, body=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assay", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tie", type=float, default=0.3, help="probability of a tie answer")
    ap.add_argument("--position-bias", type=float, default=0.0, help="probability of answering A regardless")
    ap.add_argument("--count-test", choices=["sign", "none"], default="sign")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    d = os.path.join(SRC, "datasets", "rag")
    cases = os.path.join(d, "cases.jsonl")
    env = dict(os.environ, **{KEY_ENV: "sk-aa"})
    fake = subprocess.Popen([a.fake], stdout=subprocess.PIPE, text=True)
    blocks = 0
    nets = []
    inconsistent = []
    try:
        fbase = "http://127.0.0.1:" + fake.stdout.readline().split(":")[1].strip()
        with tempfile.TemporaryDirectory() as tmp:
            base = os.path.join(d, "baseline.jsonl")
            cand = os.path.join(tmp, "candidate.jsonl")
            n = 0
            with open(base) as f, open(cand, "w") as g:
                for line in f:
                    if line.strip():
                        t = json.loads(line)
                        t["output"] = t["output"] + " (Second sample.)"
                        g.write(json.dumps(t) + "\n")
                        n += 1
            cfg = os.path.join(tmp, "aa.yaml")
            with open(cfg, "w") as f:
                f.write(f"""judges:
  - {{name: j1, provider: openai, model: m, base_url: '{fbase}/v1', api_key_env: {KEY_ENV}}}
scorers:
  - {{name: preference, type: judge, judges: [j1], sample_rate: 1,
     rubric: '{os.path.join(SRC, "rubrics", "pairwise_preference.yaml")}'}}
gate:
  short_circuit: false
  count_test: {a.count_test}
  scorers:
    expect: {{ignore: true}}
""")
            rep = os.path.join(tmp, "r.json")
            for _ in range(a.reps):
                queue = []
                for _ in range(2 * n):
                    u = rng.random()
                    if u < a.position_bias:
                        label = "A"
                    else:
                        v = rng.random()
                        label = "tie" if v < a.tie else ("A" if v < a.tie + (1 - a.tie) / 2 else "B")
                    queue.append({"content": json.dumps({"reasoning": "noise", "choice": label})})
                control(fbase, "/_control/reset", {})
                control(fbase, "/_control/script", {"queue": queue})
                r = subprocess.run([a.assay, "gate", "--config", cfg, "--dataset", cases, "--baseline", base,
                                    "--candidate", cand, "--json", rep, "--quiet"], env=env, capture_output=True,
                                   text=True)
                if r.returncode not in (0, 1):
                    print(f"gate error rc={r.returncode}: {r.stderr[-300:]}", file=sys.stderr)
                    return 2
                pw = json.load(open(rep))["pairwise"][0]
                blocks += r.returncode == 1
                nets.append(pw["losses"] - pw["wins"])
                inconsistent.append(pw["order_inconsistent"])
    finally:
        fake.terminate()
        fake.wait(10)
    lo, hi = wilson(blocks, a.reps)
    nets.sort()
    print(f"pairwise A/A: {a.reps} runs x {n} cases, tie {a.tie}, position bias {a.position_bias}, "
          f"count_test {a.count_test}, seed {a.seed}")
    print(f"  false blocks: {blocks}/{a.reps} = {100.0 * blocks / a.reps:.1f}% (Wilson 95% CI "
          f"{100 * lo:.1f}-{100 * hi:.1f}%)")
    print(f"  losses - wins: median {nets[len(nets) // 2]}, 95th percentile {nets[int(0.95 * (len(nets) - 1))]}; "
          f"order-inconsistent cases per run: mean {sum(inconsistent) / len(inconsistent):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
