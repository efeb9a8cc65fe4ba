"""Magento 2 orders for the emulator: the OrderInterface JSON shape and an
order store that stays fast with 100,000 orders.

Shape (shared/spec/magento2/order_get_response.json is the template):
configurable = parent row (type configurable, sku of the chosen child, the
price) + child row (type simple, price 0, no *_incl_tax, parent_item_id and a
parent_item copy); dynamic bundle = parent row whose amounts are the sum of
its children + child rows with their own prices and tax; fixed bundle =
parent row with the price and tax + child rows at 0; grouped = standalone
rows of type grouped; shipping address and method only under
extension_attributes.shipping_assignments; nulls omitted except
payment.account_status and payment.cc_last4; integral amounts without ".0".

Store: orders generated from the seed are not kept as JSON.  Every order has a
small "head" (ids, dates, status, customer, currency) kept in sorted indexes
(updated_at, created_at, entity_id, increment_id); the JSON of an order is
built when it is asked for (and cached); an order that changes (comment,
cancel, fixture...) is kept as JSON from then on.  A search whose filters and
sort orders only use head fields never builds an order it does not return.

Searches sorted by (updated_at, entity_id) ascending - the keyset page query
of an incremental reader, `(updated_at >= T) AND (updated_at > T OR entity_id
> ID)` - are answered from the sorted index without testing every order:
O(log n + page) at 100,000 orders instead of O(n); see OrderStore.search.
"""

import bisect
import collections
import copy
import hashlib
import heapq
import itertools
import os

import seeddata
from magento2_errors import MagentoError, ORDER_NOT_FOUND
from magento2_search import (DATETIME_RX, filter_matches, matches, mysql_number, norm_datetime, page_bounds,
                             sort_items, type_error)

money = seeddata.money
HEAD_FIELDS = ("entity_id", "increment_id", "created_at", "updated_at", "status", "state", "customer_id",
               "customer_email", "customer_firstname", "customer_lastname", "customer_is_guest",
               "customer_group_id", "order_currency_code", "base_currency_code", "store_id")
STORE_NAME = "Main Website\nMain Website Store\n"
# OrderInterface getters in declaration order (= the Swagger property order),
# which is the order Magento prints them in
ORDER_KEYS = tuple("""
adjustment_negative adjustment_positive applied_rule_ids base_adjustment_negative base_adjustment_positive
base_currency_code base_discount_amount base_discount_canceled base_discount_invoiced base_discount_refunded
base_grand_total base_discount_tax_compensation_amount base_discount_tax_compensation_invoiced
base_discount_tax_compensation_refunded base_shipping_amount base_shipping_canceled
base_shipping_discount_amount base_shipping_discount_tax_compensation_amnt base_shipping_incl_tax
base_shipping_invoiced base_shipping_refunded base_shipping_tax_amount base_shipping_tax_refunded
base_subtotal base_subtotal_canceled base_subtotal_incl_tax base_subtotal_invoiced base_subtotal_refunded
base_tax_amount base_tax_canceled base_tax_invoiced base_tax_refunded base_total_canceled base_total_due
base_total_invoiced base_total_invoiced_cost base_total_offline_refunded base_total_online_refunded
base_total_paid base_total_qty_ordered base_total_refunded base_to_global_rate base_to_order_rate
billing_address_id can_ship_partially can_ship_partially_item coupon_code created_at customer_dob
customer_email customer_firstname customer_gender customer_group_id customer_id customer_is_guest
customer_lastname customer_middlename customer_note customer_note_notify customer_prefix customer_suffix
customer_taxvat discount_amount discount_canceled discount_description discount_invoiced discount_refunded
edit_increment email_sent entity_id ext_customer_id ext_order_id forced_shipment_with_invoice
global_currency_code grand_total discount_tax_compensation_amount discount_tax_compensation_invoiced
discount_tax_compensation_refunded hold_before_state hold_before_status increment_id is_virtual
order_currency_code original_increment_id payment_authorization_amount payment_auth_expiration protect_code
quote_address_id quote_id relation_child_id relation_child_real_id relation_parent_id relation_parent_real_id
remote_ip shipping_amount shipping_canceled shipping_description shipping_discount_amount
shipping_discount_tax_compensation_amount shipping_incl_tax shipping_invoiced shipping_refunded
shipping_tax_amount shipping_tax_refunded state status store_currency_code store_id store_name
store_to_base_rate store_to_order_rate subtotal subtotal_canceled subtotal_incl_tax subtotal_invoiced
subtotal_refunded tax_amount tax_canceled tax_invoiced tax_refunded total_canceled total_due total_invoiced
total_item_count total_offline_refunded total_online_refunded total_paid total_qty_ordered total_refunded
updated_at weight x_forwarded_for items billing_address payment status_histories extension_attributes
""".split())
_ORDER_RANK = {k: i for i, k in enumerate(ORDER_KEYS)}
# states that still hold a stock reservation (placed, not shipped, not canceled)
RESERVING_STATES = ("new", "pending_payment", "processing", "holded", "payment_review")
STATUSES_OF_STATE = {
    "new": ("pending",),
    "pending_payment": ("pending_payment",),
    "processing": ("processing", "fraud"),
    "holded": ("holded",),
    "complete": ("complete",),
    "closed": ("closed",),
    "canceled": ("canceled",),
    "payment_review": ("payment_review", "fraud"),
}
CACHE_SIZE = 4096
# conditions a sorted index answers as one range (entity_id, and dates stored as "YYYY-MM-DD hh:mm:ss")
RANGE_CONDITIONS = ("eq", "gt", "gteq", "moreq", "from", "lt", "lteq", "to")
# head fields with few distinct values: on first use, the (updated_at, entity_id) keys of each value
VALUE_INDEXED = ("status", "state", "store_id", "customer_group_id", "customer_is_guest",
                 "order_currency_code", "base_currency_code")
