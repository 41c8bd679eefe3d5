#!/usr/bin/env python3
"""End-to-end: right-to-erasure and bounded retention with the real `assay`.

Erasure: traffic of several users and tenants (plus hostile lines that name
them and end up as dead letters, judge-queue entries, judgements, labels,
tenant-keyed aggregates and alerts) is stored; `assay erase --user` and
`assay erase --tenant` must leave no trace of the id in any column of any
table, nor in the database file's bytes, while everyone else's data stays.

Retention: repeated ingest + `assay retention apply` cycles with large
outputs; the file's page count must stop growing with the raw text (only the
small per-trace rows that are kept — metadata, scores — still add up).

Runs on either store (--backend sqlite|postgres). On PostgreSQL the checks
of the SQLite file's bytes do not apply (a plain VACUUM leaves deleted bytes
in free space until overwritten: README, PostgreSQL); the size measured per
cycle is pg_total_relation_size of the tables, in 8 KB pages.
"""
import json
import os
import random
import sqlite3
import sys
import tempfile
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (add_backend_argument, arguments, check, finish, run,  # noqa: E402
                        on_backend)

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
USER = "user-qq-4411"
TENANT = "tenant-zz-9731"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def occurrences(store, needle):
    """(table, column, rows) of every column of every table that contains `needle`."""
    return store.columns_containing(needle)


def file_contains(db, needle):
    if db.startswith("postgresql://"):
        return []  # not a file (see the module docstring)
    hits = []
    for p in (db, db + "-wal"):
        if os.path.exists(p):
            with open(p, "rb") as f:
                if needle.encode() in f.read():
                    hits.append(os.path.basename(p))
    return hits


