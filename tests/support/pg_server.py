#!/usr/bin/env python3
"""A private PostgreSQL server for the tests (issue 13).

Never a system service or an existing cluster: `initdb` into a fresh
temporary folder, `pg_ctl` with its Unix socket inside that folder (no TCP listener,
so no port to find), trust authentication on that socket only, fsync off
(test data only). PostgreSQL refuses to run as root, so when the tests run as
root the server runs as the package's `postgres` user (runuser).

Every server started is stopped: by PgServer.stop(), by the context manager,
at interpreter exit (atexit) and on SIGTERM/SIGINT/SIGHUP.

Used three ways:
  * from Python (tests/e2e):   with PgServer() as pg: ... pg.uri("assay") ...
  * as a ctest wrapper:        pg_server.py run -- CMD ARGS...
      starts a server, runs CMD with ASSAY_TEST_PG_URI set to the admin URI
      (database `postgres`), stops the server whatever CMD did, and exits
      with CMD's exit code; exits 77 (ctest SKIP_RETURN_CODE) with the reason
      when the server binaries are missing.
  * from C++ unit tests run by hand:  pg_server.py start DIR  (prints the
      admin URI, leaves the server running) and pg_server.py stop DIR.
"""
import atexit
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP = 77
USER = "assay"  # the superuser initdb creates; tests connect as it


def find_bin_dir():
    """The folder holding initdb, pg_ctl and postgres, or None: $ASSAY_PG_BIN,
    then the newest /usr/lib/postgresql/*/bin, then PATH."""
    cands = []
    if os.environ.get("ASSAY_PG_BIN"):
        cands.append(os.environ["ASSAY_PG_BIN"])
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                  reverse=True)
    cands += versions
    ctl = shutil.which("pg_ctl")
    if ctl:
        cands.append(os.path.dirname(ctl))
    for d in cands:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


class MissingServer(Exception):
    """The PostgreSQL server binaries are not installed."""


class PgServer:
    """One private server. start() blocks until it accepts connections."""

    def __init__(self, root=None, durable=False):
        self.bin = find_bin_dir()
        self.root = root
        # durable: fsync and synchronous commit on, so that a commit the
        # server confirmed survives crash() (an immediate stop); else both
        # off, for speed, as test data never has to survive a crash.
        self.durable = durable
        self.port = None
        self.running = False  # from the moment pg_ctl start is run
        self._child = None    # the initdb or pg_ctl being run

    # --- paths -----------------------------------------------------------------
    @property
    def data(self):
        return os.path.join(self.root, "data")

    @property
    def sock(self):
        return os.path.join(self.root, "sock")

    def _as_owner(self, cmd):
        """cmd run as the server's user: `postgres` when we are root."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + cmd
        return cmd

    def _run(self, cmd, what):
        # Its own session: stop() (also from a signal handler) kills the whole
        # group, so an interrupted initdb or pg_ctl never outlives us.
        self._child = subprocess.Popen(self._as_owner(cmd), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, errors="replace",
                                       start_new_session=True)
        out, err = self._child.communicate()
        r = subprocess.CompletedProcess(cmd, self._child.returncode, out, err)
        self._child = None
        if r.returncode != 0:
            log = os.path.join(self.root, "log")
            tail = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""
            raise RuntimeError("%s failed (exit %d): %s%s\n%s" %
                               (what, r.returncode, r.stdout, r.stderr, tail))
        return r

    # --- lifecycle --------------------------------------------------------------
    def start(self):
        if self.bin is None:
            raise MissingServer(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under "
                "$ASSAY_PG_BIN, /usr/lib/postgresql/*/bin or PATH; install Debian's "
                "`postgresql` (ci/install-deps.sh)")
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix="assay-pg-")
        os.makedirs(self.sock, exist_ok=True)
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        _STARTED.append(self)
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", USER,
                   "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--no-sync",
                   "--locale=C"], "initdb")
        # No TCP listener: the port only names the socket file in the
        # server's own folder, so the default never clashes with anything.
        self.port = 5432
        self._pg_ctl_start()
        with open(os.path.join(self.root, "uri"), "w") as f:
            f.write(self.uri("postgres"))
        return self

    def _pg_ctl_start(self):
        opts = "-p %d -k %s -c listen_addresses='' -c max_connections=60" % (self.port, self.sock)
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.running = True  # before the start: an interruption still stops it
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                   os.path.join(self.root, "log"), "-o", opts, "-w", "-t", "60", "start"],
                  "pg_ctl start")

    def crash(self):
        """An outage: `pg_ctl stop -m immediate` (every connection cut, no
        clean shutdown). The data stays; resume() starts the server again."""
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                   "-t", "30", "stop"], "pg_ctl stop -m immediate")
        self.running = False

    def resume(self):
        """Starts the server crash() stopped, on the same data and socket."""
        self._pg_ctl_start()

    def stop(self):
        """Stops the server (fast, then immediate) and removes its folder."""
        child = self._child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except OSError:
                pass
            child.wait()
        if self.running:
            self.running = False
            ctl = os.path.join(self.bin, "pg_ctl")
            for mode in ("fast", "immediate"):
                r = subprocess.run(self._as_owner([ctl, "-D", self.data, "-m", mode, "-w", "-t",
                                                   "30", "stop"]), capture_output=True)
                if r.returncode == 0:
                    break
        if self in _STARTED:
            _STARTED.remove(self)
        if self.root and os.path.isdir(self.root):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- use --------------------------------------------------------------------
    def uri(self, db):
        """libpq URI of database `db` over the server's Unix socket."""
        return "postgresql://%s@%s:%d/%s" % (USER, urllib.parse.quote(self.sock, safe=""),
                                            self.port, db)

    def psql(self, db, sql):
        """Runs sql with psql as the superuser; returns stdout (unaligned, no
        headers). Raises on error."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-d", self.uri(db), "-c", sql],
                           capture_output=True, text=True, errors="replace")
        if r.returncode != 0:
            raise RuntimeError("psql %r: %s" % (sql, r.stderr))
        return r.stdout.strip()

    def create_db(self, name):
        """A new empty database; returns its URI."""
        self.psql("postgres", 'CREATE DATABASE "%s"' % name)
        return self.uri(name)


_STARTED = []
_COMMANDS = []  # the command of `run`, ended before its server on a signal


def _stop_all():
    for p in _COMMANDS:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    for s in list(_STARTED):
        s.stop()


def _on_signal(signum, _frame):
    _stop_all()
    sys.exit(128 + signum)


atexit.register(_stop_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def main(argv):
    if len(argv) >= 2 and argv[1] == "run":
        cmd = argv[3:] if len(argv) > 2 and argv[2] == "--" else argv[2:]
        if not cmd:
            print("usage: pg_server.py run -- CMD ARGS...", file=sys.stderr)
            return 2
        try:
            with PgServer() as pg:
                env = dict(os.environ, ASSAY_TEST_PG_URI=pg.uri("postgres"))
                proc = subprocess.Popen(cmd, env=env)
                _COMMANDS.append(proc)
                return proc.wait()
        except MissingServer as e:
            print("SKIP: %s" % e, flush=True)
            return SKIP
    if len(argv) == 3 and argv[1] == "start":
        try:
            pg = PgServer(argv[2]).start()
        except MissingServer as e:
            print("SKIP: %s" % e, file=sys.stderr)
            return SKIP
        _STARTED.remove(pg)  # left running: `stop DIR` ends it
        print(pg.uri("postgres"))
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        pg = PgServer(argv[2])
        pg.running = os.path.isdir(os.path.join(argv[2], "data"))
        pg.stop()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
