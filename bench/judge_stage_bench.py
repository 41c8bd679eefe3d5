#!/usr/bin/env python3
"""Judge benchmark through the whole judge stage (issue: 10,000 sampled traces
against the fake provider at 100 ms latency, max_concurrency 64; with
requests_per_minute 1,200 the limit holds and the process stays under 10% of a
core). bench/judge_bench measures the JudgeClient alone; this drives the real
`assay score` end to end: the pipeline samples every trace for a judge scorer,
the judge stage reads the queue from SQLite, renders the rubric (with PII
redaction), calls tests/fake_provider and commits each judgement.

Per round:
  code       `assay score` with the judge scorer at sample_rate 0 (the same
             traces, code scorers only): the reference for everything but judging;
  throughput `assay score` with the judge at sample_rate 1, max_concurrency 64,
             no rate limit, provider latency 100 ms: judgements/s =
             N / (wall - code wall); ideal = 64 / 0.1 s = 640/s;
  rate       (with --rate-n > 0) the same with requests_per_minute 1200 on
             --rate-n traces: the provider's own arrival log gives the most
             starts in any 60 s window; CPU = the assay process's user+sys
             (wait4) / wall, in % of one core.
Prints medians over rounds.

Usage: python3 bench/judge_stage_bench.py [--n 10000] [--rounds 3] [--rate-n 1500] [--build build]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def config(db, base, rubric, sample_rate, rpm):
    return f"""
store: {{sqlite: {db}}}
pipeline: {{batch_size: 1000}}
judges:
  - {{name: j, provider: openai, model: m, base_url: '{base}/v1', api_key_env: ASSAY_BENCH_KEY,
     max_concurrency: 64, requests_per_minute: {rpm}, max_retries: 0, timeout_ms: 10000, cache: false}}
scorers:
  - {{name: refusal, type: refusal}}
  - {{name: length, type: length, max_words: 400}}
  - {{name: helpful, type: judge, judges: [j], sample_rate: {sample_rate}, rubric: '{rubric}'}}
"""


def run_score(assay, cfg, traces, env):
    t0 = time.perf_counter()
    p = subprocess.Popen([assay, "score", "--config", cfg, "--in", traces, "--quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("judge_stage_bench: assay score failed: " + p.stderr.read().decode(errors="replace")[-500:])
    return wall, ru.ru_utime + ru.ru_stime


def judged(db):
    import sqlite3
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM judgements WHERE error_type IS NULL").fetchone()[0]
    finally:
        con.close()


def max_window_starts(arrivals_ms, window_ms=60000):
    arrivals_ms.sort()
    best, lo = 0, 0
    for hi, t in enumerate(arrivals_ms):
        while t - arrivals_ms[lo] >= window_ms:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate-n", type=int, default=1500)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    fake_bin = os.path.join(a.build, "tests", "fake_provider", "fake_provider")
    rubric = os.path.join(ROOT, "rubrics", "helpfulness.yaml")
    env = dict(os.environ, ASSAY_BENCH_KEY="sk-bench")
    fake = subprocess.Popen([fake_bin, "--latency-ms", "100", "--score", "4", "--threads", "128"],
                            stdout=subprocess.PIPE, text=True)
    try:
        base = "http://127.0.0.1:" + fake.stdout.readline().split(":")[1].strip()
        with tempfile.TemporaryDirectory() as tmp:
            traces = os.path.join(tmp, "traces.jsonl")
            subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "demo", "generate.py"), "--n", str(a.n),
                            "--seed", "11", "--out", traces], check=True, capture_output=True)
            rows = []
            for r in range(a.rounds):
                cfgs = {}
                for name, rate in (("code", 0), ("judged", 1)):
                    db = os.path.join(tmp, f"{name}-{r}.db")
                    cfgs[name] = (os.path.join(tmp, f"{name}-{r}.yaml"), db)
                    with open(cfgs[name][0], "w") as f:
                        f.write(config(db, base, rubric, rate, 0))
                code_wall, _ = run_score(assay, cfgs["code"][0], traces, env)
                wall, cpu = run_score(assay, cfgs["judged"][0], traces, env)
                n_judged = judged(cfgs["judged"][1])
                per_s = n_judged / max(wall - code_wall, 1e-9)
                rows.append((code_wall, wall, n_judged, per_s, per_s / 640.0))
                print(f"round {r + 1}: code {code_wall:.2f} s, judged run {wall:.2f} s, {n_judged} judgements, "
                      f"{per_s:.0f}/s = {per_s / 640.0:.3f} of ideal", flush=True)
            med = lambda k: statistics.median(x[k] for x in rows)
            print(f"\nthroughput (median of {a.rounds}): {med(3):.0f} judgements/s = {med(4):.3f} of ideal 640/s "
                  f"(target >= 0.9); code-only {med(0):.2f} s, judged run {med(1):.2f} s for {a.n} traces")
            if a.rate_n > 0:
                small = os.path.join(tmp, "rate.jsonl")
                with open(traces) as fi, open(small, "w") as fo:
                    for k, line in enumerate(fi):
                        if k >= a.rate_n:
                            break
                        fo.write(line)
                urllib.request.urlopen(urllib.request.Request(base + "/_control/reset", method="POST"), timeout=10)
                db = os.path.join(tmp, "rate.db")
                cfg = os.path.join(tmp, "rate.yaml")
                with open(cfg, "w") as f:
                    f.write(config(db, base, rubric, 1, 1200))
                wall, cpu = run_score(assay, cfg, small, env)
                log = json.load(urllib.request.urlopen(base + "/_control/requests", timeout=30))
                arrivals = [q["arrival_ms"] for q in log["requests"] if q["path"].endswith("/chat/completions")]
                most = max_window_starts(arrivals)
                span_s = (max(arrivals) - min(arrivals)) / 1000.0 if arrivals else 0
                print(f"rate: {len(arrivals)} requests over {span_s:.1f} s at requests_per_minute 1200: most starts in "
                      f"any 60 s window {most} (target <= 1200); mean rate {len(arrivals) / max(span_s, 1e-9) * 60:.0f}/min; "
                      f"assay CPU {100.0 * cpu / wall:.1f}% of a core over {wall:.1f} s (target <= 10%)")
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
