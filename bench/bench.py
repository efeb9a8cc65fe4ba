#!/usr/bin/env python3
"""bench.py - what ferry costs, measured side by side and printed as ratios.

Run it through bench/run (which builds what is needed).  Everything here is
Python standard library; the numbers come from the emulators' request
counters, wait4() rusage of the ferry process, bench_engine (C, against
libferry) and a first-byte TCP proxy.  bench/README.md explains each figure.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
EMU = os.path.join(ROOT, "tests", "emulators")
STATUSES = ["pending", "pending_payment", "processing", "holded", "complete", "canceled", "closed"]
M2_CREDS = {
    "consumer_key": "ferryconsumerkey0000000000000001",
    "consumer_secret": "ferryconsumersecret0000000000001",
    "access_token": "ferryaccesstoken0000000000000001",
    "access_token_secret": "ferryaccesstokensecret0000000001",
}
UNLIMITED = 1000000  # emulator --rate-limit that never binds


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---- emulators ------------------------------------------------------------------------------

class Emulator:
    """One emulator process; its base URL is the first line it prints."""

    def __init__(self, workdir, name, script, args):
        self.name = name
        self.out_path = os.path.join(workdir, "%s-%d.out" % (name, time.monotonic_ns()))
        self.out = open(self.out_path, "w+")
        self.err = open(self.out_path + ".err", "w")
        self.proc = subprocess.Popen([sys.executable, script] + [str(a) for a in args], cwd=ROOT,
                                     stdout=self.out, stderr=self.err)
        deadline = time.monotonic() + 120
        self.url = None
        while time.monotonic() < deadline:
            self.out.seek(0)
            line = self.out.readline().strip()
            if line.startswith("http"):
                self.url = line
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.url is None:
            self.stop()
            raise RuntimeError("%s emulator did not start (see %s.err)" % (name, self.out_path))

    def admin(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_emulator/" + path, data=data,
                                     method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read() or b"null")

    def requests(self):
        return self.admin("requests")

    def reset_counters(self):
        self.admin("requests/reset", {})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # by PID, never by name
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        self.err.close()


# The stock emulators: their order search answers ferry's keyset page query from a sorted index
# and their lists shape only the members a $filter reads, so neither costs O(n) per page or lookup.
def magento(workdir, orders, seed):
    return Emulator(workdir, "magento2", os.path.join(EMU, "magento2.py"),
                    ["--port", 0, "--seed", seed, "--orders", orders])


def eaccounting(workdir, seed, rate_limit=UNLIMITED, rate_window=60):
    return Emulator(workdir, "eaccounting", os.path.join(EMU, "eaccounting.py"),
                    ["--port", 0, "--seed", seed, "--with-shop-data", "--rate-limit", rate_limit,
                     "--rate-window", rate_window])


# ---- running ferry --------------------------------------------------------------------------

class TailReader(threading.Thread):
    """Drain a pipe, keeping only its last `keep` bytes (dry runs print every payload)."""

    def __init__(self, pipe, keep=1 << 20):
        super().__init__(daemon=True)
        self.pipe, self.keep, self.buf = pipe, keep, b""

    def run(self):
        while True:
            chunk = self.pipe.read(1 << 16)
            if not chunk:
                break
            self.buf = (self.buf + chunk)[-self.keep:]


def last_json_object(text):
    """The last top-level JSON object in `text` (ferry --json prints it indented, last)."""
    pos = len(text)
    while True:
        pos = text.rfind("\n{", 0, pos)
        start = pos + 1 if pos >= 0 else 0
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[start:])
            return obj
        except ValueError:
            if pos < 0:
                return None


class Ferry:
    """The ferry command with its own store."""

    def __init__(self, build, workdir, name):
        self.build = build
        self.db = os.path.join(workdir, name + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.unlink(self.db + suffix)
        self.exe = os.path.join(build, "ferry")
        self.env = dict(os.environ, FERRY_DB=self.db, FERRY_PLUGIN_PATH=os.path.join(build, ".libs"),
                        FERRY_DATADIR=os.path.join(ROOT, "share", "ferry"))
        self.env.pop("FERRY_EA_AUTH_CODE", None)

    def cli(self, *args, env=None):
        r = subprocess.run([self.exe, "-q"] + list(args), env=dict(self.env, **(env or {})),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("ferry %s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def setup(self, m2_url, ea_url, rate_per_minute, flow_settings=()):
        self.cli("connection", "add", "shop", "--plugin", "magento2", "--set", "base_url=" + m2_url,
                 *sum([["--set", "%s=%s" % kv] for kv in M2_CREDS.items()], []))
        code = authorization_code(ea_url)
        self.cli("connection", "add", "books", "--plugin", "eaccounting", "--set", "api_base_url=%s/v2" % ea_url,
                 "--set", "identity_base_url=" + ea_url, "--set", "client_id=ferry-demo",
                 "--set", "client_secret=ferry-demo-secret", "--set", "rate_limit_per_minute=%d" % rate_per_minute,
                 env={"FERRY_EA_AUTH_CODE": code})
        args = ["flow", "add", "orders", "--kind", "orders", "--source", "shop", "--target", "books",
                "--set", "statuses=" + json.dumps(STATUSES), "--set", "shipping_article=FRAKT",
                "--set", "article_policy=create", "--set", "rounding_article=ORESAVR",
                "--map", "payment_terms:checkmo=30", "--map", "payment_terms:banktransfer=10",
                "--map", "payment_terms:purchaseorder=30", "--map", "payment_terms:cashondelivery=Kortbetalning",
                "--map", "payment_terms:free=Kortbetalning"]
        for kv in flow_settings:
            args += ["--set", kv]
        self.cli(*args)

    def run(self, *args, sample=False):
        """`ferry --json run orders ARGS`: result, wall seconds, rusage (wait4); with `sample`, the
        resident set split (anonymous / file / shared memory) from /proc every 0.2 s."""
        ru_path = self.db + ".rusage.json"
        t0 = time.perf_counter()
        p = subprocess.Popen([RUSAGE, ru_path, self.exe, "--json", "run", "orders"] + list(args), env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = TailReader(p.stdout), TailReader(p.stderr, 1 << 16)
        out.start()
        err.start()
        sampler = RssSampler(p.pid, t0) if sample else None
        if sampler:
            sampler.start()
        p.wait()
        wall = time.perf_counter() - t0
        if sampler:
            sampler.stop.set()
            sampler.join()
        out.join()
        err.join()
        with open(ru_path) as fh:
            ru = json.load(fh)
        result = last_json_object(out.buf.decode("utf-8", "replace")) or {}
        extra = {"rss_sampled": sampler.summary()} if sampler else {}
        return dict(extra, **{
            "exit": ru["exit"],
            "result": {k: result.get(k) for k in ("status", "read", "synced", "skipped", "unchanged", "failed",
                                                  "dead", "mismatched", "calls", "message")},
            "wall_s": wall,
            "user_s": ru["user_s"],
            "sys_s": ru["sys_s"],
            "cpu_s": ru["user_s"] + ru["sys_s"],
            "maxrss_kb": ru["maxrss_kb"],
            "stderr_tail": err.buf.decode("utf-8", "replace")[-600:] if ru["exit"] not in (0, 1) else "",
        })

    def flow_json(self):
        return json.loads(self.cli("--json", "flow", "show", "orders"))


class RssSampler(threading.Thread):
    """Polls /proc/PID/status: the peak of each part of the resident set, and a coarse time line."""

    FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")

    def __init__(self, helper_pid, t0):
        super().__init__(daemon=True)
        self.helper, self.path, self.t0 = helper_pid, None, t0
        self.stop = threading.Event()
        self.peak = {f: 0 for f in self.FIELDS}
        self.timeline = []  # (seconds, VmRSS kB) every ~5 s

    def run(self):
        last = -10.0
        while self.path is None and not self.stop.is_set():  # ferry is the rusage helper's child
            try:
                with open("/proc/%d/task/%d/children" % (self.helper, self.helper)) as fh:
                    kids = fh.read().split()
                if kids:
                    self.path = "/proc/%s/status" % kids[0]
            except OSError:
                return
            self.stop.wait(0.01)
        while not self.stop.is_set():
            try:
                with open(self.path) as fh:
                    vals = {}
                    for line in fh:
                        k, _, v = line.partition(":")
                        if k in self.FIELDS:
                            vals[k] = int(v.split()[0])
            except (OSError, ValueError):
                return
            for k, v in vals.items():
                self.peak[k] = max(self.peak[k], v)
            t = time.perf_counter() - self.t0
            if t - last >= 5 and "VmRSS" in vals:
                self.timeline.append((round(t, 1), vals["VmRSS"]))
                last = t
            self.stop.wait(0.2)

    def summary(self):
        return {"peak_kb": self.peak, "timeline_s_kb": self.timeline}


def authorization_code(ea_url):
    """The eAccounting consent, headless: GET /connect/authorize answers a redirect with the code."""
    q = urllib.parse.urlencode({"client_id": "ferry-demo", "redirect_uri": "http://localhost:53682/callback",
                                "scope": "ea:api offline_access ea:sales ea:accounting", "state": "bench",
                                "response_type": "code"}, quote_via=urllib.parse.quote)
    u = urllib.parse.urlsplit(ea_url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", "/connect/authorize?" + q)
    r = c.getresponse()
    r.read()
    c.close()
    return r.getheader("Location")


# ---- counting calls -------------------------------------------------------------------------

def counts(emulator):
    r = emulator.requests()
    return {"total": r["total"], "by_route": r["by_route"]}


def per_endpoint(by_route):
    """Calls per rate-limit key of the eAccounting emulator: the route's spec path, lower-cased, all
    methods together (eaccounting.py rate_limit); /connect/* is not limited."""
    out = {}
    for route, n in by_route.items():
        path = route.split(" ", 1)[1].lower()
        if path.startswith("/v2"):
            out[path] = out.get(path, 0) + n
    return out


def naive_pass(m2, ea, after_id):
    r = subprocess.run([sys.executable, os.path.join(BENCH, "naive_client.py"), "--magento", m2.url,
                        "--eaccounting", ea.url, "--after-id", str(after_id)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("naive client failed: " + r.stderr[-2000:])
    return json.loads(r.stdout)


def section_calls(opt, build, workdir, results):
    """1. calls per order: ferry vs the naive client, first run and steady state; 3. pipeline CPU."""
    n, seed = opt.orders, opt.seed
    out = {"orders_seeded": n, "orders_new": n, "seed": seed, "statuses": STATUSES}

    log("calls: ferry, first run over %d seeded orders" % n)
    m2, ea = magento(workdir, n, seed), eaccounting(workdir, seed)
    try:
        f = Ferry(build, workdir, "calls")
        f.setup(m2.url, ea.url, 100000)
        m2.reset_counters()
        ea.reset_counters()
        first = f.run()
        first.update(magento=counts(m2), eaccounting=counts(ea))
        log("calls: ferry, steady state: %d new orders (POST /_emulator/orders/new)" % n)
        new = m2.admin("orders/new", {"count": n})
        m2.reset_counters()
        ea.reset_counters()
        steady = f.run()
        steady.update(magento=counts(m2), eaccounting=counts(ea), new_orders=len(new["entity_ids"]))
        log("calls: ferry, idle run (nothing new)")
        m2.reset_counters()
        ea.reset_counters()
        idle = f.run()
        idle.update(magento=counts(m2), eaccounting=counts(ea))
        out["ferry"] = {"first": first, "steady": steady, "idle": idle}
        out["flow"] = f.flow_json()
    finally:
        m2.stop()
        ea.stop()

    log("calls: naive client, same seed, fresh emulators")
    m2, ea = magento(workdir, n, seed), eaccounting(workdir, seed)
    try:
        m2.reset_counters()
        ea.reset_counters()
        t0 = time.perf_counter()
        first = naive_pass(m2, ea, 0)
        first.update(wall_s=time.perf_counter() - t0, magento=counts(m2), eaccounting=counts(ea))
        new = m2.admin("orders/new", {"count": n})
        m2.reset_counters()
        ea.reset_counters()
        t0 = time.perf_counter()
        steady = naive_pass(m2, ea, n)
        steady.update(wall_s=time.perf_counter() - t0, magento=counts(m2), eaccounting=counts(ea),
                      new_orders=len(new["entity_ids"]))
        out["naive"] = {"first": first, "steady": steady}
    finally:
        m2.stop()
        ea.stop()

    # the figures
    fig = {}
    for phase in ("first", "steady"):
        fr, nv = out["ferry"][phase], out["naive"][phase]
        row = {}
        for side in ("eaccounting", "magento"):
            a, b = fr[side]["total"] / n, nv[side]["total"] / n
            row[side] = {"ferry": a, "naive": b, "ratio": b / a if a else None}
        fig[phase] = row
    # API budget: orders per hour the busiest eAccounting endpoint allows at 600 per minute
    budget = {}
    for who in ("ferry", "naive"):
        ep = per_endpoint(out[who]["steady"]["eaccounting"]["by_route"])
        busiest = max(ep.items(), key=lambda kv: kv[1])
        budget[who] = {"busiest_endpoint": busiest[0], "calls_per_order": busiest[1] / n,
                       "orders_per_hour": 600 * 60 / (busiest[1] / n)}
    budget["ratio"] = budget["ferry"]["orders_per_hour"] / budget["naive"]["orders_per_hour"]
    fig["budget"] = budget
    idle = out["ferry"]["idle"]
    fig["idle"] = {"eaccounting": idle["eaccounting"]["total"], "magento": idle["magento"]["total"],
                   "read": idle["result"]["read"], "cpu_s": idle["cpu_s"]}
    out["figures"] = fig
    results["calls"] = out


# ---- 2. wall time under the rate limit ---------------------------------------------------------

def section_rate(opt, build, workdir, results):
    n, seed = opt.rate_orders, opt.seed
    limit, window = 600, 60
    log("rate: %d new orders against eAccounting's %d per %d s per endpoint" % (n, limit, window))
    m2, ea = magento(workdir, 24, seed), eaccounting(workdir, seed, limit, window)
    try:
        f = Ferry(build, workdir, "rate")
        f.setup(m2.url, ea.url, limit)
        warm = f.run()  # first run: reference data, the 24 scenario orders' customers, FRAKT and ORESAVR
        m2.admin("orders/new", {"count": n})
        m2.reset_counters()
        ea.reset_counters()
        ea.admin("ratelimit/reset", {})
        run = f.run()
        run.update(magento=counts(m2), eaccounting=counts(ea))
        run["http_429"] = count_429(f.db)
    finally:
        m2.stop()
        ea.stop()
    ep = per_endpoint(run["eaccounting"]["by_route"])
    # the emulator's window is fixed and starts at the first call: c calls to one endpoint need
    # ceil(c / limit) windows, and the last batch can go the moment its window opens
    mins = {path: (math.ceil(c / limit) - 1) * window for path, c in ep.items()}
    binding = max(mins.items(), key=lambda kv: (kv[1], ep[kv[0]]))
    sustained = max(ep.values()) / limit * window  # the same calls at the long-run rate
    results["rate"] = {
        "orders": n, "limit": limit, "window_s": window, "ferry_rate_limit_per_minute": limit,
        "warmup": {k: warm[k] for k in ("exit", "wall_s")},
        "run": run, "calls_per_endpoint": ep,
        "binding_endpoint": binding[0], "min_wall_s": binding[1], "sustained_min_s": sustained,
        "ratio": run["wall_s"] / binding[1] if binding[1] else None,
    }


def count_429(db):
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        r = c.execute("select count(*) from events where kind = 'http' and (message like '%-> 429%' or "
                      "json_extract(data, '$.attempts') > 1)").fetchone()
        c.close()
        return r[0]
    except sqlite3.Error:
        return None


# ---- 3. engine cost --------------------------------------------------------------------------

def makefile_vars(build):
    v = {}
    with open(os.path.join(build, "Makefile")) as fh:
        for line in fh:
            if " = " in line and not line.startswith("\t"):
                k, _, val = line.partition(" = ")
                v[k.strip()] = val.strip()
    return v


RUSAGE = None  # the rusage helper, built in main()


def build_rusage(build, workdir):
    exe = os.path.join(workdir, "rusage")
    cmd = makefile_vars(build).get("CC", "cc").split() + ["-O2", "-o", exe, os.path.join(BENCH, "rusage.c")]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("building rusage failed:\n%s\n%s" % (" ".join(cmd), r.stdout))
    return exe


def build_bench_engine(build, workdir):
    v = makefile_vars(build)
    exe = os.path.join(workdir, "bench_engine")
    cc = v.get("CC", "cc")
    cmd = (cc.split() + ["-O2", "-std=c11", "-I" + build, "-I" + os.path.join(ROOT, "core", "include"),
                         "-I" + os.path.join(build, "core", "include"), "-I" + os.path.join(ROOT, "core")]
           + v.get("LUA_CFLAGS", "").split() + v.get("JANSSON_CFLAGS", "").split()
           + [os.path.join(BENCH, "bench_engine.c"), os.path.join(build, ".libs", "libferry.a")]
           + v.get("JANSSON_LIBS", "-ljansson").split() + v.get("CURL_LIBS", "-lcurl").split()
           + v.get("SQLITE_LIBS", "-lsqlite3").split() + v.get("LUA_LIBS", "-llua5.4").split()
           + v.get("LIBLTDL", "-lltdl").split() + ["-lpthread", "-lm", "-o", exe])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError("building bench_engine failed:\n%s\n%s" % (" ".join(cmd), r.stdout))
    return exe


def dump_orders(db, path, limit):
    """Canonical orders as the engine handed them to the mapping: the activity log's 'read' events."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    seen, n = set(), 0
    with open(path, "w") as out:
        for key, data in c.execute("select record_key, data from events where kind = 'read' order by id"):
            if key in seen or data is None:
                continue
            seen.add(key)
            if n == 0 and '"source"' not in data:
                raise RuntimeError("engine: the read events hold no \"source\"; the orders would not be what "
                                   "the mapping gets")
            out.write(data.replace("\n", " ") + "\n")
            n += 1
            if n >= limit:
                break
    c.close()
    return n


def section_engine(opt, build, workdir, results):
    exe = build_bench_engine(build, workdir)
    # The mapping's input: every order exactly as the engine hands it to ferry_lua_map, Magento's JSON
    # under "source" included.  A dry run over the seeded orders with log_payloads=full keeps them whole
    # in its "read" events (the default, standard, drops "source" from the log; the mapping still gets it).
    log("engine: canonical orders from a dry run over %d seeded orders (log_payloads=full)" % opt.orders)
    m2, ea = magento(workdir, opt.orders, opt.seed), eaccounting(workdir, opt.seed)
    try:
        f = Ferry(build, workdir, "engine")
        f.setup(m2.url, ea.url, 100000, flow_settings=("log_payloads=full",))
        dry = f.run("--dry-run")
        if dry["exit"] not in (0, 1):
            raise RuntimeError("engine: the dry run failed: %s" % dry["stderr_tail"])
    finally:
        m2.stop()
        ea.stop()
    db = f.db
    flow = f.flow_json()
    flow["effective_settings"]["log_payloads"] = "standard"  # what the measured runs use; the mapping ignores it
    orders = os.path.join(workdir, "orders.jsonl")
    n = dump_orders(db, orders, opt.orders)
    settings, maps = os.path.join(workdir, "settings.json"), os.path.join(workdir, "maps.json")
    with open(settings, "w") as fh:
        json.dump(flow["effective_settings"], fh)
    with open(maps, "w") as fh:
        json.dump(flow.get("maps") or {}, fh)
    log("engine: mapping vs Jansson floor over %d canonical orders (~%d s)" % (n, opt.engine_seconds))
    r = subprocess.run([exe, os.path.join(ROOT, "share", "ferry", "mappings", "orders.lua"),
                        os.path.join(ROOT, "share", "ferry", "lua"), settings, maps, orders,
                        str(opt.engine_seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 3):
        raise RuntimeError("bench_engine failed: " + r.stderr)
    eng = json.loads(r.stdout)
    floor_ns = eng["floor"]["median_ns"]
    out = {"bench_engine": eng, "floor_ns": floor_ns,
           "map_ns": eng["map"]["median_ns"], "map_ratio": eng["map"]["median_ns"] / floor_ns,
           "map_nosrc_ns": eng["map_nosrc"]["median_ns"],
           "map_nosrc_ratio": eng["map_nosrc"]["median_ns"] / floor_ns}
    calls = results.get("calls")
    if calls:
        for phase in ("steady", "first"):
            run = calls["ferry"][phase]
            per = run["cpu_s"] / calls["orders_new"] * 1e9
            out["pipeline_%s_ns" % phase] = per
            out["pipeline_%s_ratio" % phase] = per / floor_ns
            out["pipeline_%s_read" % phase] = run["result"]["read"]
    results["engine"] = out


# ---- 4. memory --------------------------------------------------------------------------------

def one_memory_run(opt, build, workdir, n, dry, also_next):
    m2, ea = magento(workdir, n, opt.seed), eaccounting(workdir, opt.seed)
    try:
        f = Ferry(build, workdir, "mem-%d-%s" % (n, "dry" if dry else "real"))
        f.setup(m2.url, ea.url, 100000)
        keys = ("exit", "wall_s", "cpu_s", "maxrss_kb", "result", "rss_sampled", "stderr_tail")
        run = f.run("--dry-run", sample=True) if dry else f.run(sample=True)
        entry = {k: run[k] for k in keys}
        if also_next:
            nxt = f.run(sample=True)
            entry["next_run"] = {k: nxt[k] for k in keys}
        return entry
    finally:
        m2.stop()
        ea.stop()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f.db + suffix)
            except (OSError, UnboundLocalError):
                pass


def section_memory(opt, build, workdir, results):
    out = {"real": {}, "dry_run": {}}
    for n in opt.mem_real:
        log("memory: ferry run over %d orders (real writes), then the next run" % n)
        out["real"][str(n)] = one_memory_run(opt, build, workdir, n, False, True)
    for n in opt.mem_dry:
        log("memory: ferry run --dry-run over %d orders" % n)
        out["dry_run"][str(n)] = one_memory_run(opt, build, workdir, n, True, False)

    def ratio(series, key=None):
        keys = sorted(series, key=int)
        if len(keys) < 2:
            return None
        get = (lambda e: e[key]["maxrss_kb"]) if key else (lambda e: e["maxrss_kb"])
        return get(series[keys[-1]]) / get(series[keys[0]])

    out["ratio_real"] = ratio(out["real"])
    out["ratio_next_run"] = ratio(out["real"], "next_run")
    out["ratio_dry_run"] = ratio(out["dry_run"])
    results["memory"] = out


# ---- 5. startup -------------------------------------------------------------------------------

class FirstByteProxy(threading.Thread):
    """A TCP proxy in front of an emulator that notes when the first request byte arrives."""

    def __init__(self, upstream_url):
        super().__init__(daemon=True)
        u = urllib.parse.urlsplit(upstream_url)
        self.upstream = (u.hostname, u.port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.first = None
        self.lock = threading.Lock()

    def arm(self):
        with self.lock:
            self.first = None

    def run(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        try:
            up = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return

        def pump(src, dst, note):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if note:
                        t = time.perf_counter()
                        with self.lock:
                            if self.first is None:
                                self.first = t
                        note = False
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        a = threading.Thread(target=pump, args=(client, up, True), daemon=True)
        b = threading.Thread(target=pump, args=(up, client, False), daemon=True)
        a.start()
        b.start()
        a.join()
        b.join()
        client.close()
        up.close()


def section_startup(opt, build, workdir, results):
    log("startup: time to the first request of 'ferry run' vs 'ferry --version' (%d each)" % opt.startup_reps)
    m2, ea = magento(workdir, 24, opt.seed), eaccounting(workdir, opt.seed)
    pm, pe = FirstByteProxy(m2.url), FirstByteProxy(ea.url)
    pm.start()
    pe.start()
    try:
        f = Ferry(build, workdir, "startup")
        f.setup(pm.url, pe.url, 100000)
        f.run()  # first run: reference data, customers; later runs start from steady state
        f.run()
        env = f.env
        first, version = [], []
        for _ in range(opt.startup_reps):
            pm.arm()
            pe.arm()
            t0 = time.perf_counter()
            p = subprocess.Popen([f.exe, "run", "orders"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            p.wait()
            hits = [t for t in (pm.first, pe.first) if t is not None]
            if hits:
                first.append(min(hits) - t0)
            t0 = time.perf_counter()
            subprocess.run([f.exe, "--version"], env=env, stdout=subprocess.DEVNULL)
            version.append(time.perf_counter() - t0)
        plugins = subprocess.run([f.exe, "plugin", "list"], env=env, stdout=subprocess.PIPE, text=True).stdout
    finally:
        m2.stop()
        ea.stop()
    med_first, med_version = statistics.median(first), statistics.median(version)
    results["startup"] = {
        "reps": opt.startup_reps, "first_request_s": first, "version_s": version,
        "first_request_median_s": med_first, "version_median_s": med_version,
        "ratio": med_first / med_version, "plugins": plugins.strip().splitlines(),
    }


# ---- report -----------------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "core", "plugins",
                            "share"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "python": platform.python_version(), "commit": commit or None,
            "engine_tree_modified": bool(dirty), "loadavg_start": os.getloadavg()}


def fmt_ns(ns):
    return "%.0f us" % (ns / 1e3) if ns < 1e6 else "%.2f ms" % (ns / 1e6)


def table(res):
    L = []
    m = res["machine"]
    L.append("ferry bench  %s  nproc %s  %s  commit %s%s" % (m["date"], m["nproc"], m["cpu"], m["commit"],
                                                             " (engine tree modified)" if m["engine_tree_modified"]
                                                             else ""))
    L.append("%-50s %14s %14s %10s" % ("", "ferry", "reference", "ratio"))
    c = res.get("calls")
    if c:
        fg, n = c["figures"], c["orders_new"]
        L.append("1. API calls per new order, steady state (%d new orders, known customers)" % n)
        for side, name in (("eaccounting", "eAccounting"), ("magento", "Magento")):
            r = fg["steady"][side]
            L.append("   %-47s %14.3f %14.3f %9.2fx" % (name + " (naive client)", r["ferry"], r["naive"], r["ratio"]))
        L.append("   first run (%d seeded orders, new guest customers)" % c["orders_seeded"])
        for side, name in (("eaccounting", "eAccounting"), ("magento", "Magento")):
            r = fg["first"][side]
            L.append("   %-47s %14.3f %14.3f %9.2fx" % (name + " (naive client)", r["ferry"], r["naive"], r["ratio"]))
        b = fg["budget"]
        L.append("   %-47s %14s %14s %9.2fx" % ("orders/hour at 600/min/endpoint (busiest)",
                                                 "{:,.0f}".format(b["ferry"]["orders_per_hour"]),
                                                 "{:,.0f}".format(b["naive"]["orders_per_hour"]), b["ratio"]))
        i = fg["idle"]
        L.append("   %-47s %14s" % ("idle run (nothing new): eA + Magento calls",
                                    "%d + %d" % (i["eaccounting"], i["magento"])))
    r = res.get("rate")
    if r:
        L.append("2. wall time, %d new orders at %d per %d s per endpoint" % (r["orders"], r["limit"], r["window_s"]))
        L.append("   %-47s %12.1f s %12.1f s %9s" % ("ferry vs theoretical minimum", r["run"]["wall_s"],
                                                       r["min_wall_s"], "%.3f" % r["ratio"] if r["ratio"] else
                                                       "n/a (< 1 window)"))
        L.append("   %-47s %14s %12.1f s" % ("(same calls at the sustained rate)", "", r["sustained_min_s"]))
        L.append("   %-47s %14s" % ("429 answers / retried requests", r["run"]["http_429"]))
    e = res.get("engine")
    if e:
        L.append("3. CPU per order (emulators answering at once); floor = Jansson load+dump %s" % fmt_ns(e["floor_ns"]))
        if "pipeline_steady_ns" in e:
            L.append("   %-47s %14s %14s %9.1fx" % ("whole pipeline, steady run (user+sys)",
                                                    fmt_ns(e["pipeline_steady_ns"]), fmt_ns(e["floor_ns"]),
                                                    e["pipeline_steady_ratio"]))
            L.append("   %-47s %14s %14s %9.1fx" % ("whole pipeline, first run", fmt_ns(e["pipeline_first_ns"]),
                                                    fmt_ns(e["floor_ns"]), e["pipeline_first_ratio"]))
        L.append("   %-47s %14s %14s %9.2fx" % ("Lua mapping (ferry_lua_map)", fmt_ns(e["map_ns"]),
                                                fmt_ns(e["floor_ns"]), e["map_ratio"]))
        L.append("   %-47s %14s %14s %9.2fx" % ("Lua mapping, record without 'source'", fmt_ns(e["map_nosrc_ns"]),
                                                fmt_ns(e["floor_ns"]), e["map_nosrc_ratio"]))
    mm = res.get("memory")
    if mm:
        L.append("4. peak RSS of 'ferry run' (largest / smallest)")

        def series(s, key=None):
            ks = sorted(s, key=int)
            return " / ".join("%s: %.1f MB" % (k if int(k) < 1000 else "%dk" % (int(k) // 1000),
                                               (s[k][key] if key else s[k])["maxrss_kb"] / 1024) for k in ks)
        if mm["dry_run"]:
            L.append("   %-47s %s  %.2f" % ("--dry-run", series(mm["dry_run"]), mm["ratio_dry_run"] or float("nan")))
        if mm["real"]:
            L.append("   %-47s %s  %.2f" % ("real writes", series(mm["real"]), mm["ratio_real"] or float("nan")))
            L.append("   %-47s %s  %.2f" % ("the next run (prefetches those documents)", series(mm["real"], "next_run"),
                                           mm["ratio_next_run"] or float("nan")))
    s = res.get("startup")
    if s:
        L.append("5. startup (median of %d)" % s["reps"])
        L.append("   %-47s %12.1f ms %11.1f ms %9.1fx" % ("'ferry run' to first request vs '--version'",
                                                          s["first_request_median_s"] * 1e3,
                                                          s["version_median_s"] * 1e3, s["ratio"]))
    return "\n".join(L)


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)  # unwinds through every finally: emulators are stopped


def main():
    signal.signal(signal.SIGTERM, on_signal)
    ap = argparse.ArgumentParser(description="ferry's benchmarks (bench/README.md)")
    ap.add_argument("--build", required=True, help="configured and built ferry build directory")
    ap.add_argument("--sections", default="calls,rate,engine,memory,startup")
    sizes = {  # option: (default, --quick)
        "orders": (2000, 500), "rate_orders": (1500, 700), "mem_real": ("1000,10000", "1000,5000"),
        "mem_dry": ("1000,10000,100000", "1000,10000"), "engine_seconds": (10.0, 5.0), "startup_reps": (15, 7)}
    ap.add_argument("--orders", type=int, help="seeded orders, then as many new ones (calls; default 2000)")
    ap.add_argument("--rate-orders", type=int, help="new orders for the rate-limited run (default 1500)")
    ap.add_argument("--mem-real", help="order counts for memory with real writes (default 1000,10000)")
    ap.add_argument("--mem-dry", help="order counts for memory with --dry-run (default 1000,10000,100000)")
    ap.add_argument("--engine-seconds", type=float, help="CPU seconds for bench_engine (default 10)")
    ap.add_argument("--startup-reps", type=int, help="runs of each startup measure (default 15)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true",
                    help="smaller runs (500 orders, 700 rate-limited, memory up to 10k) for options not given")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "latest.json"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory (stores, emulator logs)")
    opt = ap.parse_args()
    for name, (default, quick) in sizes.items():
        if getattr(opt, name) is None:
            setattr(opt, name, quick if opt.quick else default)
    opt.mem_real = [int(x) for x in opt.mem_real.split(",") if x]
    opt.mem_dry = [int(x) for x in opt.mem_dry.split(",") if x]
    build = os.path.abspath(opt.build)
    sections = [s.strip() for s in opt.sections.split(",") if s.strip()]
    workdir = tempfile.mkdtemp(prefix="ferry-bench-")
    log("work directory %s" % workdir)
    results = {"machine": machine(), "options": {k: v for k, v in vars(opt).items() if k not in ("out",)}}
    started = time.monotonic()
    global RUSAGE
    try:
        RUSAGE = build_rusage(build, workdir)
        for name in ("calls", "rate", "engine", "memory", "startup"):
            if name in sections:
                t0 = time.monotonic()
                globals()["section_" + name](opt, build, workdir, results)
                results.setdefault("durations_s", {})[name] = round(time.monotonic() - t0, 1)
    finally:
        results["machine"]["loadavg_end"] = os.getloadavg()
        results["machine"]["total_s"] = round(time.monotonic() - started, 1)
        os.makedirs(os.path.dirname(os.path.abspath(opt.out)), exist_ok=True)
        with open(opt.out, "w") as fh:
            json.dump(results, fh, indent=1, sort_keys=True)
            fh.write("\n")
        if not opt.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(table(results))
    print("\nfigures: %s" % os.path.relpath(opt.out, os.getcwd()))


if __name__ == "__main__":
    main()
