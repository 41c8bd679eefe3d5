#!/usr/bin/env python3
"""Regression test (issue "Servers that hold against hostile clients", item 7):
a store that cannot be written says why, instead of SQLite's bare "unable to
open database file".

- a store in a folder that does not exist names the folder;
- a store on a read-only mount (a read-only bind mount of a temporary folder
  holding a store made by `assay score`) says the file system is mounted
  read-only, for a writer (`assay score`) and for a reader (`assay bottom`),
  and exits non-zero. Making the mount needs CAP_SYS_ADMIN (CI runs as root);
  without it that part is skipped (exit 77) with the reason."""
import os
import subprocess
import sys
import tempfile

from e2e_common import arguments, check, finish, run

a = arguments().parse_args()
traces = os.path.join(a.source, "datasets", "demo", "traces.jsonl")

with tempfile.TemporaryDirectory(prefix="assay-rostore-") as tmp:
    missing = os.path.join(tmp, "no-such-folder", "a.db")
    r = run([a.assay, "score", "--db", missing, "--in", traces, "--quiet"], timeout=60)
    check(r.returncode != 0, "a store in a missing folder is refused (rc=%s)" % r.returncode)
    check("the folder '%s' does not exist" % os.path.dirname(missing) in r.stderr,
          "the error names the missing folder: " + r.stderr.strip())

    src, ro = os.path.join(tmp, "src"), os.path.join(tmp, "ro")
    os.makedirs(src)
    os.makedirs(ro)
    r = run([a.assay, "score", "--db", os.path.join(src, "a.db"), "--in", traces, "--quiet"], timeout=120)
    check(r.returncode == 0, "a store made to be mounted read-only (rc=%s %s)" % (r.returncode, r.stderr[-200:]))
    mounted = subprocess.run(["mount", "--bind", src, ro], capture_output=True, text=True)
    if mounted.returncode == 0:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", ro], capture_output=True, text=True)
    if mounted.returncode != 0 or remount.returncode != 0:
        if mounted.returncode == 0:
            subprocess.run(["umount", ro])
        print("SKIPPED the read-only mount part: cannot make a read-only bind mount here (needs "
              "CAP_SYS_ADMIN): " + (mounted.stderr or remount.stderr).strip())
        sys.exit(finish() or 77)
    try:
        for args, who in ((["score", "--db", os.path.join(ro, "b.db"), "--in", traces, "--quiet"], "a new store"),
                          (["score", "--db", os.path.join(ro, "a.db"), "--in", traces, "--quiet"], "a writer"),
                          (["bottom", "--db", os.path.join(ro, "a.db"), "--scorer", "refusal"], "a reader")):
            r = run([a.assay] + args, timeout=60)
            check(r.returncode != 0, "%s on a read-only mount exits non-zero (rc=%s)" % (who, r.returncode))
            check("is mounted read-only" in r.stderr and "'%s'" % ro in r.stderr,
                  "%s: the error says the mount is read-only: %s" % (who, r.stderr.strip()))
    finally:
        subprocess.run(["umount", ro])

sys.exit(finish())