def erasure(a, tmp, backend):
    db, store = backend.new_store("e")
    cfg = os.path.join(tmp, "e.yaml")
    with open(cfg, "w") as f:
        f.write(backend.yaml(db) + """
scorers:
  - {name: length, type: length, measure: words, min_words: 3}
alerts:
  rules:
    - {name: short-by-tenant, kind: pass_rate_below, scorer: length, by: tenant, window: 7d, below: 0.9, min_count: 20}
""")
    lines = []
    tenants = ["acme", "globex", TENANT]
    for i in range(600):
        tenant = tenants[i % 3]
        user = USER if i % 10 == 0 else "user-%d" % (i % 13)
        # The tenant to erase answers in 1-2 words: its pass rate alerts.
        words = 1 if tenant == TENANT else 8
        lines.append(json.dumps({
            "trace_id": "t%d" % i, "timestamp": iso(NOW - timedelta(minutes=5 * i + 1)),
            "input": "hi", "output": " ".join(["word"] * words),
            "metadata": {"feature": "chat", "tenant": tenant, "user_id": user, "prompt_version": "v1"}}))
    # Dead letters that name them: valid JSON with a bad field, invalid JSON, and a bystander.
    lines.append(json.dumps({"trace_id": "bad1", "output": 5, "metadata": {"user_id": USER, "tenant": "acme"}}))
    lines.append('{"trace_id": "bad2", "output": "x", "metadata": {"user_id": "%s", ' % USER)
    lines.append(json.dumps({"trace_id": "bad3", "output": 7, "metadata": {"tenant": TENANT}}))
    lines.append(json.dumps({"trace_id": "bad4", "output": 7, "metadata": {"tenant": "acme", "user_id": "x"}}))
    src = os.path.join(tmp, "e.jsonl")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    s = run([a.assay, "score", "--config", cfg, "--in", src, "--quiet"])
    check(s.returncode == 0, "score ingests erasure traffic (%s)" % s.stderr.strip()[-200:])
    sv = store.one("SELECT id FROM scorer_versions")
    store.execute("INSERT INTO judgements (trace, scorer_version, judge, model, rubric, rubric_version, rubric_hash, "
                  "score, reasoning, cost_usd, at_ms) SELECT id, ?, 'primary', 'm', 'helpfulness', '1', 'h', 4, "
                  "'fine', 0.01, 1 FROM traces WHERE id % 5 IN (0, 1)", sv)
    store.execute("INSERT INTO labels (trace, scorer_version, reviewer, verdict, note, at_ms) "
                  "SELECT id, ?, 'rev', 'agree', 'ok', 1 FROM traces WHERE id % 5 IN (0, 1)", sv)
    store.execute("INSERT INTO judge_queue (trace, scorer_version, enqueued_ms) SELECT id, ?, 1 FROM traces "
                  "WHERE id % 5 IN (0, 1) ON CONFLICT DO NOTHING", sv)
    total = store.one("SELECT count(*) FROM traces")
    n_user = store.one("SELECT count(*) FROM traces WHERE user_id = ?", USER)
    n_tenant = store.one("SELECT count(*) FROM traces WHERE tenant = ?", TENANT)
    n_both = store.one("SELECT count(*) FROM traces WHERE tenant = ? AND user_id = ?", TENANT, USER)
    dead = store.one("SELECT count(*) FROM dead_letters")
    check(dead == 4, "four dead letters stored")
    c = run([a.assay, "alerts", "check", "--config", cfg, "--now", iso(NOW)])
    check(c.returncode == 0, "alerts check runs (%s)" % c.stderr.strip())
    before = occurrences(store, TENANT)
    check(any(t == "aggregates" for t, _, _ in before) and any(t == "alerts" for t, _, _ in before),
          "before erasure the tenant is in aggregates and alerts: %s" % before)
    check(occurrences(store, USER) != [], "before erasure the user is stored")

    e = run([a.assay, "erase", "--db", db, "--user", USER])
    check(e.returncode == 0, "erase --user exits 0 (%s)" % e.stderr.strip())
    print("     " + e.stdout.strip())
    check(occurrences(store, USER) == [], "no column of any table holds the user id: %s" % occurrences(store, USER))
    check(file_contains(db, USER) == [], "the database file's bytes do not hold the user id")
    left = store.one("SELECT count(*) FROM traces")
    check(left == total - n_user, "everyone else's traces stay (%d of %d)" % (left, total))
    check(store.one("SELECT count(*) FROM dead_letters") == 2, "the two dead letters of others stay")
    agg = store.one("SELECT sum(seen) FROM aggregates WHERE bucket = 'day'")
    check(agg == total - n_user, "aggregates no longer count the erased traces (%s)" % agg)

    e = run([a.assay, "erase", "--db", db, "--tenant", TENANT])
    check(e.returncode == 0, "erase --tenant exits 0 (%s)" % e.stderr.strip())
    print("     " + e.stdout.strip())
    check(occurrences(store, TENANT) == [], "no column of any table holds the tenant id: %s" % occurrences(store, TENANT))
    check(file_contains(db, TENANT) == [], "the database file's bytes do not hold the tenant id")
    left = store.one("SELECT count(*) FROM traces")
    check(left == total - n_user - n_tenant + n_both, "other tenants' traces stay (%d)" % left)
    check(store.one("SELECT count(*) FROM dead_letters") == 1, "the bystander dead letter stays")
    check(store.one("SELECT count(*) FROM scores") == left, "scores of the rest stay")
    r = run([a.assay, "report", "--db", db, "--now", iso(NOW), "--by", "tenant", "--format", "json"])
    check(r.returncode == 0 and TENANT not in r.stdout and "acme" in r.stdout, "the report no longer shows the tenant")
    bad = run([a.assay, "erase", "--db", db])
    check(bad.returncode == 2 and "--user" in bad.stderr, "erase without an id is refused")