# EMULATOR_SELFCHECK=1: every search the index answers is also answered by testing every order, and
# a difference is an error (500).  The emulator tests run with it.
SELFCHECK = os.environ.get("EMULATOR_SELFCHECK") == "1"


# ---- rendering a seeddata order as Magento JSON ----------------------------------------

def _item_ids(entity_id, k):
    return entity_id * 100 + k + 1, entity_id * 100 + 51 + k


def _render_row(order, k, row, ids_of, bundle_ids):
    cur = order["order_currency_code"]
    base = seeddata.BASE_CURRENCY
    a, b = row["amounts"][cur], row["amounts"][base]
    item_id, quote_item_id = _item_ids(order["entity_id"], k)
    ids_of[k] = item_id
    parent = order["rows"][row["parent"]] if row["parent"] is not None else None
    config_child = parent is not None and parent["product_type"] == "configurable"
    bundle_parent = row["product_type"] == "bundle"
    discounted = a.discount_amount > 0 or (order["discount"] is not None and row["parent"] is None)
    invoiced, shipped = order["invoiced"], order["shipped"] and not row["is_virtual"]
    qty = row["qty"]
    item = {"amount_refunded": money(a.row_total) if order["refunded"] else 0}
    if discounted and order["discount"]:
        item["applied_rule_ids"] = str(order["discount"]["rule_id"])
    item.update({
        "base_amount_refunded": money(b.row_total) if order["refunded"] else 0,
        "base_discount_amount": money(b.discount_amount),
        "base_discount_invoiced": money(b.discount_amount) if invoiced else 0,
    })
    if not (config_child or bundle_parent):
        item["base_discount_tax_compensation_amount"] = money(b.discount_tax_compensation_amount)
    if not config_child:
        item["base_original_price"] = money(b.original_price)
    item["base_price"] = money(b.price)
    if not config_child:
        item["base_price_incl_tax"] = money(b.price_incl_tax)
    item["base_row_invoiced"] = money(b.row_total) if invoiced else 0
    item["base_row_total"] = money(b.row_total)
    if not config_child:
        item["base_row_total_incl_tax"] = money(b.row_total_incl_tax)
    item.update({
        "base_tax_amount": money(b.tax_amount),
        "base_tax_invoiced": money(b.tax_amount) if invoiced else 0,
        "created_at": order["created_at"],
        "discount_amount": money(a.discount_amount),
        "discount_invoiced": money(a.discount_amount) if invoiced else 0,
        "discount_percent": order["discount"]["percent"] if (order["discount"] and a.discount_amount > 0) else 0,
        "free_shipping": 0,
    })
    if not (config_child or bundle_parent):
        item["discount_tax_compensation_amount"] = money(a.discount_tax_compensation_amount)
    item.update({
        "is_qty_decimal": 0,
        "is_virtual": row["is_virtual"],
        "item_id": item_id,
        "name": row["name"],
        "no_discount": 0,
        "order_id": order["entity_id"],
        "original_price": money(a.original_price),
    })
    if parent is not None:
        item["parent_item_id"] = ids_of[row["parent"]]
    item["price"] = money(a.price)
    if not config_child:
        item["price_incl_tax"] = money(a.price_incl_tax)
    item.update({
        "product_id": row["product_id"],
        "product_type": row["product_type"],
        "qty_canceled": qty if order["canceled"] else 0,
        "qty_invoiced": qty if invoiced else 0,
        "qty_ordered": qty,
        "qty_refunded": qty if order["refunded"] else 0,
        "qty_shipped": qty if shipped else 0,
        "quote_item_id": quote_item_id,
        "row_invoiced": money(a.row_total) if invoiced else 0,
        "row_total": money(a.row_total),
    })
    if not config_child:
        item["row_total_incl_tax"] = money(a.row_total_incl_tax)
    weight = row["weight"]
    if bundle_parent:
        weight = sum((r["weight"] or 0) * r.get("bundle_selection_qty", 1)
                     for r in order["rows"] if r["parent"] == k)
    item["row_weight"] = money(seeddata.D(str(weight or 0)) * qty) if parent is None else 0
    item.update({
        "sku": row["sku"],
        "store_id": 1,
        "tax_amount": money(a.tax_amount),
        "tax_invoiced": money(a.tax_amount) if invoiced else 0,
    })
    if a.tax_percent is not None:
        item["tax_percent"] = money(a.tax_percent)
    item["updated_at"] = order["created_at"]
    if weight is not None and not row["is_virtual"]:
        item["weight"] = money(seeddata.D(str(weight)))
    if row.get("configurable_options"):
        item["product_option"] = {"extension_attributes": {"configurable_item_options": [
            {"option_id": str(seeddata.ATTRIBUTES[o["code"]]["attribute_id"]), "option_value": o["option_value"]}
            for o in row["configurable_options"]]}}
    if bundle_parent:
        options = []
        for child in (r for r in order["rows"] if r["parent"] == k):
            option_id, selection_id = bundle_ids(row["bundle_sku"], child["bundle_option"], child["sku"])
            options.append({"option_id": option_id, "option_qty": child["bundle_selection_qty"],
                            "option_selections": [selection_id]})
        item["product_option"] = {"extension_attributes": {"bundle_options": options}}
    return item


