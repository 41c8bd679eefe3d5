#!/usr/bin/env python3
"""Parse-error rate of judge verdicts with and without structured output
(issue 15 item 3), against tests/fake_provider's verdict faults.

The fake provider answers every judge request with a verdict that, with
probability --fault-rate (seeded), is broken by one of its verdict faults
(prose, cut_json, out_of_scale, wrong_key, score_as_text, trailing_text;
tests/fake_provider/structured_output.h). A request with a strict json_schema
never gets one (the model is held to the schema); a forced Anthropic tool
only the value faults. For each judge setup the real `assay score` judges
--n traces; then:
  reply parse-error rate  replies the reply parser refused / replies
                          (= (requests - n + parse_error rows) / requests: a
                          refused reply is asked once more);
  verdicts lost           traces whose judgement is parse_error / n.

Usage: python3 bench/verdict_parse_bench.py [--n 400] [--fault-rate 0.3] [--build build]
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SETUPS = [
    ("openai chat, reply parser", {"provider": "openai", "model": "gpt-4o-mini", "structured_output": False}),
    ("openai chat, json_schema strict", {"provider": "openai", "model": "gpt-4o-mini"}),
    ("openai responses, json_schema strict", {"provider": "openai", "api": "responses", "model": "gpt-4o-mini"}),
    ("anthropic, reply parser", {"provider": "anthropic", "model": "claude-haiku-4-5", "structured_output": False}),
    ("anthropic, forced tool", {"provider": "anthropic", "model": "claude-haiku-4-5"}),
]


def control(base, name, body=None):
    req = urllib.request.Request(base + "/_control/" + name, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--fault-rate", type=float, default=0.3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    assay = os.path.join(a.build, "assay")
    fake = subprocess.Popen([os.path.join(a.build, "tests", "fake_provider", "fake_provider")],
                            stdout=subprocess.PIPE, text=True)
    base = "http://127.0.0.1:%d" % int(fake.stdout.readline().split(":")[1])
    env = dict(os.environ, ASSAY_BENCH_KEY="sk-bench")
    print(f"{a.n} traces per setup, verdict fault rate {a.fault_rate} (all faults), seed 7")
    print(f"{'setup':40} {'requests':>8} {'reply parse errors':>20} {'verdicts lost':>14}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            traces = os.path.join(tmp, "traces.jsonl")
            with open(traces, "w") as f:
                for i in range(a.n):
                    f.write(json.dumps({"trace_id": f"t{i}", "input": f"Question {i}?",
                                        "output": f"Answer {i}."}) + "\n")
            for k, (label, judge) in enumerate(SETUPS):
                control(base, "reset", {})
                control(base, "script", {"noise_seed": 7, "default": {
                    "verdict_faults": "all", "verdict_fault_rate": a.fault_rate}})
                db = os.path.join(tmp, f"s{k}.db")
                keys = ", ".join(f"{key}: {json.dumps(v)}" for key, v in judge.items())
                cfg = os.path.join(tmp, f"s{k}.yaml")
                with open(cfg, "w") as f:
                    f.write(f"""
store: {{sqlite: {db}}}
judges:
  - {{name: j, base_url: '{base}/v1', api_key_env: ASSAY_BENCH_KEY, cache: false, max_retries: 0, {keys}}}
scorers:
  - {{name: helpful, type: judge, judges: [j], sample_rate: 1, rubric: '{ROOT}/rubrics/helpfulness.yaml'}}
""")
                r = subprocess.run([assay, "score", "--config", cfg, "--in", traces, "--quiet"],
                                   capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    sys.exit("verdict_parse_bench: assay score failed: " + r.stderr[-500:])
                requests = control(base, "counters")["requests"]
                con = sqlite3.connect(db)
                lost = con.execute("SELECT count(*) FROM judgements WHERE error_type = 'parse_error'").fetchone()[0]
                other = con.execute("SELECT count(*) FROM judgements WHERE error_type IS NOT NULL "
                                    "AND error_type NOT IN ('', 'parse_error')").fetchone()[0]
                con.close()
                refused = requests - a.n + lost
                print(f"{label:40} {requests:>8} {refused:>9} ({100.0 * refused / requests:5.1f}%) "
                      f"{lost:>5} ({100.0 * lost / a.n:4.1f}%)" + (f"  other errors {other}" if other else ""))
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
