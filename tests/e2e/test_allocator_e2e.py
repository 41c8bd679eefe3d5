#!/usr/bin/env python3
"""The `assay` binary runs on the allocator it was built with (CMake option
ASSAY_ALLOCATOR, README "Memory allocator"): `assay --version` names it, and
with tcmalloc every malloc and operator new of the process (the binary's own,
libstdc++'s, libc's, SQLite's) binds to libtcmalloc_minimal, not to glibc, and
a running worker has it mapped. A link that dropped the library (the linker's
--as-needed) or let glibc's malloc win the symbol lookup fails here."""
import os
import re
import sys
import tempfile

from e2e_common import Worker, arguments, check, finish, run

ap = arguments()
ap.add_argument("--allocator", required=True, help="ASSAY_ALLOCATOR of the build: tcmalloc or system")
a = ap.parse_args()

r = run([a.assay, "--version"], timeout=30)
check(r.returncode == 0 and re.fullmatch(r"assay \S+ \(malloc: %s\)" % a.allocator, r.stdout.strip()) is not None,
      "--version names the build's allocator: " + r.stdout.strip())


def bindings(symbol):
    """{file that calls `symbol`: the library the dynamic linker bound it to}."""
    env = dict(os.environ, LD_DEBUG="bindings")
    out = run([a.assay, "--version"], env=env, timeout=30).stderr
    found = {}
    for line in out.splitlines():
        if "binding file" in line and "normal symbol `%s'" % symbol in line:
            caller, target = line.split("binding file ", 1)[1].split(" to ", 1)
            found[caller.split(" [")[0]] = target.split(" [")[0]
    return found


malloc, new = bindings("malloc"), bindings("_Znwm")
check(bool(malloc) and bool(new), "the dynamic linker reported malloc and operator new bindings (%d, %d)"
      % (len(malloc), len(new)))
want = "libtcmalloc_minimal" if a.allocator == "tcmalloc" else "libc.so"
wrong = {k: v for k, v in malloc.items() if want not in v}
check(not wrong, "every malloc binds to %s (others: %s)" % (want, sorted(wrong.items())[:3]))
if a.allocator == "tcmalloc":
    wrong = {k: v for k, v in new.items() if want not in v}
    check(not wrong, "every operator new binds to %s (others: %s)" % (want, sorted(wrong.items())[:3]))

with tempfile.TemporaryDirectory(prefix="assay-alloc-") as tmp:
    w = Worker(a.assay, ["--db", os.path.join(tmp, "a.db"), "--otlp-listen", "127.0.0.1:0"], need=("otlp",))
    try:
        with open("/proc/%d/maps" % w.p.pid) as f:
            mapped = "libtcmalloc_minimal" in f.read()
        check(mapped == (a.allocator == "tcmalloc"),
              "a running worker %s libtcmalloc_minimal mapped" % ("has" if mapped else "does not have"))
    finally:
        check(w.stop() == 0, "the worker stops cleanly on SIGTERM")

sys.exit(finish())
