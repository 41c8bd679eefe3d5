#!/usr/bin/env python3
"""A data-driven test that finds no case fails: it never passes on "0/0".
Runs the real conformance and measurement binaries on data files that exist
but hold nothing to check, and the e2e harness with no check at all.

    test_no_cases_never_pass_e2e.py --eval assay_eval --schema-suite schema_suite
"""
import argparse
import base64
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_common import check, finish, run  # noqa: E402


def suite_file(tmp, name, cases):
    """A JSONTestSuite-format file of (label, bytes) cases; returns its path."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        for i, (label, data) in enumerate(cases):
            f.write(json.dumps({"id": f"case_{i}", "label": label, "output_b64": base64.b64encode(data).decode()}) + "\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", required=True)
    ap.add_argument("--schema-suite", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "jsontestsuite.dev.jsonl")
        open(empty, "w").close()
        r = run([a.schema_suite, "jsontestsuite", empty])
        check(r.returncode == 1 and "no 'invalid' case" in r.stdout,
              f"jsontestsuite on an empty file fails ({r.returncode}, {r.stdout!r})")

        r = run([a.schema_suite, "jsontestsuite", suite_file(tmp, "only_valid.jsonl", [("valid", b"[1]")])])
        check(r.returncode == 1 and "no 'invalid' case" in r.stdout,
              f"jsontestsuite with no invalid case fails ({r.returncode}, {r.stdout!r})")
        both = suite_file(tmp, "both.jsonl", [("valid", b"[1]"), ("invalid", b"[1,]")])
        r = run([a.schema_suite, "jsontestsuite", both])
        check(r.returncode == 0 and "valid accepted 1/1, invalid rejected 1/1" in r.stdout,
              f"jsontestsuite with one case of each passes ({r.returncode}, {r.stdout!r})")

        empty_dir = os.path.join(tmp, "draft7")
        os.mkdir(empty_dir)
        r = run([a.schema_suite, "draft7", empty_dir])
        check(r.returncode == 1 and "no case found" in r.stdout,
              f"draft7 on an empty folder fails ({r.returncode}, {r.stdout[-300:]!r})")
        r = run([a.schema_suite, "draft7", os.path.join(tmp, "missing")])
        check(r.returncode == 1 and "is not a folder" in r.stdout,
              f"draft7 on a missing folder fails ({r.returncode}, {r.stdout[-300:]!r})")

        data = os.path.join(tmp, "shared")
        os.mkdir(data)
        open(os.path.join(data, "xstest.dev.jsonl"), "w").close()
        r = run([a.eval, "--check", "--data", data])
        check(r.returncode == 1 and "holds no row" in r.stderr,
              f"assay_eval --check on an empty xstest fails ({r.returncode}, {r.stderr!r})")

    # The e2e harness itself: a script that ran no check fails.
    r = run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); import e2e_common; "
             "sys.exit(e2e_common.finish())" % HERE])
    check(r.returncode == 1 and "no check ran" in r.stdout,
          f"an e2e script that checked nothing fails ({r.returncode}, {r.stdout!r})")
    return finish("data-driven tests fail when they find no case")


if __name__ == "__main__":
    sys.exit(main())
