#!/usr/bin/env python3
"""Real-browser test of the review login behind a path prefix: `assay review
--token T --public-url http://127.0.0.1:P/assay` behind a small proxy in this
script that strips /assay (as the README's nginx configuration does), driven
by Debian's chromium through login.mjs: a page sends the browser to the login
form under the prefix, logging in opens the list (its API calls go through the
prefix), a trace opens under the prefix, "Log out" ends the session. The store
is a SQLite file, or with --backend postgres a database on a private PostgreSQL
server this script starts (exit 77 when the server binaries are missing); the
checks are the same either way."""
import http.client
import http.server
import json
import os
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import review_fixture  # noqa: E402
from e2e_common import add_backend_argument, arguments, check, finish, on_backend, run  # noqa: E402

TOKEN = "browser-login-token-4d2e9a7c"
PREFIX = "/assay"


def prefix_proxy(upstream):
    """An HTTP proxy on 127.0.0.1:0 that forwards PREFIX/... to 127.0.0.1:upstream["port"]
    as /... (anything else: 404). Returns the server; serve it on a thread."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def forward(self):
            if not (self.path + "/").startswith(PREFIX + "/"):
                self.send_error(404)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            c = http.client.HTTPConnection("127.0.0.1", upstream["port"], timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            c.request(self.command, self.path[len(PREFIX):] or "/", body=body or None, headers=headers)
            r = c.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            c.close()

        do_GET = forward
        do_POST = forward

        def log_message(self, *args):
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main():
    ap = add_backend_argument(arguments())
    ap.add_argument("--artifacts", required=True)
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        print("FAIL playwright-core is not installed: run bash ci/install-npm.sh")
        return 1
    if not os.path.exists("/usr/bin/chromium"):
        print("FAIL /usr/bin/chromium is missing: run bash ci/install-deps.sh")
        return 1
    os.makedirs(a.artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    db, _ = backend.new_store("review_login_browser")
    review_fixture.make_store(a.assay, a.source, tmp, db)
    # The public URL names the proxy's port: start the proxy first, tell it
    # the server's port once the server has one.
    upstream = {}
    proxy = prefix_proxy(upstream)
    public = "http://127.0.0.1:%d%s" % (proxy.server_address[1], PREFIX)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    srv = review_fixture.Server(a.assay, db, "--token", TOKEN, "--public-url", public)
    upstream["port"] = srv.port
    try:
        r = run(["node", os.path.join(HERE, "login.mjs"), public, TOKEN, a.artifacts], timeout=180, cwd=HERE)
    finally:
        proxy.shutdown()
        srv.stop()
    print(r.stderr[-2000:])
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    check(r.returncode == 0 and lines, "browser script ran (rc=%d)" % r.returncode)
    res = json.loads(lines[-1]) if lines else {}
    print(json.dumps(res, indent=1))
    check("error" not in res, "no browser error: %s" % res.get("error", ""))
    check(res.get("first_url") == public + "/login", "a page sends the browser to the login form under the prefix")
    after = res.get("after_login_url", "")
    check(after == public + "/" or after.startswith(public + "/?"),
          "logging in opens the workspace under the prefix: %s" % after)
    check(res.get("list_rows", 0) > 0, "the list loaded through the prefixed API (%s rows)" % res.get("list_rows"))
    check(res.get("logout_visible") is True, "a Log out button is shown")
    check(res.get("trace_shown") and res.get("trace_shown") == res.get("trace_first"),
          "selecting a row shows its trace: %s" % res.get("trace_shown"))
    check(res.get("trace_url", "").startswith(public + "/?") and "id=" in res.get("trace_url", ""),
          "the selected trace is in the URL under the prefix: %s" % res.get("trace_url"))
    check(res.get("after_logout_url") == public + "/login", "Log out lands on the login form")
    check(res.get("after_logout_goto_url") == public + "/login", "after logout, pages ask for the login again")
    check(res.get("after_logout_api_status") == 401, "after logout, the API answers 401")
    check(not res.get("console_errors"), "no console errors: %s" % res.get("console_errors"))
    # The browser asks for /favicon.ico at the root of the host, outside the prefix;
    # the 401 is the check above.
    bad = [b for b in res.get("bad_responses", []) if not b.endswith("/favicon.ico")
           and b != "401 " + public + "/api/scorers"]
    check(res.get("bad_responses") is not None and not bad, "no other failed request: %s" % bad)
    return finish("all review login browser checks passed")


if __name__ == "__main__":
    sys.exit(main())
