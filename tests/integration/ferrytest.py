"""Harness for ferry's end-to-end tests: both emulators, a scratch store, the ferry binary.

A test makes an Env, which starts the Magento 2 and eAccounting emulators on
free ports, creates a store in a scratch directory, adds the two connections
(the eAccounting OAuth2 authorization-code flow runs for real, headless) and
an orders flow; then it runs `ferry` and looks at both emulators' state and at
ferry's store.  Everything is local; nothing reaches the internet.

Environment (set by `make check`): FERRY_BIN, FERRY_BUILT_PLUGIN_DIR,
FERRY_DATADIR, FERRY_TOP_SRCDIR.  Run one file by hand from a build directory:
    FERRY_BIN=./ferry FERRY_BUILT_PLUGIN_DIR=.libs FERRY_DATADIR=../share/ferry \
        python3 ../tests/integration/test_orders.py
"""

import atexit
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("FERRY_TOP_SRCDIR") or os.path.dirname(os.path.dirname(HERE))
FERRY = os.path.abspath(os.environ.get("FERRY_BIN", "./ferry"))
PLUGINS = os.path.abspath(os.environ.get("FERRY_BUILT_PLUGIN_DIR", ".libs"))
DATADIR = os.path.abspath(os.environ.get("FERRY_DATADIR", os.path.join(SRCDIR, "share", "ferry")))

M2_CREDENTIALS = {
    "consumer_key": "ferryconsumerkey0000000000000001",
    "consumer_secret": "ferryconsumersecret0000000000001",
    "access_token": "ferryaccesstoken0000000000000001",
    "access_token_secret": "ferryaccesstokensecret0000000001",
}
EA_CLIENT = ("ferry-demo", "ferry-demo-secret")

# The settings and value maps of the orders flow used by default in the tests.
DEFAULT_SETTINGS = {
    "statuses": ["processing", "complete"],
    "shipping_article": "FRAKT",
    "rounding_article": "ORESAVR",
    "article_policy": "create",
    # the emulators answer within milliseconds: after a crash, look interrupted creates up once
    # the next second has begun (the default, 60 s, is for a real service under load)
    "reconcile_wait_seconds": 0,
}
DEFAULT_MAPS = {
    "payment_terms": {
        "checkmo": "30", "banktransfer": "10", "purchaseorder": "30",
        "cashondelivery": "Kortbetalning", "free": "Kortbetalning",
    },
}


def have_plugins():
    return all(os.path.exists(os.path.join(PLUGINS, p)) for p in ("magento2.so", "eaccounting.so"))


_RUNNING = []


@atexit.register
def _stop_leftovers():
    """Stop emulators a test could not stop itself (a setUpClass that raised skips tearDownClass)."""
    for emu in list(_RUNNING):
        emu.stop()


