#!/usr/bin/env python3
"""Visma eAccounting API v2 + identity server emulator (standard library only).

    python3 tests/emulators/eaccounting.py [--port 0] [--seed 1] [...]

prints its base URL on the first line and serves, on that one address:

  * /connect/authorize, /connect/token, /connect/revocation - an OAuth2
    authorization-code identity server (consents at once, like a test IdP),
  * /v2/...  - the eAccounting REST API (one Swedish company),
  * /_emulator/... - the admin API of emucommon (state, fixtures, clock,
    faults, reset) plus revoke, token, company, vies.

Everything the emulator knows about request/response shapes comes from
eaccounting_schema.json, extracted from Visma's OpenAPI document by
gen_eaccounting_schema.py.  See README.md "## eAccounting" for the model and
every known difference from the real service.
"""

import base64
import calendar
import copy
import datetime
import decimal
import hashlib
import json
import math
import os
import random
import re
import secrets
import sys
import threading
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from emucommon import Emulator, HttpError, Response, json_dumps, serve  # noqa: E402
import eaccounting_odata as odata  # noqa: E402

D = decimal.Decimal
CENT = D("0.01")

with open(os.path.join(HERE, "eaccounting_schema.json"), encoding="utf-8") as _fh:
    SPEC = json.load(_fh)
SCHEMAS = SPEC["schemas"]
OPERATIONS = SPEC["operations"]

DEMO_CLIENT_ID = "ferry-demo"
DEMO_CLIENT_SECRET = "ferry-demo-secret"
KNOWN_SCOPES = {"ea:api", "offline_access", "ea:sales", "ea:sales_readonly", "ea:accounting",
                "ea:accounting_readonly", "ea:purchase", "ea:purchase_readonly", "vls:api",
                "openid", "profile", "email"}
ACCESS_TOKEN_LIFETIME = 3600
AUTH_CODE_LIFETIME = 300
ISSUER = "https://identity.vismaonline.com"
COMPANY_COUNTRY = "SE"
COMPANY_CURRENCY = "SEK"


# ---------------------------------------------------------------------------
# small helpers: money, dates, ids, JSON

def round_half_away(value, places=2):
    """Midpoint away from zero, as eAccounting rounds since 2019 (100.45 -> 100.5)."""
    q = D(1).scaleb(-places)
    return D(value).quantize(q, rounding=decimal.ROUND_HALF_UP)


def money(value):
    return round_half_away(value, 2)


def decimals_of(value):
    t = D(str(value)).normalize().as_tuple()
    return max(0, -t.exponent) if isinstance(t.exponent, int) else 0


def to_json(obj):
    """Decimals become numbers as .NET writes doubles: 125 (not 125.0), 12.5."""
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_json(v) for v in obj]
    if isinstance(obj, D):
        if obj == obj.to_integral_value():
            return int(obj)
        return float(obj)
    if isinstance(obj, datetime.datetime):
        return iso_utc(obj)
    if isinstance(obj, datetime.date):
        return iso_date(obj)
    return obj


def iso_utc(dt):
    """A *Utc timestamp: 2026-03-01T10:11:12.123Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def iso_date(d):
    """A document date as .NET writes a DateTime without offset: 2026-03-01T00:00:00."""
    return d.strftime("%Y-%m-%dT00:00:00")


def parse_date(text):
    """A date from a body or query: YYYY-MM-DD or an ISO date-time. None when malformed."""
    if not isinstance(text, str):
        return None
    dt = odata.parse_datetime(text)
    return dt.date() if dt else None


def new_error_id():
    return str(uuid.uuid4())


def is_guid(text):
    return isinstance(text, str) and bool(re.match(
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", text))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# ---------------------------------------------------------------------------
# errors in eAccounting's shape

def api_error(status, code, message, errors=None, headers=None):
    body = {
        "ErrorCode": code,
        "DeveloperErrorMessage": message,
        "ErrorId": new_error_id(),
        "Errors": errors or None,
    }
    return HttpError(status, body, headers)


def field_error(field, code, message):
    return {"Field": field, "ErrorCode": code, "Message": message, "Key": None}


def validation_failed(errors):
    """400/2000 with the per-field list; 6001 when the only trouble is dates."""
    codes = {e["ErrorCode"] for e in errors}
    code = 6001 if codes == {"InvalidDateTime"} else 2000
    summary = "; ".join("%s: %s" % (e["Field"], e["Message"]) for e in errors[:5])
    return api_error(400, code, "Validation failed. " + summary, errors)


def not_found(what, ident):
    return api_error(404, 3000, "%s with id '%s' was not found." % (what, ident))


def missing_reference(field, what, ident):
    return api_error(400, 3000, "%s with id '%s' does not exist." % (what, ident),
                     [field_error(field, "ResourceNotFound", "%s does not exist" % what)])


# ---------------------------------------------------------------------------
# schema-driven input validation and output shaping

def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def types_of(schema):
    t = schema.get("type")
    return list(t) if isinstance(t, list) else ([t] if t else [])


def default_for(schema, depth=0):
    """The value .NET would serialise for an unset property of this schema."""
    if "$ref" in schema:
        if depth > 6:
            return None
        return shape(schema["$ref"].rsplit("/", 1)[-1], {}, depth + 1)
    types = types_of(schema)
    if "null" in types:
        return None
    base = types[0] if types else "object"
    if base == "boolean":
        return False
    if base in ("integer", "number"):
        lo = schema.get("minimum")
        return D(lo) if lo is not None and lo > 0 else D(0)
    if base == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return "00000000-0000-0000-0000-000000000000"
        if fmt == "date-time":
            return "0001-01-01T00:00:00"
        return ""
    if base == "array":
        return []
    return {}


def shape(schema_name, record, depth=0):
    """Every property of the schema, in schema order, from `record` or defaults.

    The schemas say additionalProperties: false, so nothing else is emitted."""
    schema = SCHEMAS[schema_name]
    out = {}
    for name, prop in schema.get("properties", {}).items():
        if name in record and not (record[name] is None and "null" not in types_of(prop)):
            out[name] = shape_value(prop, record[name], depth)
        else:
            out[name] = default_for(prop, depth)
    return out


def shape_value(prop, value, depth):
    if value is None:
        return None
    if "$ref" in prop and isinstance(value, dict):
        return shape(prop["$ref"].rsplit("/", 1)[-1], value, depth + 1)
    if isinstance(value, list) and "items" in prop:
        items = prop["items"]
        if "$ref" in items:
            name = items["$ref"].rsplit("/", 1)[-1]
            return [shape(name, v, depth + 1) if isinstance(v, dict) else v for v in value]
    return value


# EMULATOR_SELFCHECK=1: every member a list reads from a stored record without shaping it
# (Listed.get) is checked against the whole shaped record; a difference is an error (500).
# The emulator tests run with it.
SELFCHECK = os.environ.get("EMULATOR_SELFCHECK") == "1"


class Listed(odata.RecordView):
    """One stored record in a list answer, shaped only as far as it is read.

    `out(rec)` is the record's whole answer (shape() of the schema, after the list's out_*
    method has set the members it computes, `computed`).  Every other member is shape()'s own
    value for it, which depends on that member of the record alone; so $filter and $orderby read
    one or two members of each record, and only the page is shaped whole."""

    __slots__ = ("rec", "out", "computed", "props", "members", "whole")

    def __init__(self, rec, out, computed, props):
        self.rec, self.out, self.computed, self.props = rec, out, computed, props
        self.members = {}
        self.whole = None

    def shaped(self):
        """The whole answer for the record (to_json of out(rec))."""
        if self.whole is None:
            self.whole = to_json(self.out(self.rec))
        return self.whole

    def get(self, name, default=None):
        if self.whole is not None or name in self.computed or name not in self.props:
            return self.shaped().get(name, default)
        if name not in self.members:
            prop, rec = self.props[name], self.rec
            # shape()'s rule for one member
            if name in rec and not (rec[name] is None and "null" not in types_of(prop)):
                value = to_json(shape_value(prop, rec[name], 0))
            else:
                value = to_json(default_for(prop, 0))
            if SELFCHECK:
                whole = to_json(self.out(self.rec))[name]
                if json.dumps(value) != json.dumps(whole):
                    raise AssertionError("lazily shaped %s is %r, shaped whole %r (a member the list's out "
                                         "function computes, missing from `computed`?)" % (name, value, whole))
            self.members[name] = value
        return self.members[name]


class BodyChecker:
    """Validate a request body against a schema and normalise it.

    JSON member names are matched case-insensitively (ASP.NET model binding)
    and come out PascalCase; readOnly members are dropped; numbers stay
    Decimal.  Every violation is collected as an Errors[] entry."""

    def __init__(self):
        self.errors = []

    def add(self, field, code, message):
        self.errors.append(field_error(field, code, message))

    def object(self, schema_name, body, prefix=""):
        schema = SCHEMAS[schema_name]
        props = schema.get("properties", {})
        if not isinstance(body, dict):
            self.add(prefix or schema_name, "InvalidType", "An object is expected")
            return {}
        by_lower = {k.lower(): k for k in props}
        out = {}
        for key, value in body.items():
            name = by_lower.get(key.lower())
            field = prefix + (name or key)
            if name is None:
                self.add(field, "UnknownProperty", "'%s' is not a property of %s" % (key, schema_name))
                continue
            prop = props[name]
            if prop.get("readOnly") or resolve(prop).get("readOnly"):
                continue
            out[name] = self.value(prop, value, field)
        for name in schema.get("required", []):
            prop = props.get(name, {})
            if prop.get("readOnly"):
                continue
            if name not in out or (out[name] is None):
                self.add(prefix + name, "Required", "The %s field is required." % name)
        return out

    def value(self, prop, value, field):
        if "$ref" in prop:
            if value is None:
                return None
            return self.object(prop["$ref"].rsplit("/", 1)[-1], value, field + ".")
        types = types_of(prop)
        if value is None:
            if types and "null" not in types:
                self.add(field, "InvalidType", "null is not allowed")
            return None
        base = [t for t in types if t != "null"]
        base = base[0] if base else None
        if base == "array":
            if not isinstance(value, list):
                self.add(field, "InvalidType", "An array is expected")
                return None
            items = prop.get("items", {})
            return [self.value(items, v, "%s[%d]" % (field, i)) for i, v in enumerate(value)]
        if base == "boolean":
            if not isinstance(value, bool):
                self.add(field, "InvalidType", "A boolean is expected")
                return None
            return value
        if base in ("integer", "number"):
            return self.number(prop, value, field, base == "integer")
        if base == "string":
            return self.string(prop, value, field)
        return value

    def number(self, prop, value, field, integer):
        if isinstance(value, bool) or not isinstance(value, (int, float, D)):
            self.add(field, "InvalidType", "A number is expected")
            return None
        value = D(str(value))
        if integer and value != value.to_integral_value():
            self.add(field, "InvalidType", "An integer is expected")
            return None
        lo, hi = prop.get("minimum"), prop.get("maximum")
        if (lo is not None and value < D(str(lo))) or (hi is not None and value > D(str(hi))):
            self.add(field, "Range", "The field %s must be between %s and %s." % (
                field.rsplit(".", 1)[-1], lo if lo is not None else "-inf", hi if hi is not None else "inf"))
        pattern = prop.get("pattern")
        # the decimal-places patterns are [RegularExpression] attributes: a full match
        if pattern and not re.fullmatch(pattern.replace("(.", r"(\."), _plain(value)):
            self.add(field, "RegularExpression", "The field %s has too many decimals." % field.rsplit(".", 1)[-1])
        if "enum" in prop and int(value) not in prop["enum"]:
            self.add(field, "Enum", "Allowed values: %s" % prop["enum"])
        return value

    def string(self, prop, value, field):
        if not isinstance(value, str):
            self.add(field, "InvalidType", "A string is expected")
            return None
        fmt = prop.get("format")
        if fmt == "uuid":
            if not is_guid(value):
                self.add(field, "InvalidType", "'%s' is not a valid GUID" % value)
                return None
            return value.lower()
        if fmt == "date-time":
            d = parse_date(value)
            if d is None:
                self.add(field, "InvalidDateTime", "'%s' is not a valid date. Expected format YYYY-MM-DD" % value)
                return None
            return d
        if "maxLength" in prop and len(value) > prop["maxLength"]:
            self.add(field, "MaxLength", "The field %s must be a string with a maximum length of %d." % (
                field.rsplit(".", 1)[-1], prop["maxLength"]))
        if "minLength" in prop and len(value) < prop["minLength"]:
            self.add(field, "MinLength", "The field %s is too short." % field.rsplit(".", 1)[-1])
        if "enum" in prop and value not in prop["enum"]:
            self.add(field, "Enum", "Allowed values: %s" % prop["enum"])
        return value


def _plain(value):
    s = format(value.normalize(), "f") if value == value else str(value)
    return s


def parse_body(req):
    """The request body as JSON with Decimal numbers; 400/2000 when malformed."""
    if not req.body:
        return None
    try:
        return json.loads(req.body.decode("utf-8"), parse_float=D, parse_int=D)
    except (ValueError, UnicodeDecodeError) as e:
        raise api_error(400, 2000, "The request body is not valid JSON: %s" % e,
                        [field_error("", "InvalidJson", str(e))])


def checked_body(req, schema_name, required=True):
    body = parse_body(req)
    if body is None:
        if not required:
            return {}
        raise api_error(400, 2000, "A request body is required.",
                        [field_error("", "Required", "A non-empty request body is required.")])
    checker = BodyChecker()
    out = checker.object(schema_name, body)
    if checker.errors:
        raise validation_failed(checker.errors)
    return out


# ---------------------------------------------------------------------------
# reference data of the seeded Swedish company

# (code, Swedish name, English name, EU member, standard VAT % used for OSS)
COUNTRIES = [
    ("AT", "Österrike", "Austria", True, 20), ("BE", "Belgien", "Belgium", True, 21),
    ("BG", "Bulgarien", "Bulgaria", True, 20), ("CY", "Cypern", "Cyprus", True, 19),
    ("CZ", "Tjeckien", "Czech Republic", True, 21), ("DE", "Tyskland", "Germany", True, 19),
    ("DK", "Danmark", "Denmark", True, 25), ("EE", "Estland", "Estonia", True, 22),
    ("ES", "Spanien", "Spain", True, 21), ("FI", "Finland", "Finland", True, 25.5),
    ("FR", "Frankrike", "France", True, 20), ("GR", "Grekland", "Greece", True, 24),
    ("HR", "Kroatien", "Croatia", True, 25), ("HU", "Ungern", "Hungary", True, 27),
    ("IE", "Irland", "Ireland", True, 23), ("IT", "Italien", "Italy", True, 22),
    ("LT", "Litauen", "Lithuania", True, 21), ("LU", "Luxemburg", "Luxembourg", True, 17),
    ("LV", "Lettland", "Latvia", True, 21), ("MT", "Malta", "Malta", True, 18),
    ("NL", "Nederländerna", "Netherlands", True, 21), ("PL", "Polen", "Poland", True, 23),
    ("PT", "Portugal", "Portugal", True, 23), ("RO", "Rumänien", "Romania", True, 19),
    ("SE", "Sverige", "Sweden", True, 25), ("SI", "Slovenien", "Slovenia", True, 22),
    ("SK", "Slovakien", "Slovakia", True, 23),
    ("NO", "Norge", "Norway", False, 0), ("GB", "Storbritannien", "United Kingdom", False, 0),
    ("US", "USA", "United States", False, 0), ("CH", "Schweiz", "Switzerland", False, 0),
    ("IS", "Island", "Iceland", False, 0), ("LI", "Liechtenstein", "Liechtenstein", False, 0),
    ("CA", "Kanada", "Canada", False, 0), ("AU", "Australien", "Australia", False, 0),
    ("NZ", "Nya Zeeland", "New Zealand", False, 0), ("JP", "Japan", "Japan", False, 0),
    ("CN", "Kina", "China", False, 0), ("IN", "Indien", "India", False, 0),
    ("BR", "Brasilien", "Brazil", False, 0), ("MX", "Mexiko", "Mexico", False, 0),
    ("TR", "Turkiet", "Turkey", False, 0), ("UA", "Ukraina", "Ukraine", False, 0),
    ("RS", "Serbien", "Serbia", False, 0), ("AE", "Förenade Arabemiraten", "United Arab Emirates", False, 0),
    ("ZA", "Sydafrika", "South Africa", False, 0), ("SG", "Singapore", "Singapore", False, 0),
    ("KR", "Sydkorea", "South Korea", False, 0), ("IL", "Israel", "Israel", False, 0),
    ("FO", "Färöarna", "Faroe Islands", False, 0), ("GL", "Grönland", "Greenland", False, 0),
    ("AX", "Åland", "Åland Islands", False, 0),
]
COUNTRY_BY_CODE = {c[0]: c for c in COUNTRIES}

# Reduced VAT % of the EU member states used for OSS, by the category of the
# Swedish coding: (what Sweden taxes at 12 % - food, what it taxes at 6 % -
# books).  eAccounting applies the destination country's rate of the same
# category; approximate 2025 rates (the Magento seed uses the same ones for
# SE, DK, DE, FI, NL, FR, so a seeded EU order's VAT agrees on both sides).
OSS_REDUCED_RATES = {
    "AT": (10, 10), "BE": (6, 6), "BG": (20, 9), "CY": (5, 5), "CZ": (12, 0), "DE": (7, 7), "DK": (25, 25),
    "EE": (22, 9), "ES": (10, 4), "FI": (14, 10), "FR": (5.5, 5.5), "GR": (13, 6), "HR": (5, 5),
    "HU": (18, 5), "IE": (0, 0), "IT": (10, 4), "LT": (21, 9), "LU": (3, 3), "LV": (21, 5), "MT": (0, 5),
    "NL": (9, 9), "PL": (5, 5), "PT": (6, 6), "RO": (9, 5), "SE": (12, 6), "SI": (9.5, 5), "SK": (19, 5),
}


def oss_rate(country, swedish_rate):
    """The destination country's VAT (fraction) for an article whose Swedish coding has `swedish_rate`."""
    percent = swedish_rate * 100
    reduced = OSS_REDUCED_RATES.get(country)
    if reduced is not None and percent == 12:
        return D(str(reduced[0])) / 100
    if reduced is not None and percent == 6:
        return D(str(reduced[1])) / 100
    return D(str(COUNTRY_BY_CODE[country][4])) / 100

