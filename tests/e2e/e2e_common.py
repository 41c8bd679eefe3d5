"""Helpers shared by the end-to-end test scripts under tests/e2e.

A script imports this module after putting its own folder on sys.path, so it
works from any working directory:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from e2e_common import FAILS, check, run  # noqa: E402

Nothing here decides whether a test passes: every helper either records a
check the script states itself (check), runs a real process, or reads the real
store. Each script is a separate process, so FAILS is per test.
"""
import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

FAILS = []
CHECKED = []  # one entry per check() call: a script that checked nothing fails


def check(cond, what):
    """Prints "ok   what" or "FAIL what" (flushed, so it interleaves with the
    output of child processes) and records a failure in FAILS."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    CHECKED.append(what)
    if not cond:
        FAILS.append(what)


def finish(passed="all checks passed"):
    """The exit code of a script: prints how many checks failed (or `passed`),
    returns 1 when any failed or when no check ran at all (a test that checked
    nothing never passes), else 0."""
    if FAILS:
        print("\n%d check(s) failed" % len(FAILS), flush=True)
        return 1
    if not CHECKED:
        print("\nFAIL no check ran: nothing was tested", flush=True)
        return 1
    print("\n%d checks, %s" % (len(CHECKED), passed), flush=True)
    return 0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, **kw):
    """subprocess.run capturing text output (undecodable bytes replaced)."""
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", **kw)


def without_timestamp(path):
    """A JSON report file's content without its generated_at field."""
    with open(path, "rb") as f:
        data = json.loads(f.read())
    data.pop("generated_at")
    return data


# --- datasets/demo/generate.py -------------------------------------------------

def generate(source, out, *args, **kw):
    """Runs the demo traffic generator (datasets/demo/generate.py under the
    source tree) writing to `out`; extra generator arguments in args, extra
    subprocess.run arguments (e.g. check=True) in kw."""
    gen = os.path.join(source, "datasets", "demo", "generate.py")
    return run([sys.executable, gen, *args, "--out", out], **kw)


def bad_lines(stderr):
    """The generator's `bad_lines_json {...}` stderr line: (lines by kind, number
    of hostile lines that must be dead-lettered, i.e. all but blank lines)."""
    bad = json.loads(next(l for l in stderr.splitlines() if l.startswith("bad_lines_json "))[15:])
    return bad, sum(len(v) for k, v in bad.items() if k != "empty_line")


# --- SQLite --------------------------------------------------------------------

def query_one(db, sql, args=(), timeout=10):
    """The first column of the first row of a query on a fresh connection.
    db: a SQLite file's path, or a StoreDb (either backend; `?` placeholders)."""
    if isinstance(db, StoreDb):
        return db.one(sql, *args)
    con = sqlite3.connect(db, timeout=timeout)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def query_all(db, sql, args=(), timeout=5):
    """All rows of a query on a fresh connection (db as for query_one)."""
    if isinstance(db, StoreDb):
        return db.all(sql, *args)
    con = sqlite3.connect(db, timeout=timeout)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(db, sql, want, seconds=20, args=(), timeout=10):
    """Polls query_one every 0.1 s until it returns `want` or `seconds` pass;
    returns the last value (None when the last query failed). db as for
    query_one."""
    deadline = time.time() + seconds
    got = None
    while time.time() < deadline:
        try:
            got = query_one(db, sql, args, timeout)
        except (sqlite3.Error, RuntimeError):  # RuntimeError: psql failed
            got = None
        if got == want:
            return got
        time.sleep(0.1)
    return got


# --- either store backend (SQLite file or PostgreSQL database) ------------------

