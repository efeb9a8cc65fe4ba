"""Helpers for the record flows' integration tests (test_records*.py: customers, products both ways,
stock), on top of ferrytest and orderkit.

Flows are added the way a user adds them, with `ferry flow add NAME --kind KIND --source CONN --target CONN`
and no entity names: ferry picks the entities (and so the default mapping) from the kind's routes.
Both sides are changed through their own APIs (Magento as an admin, eAccounting with a token the
emulator mints), never through ferry; what ferry cost is read from the emulators' request counters.
"""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402,F401
import orderkit  # noqa: E402

D = orderkit.D


def add_flow(env, name, kind, source="shop", target="books", settings=None, maps=None):
    """`ferry flow add` with --set NAME=JSON and --map MAP:FROM=TO."""
    args = ["-q", "flow", "add", name, "--kind", kind, "--source", source, "--target", target]
    for k, v in (settings or {}).items():
        args += ["--set", "%s=%s" % (k, v if isinstance(v, str) else json.dumps(v))]
    for m, entries in (maps or {}).items():
        for frm, to in entries.items():
            args += ["--map", "%s:%s=%s" % (m, frm, to)]
    env.ferry(*args)


def set_flow(env, name, **settings):
    """`ferry flow set NAME K=V...` (None unsets a setting)."""
    args = ["-q", "flow", "set", name]
    for k, v in settings.items():
        args.append("%s=%s" % (k, "null" if v is None else v if isinstance(v, str) else json.dumps(v)))
    env.ferry(*args)


def flow_doc(env, name):
    return json.loads(env.ferry("flow", "export", name).stdout)


def run(env, flow):
    """Reset both emulators' request counters, run the flow; (code, summary, process, ea calls, m2 calls)."""
    env.ea.admin("POST", "requests/reset")
    env.m2.admin("POST", "requests/reset")
    code, summary, p = env.run(flow=flow)
    if summary is None:
        raise AssertionError("ferry run %s printed no summary:\n%s%s" % (flow, p.stdout, p.stderr))
    return code, summary, p, env.ea.requests()["by_route"], env.m2.requests()["by_route"]


def writes(by_route):
    """The write requests of a request count ({route: n} for POST, PUT, DELETE)."""
    return {r: n for r, n in by_route.items() if r.split(" ")[0] in ("POST", "PUT", "DELETE")}


def idmap(env, flow):
    """{source key: {state, target_id, target_ref, reason}} of a flow."""
    rows = env.sql("SELECT i.source_key, i.state, i.target_id, i.target_ref, i.reason FROM id_map i "
                   "JOIN flows f ON f.id=i.flow_id WHERE f.name=?", flow)
    return {r[0]: dict(zip(("state", "target_id", "target_ref", "reason"), r[1:])) for r in rows}


# ---- Magento ------------------------------------------------------------------------------------

def m2_customers(env):
    status, doc = env.m2_api("GET", "/rest/V1/customers/search?searchCriteria[pageSize]=1000")
    if status != 200:
        raise AssertionError("customer search: %s %s" % (status, doc))
    return {c["email"].lower(): c for c in doc["items"]}


def m2_save_customer(env, customer):
    """PUT /V1/customers/{id}: Magento's full save (updated_at moves)."""
    status, doc = env.m2_api("PUT", "/rest/V1/customers/%d" % customer["id"], {"customer": customer})
    if status != 200:
        raise AssertionError("could not save customer %s: %s %s" % (customer["id"], status, doc))
    return doc


def m2_create_customer(env, email, first, last, country, city, postcode, street, company=None, taxvat=None,
                       vat_id=None):
    address = {"firstname": first, "lastname": last, "country_id": country, "city": city, "postcode": postcode,
               "street": [street], "telephone": "+49 30 1234567", "default_billing": True, "default_shipping": True}
    if company:
        address["company"] = company
    if vat_id:
        address["vat_id"] = vat_id
    body = {"email": email, "firstname": first, "lastname": last, "addresses": [address]}
    if taxvat:
        body["taxvat"] = taxvat
    status, doc = env.m2.call("POST", "/rest/V1/customers", {"customer": body})
    if status != 200:
        raise AssertionError("could not create customer %s: %s %s" % (email, status, doc))
    return doc


def m2_product(env, sku):
    status, doc = env.m2_api("GET", "/rest/all/V1/products/" + urllib.parse.quote(sku, safe=""))
    if status != 200:
        raise AssertionError("GET product %s: %s %s" % (sku, status, doc))
    return doc


def m2_save_product(env, sku, **fields):
    """PUT /rest/all/V1/products/{sku} with some fields (custom attributes as custom_attributes=[...])."""
    body = dict(fields, sku=sku)
    status, doc = env.m2_api("PUT", "/rest/all/V1/products/" + urllib.parse.quote(sku, safe=""), {"product": body})
    if status != 200:
        raise AssertionError("could not save product %s: %s %s" % (sku, status, doc))
    return doc


def custom_attribute(product, code):
    for ca in product.get("custom_attributes") or []:
        if ca["attribute_code"] == code:
            return ca["value"]
    return None


def m2_salable(env):
    """{sku: quantity on the default source + reservations (negative)} as the Magento emulator keeps them."""
    inventory = env.m2.state()["inventory"]
    reserved = inventory.get("reservations") or {}
    out = {}
    for item in inventory["source_items"]:
        if item["source_code"] == "default":
            out[item["sku"]] = D(str(item["quantity"])) + D(str(reserved.get(item["sku"].casefold(), 0)))
    return out


# ---- eAccounting ---------------------------------------------------------------------------------

def ea_customers_by_email(env):
    return {c["EmailAddress"].lower(): c for c in orderkit.ea_customers(env) if c.get("EmailAddress")}


def ea_articles_by_number(env):
    return {a["Number"]: a for a in orderkit.ea_articles(env)}


def ea_codings(env):
    """{coding id: (VAT percent as Decimal, type)}."""
    return {c["Id"]: (D(str(c["VatRatePercent"])) * 100, c["Type"])
            for c in orderkit.ea_list(env, "/articleaccountcodings")}


def ea_put_article(env, article, **changes):
    body = dict(article, **changes)
    for k in ("CodingName", "UnitName", "UnitAbbreviation", "IsServiceArticle", "ShowStockInformation",
              "StockBalanceAvailable", "StockValue", "NetPriceWithDiscount", "StockBalanceReserved", "ChangedUtc",
              "CreatedUtc"):
        body.pop(k, None)
    status, doc = orderkit.ea_api(env, "PUT", "/articles/" + article["Id"], body)
    if status != 200:
        raise AssertionError("could not update article %s: %s %s" % (article["Number"], status, doc))
    return doc


def ea_add_article(env, number, name, vat_percent=25, net_price=None, active=True, ean=None):
    """An article made in eAccounting by hand (goods at the given Swedish rate)."""
    coding = [c for c in orderkit.ea_list(env, "/articleaccountcodings")
              if c["Type"] == "Goods" and D(str(c["VatRatePercent"])) * 100 == vat_percent][0]
    unit = [u for u in orderkit.ea_list(env, "/units") if u["Code"] == "ST"][0]
    body = {"Number": number, "Name": name, "CodingId": coding["Id"], "UnitId": unit["Id"], "IsActive": active,
            "UsesMoss": True}
    if net_price is not None:
        body["NetPrice"] = float(net_price)
    if ean:
        body["Barcodes"] = [{"Barcode": ean, "BarcodeType": 0}]
    status, doc = orderkit.ea_api(env, "POST", "/articles", body)
    if status != 201:
        raise AssertionError("could not create article %s: %s %s" % (number, status, doc))
    return doc
