"""Helpers for the orders-flow integration tests (test_orders*.py), on top of ferrytest.

Targeted orders are fixtures: a seeded order is read from the Magento
emulator's API, copied, changed (status, country, payment method, SKU,
amounts - keeping Magento's own totals consistent unless a test wants them
not to be) and posted back with POST /_emulator/fixtures under a new
entity_id/increment_id.  eAccounting is read through its admin state and,
for reference data, through its API with a token minted by the emulator.
"""

import copy
import datetime
import decimal
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402

D = decimal.Decimal
CENT = D("0.01")

EXTERNAL_REF = "BuyersOrderReference"


def increment_id(entity_id):
    """The emulator's increment ids: 1000 + entity_id, nine digits."""
    return "%09d" % (1000 + entity_id)


def money(value):
    """A Decimal as Magento prints it (22, 19.99)."""
    value = D(value).quantize(CENT, decimal.ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def dec(value):
    """A JSON number or string as a Decimal rounded to cents (None stays None)."""
    if value is None:
        return None
    return D(str(value)).quantize(CENT, decimal.ROUND_HALF_UP)


# ---- Magento ------------------------------------------------------------------------------

def m2_now(env):
    """The Magento emulator's clock as a datetime (UTC)."""
    text = env.m2.admin("GET", "state")["clock"]
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def m2_time(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def native_order(env, key):
    """One Magento order (native JSON) by increment id."""
    q = urllib.parse.quote("searchCriteria[filter_groups][0][filters][0][field]") + "=increment_id&" + \
        urllib.parse.quote("searchCriteria[filter_groups][0][filters][0][value]") + "=" + key
    status, doc = env.m2_api("GET", "/rest/V1/orders?" + q)
    if status != 200 or not doc.get("items"):
        raise AssertionError("order %s not in the Magento emulator: %s %s" % (key, status, doc))
    return doc["items"][0]


def _walk(node, fn):
    if isinstance(node, dict):
        fn(node)
        for v in node.values():
            _walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            _walk(v, fn)


def clone_order(template, entity_id, status="processing", state=None, updated_at=None):
    """A copy of a native order as a new order: new ids, the given status, nothing refunded or canceled."""
    o = copy.deepcopy(template)
    old = o["entity_id"]
    o["entity_id"] = entity_id
    o["increment_id"] = increment_id(entity_id)
    o["quote_id"] = 10000 + entity_id
    o["status"] = status
    o["state"] = state or {"pending": "new"}.get(status, status)
    for k in [k for k in o if k.startswith("hold_before")]:
        del o[k]
    if updated_at is not None:
        o["updated_at"] = updated_at
    o["status_histories"] = []

    def fix(node):
        for k in ("order_id", "parent_id"):
            if node.get(k) == old:
                node[k] = entity_id
        for k in list(node):
            if ("refunded" in k or "canceled" in k) and isinstance(node[k], (int, float)):
                node[k] = 0
        if "item_id" in node and isinstance(node["item_id"], int) and node["item_id"] // 100 == old:
            node["item_id"] = entity_id * 100 + node["item_id"] % 100
        if isinstance(node.get("parent_item_id"), int) and node["parent_item_id"] // 100 == old:
            node["parent_item_id"] = entity_id * 100 + node["parent_item_id"] % 100
    _walk(o, fix)
    return o


def addresses(order):
    """The billing address and the shipping address (when the order has one)."""
    out = [order["billing_address"]]
    for sa in (order.get("extension_attributes") or {}).get("shipping_assignments") or []:
        a = (sa.get("shipping") or {}).get("address")
        if a:
            out.append(a)
    return out


def set_email(order, email, guest=None):
    """A new buyer e-mail (and optionally a guest buyer: no customer id, group 0)."""
    order["customer_email"] = email
    for a in addresses(order):
        a["email"] = email
        if guest:
            a.pop("customer_id", None)
            a.pop("customer_address_id", None)
    if guest:
        order.pop("customer_id", None)
        order["customer_is_guest"] = 1
        order["customer_group_id"] = 0


def set_country(order, country):
    for a in addresses(order):
        a["country_id"] = country


def set_company(order, company, vat_id=None):
    for a in addresses(order):
        a["company"] = company
        if vat_id:
            a["vat_id"] = vat_id
        else:
            a.pop("vat_id", None)
    if not vat_id:
        order.pop("customer_taxvat", None)


def set_sku(order, old, new, name=None):
    """Rename one SKU on every item row (and their copies under shipping_assignments)."""
    def fix(node):
        if node.get("sku") == old and "item_id" in node:
            node["sku"] = new
            if name:
                node["name"] = name
    _walk(order, fix)


def add_cent(order, amount="0.01"):
    """Magento's cross-row tax rounding: one cent more tax on the first taxed row and on the order
    (grand_total = subtotal + shipping + tax + discount still holds); eAccounting, which computes
    VAT per document, ends one cent lower."""
    amount = D(amount)
    items = [i for i in order["items"] if dec(i.get("tax_amount"))]
    item = items[0] if items else order["items"][0]
    rate = D(str(order.get("base_to_order_rate") or 1))
    for k in ("tax_amount", "row_total_incl_tax"):
        if k in item:
            item[k] = money(dec(item[k]) + amount)
    for k in ("tax_amount", "grand_total", "total_paid", "total_invoiced", "tax_invoiced"):
        if order.get(k) is not None and (k in ("tax_amount", "grand_total") or dec(order[k])):
            order[k] = money(dec(order[k]) + amount)
    for k in ("base_tax_amount", "base_grand_total", "base_total_paid", "base_total_invoiced"):
        if order.get(k) is not None and (k in ("base_tax_amount", "base_grand_total") or dec(order[k])):
            order[k] = money(dec(order[k]) + (amount / rate).quantize(CENT))
    taxes = (order.get("extension_attributes") or {}).get("applied_taxes") or []
    if taxes:
        taxes[0]["amount"] = money(dec(taxes[0]["amount"]) + amount)
        taxes[0]["base_amount"] = money(dec(taxes[0]["base_amount"]) + (amount / rate).quantize(CENT))
    pay = order.get("payment") or {}
    if pay.get("amount_ordered") is not None:
        pay["amount_ordered"] = money(dec(pay["amount_ordered"]) + amount)
    if dec(pay.get("amount_paid")):
        pay["amount_paid"] = money(dec(pay["amount_paid"]) + amount)


def check_totals(order):
    """Magento's own sums hold: grand_total = subtotal + shipping + tax + compensation + discount."""
    total = (dec(order["subtotal"]) + dec(order.get("shipping_amount") or 0) + dec(order["tax_amount"]) +
             dec(order.get("discount_tax_compensation_amount") or 0) + dec(order.get("discount_amount") or 0))
    if total != dec(order["grand_total"]):
        raise AssertionError("fixture %s: grand_total %s but the parts add up to %s" % (
            order["increment_id"], order["grand_total"], total))
    return total


def post_orders(env, *orders):
    for o in orders:
        check_totals(o)
    env.m2.admin("POST", "fixtures", {"orders": list(orders)})


def move_status(env, entity_ids, status="processing"):
    """Move orders to another status the way an admin would: a comment with a status (the emulator
    is switched to accept any status through comments, as Magento <= 2.4.6 did)."""
    env.m2.admin("POST", "config", {"comment_status": "any"})
    for eid in entity_ids:
        st, _ = env.m2_api("POST", "/rest/V1/orders/%d/comments" % eid,
                           {"statusHistory": {"comment": "moved to %s by the test" % status,
                                              "is_customer_notified": 0, "is_visible_on_front": 0,
                                              "parent_id": eid, "status": status}})
        if st != 200:
            raise AssertionError("could not move order %d to %s: %s" % (eid, status, st))


# ---- eAccounting -----------------------------------------------------------------------------

def ea_api(env, method, path, body=None):
    """An eAccounting API call with a token the emulator mints (not ferry's)."""
    if not hasattr(env, "_ea_token"):
        tok = env.ea.admin("POST", "token", {"scope": "ea:api ea:sales ea:accounting"})
        env._ea_token = tok["access_token"]
    return env.ea.call(method, "/v2" + path, body, {"Authorization": "Bearer " + env._ea_token})


def ea_list(env, path):
    status, doc = ea_api(env, "GET", path + ("&" if "?" in path else "?") + "$pagesize=1000")
    if status != 200:
        raise AssertionError("GET %s: %s %s" % (path, status, doc))
    return doc["Data"]


def ea_customers(env):
    cs = env.ea.state()["customers"]
    return list(cs.values()) if isinstance(cs, dict) else list(cs)


def ea_articles(env):
    a = env.ea.state()["articles"]
    return list(a.values()) if isinstance(a, dict) else list(a)


def ea_customer(env, customer_id):
    for c in ea_customers(env):
        if c["Id"] == customer_id:
            return c
    raise AssertionError("no eAccounting customer %s" % customer_id)


def ea_add_article(env, number, name, vat_percent=25):
    """An article made in eAccounting by hand (goods at the given Swedish rate)."""
    coding = [c for c in ea_list(env, "/articleaccountcodings")
              if c["Type"] == "Goods" and D(str(c["VatRatePercent"])) * 100 == vat_percent][0]
    unit = [u for u in ea_list(env, "/units") if u["Code"] == "ST"][0]
    status, doc = ea_api(env, "POST", "/articles", {"Number": number, "Name": name, "CodingId": coding["Id"],
                                                    "UnitId": unit["Id"], "IsActive": True, "UsesMoss": True})
    if status != 201:
        raise AssertionError("could not create article %s: %s %s" % (number, status, doc))
    return doc


def ea_add_customer(env, number, name, email=None, private=False):
    status, doc = ea_api(env, "POST", "/customers", {
        "CustomerNumber": number, "Name": name, "EmailAddress": email, "IsPrivatePerson": private,
        "IsActive": True, "InvoiceAddress1": "Lagergatan 1", "InvoiceCity": "Stockholm",
        "InvoicePostalCode": "111 22", "InvoiceCountryCode": "SE", "CurrencyCode": "SEK",
        "TermsOfPaymentId": terms_id(env, "30")})
    if status != 201:
        raise AssertionError("could not create customer %s: %s %s" % (number, status, doc))
    return doc


def terms_id(env, name):
    """The id of eAccounting terms of payment by (Swedish) name or number of days."""
    for t in ea_list(env, "/termsofpayments"):
        if t["Name"] == name or (name.isdigit() and t["NumberOfDays"] == int(name) and t["TermsOfPaymentTypeId"] == 0):
            return t["Id"]
    raise AssertionError("no terms of payment %s" % name)


def document_total(doc):
    """(total incl. VAT before cash rounding, VAT, currency) of an eAccounting document of any type."""
    t = doc["_type"]
    if t == "order":
        total = dec(doc["Amount"]) + dec(doc["VatAmount"])
        return total, dec(doc["VatAmount"]), doc.get("CurrencyCode")
    if t == "invoice_draft":
        return (dec(doc["TotalAmount"]) - dec(doc["TotalRoundings"]), dec(doc["TotalVatAmount"]),
                doc.get("InvoiceCurrencyCode"))
    total = dec(doc["TotalAmountInvoiceCurrency"]) - dec(doc.get("TotalRoundings") or 0)
    return total, dec(doc["TotalVatAmountInvoiceCurrency"]), doc.get("CurrencyCode")


def article_rows(doc):
    return [r for r in doc["Rows"] if not r.get("IsTextRow") and r.get("ArticleId")]


# ---- ferry ------------------------------------------------------------------------------------

def add_flow(env, name="orders", settings=None, maps=None, mapping=None, defaults=True, replace=True):
    """An orders flow from a flow document (optionally with its own mapping file)."""
    s = dict(ferrytest.DEFAULT_SETTINGS) if defaults else {}
    s.update(settings or {})
    m = json.loads(json.dumps(ferrytest.DEFAULT_MAPS)) if defaults else {}
    for k, v in (maps or {}).items():
        m.setdefault(k, {}).update(v)
    doc = {"name": name, "kind": "orders", "source": {"connection": "shop", "entity": "order"},
           "target": {"connection": "books", "entity": "document"},
           "settings": {k: v for k, v in s.items() if v is not None}, "maps": m}
    if mapping is not None:
        doc["mapping"] = mapping
    path = os.path.join(env.dir, name + ".flow.json")
    with open(path, "w") as fh:
        json.dump(doc, fh)
    args = ["-q", "flow", "import", path] + (["--replace"] if replace else [])
    env.ferry(*args)


def idmap(env, key, flow="orders"):
    rows = env.sql("SELECT i.state, i.target_id, i.target_ref, i.reason, i.pending FROM id_map i "
                   "JOIN flows f ON f.id = i.flow_id WHERE f.name=? AND i.source_key=?", flow, key)
    if not rows:
        return None
    return dict(zip(("state", "target_id", "target_ref", "reason", "pending"), rows[0]))


def idmap_count(env, flow=None):
    if flow is None:
        return env.sql("SELECT count(*) FROM id_map")[0][0]
    return env.sql("SELECT count(*) FROM id_map i JOIN flows f ON f.id=i.flow_id WHERE f.name=?", flow)[0][0]


def dead_letters(env, flow=None, status="open"):
    q = ("SELECT d.id, d.source_key, d.stage, d.error_class, d.message, d.status FROM dead_letters d "
         "JOIN flows f ON f.id=d.flow_id WHERE 1=1")
    args = []
    if flow is not None:
        q += " AND f.name=?"
        args.append(flow)
    if status is not None:
        q += " AND d.status=?"
        args.append(status)
    return [dict(zip(("id", "key", "stage", "error_class", "message", "status"), r)) for r in env.sql(q, *args)]


def alerts(env, kind=None):
    rows = env.sql("SELECT kind, message FROM alerts" + (" WHERE kind=?" if kind else ""), *([kind] if kind else []))
    return [dict(kind=k, message=m) for k, m in rows]


def run(env, *extra, flow="orders"):
    """ferry --json run FLOW; (exit code, summary, CompletedProcess)."""
    return env.run(*extra, flow=flow)
