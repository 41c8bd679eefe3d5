#!/usr/bin/env python3
"""End-to-end: the review server's login hardening against the real binary on
127.0.0.1 (issue 18 item 6). Checks that failed logins are throttled per client
address (2,000 wrong tokens get 429 with Retry-After, not 2,000 instant
answers; another address still logs in; a success resets the back-off; wrong
bearer tokens count too; the throttle is logged without the token), that a
token under 16 characters is refused at start-up, that sessions expire and
logout ends them, and that --public-url https://host/prefix gives Secure
cookies, accepts that origin (and no other) and prefixes links and redirects.
The store is a SQLite file, or with --backend postgres a database on a private
PostgreSQL server this script starts (exit 77 when the server binaries are
missing); the checks are the same either way. Exits non-zero when any check
fails."""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import review_fixture  # noqa: E402
from review_fixture import csrf_cookie, header, request  # noqa: E402
from e2e_common import add_backend_argument, arguments, check, finish, on_backend, run  # noqa: E402

TOKEN = "e2e-review-token-6f1c2a9b"  # 25 characters
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def login(port, token, source=None, origin=None):
    h = dict(FORM)
    if origin:
        h["Origin"] = origin
    st, hdrs, body = request(port, "POST", "/login", "token=" + token, h, source=source)
    sess = [c for c in header(hdrs, "Set-Cookie") if c.startswith("assay_session=")]
    return st, hdrs, (sess[0] if sess else "")


def cookie_pair(set_cookie):
    return set_cookie.split(";")[0]


def start_refused(cmd, env=None):
    """(exit code, stderr) of a server expected to refuse to start; (None, "")
    when it started and served instead (killed after 10 s)."""
    try:
        r = run(cmd, timeout=10, env=env)
    except subprocess.TimeoutExpired:
        return None, ""
    return r.returncode, r.stderr


