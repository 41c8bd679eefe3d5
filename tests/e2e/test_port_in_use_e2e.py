#!/usr/bin/env python3
"""Regression test (issue "What broke when tried as a new user would", item
4): a port already in use is an error at start-up, never a shared listener.

A first worker binds OTLP and ops ports; a second worker asked for the same
OTLP port, then for the same ops port, exits 2 naming the address and saying
it is in use, and the first worker keeps answering. `assay review --listen`
on a port in use does the same. Everything on 127.0.0.1."""
import os
import sys
import tempfile
import urllib.request

from e2e_common import Worker, arguments, check, finish, run

a = arguments().parse_args()

with tempfile.TemporaryDirectory(prefix="assay-ports-") as tmp:
    db1, db2 = os.path.join(tmp, "one.db"), os.path.join(tmp, "two.db")
    first = Worker(a.assay, ["--db", db1, "--otlp-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                   need=("otlp", "http"))
    try:
        otlp, http = first.endpoints["otlp"], first.endpoints["http"]
        print("first worker:", first.line.strip())

        r = run([a.assay, "worker", "--db", db2, "--otlp-listen", otlp], timeout=30)
        check(r.returncode == 2, "a second worker on the same OTLP port exits 2 (got %s)" % r.returncode)
        check(otlp in r.stderr and "already in use" in r.stderr,
              "its error names the address and says it is in use: " + r.stderr.strip())
        check("listening" not in r.stdout, "it never says it is listening")

        r = run([a.assay, "worker", "--db", db2, "--otlp-listen", "127.0.0.1:0", "--http-listen", http],
                timeout=30)
        check(r.returncode == 2, "a second worker on the same ops port exits 2 (got %s)" % r.returncode)
        check(http in r.stderr and "already in use" in r.stderr,
              "its error names the ops address: " + r.stderr.strip())

        r = run([a.assay, "review", "--db", db1, "--listen", http], timeout=30)
        check(r.returncode == 2, "assay review on a port in use exits 2 (got %s)" % r.returncode)
        check(http in r.stderr and "already in use" in r.stderr,
              "its error names the address: " + r.stderr.strip())

        body = urllib.request.urlopen("http://" + http + "/healthz", timeout=5).read().decode()
        check(body.strip() == "ok", "the first worker still answers /healthz")
        metrics = first.metrics()
        check("assay_otlp_requests_total" in metrics, "the first worker's /metrics is still its own")
    finally:
        code = first.stop()
    check(code == 0, "the first worker drains and exits 0 (got %s)" % code)

sys.exit(finish())