# SEK per one unit of the currency (fixed: the emulator has no rate feed)
EXCHANGE_RATES = {"SEK": D("1"), "EUR": D("11.4500"), "USD": D("10.5200"), "GBP": D("13.3100"),
                  "NOK": D("0.9850"), "DKK": D("1.5350"), "CHF": D("12.0100"), "PLN": D("2.6800"),
                  "JPY": D("0.0710")}

# VIES-style VAT number formats of the EU member states (+ XI Northern Ireland)
VAT_FORMATS = {
    "AT": r"ATU\d{8}", "BE": r"BE[01]\d{9}", "BG": r"BG\d{9,10}", "CY": r"CY\d{8}[A-Z]",
    "CZ": r"CZ\d{8,10}", "DE": r"DE\d{9}", "DK": r"DK\d{8}", "EE": r"EE\d{9}",
    "GR": r"EL\d{9}", "ES": r"ES[A-Z0-9]\d{7}[A-Z0-9]", "FI": r"FI\d{8}",
    "FR": r"FR[A-HJ-NP-Z0-9]{2}\d{9}", "HR": r"HR\d{11}", "HU": r"HU\d{8}",
    "IE": r"IE(\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])", "IT": r"IT\d{11}", "LT": r"LT(\d{9}|\d{12})",
    "LU": r"LU\d{8}", "LV": r"LV\d{11}", "MT": r"MT\d{8}", "NL": r"NL\d{9}B\d{2}",
    "PL": r"PL\d{10}", "PT": r"PT\d{9}", "RO": r"RO\d{2,10}", "SE": r"SE\d{10}01",
    "SI": r"SI\d{8}", "SK": r"SK\d{10}", "XI": r"XI(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
}

# article account codings: (name, English, type, VAT %, VatRate code, BAS accounts)
# accounts: domestic, reverse construction, domestic exempt, OSS, third party,
# EU with VAT number (reverse charge), EU subject to Swedish VAT, outside EU
CODINGS = [
    ("Varor 25% moms", "Goods 25% VAT", "Goods", 25, "25%", (3001, 3231, 3004, 3106, 3107, 3108, 3106, 3105)),
    ("Varor 12% moms", "Goods 12% VAT", "Goods", 12, "12%", (3002, 3231, 3004, 3106, 3107, 3108, 3106, 3105)),
    ("Varor 6% moms", "Goods 6% VAT", "Goods", 6, "6%", (3003, 3231, 3004, 3106, 3107, 3108, 3106, 3105)),
    ("Varor momsfri", "Goods VAT exempt", "Goods", 0, "0%", (3004, 3231, 3004, 3106, 3107, 3108, 3106, 3105)),
    ("Tjänster 25% moms", "Services 25% VAT", "Service", 25, "25%", (3041, 3231, 3044, 3306, 3307, 3308, 3306, 3305)),
    ("Tjänster 12% moms", "Services 12% VAT", "Service", 12, "12%", (3042, 3231, 3044, 3306, 3307, 3308, 3306, 3305)),
    ("Tjänster 6% moms", "Services 6% VAT", "Service", 6, "6%", (3043, 3231, 3044, 3306, 3307, 3308, 3306, 3305)),
    ("Tjänster momsfri", "Services VAT exempt", "Service", 0, "0%", (3044, 3231, 3044, 3306, 3307, 3308, 3306, 3305)),
]

UNITS = [("Styck", "ST", "st", "pcs"), ("Timme", "TIM", "tim", "h"), ("Kilogram", "KG", "kg", "kg"),
         ("Meter", "M", "m", "m"), ("Liter", "L", "l", "l"), ("Paket", "PKT", "pkt", "pkg")]

# (name, English, days, type id, type text)
TERMS_OF_PAYMENT = [
    ("10 dagar netto", "10 days net", 10, 0, "Normal"),
    ("20 dagar netto", "20 days net", 20, 0, "Normal"),
    ("30 dagar netto", "30 days net", 30, 0, "Normal"),
    ("Kortbetalning", "Card payment", 0, 3, "CardPayment"),
    ("Förskottsbetalning", "Prepaid", 0, 5, "PaymentServiceProvider"),
    ("Kontant", "Cash", 0, 2, "Cash"),
    ("Innevarande månad + 30", "Current month + 30", 30, 1, "CurrentMonth"),
]

DELIVERY_METHODS = [("PostNord", "Postnord", "PN"), ("DHL Express", "DHL Express", "DHL"),
                    ("Bring", "Bring", "BRING"), ("DB Schenker", "DB Schenker", "DBS"),
                    ("Hämtas av kund", "Customer pickup", "PICKUP")]
DELIVERY_TERMS = [("Fritt vårt lager", "Ex works", "EXW"), ("Fritt kunden", "Delivered at place", "DAP"),
                  ("Fritt fraktförare", "Free carrier", "FCA")]

# (code, description, VAT %, OSS code type, account)
VAT_CODES = [
    ("05", "Momspliktig försäljning 25%", 25, 0, 2611), ("06", "Momspliktig försäljning 12%", 12, 0, 2621),
    ("07", "Momspliktig försäljning 6%", 6, 0, 2631), ("35", "Försäljning av varor till annat EU-land", 0, 0, None),
    ("39", "Försäljning av tjänster till annat EU-land", 0, 0, None), ("36", "Försäljning av varor utanför EU", 0, 0, None),
    ("42", "Övrig försäljning, momsfri", 0, 0, None), ("OSS1", "OSS försäljning", 0, 1, 3106),
    ("OSS2", "OSS utgående moms", 0, 2, 2614),
]

ACCOUNTS = [
    (1510, "Kundfordringar"), (1930, "Företagskonto"), (2611, "Utgående moms på försäljning inom Sverige, 25 %"),
    (2614, "Utgående moms OSS"), (2621, "Utgående moms på försäljning inom Sverige, 12 %"),
    (2631, "Utgående moms på försäljning inom Sverige, 6 %"), (3001, "Försäljning inom Sverige, 25 % moms"),
    (3002, "Försäljning inom Sverige, 12 % moms"), (3003, "Försäljning inom Sverige, 6 % moms"),
    (3004, "Försäljning inom Sverige, momsfri"), (3041, "Försäljning tjänster inom Sverige, 25 % moms"),
    (3042, "Försäljning tjänster inom Sverige, 12 % moms"), (3043, "Försäljning tjänster inom Sverige, 6 % moms"),
    (3044, "Försäljning tjänster inom Sverige, momsfri"), (3105, "Försäljning varor till land utanför EU"),
    (3106, "Försäljning varor till annat EU-land, momspliktig"), (3107, "Försäljning varor, trepartshandel"),
    (3108, "Försäljning varor till annat EU-land, momsfri"), (3231, "Försäljning inom byggsektorn, omvänd moms"),
    (3305, "Försäljning tjänster till land utanför EU"), (3306, "Försäljning tjänster till annat EU-land, momspliktig"),
    (3307, "Försäljning tjänster, trepartshandel"), (3308, "Försäljning tjänster till annat EU-land"),
    (3740, "Öres- och kronutjämning"),
]


# where a created object lives (Location header of 201 answers)
LOCATIONS = {"CustomerApi": "customers", "ArticleApi": "articles", "OrderApi": "orders",
             "CustomerInvoiceDraftApi": "customerinvoicedrafts", "CustomerInvoiceApi": "customerinvoices",
             "PartnerResourceLinkApi": "partnerresourcelinks"}


# ---------------------------------------------------------------------------
# the emulator