def _address(order, kind, entity_id, source):
    out = {"address_type": kind, "city": source["city"]}
    if source.get("company"):
        out["company"] = source["company"]
    out["country_id"] = source["country_id"]
    if source.get("customer_address_id"):
        out["customer_address_id"] = source["customer_address_id"]
    if order["customer_id"] is not None:
        out["customer_id"] = order["customer_id"]
    out.update({"email": source["email"], "entity_id": entity_id, "firstname": source["firstname"],
                "lastname": source["lastname"], "parent_id": order["entity_id"], "postcode": source["postcode"]})
    if source.get("region"):
        out.update({"region": source["region"], "region_code": source["region_code"],
                    "region_id": source["region_id"]})
    out["street"] = list(source["street"])
    out["telephone"] = source["telephone"]
    if source.get("vat_id"):
        out["vat_id"] = source["vat_id"]
    return out


def _payment(order, t, bt):
    p = order["payment"]
    info = [p["title"]]
    if p["method"] in ("banktransfer", "cashondelivery"):
        info.append("")  # their (empty) instructions, as in the sample
    out = {"account_status": None, "additional_information": info}
    if order["canceled"]:
        out["amount_canceled"] = money(t["grand_total"])
    out["amount_ordered"] = money(t["grand_total"])
    if order["invoiced"]:
        out["amount_paid"] = money(t["grand_total"])
    if order["refunded"]:
        out["amount_refunded"] = money(t["grand_total"])
    if order["canceled"]:
        out["base_amount_canceled"] = money(bt["grand_total"])
    out["base_amount_ordered"] = money(bt["grand_total"])
    if order["invoiced"]:
        out["base_amount_paid"] = money(bt["grand_total"])
    if order["refunded"]:
        out["base_amount_refunded"] = money(bt["grand_total"])
    out["base_shipping_amount"] = money(bt["shipping"])
    out["cc_last4"] = None
    out["entity_id"] = order["entity_id"]
    out["method"] = p["method"]
    out["parent_id"] = order["entity_id"]
    if p.get("po_number"):
        out["po_number"] = p["po_number"]
    out["shipping_amount"] = money(t["shipping"])
    return out


def _shipping_total(t, bt):
    return {
        "base_shipping_amount": money(bt["shipping"]),
        "base_shipping_discount_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "base_shipping_incl_tax": money(bt["shipping_incl_tax"]),
        "base_shipping_tax_amount": money(bt["shipping_tax"]),
        "shipping_amount": money(t["shipping"]),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "shipping_incl_tax": money(t["shipping_incl_tax"]),
        "shipping_tax_amount": money(t["shipping_tax"]),
    }


def _money_fields(order, t, bt):
    """The order-level amounts, with the invoiced/refunded/canceled families by status."""
    neg = lambda v: money(-v) if v else 0  # noqa: E731  discount is negative when present
    paid = t["grand_total"] if order["invoiced"] else 0
    base_paid = bt["grand_total"] if order["invoiced"] else 0
    out = {
        "base_discount_amount": neg(bt["discount"]),
        "base_grand_total": money(bt["grand_total"]),
        "base_discount_tax_compensation_amount": money(bt["dtc"]),
        "base_shipping_amount": money(bt["shipping"]),
        "base_shipping_discount_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "base_shipping_incl_tax": money(bt["shipping_incl_tax"]),
        "base_shipping_tax_amount": money(bt["shipping_tax"]),
        "base_subtotal": money(bt["subtotal"]),
        "base_subtotal_incl_tax": money(bt["subtotal_incl_tax"]),
        "base_tax_amount": money(bt["tax"]),
        "base_total_due": money(max(bt["grand_total"] - base_paid, 0)),
        "discount_amount": neg(t["discount"]),
        "grand_total": money(t["grand_total"]),
        "discount_tax_compensation_amount": money(t["dtc"]),
        "shipping_amount": money(t["shipping"]),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "shipping_incl_tax": money(t["shipping_incl_tax"]),
        "shipping_tax_amount": money(t["shipping_tax"]),
        "subtotal": money(t["subtotal"]),
        "subtotal_incl_tax": money(t["subtotal_incl_tax"]),
        "tax_amount": money(t["tax"]),
        "total_due": money(max(t["grand_total"] - paid, 0)),
    }
    families = []
    if order["invoiced"]:
        families.append(("invoiced", {"subtotal": "subtotal", "tax": "tax", "shipping": "shipping",
                                      "discount": "discount", "total": "grand_total"}))
        out.update({"total_paid": money(t["grand_total"]), "base_total_paid": money(bt["grand_total"]),
                    "base_total_invoiced_cost": 0})
    if order["refunded"]:
        families.append(("refunded", {"subtotal": "subtotal", "tax": "tax", "shipping": "shipping",
                                      "discount": "discount", "total": "grand_total"}))
        out.update({"total_offline_refunded": money(t["grand_total"]),
                    "base_total_offline_refunded": money(bt["grand_total"]),
                    "adjustment_positive": 0, "adjustment_negative": 0,
                    "base_adjustment_positive": 0, "base_adjustment_negative": 0})
    if order["canceled"]:
        families.append(("canceled", {"subtotal": "subtotal", "tax": "tax", "shipping": "shipping",
                                      "discount": "discount", "total": "grand_total"}))
    for suffix, names in families:
        for name, key in names.items():
            field = "%s_%s" % (name, suffix)
            value_t, value_b = t[key], bt[key]
            if name == "discount":
                out[field], out["base_" + field] = neg(value_t), neg(value_b)
            else:
                out[field], out["base_" + field] = money(value_t), money(value_b)
    return out