class StoreDb:
    """Reads a store the way a test states its checks, on either backend:
    one(sql, *args) is the first column of the first row, all(sql, *args)
    every row. `?` placeholders take args: sqlite3 binds them; for
    PostgreSQL (read with psql, which comes with the server) they become
    quoted literals, so args must be test values (ints, floats, strings).
    Integer-looking PostgreSQL values come back as int, NULL as None."""

    def __init__(self, location, psql=None):
        self.location = location
        self.psql = psql  # the psql binary when location is a postgresql:// URI

    def all(self, sql, *args):
        if self.psql is None:
            con = sqlite3.connect(self.location, timeout=10)
            try:
                return con.execute(sql, args).fetchall()
            finally:
                con.close()
        parts = sql.split("?")
        if len(parts) - 1 != len(args):
            raise ValueError("%d placeholders, %d args: %s" % (len(parts) - 1, len(args), sql))
        text = parts[0]
        for a, rest in zip(args, parts[1:]):
            lit = str(a) if isinstance(a, (int, float)) else "'" + str(a).replace("'", "''") + "'"
            text += lit + rest
        r = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-F", "\x1f", "-P", "null=\x1e",
                            "-v", "ON_ERROR_STOP=1", "-d", self.location, "-c", text],
                           capture_output=True, text=True, errors="replace")
        if r.returncode != 0:
            raise RuntimeError("psql %r: %s" % (text, r.stderr))

        def value(v):
            if v == "\x1e":
                return None
            try:
                return int(v)
            except ValueError:
                return v
        # split("\n"), not splitlines(): that also splits at \x1e and \x1f.
        return [tuple(value(v) for v in line.split("\x1f")) for line in r.stdout.split("\n") if line]

    def one(self, sql, *args):
        rows = self.all(sql, *args)
        return rows[0][0] if rows else None

    def execute(self, sql, *args):
        """Runs a statement that writes (committed; no rows returned)."""
        if self.psql is None:
            con = sqlite3.connect(self.location, timeout=10)
            try:
                con.execute(sql, args)
                con.commit()
            finally:
                con.close()
            return
        self.all(sql, *args)

    def tables(self):
        """{table: [(column, is_binary)]} of every base table of the store."""
        out = {}
        if self.psql is None:
            con = sqlite3.connect(self.location, timeout=10)
            try:
                for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                    out[t] = [(r[1], False) for r in con.execute("PRAGMA table_info(%s)" % t)]
            finally:
                con.close()
            return out
        for t, c, typ in self.all("SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
                                  "JOIN information_schema.tables t ON t.table_name = c.table_name AND "
                                  "t.table_schema = c.table_schema WHERE c.table_schema = 'public' AND "
                                  "t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position"):
            out.setdefault(t, []).append((c, typ == "bytea"))
        return out

    def count_containing(self, table, column, binary, needle):
        """Rows of table whose column (any type, as text or bytes) contains needle."""
        if self.psql is None:
            return self.one("SELECT count(*) FROM %s WHERE instr(CAST(%s AS BLOB), CAST(? AS BLOB)) > 0"
                            % (table, column), needle)
        if binary:
            return self.one("SELECT count(*) FROM %s WHERE position(convert_to(?, 'UTF8') in %s) > 0"
                            % (table, column), needle)
        return self.one("SELECT count(*) FROM %s WHERE strpos(%s::text, ?) > 0" % (table, column), needle)

    def columns_containing(self, needle):
        """[(table, column, rows)] of every column of every table in which
        `rows` rows (> 0) contain needle, read in one query on PostgreSQL (one
        psql per column took over a minute for the erasure test)."""
        found = []
        cols = self.tables()
        if self.psql is None:
            for t, cs in cols.items():
                for c, binary in cs:
                    n = self.count_containing(t, c, binary, needle)
                    if n:
                        found.append((t, c, n))
            return found
        parts, args = [], []
        for t, cs in cols.items():
            for c, binary in cs:
                where = ("position(convert_to(?, 'UTF8') in \"%s\") > 0" % c if binary
                         else "strpos(\"%s\"::text, ?) > 0" % c)
                parts.append("SELECT '%s', '%s', count(*) FROM \"%s\" WHERE %s" % (t, c, t, where))
                args.append(needle)
        for t, c, n in self.all(" UNION ALL ".join(parts), *args):
            if n:
                found.append((t, c, n))
        return found

    def query(self, sql, args=()):
        """Like sqlite3's connection.execute(sql, args) for reads in scripts
        written against it: the rows, read now, behind fetchone()/fetchall()."""
        return _Rows(self.all(sql, *args))


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows


def add_backend_argument(ap):
    """--backend sqlite|postgres for scripts that run on either store."""
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    return ap


def missing_server(e):
    """True when `e` is pg_server.MissingServer: the PostgreSQL server
    binaries are not installed (a script then exits 77, skipped)."""
    return type(e).__name__ == "MissingServer"


def on_backend(a, tmp, scenario, backend=None, durable=False):
    """scenario(a, tmp, backend) on a StoreBackend(backend or a.backend, tmp,
    durable), stopped after; its return value, or 77 (skipped, the reason
    printed) when the PostgreSQL server binaries are missing."""
    try:
        backend = StoreBackend(backend or a.backend, tmp, durable=durable)
    except Exception as e:  # noqa: BLE001 (only a missing server is a skip)
        if not missing_server(e):
            raise
        print("SKIP: %s" % e)
        return 77
    with backend:
        return scenario(a, tmp, backend)


