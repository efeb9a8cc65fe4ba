#!/usr/bin/env python3
"""naive_client.py - the reference a per-order integration is measured against.

NOT part of ferry.  This is what a straightforward "for each new order"
integration between Magento 2 and Visma eAccounting does, written the way
such scripts usually are, so that bench/run can count its API calls on the
same data as ferry's:

  once per pass
    Magento      POST /V1/integration/admin/token          (admin login)
    eAccounting  GET  /connect/authorize, POST /connect/token (OAuth2 code flow)
                 GET  /v2/termsofpayments                   (terms for new customers)
  orders         GET  /V1/orders?...entity_id > last...     (pages of --page-size)
  per order
    1. does it exist?   GET  /v2/customerinvoicedrafts?$filter=BuyersOrderReference eq '<increment_id>'
                        (found: nothing more is done for the order)
    2. the customer     GET  /v2/customers?$filter=EmailAddress eq '<e-mail>'
    3. create/update    POST /v2/customers            when not found
                        PUT  /v2/customers/{id}       when found (an upsert: name and address
                                                      from the order, whether or not they changed)
    4. each article     GET  /v2/articles?$filter=Number eq '<sku>'   per top-level line and
                                                      for the shipping article
                        POST /v2/articles             when missing
    5. the document     POST /v2/customerinvoicedrafts
    6. comment back     POST /V1/orders/{id}/comments (what ferry also does)

No caching between orders, no prefetch, no totals check or rounding row, no
exactly-once bookkeeping: every order pays the same lookups.  Python
standard library only.  Prints one JSON object with what it did.
"""

import argparse
import base64
import http.client
import json
import sys
import urllib.parse


