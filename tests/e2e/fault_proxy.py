#!/usr/bin/python3
"""A fault-injecting HTTP proxy in front of a real Prometheus, for the daemon's fault tests.

    fault_proxy.py UPSTREAM_URL MODE_FILE PORT_FILE LOG_FILE

Listens on 127.0.0.1 (ephemeral port, written to PORT_FILE). Every request reads MODE_FILE
(one word) and is answered accordingly; each answer appends "MODE PATH?QUERY" to LOG_FILE, so a
test can show that the fault was really served. Modes:

  pass          forward to UPSTREAM_URL unchanged
  status500     HTTP 500 with an HTML body (what a broken proxy or Prometheus sends)
  timeout       hold the request without answering (until the mode changes, at most 60 s)
  slow          forward, after a 1 s delay (slower than usual, within the client's timeout)
  truncate      forward, but close the connection after half of the body (Content-Length full)
  invalid_json  HTTP 200, Content-Type JSON, a body that is not JSON
  nan | inf | neginf   forward, every sample value replaced by "NaN" / "+Inf" / "-Inf"
  gap           forward, but queries of error_rate lose the series of job="payments" (a
                series with a gap at that instant)

This is a fake only for fault injection: the data it forwards comes from the real Prometheus.
"""
import http.server
import json
import os
import sys
import time
import urllib.error
import urllib.request

UPSTREAM, MODE_FILE, PORT_FILE, LOG_FILE = sys.argv[1:5]


def mode():
    try:
        with open(MODE_FILE) as f:
            return f.read().strip() or "pass"
    except OSError:
        return "pass"


def log(m, path):
    with open(LOG_FILE, "a") as f:
        f.write("%s %s\n" % (m, path))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def upstream(self):
        body = None
        if self.command == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        req = urllib.request.Request(UPSTREAM + self.path, data=body, method=self.command)
        for h in ("Content-Type", "Accept"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def send(self, status, ctype, body, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def handle_any(self):
        m = mode()
        log(m, self.path)
        if m == "status500":
            return self.send(500, "text/html", b"<html><body>500 Internal Server Error</body></html>")
        if m == "invalid_json":
            return self.send(200, "application/json", b'{"status":"success","data":{"resultType":"vec')
        if m == "timeout":
            deadline = time.time() + 60
            while mode() == "timeout" and time.time() < deadline:
                time.sleep(0.05)
            self.close_connection = True
            return None
        if m == "slow":
            time.sleep(1.0)
        status, ctype, body = self.upstream()
        if m == "truncate":
            self.send(status, ctype, body[: len(body) // 2], length=len(body))
            self.close_connection = True
            return None
        if m in ("nan", "inf", "neginf", "gap") and status == 200:
            doc = json.loads(body)
            result = doc.get("data", {}).get("result", [])
            if m == "gap":
                if "error_rate" in self.path:
                    doc["data"]["result"] = [
                        r for r in result if r.get("metric", {}).get("job") != "payments"]
            else:
                text = {"nan": "NaN", "inf": "+Inf", "neginf": "-Inf"}[m]
                for r in result:
                    if "value" in r:
                        r["value"][1] = text
                    for v in r.get("values", []):
                        v[1] = text
            body = json.dumps(doc).encode()
        return self.send(status, ctype, body)

    do_GET = handle_any
    do_POST = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
