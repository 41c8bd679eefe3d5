#!/usr/bin/env python3
"""A fresh clone has no ../shared/data: the tests that measure on it must be
reported Skipped by ctest (with the path they looked at), not failed and not
passed. Runs the real measurement binaries on an empty folder and reads the
test properties ctest registered.

    test_shared_data_absent_e2e.py --eval assay_eval --schema-suite schema_suite --build BUILD_DIR
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, finish, run  # noqa: E402

SKIPPED = 77  # tests/support/shared_data.h k_exit_skipped; ctest SKIP_RETURN_CODE
SHARED_TESTS = ("eval.refusal_xstest", "schema_suite.jsontestsuite")


def says_why(r, path):
    out = r.stdout + r.stderr
    return f"shared data not found at {path}" in out and "ASSAY_SHARED_DATA_DIR" in out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", required=True)
    ap.add_argument("--schema-suite", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "ASSAY_SHARED_DATA_DIR"}
    with tempfile.TemporaryDirectory() as empty:
        xstest = os.path.join(empty, "xstest.dev.jsonl")
        r = run([a.eval, "--check", "--data", empty], env=env)
        check(r.returncode == SKIPPED and says_why(r, xstest),
              f"assay_eval --check without data: exit {SKIPPED} naming the path ({r.returncode}, {r.stdout!r})")
        r = run([a.eval, "--check"], env=dict(env, ASSAY_SHARED_DATA_DIR=empty))
        check(r.returncode == SKIPPED and says_why(r, xstest),
              f"assay_eval reads the folder from the environment variable ({r.returncode}, {r.stdout!r})")
        suite = os.path.join(empty, "jsontestsuite.dev.jsonl")
        r = run([a.schema_suite, "jsontestsuite", suite], env=env)
        check(r.returncode == SKIPPED and says_why(r, suite),
              f"schema_suite jsontestsuite without data: exit {SKIPPED} naming the path ({r.returncode}, "
              f"{r.stdout!r})")

    # ctest turns that exit code into Skipped for every test on the shared data.
    show = subprocess.run(["ctest", "--show-only=json-v1"], cwd=a.build, capture_output=True, text=True)
    tests = {t["name"]: t for t in json.loads(show.stdout).get("tests", [])} if show.returncode == 0 else {}
    for name in SHARED_TESTS:
        props = {p["name"]: p["value"] for p in tests.get(name, {}).get("properties", [])}
        check(props.get("SKIP_RETURN_CODE") == SKIPPED, f"ctest: {name} has SKIP_RETURN_CODE {SKIPPED} ({props})")
    return finish("the shared-data tests skip, with the reason, when the data is absent")


if __name__ == "__main__":
    sys.exit(main())