def render_order(order, bundle_ids):
    """Magento's OrderInterface JSON for a seeddata order."""
    n = order["entity_id"]
    cur = order["order_currency_code"]
    t, bt = order["totals"][cur], order["totals"][seeddata.BASE_CURRENCY]
    ids_of = {}
    items = []
    for k, row in enumerate(order["rows"]):
        items.append(_render_row(order, k, row, ids_of, bundle_ids))
    for k, row in enumerate(order["rows"]):
        if row["parent"] is not None:
            parent_copy = dict(items[row["parent"]])
            items[k]["parent_item"] = parent_copy
    top = [r for r in order["rows"] if r["parent"] is None]
    status = order["status"]
    out = {}
    if order["discount"]:
        out["applied_rule_ids"] = str(order["discount"]["rule_id"])
    out["base_currency_code"] = seeddata.BASE_CURRENCY
    money_fields = _money_fields(order, t, bt)
    out.update({k: v for k, v in sorted(money_fields.items()) if k.startswith("base_")})
    out.update({
        "base_to_global_rate": 1,
        "base_to_order_rate": order["base_to_order_rate"],
        "billing_address_id": 2 * n,
    })
    if order["discount"]:
        out["coupon_code"] = order["discount"]["coupon_code"]
    out.update({
        "created_at": order["created_at"],
        "customer_email": order["customer_email"],
        "customer_firstname": order["customer_firstname"],
        "customer_group_id": order["customer_group_id"],
    })
    if order["customer_id"] is not None:
        out["customer_id"] = order["customer_id"]
    out.update({
        "customer_is_guest": order["customer_is_guest"],
        "customer_lastname": order["customer_lastname"],
        "customer_note_notify": 1,
    })
    if order.get("customer_taxvat"):
        out["customer_taxvat"] = order["customer_taxvat"]
    if order["discount"]:
        out["discount_description"] = order["discount"]["description"]
    out.update({k: v for k, v in sorted(money_fields.items()) if not k.startswith("base_")})
    out.update({
        "email_sent": 1,
        "entity_id": n,
        "global_currency_code": seeddata.BASE_CURRENCY,
    })
    if status == "holded":
        # generated held orders were put on hold before any invoice
        out["hold_before_state"] = "processing" if order["invoiced"] else "new"
        out["hold_before_status"] = "processing" if order["invoiced"] else "pending"
    out.update({
        "increment_id": order["increment_id"],
        "is_virtual": order["is_virtual"],
        "order_currency_code": cur,
        "protect_code": hashlib.sha1(("ferry%d" % n).encode()).hexdigest()[:6],
        "quote_id": n + 100,
        "remote_ip": "192.0.2.%d" % (n % 250 + 1),
    })
    if order["shipping"]["description"]:
        out["shipping_description"] = order["shipping"]["description"]
    out.update({
        "state": order["state"],
        "status": status,
        "store_currency_code": seeddata.BASE_CURRENCY,
        "store_id": 1,
        "store_name": STORE_NAME,
        "store_to_base_rate": 0,
        "store_to_order_rate": 0,
        "total_item_count": len(top),
        "total_qty_ordered": money(sum(seeddata.D(r["qty"]) for r in top)),
        "updated_at": order["updated_at"],
        "weight": money(sum((seeddata.D(str(i["row_weight"])) for i in items if "parent_item_id" not in i),
                            seeddata.D(0))),
    })
    out = {k: out[k] for k in sorted(out, key=lambda k: _ORDER_RANK.get(k, len(_ORDER_RANK)))}
    out["items"] = items
    out["billing_address"] = _address(order, "billing", 2 * n, order["billing_address"])
    out["payment"] = _payment(order, t, bt)
    out["status_histories"] = [
        {"comment": h["comment"], "created_at": h["created_at"], "entity_id": n * 10 + i + 1,
         "entity_name": "order", "is_customer_notified": h["is_customer_notified"], "is_visible_on_front": 0,
         "parent_id": n, "status": h["status"]}
        for i, h in enumerate(order["history"])]
    shipping = {}
    if order["shipping_address"] is not None:
        shipping["address"] = _address(order, "shipping", 2 * n - 1, order["shipping_address"])
    if order["shipping"]["method"]:
        shipping["method"] = order["shipping"]["method"]
    shipping["total"] = _shipping_total(t, bt)
    ext = {"shipping_assignments": [{"shipping": shipping, "items": copy.deepcopy(items)}]}
    info = [{"key": "method_title", "value": order["payment"]["title"]}]
    if order["payment"]["method"] in ("banktransfer", "cashondelivery"):
        info.append({"key": "instructions", "value": ""})
    ext["payment_additional_info"] = info
    if order["applied_taxes"]:
        ext["applied_taxes"] = order["applied_taxes"]
        ext["item_applied_taxes"] = _item_applied_taxes(order, items)
    out["extension_attributes"] = ext
    return out


