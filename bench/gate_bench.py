#!/usr/bin/env python3
"""Benchmark of `assay gate` with a judge (issue: 1,000 cases x (3 code scorers
+ 1 judge at 50 ms fake latency, concurrency 16); target: wall time within 1.3x
of the ideal 1,000 x 50 ms / 16 = 3.125 s plus the code-scoring time).

Per round, all in the same run:
  setup  (untimed): a gate run whose candidate side is the baseline outputs,
         saved as a JSON report, so the timed runs reuse the baseline
         (--baseline-report) and only the candidate's 1,000 cases are judged;
  code   the same gate with the 3 code scorers only (--baseline-report of a
         code-only setup run): the code-scoring time;
  judged the gate with the judge scorer too, into a fresh store (no cache hit
         possible): 1,000 judge calls against tests/fake_provider at 50 ms.
ratio = judged / (3.125 s + code). Prints medians over rounds and the gate's
peak RSS (wait4).

Usage: python3 bench/gate_bench.py [--cases 1000] [--rounds 3] [--build build]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from scorer_configs import scorer_items  # noqa: E402

CODE = "\n" + scorer_items("refusal", "length", "pii")
JUDGE = """judges:
  - {{name: j, provider: openai, model: m, base_url: '{base}/v1', api_key_env: ASSAY_BENCH_KEY,
     max_concurrency: 16, max_retries: 0, timeout_ms: 10000}}
"""
JUDGE_SCORER = "  - {{name: helpful, type: judge, judges: [j], sample_rate: 1, rubric: '{rubric}'}}\n"


def timed(cmd, env):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    rc = os.waitstatus_to_exitcode(status)
    if rc not in (0, 1):
        sys.exit(f"gate_bench: {' '.join(cmd)} exited {rc}: {err[-500:]}")
    return wall, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    fake_bin = os.path.join(a.build, "tests", "fake_provider", "fake_provider")
    env = dict(os.environ, ASSAY_BENCH_KEY="sk-bench")
    fake = subprocess.Popen([fake_bin, "--latency-ms", str(a.latency_ms), "--score", "4", "--threads", "64"],
                            stdout=subprocess.PIPE, text=True)
    try:
        base_url = "http://127.0.0.1:" + fake.stdout.readline().split(":")[1].strip()
        with tempfile.TemporaryDirectory() as tmp:
            cases, base, cand = (os.path.join(tmp, n) for n in ("cases.jsonl", "base.jsonl", "cand.jsonl"))
            with open(cases, "w") as fc, open(base, "w") as fb, open(cand, "w") as fo:
                for i in range(a.cases):
                    cid = f"case-{i:05d}"
                    q = f"Question {i}: how do I reset the password of workspace {i % 97}?"
                    fc.write(json.dumps({"id": cid, "input": q, "expect": {"refusal": False}}) + "\n")
                    fb.write(json.dumps({"trace_id": cid, "output": f"Open Settings > Security and choose "
                                                                     f"Reset password ({i})."}) + "\n")
                    fo.write(json.dumps({"trace_id": cid, "output": f"Go to Settings, then Security, then "
                                                                     f"Reset password; a link is mailed ({i})."}) + "\n")
            rubric = os.path.join(ROOT, "rubrics", "helpfulness.yaml")
            code_cfg, judged_cfg = os.path.join(tmp, "code.yaml"), os.path.join(tmp, "judged.yaml")
            with open(code_cfg, "w") as f:
                f.write("scorers:" + CODE)
            with open(judged_cfg, "w") as f:
                f.write(JUDGE.format(base=base_url) + "scorers:" + CODE + JUDGE_SCORER.format(rubric=rubric))
            reports = {}
            for name, cfg in (("code", code_cfg), ("judged", judged_cfg)):
                reports[name] = os.path.join(tmp, name + "-baseline.json")
                timed([assay, "gate", "--config", cfg, "--dataset", cases, "--baseline", base, "--candidate", base,
                       "--json", reports[name], "--quiet"], env)
            ideal_judge = a.cases * a.latency_ms / 1000.0 / 16
            rows = []
            for r in range(a.rounds):
                code_s, code_rss = timed([assay, "gate", "--config", code_cfg, "--dataset", cases, "--baseline-report",
                                          reports["code"], "--candidate", cand, "--quiet"], env)
                db = os.path.join(tmp, f"round-{r}.db")
                judged_s, judged_rss = timed([assay, "gate", "--config", judged_cfg, "--dataset", cases,
                                              "--baseline-report", reports["judged"], "--candidate", cand,
                                              "--db", db, "--quiet"], env)
                ratio = judged_s / (ideal_judge + code_s)
                rows.append((code_s, judged_s, ratio, judged_rss))
                print(f"round {r + 1}: code {code_s:.2f} s, judged {judged_s:.2f} s, ideal {ideal_judge:.3f} s + code, "
                      f"ratio {ratio:.3f}, peak RSS {judged_rss:.0f} MiB", flush=True)
            med = lambda k: statistics.median(x[k] for x in rows)
            print(f"\nmedians of {a.rounds} rounds, {a.cases} cases, judge latency {a.latency_ms} ms, concurrency 16:")
            print(f"  code-only gate {med(0):.2f} s; judged gate {med(1):.2f} s; ideal {ideal_judge:.3f} s + code; "
                  f"ratio {med(2):.3f} (target <= 1.3); peak RSS {med(3):.0f} MiB")
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
