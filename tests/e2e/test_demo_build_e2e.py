#!/usr/bin/env python3
"""The README's main-job command (ci/demo.sh) builds only the `assay` binary
and installs only the build packages; the test command (ci/test.sh) builds
every target and installs every package. Runs copies of ci/build.sh with stub
`cmake` and ci/install-deps.sh that record their arguments, and checks which
build each of ci/demo.sh and ci/test.sh asks for.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import arguments, check, finish  # noqa: E402


def stub(path, log):
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def build_calls(script):
    """The arguments of each `bash ci/build.sh` line of a ci script."""
    return [m.group(1).split() for m in re.finditer(r"^bash ci/build\.sh(.*)$", open(script).read(), re.M)]


def run_build(source, tmp, args):
    """Runs a copy of ci/build.sh with `args`; returns the lines the stubs logged."""
    root = os.path.join(tmp, "repo-%d" % len(os.listdir(tmp)))
    os.makedirs(os.path.join(root, "ci"))
    shutil.copy(os.path.join(source, "ci", "build.sh"), os.path.join(root, "ci", "build.sh"))
    log, bin_dir = os.path.join(root, "log"), os.path.join(root, "bin")
    os.makedirs(bin_dir)
    stub(os.path.join(bin_dir, "cmake"), log)
    stub(os.path.join(root, "ci", "install-deps.sh"), log)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    r = subprocess.run(["bash", os.path.join(root, "ci", "build.sh"), *args], env=env, capture_output=True, text=True)
    return r.returncode, open(log).read().splitlines() if os.path.exists(log) else []


def main():
    a = arguments().parse_args()
    demo = build_calls(os.path.join(a.source, "ci", "demo.sh"))
    test = build_calls(os.path.join(a.source, "ci", "test.sh"))
    check(demo == [["--target", "assay"]], f"ci/demo.sh builds with --target assay only ({demo})")
    check(test == [[]], f"ci/test.sh builds everything ({test})")
    with tempfile.TemporaryDirectory() as tmp:
        rc, log = run_build(a.source, tmp, demo[0] if demo else [])
        build = [l for l in log if l.startswith("cmake --build")]
        check(rc == 0 and "install-deps.sh --build-only" in log, f"demo build: only the build packages ({log})")
        check(len(build) == 1 and build[0].split()[-2:] == ["--target", "assay"],
              f"demo build: cmake --build ... --target assay ({build})")
        rc, log = run_build(a.source, tmp, ["-DFOO=1"])
        build = [l for l in log if l.startswith("cmake --build")]
        configure = [l for l in log if l.startswith("cmake -S")]
        check(rc == 0 and "install-deps.sh " in log, f"full build: every package ({log})")
        check(len(build) == 1 and "--target" not in build[0], f"full build: every target ({build})")
        check(len(configure) == 1 and configure[0].endswith("-DFOO=1"), f"extra cmake arguments reach cmake ({configure})")
    return finish("the demo builds only the binary, the tests build everything")


if __name__ == "__main__":
    sys.exit(main())