def _item_applied_taxes(order, items):
    cur, base = order["order_currency_code"], seeddata.BASE_CURRENCY
    out = []
    for k, row in enumerate(order["rows"]):
        a = row["amounts"][cur]
        if row.get("bundle_dynamic") or not a.tax_percent or not a.row_total:
            continue
        code = "%s-VAT-%s" % (order["country_id"], money(a.tax_percent))
        out.append({"type": "product", "item_id": items[k]["item_id"], "applied_taxes": [
            {"code": code, "title": code, "percent": money(a.tax_percent), "amount": money(a.tax_amount),
             "base_amount": money(row["amounts"][base].tax_amount)}]})
    ship = order["shipping"]["amounts"]
    if ship[cur].row_total and ship[cur].tax_percent:
        code = "%s-VAT-%s" % (order["country_id"], money(ship[cur].tax_percent))
        out.append({"type": "shipping", "applied_taxes": [
            {"code": code, "title": code, "percent": money(ship[cur].tax_percent),
             "amount": money(ship[cur].tax_amount), "base_amount": money(ship[base].tax_amount)}]})
    return out


# ---- the store ---------------------------------------------------------------------------

def _is_datetime_text(value):
    """A stored date filters compare as plain text with norm_datetime(value) (magento2_search._compare)."""
    return isinstance(value, str) and DATETIME_RX.match(value) is not None


def _span(index, cond, value):
    """(lo, hi): the positions of a sorted (date text, entity_id) index where `date cond value` holds
    (cond one of RANGE_CONDITIONS, value normalised with norm_datetime)."""
    lo, hi = 0, len(index)
    if cond == "eq":
        lo, hi = bisect.bisect_left(index, (value,)), bisect.bisect_right(index, (value, float("inf")))
    elif cond == "gt":
        lo = bisect.bisect_right(index, (value, float("inf")))
    elif cond in ("gteq", "moreq", "from"):
        lo = bisect.bisect_left(index, (value,))
    elif cond == "lt":
        hi = bisect.bisect_left(index, (value,))
    else:  # lteq, to
        hi = bisect.bisect_right(index, (value, float("inf")))
    return lo, hi