def startup_checks(a, db):
    # A short token is refused, from the flag or the environment; the message
    # names the length and the minimum, never the token.
    rc, err = start_refused([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0", "--token", "short-tok"])
    check(rc == 2 and "9 characters" in err and "at least 16" in err and "short-tok" not in err,
          "a 9-character --token is refused: " + err.strip())
    env = dict(os.environ, ASSAY_REVIEW_TOKEN="fifteen-chars-x")
    rc, err = start_refused([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0"], env=env)
    check(rc == 2 and "15 characters" in err and "fifteen-chars-x" not in err,
          "a 15-character ASSAY_REVIEW_TOKEN is refused: " + err.strip())
    for url, why in (("ftp://review.example.com", "http or https"), ("https://", "no host"),
                     ("https://review.example.com/a?b=1", "query"), ("review.example.com", "no scheme"),
                     ("https://review.example.com:99999/", "port"), ("https://a\"b/", "host")):
        rc, err = start_refused([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0", "--token", TOKEN,
                                 "--public-url", url])
        check(rc == 2 and ("'" + url + "'") in err and why in err,
              "malformed --public-url %s refused: %s" % (url, err.strip()))
    rc, err = start_refused([a.assay, "review", "--db", db, "--listen", "127.0.0.1:0", "--token", TOKEN,
                             "--session-ttl", "0"])
    check(rc == 2 and "--session-ttl '0'" in err, "--session-ttl 0 refused: " + err.strip())


def throttle_checks(p):
    # 2,000 wrong tokens from one address: the first few are told "failed",
    # the rest get 429 with Retry-After (before: 2,000 x 303 in ~1 s).
    statuses = {}
    retry_after = []
    t0 = time.time()
    for i in range(2000):
        st, h, _ = login(p, "wrong-token-%d" % i)
        statuses[st] = statuses.get(st, 0) + 1
        if st == 429:
            retry_after += header(h, "Retry-After")
    took = time.time() - t0
    print("2,000 wrong logins in %.1f s: %s" % (took, statuses), flush=True)
    check(statuses.get(303, 0) <= 5 + 1 + int(took / 1) + 2 and statuses.get(303, 0) >= 5,
          "only the first failures (and one per expired lock) are looked at: %d" % statuses.get(303, 0))
    check(statuses.get(429, 0) >= 1900, "the rest get 429: %d" % statuses.get(429, 0))
    check(retry_after and all(v.isdigit() and 1 <= int(v) <= 300 for v in retry_after),
          "429 carries Retry-After in seconds (1-300): %s" % sorted(set(retry_after))[:5])

    # The correct token from the locked-out address is not even looked at...
    st, h, sess = login(p, TOKEN)
    check(st == 429 and not sess and header(h, "Retry-After"), "locked-out address: the right token gets 429 too")
    st, _, _ = request(p, "GET", "/api/scorers", headers={"Authorization": "Bearer " + TOKEN})
    check(st == 429, "locked-out address: the bearer header gets 429 too")
    # ...while another address logs in at once.
    st, h, sess = login(p, TOKEN, source="127.0.0.2")
    check(st == 303 and header(h, "Location") == ["/"] and sess, "another address logs in: %s" % sess[:30])
    check(request(p, "GET", "/api/scorers", headers={"Cookie": cookie_pair(sess)}, source="127.0.0.2")[0] == 200,
          "its session works")
    # A valid session from the locked-out address still works (no token is tried).
    check(request(p, "GET", "/api/scorers", headers={"Cookie": cookie_pair(sess)})[0] == 200,
          "a session cookie from the locked-out address still works")

    # Once the lock ends, the right token logs in and resets the back-off:
    # the next wrong token is "failed" (303), not 429.
    deadline = time.time() + 400
    while time.time() < deadline:
        st, h, sess = login(p, TOKEN)
        if st != 429:
            break
        time.sleep(min(int(header(h, "Retry-After")[0]), 60))
    check(st == 303 and sess, "after Retry-After the right token logs in")
    st, h, _ = login(p, "wrong-again")
    check(st == 303 and "failed" in header(h, "Location")[0], "a success reset the back-off")

    # Wrong bearer tokens are failed logins too.
    codes = [request(p, "GET", "/api/scorers", headers={"Authorization": "Bearer guess-%d" % i},
                     source="127.0.0.3")[0] for i in range(8)]
    check(codes[:5] == [401] * 5 and codes[-1] == 429, "wrong bearer tokens are throttled: %s" % codes)


def session_checks(p, ttl_s):
    st, _, sess = login(p, TOKEN, source="127.0.0.4")
    check(st == 303 and "HttpOnly" in sess and "SameSite=Strict" in sess and "Secure" not in sess
          and "Path=/;" in sess + ";", "login cookie: HttpOnly, SameSite=Strict, Path=/, no Secure without https: " + sess)
    c = {"Cookie": cookie_pair(sess)}
    check(request(p, "GET", "/api/scorers", headers=c)[0] == 200, "fresh session: 200")
    time.sleep(ttl_s + 0.5)
    check(request(p, "GET", "/api/scorers", headers=c)[0] == 401, "expired session: API 401")
    st, h, _ = request(p, "GET", "/", headers=c)
    check(st == 303 and header(h, "Location") == ["/login"], "expired session: page redirects to /login")

    # Logout: CSRF-checked, ends the session on the server, clears the cookie.
    st, _, sess = login(p, TOKEN, source="127.0.0.4")
    tok = csrf_cookie(p)
    c = {"Cookie": cookie_pair(sess) + "; assay_csrf=" + tok}
    st, _, _ = request(p, "POST", "/logout", "", c)
    check(st == 403, "logout without the CSRF header: 403")
    check(request(p, "GET", "/api/scorers", headers=c)[0] == 200, "...and the session still works")
    st, h, _ = request(p, "POST", "/logout", "", dict(c, **{"X-CSRF-Token": tok}))
    cleared = [v for v in header(h, "Set-Cookie") if v.startswith("assay_session=;")]
    check(st == 303 and header(h, "Location") == ["/login"] and cleared and "Max-Age=0" in cleared[0],
          "logout: 303 to /login, cookie cleared: %s" % cleared)
    check(request(p, "GET", "/api/scorers", headers=c)[0] == 401, "after logout the old cookie is refused")
    st, _, body = request(p, "GET", "/trends", headers={"Cookie": cookie_pair(login(p, TOKEN, "127.0.0.4")[2])})
    check(st == 200 and b'<button id="logout" type="button">' in body, "pages have a Log out button")


def public_url_checks(a, db, con):
    srv = review_fixture.Server(a.assay, db, "--token", TOKEN, "--public-url", "https://Review.Example.com/assay/")
    p = srv.port
    origin = "https://review.example.com"
    try:
        st, h, body = request(p, "GET", "/login")
        csrf = [v for v in header(h, "Set-Cookie") if v.startswith("assay_csrf=")]
        check(st == 200 and csrf and "Secure" in csrf[0] and "Path=/assay;" in csrf[0] + ";",
              "CSRF cookie: Secure, Path=/assay: %s" % csrf)
        check(b'href="/assay/static/style.css"' in body and b'src="/assay/static/app.js"' in body
              and b'action="/assay/login"' in body and b'"/static/' not in body, "login page links under /assay")
        st, h, _ = request(p, "GET", "/")
        check(st == 303 and header(h, "Location") == ["/assay/login"], "redirect to /assay/login")
        st, h, _ = login(p, TOKEN, origin="https://evil.example")
        check(st == 403, "login from a foreign origin: 403")
        st, h, _ = login(p, TOKEN, origin="http://127.0.0.1:%d" % p)
        check(st == 403, "login from the plain-http origin: 403 when --public-url is https")
        st, h, sess = login(p, TOKEN, origin=origin)
        check(st == 303 and header(h, "Location") == ["/assay/"] and "Secure" in sess and "HttpOnly" in sess
              and "Path=/assay;" in sess + ";", "login from the public origin: Secure session cookie: " + sess)
        tok = csrf[0].split(";")[0].split("=", 1)[1] if csrf else ""
        c = {"Cookie": cookie_pair(sess) + "; assay_csrf=" + tok, "X-CSRF-Token": tok}
        st, h, body = request(p, "GET", "/", headers=c)
        check(st == 200 and b'href="/assay/calibration"' in body and b'<button id="logout" type="button">' in body,
              "list page: links under /assay, a Log out button")
        st, h, raw = request(p, "GET", "/api/bottom?scorer=refusal&limit=1", headers=c)
        trace_id = re.search(rb'"trace_id":"([^"]+)"', raw)
        label = {"trace_id": trace_id.group(1).decode() if trace_id else "", "scorer": "refusal",
                 "reviewer": "e2e", "verdict": "agree"}
        st, _, raw = request(p, "POST", "/api/labels", label, dict(c, Origin="https://evil.example"))
        check(st == 403, "label from a foreign origin: 403")
        st, _, raw = request(p, "POST", "/api/labels", label, dict(c, Origin="http://127.0.0.1:%d" % p))
        check(st == 403, "label from the plain-http origin: 403")
        st, _, raw = request(p, "POST", "/api/labels", label, dict(c, Origin=origin))
        check(st == 201, "label from the https public origin: 201 (%s)" % raw[:100])
        stored = con.all("SELECT l.verdict, l.reviewer FROM labels l JOIN traces t ON t.id = l.trace "
                         "WHERE t.trace_id = ?", label["trace_id"])
        check(stored == [("agree", "e2e")], "only the label from the public origin is stored: %s" % stored)
        st, h, _ = request(p, "POST", "/logout", "", dict(c, Origin=origin))
        check(st == 303 and header(h, "Location") == ["/assay/login"], "logout redirects to /assay/login")
    finally:
        srv.stop()


def main():
    a = add_backend_argument(arguments()).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        return on_backend(a, tmp, scenario)


def scenario(a, tmp, backend):
    db, con = backend.new_store("review_login")
    review_fixture.make_store(a.assay, a.source, tmp, db)
    startup_checks(a, db)
    ttl_s = 2
    srv = review_fixture.Server(a.assay, db, "--token", TOKEN, "--session-ttl", "%ds" % ttl_s)
    try:
        throttle_checks(srv.port)
        session_checks(srv.port, ttl_s)
    finally:
        srv.stop()
        err = srv.proc.stderr.read()
    lines = [ln for ln in err.splitlines() if "failed logins in a row from 127.0.0.1" in ln]
    check(1 <= len(lines) <= 12, "throttle logged once per back-off step: %d lines, e.g. %s"
          % (len(lines), lines[:1]))
    check(TOKEN not in err and "wrong-token" not in err, "no token in the log")
    public_url_checks(a, db, con)
    return finish("all review login e2e checks passed")


if __name__ == "__main__":
    sys.exit(main())
