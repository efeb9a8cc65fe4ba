#!/usr/bin/env python3
"""Contract and behaviour tests of the eAccounting emulator (unittest, stdlib only).

    cd /work/main && python3 -m unittest tests/emulators/test_eaccounting.py -v
    python3 tests/emulators/test_eaccounting.py

Each emulator runs as a subprocess on port 0; the tests read its URL from the
first line it prints.  Every response the tests receive (and every request
body they send) is validated against Visma's OpenAPI document in
../shared/spec when it is there; the contract test class skips with a message
when it is not.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import schemacheck  # noqa: E402

EMULATOR = os.path.join(HERE, "eaccounting.py")
SPEC_PATH = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "spec", "eaccounting-v2.openapi.json"))
HAVE_SPEC = os.path.exists(SPEC_PATH)
SPEC = schemacheck.load_document(SPEC_PATH) if HAVE_SPEC else None
# .NET writes document dates without an offset ("2026-03-01T00:00:00")
RESPONSES = schemacheck.Validator(SPEC, datetime_without_offset=True) if HAVE_SPEC else None
REQUESTS = schemacheck.Validator(SPEC, mode="request", datetime_without_offset=True) if HAVE_SPEC else None

CLIENT_ID, CLIENT_SECRET = "ferry-demo", "ferry-demo-secret"
REDIRECT = "http://127.0.0.1:8765/callback"
ALL_SCOPES = "ea:api offline_access ea:sales ea:accounting ea:purchase"


def _spec_routes():
    routes = []
    for path, item in (SPEC or {}).get("paths", {}).items():
        rx = re.compile("^/v2" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "/?$", re.IGNORECASE)
        for method, op in item.items():
            ok = sorted(c for c in op.get("responses", {}) if str(c).startswith("2"))
            if not ok:
                continue
            schema = (op["responses"][ok[0]].get("content") or {}).get("application/json", {}).get("schema")
            routes.append((method.upper(), rx, int(ok[0]), schema))
    # literal paths before templated ones (/currencies/exchangerate before /currencies/{x})
    routes.sort(key=lambda r: r[1].pattern.count("[^/]+"))
    return routes


SPEC_ROUTES = _spec_routes()


def spec_response(method, path):
    """(success status, response schema) the spec declares for this call."""
    bare = path.split("?", 1)[0]
    for m, rx, status, schema in SPEC_ROUTES:
        if m == method and rx.match(bare):
            return status, schema
    return None, None


class Emu:
    """One emulator subprocess and a tiny HTTP client for it."""

    def __init__(self, *args):
        # EMULATOR_SELFCHECK: list answers shaped lazily (eaccounting.Listed) are checked member by
        # member against the whole shaped record; a difference answers 500 and fails the test
        env = dict(os.environ, EMULATOR_SELFCHECK="1")
        self.proc = subprocess.Popen([sys.executable, EMULATOR, "--port", "0"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.proc.kill()
            raise RuntimeError("emulator did not start: %r %s" % (line, self.proc.stderr.read()))
        self.url = line
        parts = urllib.parse.urlsplit(line)
        self.host, self.port = parts.hostname, parts.port
        self.token = None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def raw(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def call(self, method, path, body=None, token=None, headers=None):
        """A /v2 call with the bearer token; answers (status, parsed JSON or None, headers)."""
        h = dict(headers or {})
        tok = token if token is not None else self.token
        if tok:
            h["Authorization"] = "Bearer " + tok
        payload = None
        if body is not None:
            payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = "application/json"
        status, hdrs, data = self.raw(method, path, payload, h)
        parsed = json.loads(data) if data and hdrs.get("content-type", "").startswith("application/json") else None
        return status, parsed, hdrs

    def admin(self, action, body=None, method="POST"):
        status, hdrs, data = self.raw(method, "/_emulator/" + action, json.dumps(body or {}) if method == "POST" else None,
                                      {"Content-Type": "application/json"})
        return status, json.loads(data) if data else None

    def mint(self, scope=ALL_SCOPES):
        return self.admin("token", {"scope": scope})[1]["access_token"]

    def form(self, path, fields, basic=(CLIENT_ID, CLIENT_SECRET), content_type="application/x-www-form-urlencoded"):
        h = {"Content-Type": content_type}
        if basic:
            h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % basic).encode()).decode()
        status, hdrs, data = self.raw("POST", path, urllib.parse.urlencode(fields), h)
        return status, json.loads(data) if data else None


def q(text):
    return urllib.parse.quote(text, safe="")


class Base(unittest.TestCase):
    emu = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emu("--seed", "7")
        cls.emu.token = cls.emu.mint()
        cls.ref = {}
        emu = cls.emu
        cls.ref["terms"] = {t["NumberOfDays"]: t["Id"] for t in emu.call("GET", "/v2/termsofpayments")[1]["Data"]
                            if t["TermsOfPaymentTypeId"] == 0}
        cls.ref["units"] = {u["Code"]: u["Id"] for u in emu.call("GET", "/v2/units")[1]["Data"]}
        codings = emu.call("GET", "/v2/articleaccountcodings")[1]["Data"]
        cls.ref["coding"] = {(c["Type"], round(c["VatRatePercent"] * 100)): c["Id"] for c in codings}

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    # -- helpers -------------------------------------------------------------
    def api(self, method, path, body=None, expect=None, schema=None, token=None):
        if body is not None and HAVE_SPEC and schema:
            errors = REQUESTS.validate(body, schema)
            self.assertEqual(errors, [], "request body does not match %s" % schema)
        status, data, hdrs = self.emu.call(method, path, body, token=token)
        if expect is not None:
            self.assertEqual(status, expect, "%s %s -> %d %s" % (method, path, status, json.dumps(data)[:600]))
        if HAVE_SPEC and path.lower().startswith("/v2"):
            want_status, schema = spec_response(method, path)
            if status >= 400 and data is not None:
                RESPONSES.check(data, "CommonExtendedBadRequest")
            elif status < 300:
                self.assertEqual(status, want_status, "success status per the spec for %s %s" % (method, path))
                if schema is not None and data is not None and "$select" not in path:
                    errors = RESPONSES.validate(data, schema)
                    self.assertEqual(errors, [], "%s %s response does not match the spec" % (method, path))
        return status, data, hdrs

    def assertError(self, result, status, code, field=None):
        got_status, data, _ = result
        self.assertEqual(got_status, status, json.dumps(data))
        self.assertEqual(data["ErrorCode"], code, json.dumps(data))
        self.assertRegex(data["ErrorId"], r"^[0-9a-f-]{36}$")
        if field:
            fields = [e["Field"] for e in data.get("Errors") or []]
            self.assertIn(field, fields, json.dumps(data))
        return data

    def customer(self, **kw):
        body = {"Name": "Test Kund", "InvoiceCity": "Stockholm", "InvoicePostalCode": "11122", "IsPrivatePerson": True,
                "IsActive": True, "TermsOfPaymentId": self.ref["terms"][30], "InvoiceCountryCode": "SE"}
        body.update(kw)
        return self.api("POST", "/v2/customers", body, 201, "CustomerApi")[1]

    def article(self, number, net=None, rate=25, ctype="Goods", **kw):
        body = {"Number": number, "Name": "Artikel " + number, "UnitId": self.ref["units"]["ST"],
                "CodingId": self.ref["coding"][(ctype, rate)], "IsActive": True}
        if net is not None:
            body["NetPrice"] = net
        body.update(kw)
        return self.api("POST", "/v2/articles", body, 201, "ArticleApi")[1]

    def draft(self, customer, rows, **kw):
        body = {"CustomerId": customer["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0,
                "Rows": [dict({"IsTextRow": False, "ReversedConstructionServicesVatFree": False}, **r) for r in rows]}
        body.update(kw)
        return self.api("POST", "/v2/customerinvoicedrafts", body, 201, "CustomerInvoiceDraftApi")[1]


# ---------------------------------------------------------------------------
# identity server

class TestIdentity(Base):
    def authorize(self, **extra):
        params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": ALL_SCOPES, "state": "xyz",
                  "response_type": "code", "prompt": "select_account",
                  "acr_values": "service:44643EB1-3F76-4C1C-A672-402AE8085934"}
        params.update(extra)
        return self.emu.raw("GET", "/connect/authorize?" + urllib.parse.urlencode(params))

    def code_flow(self, **extra):
        status, hdrs, _ = self.authorize(**extra)
        self.assertEqual(status, 302)
        loc = urllib.parse.urlsplit(hdrs["location"])
        self.assertEqual("%s://%s%s" % (loc.scheme, loc.netloc, loc.path), REDIRECT)
        params = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(params["state"], "xyz")
        return params["code"]

    def test_full_authorization_code_flow(self):
        code = self.code_flow()
        status, tok = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        self.assertEqual(status, 200, tok)
        self.assertEqual(tok["expires_in"], 3600)
        self.assertEqual(tok["token_type"].lower(), "bearer")
        self.assertIn("refresh_token", tok)
        self.assertEqual(len(tok["access_token"].split(".")), 3)  # JWT-shaped
        status, data, _ = self.api("GET", "/v2/companysettings", token=tok["access_token"], expect=200)
        self.assertEqual(data["Name"], "Ferry Demo AB")
        self.assertTrue(data["CorporateIdentityNumber"])
        # the code is single-use
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))

    def test_authorize_validation(self):
        self.assertEqual(self.authorize(client_id="nobody")[0], 400)
        self.assertEqual(self.authorize(redirect_uri="https://evil.example/cb")[0], 400)
        status, hdrs, _ = self.authorize(response_type="token")
        self.assertIn("error=unsupported_response_type", hdrs["location"])
        status, hdrs, _ = self.authorize(scope="ea:api ea:everything")
        self.assertIn("error=invalid_scope", hdrs["location"])

    def test_code_checks(self):
        code = self.code_flow()
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code,
                                                       "redirect_uri": "http://127.0.0.1:9/other"})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))
        code = self.code_flow()
        self.emu.admin("clock", {"advance": 301})
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT},
                                    basic=(CLIENT_ID, "wrong"))
        self.assertEqual((status, err["error"]), (401, "invalid_client"))
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": "x"}, basic=None)
        self.assertEqual((status, err["error"]), (401, "invalid_client"))
        status, hdrs, data = self.emu.raw("POST", "/connect/token", json.dumps({"grant_type": "refresh_token"}),
                                          {"Content-Type": "application/json", "Authorization": "Basic " +
                                           base64.b64encode(b"ferry-demo:ferry-demo-secret").decode()})
        self.assertEqual((status, json.loads(data)["error"]), (400, "invalid_request"))
        status, err = self.emu.form("/connect/token", {"grant_type": "password"})
        self.assertEqual((status, err["error"]), (400, "unsupported_grant_type"))

    def test_pkce(self):
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        code = self.code_flow(code_challenge=challenge, code_challenge_method="S256")
        status, err = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                       "code_verifier": "wrong" * 10})
        self.assertEqual(status, 400)
        code = self.code_flow(code_challenge=challenge, code_challenge_method="S256")
        status, tok = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                       "code_verifier": verifier})
        self.assertEqual(status, 200)

    def tokens(self):
        code = self.code_flow()
        return self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})[1]

    def test_access_token_expires_on_clock(self):
        tok = self.tokens()
        self.api("GET", "/v2/units", token=tok["access_token"], expect=200)
        self.emu.admin("clock", {"advance": 3599})
        self.api("GET", "/v2/units", token=tok["access_token"], expect=200)
        self.emu.admin("clock", {"advance": 2})
        result = self.api("GET", "/v2/units", token=tok["access_token"])
        self.assertError(result, 401, 4005)
        self.assertIn("invalid_token", result[2]["www-authenticate"])
        # refresh gives a working token again
        status, new = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual(status, 200)
        self.api("GET", "/v2/units", token=new["access_token"], expect=200)

    def test_rotating_refresh_tokens(self):
        tok = self.tokens()
        status, new = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual(status, 200)
        self.assertNotEqual(new["refresh_token"], tok["refresh_token"])
        status, err = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))
        status, again = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]})
        self.assertEqual(status, 200)

    def test_revocation_and_password_change(self):
        tok = self.tokens()
        status, _ = self.emu.form("/connect/revocation", {"token": tok["refresh_token"], "token_type_hint": "refresh_token"})
        self.assertEqual(status, 200)
        status, err = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))
        tok = self.tokens()
        self.assertEqual(self.emu.admin("revoke")[0], 200)
        self.assertError(self.api("GET", "/v2/units", token=tok["access_token"]), 401, 4005)
        status, err = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
        self.assertEqual((status, err["error"]), (400, "invalid_grant"))
        self.emu.token = self.emu.mint()  # the shared token was revoked too

    def test_no_offline_access_no_refresh_token(self):
        code = self.code_flow(scope="ea:api ea:sales")
        status, tok = self.emu.form("/connect/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        self.assertEqual(status, 200)
        self.assertNotIn("refresh_token", tok)

    def test_scopes(self):
        sales = self.emu.mint("ea:api ea:sales_readonly")
        self.api("GET", "/v2/customers", token=sales, expect=200)
        self.assertError(self.api("GET", "/v2/vatcodes", token=sales), 403, 4006)
        fy = self.api("GET", "/v2/fiscalyears", expect=200)[1]["Data"][0]["Id"]
        self.assertError(self.api("GET", "/v2/accounts/" + fy, token=sales), 403, 4006)
        self.assertError(self.api("POST", "/v2/customers", {"Name": "x"}, token=sales), 403, 4006)
        acc = self.emu.mint("ea:api ea:accounting_readonly")
        self.api("GET", "/v2/vatcodes", token=acc, expect=200)
        self.api("GET", "/v2/accounts/" + fy, token=acc, expect=200)
        self.assertError(self.api("GET", "/v2/customers", token=acc), 403, 4006)
        no_api = self.emu.mint("ea:sales")
        self.assertError(self.api("GET", "/v2/customers", token=no_api), 403, 4006)

    def test_missing_token(self):
        self.assertError(self.api("GET", "/v2/customers", token=""), 401, 4005)


class TestReusableRefresh(unittest.TestCase):
    def test_reusable_mode(self):
        emu = Emu("--refresh-mode", "reusable")
        try:
            tok = emu.admin("token", {})[1]
            for _ in range(3):
                status, new = emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
                self.assertEqual(status, 200)
                self.assertEqual(new["refresh_token"], tok["refresh_token"])
        finally:
            emu.stop()


# ---------------------------------------------------------------------------
# lists, filters, paging

class TestLists(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        terms = cls.ref["terms"][30]
        items = [{"Name": "Filter Kund %02d" % i, "CustomerNumber": "F%03d" % i, "InvoiceCity": "Lund",
                  "InvoicePostalCode": "22100", "IsPrivatePerson": i % 2 == 0, "IsActive": i % 3 != 0,
                  "TermsOfPaymentId": terms, "EmailAddress": "kund%02d@example.com" % i,
                  "CorporateIdentityNumber": "5560%06d" % i, "InvoiceCountryCode": "SE"} for i in range(1, 126)]
        items.append({"Name": "O'Brien", "CustomerNumber": "OBRIEN", "InvoiceCity": "Dublin", "InvoicePostalCode": "D01",
                      "IsPrivatePerson": False, "IsActive": True, "TermsOfPaymentId": terms, "InvoiceCountryCode": "IE",
                      "VatNumber": "IE1234567T", "EmailAddress": "obrien@example.ie"})
        status, body = cls.emu.admin("fixtures", {"customers": items})
        assert status == 200, body

    def get(self, query, expect=200):
        return self.api("GET", "/v2/customers?" + query, expect=expect)

    def numbers(self, flt, extra=""):
        data = self.get("$filter=" + q(flt) + "&$pagesize=1000" + extra)[1]
        return [c["CustomerNumber"] for c in data["Data"]]

    def test_paging_over_pages(self):
        data = self.get("$filter=" + q("startswith(CustomerNumber,'F')") + "&$pagesize=50")[1]
        meta = data["Meta"]
        self.assertEqual((meta["CurrentPage"], meta["PageSize"], meta["TotalNumberOfResults"], meta["TotalNumberOfPages"]),
                         (1, 50, 125, 3))
        seen = []
        for page in (1, 2, 3):
            d = self.get("$filter=" + q("startswith(CustomerNumber,'F')") + "&$orderby=CustomerNumber&$pagesize=50&$page=%d" % page)[1]
            seen += [c["CustomerNumber"] for c in d["Data"]]
        self.assertEqual(seen, ["F%03d" % i for i in range(1, 126)])
        self.assertEqual(self.get("$page=99")[1]["Data"], [])
        default = self.get("")[1]["Meta"]
        self.assertEqual(default["PageSize"], 50)
        self.assertEqual(self.get("$pagesize=5000")[1]["Meta"]["PageSize"], 1000)
        self.assertError(self.get("$page=0", None), 400, 6000)
        self.assertError(self.get("$pagesize=abc", None), 400, 6000)

    def test_operators(self):
        self.assertEqual(self.numbers("CustomerNumber eq 'F007'"), ["F007"])
        self.assertEqual(self.numbers("CustomerNumber eq 'f007'"), ["F007"])  # SQL collation: case-insensitive
        self.assertEqual(len(self.numbers("CustomerNumber ne 'F007' and startswith(CustomerNumber,'F')")), 124)
        self.assertEqual(self.numbers("CustomerNumber gt 'F123' and startswith(CustomerNumber, 'F')"), ["F124", "F125"])
        self.assertEqual(self.numbers("CustomerNumber ge 'F124' and CustomerNumber lt 'G'"), ["F124", "F125"])
        self.assertEqual(self.numbers("CustomerNumber le 'F002' and CustomerNumber ge 'F001'"), ["F001", "F002"])
        self.assertEqual(self.numbers("(CustomerNumber eq 'F001' or CustomerNumber eq 'F002') and IsPrivatePerson eq true"), ["F002"])
        self.assertEqual(self.numbers("not (IsActive eq true) and CustomerNumber le 'F009' and startswith(CustomerNumber,'F')"),
                         ["F003", "F006", "F009"])
        self.assertEqual(self.numbers("EmailAddress eq 'KUND05@example.com'"), ["F005"])
        self.assertEqual(self.numbers("contains(EmailAddress,'nd10')"), ["F010", "F100", "F101", "F102", "F103", "F104", "F105",
                                                                        "F106", "F107", "F108", "F109"])
        self.assertEqual(self.numbers("endswith(EmailAddress,'.ie')"), ["OBRIEN"])
        self.assertEqual(self.numbers("CorporateIdentityNumber eq '5560000012'"), ["F012"])
        self.assertEqual(self.numbers("VatNumber eq 'IE1234567T'"), ["OBRIEN"])
        self.assertEqual(self.numbers("VatNumber ne null and startswith(CustomerNumber,'O')"), ["OBRIEN"])
        self.assertEqual(self.numbers("DiscountPercentage gt 0.5"), [])
        self.assertEqual(self.numbers("DiscountPercentage eq 0 and CustomerNumber eq 'F001'"), ["F001"])
        ident = self.get("$filter=" + q("CustomerNumber eq 'F001'"))[1]["Data"][0]["Id"]
        self.assertEqual(self.numbers("Id eq %s" % ident), ["F001"])
        self.assertEqual(self.numbers("Id eq guid'%s'" % ident.upper()), ["F001"])

    def test_dates(self):
        self.assertEqual(len(self.numbers("ChangedUtc gt 2000-01-01T00:00:00Z and startswith(CustomerNumber,'F')")), 125)
        self.assertEqual(self.numbers("ChangedUtc lt 2000-01-01"), [])
        self.assertEqual(len(self.numbers("ChangedUtc ge datetime'2000-01-01T00:00:00' and startswith(CustomerNumber,'F')")), 125)
        self.assertEqual(len(self.numbers("ChangedUtc ge '2000-01-01' and startswith(CustomerNumber,'F')")), 125)
        self.assertError(self.get("$filter=" + q("ChangedUtc gt 2024-13-45"), None), 400, 6001)
        self.assertError(self.get("$filter=" + q("ChangedUtc gt 'yesterday'"), None), 400, 6001)

    def test_filter_injection_is_a_literal(self):
        # a correctly escaped value containing quotes stays one literal
        self.assertEqual(self.numbers("Name eq 'O''Brien'"), ["OBRIEN"])
        evil = "x' or CustomerNumber ne 'y"
        escaped = evil.replace("'", "''")
        self.assertEqual(self.numbers("CustomerNumber eq '%s'" % escaped), [])
        # unescaped, the same value would change the meaning: the parser sees the or
        self.assertGreater(len(self.numbers("CustomerNumber eq '%s'" % evil)), 100)

    def test_bad_filters(self):
        for bad in ("CustomerNumber eq", "CustomerNumber eq 'F001", "Nope eq 1", "CustomerNumber eq 1001",
                    "CustomerNumber eqq 'x'", "(CustomerNumber eq 'x'", "IsActive eq 'true'", "contains(CustomerNumber)",
                    "Id eq 'not-a-guid'", ""):
            self.assertError(self.get("$filter=" + q(bad), None), 400, 6000)
        self.assertError(self.get("$orderby=Nope", None), 400, 6000)
        self.assertError(self.get("$orderby=" + q("Name sideways"), None), 400, 6000)
        self.assertError(self.get("$top=5", None), 400, 6000)

    def test_orderby_and_select(self):
        data = self.get("$filter=" + q("startswith(CustomerNumber,'F')") + "&$orderby=" + q("IsPrivatePerson desc,CustomerNumber desc") + "&$pagesize=3")[1]
        self.assertEqual([c["CustomerNumber"] for c in data["Data"]], ["F124", "F122", "F120"])
        data = self.get("$select=CustomerNumber,Name&$pagesize=2")[1]
        self.assertEqual(sorted(data["Data"][0]), ["CustomerNumber", "Name"])

    def test_article_filters(self):
        self.article("ART-LIST-1", 100)
        data = self.api("GET", "/v2/articles?$filter=" + q("Number eq 'ART-LIST-1'"), expect=200)[1]
        self.assertEqual(len(data["Data"]), 1)
        data = self.api("GET", "/v2/articles?$filter=" + q("ChangedUtc gt 2001-01-01T00:00:00Z and Number eq 'ART-LIST-1'"), expect=200)[1]
        self.assertEqual(len(data["Data"]), 1)


# ---------------------------------------------------------------------------
# validation and business rules

class TestRules(Base):
    def test_case_insensitive_paths_and_json(self):
        body = {"name": "Gemener", "invoicecity": "Umeå", "INVOICEPOSTALCODE": "90328", "isPrivatePerson": True,
                "IsActive": True, "termsOfPaymentId": self.ref["terms"][10]}
        status, data, hdrs = self.api("POST", "/V2/Customers", body, 201)
        self.assertEqual(data["InvoiceCity"], "Umeå")
        self.assertEqual(self.api("GET", "/v2/CUSTOMERS/" + data["Id"].upper(), expect=200)[1]["Name"], "Gemener")

    def test_customer_validation(self):
        result = self.api("POST", "/v2/customers", {"Name": "x" * 51, "InvoiceCity": "A", "IsPrivatePerson": True,
                                                     "IsActive": True, "TermsOfPaymentId": self.ref["terms"][30]})
        data = self.assertError(result, 400, 2000, "Name")
        self.assertIn("InvoicePostalCode", [e["Field"] for e in data["Errors"]])
        result = self.api("POST", "/v2/customers", {"Name": "x", "InvoiceCity": "A", "InvoicePostalCode": "1",
                                                     "IsPrivatePerson": "yes", "IsActive": True, "DiscountPercentage": 10,
                                                     "TermsOfPaymentId": self.ref["terms"][30], "Bogus": 1})
        data = self.assertError(result, 400, 2000, "IsPrivatePerson")
        fields = [e["Field"] for e in data["Errors"]]
        self.assertIn("DiscountPercentage", fields)
        self.assertIn("Bogus", fields)
        self.assertError(self.api("POST", "/v2/customers", "{not json"), 400, 2000)

    def test_resource_not_found(self):
        missing = "00000000-0000-4000-8000-000000000001"
        self.assertError(self.api("POST", "/v2/customers", {"Name": "x", "InvoiceCity": "A", "InvoicePostalCode": "1",
                                                             "IsPrivatePerson": True, "IsActive": True,
                                                             "TermsOfPaymentId": missing}), 400, 3000, "TermsOfPaymentId")
        self.assertError(self.api("GET", "/v2/customers/" + missing), 404, 3000)
        self.assertError(self.api("GET", "/v2/articles/" + missing), 404, 3000)
        c = self.customer()
        self.assertError(self.api("POST", "/v2/customerinvoicedrafts", {
            "CustomerId": c["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0,
            "Rows": [{"IsTextRow": False, "ReversedConstructionServicesVatFree": False, "ArticleId": missing, "Quantity": 1}]}),
            400, 3000, "Rows[0].ArticleId")

    def test_customer_number_unique_and_auto(self):
        a = self.customer(CustomerNumber="UNIQ-1")
        self.assertError(self.api("POST", "/v2/customers", {
            "Name": "Dup", "CustomerNumber": "uniq-1", "InvoiceCity": "A", "InvoicePostalCode": "1", "IsPrivatePerson": True,
            "IsActive": True, "TermsOfPaymentId": self.ref["terms"][30]}), 400, 4000, "CustomerNumber")
        settings = self.api("GET", "/v2/companysettings", expect=200)[1]
        auto = self.customer()
        self.assertEqual(auto["CustomerNumber"], str(settings["NextCustomerNumber"]))
        self.assertEqual(self.api("GET", "/v2/companysettings", expect=200)[1]["NextCustomerNumber"],
                         settings["NextCustomerNumber"] + 1)
        # PUT replaces; the number stays when omitted
        body = {"Name": "Bytt", "InvoiceCity": "B", "InvoicePostalCode": "2", "IsPrivatePerson": False, "IsActive": False,
                "TermsOfPaymentId": self.ref["terms"][20]}
        put = self.api("PUT", "/v2/customers/" + a["Id"], body, 200, "CustomerApi")[1]
        self.assertEqual((put["CustomerNumber"], put["Name"], put["EmailAddress"]), ("UNIQ-1", "Bytt", None))

    def test_article_rules(self):
        art = self.article("NUM-1", 100)
        self.assertEqual((art["NetPrice"], art["GrossPrice"]), (100, 125))
        gross_only = self.article("NUM-2", GrossPrice=112, rate=12)
        self.assertEqual(gross_only["NetPrice"], 100)
        self.assertError(self.api("POST", "/v2/articles", {"Number": "num-1", "Name": "Dup", "UnitId": self.ref["units"]["ST"],
                                                            "CodingId": self.ref["coding"][("Goods", 25)], "IsActive": True}),
                         400, 4000, "Number")
        self.assertError(self.api("POST", "/v2/articles", {"Number": "NUM-3", "Name": "Bad", "UnitId": self.ref["units"]["ST"],
                                                            "CodingId": self.ref["coding"][("Goods", 25)], "IsActive": True,
                                                            "NetPrice": 100, "GrossPrice": 120}), 400, 2000, "GrossPrice")
        self.assertError(self.api("POST", "/v2/articles", {"Number": "NUM-4", "Name": "Dec", "UnitId": self.ref["units"]["ST"],
                                                            "CodingId": self.ref["coding"][("Goods", 25)], "IsActive": True,
                                                            "NetPrice": 10.123}), 400, 2000, "NetPrice")
        status, _, _ = self.emu.call("DELETE", "/v2/articles/" + art["Id"])
        self.assertEqual(status, 405)

    def test_vat_number_and_force_bookkeep(self):
        self.customer(Name="DE GmbH", IsPrivatePerson=False, InvoiceCountryCode="DE", VatNumber="DE123456789")
        self.assertError(self.api("POST", "/v2/customers", {
            "Name": "Bad", "InvoiceCity": "Berlin", "InvoicePostalCode": "10117", "IsPrivatePerson": False, "IsActive": True,
            "TermsOfPaymentId": self.ref["terms"][30], "InvoiceCountryCode": "DE", "VatNumber": "DE12345"}), 400, 4025, "VatNumber")
        self.assertError(self.api("POST", "/v2/customers", {
            "Name": "Mismatch", "InvoiceCity": "Paris", "InvoicePostalCode": "75004", "IsPrivatePerson": False, "IsActive": True,
            "TermsOfPaymentId": self.ref["terms"][30], "InvoiceCountryCode": "FR", "VatNumber": "DE123456789"}), 400, 4025)
        self.emu.admin("vies", {"invalid": ["SE999999999901"]})
        self.assertError(self.api("POST", "/v2/customers", {
            "Name": "Unregistered", "InvoiceCity": "A", "InvoicePostalCode": "1", "IsPrivatePerson": False, "IsActive": True,
            "TermsOfPaymentId": self.ref["terms"][30], "InvoiceCountryCode": "SE", "VatNumber": "SE999999999901"}), 400, 4025)
        self.customer(Name="Greek", IsPrivatePerson=False, InvoiceCountryCode="GR", VatNumber="EL123456789")
        self.assertError(self.api("POST", "/v2/customers", {
            "Name": "EU force", "InvoiceCity": "Berlin", "InvoicePostalCode": "1", "IsPrivatePerson": True, "IsActive": True,
            "TermsOfPaymentId": self.ref["terms"][30], "InvoiceCountryCode": "DE", "ForceBookkeepVat": True}),
            400, 4035, "ForceBookkeepVat")
        self.customer(Name="US force", InvoiceCountryCode="US", ForceBookkeepVat=True)

    def test_customer_delete_rules(self):
        c = self.customer()
        status, data, _ = self.emu.call("DELETE", "/v2/customers/" + c["Id"])
        self.assertEqual((status, data), (200, None))
        c = self.customer()
        art = self.article("DEL-ART", 10)
        self.draft(c, [{"ArticleId": art["Id"], "Quantity": 1, "UnitPrice": 10}])
        self.assertError(self.api("DELETE", "/v2/customers/" + c["Id"]), 400, 4001)

    def test_success_codes(self):
        self.api("POST", "/v2/deliverymethods", {"Name": "Cykelbud", "Code": "BIKE"}, 200, "DeliveryMethodApi")
        self.api("POST", "/v2/deliveryterms", {"Name": "Fritt", "Code": "FR"}, 200, "DeliveryTermApi")
        c = self.customer()
        link = self.api("POST", "/v2/partnerresourcelinks", {"ResourceId": c["Id"], "ResourceType": 1, "Href": "https://shop/c/1",
                                                              "PartnerCompanyName": "ferry", "PartnerSystemName": "Magento"},
                        201, "PartnerResourceLinkApi")[1]
        found = self.api("GET", "/v2/partnerresourcelinks?$filter=" + q("ResourceId eq %s" % c["Id"]), expect=200)[1]["Data"]
        self.assertEqual([x["Id"] for x in found], [link["Id"]])
        status, data, _ = self.emu.call("DELETE", "/v2/partnerresourcelinks/" + link["Id"])
        self.assertEqual(status, 200)
        self.api("GET", "/v2/countries/de", expect=200)
        self.api("GET", "/v2/currencies/exchangerate?sourceCurrencyCode=EUR&targetCurrencyCode=SEK", expect=200)


# ---------------------------------------------------------------------------
# totals and VAT

class TestTotals(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def setUp(self):
        n = self.id().rsplit(".", 1)[-1]
        self.a25 = self.article(n[:30] + "-25", 100, UsesMoss=True)
        self.a12 = self.article(n[:30] + "-12", 50, rate=12, UsesMoss=True)

    def test_domestic_private_prices_include_vat(self):
        c = self.customer()
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 3, "UnitPrice": 99.9},
                           {"ArticleId": self.a12["Id"], "Quantity": 1, "UnitPrice": 56.5, "DiscountPercentage": 0.1},
                           {"IsTextRow": True, "Text": "Tack för ordern"}])
        self.assertTrue(d["IncludesVat"])
        self.assertEqual([r["Amount"] for r in d["Rows"]], [299.7, 50.85, 0])
        self.assertEqual(d["Rows"][0]["VatRate"], 0.25)
        self.assertIsNone(d["Rows"][2]["VatRate"])
        # VAT inside gross: 299.70*0.25/1.25 = 59.94 ; 50.85*0.12/1.12 = 5.45
        self.assertEqual(d["TotalVatAmount"], 65.39)
        self.assertEqual(d["TotalRoundings"], 0.45)  # 350.55 -> 351
        self.assertEqual(d["TotalAmount"], 351)

    def test_domestic_company_prices_exclude_vat_and_rounding(self):
        c = self.customer(IsPrivatePerson=False)
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 1, "UnitPrice": 100.4}])
        self.assertFalse(d["IncludesVat"])
        self.assertEqual(d["TotalVatAmount"], 25.1)
        self.assertEqual(d["TotalRoundings"], 0.5)  # 125.50 -> 126 (half away from zero)
        self.assertEqual(d["TotalAmount"], 126)

    def test_eu_b2b_reverse_charge(self):
        c = self.customer(IsPrivatePerson=False, InvoiceCountryCode="DE", VatNumber="DE123456789", CurrencyCode="EUR")
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 2, "UnitPrice": 10.1234}])
        self.assertEqual(d["TotalVatAmount"], 0)
        self.assertEqual(d["Rows"][0]["VatRate"], 0)
        self.assertEqual(d["InvoiceCurrencyCode"], "EUR")
        self.assertEqual(d["TotalAmount"], 20.25)  # no öresavrundning in a foreign currency
        self.assertEqual(d["TotalAmountBaseCurrency"], round(20.25 * 11.45, 2))

    def test_eu_b2c_oss(self):
        c = self.customer(InvoiceCountryCode="DE", CurrencyCode="EUR")
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 1, "UnitPrice": 119}])
        self.assertEqual(d["Rows"][0]["VatRate"], 0.19)  # destination standard rate under OSS
        self.assertEqual(d["TotalVatAmount"], 19)
        art = self.article(self.id()[-20:] + "-NOOSS", 100)
        d = self.draft(c, [{"ArticleId": art["Id"], "Quantity": 1, "UnitPrice": 125}])
        self.assertEqual(d["Rows"][0]["VatRate"], 0.25)  # article not OSS: Swedish VAT
        self.assertEqual(d["TotalVatAmount"], 25)

    def test_export(self):
        c = self.customer(IsPrivatePerson=True, InvoiceCountryCode="NO", CurrencyCode="NOK")
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 2, "UnitPrice": 100}])
        self.assertEqual((d["TotalVatAmount"], d["TotalAmount"]), (0, 200))

    def test_unit_price_decimals(self):
        c = self.customer()
        result = self.api("POST", "/v2/customerinvoicedrafts", {
            "CustomerId": c["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0,
            "Rows": [{"IsTextRow": False, "ReversedConstructionServicesVatFree": False, "ArticleId": self.a25["Id"],
                      "Quantity": 1, "UnitPrice": 10.123}]})
        self.assertError(result, 400, 2000, "Rows[0].UnitPrice")

    def test_draft_convert(self):
        c = self.customer(IsPrivatePerson=False, EmailAddress="b2b@example.com")
        d = self.draft(c, [{"ArticleId": self.a25["Id"], "Quantity": 2, "UnitPrice": 100}], YourReference="Webshop 10023",
                       OurReference="ferry", BuyersOrderReference="10023")
        found = self.api("GET", "/v2/customerinvoicedrafts?$filter=" + q("YourReference eq 'Webshop 10023'"), expect=200)[1]
        self.assertEqual([x["Id"] for x in found["Data"]], [d["Id"]])
        bad = self.api("POST", "/v2/customerinvoicedrafts/%s/convert" % d["Id"], {"TotalAmountInvoiceCurrency": 999})
        self.assertError(bad, 400, 2000, "TotalAmountInvoiceCurrency")
        first = self.api("POST", "/v2/customerinvoicedrafts/%s/convert" % d["Id"],
                         {"TotalAmountInvoiceCurrency": 250, "TotalVatAmountInvoiceCurrency": 50,
                          "Rows": [{"LineNumber": 1, "TotalAmountNoVatInvoiceCurrency": 200, "TotalAmountIncVatInvoiceCurrency": 250}]},
                         201, "CustomerInvoiceDraftValidationApi")[1]
        self.assertEqual((first["TotalAmount"], first["RemainingAmount"], first["PaymentStatus"]), (250, 250, 1))
        self.assertEqual(first["InvoiceDate"][:10], time.strftime("%Y-%m-%d", time.gmtime()))
        self.assertEqual(first["CreatedFromDraftId"], d["Id"])
        self.assertEqual(first["VatSpecification"], [{"AmountInvoiceCurrency": 200, "VatAmountInvoiceCurrency": 50, "VatPercent": 0.25}])
        self.assertError(self.api("GET", "/v2/customerinvoicedrafts/" + d["Id"]), 404, 3000)
        d2 = self.draft(c, [{"ArticleId": self.a12["Id"], "Quantity": 1, "UnitPrice": 50}])
        second = self.api("POST", "/v2/customerinvoicedrafts/%s/convert" % d2["Id"], expect=201)[1]
        self.assertEqual(second["InvoiceNumber"], first["InvoiceNumber"] + 1)
        for field, value in (("YourReference", "Webshop 10023"), ("OurReference", "ferry"), ("BuyersOrderReference", "10023")):
            got = self.api("GET", "/v2/customerinvoices?$filter=" + q("%s eq '%s'" % (field, value)), expect=200)[1]["Data"]
            self.assertEqual([x["Id"] for x in got], [first["Id"]])
        got = self.api("GET", "/v2/customerinvoices?$filter=" + q("Rows/any(r: r/ArticleNumber eq '%s')" % self.a12["Number"]),
                       expect=200)[1]["Data"]
        self.assertEqual([x["Id"] for x in got], [second["Id"]])
        paid = self.api("POST", "/v2/customerinvoices/%s/payments" % second["Id"], {
            "CompanyBankAccountId": self.api("GET", "/v2/bankaccounts", expect=200)[1]["Data"][0]["Id"],
            "PaymentAmount": 56, "PaymentCurrency": "SEK", "PaymentType": 2, "PaymentDate": "2000-01-01T00:00:00"}, 201, "InvoicePaymentApi")
        self.assertEqual(self.api("GET", "/v2/customerinvoices/" + second["Id"], expect=200)[1]["PaymentStatus"], 0)
        del paid

    def test_order_flow_and_convert(self):
        c = self.customer()
        body = {"CustomerId": c["Id"], "CurrencyCode": "SEK", "Status": 2, "EuThirdParty": False,
                "ReverseChargeOnConstructionServices": False, "RotReducedInvoicingType": 0, "YourReference": "Magento #000000042",
                "Rows": [{"LineNumber": 1, "IsTextRow": False, "IsWorkCost": False, "EligibleForReverseChargeOnVat": False,
                          "ArticleId": self.a25["Id"], "Quantity": 1.5, "UnitPrice": 125}]}
        order = self.api("POST", "/v2/orders", body, 201, "OrderApi")[1]
        self.assertEqual((order["Amount"], order["VatAmount"], order["RoundingsAmount"]), (150, 37.5, 0.5))
        self.assertTrue(order["IncludesVat"])  # private customer: 1.5 x 125 incl. VAT = 187.50 -> 188
        self.assertEqual(self.api("GET", "/v2/orders?$filter=" + q("YourReference eq 'Magento #000000042'"), expect=200)[1]
                         ["Meta"]["TotalNumberOfResults"], 1)
        self.api("POST", "/v2/orders/%s/completed" % order["Id"], expect=200)
        inv = self.api("POST", "/v2/orders/%s/convert" % order["Id"], {}, 200, "OrderConversionApi")[1]
        self.assertEqual((inv["CreatedFromOrderId"], inv["TotalAmount"], inv["YourReference"]),
                         (order["Id"], 188, "Magento #000000042"))
        self.assertEqual(self.api("GET", "/v2/orders/" + order["Id"], expect=200)[1]["Status"], 4)
        self.assertError(self.api("POST", "/v2/orders/%s/convert" % order["Id"], {}), 400, 4002)
        self.assertError(self.api("DELETE", "/v2/orders/" + order["Id"]), 400, 4001)

    def test_direct_invoice(self):
        c = self.customer(IsPrivatePerson=False)
        inv = self.api("POST", "/v2/customerinvoices", {
            "CustomerId": c["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0,
            "Rows": [{"ArticleId": self.a25["Id"], "Quantity": 4, "UnitPrice": 25}, {"Text": "Fri frakt"}]},
            201, "CustomerInvoiceApi")[1]
        self.assertEqual((inv["TotalAmount"], inv["TotalVatAmount"], inv["Rows"][1]["IsTextRow"]), (125, 25, True))


    def test_every_list_member_read_alone_equals_the_whole_record(self):
        # Lists shape a stored record only as far as $filter, $orderby and $select read it
        # (eaccounting.Listed); the emulator runs with EMULATOR_SELFCHECK=1, so a member read
        # alone that differs from the whole shaped record answers 500.  Read every member of
        # every kind of document on its own, so a member a list computes is never missed.
        c = self.customer(IsPrivatePerson=False, Name="Lazy AB")
        row = {"ArticleId": self.a25["Id"], "Quantity": 2, "UnitPrice": 10}
        self.draft(c, [row])
        self.api("POST", "/v2/customerinvoices", {"CustomerId": c["Id"], "EuThirdParty": False,
                                                  "RotReducedInvoicingType": 0, "Rows": [row]}, 201)
        self.api("POST", "/v2/orders", {"CustomerId": c["Id"], "CurrencyCode": "SEK", "Status": 2, "EuThirdParty": False,
                                        "ReverseChargeOnConstructionServices": False, "RotReducedInvoicingType": 0,
                                        "Rows": [dict(row, LineNumber=1, IsTextRow=False, IsWorkCost=False,
                                                      EligibleForReverseChargeOnVat=False)]}, 201)
        for path in ("/v2/customers", "/v2/articles", "/v2/orders", "/v2/customerinvoicedrafts", "/v2/customerinvoices"):
            whole = self.api("GET", path + "?$pagesize=500", expect=200)[1]["Data"]
            self.assertTrue(whole, path)
            for member in whole[0]:
                got = self.api("GET", "%s?$pagesize=500&$select=%s" % (path, member), expect=200)[1]["Data"]
                self.assertEqual([d[member] for d in got], [d[member] for d in whole], (path, member))


# ---------------------------------------------------------------------------
# start flags, rate limit, faults

class TestFlags(unittest.TestCase):
    def run_with(self, flag, check):
        emu = Emu(flag)
        try:
            emu.token = emu.mint()
            check(emu)
        finally:
            emu.stop()

    def assertCode(self, result, status, code):
        self.assertEqual((result[0], result[1]["ErrorCode"]), (status, code), json.dumps(result[1]))

    def test_company_flags(self):
        self.run_with("--startup-guide-incomplete", lambda e: self.assertCode(e.call("GET", "/v2/customers"), 403, 4003))
        self.run_with("--company-inactive", lambda e: self.assertCode(e.call("GET", "/v2/companysettings"), 403, 4004))

    def test_no_order_module_and_no_fiscal_year(self):
        def check(e):
            self.assertCode(e.call("GET", "/v2/orders"), 403, 4002)
            e.call("GET", "/v2/customers")
            self.assertEqual(e.call("GET", "/v2/customerinvoicedrafts")[0], 200)
        self.run_with("--no-order-module", check)

        def check_fy(e):
            terms = e.call("GET", "/v2/termsofpayments")[1]["Data"][0]["Id"]
            c = e.call("POST", "/v2/customers", {"Name": "A", "InvoiceCity": "B", "InvoicePostalCode": "1",
                                                 "IsPrivatePerson": True, "IsActive": True, "TermsOfPaymentId": terms})[1]
            self.assertCode(e.call("POST", "/v2/customerinvoicedrafts", {"CustomerId": c["Id"], "EuThirdParty": False,
                                                                         "RotReducedInvoicingType": 0}), 400, 3001)
            self.assertEqual(e.call("GET", "/v2/fiscalyears")[1]["Data"], [])
        self.run_with("--no-fiscal-year", check_fy)

    def test_fiscal_year_range(self):
        emu = Emu()
        try:
            emu.token = emu.mint()
            terms = emu.call("GET", "/v2/termsofpayments")[1]["Data"][0]["Id"]
            c = emu.call("POST", "/v2/customers", {"Name": "A", "InvoiceCity": "B", "InvoicePostalCode": "1",
                                                   "IsPrivatePerson": True, "IsActive": True, "TermsOfPaymentId": terms})[1]
            r = emu.call("POST", "/v2/orders", {"CustomerId": c["Id"], "CurrencyCode": "SEK", "Status": 2, "EuThirdParty": False,
                                                "ReverseChargeOnConstructionServices": False, "RotReducedInvoicingType": 0,
                                                "OrderDate": "1999-01-01"})
            self.assertCode(r, 400, 3001)
            r = emu.call("POST", "/v2/orders", {"CustomerId": c["Id"], "CurrencyCode": "SEK", "Status": 2, "EuThirdParty": False,
                                                "ReverseChargeOnConstructionServices": False, "RotReducedInvoicingType": 0,
                                                "OrderDate": "2024-02-30"})
            self.assertCode(r, 400, 6001)
        finally:
            emu.stop()

    def test_rate_limit_and_window_reset(self):
        emu = Emu("--rate-limit", "5", "--rate-window", "2", "--retry-after")
        try:
            emu.token = emu.mint()
            for _ in range(5):
                self.assertEqual(emu.call("GET", "/v2/units")[0], 200)
            status, body, hdrs = emu.call("GET", "/v2/units")
            self.assertEqual((status, body["ErrorCode"]), (429, 4010))
            self.assertRegex(body["DeveloperErrorMessage"],
                             r"^API calls quota exceeded! maximum admitted 5 per 2s\. Try again in [12] seconds\.$")
            self.assertIn(hdrs["retry-after"], ("1", "2"))
            # another endpoint has its own budget
            self.assertEqual(emu.call("GET", "/v2/countries")[0], 200)
            emu.admin("clock", {"advance": 2})
            self.assertEqual(emu.call("GET", "/v2/units")[0], 200)
        finally:
            emu.stop()

    def test_default_rate_message(self):
        emu = Emu("--rate-limit", "1")
        try:
            emu.token = emu.mint()
            emu.call("GET", "/v2/units")
            status, body, hdrs = emu.call("GET", "/v2/units")
            self.assertEqual(status, 429)
            self.assertRegex(body["DeveloperErrorMessage"], r"maximum admitted 1 per Minute\. Try again in \d+ seconds\.$")
            self.assertNotIn("retry-after", hdrs)
        finally:
            emu.stop()


class TestFaults(Base):
    def test_faults(self):
        self.emu.admin("faults", {"route": "/v2/customers", "status": 503, "count": 1})
        status, body, _ = self.emu.call("GET", "/v2/customers")
        self.assertEqual(status, 503)
        self.assertIn("ErrorId", body)
        if HAVE_SPEC:
            RESPONSES.check(body, "CommonExtendedBadRequest")
        self.assertEqual(self.emu.call("GET", "/v2/customers")[0], 200)
        self.emu.admin("faults", {"route": "/v2/units", "kind": "truncate"})
        status, hdrs, data = self.emu.raw("GET", "/v2/units", headers={"Authorization": "Bearer " + self.emu.token})
        self.assertEqual(status, 200)
        self.assertRaises(ValueError, json.loads, data)
        self.emu.admin("faults", {"route": "/v2/articles", "kind": "reset"})
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            self.emu.raw("GET", "/v2/articles", headers={"Authorization": "Bearer " + self.emu.token})
        self.emu.admin("faults", {"route": "/v2/countries", "kind": "hang", "seconds": 0.3})
        t0 = time.time()
        self.assertEqual(self.emu.call("GET", "/v2/countries")[0], 200)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        self.emu.admin("faults", {"route": "/connect/token", "status": 500, "body": {"error": "server_error"}})
        status, body = self.emu.form("/connect/token", {"grant_type": "refresh_token", "refresh_token": "x"})
        self.assertEqual((status, body), (500, {"error": "server_error"}))


class TestFixtures(unittest.TestCase):
    def test_fixtures_dir_and_modified_since(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "customers.json"), "w") as fh:
                json.dump([{"CustomerNumber": "FX1", "Name": "Fixture AB", "InvoiceCity": "Lund", "InvoicePostalCode": "22100",
                            "IsPrivatePerson": False, "IsActive": True}], fh)
            with open(os.path.join(tmp, "catalogue.json"), "w") as fh:
                json.dump({"articles": [{"Id": "11111111-2222-4333-8444-555555555555", "Number": "FX-ART", "Name": "Fixture",
                                         "UnitId": None, "CodingId": None, "IsActive": True, "NetPrice": 80}]}, fh)
            emu = None
            try:
                # UnitId/CodingId null: the fixture must be rejected, the emulator must not start
                proc = subprocess.run([sys.executable, EMULATOR, "--port", "0", "--fixtures", tmp], capture_output=True,
                                      text=True, timeout=20)
                self.assertNotEqual(proc.returncode, 0)
                ref = Emu()
                ref.token = ref.mint()
                unit = ref.call("GET", "/v2/units")[1]["Data"][0]["Id"]
                coding = ref.call("GET", "/v2/articleaccountcodings")[1]["Data"][0]["Id"]
                ref.stop()
                with open(os.path.join(tmp, "catalogue.json"), "w") as fh:
                    json.dump({"articles": [{"Id": "11111111-2222-4333-8444-555555555555", "Number": "FX-ART", "Name": "Fixture",
                                             "UnitId": unit, "CodingId": coding, "IsActive": True, "NetPrice": 80}],
                               "customerinvoices": [{"CustomerNumber": "FX1", "EuThirdParty": False, "RotReducedInvoicingType": 0,
                                                     "Rows": [{"ArticleNumber": "FX-ART", "Quantity": 1, "UnitPrice": 80}]}]}, fh)
                emu = Emu("--fixtures", tmp)
                emu.token = emu.mint()
                art = emu.call("GET", "/v2/articles/11111111-2222-4333-8444-555555555555")
                self.assertEqual((art[0], art[1]["Number"]), (200, "FX-ART"))
                invs = emu.call("GET", "/v2/customerinvoices?modifiedSinceUtc=2000-01-01T00:00:00Z")[1]["Data"]
                self.assertEqual([i["CustomerNumber"] for i in invs], ["FX1"])
                emu.admin("clock", {"advance": 86400})
                emu.token = emu.mint()  # a day later the old token has expired
                self.assertEqual(emu.call("GET", "/v2/customerinvoices?modifiedSinceUtc=" +
                                          q(emu.admin("clock", {})[1]["now"]))[1]["Data"], [])
                self.assertEqual(emu.call("GET", "/v2/customerinvoices?modifiedSinceUtc=bad")[1]["ErrorCode"], 6001)
            finally:
                if emu:
                    emu.stop()


class TestShopData(unittest.TestCase):
    def test_with_shop_data(self):
        try:
            import seeddata
        except ImportError:
            self.skipTest("seeddata.py is not there")
        emu = Emu("--with-shop-data", "--seed", "3")
        try:
            emu.token = emu.mint()
            skus = sorted(p["sku"] for p in seeddata.catalogue(3))
            data = emu.call("GET", "/v2/articles?$pagesize=500")[1]
            self.assertEqual(sorted(a["Number"] for a in data["Data"]), skus)
            emails = sorted(c["email"] for c in seeddata.customers(3))
            data = emu.call("GET", "/v2/customers?$pagesize=500")[1]
            self.assertEqual(sorted(c["EmailAddress"] for c in data["Data"]), emails)
            one = emails[0]
            found = emu.call("GET", "/v2/customers?$filter=" + q("EmailAddress eq '%s'" % one))[1]["Data"]
            self.assertEqual(len(found), 1)
        finally:
            emu.stop()


# ---------------------------------------------------------------------------
# contract: every endpoint's answer against Visma's OpenAPI document

@unittest.skipUnless(HAVE_SPEC, "../shared/spec/eaccounting-v2.openapi.json is absent: contract tests skipped")
class TestContract(Base):
    LISTS = {"/v2/customers": "PaginatedResponseOfCustomerApi", "/v2/articles": "PaginatedResponseOfArticleApi",
             "/v2/articleaccountcodings": "PaginatedResponseOfArticleAccountCodingApi", "/v2/units": "PaginatedResponseOfUnitApi",
             "/v2/vatcodes": "PaginatedResponseOfVatCodeApi", "/v2/termsofpayments": "PaginatedResponseOfTermsOfPaymentApi",
             "/v2/countries": "PaginatedResponseOfCountryApi", "/v2/currencies": "PaginatedResponseOfCurrencyApi",
             "/v2/deliverymethods": "PaginatedResponseOfDeliveryMethodApi",
             "/v2/deliveryterms": "PaginatedResponseOfDeliveryTermApi", "/v2/orders": "PaginatedResponseOfOrderApi",
             "/v2/customerinvoicedrafts": "PaginatedResponseOfCustomerInvoiceDraftApi",
             "/v2/customerinvoices": "PaginatedResponseOfCustomerInvoiceApi", "/v2/fiscalyears": "PaginatedResponseOfFiscalYearApi",
             "/v2/accounts": "PaginatedResponseOfAccountApi", "/v2/bankaccounts": "PaginatedResponseOfBankAccountApi",
             "/v2/users": "PaginatedResponseOfUserApi", "/v2/partnerresourcelinks": "PaginatedResponseOfPartnerResourceLinkApi"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.admin("reset")
        cls.emu.stop()
        cls.emu = Emu("--seed", "7", "--orders", "4", "--with-shop-data")
        cls.emu.token = cls.emu.mint()

    def test_lists_and_items(self):
        for path, schema in self.LISTS.items():
            status, data, _ = self.emu.call("GET", path + "?$pagesize=3")
            self.assertEqual(status, 200, path)
            RESPONSES.check(data, schema)
            item_schema = schema.replace("PaginatedResponseOf", "")
            if not data["Data"] or path in ("/v2/currencies", "/v2/accounts", "/v2/bankaccounts", "/v2/users"):
                continue
            first = data["Data"][0]
            key = first.get("Id") or first.get("Code")
            status, item, _ = self.emu.call("GET", "%s/%s" % (path, key))
            self.assertEqual(status, 200, path)
            RESPONSES.check(item, item_schema)

    def test_singletons(self):
        RESPONSES.check(self.emu.call("GET", "/v2/companysettings")[1], "CompanySettingsApi")
        fy = self.emu.call("GET", "/v2/fiscalyears")[1]["Data"][0]["Id"]
        data = self.emu.call("GET", "/v2/accounts/" + fy)[1]
        RESPONSES.check(data, "PaginatedResponseOfAccountApi")
        RESPONSES.check(self.emu.call("GET", "/v2/accounts/%s/3001" % fy)[1], "AccountApi")
        RESPONSES.check(self.emu.call("GET", "/v2/currencies/exchangerate?sourceCurrencyCode=EUR")[1], "ExchangeRateApi")
        inv = self.emu.call("GET", "/v2/customerinvoices")[1]["Data"][0]["Id"]
        RESPONSES.check(self.emu.call("GET", "/v2/customerinvoices/%s/pdf" % inv)[1], "InvoiceUrlApi")

    def test_error_bodies(self):
        for result in (self.emu.call("GET", "/v2/customers?$filter=" + q("x eq")),
                       self.emu.call("GET", "/v2/customers", token="nope"),
                       self.emu.call("GET", "/v2/nonexistent")):
            RESPONSES.check(result[1], "CommonExtendedBadRequest")


if __name__ == "__main__":
    unittest.main(verbosity=2)