def _union(spans):
    """Sorted, disjoint (lo, hi) ranges covering the given ones."""
    out = []
    for lo, hi in sorted(sp for sp in spans if sp[0] < sp[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _intersect(a, b):
    """The intersection of two sorted lists of disjoint (lo, hi) ranges."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


class OrderStore:
    """Orders by entity id, with sorted indexes for the common searches."""

    def __init__(self, seed, n, catalogue, customers, bundle_ids):
        self.seed, self.n = seed, n
        self.catalogue, self.customers = catalogue, customers
        self.bundle_ids = bundle_ids
        self.heads = {}
        self.overrides = {}  # entity_id -> order JSON (changed or loaded from fixtures)
        self.cache = collections.OrderedDict()
        self._seed_heads = seeddata.order_heads(seed, n, customers) if n else []
        for h in self._seed_heads:
            self.heads[h["entity_id"]] = {k: h[k] for k in HEAD_FIELDS}
        self.by_increment = {h["increment_id"].casefold(): h["entity_id"] for h in self.heads.values()}
        self._reindex()
        self._reservations = None

    # ---- indexes ----
    def _reindex(self):
        self.ids = sorted(self.heads)
        self.by_updated = sorted((h["updated_at"], h["entity_id"]) for h in self.heads.values())
        self.by_created = sorted((h["created_at"], h["entity_id"]) for h in self.heads.values())
        # orders whose updated_at is not "YYYY-MM-DD hh:mm:ss" text (fixtures): filters compare those
        # differently from the index order, so _search_in_updated_order leaves every search to _search_all
        self.odd_updated = {e for e, h in self.heads.items() if not _is_datetime_text(h["updated_at"])}
        # field -> {(type, value): [value, sorted (updated_at, entity_id) keys]}, built on first use
        # (None: a value cannot be a dict key); kept up to date by touch()
        self.value_indexes = {}

    def _move_updated(self, entity_id, old, new):
        pos = bisect.bisect_left(self.by_updated, (old, entity_id))
        if pos < len(self.by_updated) and self.by_updated[pos] == (old, entity_id):
            del self.by_updated[pos]
        bisect.insort(self.by_updated, (new, entity_id))

    def _value_index(self, field):
        """{(type, value): [value, keys]} of a VALUE_INDEXED head field; None when a value is unhashable."""
        if field not in self.value_indexes:
            index = {}
            try:
                for key in self.by_updated:  # in key order, so every list comes out sorted
                    value = self.heads[key[1]][field]
                    index.setdefault((type(value), value), [value, []])[1].append(key)
            except TypeError:
                index = None
            self.value_indexes[field] = index
        return self.value_indexes[field]

    def _move_values(self, entity_id, old_key, old_head, new_key, new_head):
        """Keep the built value indexes in step with a head that changed (touch)."""
        for field, index in list(self.value_indexes.items()):
            if index is None:
                del self.value_indexes[field]  # rebuilt (or found unhashable again) on next use
                continue
            old, new = old_head[field], new_head[field]
            entry = index.get((type(old), old))
            if entry is not None:
                pos = bisect.bisect_left(entry[1], old_key)
                if pos < len(entry[1]) and entry[1][pos] == old_key:
                    del entry[1][pos]
                if not entry[1]:
                    del index[(type(old), old)]
            try:
                bisect.insort(index.setdefault((type(new), new), [new, []])[1], new_key)
            except TypeError:
                del self.value_indexes[field]

    def next_entity_id(self):
        return (self.ids[-1] + 1) if self.ids else 1

    # ---- reading ----
    def __len__(self):
        return len(self.heads)

    def get(self, entity_id):
        """The order JSON (do not modify it); None when unknown."""
        if entity_id in self.overrides:
            return self.overrides[entity_id]
        if entity_id not in self.heads:
            return None
        cached = self.cache.get(entity_id)
        if cached is not None:
            self.cache.move_to_end(entity_id)
            return cached
        plain = seeddata.order(self.seed, self.n, entity_id - 1, self.catalogue, self.customers, self._seed_heads)
        order = render_order(plain, self.bundle_ids)
        self.cache[entity_id] = order
        if len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        return order

    def require(self, entity_id):
        try:
            entity_id = int(str(entity_id))
        except ValueError:
            raise type_error(entity_id, "int")
        order = self.get(entity_id)
        if order is None:
            raise MagentoError(404, ORDER_NOT_FOUND)
        return order

    # ---- searching ----
    def search(self, criteria, legacy=False):
        """(page of order JSONs, total_count) for a SearchCriteria."""
        found = self._search_in_updated_order(criteria, legacy)
        if found is None:
            found = self._search_all(criteria, legacy)
        elif SELFCHECK:
            expected = self._search_all(criteria, legacy)
            if found != expected:
                raise AssertionError("indexed order search %r differs from testing every order %r"
                                     % (found, expected))
        page, total = found
        return [self.get(eid) for eid in page], total

    def _search_all(self, criteria, legacy):
        """(entity ids of the page, total_count): test every candidate the indexes leave."""
        fields = {f.field for group in criteria.groups for f in group}
        fields |= {field for field, _ in criteria.sort_orders if field}
        on_heads = fields <= set(HEAD_FIELDS)
        if on_heads:
            source = lambda eid: self.heads[eid]  # noqa: E731
        else:
            source = self.get
        candidates, ordered = self._candidates(criteria)
        getter = lambda eid, field: source(eid).get(field)  # noqa: E731
        hits = [eid for eid in candidates if matches(criteria, lambda field, eid=eid: source(eid).get(field))]
        if not ordered:
            sort_items(hits, criteria, getter)
        total = len(hits)
        start, stop = page_bounds(criteria, total, legacy)
        return hits[start:stop], total

    def _search_in_updated_order(self, criteria, legacy):
        """(entity ids of the page, total_count) from the (updated_at, entity_id) index; None when
        the search is not one this answers (then _search_all does, with the same answer).

        It answers searches sorted by updated_at ascending (then entity_id ascending) whose filters
        and sort orders use head fields only, with no single-filter group on another indexed field.
        Positions are those of self.by_updated.  Each filter group is one of:

        * range: every filter is an updated_at comparison (RANGE_CONDITIONS), so the group holds
          exactly on a union of position ranges (for `updated_at >= T`: from bisect (T,) on);
        * value: every filter is on one VALUE_INDEXED field, so the group holds exactly for the
          stored values it accepts (tested once per distinct value).  A group accepting every stored
          value holds everywhere and is dropped; one other such group restricts the keys walked to
          the lists of its accepted values;
        * mixed: some filters are updated_at comparisons, so the group surely holds on their ranges
          and must be tested key by key elsewhere (`updated_at > T OR entity_id > ID` holds after
          the keys of second T, and is tested on those few);
        * any other group is tested key by key wherever the range groups hold.

        Where the groups surely hold, the matches are counted by bisect and only the page is read;
        elsewhere every key is tested with matches(), as _search_all does.  So the keyset page query
        `(updated_at >= T) AND (updated_at > T OR entity_id > ID)` costs O(log n + keys at T + page)
        and total_count stays exact.  filter_matches compares a stored "YYYY-MM-DD hh:mm:ss" text with
        norm_datetime(value) as plain strings, which is the order of the index, so a range is exact
        while no stored updated_at is anything else (self.odd_updated).
        """
        sort = [(f, d) for f, d in criteria.sort_orders if f]
        # the order _candidates calls "ordered", ascending only
        if not (sort and sort[0] == ("updated_at", "ASC") and all(f in ("updated_at", "entity_id") for f, _ in sort)
                and (len(sort) == 1 or sort[1] == ("entity_id", "ASC"))):
            return None
        if self.odd_updated:
            return None
        fields = {f.field for group in criteria.groups for f in group} | {f for f, _ in sort}
        if not fields <= set(HEAD_FIELDS):
            return None
        if any(len(g) == 1 and g[0].field != "updated_at" and self._narrows(g[0]) for g in criteria.groups):
            return None  # _search_all narrows with that index first; leave such searches to it
        n = len(self.by_updated)
        exact = [(0, n)]  # where every range group holds
        sure = [(0, n)]  # ... and every mixed group surely holds
        tested = False  # a group that must be tested key by key wherever `exact` holds
        value_groups = []  # (number of keys, key lists of the accepted values)
        for group in criteria.groups:
            if not group:
                continue  # an empty group holds for every order (matches)
            spans = [self._updated_span(f) for f in group]
            if all(sp is not None for sp in spans):
                exact = _intersect(exact, _union(spans))
                sure = _intersect(sure, _union(spans))
                continue
            field = group[0].field
            if field in VALUE_INDEXED and all(f.field == field for f in group):
                index = self._value_index(field)
                if index is not None:
                    lists = [keys for value, keys in index.values()
                             if any(filter_matches(f, value) for f in group)]
                    if len(lists) < len(index):
                        value_groups.append((sum(len(k) for k in lists), lists))
                    continue
            partial = [sp for sp in spans if sp is not None]
            if partial:
                sure = _intersect(sure, _union(partial))
            else:
                tested = True
        value_groups.sort(key=lambda vg: vg[0])
        lists = value_groups[0][1] if value_groups else [self.by_updated]
        if tested or len(value_groups) > 1:
            sure = []
        # the segments where groups hold, in key order: (lo, hi, all of them match)
        segments = []
        for lo, hi in exact:
            for a, b in _intersect([(lo, hi)], sure):
                if lo < a:
                    segments.append((lo, a, False))
                segments.append((a, b, True))
                lo = b
            if lo < hi:
                segments.append((lo, hi, False))
        heads = self.heads
        counted = []  # (segment, its matches: a count (sure) or the list of entity ids)
        total = 0
        for lo, hi, certain in segments:
            if certain:
                hits = sum(self._rank(keys, hi) - self._rank(keys, lo) for keys in lists)
                total += hits
            else:
                hits = [e for _, e in self._merged(lists, lo, hi)
                        if matches(criteria, lambda field, e=e: heads[e].get(field))]
                total += len(hits)
            counted.append(((lo, hi), hits))
        start, stop = page_bounds(criteria, total, legacy)
        page, offset = [], 0
        for (lo, hi), hits in counted:
            if offset >= stop:
                break
            size = hits if isinstance(hits, int) else len(hits)
            a, b = max(start - offset, 0), min(stop - offset, size)
            if a < b:
                if isinstance(hits, int):
                    first = self._nth(lists, lo, hi, a)
                    page.extend(e for _, e in itertools.islice(self._merged(lists, first, hi), b - a))
                else:
                    page.extend(hits[a:b])
            offset += size
        return page, total

    def _rank(self, keys, pos):
        """How many of the sorted `keys` come before position `pos` of by_updated."""
        if keys is self.by_updated:
            return pos
        if pos >= len(self.by_updated):
            return len(keys)
        return bisect.bisect_left(keys, self.by_updated[pos])

    def _merged(self, lists, lo, hi):
        """The keys of `lists` between positions lo and hi of by_updated, in key order."""
        parts = [keys[self._rank(keys, lo):self._rank(keys, hi)] for keys in lists]
        return parts[0] if len(parts) == 1 else heapq.merge(*parts)

    def _nth(self, lists, lo, hi, k):
        """The position in [lo, hi] from which the keys of `lists` start at their k-th one (0-based)."""
        base = sum(self._rank(keys, lo) for keys in lists)
        while lo < hi:  # each position holds one key, so the count grows by 0 or 1 per position
            mid = (lo + hi) // 2
            if sum(self._rank(keys, mid) for keys in lists) - base >= k:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _updated_span(self, f):
        """(lo, hi) positions of by_updated where the updated_at filter f holds; None if f is not one."""
        if f.field != "updated_at" or f.value is None or f.condition not in RANGE_CONDITIONS:
            return None
        return _span(self.by_updated, f.condition, norm_datetime(f.value))

    def _candidates(self, criteria):
        """Entity ids worth testing, narrowed with an index; and whether they are already in sort order."""
        best = None
        for group in criteria.groups:
            if len(group) != 1:
                continue
            narrowed = self._narrow(group[0])
            if narrowed is not None and (best is None or len(narrowed) < len(best)):
                best = narrowed
        sort = [(f, d) for f, d in criteria.sort_orders if f]
        by_updated = sort and sort[0][0] == "updated_at" and all(f in ("updated_at", "entity_id") for f, _ in sort)
        if by_updated and (len(sort) == 1 or sort[1] == ("entity_id", "ASC")):
            return self._in_updated_order(best, sort[0][1] == "ASC"), True
        if best is None:
            return list(self.ids), False
        return sorted(best), False

    def _in_updated_order(self, subset, ascending):
        rows = self.by_updated if subset is None else [r for r in self.by_updated if r[1] in subset] \
            if len(subset) * 8 > len(self.by_updated) else sorted(
                (self.heads[e]["updated_at"], e) for e in subset)
        if ascending:
            return [e for _, e in rows]
        out, i = [], len(rows)
        while i > 0:  # descending by date, ties still by entity_id ascending
            j = i - 1
            while j > 0 and rows[j - 1][0] == rows[i - 1][0]:
                j -= 1
            out.extend(e for _, e in rows[j:i])
            i = j
        return out

    @staticmethod
    def _narrows(f):
        """Whether _narrow(f) answers a set."""
        if f.value is None:
            return False
        if f.field in ("updated_at", "created_at", "entity_id"):
            return f.condition in RANGE_CONDITIONS
        return f.field == "increment_id" and f.condition in ("eq", "in")

    def _narrow(self, f):
        """A set of entity ids that can match the single filter f, or None (no index)."""
        cond = f.condition
        if not self._narrows(f):
            return None
        if f.field in ("updated_at", "created_at"):
            index = self.by_updated if f.field == "updated_at" else self.by_created
            lo, hi = _span(index, cond, norm_datetime(f.value))
            return {e for _, e in index[lo:hi]}
        if f.field == "entity_id":
            value = mysql_number(f.value)
            lo, hi = 0, len(self.ids)
            if cond == "eq":
                lo, hi = bisect.bisect_left(self.ids, value), bisect.bisect_right(self.ids, value)
            elif cond == "gt":
                lo = bisect.bisect_right(self.ids, value)
            elif cond in ("gteq", "moreq", "from"):
                lo = bisect.bisect_left(self.ids, value)
            elif cond == "lt":
                hi = bisect.bisect_left(self.ids, value)
            else:
                hi = bisect.bisect_right(self.ids, value)
            return set(self.ids[lo:hi])
        if f.field == "increment_id" and cond in ("eq", "in"):
            values = [f.value] if cond == "eq" else str(f.value).split(",")
            found = {self.by_increment.get(str(v).rstrip(" ").casefold()) for v in values}
            found.discard(None)
            return found
        return None

    # ---- changing ----
    def editable(self, entity_id):
        """The order JSON to change in place (copied into the overrides once)."""
        order = self.overrides.get(entity_id)
        if order is None:
            order = copy.deepcopy(self.require(entity_id))
            self.overrides[entity_id] = order
            self.cache.pop(entity_id, None)
        return order

    def touch(self, order, now_text):
        """Record a change: updated_at, head, index, reservations."""
        eid = order["entity_id"]
        head = self.heads[eid]
        before = dict(head)
        old = head["updated_at"]
        order["updated_at"] = now_text
        for k in HEAD_FIELDS:
            head[k] = order.get(k)
        self._move_updated(eid, old, now_text)
        self._move_values(eid, (old, eid), before, (now_text, eid), head)
        self.odd_updated.discard(eid)
        if not _is_datetime_text(now_text):
            self.odd_updated.add(eid)
        self._reservations = None

    def put(self, order):
        """Add or replace an order given as Magento JSON (fixtures)."""
        eid = int(order.get("entity_id") or self.next_entity_id())
        order = dict(order, entity_id=eid)
        if "increment_id" not in order:
            order["increment_id"] = seeddata.increment_id(eid)
        order["increment_id"] = str(order["increment_id"])
        old = self.heads.get(eid)
        if old is not None:
            self.by_increment.pop(str(old["increment_id"]).casefold(), None)
        self.overrides[eid] = order
        self.cache.pop(eid, None)
        self.heads[eid] = {k: order.get(k) for k in HEAD_FIELDS}
        self.by_increment[order["increment_id"].casefold()] = eid
        self._reindex()
        self._reservations = None
        return order

    # ---- stock reservations ----
    def reservations(self):
        """{sku (casefolded): reserved qty (negative)} of orders placed but not shipped nor canceled."""
        if self._reservations is None:
            reserved = collections.defaultdict(float)
            for eid, head in self.heads.items():
                if head["state"] not in RESERVING_STATES:
                    continue
                for item in self.get(eid).get("items", []):
                    if item.get("product_type") in ("configurable", "bundle"):
                        continue  # their child rows carry the stock
                    left = item.get("qty_ordered", 0) - item.get("qty_shipped", 0) - item.get("qty_canceled", 0)
                    if left > 0:
                        reserved[str(item["sku"]).casefold()] -= left
            self._reservations = dict(reserved)
        return self._reservations