class Emulator:
    """One emulator process; its base URL is the first line it prints."""

    def __init__(self, script, args):
        cmd = [sys.executable, os.path.join(SRCDIR, "tests", "emulators", script), "--port", "0"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _RUNNING.append(self)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise RuntimeError("%s did not start: %s" % (script, err))

    def call(self, method, path, body=None, headers=None):
        """An HTTP call to the emulator; returns (status, parsed JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                text = resp.read().decode()
                status = resp.status
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            status = e.code
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    def admin(self, method, action, body=None):
        status, doc = self.call(method, "/_emulator/" + action, body)
        if status != 200:
            raise RuntimeError("admin %s %s: %s %s" % (method, action, status, doc))
        return doc

    def state(self):
        return self.admin("GET", "state")["store"]

    def requests(self):
        return self.admin("GET", "requests")

    def stop(self):
        if self in _RUNNING:
            _RUNNING.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


class Env:
    """Two emulators, a store, two connections and an orders flow."""

    def __init__(self, m2_args=(), ea_args=(), settings=None, maps=None, flow=True, orders=40, seed=3, connect=True,
                 ea_shop_data=True):
        self.dir = tempfile.mkdtemp(prefix="ferry-it-")
        self.db = os.path.join(self.dir, "ferry.db")
        self.m2 = Emulator("magento2.py", ["--seed", str(seed), "--orders", str(orders)] + list(m2_args))
        try:
            # --with-shop-data: eAccounting already has the shop's articles and customers (a steady state)
            shop_data = ["--with-shop-data"] if ea_shop_data else []
            self.ea = Emulator("eaccounting.py", ["--seed", str(seed)] + shop_data + list(ea_args))
        except Exception:
            self.m2.stop()
            raise
        self.env = dict(os.environ, FERRY_DB=self.db, FERRY_PLUGIN_PATH=PLUGINS, FERRY_DATADIR=DATADIR)
        self.env.pop("FERRY_LOG_LEVEL", None)
        if connect:
            self.connect()
        if connect and flow:
            self.add_flow(settings, maps)

    # ---- ferry ---------------------------------------------------------------
    def ferry(self, *args, check=True, input=None, env=None, timeout=300):
        """Run ferry; returns the CompletedProcess (stdout/stderr as text)."""
        e = dict(self.env, **(env or {}))
        p = subprocess.run([FERRY] + list(args), capture_output=True, text=True, env=e, input=input,
                           timeout=timeout)
        if check and p.returncode not in (0, 1):
            raise AssertionError("ferry %s exited %d:\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def connect(self):
        sets = ["--set", "base_url=" + self.m2.url]
        for k, v in M2_CREDENTIALS.items():
            sets += ["--set", "%s=%s" % (k, v)]
        self.ferry("-q", "connection", "add", "shop", "--plugin", "magento2", *sets)
        # The emulator's identity server consents at once: fetch the redirect it answers with.
        redirect = self.authorize_redirect()
        self.ferry("-q", "connection", "add", "books", "--plugin", "eaccounting",
                   "--set", "api_base_url=%s/v2" % self.ea.url, "--set", "identity_base_url=" + self.ea.url,
                   "--set", "client_id=" + EA_CLIENT[0], "--set", "client_secret=" + EA_CLIENT[1],
                   env={"FERRY_EA_AUTH_CODE": redirect})

    def authorize_redirect(self):
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        url = (self.ea.url + "/connect/authorize?client_id=%s&redirect_uri=http://localhost:53682/callback"
               "&scope=ea:api%%20offline_access%%20ea:sales%%20ea:accounting&state=t&response_type=code" % EA_CLIENT[0])
        try:
            opener.open(url)
        except urllib.error.HTTPError as e:
            return e.headers["Location"]
        raise AssertionError("the identity emulator did not redirect")

    def add_flow(self, settings=None, maps=None, name="orders"):
        s = dict(DEFAULT_SETTINGS)
        s.update(settings or {})
        m = json.loads(json.dumps(DEFAULT_MAPS))
        for k, v in (maps or {}).items():
            m.setdefault(k, {}).update(v)
        doc = {"name": name, "kind": "orders", "source": {"connection": "shop", "entity": "order"},
               "target": {"connection": "books", "entity": "document"},
               "settings": {k: v for k, v in s.items() if v is not None}, "maps": m}
        path = os.path.join(self.dir, name + ".flow.json")
        with open(path, "w") as fh:
            json.dump(doc, fh)
        self.ferry("-q", "flow", "import", path, "--replace")

    def run(self, *extra, flow="orders"):
        """ferry run --json; returns (exit code, summary dict)."""
        p = self.ferry("--json", "run", flow, *extra, check=False)
        summary = None
        try:
            start = p.stdout.rindex('{\n  "flow"')
            summary = json.loads(p.stdout[start:])
        except ValueError:
            summary = None
        return p.returncode, summary, p

    # ---- the store -------------------------------------------------------------
    def sql(self, query, *params):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def sql_write(self, query, *params):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            with con:
                con.execute(query, params)
        finally:
            con.close()

    def idmap(self, key, flow="orders"):
        rows = self.sql("SELECT i.state, i.target_id, i.target_ref, i.reason, i.pending FROM id_map i "
                        "JOIN flows f ON f.id=i.flow_id WHERE i.source_key=? AND f.name=?", key, flow)
        if not rows:
            return None
        return dict(zip(("state", "target_id", "target_ref", "reason", "pending"), rows[0]))

    def events(self, key=None, kind=None):
        q = "SELECT kind, level, message, data FROM events WHERE 1=1"
        args = []
        if key is not None:
            q += " AND record_key=?"
            args.append(key)
        if kind is not None:
            q += " AND kind=?"
            args.append(kind)
        return [dict(kind=k, level=l, message=m, data=json.loads(d) if d else None)
                for k, l, m, d in self.sql(q + " ORDER BY id", *args)]

    def dead(self):
        p = self.ferry("--json", "dead", "list")
        return json.loads(p.stdout)

    # ---- the two sides ---------------------------------------------------------
    def magento_orders(self):
        """Every Magento order (native JSON), by increment id."""
        status, doc = self.m2_api("GET", "/rest/V1/orders?searchCriteria[pageSize]=1000")
        return {o["increment_id"]: o for o in doc["items"]}

    def m2_api(self, method, path, body=None):
        """A Magento API call as an admin (token from the admin endpoint)."""
        if not hasattr(self, "_m2_token"):
            status, token = self.m2.call("POST", "/rest/V1/integration/admin/token",
                                         {"username": "admin", "password": "admin123"})
            self._m2_token = token
        return self.m2.call(method, path, body, {"Authorization": "Bearer " + self._m2_token})

    def documents(self):
        """Every sales document in eAccounting (orders, drafts, invoices) with its type."""
        st = self.ea.state()
        docs = []
        for kind, key in (("order", "orders"), ("invoice_draft", "drafts"), ("invoice", "invoices")):
            coll = st.get(key) or st.get({"drafts": "customerinvoicedrafts", "invoices": "customerinvoices"}.get(key, key)) or {}
            items = coll.values() if isinstance(coll, dict) else coll
            for d in items:
                d = dict(d)
                d["_type"] = kind
                docs.append(d)
        return docs

    def documents_by_ref(self, field="BuyersOrderReference"):
        out = {}
        for d in self.documents():
            out.setdefault(d.get(field), []).append(d)
        return out

    def close(self):
        self.m2.stop()
        self.ea.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