def size_pages(db, store):
    """The store's size in pages: the SQLite file's, or the tables' on PostgreSQL."""
    if store.psql is None:
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        n = con.execute("PRAGMA page_count").fetchone()[0]
        con.close()
        return n
    return store.one("SELECT (sum(pg_total_relation_size(c.oid)) / 8192)::bigint FROM pg_class c "
                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")


def retention(a, tmp, backend):
    db, store = backend.new_store("r")
    cfg = os.path.join(tmp, "r.yaml")
    with open(cfg, "w") as f:
        f.write(backend.yaml(db) + "retention: {raw_days: 2}\nscorers:\n  - {name: length, type: length}\n")
    pages = []
    per_cycle = 300
    big = " ".join(["lorem"] * 1200)  # ~7 KB of raw text per trace
    if store.psql is not None:
        # PostgreSQL compresses long text (TOAST): repeated words would take
        # almost no space, so there the ~7 KB are random hex digits.
        big = random.Random(5).getrandbits(4 * 7200).to_bytes(3600, "big").hex()
    for cycle in range(10):
        day = NOW + timedelta(days=cycle)
        src = os.path.join(tmp, "r%d.jsonl" % cycle)
        with open(src, "w") as f:
            for i in range(per_cycle):
                f.write(json.dumps({"trace_id": "c%d-%d" % (cycle, i), "timestamp": iso(day + timedelta(seconds=i)),
                                    "input": "q", "output": big, "metadata": {"feature": "chat"}}) + "\n")
        s = run([a.assay, "score", "--config", cfg, "--in", src, "--quiet"])
        # On PostgreSQL a plain VACUUM makes the pruned text's space reusable
        # (autovacuum would, later); SQLite reuses freed pages by itself.
        vacuum = ["--vacuum"] if store.psql is not None else []
        p = run([a.assay, "retention", "apply", "--config", cfg, "--now", iso(day + timedelta(hours=12))] + vacuum)
        if s.returncode != 0 or p.returncode != 0:
            check(False, "cycle %d: score/retention failed: %s %s" % (cycle, s.stderr, p.stderr))
            return
        pages.append(size_pages(db, store))
    growth = [b - a_ for a_, b in zip(pages, pages[1:])]
    print("     page counts per cycle: %s" % pages)
    first = pages[2]  # two days of raw text are kept
    # Growth over the late cycles, from the largest size of cycles 2-4: on
    # SQLite (sizes only grow) that is sum(growth[4:]); PostgreSQL's VACUUM
    # may cut freed pages off a table's end, so its size dips and refills.
    late = (pages[-1] - max(pages[2:5])) / len(growth[4:])
    check(late < 0.15 * first / 3,
          "with retention the store stops growing with the raw text: %.1f pages/cycle late vs %.1f of raw per cycle"
          % (late, first / 3))
    pruned = store.one("SELECT count(*) FROM traces WHERE raw LIKE '{\"raw_pruned\":true%'")
    kept = store.one("SELECT count(*) FROM traces WHERE length(raw) > 1000")
    scores = store.one("SELECT count(*) FROM scores")
    stub = json.loads(store.one("SELECT raw FROM traces WHERE trace_id = 'c0-0'"))
    check(pruned == 8 * per_cycle and kept == 2 * per_cycle, "raw text pruned after 2 days (%d pruned, %d kept)" % (pruned, kept))
    check(scores == 10 * per_cycle, "every score stays")
    check(stub.get("trace_id") == "c0-0" and stub.get("raw_pruned") is True and "timestamp" in stub,
          "a pruned trace keeps a stub with its id and timestamp: %s" % stub)
    t = run([a.assay, "trace", "--db", db, "c0-0", "--format", "json"])
    check(t.returncode == 0 and "raw_pruned" in t.stdout, "assay trace shows the stub of a pruned trace")


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        def scenario(a, tmp, backend):
            erasure(a, tmp, backend)
            retention(a, tmp, backend)
            return finish("all checks passed")
        return on_backend(a, tmp, scenario)


if __name__ == "__main__":
    sys.exit(main())