class EAccountingEmulator(Emulator):
    name = "eaccounting"
    case_insensitive_routes = True  # the real API matches paths case-insensitively

    def __init__(self, args):
        self.auth_lock = threading.Lock()
        self.codes = {}
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.rate_windows = {}
        self.rate_lock = threading.Lock()
        self.clients = {args.client_id: args.client_secret}
        super().__init__(args)

    # ---- ids -----------------------------------------------------------------
    def new_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now(self):
        return self.clock.utcnow().replace(tzinfo=None)

    def today(self):
        return self.now().date()

    # ---- routes --------------------------------------------------------------
    def setup_routes(self):
        self.add_route("GET", "/connect/authorize", self.authorize, "GET /connect/authorize")
        self.add_route("POST", "/connect/token", self.token, "POST /connect/token")
        self.add_route("POST", "/connect/revocation", self.revocation, "POST /connect/revocation")
        api = self.api
        api("GET", "/customers", self.list_customers)
        api("POST", "/customers", self.create_customer)
        api("GET", "/customers/{customerId}", self.get_customer)
        api("PUT", "/customers/{customerId}", self.update_customer)
        api("DELETE", "/customers/{customerId}", self.delete_customer)
        api("GET", "/articles", self.list_articles)
        api("POST", "/articles", self.create_article)
        api("GET", "/articles/{articleId}", self.get_article)
        api("PUT", "/articles/{articleId}", self.update_article)
        api("GET", "/articleaccountcodings", self.simple_list("codings", "ArticleAccountCodingApi"))
        api("GET", "/articleaccountcodings/{articleAccountCodingId}", self.simple_get("codings", "ArticleAccountCodingApi", "Article account coding"))
        api("GET", "/units", self.simple_list("units", "UnitApi"))
        api("GET", "/units/{id}", self.simple_get("units", "UnitApi", "Unit"))
        api("GET", "/vatcodes", self.simple_list("vatcodes", "VatCodeApi"))
        api("GET", "/vatcodes/{id}", self.simple_get("vatcodes", "VatCodeApi", "Vat code"))
        api("GET", "/termsofpayments", self.simple_list("terms", "TermsOfPaymentApi"))
        api("GET", "/termsofpayments/{id}", self.simple_get("terms", "TermsOfPaymentApi", "Terms of payment"))
        api("GET", "/countries", self.simple_list("countries", "CountryApi"))
        api("GET", "/countries/{countrycode}", self.get_country)
        api("GET", "/currencies", self.simple_list("currencies", "CurrencyApi"))
        api("GET", "/currencies/exchangerate", self.exchange_rate)
        api("GET", "/deliverymethods", self.simple_list("deliverymethods", "DeliveryMethodApi"))
        api("POST", "/deliverymethods", self.create_named("deliverymethods", "DeliveryMethodApi"))
        api("GET", "/deliverymethods/{deliveryMethodId}", self.simple_get("deliverymethods", "DeliveryMethodApi", "Delivery method"))
        api("GET", "/deliveryterms", self.simple_list("deliveryterms", "DeliveryTermApi"))
        api("POST", "/deliveryterms", self.create_named("deliveryterms", "DeliveryTermApi"))
        api("GET", "/deliveryterms/{deliveryTermId}", self.simple_get("deliveryterms", "DeliveryTermApi", "Delivery term"))
        api("GET", "/orders", self.list_orders)
        api("POST", "/orders", self.create_order)
        api("GET", "/orders/{id}", self.get_order)
        api("PUT", "/orders/{id}", self.update_order)
        api("DELETE", "/orders/{id}", self.delete_order)
        api("POST", "/orders/{id}/convert", self.convert_order)
        api("POST", "/orders/{id}/completed", self.order_transition(3))
        api("POST", "/orders/{id}/voided", self.order_transition(2))
        api("POST", "/orders/{id}/converteddrafttoorder", self.order_transition(2, from_status=1))
        api("GET", "/customerinvoicedrafts", self.list_drafts)
        api("POST", "/customerinvoicedrafts", self.create_draft)
        api("GET", "/customerinvoicedrafts/{invoiceDraftId}", self.get_draft)
        api("PUT", "/customerinvoicedrafts/{customerInvoiceDraftId}", self.update_draft)
        api("DELETE", "/customerinvoicedrafts/{customerInvoiceDraftId}", self.delete_draft)
        api("POST", "/customerinvoicedrafts/{customerInvoiceDraftId}/convert", self.convert_draft)
        api("GET", "/customerinvoices", self.list_invoices)
        api("POST", "/customerinvoices", self.create_invoice)
        api("GET", "/customerinvoices/{invoiceId}", self.get_invoice)
        api("GET", "/customerinvoices/{invoiceId}/pdf", self.invoice_pdf)
        api("POST", "/customerinvoices/{invoiceId}/payments", self.invoice_payment)
        api("GET", "/fiscalyears", self.simple_list("fiscalyears", "FiscalYearApi"))
        api("GET", "/fiscalyears/{id}", self.simple_get("fiscalyears", "FiscalYearApi", "Fiscal year"))
        api("GET", "/accounts", self.list_accounts)
        api("GET", "/accounts/{fiscalyearId}", self.list_accounts)
        api("GET", "/accounts/{fiscalyearId}/{accountNumber}", self.get_account)
        api("GET", "/companysettings", self.get_companysettings)
        api("GET", "/bankaccounts", self.simple_list("bankaccounts", "BankAccountApi"))
        api("GET", "/users", self.simple_list("users", "UserApi"))
        api("GET", "/partnerresourcelinks", self.simple_list("links", "PartnerResourceLinkApi"))
        api("POST", "/partnerresourcelinks", self.create_link)
        api("GET", "/partnerresourcelinks/{partnerResourceLinkId}", self.simple_get("links", "PartnerResourceLinkApi", "Partner resource link"))
        api("PUT", "/partnerresourcelinks/{partnerResourceLinkId}", self.update_link)
        api("DELETE", "/partnerresourcelinks/{partnerResourceLinkId}", self.delete_link)

    def api(self, method, spec_path, handler):
        """Register /v2<spec_path>; the wrapper runs auth, rate limit, company
        state, scopes and modules, then answers the spec's success status."""
        op = OPERATIONS["%s %s" % (method, spec_path)]
        route_name = "%s /v2%s" % (method, spec_path)

        def wrapped(req):
            token = self.authenticate(req)
            self.rate_limit(token["client_id"], spec_path.lower())
            self.check_company(spec_path)
            self.check_scopes(token, op["scopes"])
            self.check_module(spec_path)
            req.token = token
            with self.lock:
                result = handler(req)
            if isinstance(result, Response):
                return result
            if method == "DELETE" or result is None:
                return Response(op["success"], raw=b"", content_type="application/json; charset=utf-8")
            headers = {}
            collection = LOCATIONS.get(op["response"])
            if op["success"] == 201 and collection and isinstance(result, dict) and result.get("Id"):
                headers["Location"] = "%s/v2/%s/%s" % (self.base_url or "", collection, result["Id"])
            return Response(op["success"], to_json(result), headers)

        self.add_route(method, "/v2" + spec_path, wrapped, route_name)

    # error shapes for the base class
    def not_found_body(self, req):
        return {"ErrorCode": 3000, "DeveloperErrorMessage": "No HTTP resource was found that matches the request URI '%s'." % req.path,
                "ErrorId": new_error_id(), "Errors": None}

    def method_not_allowed_body(self, req):
        return {"ErrorCode": 2000, "DeveloperErrorMessage": "The requested resource does not support http method '%s'." % req.method,
                "ErrorId": new_error_id(), "Errors": None}

    def fault_body(self, fault):
        if fault.body is not None:
            return fault.body
        if fault.status == 429:
            return self.rate_limit_body(self.args.rate_limit, int(self.args.rate_window))
        code = 5000 if fault.status >= 500 else 2000
        names = {500: "InternalServerError", 502: "CantReachSystemDependendency", 503: "CantReachSystemDependendency"}
        return {"ErrorCode": 5001 if fault.status in (502, 503, 504) else code,
                "DeveloperErrorMessage": "Emulated fault: %s (HTTP %d)" % (names.get(fault.status, "Error"), fault.status),
                "ErrorId": new_error_id(), "Errors": None}

    # ---- identity server -----------------------------------------------------
    def redirect_allowed(self, uri):
        """Registered redirect URIs (--redirect-uri) or, by default, loopback ones."""
        if self.args.redirect_uri:
            return uri in self.args.redirect_uri
        parts = urllib.parse.urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1") and not parts.fragment

    def idp_error_page(self, error, description):
        # IdentityServer shows an error page (no redirect) when the client or redirect URI is bad
        html = "<!DOCTYPE html><html><body><h1>Error</h1><p>%s</p><p>%s</p></body></html>" % (error, description)
        return Response(400, raw=html.encode("utf-8"), content_type="text/html; charset=utf-8")

    def authorize(self, req):
        q = req.query
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id not in self.clients:
            return self.idp_error_page("unauthorized_client", "Unknown client or client not enabled")
        if not redirect_uri or not self.redirect_allowed(redirect_uri):
            return self.idp_error_page("invalid_request", "Invalid redirect_uri")
        state = q.get("state")

        def back(params):
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            return Response(302, raw=b"", headers={"Location": redirect_uri + sep + urllib.parse.urlencode(params),
                                                   "Cache-Control": "no-store"})

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = q.get("scope", "").split()
        if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
            return back({"error": "invalid_scope"})
        if self.company.get("deny_consent"):
            return back({"error": "access_denied"})
        challenge = q.get("code_challenge")
        method = q.get("code_challenge_method", "plain" if challenge else None)
        if challenge and method not in ("plain", "S256"):
            return back({"error": "invalid_request", "error_description": "code_challenge_method"})
        code = secrets.token_hex(32).upper()
        with self.auth_lock:
            self.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri, "scopes": scopes,
                                "expires": self.clock.now() + AUTH_CODE_LIFETIME, "used": False,
                                "challenge": challenge, "method": method}
        return back({"code": code, "scope": " ".join(scopes), "session_state": secrets.token_hex(16)})

    def oauth_error(self, status, error, description=None):
        body = {"error": error}
        if description:
            body["error_description"] = description
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="identity"'
        return Response(status, body, headers)

    def client_from_basic(self, req):
        auth = req.header("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        cid, _, secret = raw.partition(":")
        cid, secret = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
        if self.clients.get(cid) != secret or not secret:
            return None
        return cid

    def form(self, req):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None
        return dict(urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))

    def token(self, req):
        form = self.form(req)
        if form is None:
            return self.oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        client_id = self.client_from_basic(req)
        if client_id is None:
            return self.oauth_error(401, "invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self.grant_code(client_id, form)
        if grant == "refresh_token":
            return self.grant_refresh(client_id, form)
        if not grant:
            return self.oauth_error(400, "invalid_request", "grant_type is missing")
        return self.oauth_error(400, "unsupported_grant_type")

    def grant_code(self, client_id, form):
        with self.auth_lock:
            entry = self.codes.get(form.get("code", ""))
            if entry is None or entry["used"] or entry["client_id"] != client_id:
                return self.oauth_error(400, "invalid_grant")
            entry["used"] = True  # single use, even when the rest is wrong
            if self.clock.now() > entry["expires"]:
                return self.oauth_error(400, "invalid_grant", "authorization code expired")
            if form.get("redirect_uri") != entry["redirect_uri"]:
                return self.oauth_error(400, "invalid_grant", "redirect_uri does not match")
            if entry["challenge"] and not self.pkce_ok(entry, form.get("code_verifier")):
                return self.oauth_error(400, "invalid_grant", "code_verifier does not match")
            return Response(200, self.issue_tokens(client_id, entry["scopes"]),
                            {"Cache-Control": "no-store", "Pragma": "no-cache"})

    @staticmethod
    def pkce_ok(entry, verifier):
        if not verifier:
            return False
        if entry["method"] == "S256":
            return b64url(hashlib.sha256(verifier.encode("ascii")).digest()) == entry["challenge"]
        return verifier == entry["challenge"]

    def grant_refresh(self, client_id, form):
        with self.auth_lock:
            handle = form.get("refresh_token", "")
            entry = self.refresh_tokens.get(handle)
            if entry is None or not entry["active"] or entry["client_id"] != client_id:
                return self.oauth_error(400, "invalid_grant")
            scopes = entry["scopes"]
            if form.get("scope"):
                wanted = form["scope"].split()
                if any(s not in scopes for s in wanted):
                    return self.oauth_error(400, "invalid_scope")
                scopes = wanted
            reuse = None
            if self.args.refresh_mode == "rotating":
                entry["active"] = False  # single use: a second use answers invalid_grant
            else:
                reuse = handle
            return Response(200, self.issue_tokens(client_id, scopes, reuse_refresh=reuse, refresh_scopes=entry["scopes"]),
                            {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def issue_tokens(self, client_id, scopes, reuse_refresh=None, refresh_scopes=None, lifetime=ACCESS_TOKEN_LIFETIME):
        """A JWT-shaped access token (signature is random: treat it as opaque) and, with
        offline_access, a refresh token.  Caller holds auth_lock."""
        now = int(self.clock.now())
        claims = {"iss": ISSUER, "nbf": now, "iat": now, "exp": now + lifetime, "aud": "https://api.vismaonline.com",
                  "scope": scopes, "client_id": client_id, "sub": self.user_id, "auth_time": now, "idp": "Visma Connect",
                  "customer_id": self.company_id, "jti": secrets.token_hex(16).upper()}
        header = {"alg": "RS256", "kid": "ferry-emulator", "typ": "at+jwt"}
        access = ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                           b64url(secrets.token_bytes(64))])
        self.access_tokens[access] = {"client_id": client_id, "scopes": set(scopes),
                                      "expires": self.clock.now() + lifetime, "revoked": False}
        body = {"access_token": access, "expires_in": lifetime, "token_type": "Bearer", "scope": " ".join(scopes)}
        if "offline_access" in scopes or reuse_refresh:
            handle = reuse_refresh or secrets.token_hex(32).upper()
            if not reuse_refresh:
                self.refresh_tokens[handle] = {"client_id": client_id, "scopes": list(refresh_scopes or scopes), "active": True}
            body["refresh_token"] = handle
        return body

    def revocation(self, req):
        form = self.form(req)
        if form is None:
            return self.oauth_error(400, "invalid_request")
        client_id = self.client_from_basic(req)
        if client_id is None:
            return self.oauth_error(401, "invalid_client")
        token = form.get("token")
        if not token:
            return self.oauth_error(400, "invalid_request", "token is missing")
        hint = form.get("token_type_hint")
        if hint and hint not in ("refresh_token", "access_token"):
            return self.oauth_error(400, "unsupported_token_type")
        with self.auth_lock:
            entry = self.refresh_tokens.get(token)
            if entry and entry["client_id"] == client_id:
                entry["active"] = False
            at = self.access_tokens.get(token)
            if at and at["client_id"] == client_id:
                at["revoked"] = True
        return Response(200, raw=b"")

    def revoke_all(self, client_id=None):
        """'The user changed the password': every token (of one client) stops working."""
        with self.auth_lock:
            n = 0
            for store, flag, value in ((self.refresh_tokens, "active", False), (self.access_tokens, "revoked", True)):
                for entry in store.values():
                    if client_id is None or entry["client_id"] == client_id:
                        entry[flag] = value
                        n += 1
            return n

    # ---- the API pipeline ----------------------------------------------------
    def authenticate(self, req):
        auth = req.header("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        with self.auth_lock:
            entry = self.access_tokens.get(token) if token else None
            problem = None
            if entry is None:
                problem = "invalid_token"
            elif entry["revoked"]:
                problem = "invalid_token\", error_description=\"The access token has been revoked"
            elif self.clock.now() >= entry["expires"]:
                problem = "invalid_token\", error_description=\"The access token expired"
        if problem:
            headers = {"WWW-Authenticate": 'Bearer error="%s"' % problem if token else "Bearer"}
            if self.args.empty_401:
                raise HttpError(401, None, headers)
            raise api_error(401, 4005, "Unauthorized. Access denied.", headers=headers)
        return entry

    @staticmethod
    def rate_limit_body(limit, window):
        period = {60: "Minute", 3600: "Hour", 1: "Second"}.get(window, "%ds" % window)
        return {"ErrorCode": 4010, "DeveloperErrorMessage": "API calls quota exceeded! maximum admitted %d per %s." % (limit, period),
                "ErrorId": new_error_id(), "Errors": None}

    def rate_limit(self, client_id, endpoint):
        """Fixed window per (client, endpoint) starting at the first call, on the emulator clock."""
        window = float(self.args.rate_window)
        limit = self.args.rate_limit
        now = self.clock.now()
        with self.rate_lock:
            key = (client_id, endpoint)
            start, count = self.rate_windows.get(key, (now, 0))
            if now >= start + window:
                start, count = now, 0
            count += 1
            self.rate_windows[key] = (start, count)
        if count > limit:
            retry = max(1, int(math.ceil(start + window - now)))
            body = self.rate_limit_body(limit, int(window))
            body["DeveloperErrorMessage"] += " Try again in %d seconds." % retry
            headers = {"Retry-After": str(retry)} if self.args.retry_after else {}
            raise HttpError(429, body, headers)

    def check_company(self, spec_path):
        if not self.company["active"]:
            raise api_error(403, 4004, "The company is not active.")
        if not self.company["startup_guide_completed"]:
            raise api_error(403, 4003, "The startup guide is not completed for this company.")

    @staticmethod
    def check_scopes(token, required):
        if "ea:api" not in token["scopes"] or (required and not token["scopes"].intersection(required)):
            raise api_error(403, 4006, "The access token does not have any of the required scopes: %s." % ", ".join(
                ["ea:api"] + list(required)))

    def check_module(self, spec_path):
        if spec_path.startswith("/orders") and not self.company["order_module"]:
            raise api_error(403, 4002, "No access to module: Order. The company's subscription does not include orders.")

    # ---- seed ----------------------------------------------------------------
    def seed(self):
        self.rng = random.Random(self.args.seed)
        self.company_id = self.new_id()
        self.user_id = self.new_id()
        self.company = {
            "active": not self.args.company_inactive,
            "startup_guide_completed": not self.args.startup_guide_incomplete,
            "order_module": not self.args.no_order_module,
            "deny_consent": False,
        }
        self.vies_invalid = set()
        self.db = {k: {} for k in ("customers", "articles", "codings", "units", "vatcodes", "terms", "countries",
                                   "currencies", "deliverymethods", "deliveryterms", "orders", "drafts", "invoices",
                                   "fiscalyears", "accounts", "bankaccounts", "users", "links")}
        self.seed_reference_data()
        self.seed_company_settings()
        if not self.args.no_fiscal_year:
            self.seed_fiscal_years()
        if getattr(self.args, "with_shop_data", False):
            self.seed_shop_data()
        if self.args.orders:
            self.seed_documents(self.args.orders)
        with self.rate_lock:
            self.rate_windows = {}

    def seed_reference_data(self):
        db = self.db
        created = iso_utc(self.now().replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0))
        for name, name_en, ctype, rate, code, acc in CODINGS:
            i = self.new_id()
            db["codings"][i] = {
                "Id": i, "Name": name, "NameEnglish": name_en, "Type": ctype, "VatRate": code,
                "VatRatePercent": D(rate) / 100, "IsActive": True, "ChangedUtc": created,
                "DomesticSalesSubjectToVatAccountNumber": acc[0] if rate else None,
                "DomesticSalesSubjectToReversedConstructionVatAccountNumber": acc[1],
                "DomesticSalesVatExemptAccountNumber": acc[2],
                "ForeignSalesSubjectToMossAccountNumber": acc[3],
                "ForeignSalesSubjectToThirdPartySalesAccountNumber": acc[4],
                "ForeignSalesVatExemptWithinEuAccountNumber": acc[5],
                "ForeignSalesSubjectToVatWithinEuAccountNumber": acc[6],
                "ForeignSalesVatExemptOutsideEuAccountNumber": acc[7],
                "DomesticSalesVatCodeExemptAccountNumber": acc[2],
            }
        for name, code, abbr, abbr_en in UNITS:
            i = self.new_id()
            db["units"][i] = {"Id": i, "Name": name, "Code": code, "Abbreviation": abbr, "AbbreviationEnglish": abbr_en}
        for code, desc, rate, oss, account in VAT_CODES:
            i = self.new_id()
            db["vatcodes"][i] = {"Id": i, "Code": code, "Description": desc, "VatRate": D(rate), "OssCodeType": oss,
                                 "RelatedAccounts": {"AccountNumber1": account, "AccountNumber2": None, "AccountNumber3": None}}
        for name, name_en, days, type_id, type_text in TERMS_OF_PAYMENT:
            i = self.new_id()
            db["terms"][i] = {"Id": i, "Name": name, "NameEnglish": name_en, "NumberOfDays": days,
                              "TermsOfPaymentTypeId": type_id, "TermsOfPaymentTypeText": type_text,
                              "AvailableForSales": True, "AvailableForPurchase": type_id in (0, 1)}
        for code, name, name_en, eu, _rate in COUNTRIES:
            db["countries"][code] = {"Code": code, "Name": name, "NameEnglish": name_en, "IsEuMember": eu}
        for code in EXCHANGE_RATES:
            db["currencies"][code] = {"Code": code}
        for name, name_en, code in DELIVERY_METHODS:
            i = self.new_id()
            db["deliverymethods"][i] = {"Id": i, "Name": name, "NameEnglish": name_en, "Code": code}
        for name, name_en, code in DELIVERY_TERMS:
            i = self.new_id()
            db["deliveryterms"][i] = {"Id": i, "Name": name, "NameEnglish": name_en, "Code": code, "Editable": True}
        i = self.new_id()
        db["bankaccounts"][i] = {"Id": i, "Name": "Företagskonto", "BankAccountNumber": "5000-1234567", "Bban": "50001234567",
                                 "Iban": "SE4550000000050001234567", "Bic": "ESSESESS", "CurrencyCode": "SEK",
                                 "LedgerAccountNumber": 1930, "IsActive": True, "Type": 1, "IsDefaultChequeAccount": True}
        db["users"][self.user_id] = {"Id": self.user_id, "Email": "owner@ferry-demo.example", "FirstName": "Fia",
                                     "LastName": "Ferry", "IsActive": True, "IsCurrentUser": True}

    def seed_company_settings(self):
        terms_30 = next(t["Id"] for t in self.db["terms"].values() if t["NumberOfDays"] == 30 and t["TermsOfPaymentTypeId"] == 0)
        self.settings = {
            "Name": "Ferry Demo AB", "Email": "info@ferry-demo.example", "Phone": None, "MobilePhone": None,
            "Address1": "Storgatan 1", "Address2": None, "CountryCode": COMPANY_COUNTRY, "PostalCode": "111 22",
            "City": "Stockholm", "Website": "https://ferry-demo.example", "OurReference": "Fia Ferry",
            "CurrencyCode": COMPANY_CURRENCY, "TermsOfPaymentId": terms_30,
            "CorporateIdentityNumber": "556677-8899", "VatCode": "SE556677889901", "BankGiro": "123-4567",
            "PlusGiro": None, "BankAccount": "5000-1234567", "Iban": "SE4550000000050001234567",
            "AccountNumberDigits": 4, "AccountingLockInterval": 0, "ProductVariant": 1, "TypeOfBusiness": 1,
            "VatPeriod": 3, "ActivatedModules": [], "NextCustomerNumber": 1001, "NextSupplierNumber": 1,
            "NextCustomerInvoiceNumber": 1, "NextQuoteNumber": 1, "NextOrderNumber": 1, "NextArticleNumber": None,
            "ShowPricesExclVatPC": False, "ShowContributionMargin": False, "HasProportionalVatEnabled": False,
            "UsesCostCenter": False, "UsesProject": False, "UsesMoss": True, "UsesPaymentReferenceNumber": True,
            "DomesticCurrencyRounding": 1, "UsesReverseConstructionVat": False, "UsesRotReducedInvoicing": False,
            "CompanyStatus": 1, "CompanyIdentifier": self.company_id, "KeepOriginalDraftDate": False,
            "UsesVatTriangulationRules": False, "UsesGreenTechnology": False, "AccountingLockedTo": "2000-01-01T00:00:00",
        }

    def seed_fiscal_years(self):
        year = self.today().year
        for y in (year - 1, year):
            i = self.new_id()
            self.db["fiscalyears"][i] = {"Id": i, "StartDate": datetime.date(y, 1, 1), "EndDate": datetime.date(y, 12, 31),
                                         "IsLockedForAccounting": False, "BookkeepingMethod": 0}
            stamp = iso_utc(datetime.datetime(y, 1, 1))
            for number, name in ACCOUNTS:
                vat = next((v["Id"] for v in self.db["vatcodes"].values()
                            if v["RelatedAccounts"]["AccountNumber1"] == number), None)
                self.db["accounts"]["%s/%d" % (i, number)] = {
                    "Name": name, "Number": str(number), "FiscalYearId": i, "VatCodeId": vat,
                    "VatCodeDescription": self.db["vatcodes"][vat]["Description"] if vat else None,
                    "IsActive": True, "ModifiedUtc": stamp, "CreatedUtc": stamp, "Type": 0,
                    "TypeDescription": None, "IsProjectAllowed": True, "IsCostCenterAllowed": True}

    def seed_documents(self, n):
        """`--orders N`: N booked invoices (and the demo customers/articles they need)."""
        if len(self.db["customers"]) < 3:
            self.seed_demo_masters()
        customers = list(self.db["customers"].values())
        articles = list(self.db["articles"].values())
        day = self.today()
        for k in range(n):
            c = customers[k % len(customers)]
            rows = [{"ArticleId": articles[(k + j) % len(articles)]["Id"], "Quantity": D(1 + (k + j) % 3),
                     "UnitPrice": articles[(k + j) % len(articles)]["GrossPrice" if c["IsPrivatePerson"] else "NetPrice"]}
                    for j in range(1 + k % 3)]
            doc = {"CustomerId": c["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0, "Rows": rows,
                   "InvoiceDate": day, "YourReference": "Seed document %d" % (k + 1)}
            self.book_invoice(doc)

    def seed_demo_masters(self):
        goods25 = self.coding_by(25, "Goods")
        unit = next(iter(self.db["units"]))
        for k, (name, price) in enumerate([("Demo Kaffe 500 g", D("79.20")), ("Demo Mugg", D("119.20")),
                                           ("Demo Bryggare", D("799.20"))]):
            self.store_article({"Number": "DEMO-%d" % (k + 1), "Name": name, "UnitId": unit, "CodingId": goods25["Id"],
                                "IsActive": True, "NetPrice": price})
        for k, (name, private, country) in enumerate([("Anna Andersson", True, "SE"), ("Bolaget AB", False, "SE"),
                                                      ("Firma GmbH", False, "DE")]):
            self.store_customer({"Name": name, "IsPrivatePerson": private, "IsActive": True, "InvoiceCity": "Stad",
                                 "InvoicePostalCode": "12345", "InvoiceCountryCode": country,
                                 "EmailAddress": "demo%d@example.com" % (k + 1),
                                 "TermsOfPaymentId": self.settings["TermsOfPaymentId"]})

    def coding_by(self, rate, ctype):
        return next(c for c in self.db["codings"].values()
                    if c["VatRatePercent"] == D(rate) / 100 and c["Type"] == ctype)

    # ---- lists ---------------------------------------------------------------
    LIST_OPTIONS = ("$filter", "$orderby", "$page", "$pagesize", "$select")

    def paged(self, req, records, schema_name, out=None, computed=()):
        """The {Meta, Data} envelope over stored records, after $filter/$orderby/$select.

        out(rec) is a record's answer (default: shape() of the schema); `computed` names the
        members out() sets itself instead of taking them from the record.  Records are shaped
        lazily (Listed): the filter and $orderby read only the members they name, and only the
        page is shaped whole, so a lookup costs O(records) member reads, not O(records) shapes.
        The answer is the one shaping every record first would give."""
        for key, _ in req.query_list:
            if key.startswith("$") and key.lower() not in self.LIST_OPTIONS:
                raise api_error(400, 6000, "The query parameter '%s' is not supported." % key)
        opts = {k.lower(): v for k, v in req.query_list if k.startswith("$")}
        if out is None:
            out = lambda rec: shape(schema_name, rec)  # noqa: E731
        props = SCHEMAS[schema_name].get("properties", {})
        computed = frozenset(computed)
        items = [Listed(r, out, computed, props) for r in records]  # filter on what the client sees
        try:
            if "$filter" in opts:
                flt = odata.compile_filter(opts["$filter"], SCHEMAS, schema_name)
                items = [x for x in items if flt.matches(x)]
            if "$orderby" in opts:
                items = odata.sort_records(items, odata.parse_orderby(opts["$orderby"], SCHEMAS, schema_name))
            select = odata.parse_select(opts["$select"], SCHEMAS, schema_name) if "$select" in opts else None
        except odata.ODataError as e:
            raise api_error(400, e.code, e.message)
        page = self.int_option(opts, "$page", 1)
        size = min(self.int_option(opts, "$pagesize", 50), self.args.page_size_cap)
        total = len(items)
        data = items[(page - 1) * size: page * size]
        if select:
            data = [{k: x.get(k) for k in select} for x in data]
        else:
            data = [x.shaped() for x in data]
        return {"Meta": {"CurrentPage": page, "PageSize": size, "TotalNumberOfPages": int(math.ceil(total / size)),
                         "TotalNumberOfResults": total, "ServerTimeUtc": self.clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")},
                "Data": data}

    @staticmethod
    def int_option(opts, name, default):
        if name not in opts:
            return default
        try:
            value = int(opts[name])
        except ValueError:
            raise api_error(400, 6000, "The query parameter %s must be a positive integer." % name)
        if value < 1:
            raise api_error(400, 6000, "The query parameter %s must be a positive integer." % name)
        return value

    def simple_list(self, store, schema_name):
        def handler(req):
            return self.paged(req, list(self.db[store].values()), schema_name)
        return handler

    def simple_get(self, store, schema_name, label):
        def handler(req):
            ident = next(iter(req.params.values()))
            rec = self.db[store].get(ident.lower())
            if rec is None:
                raise not_found(label, ident)
            return shape(schema_name, rec)
        return handler

    def get_country(self, req):
        code = req.params["countrycode"].upper()
        if code not in self.db["countries"]:
            raise not_found("Country", code)
        return shape("CountryApi", self.db["countries"][code])

    def exchange_rate(self, req):
        q = {k.lower(): v for k, v in req.query.items()}
        src, dst = q.get("sourcecurrencycode", "").upper(), q.get("targetcurrencycode", COMPANY_CURRENCY).upper()
        when = parse_date(q["date"]) if q.get("date") else self.today()
        if when is None:
            raise api_error(400, 6001, "Invalid DateTime format: '%s'" % q.get("date"))
        if src not in EXCHANGE_RATES or dst not in EXCHANGE_RATES:
            raise api_error(400, 2000, "Unknown currency code.", [field_error("sourceCurrencyCode", "Invalid", "Unknown currency")])
        rate = (EXCHANGE_RATES[src] / EXCHANGE_RATES[dst]).quantize(D("0.000001"))
        return shape("ExchangeRateApi", {"Date": when, "SourceCurrency": src, "TargetCurrency": dst, "Rate": rate})

    def create_named(self, store, schema_name):
        """POST /deliverymethods and /deliveryterms (answered 200, as the spec says)."""
        def handler(req):
            body = checked_body(req, schema_name)
            i = self.new_id()
            rec = dict(body, Id=i)
            if schema_name == "DeliveryTermApi":
                rec["Editable"] = True
            self.db[store][i] = rec
            return shape(schema_name, rec)
        return handler

    def list_accounts(self, req):
        fy = req.params.get("fiscalyearId")
        if fy is not None and fy.lower() not in self.db["fiscalyears"]:
            raise not_found("Fiscal year", fy)
        if fy is None:  # /accounts: the fiscal year of today
            fy = next((i for i, y in self.db["fiscalyears"].items() if y["StartDate"] <= self.today() <= y["EndDate"]), None)
        items = [a for a in self.db["accounts"].values() if fy and a["FiscalYearId"] == fy.lower()]
        return self.paged(req, items, "AccountApi")

    def get_account(self, req):
        key = "%s/%s" % (req.params["fiscalyearId"].lower(), req.params["accountNumber"])
        if key not in self.db["accounts"]:
            raise not_found("Account", req.params["accountNumber"])
        return shape("AccountApi", self.db["accounts"][key])

    def get_companysettings(self, req):
        return shape("CompanySettingsApi", self.settings)

    def fiscal_year_of(self, day):
        return next((y for y in self.db["fiscalyears"].values() if y["StartDate"] <= day <= y["EndDate"]), None)

    def require_fiscal_year(self, day, field):
        if self.fiscal_year_of(day) is None:
            raise api_error(400, 3001, "Fiscal year does not exist for date %s." % day.isoformat(),
                            [field_error(field, "FiscalYearDoesNotExist", "No fiscal year covers %s" % day.isoformat())])

    # ---- customers -----------------------------------------------------------
    # the members out_customer sets itself (Listed: the others are the stored ones)
    CUSTOMER_COMPUTED = ("TermsOfPayment", "UnpaidInvoicesAmount")

    def out_customer(self, rec):
        rec = dict(rec)
        rec["TermsOfPayment"] = self.db["terms"].get(rec.get("TermsOfPaymentId"))
        rec["UnpaidInvoicesAmount"] = sum((i["RemainingAmount"] for i in self.db["invoices"].values()
                                           if i["CustomerId"] == rec["Id"]), D(0))
        return shape("CustomerApi", rec)

    def list_customers(self, req):
        return self.paged(req, list(self.db["customers"].values()), "CustomerApi", self.out_customer,
                          self.CUSTOMER_COMPUTED)

    def find(self, store, ident, label):
        rec = self.db[store].get(ident.lower()) if is_guid(ident) else None
        if rec is None:
            raise not_found(label, ident)
        return rec

    def get_customer(self, req):
        return self.out_customer(self.find("customers", req.params["customerId"], "Customer"))

    def create_customer(self, req):
        return self.out_customer(self.store_customer(checked_body(req, "CustomerApi")))

    def update_customer(self, req):
        old = self.find("customers", req.params["customerId"], "Customer")
        return self.out_customer(self.store_customer(checked_body(req, "CustomerApi"), old))

    def delete_customer(self, req):
        rec = self.find("customers", req.params["customerId"], "Customer")
        for store in ("orders", "drafts", "invoices"):
            if any(d["CustomerId"] == rec["Id"] for d in self.db[store].values()):
                raise api_error(400, 4001, "The customer cannot be deleted because it has transactions. Set IsActive to false instead.")
        del self.db["customers"][rec["Id"]]
        return None

    def store_customer(self, body, old=None):
        """Business rules of POST/PUT /customers; PUT replaces every writable field."""
        rec = dict(body)
        self.check_ref("terms", rec.get("TermsOfPaymentId"), "TermsOfPaymentId", "Terms of payment")
        self.check_ref("deliverymethods", rec.get("DeliveryMethodId"), "DeliveryMethodId", "Delivery method")
        self.check_ref("deliveryterms", rec.get("DeliveryTermId"), "DeliveryTermId", "Delivery term")
        errors = []
        for field in ("InvoiceCountryCode", "DeliveryCountryCode"):
            if rec.get(field):
                rec[field] = rec[field].upper()
                if rec[field] not in self.db["countries"]:
                    errors.append(field_error(field, "Invalid", "Unknown country code '%s'" % rec[field]))
        rec["CurrencyCode"] = (rec.get("CurrencyCode") or COMPANY_CURRENCY).upper()
        if rec["CurrencyCode"] not in self.db["currencies"]:
            errors.append(field_error("CurrencyCode", "Invalid", "Unknown currency code"))
        if rec.get("EmailAddresses"):
            if len(rec["EmailAddresses"]) > 5:
                errors.append(field_error("EmailAddresses", "MaxItems", "A maximum of 5 email addresses can be provided."))
            if not rec.get("EmailAddress"):
                errors.append(field_error("EmailAddresses", "Required", "EmailAddress must be set when EmailAddresses is."))
        if rec.get("ReverseChargeOnConstructionServices") and not rec.get("VatNumber"):
            errors.append(field_error("VatNumber", "Required", "VatNumber must be set when ReverseChargeOnConstructionServices is true."))
        if rec.get("DeliveryBasedVat"):
            for f in ("DeliveryCity", "DeliveryCountryCode", "DeliveryPostalCode"):
                if not rec.get(f):
                    errors.append(field_error(f, "Required", "%s is required when DeliveryBasedVat is true." % f))
        if errors:
            raise validation_failed(errors)
        self.check_vat_number(rec)
        if rec.get("ForceBookkeepVat") and self.is_eu(rec.get("InvoiceCountryCode") or COMPANY_COUNTRY):
            raise api_error(400, 4035, "ForceBookkeepVat cannot be true for a customer in a country inside the EU.",
                            [field_error("ForceBookkeepVat", "InvalidForceBookkeepVat", "Only allowed for customers outside the EU")])
        self.assign_customer_number(rec, old)
        rec["Id"] = old["Id"] if old else self.new_id()
        rec["ChangedUtc"] = iso_utc(self.now())
        rec["IsFutureInvoiceDateAllowed"] = False
        rec.setdefault("DiscountPercentage", D(0))
        if old:
            for keep in ("LastInvoiceDate",):
                rec[keep] = old.get(keep)
        self.db["customers"][rec["Id"]] = rec
        return rec

    def assign_customer_number(self, rec, old):
        number = rec.get("CustomerNumber")
        if not number:
            if old:
                rec["CustomerNumber"] = old["CustomerNumber"]
                return
            taken = {c["CustomerNumber"] for c in self.db["customers"].values()}
            n = self.settings["NextCustomerNumber"]
            while str(n) in taken:
                n += 1
            rec["CustomerNumber"] = str(n)
            self.settings["NextCustomerNumber"] = n + 1
            return
        for c in self.db["customers"].values():
            if c["CustomerNumber"].lower() == number.lower() and (old is None or c["Id"] != old["Id"]):
                raise api_error(400, 4000, "A customer with customer number '%s' already exists." % number,
                                [field_error("CustomerNumber", "Conflict", "Customer number must be unique")])
        if number.isdigit() and int(number) >= self.settings["NextCustomerNumber"]:
            self.settings["NextCustomerNumber"] = int(number) + 1

    def check_ref(self, store, ident, field, label):
        if ident is not None and ident.lower() not in self.db[store]:
            raise missing_reference(field, label, ident)

    def is_eu(self, country):
        c = self.db["countries"].get((country or COMPANY_COUNTRY).upper())
        return bool(c and c["IsEuMember"])

    def check_vat_number(self, rec):
        """VIES-style: EU numbers must have their country's format and prefix (GR: EL);
        numbers listed with POST /_emulator/vies are 'not registered'."""
        raw = rec.get("VatNumber")
        if not raw:
            return
        vat = re.sub(r"[\s.\-]", "", raw).upper()
        prefix = vat[:2]
        country = (rec.get("InvoiceCountryCode") or "").upper()
        vies_country = {"EL": "GR"}.get(prefix, prefix)
        problem = None
        if country and self.is_eu(country) and vies_country != country and not (country == "GB" and prefix == "XI"):
            problem = "The VAT number prefix %s does not match the country %s" % (prefix, country)
        elif vies_country in VAT_FORMATS or self.is_eu(country or vies_country):
            rx = VAT_FORMATS.get(vies_country)
            if rx is None or not re.fullmatch(rx, vat):
                problem = "'%s' is not a valid VAT number for %s" % (raw, vies_country)
        elif not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{2,18}", vat):
            problem = "'%s' is not a valid VAT number" % raw
        if problem is None and vat in self.vies_invalid:
            problem = "VIES: the VAT number %s is not registered" % raw
        if problem:
            raise api_error(400, 4025, "Invalid VAT number. " + problem,
                            [field_error("VatNumber", "InvalidVatNumber", problem)])

    # ---- articles ------------------------------------------------------------
    # the members out_article sets itself (Listed: the others are the stored ones)
    ARTICLE_COMPUTED = ("CodingName", "UnitName", "UnitAbbreviation", "IsServiceArticle", "ShowStockInformation",
                        "StockBalanceAvailable", "StockValue", "NetPriceWithDiscount")

    def out_article(self, rec):
        rec = dict(rec)
        coding = self.db["codings"].get(rec["CodingId"], {})
        unit = self.db["units"].get(rec["UnitId"], {})
        rec["CodingName"] = coding.get("Name")
        rec["UnitName"] = unit.get("Name")
        rec["UnitAbbreviation"] = unit.get("Abbreviation")
        rec["IsServiceArticle"] = coding.get("Type") == "Service"
        rec["ShowStockInformation"] = not rec["IsServiceArticle"]
        rec["StockBalanceAvailable"] = rec.get("StockBalance", D(0))
        rec["StockValue"] = money(rec.get("StockBalance", D(0)) * rec.get("PurchasePrice", D(0)))
        rec["NetPriceWithDiscount"] = rec.get("NetPrice", D(0))
        return shape("ArticleApi", rec)

    def list_articles(self, req):
        self.check_article_query(req)
        return self.paged(req, list(self.db["articles"].values()), "ArticleApi", self.out_article,
                          self.ARTICLE_COMPUTED)

    def check_article_query(self, req):
        q = {k.lower(): v for k, v in req.query.items()}
        if q.get("customerid"):
            self.find("customers", q["customerid"], "Customer")

    def get_article(self, req):
        self.check_article_query(req)
        return self.out_article(self.find("articles", req.params["articleId"], "Article"))

    def create_article(self, req):
        return self.out_article(self.store_article(checked_body(req, "ArticleApi")))

    def update_article(self, req):
        old = self.find("articles", req.params["articleId"], "Article")
        return self.out_article(self.store_article(checked_body(req, "ArticleApi"), old))

    def store_article(self, body, old=None):
        rec = dict(body)
        self.check_ref("units", rec.get("UnitId"), "UnitId", "Unit")
        self.check_ref("codings", rec.get("CodingId"), "CodingId", "Article account coding")
        for a in self.db["articles"].values():
            if a["Number"].lower() == rec["Number"].lower() and (old is None or a["Id"] != old["Id"]):
                raise api_error(400, 4000, "An article with number '%s' already exists." % rec["Number"],
                                [field_error("Number", "Conflict", "Article number must be unique")])
        self.reconcile_prices(rec)
        if rec.get("UsesMoss") and not self.settings["UsesMoss"]:
            raise validation_failed([field_error("UsesMoss", "Invalid", "UsesMoss requires the company OSS setting")])
        if "Stock" in (self.settings.get("ActivatedModules") or []) and old is not None:
            rec["StockBalance"] = old.get("StockBalance", D(0))  # read-only with the stock module
        rec.setdefault("StockBalance", D(0))
        rec.setdefault("SendToWebshop", True)
        now = iso_utc(self.now())
        rec["Id"] = old["Id"] if old else self.new_id()
        rec["CreatedUtc"] = old["CreatedUtc"] if old else now
        rec["ChangedUtc"] = now
        self.db["articles"][rec["Id"]] = rec
        return rec

    def reconcile_prices(self, rec):
        """Net and gross must agree with the coding's VAT rate; a zero one is computed."""
        rate = self.db["codings"][rec["CodingId"].lower()]["VatRatePercent"]
        net, gross = rec.get("NetPrice") or D(0), rec.get("GrossPrice") or D(0)
        if net and not gross:
            gross = money(net * (1 + rate))
        elif gross and not net:
            net = money(gross / (1 + rate))
        elif net and gross and abs(money(net * (1 + rate)) - gross) > CENT:
            raise validation_failed([field_error("GrossPrice", "PriceMismatch",
                                                 "GrossPrice %s does not match NetPrice %s with VAT rate %s%%" % (
                                                     gross, net, (rate * 100).normalize()))])
        rec["NetPrice"], rec["GrossPrice"] = net, gross

    # ---- VAT and totals (documented in README "VAT and totals model") --------
    def vat_context(self, customer, doc):
        """Which sales scenario a document is in, from the customer and document flags."""
        country = (customer.get("InvoiceCountryCode") or COMPANY_COUNTRY).upper()
        if customer.get("DeliveryBasedVat") and customer.get("DeliveryCountryCode"):
            country = customer["DeliveryCountryCode"].upper()
        if country == COMPANY_COUNTRY:
            scenario = "domestic"
        elif self.is_eu(country):
            if doc.get("EuThirdParty"):
                scenario = "eu_third_party"
            elif not customer.get("IsPrivatePerson") and customer.get("VatNumber"):
                scenario = "eu_reverse_charge"
            else:
                scenario = "eu_b2c"
        else:
            scenario = "export_with_vat" if customer.get("ForceBookkeepVat") else "export"
        currency = doc.get("CurrencyCode") or customer.get("CurrencyCode") or COMPANY_CURRENCY
        return {
            "scenario": scenario, "country": country, "currency": currency,
            "includes_vat": bool(customer.get("IsPrivatePerson")) and not self.settings["ShowPricesExclVatPC"],
            "foreign": currency != COMPANY_CURRENCY or country != COMPANY_COUNTRY,
            "construction": bool(customer.get("ReverseChargeOnConstructionServices")),
        }

    def row_vat(self, ctx, article, row):
        """(VAT rate as a fraction, revenue account) for one article row."""
        coding = self.db["codings"][article["CodingId"]]
        rate = coding["VatRatePercent"]
        scenario = ctx["scenario"]
        if row.get("IsVatFree"):
            return D(0), coding["DomesticSalesVatExemptAccountNumber"]
        if scenario in ("domestic", "export_with_vat"):
            if ctx["construction"] and (row.get("ReversedConstructionServicesVatFree") or row.get("EligibleForReverseChargeOnVat")):
                return D(0), coding["DomesticSalesSubjectToReversedConstructionVatAccountNumber"]
            if rate == 0:
                return D(0), coding["DomesticSalesVatExemptAccountNumber"]
            return rate, coding["DomesticSalesSubjectToVatAccountNumber"]
        if scenario == "eu_reverse_charge":
            return D(0), coding["ForeignSalesVatExemptWithinEuAccountNumber"]
        if scenario == "eu_third_party":
            return D(0), coding["ForeignSalesSubjectToThirdPartySalesAccountNumber"]
        if scenario == "eu_b2c":
            if self.settings["UsesMoss"] and article.get("UsesMoss") and rate > 0:
                return oss_rate(ctx["country"], rate), coding["ForeignSalesSubjectToMossAccountNumber"]
            return rate, coding["ForeignSalesSubjectToVatWithinEuAccountNumber"]
        return D(0), coding["ForeignSalesVatExemptOutsideEuAccountNumber"]

    def price_rows(self, rows_in, ctx, kind, replace_zero=False):
        """Validate rows against articles and compute row amounts (2 decimals, half away from zero)."""
        rows, errors = [], []
        max_decimals = 4 if ctx["foreign"] else 2
        for n, row in enumerate(rows_in or []):
            field = "Rows[%d]" % n
            row = dict(row)
            if kind == "invoice" and "IsTextRow" not in row:
                row["IsTextRow"] = row.get("ArticleId") is None
            row["Id"] = self.new_id()
            if kind != "order" or row.get("LineNumber") is None:
                row["LineNumber"] = D(n + 1) if row.get("LineNumber") is None else row["LineNumber"]
            if row.get("IsTextRow"):
                if not (row.get("Text") or "").strip():
                    errors.append(field_error(field + ".Text", "Required", "A text row needs at least one character"))
                for k in ("ArticleId", "ArticleNumber", "VatRate", "UnitId"):
                    row[k] = None
                row.update(UnitPrice=D(0), Quantity=D(0), DiscountPercentage=D(0), Amount=D(0), AmountNoVat=D(0))
                rows.append(row)
                continue
            if not row.get("ArticleId"):
                errors.append(field_error(field + ".ArticleId", "Required", "ArticleId is required when IsTextRow is false"))
                continue
            article = self.db["articles"].get(row["ArticleId"])
            if article is None:
                raise missing_reference(field + ".ArticleId", "Article", row["ArticleId"])
            if not article.get("IsActive"):
                raise api_error(400, 4002, "The article '%s' is inactive and cannot be used on documents." % article["Number"],
                                [field_error(field + ".ArticleId", "CanNotBeCreatedOrUpdated", "Article is inactive")])
            price = row.get("UnitPrice") or D(0)
            if price == 0 and replace_zero:
                price = article["GrossPrice"] if ctx["includes_vat"] else article["NetPrice"]
            if decimals_of(price) > max_decimals:
                errors.append(field_error(field + ".UnitPrice", "RegularExpression",
                                          "UnitPrice allows %d decimals for this customer/currency" % max_decimals))
            rate, account = self.row_vat(ctx, article, row)
            if account is None:
                raise api_error(400, 4024, "The article account coding '%s' has no sales account for this sales scenario." %
                                self.db["codings"][article["CodingId"]]["Name"])
            qty = row.get("Quantity") or D(0)
            disc = row.get("DiscountPercentage") or D(0)
            amount = money(qty * price * (1 - disc))
            unit = self.db["units"].get(article["UnitId"], {})
            row.update(ArticleNumber=article["Number"], UnitPrice=price, Quantity=qty, DiscountPercentage=disc,
                       Text=row.get("Text") or article["Name"], VatRate=rate, PercentVat=rate, Amount=amount,
                       AmountNoVat=money(amount / (1 + rate)) if ctx["includes_vat"] else amount,
                       UnitId=article["UnitId"], UnitName=unit.get("Name"), UnitAbbreviation=unit.get("Abbreviation"),
                       UnitAbbreviationEnglish=unit.get("AbbreviationEnglish"), IsServiceArticle=self.db["codings"][article["CodingId"]]["Type"] == "Service",
                       VatRateId=article["CodingId"], PurchasePrice=article.get("PurchasePrice", D(0)),
                       FreightCosts=article.get("FreightCosts", D(0)), _account=account)
            rows.append(row)
        if errors:
            raise validation_failed(errors)
        return rows

    def totals(self, rows, ctx, currency_rate):
        """Per-rate VAT from summed row amounts, öresavrundning, base-currency amounts."""
        groups = {}
        for r in rows:
            if not r.get("IsTextRow"):
                groups[r["VatRate"]] = groups.get(r["VatRate"], D(0)) + r["Amount"]
        spec, net_total, vat_total = [], D(0), D(0)
        for rate, amount in sorted(groups.items(), reverse=True):
            if ctx["includes_vat"]:
                vat = money(amount * rate / (1 + rate))
                net = amount - vat
            else:
                vat = money(amount * rate)
                net = amount
            spec.append({"AmountInvoiceCurrency": net, "VatAmountInvoiceCurrency": vat, "VatPercent": rate})
            net_total += net
            vat_total += vat
        gross = net_total + vat_total
        rounding = D(0)
        if self.settings["DomesticCurrencyRounding"] == 1 and ctx["currency"] == COMPANY_CURRENCY:
            rounding = round_half_away(gross, 0) - gross
        total = gross + rounding

        def base(x):
            return money(x * currency_rate)

        return {"net": net_total, "vat": vat_total, "rounding": rounding, "total": total, "spec": spec,
                "base_total": base(total), "base_vat": base(vat_total), "base_rounding": base(rounding),
                "base_net": base(net_total)}

    def customer_of(self, doc, field="CustomerId"):
        c = self.db["customers"].get(doc.get("CustomerId") or "")
        if c is None:
            raise missing_reference(field, "Customer", doc.get("CustomerId"))
        return c

    def header_from_customer(self, doc, customer, ctx, writable_invoice_address=True):
        """Address/delivery fields: the document's value, else the customer's."""
        def pick(field, source=None):
            v = doc.get(field) if writable_invoice_address or field in ("InvoiceAddress1", "InvoiceAddress2") else None
            return v if v is not None else customer.get(source or field)
        head = {
            "CustomerNumber": customer["CustomerNumber"], "CustomerName": customer["Name"],
            "CustomerIsPrivatePerson": bool(customer.get("IsPrivatePerson")), "IncludesVat": ctx["includes_vat"],
            "InvoiceCustomerName": doc.get("InvoiceCustomerName") or customer["Name"],
            "InvoiceAddress1": pick("InvoiceAddress1"), "InvoiceAddress2": pick("InvoiceAddress2"),
            "InvoicePostalCode": pick("InvoicePostalCode"), "InvoiceCity": pick("InvoiceCity"),
            "InvoiceCountryCode": pick("InvoiceCountryCode") or COMPANY_COUNTRY,
            "DeliveryCustomerName": doc.get("DeliveryCustomerName") or customer.get("DeliveryCustomerName"),
            "ReverseChargeOnConstructionServices": bool(doc.get("ReverseChargeOnConstructionServices") or ctx["construction"]),
        }
        for f in ("DeliveryAddress1", "DeliveryAddress2", "DeliveryPostalCode", "DeliveryCity", "DeliveryCountryCode"):
            head[f] = doc.get(f) if doc.get(f) is not None else customer.get(f)
        terms = doc.get("TermsOfPaymentId") or customer["TermsOfPaymentId"]
        self.check_ref("terms", terms, "TermsOfPaymentId", "Terms of payment")
        head["TermsOfPaymentId"] = terms
        method = self.db["deliverymethods"].get(customer.get("DeliveryMethodId") or "")
        term = self.db["deliveryterms"].get(customer.get("DeliveryTermId") or "")
        head["DeliveryMethodName"] = doc.get("DeliveryMethodName") or (method or {}).get("Name")
        head["DeliveryMethodCode"] = doc.get("DeliveryMethodCode") or (method or {}).get("Code")
        head["DeliveryTermName"] = doc.get("DeliveryTermName") or (term or {}).get("Name")
        head["DeliveryTermCode"] = doc.get("DeliveryTermCode") or (term or {}).get("Code")
        head["DeliveryMethodId"] = next((i for i, m in self.db["deliverymethods"].items()
                                         if head["DeliveryMethodName"] and m["Name"] == head["DeliveryMethodName"]), None)
        head["DeliveryTermId"] = next((i for i, m in self.db["deliveryterms"].items()
                                       if head["DeliveryTermName"] and m["Name"] == head["DeliveryTermName"]), None)
        return head

    def due_date(self, invoice_date, terms_id):
        terms = self.db["terms"][terms_id]
        start = invoice_date
        if terms["TermsOfPaymentTypeId"] == 1:  # current month: from the last day of the month
            start = invoice_date.replace(day=calendar.monthrange(invoice_date.year, invoice_date.month)[1])
        return start + datetime.timedelta(days=int(terms["NumberOfDays"]))

    # ---- orders --------------------------------------------------------------
    def out_order(self, rec):
        return shape("OrderApi", rec)

    def list_orders(self, req):
        return self.paged(req, list(self.db["orders"].values()), "OrderApi", self.out_order)

    def get_order(self, req):
        return self.out_order(self.find("orders", req.params["id"], "Order"))

    def create_order(self, req):
        return self.out_order(self.store_order(checked_body(req, "OrderApi")))

    def update_order(self, req):
        old = self.find("orders", req.params["id"], "Order")
        if old["Status"] == 4:
            raise api_error(400, 4002, "An invoiced order cannot be updated.")
        return self.out_order(self.store_order(checked_body(req, "OrderApi"), old))

    def delete_order(self, req):
        rec = self.find("orders", req.params["id"], "Order")
        if rec["Status"] in (3, 4):
            raise api_error(400, 4001, "A shipped or invoiced order cannot be deleted.")
        del self.db["orders"][rec["Id"]]
        return None

    def store_order(self, body, old=None):
        doc = dict(body)
        if doc["Status"] == 4:
            raise api_error(400, 4002, "Status Invoiced is set by converting the order (POST /v2/orders/{id}/convert).",
                            [field_error("Status", "CanNotBeCreatedOrUpdated", "Use /convert to invoice an order")])
        customer = self.customer_of(doc)
        doc["CurrencyCode"] = doc["CurrencyCode"].upper()
        if doc["CurrencyCode"] not in self.db["currencies"]:
            raise validation_failed([field_error("CurrencyCode", "Invalid", "Unknown currency code")])
        doc["OrderDate"] = doc.get("OrderDate") or self.today()
        self.require_fiscal_year(doc["OrderDate"], "OrderDate")
        ctx = self.vat_context(customer, doc)
        rows = self.price_rows(doc.get("Rows"), ctx, "order")
        for row in rows:
            row.setdefault("DeliveredQuantity", D(0))
        t = self.totals(rows, ctx, EXCHANGE_RATES[doc["CurrencyCode"]])
        doc.update(self.header_from_customer(doc, customer, ctx))
        doc["Rows"] = rows
        doc.update(Amount=t["net"], VatAmount=t["vat"], RoundingsAmount=t["rounding"])
        now = iso_utc(self.now())
        if old:
            doc.update(Id=old["Id"], Number=old["Number"], CreatedUtc=old["CreatedUtc"])
        else:
            doc.update(Id=self.new_id(), Number=self.settings["NextOrderNumber"], CreatedUtc=now)
            self.settings["NextOrderNumber"] += 1
        doc["ModifiedUtc"] = now
        self.db["orders"][doc["Id"]] = doc
        return doc

    def order_transition(self, to_status, from_status=None):
        def handler(req):
            rec = self.find("orders", req.params["id"], "Order")
            allowed = {3: (1, 2), 2: (3,)}.get(to_status, ())
            if from_status is not None:
                allowed = (from_status,)
            if rec["Status"] not in allowed:
                raise api_error(400, 4002, "The order cannot change from status %d to %d." % (rec["Status"], to_status))
            rec["Status"] = to_status
            if to_status == 3:
                rec["ShippedDateTime"] = self.today()
                for row in rec["Rows"]:
                    row["DeliveredQuantity"] = row.get("Quantity", D(0))
                rec.update(DeliveredAmount=rec["Amount"], DeliveredVatAmount=rec["VatAmount"],
                           DeliveredRoundingsAmount=rec["RoundingsAmount"])
            rec["ModifiedUtc"] = iso_utc(self.now())
            return self.out_order(rec)
        return handler

    def convert_order(self, req):
        rec = self.find("orders", req.params["id"], "Order")
        body = checked_body(req, "OrderConversionApi", required=False)
        if rec["Status"] == 4:
            raise api_error(400, 4002, "The order is already invoiced.")
        if rec["Status"] == 1:
            raise api_error(400, 4002, "An order draft cannot be invoiced; convert it to an order first.")
        doc = {k: rec.get(k) for k in ("CustomerId", "EuThirdParty", "RotReducedInvoicingType", "YourReference", "OurReference",
                                       "BuyersOrderReference", "TermsOfPaymentId", "InvoiceAddress1", "InvoiceAddress2",
                                       "InvoicePostalCode", "InvoiceCity", "InvoiceCountryCode", "DeliveryCustomerName",
                                       "DeliveryAddress1", "DeliveryAddress2", "DeliveryPostalCode", "DeliveryCity",
                                       "DeliveryCountryCode", "DeliveryDate")}
        doc["WorkHouseOtherCosts"] = body.get("WorkHouseOtherCosts")
        doc["Rows"] = [self.carry_row(r) for r in rec["Rows"]]
        doc["InvoiceDate"] = self.today()
        invoice = self.book_invoice(doc, currency=rec["CurrencyCode"], origin={"CreatedFromOrderId": rec["Id"]})
        rec["Status"] = 4
        rec["ModifiedUtc"] = iso_utc(self.now())
        return self.out_invoice(invoice)

    @staticmethod
    def carry_row(r):
        keep = ("ArticleId", "IsTextRow", "Text", "UnitPrice", "Quantity", "DiscountPercentage", "LineNumber",
                "ReversedConstructionServicesVatFree", "EligibleForReverseChargeOnVat", "CostCenterItemId1",
                "CostCenterItemId2", "CostCenterItemId3", "ProjectId", "IsVatFree")
        return {k: r.get(k) for k in keep if k in r}

    # ---- drafts --------------------------------------------------------------
    def out_draft(self, rec):
        return shape("CustomerInvoiceDraftApi", rec)

    def list_drafts(self, req):
        return self.paged(req, list(self.db["drafts"].values()), "CustomerInvoiceDraftApi", self.out_draft)

    def get_draft(self, req):
        return self.out_draft(self.find("drafts", req.params["invoiceDraftId"], "Customer invoice draft"))

    def create_draft(self, req):
        return self.out_draft(self.store_draft(checked_body(req, "CustomerInvoiceDraftApi")))

    def update_draft(self, req):
        old = self.find("drafts", req.params["customerInvoiceDraftId"], "Customer invoice draft")
        return self.out_draft(self.store_draft(checked_body(req, "CustomerInvoiceDraftApi"), old))

    def delete_draft(self, req):
        rec = self.find("drafts", req.params["customerInvoiceDraftId"], "Customer invoice draft")
        del self.db["drafts"][rec["Id"]]
        return None

    def store_draft(self, body, old=None):
        doc = dict(body)
        customer = self.customer_of(doc)
        self.require_fiscal_year(doc.get("InvoiceDate") or self.today(), "InvoiceDate")
        if doc.get("ElectronicReference") and customer.get("IsPrivatePerson"):
            raise validation_failed([field_error("ElectronicReference", "Invalid", "Cannot be set for private individuals")])
        ctx = self.vat_context(customer, doc)
        rows = self.price_rows(doc.get("Rows"), ctx, "draft", doc.get("ReplaceUnitPriceWhenZero"))
        rate = EXCHANGE_RATES[ctx["currency"]]
        t = self.totals(rows, ctx, rate)
        doc.update(self.header_from_customer(doc, customer, ctx, writable_invoice_address=False))
        doc.update(Rows=rows, InvoiceCurrencyCode=ctx["currency"], TotalAmount=t["total"], TotalVatAmount=t["vat"],
                   TotalRoundings=t["rounding"], TotalAmountBaseCurrency=t["base_total"],
                   TotalVatAmountBaseCurrency=t["base_vat"])
        doc["Id"] = old["Id"] if old else self.new_id()
        doc["CreatedUtc"] = old["CreatedUtc"] if old else iso_utc(self.now())
        self.db["drafts"][doc["Id"]] = doc
        return doc

    def convert_draft(self, req):
        draft = self.find("drafts", req.params["customerInvoiceDraftId"], "Customer invoice draft")
        expected = checked_body(req, "CustomerInvoiceDraftValidationApi", required=False)
        q = {k.lower(): v.lower() for k, v in req.query.items()}
        keep = q.get("keeporiginaldraftdate") == "true" or (
            self.settings.get("KeepOriginalDraftDate") and q.get("overridecompanykeeporiginaldraftdate") != "true")
        invoice_date = draft.get("InvoiceDate") if keep and draft.get("InvoiceDate") else self.today()
        customer = self.customer_of(draft)
        if invoice_date > self.today() and not customer.get("IsFutureInvoiceDateAllowed"):
            raise api_error(400, 4002, "The invoice date %s is in the future." % invoice_date.isoformat(),
                            [field_error("InvoiceDate", "CanNotBeCreatedOrUpdated", "Invoice date in the future")])
        self.check_expected_totals(draft, expected)
        doc = {k: draft.get(k) for k in ("CustomerId", "EuThirdParty", "RotReducedInvoicingType", "IsCreditInvoice",
                                         "YourReference", "OurReference", "BuyersOrderReference", "ElectronicReference",
                                         "SubscriptionNumber", "ContractNumber", "InvoiceAddress1", "InvoiceAddress2",
                                         "DeliveryCustomerName", "DeliveryAddress1", "DeliveryAddress2",
                                         "DeliveryPostalCode", "DeliveryCity", "DeliveryCountryCode", "DeliveryDate",
                                         "TermsOfPaymentId", "DeliveryMethodName", "DeliveryMethodCode",
                                         "DeliveryTermName", "DeliveryTermCode", "UsesGreenTechnology", "IsDirectDebit")}
        doc["Rows"] = [self.carry_row(r) for r in draft["Rows"]]
        doc["InvoiceDate"] = invoice_date
        if keep and draft.get("DueDate"):
            doc["DueDate"] = draft["DueDate"]
        invoice = self.book_invoice(doc, origin={"CreatedFromDraftId": draft["Id"]})
        del self.db["drafts"][draft["Id"]]
        return self.out_invoice(invoice)

    def check_expected_totals(self, draft, expected):
        """The optional convert body: the caller's totals must equal the server's."""
        errors = []
        pairs = (("TotalAmountInvoiceCurrency", draft["TotalAmount"]), ("TotalVatAmountInvoiceCurrency", draft["TotalVatAmount"]),
                 ("TotalRoundingsInvoiceCurrency", draft["TotalRoundings"]))
        for field, actual in pairs:
            if expected.get(field) is not None and money(expected[field]) != money(actual):
                errors.append(field_error(field, "ValidationMismatch", "Expected %s but the draft has %s" % (expected[field], actual)))
        rows = {int(r["LineNumber"]): r for r in draft["Rows"]}
        for n, exp in enumerate(expected.get("Rows") or []):
            row = rows.get(int(exp.get("LineNumber") or 0))
            if row is None:
                errors.append(field_error("Rows[%d].LineNumber" % n, "ResourceNotFound", "No draft row with that line number"))
                continue
            no_vat = row.get("AmountNoVat", D(0))
            inc_vat = row["Amount"] if row.get("IsTextRow") or draft.get("IncludesVat") else money(row["Amount"] * (1 + (row.get("VatRate") or 0)))
            for field, actual in (("TotalAmountNoVatInvoiceCurrency", no_vat), ("TotalAmountIncVatInvoiceCurrency", inc_vat)):
                if exp.get(field) is not None and money(exp[field]) != money(actual):
                    errors.append(field_error("Rows[%d].%s" % (n, field), "ValidationMismatch",
                                              "Expected %s but the draft row has %s" % (exp[field], actual)))
        if errors:
            raise api_error(400, 2000, "The expected totals do not match the draft.", errors)

    # ---- customer invoices ---------------------------------------------------
    # the members out_invoice sets itself (Listed: the others are the stored ones)
    INVOICE_COMPUTED = ("PaymentStatus",)

    def out_invoice(self, rec):
        rec = dict(rec)
        if rec["RemainingAmountInvoiceCurrency"] == 0:
            rec["PaymentStatus"] = 0
        elif rec.get("DueDate") and rec["DueDate"] < self.today():
            rec["PaymentStatus"] = 2
        else:
            rec["PaymentStatus"] = 1
        return shape("CustomerInvoiceApi", rec)

    def list_invoices(self, req):
        q = {k.lower(): v for k, v in req.query.items()}
        items = list(self.db["invoices"].values())
        if q.get("modifiedsinceutc"):
            since = odata.parse_datetime(q["modifiedsinceutc"])
            if since is None:
                raise api_error(400, 6001, "Invalid DateTime format: '%s'" % q["modifiedsinceutc"])
            items = [i for i in items if odata.parse_datetime(i["ModifiedUtc"]) >= since]
        return self.paged(req, items, "CustomerInvoiceApi", self.out_invoice, self.INVOICE_COMPUTED)

    def get_invoice(self, req):
        return self.out_invoice(self.find("invoices", req.params["invoiceId"], "Customer invoice"))

    def create_invoice(self, req):
        body = checked_body(req, "CustomerInvoiceApi")
        if body.get("CreatedFromDraftId"):
            draft = self.find("drafts", body["CreatedFromDraftId"], "Customer invoice draft")
            req.params["customerInvoiceDraftId"] = draft["Id"]
            req.body = b""
            return self.convert_draft(req)
        if not body.get("Rows"):
            raise validation_failed([field_error("Rows", "Required", "An invoice needs at least one row")])
        return self.out_invoice(self.book_invoice(body, currency_rate=body.get("CurrencyRate")))

    def book_invoice(self, doc, currency=None, origin=None, currency_rate=None):
        """Create a booked invoice: numbers, totals in both currencies, remaining amount."""
        doc = dict(doc)
        customer = self.customer_of(doc)
        doc["InvoiceDate"] = doc.get("InvoiceDate") or self.today()
        self.require_fiscal_year(doc["InvoiceDate"], "InvoiceDate")
        if currency:
            doc["CurrencyCode"] = currency
        ctx = self.vat_context(customer, doc)
        doc.pop("CurrencyCode", None)
        rate = D(currency_rate) if currency_rate else EXCHANGE_RATES[ctx["currency"]]
        rows = self.price_rows(doc.get("Rows"), ctx, "invoice", doc.get("ReplaceUnitPriceWhenZero"))
        t = self.totals(rows, ctx, rate)
        doc.update(self.header_from_customer(doc, customer, ctx))
        number = self.settings["NextCustomerInvoiceNumber"]
        self.settings["NextCustomerInvoiceNumber"] += 1
        now = iso_utc(self.now())
        doc.update(origin or {})
        doc.update(
            Id=self.new_id(), InvoiceNumber=number, Rows=rows, CurrencyCode=ctx["currency"], CurrencyRate=rate,
            TotalAmount=t["base_total"], TotalVatAmount=t["base_vat"], TotalRoundings=t["base_rounding"],
            TotalAmountInvoiceCurrency=t["total"], TotalVatAmountInvoiceCurrency=t["vat"],
            RemainingAmount=t["base_total"], RemainingAmountInvoiceCurrency=t["total"],
            SetOffAmountInvoiceCurrency=D(0), VatSpecification=t["spec"],
            DueDate=doc.get("DueDate") or self.due_date(doc["InvoiceDate"], doc["TermsOfPaymentId"]),
            CustomerEmail=customer.get("EmailAddress"), ElectronicAddress=customer.get("ElectronicAddress"),
            VoucherNumber="K %d" % number, VoucherId=self.new_id(), CreatedUtc=now, ModifiedUtc=now,
            CreatedByUserId=self.user_id, SendType=doc.get("SendType") or 0,
            PaymentReferenceNumber=ocr(number) if self.settings["UsesPaymentReferenceNumber"] else None,
            RotReducedInvoicingAutomaticDistribution=False, Payments=[])
        customer["LastInvoiceDate"] = doc["InvoiceDate"]
        self.db["invoices"][doc["Id"]] = doc
        return doc

    def invoice_pdf(self, req):
        rec = self.find("invoices", req.params["invoiceId"], "Customer invoice")
        return {"Url": "%s/_emulator/files/%s.pdf" % (self.base_url or "", rec["Id"])}

    def invoice_payment(self, req):
        rec = self.find("invoices", req.params["invoiceId"], "Customer invoice")
        body = checked_body(req, "InvoicePaymentApi")
        self.check_ref("bankaccounts", body.get("CompanyBankAccountId"), "CompanyBankAccountId", "Bank account")
        pay_date = body.get("PaymentDate") or self.today()
        if pay_date > self.today():
            raise api_error(400, 4023, "The payment date cannot be in the future.",
                            [field_error("PaymentDate", "FutureDateCannotBeSet", "Payment date in the future")])
        if body.get("DomesticPaymentAmount") is not None and rec["CurrencyCode"] == COMPANY_CURRENCY:
            raise api_error(400, 4039, "DomesticPaymentAmount is not allowed on domestic invoices.")
        amount = money(body["PaymentAmount"])
        if amount > rec["RemainingAmountInvoiceCurrency"]:
            raise validation_failed([field_error("PaymentAmount", "Range", "Larger than the remaining amount")])
        rec["RemainingAmountInvoiceCurrency"] -= amount
        rec["RemainingAmount"] = money(rec["RemainingAmountInvoiceCurrency"] * rec["CurrencyRate"])
        rec["PaymentDate"] = pay_date
        rec["ModifiedUtc"] = iso_utc(self.now())
        out = dict(body, PaymentDate=pay_date, PaymentAmount=amount)
        rec["Payments"].append(out)
        return shape("InvoicePaymentApi", out)

    # ---- partner resource links ----------------------------------------------
    LINK_TYPES = {0: "articles", 1: "customers", 3: "invoices", 5: "drafts"}

    def store_link(self, body, old=None):
        store = self.LINK_TYPES.get(int(body["ResourceType"]))
        if store is None:
            raise validation_failed([field_error("ResourceType", "Invalid", "Resource type not supported by the emulator")])
        self.check_ref(store, body["ResourceId"], "ResourceId", "Resource")
        rec = dict(body, Id=old["Id"] if old else self.new_id())
        self.db["links"][rec["Id"]] = rec
        return shape("PartnerResourceLinkApi", rec)

    def create_link(self, req):
        return self.store_link(checked_body(req, "PartnerResourceLinkApi"))

    def update_link(self, req):
        old = self.find("links", req.params["partnerResourceLinkId"], "Partner resource link")
        return self.store_link(checked_body(req, "PartnerResourceLinkApi"), old)

    def delete_link(self, req):
        rec = self.find("links", req.params["partnerResourceLinkId"], "Partner resource link")
        del self.db["links"][rec["Id"]]
        return None

    # ---- admin ---------------------------------------------------------------
    def admin_extra(self, req, action, doc):
        if action == "revoke":
            n = self.revoke_all(doc.get("client_id") if isinstance(doc, dict) else None)
            return Response(200, {"revoked": n})
        if action == "token":
            scopes = (doc.get("scope") or "ea:api offline_access ea:sales ea:accounting ea:purchase").split()
            client_id = doc.get("client_id") or self.args.client_id
            with self.auth_lock:
                return Response(200, self.issue_tokens(client_id, scopes, lifetime=int(doc.get("expires_in", ACCESS_TOKEN_LIFETIME))))
        if action == "company":
            with self.lock:
                for key in ("active", "startup_guide_completed", "order_module", "deny_consent"):
                    if key in doc:
                        self.company[key] = bool(doc[key])
                for key, value in (doc.get("settings") or {}).items():
                    if key not in SCHEMAS["CompanySettingsApi"]["properties"]:
                        return Response(400, {"message": "unknown company setting %s" % key})
                    self.settings[key] = value
                if doc.get("fiscal_years") is False:
                    self.db["fiscalyears"] = {}
                elif doc.get("fiscal_years") is True and not self.db["fiscalyears"]:
                    self.seed_fiscal_years()
                return Response(200, {"company": self.company, "settings": to_json(shape("CompanySettingsApi", self.settings))})
        if action == "vies":
            with self.lock:
                for number in doc.get("invalid", []):
                    self.vies_invalid.add(re.sub(r"[\s.\-]", "", number).upper())
                return Response(200, {"invalid": sorted(self.vies_invalid)})
        if action == "ratelimit/reset":
            with self.rate_lock:
                self.rate_windows = {}
            return Response(200, {"ok": True})
        return super().admin_extra(req, action, doc)

    def on_reset(self, doc):
        self.seed()
        if isinstance(doc, dict) and doc.get("tokens"):
            with self.auth_lock:
                self.codes, self.access_tokens, self.refresh_tokens = {}, {}, {}

    def dump_state(self):
        return to_json({
            "company": self.company,
            "companysettings": shape("CompanySettingsApi", self.settings),
            "customers": [self.out_customer(c) for c in self.db["customers"].values()],
            "articles": [self.out_article(a) for a in self.db["articles"].values()],
            "orders": [self.out_order(o) for o in self.db["orders"].values()],
            "customerinvoicedrafts": [self.out_draft(d) for d in self.db["drafts"].values()],
            "customerinvoices": [self.out_invoice(i) for i in self.db["invoices"].values()],
            "partnerresourcelinks": [shape("PartnerResourceLinkApi", x) for x in self.db["links"].values()],
            "fiscalyears": [shape("FiscalYearApi", x) for x in self.db["fiscalyears"].values()],
            "tokens": {"access": len(self.access_tokens), "refresh_active": sum(1 for r in self.refresh_tokens.values() if r["active"])},
        })

    # ---- fixtures ------------------------------------------------------------
    FIXTURE_KINDS = {
        "customers": ("CustomerApi", "store_customer"), "articles": ("ArticleApi", "store_article"),
        "orders": ("OrderApi", "store_order"), "customerinvoicedrafts": ("CustomerInvoiceDraftApi", "store_draft"),
        "drafts": ("CustomerInvoiceDraftApi", "store_draft"), "customerinvoices": ("CustomerInvoiceApi", "book_invoice"),
        "invoices": ("CustomerInvoiceApi", "book_invoice"),
    }
    FIXTURE_STORES = {"store_customer": "customers", "store_article": "articles", "store_order": "orders",
                      "store_draft": "drafts", "book_invoice": "invoices"}

    def load_fixtures(self, doc):
        """Fixture items are API bodies (any casing) and pass the same rules as a POST.
        Conveniences: an "Id" is kept; customers default TermsOfPaymentId to the
        company's; documents may name "CustomerNumber" and rows "ArticleNumber"."""
        doc = {k.lower(): v for k, v in (doc or {}).items()}
        for number in doc.pop("vies_invalid", []):
            self.vies_invalid.add(re.sub(r"[\s.\-]", "", number).upper())
        for key, value in (doc.pop("companysettings", None) or {}).items() if isinstance(doc.get("companysettings"), dict) else []:
            self.settings[key] = value
        for name in ("deliverymethods", "deliveryterms"):
            for item in doc.pop(name, []):
                body = self.fixture_body(item, "DeliveryMethodApi" if name == "deliverymethods" else "DeliveryTermApi")
                i = self.fixture_id(item) or self.new_id()
                self.db[name][i] = dict(body, Id=i, **({"Editable": True} if name == "deliveryterms" else {}))
        for kind in ("customers", "articles", "orders", "customerinvoicedrafts", "drafts", "customerinvoices", "invoices"):
            schema_name, method = self.FIXTURE_KINDS[kind]
            for item in doc.pop(kind, []):
                item = self.resolve_fixture_refs(item, kind)
                body = self.fixture_body(item, schema_name)
                try:
                    rec = getattr(self, method)(body)
                except HttpError as e:
                    raise ValueError("fixture %s %r rejected: %s" % (kind, item, json.dumps(to_json(e.body))))
                wanted = self.fixture_id(item)
                if wanted and wanted != rec["Id"]:
                    store = self.db[self.FIXTURE_STORES[method]]
                    del store[rec["Id"]]
                    rec["Id"] = wanted
                    store[wanted] = rec
        for item in doc.pop("partnerresourcelinks", []):
            self.store_link(self.fixture_body(item, "PartnerResourceLinkApi"))
        if doc:
            raise ValueError("unknown fixture kinds: %s" % ", ".join(sorted(doc)))

    @staticmethod
    def fixture_id(item):
        for k, v in item.items():
            if k.lower() == "id" and is_guid(v):
                return v.lower()
        return None

    def fixture_body(self, item, schema_name):
        checker = BodyChecker()
        body = checker.object(schema_name, json.loads(json.dumps(item), parse_float=D, parse_int=D))
        if checker.errors:
            raise ValueError("fixture for %s invalid: %s" % (schema_name, checker.errors))
        return body

    def resolve_fixture_refs(self, item, kind):
        item = {k: v for k, v in item.items()}
        low = {k.lower(): k for k in item}
        if kind == "customers" and "termsofpaymentid" not in low:
            item["TermsOfPaymentId"] = self.settings["TermsOfPaymentId"]
        if "customernumber" in low and kind != "customers":
            number = item.pop(low["customernumber"])
            c = next((c for c in self.db["customers"].values() if c["CustomerNumber"] == str(number)), None)
            if c is None:
                raise ValueError("fixture %s: no customer number %s" % (kind, number))
            item["CustomerId"] = c["Id"]
        if "rows" in low:
            rows = []
            for row in item[low["rows"]]:
                row = dict(row)
                rlow = {k.lower(): k for k in row}
                if "articlenumber" in rlow and "articleid" not in rlow:
                    number = row.pop(rlow["articlenumber"])
                    a = next((a for a in self.db["articles"].values() if a["Number"] == str(number)), None)
                    if a is None:
                        raise ValueError("fixture %s: no article number %s" % (kind, number))
                    row["ArticleId"] = a["Id"]
                rows.append(row)
            item[low["rows"]] = rows
        return item

    # ---- shop data (Magento seed catalogue) -----------------------------------
    def seed_shop_data(self):
        """Articles (Number = SKU, every catalogue product) and customers (by e-mail)
        of the Magento seed shop, from seeddata.py, so a steady-state sync finds them."""
        try:
            import seeddata
        except ImportError as e:
            raise SystemExit("--with-shop-data needs tests/emulators/seeddata.py (the Magento seed generator): %s" % e)

        unit = next(i for i, u in self.db["units"].items() if u["Code"] == "ST")
        for p in seeddata.catalogue(self.args.seed):
            coding = self.coding_by(p.get("tax_rate") or 0, "Service" if p["type"] == "virtual" else "Goods")
            body = {"Number": p["sku"], "Name": p["name"][:50], "NameEnglish": p["name"][:50], "UnitId": unit,
                    "CodingId": coding["Id"], "IsActive": p.get("status") == 1, "UsesMoss": True,
                    "NetPrice": money(D(str(p.get("price") or 0))), "GrossPrice": money(D(str(p.get("price_incl_tax") or 0))),
                    "StockBalance": D(str(p.get("qty") or 0)),
                    "Barcodes": [{"Barcode": p["ean"], "BarcodeType": 0}] if p.get("ean") else []}
            try:
                self.store_article(body)
            except HttpError:  # rounding of the shop's incl. price: let the server derive gross
                body["GrossPrice"] = D(0)
                self.store_article(body)
        terms = {t["TermsOfPaymentTypeId"]: t["Id"] for t in self.db["terms"].values() if t["NumberOfDays"] in (0, 30)}
        for c in seeddata.customers(self.args.seed):
            addr = (c.get("addresses") or [{}])[0]
            company = c.get("kind") == "company"
            person = ("%s %s" % (c["firstname"], c["lastname"])).strip()
            vat = c.get("vat_id") if company else None
            body = {"Name": (c.get("company") if company and c.get("company") else person)[:50],
                    "EmailAddress": c["email"], "IsPrivatePerson": not company, "IsActive": True,
                    "InvoiceAddress1": ((addr.get("street") or [None])[0] or None),
                    "InvoiceCity": addr.get("city") or "-", "InvoicePostalCode": (addr.get("postcode") or "-")[:10],
                    "InvoiceCountryCode": c["country_id"], "Telephone": addr.get("telephone"),
                    "CurrencyCode": seeddata.CURRENCY_OF_COUNTRY.get(c["country_id"], "EUR"),
                    "VatNumber": vat, "ContactPersonName": person if company else None,
                    # a company customer's contact is the buyer (what a connector sets)
                    "ContactPersonEmail": c["email"] if company else None,
                    "ContactPersonPhone": addr.get("telephone") if company else None,
                    "CorporateIdentityNumber": "%s-%s" % (vat[2:8], vat[8:12]) if vat and vat.startswith("SE") else None,
                    "TermsOfPaymentId": terms[0] if company else terms[3]}
            self.store_customer(body)


def ocr(number):
    """An OCR reference: the invoice number plus a Luhn check digit."""
    digits = str(number)
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


# ---------------------------------------------------------------------------
# command line

def extra_arguments(parser):
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID, help="OAuth client id (default %s)" % DEMO_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEMO_CLIENT_SECRET, help="OAuth client secret (default %s)" % DEMO_CLIENT_SECRET)
    parser.add_argument("--redirect-uri", action="append", default=[],
                        help="registered redirect URI (repeatable); default: any http(s) loopback URI")
    parser.add_argument("--refresh-mode", choices=("rotating", "reusable"), default="rotating",
                        help="rotating: each refresh token is single-use (default); reusable: it stays valid")
    parser.add_argument("--rate-limit", type=int, default=600, help="requests per window per client and endpoint (default 600)")
    parser.add_argument("--rate-window", type=float, default=60, help="rate-limit window in seconds (default 60)")
    parser.add_argument("--retry-after", action="store_true", help="add a Retry-After header to 429 answers (off by default)")
    parser.add_argument("--page-size-cap", type=int, default=1000, help="largest $pagesize honoured (default 1000)")
    parser.add_argument("--no-order-module", action="store_true", help="orders answer 403/4002 NoAccessToModule")
    parser.add_argument("--startup-guide-incomplete", action="store_true", help="every API call answers 403/4003")
    parser.add_argument("--company-inactive", action="store_true", help="every API call answers 403/4004")
    parser.add_argument("--no-fiscal-year", action="store_true", help="no fiscal years: documents answer 400/3001")
    parser.add_argument("--with-shop-data", action="store_true",
                        help="pre-create the articles (Number = SKU) and customers of the Magento seed catalogue")
    parser.add_argument("--empty-401", action="store_true", help="answer 401 with an empty body instead of ErrorCode 4005")


def main(argv=None):
    return serve(EAccountingEmulator, argv, description="Visma eAccounting API v2 + identity server emulator",
                 extra_arguments=extra_arguments)


if __name__ == "__main__":
    sys.exit(main())
