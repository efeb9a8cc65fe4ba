"""Shared machinery for ferry's local API emulators (standard library only).

Both emulators (magento2.py, eaccounting.py) are built on this module, the way
curl's test suite builds its servers on one base.  It owns what is the same on
both sides and has nothing to do with either API:

  * a threaded HTTP/1.1 server with keep-alive (so connection reuse is real),
  * a router of (method, path pattern) -> handler, optionally case-insensitive,
  * the admin prefix /_emulator/ (state, fixtures, clock, faults, reset),
    which the real API routes never expose,
  * faults on demand per route: the next N matching calls answer a given
    status, hang for S seconds, reset the connection, or return truncated JSON,
  * an emulator clock (real time plus an offset that tests can advance),
  * per-route request counters (the source of truth for "calls per order"),
  * command-line parsing common to both, printing the base URL as the first
    line of output and shutting down cleanly on SIGTERM.

An API emulator subclasses `Emulator`, registers its routes in `setup_routes`,
and implements `seed`, `load_fixtures`, `dump_state`.
"""

import argparse
import datetime
import http.server
import json
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

ADMIN_PREFIX = "/_emulator/"


class HttpError(Exception):
    """Raised by a handler to answer with a status, a JSON body and headers."""

    def __init__(self, status, body, headers=None):
        super().__init__("HTTP %d" % status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Request:
    """One parsed request as a handler sees it."""

    def __init__(self, method, raw_path, headers, body):
        self.method = method
        self.raw_path = raw_path
        parsed = urllib.parse.urlsplit(raw_path)
        self.path = urllib.parse.unquote(parsed.path)
        self.query_string = parsed.query
        # keep_blank_values: `?$filter=` must reach the handler as an empty value
        self.query_list = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        self.query = {}
        for k, v in self.query_list:
            self.query.setdefault(k, v)
        self.headers = headers
        self.body = body
        self.params = {}
        self.route = None

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        """The body parsed as JSON; a malformed body raises ValueError."""
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Response:
    def __init__(self, status=200, body=None, headers=None, raw=None, content_type=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw  # bytes sent as is (non-JSON answers)
        self.content_type = content_type


class Route:
    def __init__(self, method, pattern, handler, name, case_insensitive):
        self.method = method
        self.name = name or "%s %s" % (method, pattern)
        # "{name}" segments match one path segment; "{name*}" matches the rest
        rx = ""
        for part in re.split(r"(\{[a-zA-Z_]+\*?\})", pattern):
            if part.startswith("{") and part.endswith("}"):
                pname = part[1:-1]
                if pname.endswith("*"):
                    rx += "(?P<%s>.+)" % pname[:-1]
                else:
                    rx += "(?P<%s>[^/]+)" % pname
            else:
                rx += re.escape(part)
        flags = re.IGNORECASE if case_insensitive else 0
        self.regex = re.compile("^" + rx + "/?$", flags)
        self.handler = handler


class Fault:
    """A scripted failure for the next `count` calls matching a route.

    kind: "status" (answer `status` with `body`), "hang" (sleep `seconds`, then
    answer normally unless the client gave up), "reset" (close the socket with
    RST, no answer), "truncate" (answer normally but cut the JSON body in half).
    """

    def __init__(self, spec):
        self.path = spec.get("route") or spec.get("path") or "*"
        self.method = (spec.get("method") or "*").upper()
        self.count = int(spec.get("count", 1))
        self.kind = spec.get("kind") or ("status" if "status" in spec else "reset")
        self.status = int(spec.get("status", 500))
        self.body = spec.get("body")
        self.headers = spec.get("headers") or {}
        self.seconds = float(spec.get("seconds", 0))
        self.hits = 0

    def matches(self, req):
        if self.count <= 0:
            return False
        if self.method != "*" and self.method != req.method:
            return False
        if self.path == "*":
            return True
        if self.path.endswith("*"):
            return req.path.lower().startswith(self.path[:-1].lower())
        return req.path.rstrip("/").lower() == self.path.rstrip("/").lower()

    def describe(self):
        return {
            "route": self.path,
            "method": self.method,
            "kind": self.kind,
            "status": self.status,
            "seconds": self.seconds,
            "remaining": self.count,
            "hits": self.hits,
        }


class Clock:
    """Real UTC time plus an offset that tests move forward."""

    def __init__(self):
        self.offset = 0.0
        self.lock = threading.Lock()

    def now(self):
        with self.lock:
            return time.time() + self.offset

    def utcnow(self):
        return datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc)

    def advance(self, seconds):
        with self.lock:
            self.offset += float(seconds)


def json_dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Emulator:
    """Base class of an API emulator; see the module comment."""

    name = "emulator"
    case_insensitive_routes = False

    def __init__(self, args):
        self.args = args
        self.clock = Clock()
        self.lock = threading.RLock()  # guards the data store
        self.routes = []
        self.faults = []
        self.faults_lock = threading.Lock()
        self.counts = {}
        self.counts_lock = threading.Lock()
        self.total_requests = 0
        self.base_url = None
        self.setup_routes()
        self.seed()
        if getattr(args, "fixtures", None):
            self.load_fixtures_dir(args.fixtures)

    # ---- to be provided by the API emulator -------------------------------
    def setup_routes(self):
        raise NotImplementedError

    def seed(self):
        """(Re)build the data store from --seed/--orders; called at start and on reset."""
        raise NotImplementedError

    def load_fixtures(self, doc):
        """Merge a fixtures document ({"customers": [...], ...}) into the store."""
        raise NotImplementedError

    def dump_state(self):
        """Everything stored, as JSON-serialisable data."""
        raise NotImplementedError

    # ---- routing -----------------------------------------------------------
    def add_route(self, method, pattern, handler, name=None):
        self.routes.append(Route(method, pattern, handler, name, self.case_insensitive_routes))

    def match(self, method, path):
        allowed = False
        for r in self.routes:
            m = r.regex.match(path)
            if m:
                if r.method == method:
                    return r, m.groupdict()
                allowed = True
        return None, allowed

    def count(self, key):
        with self.counts_lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.total_requests += 1

    def reset_counts(self):
        with self.counts_lock:
            self.counts = {}
            self.total_requests = 0

    # ---- admin prefix ------------------------------------------------------
    def load_fixtures_dir(self, directory):
        import os

        doc = {}
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith(".json"):
                continue
            with open(os.path.join(directory, entry), encoding="utf-8") as fh:
                data = json.load(fh)
            stem = entry[:-5]
            if isinstance(data, dict) and stem not in data:
                for k, v in data.items():
                    doc.setdefault(k, []).extend(v if isinstance(v, list) else [v])
            else:
                doc.setdefault(stem, []).extend(data if isinstance(data, list) else [data])
        with self.lock:
            self.load_fixtures(doc)

    def admin(self, req):
        action = req.path[len(ADMIN_PREFIX):].strip("/")
        if req.method == "GET" and action == "state":
            with self.lock:
                state = self.dump_state()
            with self.counts_lock:
                counts = dict(self.counts)
                total = self.total_requests
            with self.faults_lock:
                faults = [f.describe() for f in self.faults if f.count > 0]
            return Response(200, {
                "emulator": self.name,
                "clock": self.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "clock_offset_seconds": self.clock.offset,
                "requests": {"total": total, "by_route": counts},
                "faults": faults,
                "store": state,
            })
        if req.method == "GET" and action == "requests":
            with self.counts_lock:
                return Response(200, {"total": self.total_requests, "by_route": dict(self.counts)})
        if req.method != "POST":
            return Response(405, {"message": "admin routes: GET state|requests, POST fixtures|clock|faults|reset|requests/reset"})
        try:
            doc = req.json() or {}
        except ValueError as e:
            return Response(400, {"message": "admin body is not JSON: %s" % e})
        if action == "fixtures":
            with self.lock:
                self.load_fixtures(doc)
            return Response(200, {"ok": True})
        if action == "clock":
            if "advance" in doc:
                self.clock.advance(doc["advance"])
            if "set" in doc:
                target = datetime.datetime.fromisoformat(str(doc["set"]).replace("Z", "+00:00"))
                if target.tzinfo is None:
                    target = target.replace(tzinfo=datetime.timezone.utc)
                self.clock.advance(target.timestamp() - self.clock.now())
            return Response(200, {"now": self.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")})
        if action == "faults":
            specs = doc if isinstance(doc, list) else doc.get("faults", [doc]) if doc else []
            with self.faults_lock:
                if isinstance(doc, dict) and doc.get("clear"):
                    self.faults = []
                    specs = []
                for spec in specs:
                    self.faults.append(Fault(spec))
                return Response(200, {"faults": [f.describe() for f in self.faults if f.count > 0]})
        if action == "reset":
            with self.lock:
                self.on_reset(doc)
            with self.faults_lock:
                self.faults = []
            self.reset_counts()
            self.clock.offset = 0.0
            return Response(200, {"ok": True})
        if action == "requests/reset":
            self.reset_counts()
            return Response(200, {"ok": True})
        return self.admin_extra(req, action, doc)

    def on_reset(self, doc):
        """Default reset: re-seed from the start options."""
        self.seed()

    def admin_extra(self, req, action, doc):
        """Hook for emulator-specific admin actions; 404 by default."""
        return Response(404, {"message": "unknown admin action '%s'" % action})

    def take_fault(self, req):
        with self.faults_lock:
            for f in self.faults:
                if f.matches(req):
                    f.count -= 1
                    f.hits += 1
                    return f
        return None

    # ---- error shape, overridden per API -----------------------------------
    def not_found_body(self, req):
        return {"message": "Request does not match any route."}

    def method_not_allowed_body(self, req):
        return {"message": "Request does not match any route."}

    def fault_body(self, fault):
        return fault.body if fault.body is not None else {"message": "emulated fault %d" % fault.status}

    def handle(self, req):
        """Route one API request (admin requests never reach this)."""
        route, params = self.match(req.method, req.path)
        if route is None:
            if params:
                return Response(405, self.method_not_allowed_body(req))
            return Response(404, self.not_found_body(req))
        req.params = params
        req.route = route.name
        self.count(route.name)
        return route.handler(req)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ferry-emulator/1"
    emulator = None  # set per server

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer on a
        # kept-alive connection (real servers do not behave like that).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.emulator.args.verbose:
            sys.stderr.write("%s %s\n" % (self.emulator.name, fmt % args))

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _send(self, resp, truncate=False):
        if resp.raw is not None:
            payload = resp.raw if isinstance(resp.raw, bytes) else resp.raw.encode("utf-8")
            ctype = resp.content_type or "text/plain; charset=utf-8"
        elif resp.body is None and resp.status in (204,):
            payload = b""
            ctype = None
        else:
            payload = json_dumps(resp.body).encode("utf-8") if resp.body is not None else b""
            ctype = resp.content_type or "application/json; charset=utf-8"
        if truncate and len(payload) > 1:
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(resp.status)
        if ctype and payload:
            self.send_header("Content-Type", ctype)
        for k, v in resp.headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _dispatch(self):
        emu = self.emulator
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items()}
        # header lookup is case-insensitive, as HTTP says
        headers = _CIDict(headers)
        req = Request(self.command, self.path, headers, body)
        if req.path.startswith(ADMIN_PREFIX):
            try:
                self._send(emu.admin(req))
            except Exception as e:  # admin errors must be visible, not hang the test
                self._send(Response(500, {"message": "admin error: %r" % e}))
            return
        fault = emu.take_fault(req)
        truncate = False
        if fault is not None:
            if fault.kind == "reset":
                emu.count("FAULT reset")
                # SO_LINGER 0 makes close() send RST: the client sees a reset
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            if fault.kind == "hang":
                time.sleep(fault.seconds)
            elif fault.kind == "truncate":
                truncate = True
            else:
                emu.count("FAULT %d" % fault.status)
                self._send(Response(fault.status, emu.fault_body(fault), dict(fault.headers)))
                return
        try:
            resp = emu.handle(req)
        except HttpError as e:
            resp = Response(e.status, e.body, e.headers)
        except Exception as e:  # a bug in the emulator answers 500 and says so on stderr
            import traceback

            traceback.print_exc()
            resp = Response(500, {"message": "emulator internal error: %r" % e})
        try:
            self._send(resp, truncate=truncate)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class _CIDict(dict):
    def __init__(self, d):
        super().__init__({k.lower(): v for k, v in d.items()})

    def get(self, k, default=None):
        return super().get(k.lower(), default)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def common_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the deterministic data generator")
    parser.add_argument("--orders", type=int, default=None, help="number of orders to generate")
    parser.add_argument("--fixtures", metavar="DIR", help="load customers, products and orders from JSON files in DIR")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def serve(emulator_class, argv=None, description=None, extra_arguments=None):
    """Parse the command line, start the emulator, print its base URL, serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=description)
    common_arguments(parser)
    if extra_arguments:
        extra_arguments(parser)
    args = parser.parse_args(argv)
    try:
        emu = emulator_class(args)
    except (ValueError, OSError) as e:  # a bad --fixtures file, say: one line, not a traceback
        parser.exit(2, "%s: cannot start: %s\n" % (parser.prog, e))
    handler = type("Handler", (_Handler,), {"emulator": emu})
    server = _Server((args.host, args.port), handler)
    host, port = server.server_address[:2]
    emu.base_url = "http://%s:%d" % (host, port)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    # handlers first: a test may send SIGTERM as soon as it has read the URL
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(emu.base_url, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
