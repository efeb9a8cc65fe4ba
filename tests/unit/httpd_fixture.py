#!/usr/bin/env python3
"""httpd_fixture.py - a scripted local HTTP server for tests/unit/test_http.c.

Python 3 standard library only.  Listens on 127.0.0.1, port 0 (the kernel
picks one), prints its base URL ("http://127.0.0.1:PORT") as the first line
of stdout, and serves until it is killed or its stdin reaches end-of-file
(the test keeps a pipe open, so the server dies with the test even after a
crash).  HTTP/1.1 with keep-alive, one thread per connection.

Behaviours, chosen by path.  `key=K` makes a scripted sequence independent of
other tests: call counts are kept per key (default: the path).

  /echo                     200 JSON {method, path, query (object), url,
                            headers (lower-case names), body (text),
                            connection (id of this TCP connection)}
  /echo-text                200 text/plain: the request body as it came
  /status/503-then-200      answers the codes in the path in turn (any list
                            of 3-digit codes, e.g. /status/429-503-then-201);
                            the last one repeats
  /retry-after/N            first call: 503 (or ?code=429) with Retry-After: N
                            seconds; then 200
  /retry-after-date?secs=N  first call: 503 with Retry-After as an HTTP-date
                            N seconds after the next whole second (?form=imf,
                            rfc850 or asctime); then 200
  /hang/N                   sleeps N seconds, then 200
  /reset                    first `times` calls (default 1): sends part of a
                            response, then resets the connection (SO_LINGER 0
                            and close: RST); then 200
  /post-reset               reads the whole request, then resets (always)
  /truncated-json           200 application/json whose body stops mid-value
  /no-type-json             200 JSON body without a Content-Type
  /count-connections        200 {connection: id, connections: accepted so far}
  /always/CODE              always CODE (?retry_after=N adds Retry-After)
  /calls?of=K               200 {calls: how many requests key K has seen}
  /big/N                    200 JSON body of about N bytes
  /redirect                 302 with Location: /echo
  /form-response            200 text/plain "oauth_token=...&oauth_token_secret=..."
                            (values from ?token= and ?secret=)
"""

import email.utils
import itertools
import json
import math
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LIFETIME_SECONDS = 600  # a forgotten server never outlives this

_lock = threading.Lock()
_calls = {}
_connection_ids = itertools.count(1)
_connections = 0


def bump(key):
    with _lock:
        _calls[key] = _calls.get(key, 0) + 1
        return _calls[key]


def calls_of(key):
    with _lock:
        return _calls.get(key, 0)


def http_date(when, form):
    t = time.gmtime(when)
    if form == "rfc850":
        return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", t)
    if form == "asctime":
        return time.strftime("%a %b ", t) + ("%2d" % t.tm_mday) + time.strftime(" %H:%M:%S %Y", t)
    return email.utils.formatdate(when, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ferry-test-httpd/1"

    def setup(self):
        global _connections
        super().setup()
        # One write per response part would otherwise wait for delayed ACKs (Nagle): 40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with _lock:
            _connections += 1
        self.connection_id = next(_connection_ids)

    def log_message(self, fmt, *args):  # quiet unless asked
        if os.environ.get("FERRY_HTTPD_VERBOSE"):
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    # -- helpers --------------------------------------------------------------

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def reply(self, code, obj=None, body=None, ctype="application/json", headers=()):
        data = json.dumps(obj).encode() if obj is not None else (body or b"")
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reset(self, partial=b""):
        """Send `partial` raw bytes, then close with SO_LINGER 0 so the peer gets a RST."""
        try:
            if partial:
                self.wfile.write(partial)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    # -- dispatch ---------------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def dispatch(self):
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self.read_body()
        key = query.get("key", path)
        try:
            self.route(path, query, body, key)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self, path, query, body, key):
        m = re.fullmatch(r"/status/([0-9a-z-]+)", path)
        if m:
            codes = [int(c) for c in re.findall(r"\d{3}", m.group(1))] or [200]
            n = bump(key)
            code = codes[min(n, len(codes)) - 1]
            return self.reply(code, {"status": code, "call": n, "method": self.command})

        m = re.fullmatch(r"/retry-after/(\d+)", path)
        if m:
            n = bump(key)
            if n == 1:
                code = int(query.get("code", "503"))
                return self.reply(code, {"error": "busy", "call": n}, headers=[("Retry-After", m.group(1))])
            return self.reply(200, {"call": n})

        if path == "/retry-after-date":
            n = bump(key)
            if n == 1:
                when = math.ceil(time.time()) + int(query.get("secs", "1"))
                date = http_date(when, query.get("form", "imf"))
                return self.reply(503, {"error": "busy", "call": n}, headers=[("Retry-After", date)])
            return self.reply(200, {"call": n})

        m = re.fullmatch(r"/hang/(\d+)", path)
        if m:
            bump(key)
            time.sleep(int(m.group(1)))
            return self.reply(200, {"slept": int(m.group(1))})

        if path == "/reset":
            n = bump(key)
            if n <= int(query.get("times", "1")):
                return self.reset(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"par")
            return self.reply(200, {"call": n})

        if path == "/post-reset":
            bump(key)
            return self.reset()

        if path == "/truncated-json":
            return self.reply(200, body=b'{"items": [1, 2, {"name": "abc')

        if path == "/no-type-json":
            return self.reply(200, body=b' {"typed": false}', ctype=None)

        if path == "/echo":
            return self.reply(200, {
                "method": self.command,
                "path": path,
                "url": self.path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "connection": self.connection_id,
            })

        if path == "/echo-text":
            return self.reply(200, body=body, ctype="text/plain; charset=utf-8")

        if path == "/count-connections":
            with _lock:
                total = _connections
            return self.reply(200, {"connection": self.connection_id, "connections": total})

        m = re.fullmatch(r"/always/(\d{3})", path)
        if m:
            n = bump(key)
            headers = [("Retry-After", query["retry_after"])] if "retry_after" in query else []
            return self.reply(int(m.group(1)), {"status": int(m.group(1)), "call": n}, headers=headers)

        if path == "/calls":
            return self.reply(200, {"calls": calls_of(query.get("of", ""))})

        m = re.fullmatch(r"/big/(\d+)", path)
        if m:
            size = int(m.group(1))
            return self.reply(200, body=json.dumps({"data": "x" * max(0, size - 12)}).encode())

        if path == "/redirect":
            return self.reply(302, {"moved": True}, headers=[("Location", "/echo")])

        if path == "/form-response":
            text = "oauth_token=%s&oauth_token_secret=%s" % (query.get("token", ""), query.get("secret", ""))
            return self.reply(200, body=text.encode(), ctype="text/plain")

        return self.reply(404, {"error": "no such fixture path", "path": path})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sys.stdout.write("http://127.0.0.1:%d\n" % server.server_address[1])
    sys.stdout.flush()

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    timer = threading.Timer(LIFETIME_SECONDS, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