class StoreBackend:
    """A fresh store for a test: a SQLite file under `tmp`, or a database on
    a private PostgreSQL server (tests/support/pg_server.py) that stop()
    (or leaving the `with`) shuts down. new_store(name) gives another
    empty store's (location, StoreDb); yaml(location) the `store:` block
    that points a config at it. Raises pg_server.MissingServer when the
    PostgreSQL server binaries are missing (the script then exits 77)."""

    def __init__(self, backend, tmp, durable=False):
        self.backend = backend
        self.tmp = tmp
        self.pg = None
        if backend == "postgres":
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
            import pg_server  # noqa: E402
            self.pg = pg_server.PgServer(durable=durable).start()

    def new_store(self, name):
        if self.pg is None:
            path = os.path.join(self.tmp, name + ".db")
            return path, StoreDb(path)
        uri = self.pg.create_db(name)
        return uri, StoreDb(uri, os.path.join(self.pg.bin, "psql"))

    def yaml(self, location):
        key = "postgres" if self.pg is not None else "sqlite"
        return "store: {%s: '%s'}\n" % (key, location)

    def stop(self):
        if self.pg is not None:
            self.pg.stop()
            self.pg = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# --- the standalone fake provider (tests/fake_provider) ------------------------

def control(base, name, body=None):
    """A fake provider control call: GET /_control/<name>, or POST with a JSON
    body when body is not None. Returns the decoded JSON answer."""
    req = urllib.request.Request(base + "/_control/" + name, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))


class FakeProvider:
    """The fake_provider executable with the given arguments, on 127.0.0.1
    port 0; `base` (http://127.0.0.1:PORT) comes from its "listening
    127.0.0.1:PORT" line. stop() terminates it; also a context manager."""

    def __init__(self, exe, *args):
        self.proc = subprocess.Popen([exe, *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        try:
            self.base = "http://127.0.0.1:%d" % int(line.split(":")[1])
        except (IndexError, ValueError):
            self.proc.kill()
            self.proc.wait(10)
            raise RuntimeError("fake provider did not start: %r" % line)

    def control(self, name, body=None):
        return control(self.base, name, body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- assay worker --------------------------------------------------------------

ENDPOINTS = ("router", "pull", "http", "otlp", "otlp_grpc")


def worker_endpoints(line):
    """The name=address endpoints (router, pull, http, otlp, otlp_grpc) of the worker's
    "assay worker: listening ..." line."""
    return dict(part.split("=", 1) for part in line.split() if part.split("=", 1)[0] in ENDPOINTS and "=" in part)


class Worker:
    """`assay worker ARGS...`; its first stdout line (`line`) names the bound
    endpoints (`endpoints`). When an endpoint named in `need` is missing it
    raises RuntimeError with that line (and stderr when piped)."""

    def __init__(self, assay, args, need=("router",), env=None, stderr=subprocess.PIPE):
        self.p = subprocess.Popen([assay, "worker", *args], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        self.line = self.p.stdout.readline()
        self.endpoints = worker_endpoints(self.line)
        if any(n not in self.endpoints for n in need):
            err = self.p.stderr.read() if stderr == subprocess.PIPE else ""
            raise RuntimeError("worker did not start: " + self.line + err)

    def metrics(self, timeout=5):
        """The text of its /metrics (needs --http-listen)."""
        return urllib.request.urlopen("http://" + self.endpoints["http"] + "/metrics", timeout=timeout).read().decode()

    def metric(self, name):
        """The value of one sample of its /metrics (name with labels, e.g.
        'assay_otlp_requests_total{code="503"}'), or None when absent."""
        for line in self.metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig and waits: the exit code, or None (and SIGKILL) after timeout seconds."""
        self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def arguments(fake=False):
    """The command line every e2e script takes from tests/CMakeLists.txt:
    --assay (the binary) and --source (the source tree), and --fake (the
    fake_provider executable) when fake. Returns the ArgumentParser, so a
    script can add its own options before parse_args()."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--assay", required=True)
    ap.add_argument("--source", required=True)
    if fake:
        ap.add_argument("--fake", required=True, help="the fake_provider executable (tests/fake_provider)")
    return ap


# --- a script's main() on either store backend (h24b) ----------------------------

def run_on_backend(scenario, prefix="assay-e2e-", fake=False, passed="all checks passed"):
    """The whole main() of a script that runs on either backend: parses the
    e2e arguments (arguments(fake) plus --backend), runs scenario(a, tmp,
    backend) through on_backend in a fresh temporary folder (prefix), and
    returns the exit code: 77 when skipped, else finish(passed)."""
    import tempfile
    a = add_backend_argument(arguments(fake=fake)).parse_args()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        rc = on_backend(a, tmp, scenario)
    return rc if rc == 77 else finish(passed)
