"""Helpers shared by the monitoring end-to-end tests (alerts, erasure, retention).

FAILS, check and run are the ones of e2e_common (the same objects), re-exported
for scripts that import them from here.
"""
import http.server
import json
import threading

from e2e_common import FAILS, check, run

__all__ = ["FAILS", "Receiver", "check", "run"]


class Receiver:
    """A local webhook receiver on 127.0.0.1, port 0. Records every POST body.

    fail_first: answer that many requests with HTTP 500 first (to exercise retries).
    """

    def __init__(self, fail_first=0):
        self.bodies = []
        self.requests = 0
        self.fail_left = fail_first
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests += 1
                    fail = outer.fail_left > 0
                    if fail:
                        outer.fail_left -= 1
                    else:
                        outer.bodies.append(json.loads(body))
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def take(self):
        with self.lock:
            out, self.bodies = self.bodies, []
            return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()
