#!/usr/bin/env python3
"""The layer check itself: it passes on this repository, and it fails, naming
the file, line and rule, on a copy of worker/layers.txt with a tree that
breaks it (an include that reaches up, an unknown folder, a scorer reaching
into a stage)."""
import pathlib
import shutil
import subprocess
import sys
import tempfile

root = pathlib.Path(sys.argv[1]).resolve()
script = root / "ci" / "check_layers.py"
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def run(repo):
    r = subprocess.run([sys.executable, str(script), str(repo)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


code, out = run(root)
check(code == 0 and "every include allowed" in out, "the repository passes: " + out.strip().splitlines()[-1])

with tempfile.TemporaryDirectory() as tmp:
    repo = pathlib.Path(tmp)
    (repo / "worker").mkdir()
    shutil.copy(root / "worker/layers.txt", repo / "worker/layers.txt")
    layers = [l.split(":")[0] for l in (repo / "worker/layers.txt").read_text().splitlines()
              if l and not l.startswith("#") and "/" not in l.split(":")[0] and l.split(":")[0] != "scorers"]
    for layer in layers:
        (repo / "worker" / layer).mkdir()
    (repo / "scorers" / "length").mkdir(parents=True)
    (repo / "worker/core/ok.h").write_text('#pragma once\n#include <string>\n#include "core/status.h"\n')
    (repo / "worker/pipeline/ok.cpp").write_text('#include "store/store.h"\n#include "core/trace.h"\n')
    code, out = run(repo)
    check(code == 0, "a tree that keeps the rules passes")

    (repo / "worker/store/up.cpp").write_text('#include "core/status.h"\n\n#include "pipeline/pipeline.h"\n')
    code, out = run(repo)
    check(code == 1 and "worker/store/up.cpp:3" in out and 'store may not include "pipeline/...' in out,
          "an include from store/ up into pipeline/ fails, naming file:line: " + out.strip().splitlines()[0])
    (repo / "worker/store/up.cpp").unlink()

    (repo / "worker/core/cfg.h").write_text('#include "config/config.h"\n')
    code, out = run(repo)
    check(code == 1 and "worker/core/cfg.h:1" in out, "core/ including config/ fails")
    (repo / "worker/core/cfg.h").unlink()

    (repo / "scorers/length/l.cpp").write_text('#include "judge/rubric.h"\n')
    code, out = run(repo)
    check(code == 1 and "scorers/length/l.cpp:1" in out, "a scorer including judge/ fails")
    (repo / "scorers/length/l.cpp").unlink()

    (repo / "worker/stray").mkdir()
    code, out = run(repo)
    check(code != 0 and "differ" in out, "a worker/ folder missing from the table fails")

print(f"check_layers self-test: {len(fails)} failed")
sys.exit(1 if fails else 0)
