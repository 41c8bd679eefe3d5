#!/usr/bin/env python3
"""End-to-end: the real `assay` binary on generated traffic with hostile lines.

Runs score / bottom / trace / sample / scorers as a user would and checks the
store: with Python's sqlite3, or with --backend postgres on a private
PostgreSQL server this script starts (`--db postgresql://...`; exit 77 when
the server binaries are missing). Exits non-zero when a check failed.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (add_backend_argument, arguments, bad_lines, check, finish, generate,  # noqa: E402
                        on_backend, run)
from scorer_configs import FIVE_SCORERS  # noqa: E402


def new_file_checks(a, tmp, db, cfg, traces):
    """A new SQLite file is built under a private name and appears whole: in WAL
    mode, with nothing left beside it; an interrupted run leaves nothing."""
    import glob
    import resource
    import signal
    import sqlite3
    import time
    check(glob.glob(db + ".building-*") == [], "no private build file is left beside the new store")
    con = sqlite3.connect(db)
    mode, = con.execute("PRAGMA journal_mode").fetchone()
    ok, = con.execute("PRAGMA integrity_check").fetchone()
    con.close()
    check(mode == "wal" and ok == "ok", f"the new store is in WAL mode and whole ({mode}, {ok})")
    # A bigger file (the traffic 100 times: about a second of scoring), so a
    # run can be caught while it builds.
    big = os.path.join(tmp, "big.jsonl")
    with open(traces, "rb") as f, open(big, "wb") as out:
        out.write(f.read() * 100)

    def start_building(target):
        p = subprocess.Popen([a.assay, "score", "--config", cfg, "--db", target, "--in", big, "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        private = target + ".building-%d" % p.pid
        deadline = time.time() + 30
        while not os.path.exists(private) and time.time() < deadline and p.poll() is None:
            time.sleep(0.002)
        p.send_signal(signal.SIGSTOP)  # held mid-run while the test looks
        return p, private

    # Interrupted mid-run: neither the store nor the private file is left.
    target = os.path.join(tmp, "interrupted.db")
    p, private = start_building(target)
    check(os.path.exists(private) and not os.path.exists(target),
          f"while it runs, the new store is built as {os.path.basename(private)} and not yet at its path")
    b = run([a.assay, "bottom", "--db", target, "--scorer", "json"])
    check(b.returncode != 0 and f"no store at '{target}' yet: assay score is building it as '{private}'" in b.stderr,
          f"a reader meanwhile is told the store is being built ({b.stderr.strip()!r})")
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGCONT)
    _, err = p.communicate(timeout=60)
    check(p.returncode == -signal.SIGINT, f"SIGINT ends the run as SIGINT does (rc={p.returncode}, {err[-200:]!r})")
    left = sorted(os.path.basename(x) for x in glob.glob(target + "*"))
    check(left == [], f"an interrupted run into a new file leaves nothing behind ({left})")
    # Killed with SIGKILL, a run leaves its private file; readers say so.
    p, private = start_building(target)
    p.kill()
    p.communicate(timeout=30)
    b = run([a.assay, "bottom", "--db", target, "--scorer", "json"])
    check(b.returncode != 0 and f"no store at '{target}'" in b.stderr
          and f"'{private}' was left by a run of assay score that did not finish" in b.stderr,
          f"after SIGKILL, a reader names the private file left behind ({b.stderr.strip()!r})")
    os.unlink(private)
    # A stream (stdin) is written in place: its store is there while it runs.
    streamed = os.path.join(tmp, "streamed.db")
    p = subprocess.Popen([a.assay, "score", "--config", cfg, "--db", streamed, "--in", "-", "--quiet"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(traces, "rb") as f:
        p.stdin.write(f.read())
    p.stdin.flush()
    deadline = time.time() + 30
    while not os.path.exists(streamed) and time.time() < deadline and p.poll() is None:
        time.sleep(0.01)
    check(os.path.exists(streamed) and glob.glob(streamed + ".building-*") == [],
          "a store fed from stdin is written in place while the stream is open")
    _, err = p.communicate(timeout=60)
    con = sqlite3.connect(streamed)
    n, = con.execute("SELECT count(*) FROM traces").fetchone()
    con.close()
    check(p.returncode == 0 and n == 300, f"the stream's traces are stored (rc={p.returncode}, {n})")
    # A store write that fails: files may not grow past 896 KiB
    # (RLIMIT_FSIZE, with SIGXFSZ ignored, so writes fail with EFBIG); the
    # empty schema (672 KiB) fits, the 300 traces do not. Exit 2, and nothing
    # is published or left.
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (896 << 10, 896 << 10))

    full = os.path.join(tmp, "full.db")
    r = subprocess.run([a.assay, "score", "--config", cfg, "--db", full, "--in", traces, "--quiet"],
                       capture_output=True, text=True, preexec_fn=small_files, timeout=120)
    left = sorted(os.path.basename(x) for x in glob.glob(full + "*"))
    check(r.returncode == 2 and f"nothing was stored in the new file '{full}'" in r.stderr and left == [],
          f"a failed store write publishes nothing and leaves nothing (rc={r.returncode}, {left}, "
          f"{r.stderr.strip()[-300:]!r})")


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    traces = os.path.join(tmp, "traffic.jsonl")
    g = generate(a.source, traces, "--n", "300", "--seed", "11", "--bad-lines", "27")
    check(g.returncode == 0, "generator ran")
    bad, n_bad = bad_lines(g.stderr)
    n_blank = len(bad.get("empty_line", []))

    cfg = os.path.join(tmp, "assay.yaml")
    db, store = backend.new_store("assay")
    with open(cfg, "w") as f:
        # store.sqlite is relative to the config: "assay.db" is `db`.
        f.write(("store: {sqlite: assay.db}\n" if a.backend == "sqlite" else backend.yaml(db))
                + "pipeline: {batch_size: 64}\n" + FIVE_SCORERS)
    r = run([a.assay, "score", "--config", cfg, "--in", traces, "--format", "json"])
    check(r.returncode == 0, f"score exits 0 despite bad lines (rc={r.returncode}, stderr={r.stderr[-300:]!r})")
    summary = json.loads(r.stdout) if r.returncode == 0 else {}
    check(summary.get("accepted") == 300, f"summary: 300 accepted ({summary.get('accepted')})")
    check(summary.get("rejected") == n_bad, f"summary: {n_bad} rejected ({summary.get('rejected')})")
    if a.backend == "sqlite":
        check(os.path.exists(db), "store is created next to the config (store.sqlite is relative to it)")
        new_file_checks(a, tmp, db, cfg, traces)
    check(summary.get("db") == db, f"the summary names the store ({summary.get('db')!r})")
    one = store.one
    check(one("SELECT count(*) FROM traces") == 300, "300 traces stored")
    check(one("SELECT count(*) FROM dead_letters") == n_bad, f"{n_bad} dead letters ({one('SELECT count(*) FROM dead_letters')})")
    check(one("SELECT count(*) FROM scores_view") == 300 * 5, "a decision for every trace x scorer")
    check(one("SELECT count(*) FROM scores_view WHERE decision = 'scored' AND value IS NULL") == 0, "no scored row without value")
    check(one("SELECT count(*) FROM scores_view WHERE decision <> 'scored' AND value IS NOT NULL") == 0, "no value on a non-scored row")
    blank_dl = one("SELECT count(*) FROM dead_letters WHERE line IN (%s)" % ",".join(map(str, bad["empty_line"]))) if n_blank else 0
    check(blank_dl == 0, "blank lines are skipped, not dead-lettered")

    expect = {
        "invalid_json": "invalid JSON",
        "missing_trace_id": "field 'trace_id' is required",
        "output_number": "field 'output': expected a string or an array of messages, got 42",
        "trace_id_too_long": "field 'trace_id': must be 1-256 bytes",
        "invalid_utf8": "invalid UTF-8 at byte",
        "deep_nesting": "JSON nests deeper than 64 levels",
        "metadata_string": "field 'metadata': expected an object, got the string \"feature=support_chat;tenant=acme-corp\"",
        "usage_wrong_type": "field 'usage.input_tokens': expected a non-negative integer",
    }
    for kind, lines in bad.items():
        if kind == "empty_line":
            continue
        for line in lines:
            rows = store.all("SELECT error, length(raw), raw_bytes FROM dead_letters WHERE line = ?", line)
            row = rows[0] if rows else None
            ok = row is not None and row[0].startswith(f"line {line}: ") and expect[kind] in row[0] and row[1] == row[2] > 0
            check(ok, f"line {line} ({kind}) dead-lettered with its raw bytes: {row[0] if row else None!r}")

    # Scoring the same file again: traces and scores are upserts.
    r2 = run([a.assay, "score", "--config", cfg, "--in", traces, "--quiet"])
    check(r2.returncode == 0, "second run exits 0")
    check(one("SELECT count(*) FROM traces") == 300, "re-scoring does not duplicate traces")
    check(one("SELECT count(*) FROM scores_view") == 300 * 5, "re-scoring does not duplicate scores")

    # stdin works too, and the ASSAY_DB environment variable picks the store.
    env_db, env_store = backend.new_store("env")
    env = dict(os.environ, ASSAY_DB=env_db)
    with open(traces, "rb") as f:
        r3 = subprocess.run([a.assay, "score", "--config", cfg, "--in", "-", "--quiet"], stdin=f, env=env, capture_output=True)
    check(r3.returncode == 0 and env_store.one("SELECT count(*) FROM traces") == 300,
          "stdin input into ASSAY_DB store")

    # bottom: failures first, JSON fields.
    b = run([a.assay, "bottom", "--db", db, "--scorer", "json", "--limit", "5", "--format", "json"])
    rows = json.loads(b.stdout) if b.returncode == 0 else []
    check(len(rows) == 5, f"bottom returns 5 rows (rc={b.returncode} {b.stderr[-200:]!r})")
    check(all({"trace_id", "scorer", "value", "passed", "explanation"} <= set(x) for x in rows), "bottom JSON fields")
    check(rows and rows[0]["passed"] is False, "failures come first")
    fails = one("SELECT count(*) FROM scores_view WHERE scorer='json' AND decision='scored' AND passed=0")
    check(fails >= 1, f"the generated traffic has broken JSON ({fails})")
    # bottom's input excerpt is the user's message, not the system prompt that leads a chat.
    inputs = {}
    for line in open(traces, "rb"):
        try:
            t = json.loads(line)
            inputs[t["trace_id"]] = t["input"]
        except (ValueError, KeyError, TypeError, RecursionError):
            pass  # the hostile lines
    b = run([a.assay, "bottom", "--db", db, "--scorer", "length", "--feature", "support_chat", "--limit", "5",
             "--format", "json"])
    chat = json.loads(b.stdout) if b.returncode == 0 else []
    check(len(chat) == 5, f"bottom: 5 support_chat rows ({b.returncode}, {b.stderr[-200:]!r})")
    for row in chat:
        msgs = inputs.get(row["trace_id"])
        user = [m["content"] for m in msgs if m["role"] == "user"][-1] if isinstance(msgs, list) else None
        check(user is not None and row["input_excerpt"].startswith(user[:40])
              and "support assistant" not in row["input_excerpt"],
              f"bottom JSON: {row['trace_id']} shows the user's message ({row['input_excerpt'][:60]!r})")
    b = run([a.assay, "bottom", "--db", db, "--scorer", "length", "--feature", "support_chat", "--limit", "1"])
    first = inputs.get(chat[0]["trace_id"]) if chat else None
    user = [m["content"] for m in first if m["role"] == "user"][-1] if isinstance(first, list) else "?"
    check(b.returncode == 0 and ("    input:  " + user[:15]) in b.stdout and "support assistant" not in b.stdout,
          f"bottom table: the input line is the user's message ({b.stdout[:300]!r})")
    bt = run([a.assay, "bottom", "--db", db, "--scorer", "nope"])
    check(bt.returncode == 1 and "no scorer named 'nope'" in bt.stderr, "bottom on an unknown scorer says so")

    # trace: every decision, with reasons.
    tid = rows[0]["trace_id"] if rows else ""
    t = run([a.assay, "trace", "--db", db, tid, "--format", "json"])
    tj = json.loads(t.stdout) if t.returncode == 0 else {}
    check(len(tj.get("decisions", [])) == 5, "trace shows one decision per scorer")

    if a.backend == "postgres":
        # A password in the URI is refused and never shown; the monitoring
        # commands (report) run on PostgreSQL too.
        leaky = db.replace("assay@", "assay:hunter2@", 1)
        for args in (["score", "--db", leaky, "--in", traces], ["bottom", "--db", leaky, "--scorer", "json"],
                     ["report", "--db", leaky]):
            e = run([a.assay, *args])
            check(e.returncode != 0 and "hunter2" not in e.stdout + e.stderr and "assay:***@" in e.stderr
                  and "PGPASSWORD" in e.stderr, f"{args[0]}: a password in --db is refused, masked ({e.stderr.strip()!r})")
        e = run([a.assay, "report", "--db", db, "--format", "json"])
        check(e.returncode == 0 and '"rows"' in e.stdout, f"report runs on PostgreSQL ({e.stderr.strip()!r})")

    # sample: same numbers as the one-line Python formula.
    s = run([a.assay, "sample", "--rate", "0.5", "--salt", "s", "a", "b", "trace-0001"])
    check(s.returncode == 0 and len(s.stdout.splitlines()) == 3, f"sample prints one line per id ({s.stdout!r})")
    for line in s.stdout.splitlines():
        tid, u, verdict = line.split("\t")
        ref = int.from_bytes(hashlib.sha256(("s:" + tid).encode()).digest()[:8], "big") / 2**64
        check(float(u) == ref and verdict == ("sampled" if ref < 0.5 else "skipped"), f"sample {tid} matches Python")

    # Unusable config and I/O are exit 2 with a message naming the problem.
    badcfg = os.path.join(tmp, "bad.yaml")
    with open(badcfg, "w") as f:
        f.write("scorers:\n  - {name: len, type: length, max_wordz: 3}\n")
    e = run([a.assay, "score", "--config", badcfg, "--in", traces])
    check(e.returncode == 2 and "unknown key 'max_wordz'" in e.stderr, f"bad config: exit 2 naming the key ({e.stderr.strip()!r})")
    e = run([a.assay, "score", "--config", cfg, "--in", os.path.join(tmp, "missing.jsonl")])
    check(e.returncode == 2 and "cannot open" in e.stderr, "missing input: exit 2")
    sc = run([a.assay, "scorers", "--format", "json"])
    types = {x["type"] for x in json.loads(sc.stdout)} if sc.returncode == 0 else set()
    check({"format", "refusal", "length", "pii_leak", "truncation", "judge"} <= types, "assay scorers lists the types")

    return finish("all end-to-end checks passed")


if __name__ == "__main__":
    sys.exit(main())