class Api:
    """Keep-alive JSON over HTTP to one emulator."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.conn = None
        self.headers = {}
        self.calls = 0

    def request(self, method, path, body=None, headers=None, form=None, raw=False):
        hdrs = dict(self.headers)
        hdrs.update(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, self.prefix + path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                text = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        self.calls += 1
        if raw:
            return resp.status, resp.getheader("Location"), text
        payload = json.loads(text) if text else None
        if resp.status >= 400:
            raise ApiError(method, path, resp.status, payload)
        return payload


class ApiError(Exception):
    def __init__(self, method, path, status, payload):
        super().__init__("%s %s -> %d: %s" % (method, path, status, json.dumps(payload)[:300]))
        self.status = status


def odata_quote(s):
    return "'" + str(s).replace("'", "''") + "'"


def magento_login(m2, user, password):
    token = m2.request("POST", "/rest/V1/integration/admin/token", {"username": user, "password": password})
    m2.headers["Authorization"] = "Bearer " + token


def eaccounting_login(ea, client_id, client_secret):
    redirect = "http://localhost:53682/callback"
    q = urllib.parse.urlencode({"client_id": client_id, "redirect_uri": redirect, "response_type": "code",
                                "scope": "ea:api offline_access ea:sales ea:accounting", "state": "naive"})
    status, location, _ = ea.request("GET", "/connect/authorize?" + q, raw=True)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    basic = base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
    tok = ea.request("POST", "/connect/token", headers={"Authorization": "Basic " + basic},
                     form={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect})
    ea.headers["Authorization"] = "Bearer " + tok["access_token"]


def list_data(ea, resource, filt):
    q = urllib.parse.urlencode({"$filter": filt}, quote_via=urllib.parse.quote)
    return ea.request("GET", "/v2/%s?%s" % (resource, q))["Data"]


def order_pages(m2, after_id, page_size):
    """Orders with entity_id > after_id, oldest first, keyset by entity_id."""
    while True:
        q = {
            "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
            "searchCriteria[filter_groups][0][filters][0][value]": str(after_id),
            "searchCriteria[filter_groups][0][filters][0][condition_type]": "gt",
            "searchCriteria[sortOrders][0][field]": "entity_id",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[pageSize]": str(page_size),
            "searchCriteria[currentPage]": "1",
        }
        page = m2.request("GET", "/rest/V1/orders?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote))
        items = page.get("items") or []
        if not items:
            return
        yield items
        after_id = items[-1]["entity_id"]
        if len(items) < page_size:
            return


def customer_body(order, terms_id, existing=None):
    a = order.get("billing_address") or {}
    company = a.get("company")
    private = not company
    name = company or ("%s %s" % (a.get("firstname", ""), a.get("lastname", ""))).strip()
    body = dict(existing or {})
    for k in ("Id", "ChangedUtc", "PayToAccountId", "LastInvoiceDate", "MessageThreads", "Notes",
              "IsFutureInvoiceDateAllowed", "UnpaidInvoicesAmount", "CustomerLabels"):
        body.pop(k, None)
    street = a.get("street") or [""]
    body.update({
        "Name": name[:50],
        "IsPrivatePerson": private,
        "IsActive": True,
        "EmailAddress": order.get("customer_email"),
        "InvoiceAddress1": street[0],
        "InvoicePostalCode": a.get("postcode") or "-",
        "InvoiceCity": a.get("city") or "-",
        "InvoiceCountryCode": a.get("country_id"),
        "Telephone": a.get("telephone"),
    })
    if existing is None:
        body["CurrencyCode"] = order.get("order_currency_code")
        body["TermsOfPaymentId"] = terms_id
    if not private and a.get("vat_id"):
        body["VatNumber"] = a["vat_id"]
    return {k: v for k, v in body.items() if v is not None}


def article_body(number, name, codings, units):
    return {"Number": number, "Name": (name or number)[:50], "IsActive": True,
            "CodingId": codings, "UnitId": units}


def process(args, m2, ea, order, refs, stats):
    ref = order["increment_id"]
    # 1. already sent?
    if list_data(ea, "customerinvoicedrafts", "BuyersOrderReference eq " + odata_quote(ref)):
        stats["already_there"] += 1
        return
    # 2-3. the customer: look up by e-mail, then create or update
    email = order.get("customer_email")
    found = list_data(ea, "customers", "EmailAddress eq " + odata_quote(email))
    if found:
        cust = found[0]
        body = customer_body(order, refs["terms"], existing=cust)
        ea.request("PUT", "/v2/customers/" + cust["Id"], body)
        stats["customers_updated"] += 1
    else:
        cust = ea.request("POST", "/v2/customers", customer_body(order, refs["terms"]))
        stats["customers_created"] += 1
    private = cust.get("IsPrivatePerson", True)
    # 4. every article of the order
    rows = []
    lines = [it for it in order.get("items", []) if not it.get("parent_item_id")]
    for it in lines:
        number = it["sku"][:40]  # eAccounting article numbers are at most 40 characters
        articles = list_data(ea, "articles", "Number eq " + odata_quote(number))
        if articles:
            art = articles[0]
        else:
            art = ea.request("POST", "/v2/articles", article_body(number, it.get("name"), refs["coding"],
                                                                  refs["unit"]))
            stats["articles_created"] += 1
        price = it.get("price_incl_tax") if private else it.get("price")
        row = {"ArticleId": art["Id"], "Quantity": it.get("qty_ordered", 1), "UnitPrice": price or 0,
               "Text": (it.get("name") or it["sku"])[:2000], "IsTextRow": False,
               "ReversedConstructionServicesVatFree": False}
        total = it.get("row_total_incl_tax") if private else it.get("row_total")
        if it.get("discount_amount") and total:
            row["DiscountPercentage"] = round(min(1.0, float(it["discount_amount"]) / float(total)), 4)
        rows.append(row)
    shipping = order.get("shipping_incl_tax") if private else order.get("shipping_amount")
    if shipping:
        articles = list_data(ea, "articles", "Number eq " + odata_quote(args.shipping_article))
        if articles:
            art = articles[0]
        else:
            art = ea.request("POST", "/v2/articles", article_body(args.shipping_article, "Shipping",
                                                                  refs["coding"], refs["unit"]))
            stats["articles_created"] += 1
        rows.append({"ArticleId": art["Id"], "Quantity": 1, "UnitPrice": shipping, "Text": "Shipping",
                     "IsTextRow": False, "ReversedConstructionServicesVatFree": False})
    if not rows:
        stats["no_rows"] += 1
        return
    for n, row in enumerate(rows, 1):
        row["LineNumber"] = n
    # 5. the document
    ea.request("POST", "/v2/customerinvoicedrafts", {
        "CustomerId": cust["Id"], "EuThirdParty": False, "RotReducedInvoicingType": 0,
        "InvoiceDate": order["created_at"][:10], "BuyersOrderReference": ref,
        "OurReference": "Webshop order " + ref, "Rows": rows})
    stats["created"] += 1
    # 6. comment back to the shop
    m2.request("POST", "/rest/V1/orders/%d/comments" % order["entity_id"], {"statusHistory": {
        "comment": "sent to eAccounting", "is_customer_notified": 0, "is_visible_on_front": 0,
        "parent_id": order["entity_id"]}})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--magento", required=True, help="Magento base URL (emulator)")
    ap.add_argument("--eaccounting", required=True, help="eAccounting base URL (emulator, without /v2)")
    ap.add_argument("--after-id", type=int, default=0, help="process orders with entity_id above this")
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--shipping-article", default="FRAKT")
    ap.add_argument("--admin-user", default="admin")
    ap.add_argument("--admin-password", default="admin123")
    ap.add_argument("--client-id", default="ferry-demo")
    ap.add_argument("--client-secret", default="ferry-demo-secret")
    args = ap.parse_args()

    m2, ea = Api(args.magento), Api(args.eaccounting)
    magento_login(m2, args.admin_user, args.admin_password)
    eaccounting_login(ea, args.client_id, args.client_secret)
    terms = ea.request("GET", "/v2/termsofpayments")["Data"]
    codings = list_data(ea, "articleaccountcodings", "VatRate eq '25%'") or [{}]
    units = list_data(ea, "units", "Code eq 'st'") or [{}]
    refs = {"terms": terms[0]["Id"], "coding": codings[0].get("Id"), "unit": units[0].get("Id")}
    stats = dict(orders=0, created=0, already_there=0, customers_created=0, customers_updated=0,
                 articles_created=0, no_rows=0, errors=0, error_kinds={}, last_id=args.after_id, first_error=None)
    for page in order_pages(m2, args.after_id, args.page_size):
        for order in page:
            stats["orders"] += 1
            try:
                process(args, m2, ea, order, refs, stats)
            except ApiError as e:
                stats["errors"] += 1
                key = "%s %d" % (e.args[0].split(" -> ")[0].split("?")[0], e.status)
                stats["error_kinds"][key] = stats["error_kinds"].get(key, 0) + 1
                stats["first_error"] = stats["first_error"] or str(e)
            stats["last_id"] = order["entity_id"]
    stats["magento_calls"], stats["eaccounting_calls"] = m2.calls, ea.calls
    json.dump(stats, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
