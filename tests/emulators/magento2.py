#!/usr/bin/env python3
"""A Magento 2.4 REST API emulator for ferry's tests (standard library only).

    python3 tests/emulators/magento2.py [--port 0] [--seed 1] [--orders 50] ...

prints its base URL as the first line and serves until SIGTERM.  Built on
emucommon (admin prefix /_emulator/, faults, clock, counters); the Magento
parts live in magento2_*.py next to this file:

  magento2_search.py     query strings, searchCriteria, filters, fields=
  magento2_auth.py       admin tokens, 2FA, Bearer, OAuth 1.0a, ACL
  magento2_orders.py     OrderInterface JSON and the indexed order store
  magento2_catalog.py    products, categories, media, legacy stock, MSI
  magento2_customers.py  customers
  magento2_errors.py     Magento's error bodies and messages
  seeddata.py            the deterministic shop (shared with eAccounting)

The reference is shared/spec/magento2-api.md; README.md lists every known
difference from a real Magento.
"""

import copy
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seeddata  # noqa: E402
from emucommon import Emulator, Response, serve  # noqa: E402
from magento2_auth import Auth, Integration, check_acl  # noqa: E402
from magento2_catalog import Catalog, as_bool, normalize_keys  # noqa: E402
from magento2_customers import Customers  # noqa: E402
from magento2_errors import (CHARSET_UNSUPPORTED, CONTENT_TYPE_EMPTY, CONTENT_TYPE_INVALID,  # noqa: E402
                             DECODING_ERROR, MEDIA_TYPE_UNSUPPORTED, NO_ROUTE, MagentoError, internal_error,
                             required_field_error)
from magento2_orders import ORDER_KEYS, OrderStore, STATUSES_OF_STATE, render_order  # noqa: E402
from magento2_search import (apply_fields, matches, page_bounds, parse_fields, parse_search_criteria,  # noqa: E402
                             php_parse_qs, snake_case, sort_items)

DEFAULT_ORDERS = 50
DEFAULTS = {
    "admin_user": "admin",
    "admin_password": "admin123",
    # integration credentials are 32 characters, as Magento generates them
    "consumer_key": "ferryconsumerkey0000000000000001",
    "consumer_secret": "ferryconsumersecret0000000000001",
    "access_token": "ferryaccesstoken0000000000000001",
    "access_token_secret": "ferryaccesstokensecret0000000001",
    "tfa_secret": "JBSWY3DPEHPK3PXP",
}
# /rest[/<store code>]/V1/..., optionally behind /index.php
PATH_RX = re.compile(r"^(?:/index\.php)?/rest(?:/(?P<store>[^/]+))?(?P<rest>/V1/.*)$")
# the sales_order columns a filter may name (anything else is an SQL error)
ORDER_COLUMNS = frozenset(ORDER_KEYS[:-5]) | {"shipping_method", "customer_address_id"}
STATUS_HISTORY_PROPS = ("comment", "created_at", "entity_id", "entity_name", "is_customer_notified",
                        "is_visible_on_front", "parent_id", "status", "extension_attributes")

ACL_ORDERS = ("Magento_Sales::actions_view",)
ACL_CUSTOMERS = ("Magento_Customer::customer",)
ACL_CUSTOMERS_EDIT = ("Magento_Customer::manage",)
ACL_PRODUCTS = ("Magento_Catalog::products",)
ACL_CATALOG = ("Magento_Catalog::catalog",)
ACL_CATEGORIES = ("Magento_Catalog::categories",)
ACL_STOCK = ("Magento_CatalogInventory::cataloginventory",)
ACL_SOURCES = ("Magento_InventoryApi::source",)
ACL_STOCKS = ("Magento_InventoryApi::stock",)
ANONYMOUS = ("anonymous",)


def php_json(value):
    """JSON bytes the way Magento's renderer (Laminas Json, PHP json_encode with
    JSON_HEX_TAG|APOS|QUOT|AMP) writes them: non-ASCII as \\uXXXX, "/" as "\\/",
    < > ' & " inside strings as \\u003C \\u003E \\u0027 \\u0026 \\u0022, and
    integral floats without ".0"."""
    text = json.dumps(_ints(value), ensure_ascii=True, separators=(",", ":"))
    text = (text.replace("/", "\\/").replace("<", "\\u003C").replace(">", "\\u003E")
            .replace("'", "\\u0027").replace("&", "\\u0026"))
    if '\\"' in text:
        # escape sequences come in pairs; only an escaped quote changes
        text = re.sub(r'\\(.)', lambda m: "\\u0022" if m.group(1) == '"' else m.group(0), text)
    return text.encode("ascii")


def _ints(value):
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        if not value:
            return []  # PHP has no empty object: an empty array prints as []
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


class Ctx:
    """What a route handler gets: the request, path params, query, store, caller, body."""

    def __init__(self, req, params, query, store_code, store_id, caller, body):
        self.req, self.params, self.query = req, params, query
        self.store_code, self.store_id = store_code, store_id
        self.caller, self.body = caller, body

    def body_param(self, name, required=True):
        """A top-level body parameter by its service-method name, camelCase or snake_case
        (ServiceInputProcessor accepts exactly these two spellings)."""
        body = self.body if isinstance(self.body, dict) else {}
        for key in (name, snake_case(name)):
            if key in body:
                return body[key]
        if required:
            raise required_field_error(name)
        return None


class MagentoRoute:
    def __init__(self, method, pattern, handler, resources):
        self.method = method
        self.pattern = pattern
        self.name = "%s %s" % (method, pattern)
        self.handler = handler
        self.resources = resources
        rx = ""
        for part in re.split(r"(\{[a-zA-Z_]+\})", pattern):
            rx += "(?P<%s>[^/]+)" % part[1:-1] if part.startswith("{") else re.escape(part)
        self.regex = re.compile("^" + rx + "/?$")


class Magento2Emulator(Emulator):
    name = "magento2"

    def __init__(self, args):
        self.config = self._config_from_args(args)
        self.store_codes = {"default": 1}
        for i, code in enumerate(c for c in (args.store_codes or "").split(",") if c and c != "default"):
            self.store_codes[code] = i + 2
        self.mroutes = []
        self.auth = None
        super().__init__(args)

    @staticmethod
    def _config_from_args(args):
        return {
            "bearer": args.bearer,
            "tfa": args.tfa,
            "legacy_paging": args.legacy_paging,
            "input_limits": args.input_limits,
            "acl": [r for r in args.acl.split(",") if r] if args.acl else None,
            "comment_status": args.comment_status,
            "statuses": dict(s.split(":", 1) for s in (args.status or [])),
        }

    # ---- emucommon hooks -------------------------------------------------------------------
    def seed(self):
        args = self.args
        n = args.orders if args.orders is not None else DEFAULT_ORDERS
        self.catalogue_seed = seeddata.catalogue(args.seed)
        self.customers_seed = seeddata.customers(args.seed)
        start = seeddata.fmt_time(seeddata.ANCHOR - 400 * 86400)
        self.catalog = Catalog(self.now_text)
        self.catalog.seed(self.catalogue_seed, start)
        self.customers = Customers(self.now_text)
        self.customers.seed(self.customers_seed)
        self.orders = OrderStore(args.seed, n, self.catalogue_seed, self.customers_seed, self.catalog.bundle_ids)
        self.next_history_id = 10_000_001
        self.next_shipment_id = 1
        self.notifications = []  # e-mails Magento would have sent (is_customer_notified = 1)
        integration = Integration(args.consumer_key, args.consumer_secret, args.access_token,
                                  args.access_token_secret, self.config["acl"])
        self.auth = Auth(self.clock, args.admin_user, args.admin_password, integration,
                         bearer=self.config["bearer"], tfa=self.config["tfa"], tfa_secret=args.tfa_secret)

    def on_reset(self, doc):
        for key in ("seed", "orders"):
            if key in (doc or {}):
                setattr(self.args, key, int(doc[key]))
        self.config = self._config_from_args(self.args)
        self.seed()

    def now_text(self):
        return seeddata.fmt_time(self.clock.now())

    def dump_state(self):
        return {
            "config": self.config,
            "stores": self.store_codes,
            "orders": {"count": len(self.orders), "changed": sorted(self.orders.overrides),
                       "changed_orders": [self.orders.overrides[e] for e in sorted(self.orders.overrides)]},
            "customers": [self.customers.render(c) for c in self.customers.items.values()],
            "products": [self.catalog.render(r, None) for r in self.catalog.products.values()],
            "scope_writes": list(self.catalog.scope_writes),
            "notifications": list(self.notifications),
            "categories": [self.catalog.render_category(c) for c in self.catalog.categories.values()],
            "inventory": {
                "sources": list(self.catalog.sources.values()),
                "stocks": list(self.catalog.stocks.values()),
                "stock_source_links": list(self.catalog.stock_links),
                "source_items": list(self.catalog.source_items.values()),
                "reservations": self.orders.reservations(),
            },
            "auth": self.auth.describe(),
        }

    FIXTURE_KINDS = ("customers", "products", "categories", "orders", "source_items")

    def load_fixtures_dir(self, directory):
        """As emucommon's, but a kind file (orders.json...) may hold one object instead of a list,
        e.g. a copy of shared/spec/magento2/order_get_response.json."""
        doc = {}
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith(".json"):
                continue
            with open(os.path.join(directory, entry), encoding="utf-8") as fh:
                data = json.load(fh)
            stem = entry[:-5]
            if stem in self.FIXTURE_KINDS:
                doc.setdefault(stem, []).extend(data if isinstance(data, list) else [data])
            elif isinstance(data, dict):
                for kind, items in data.items():
                    doc.setdefault(kind, []).extend(items if isinstance(items, list) else [items])
        with self.lock:
            self.load_fixtures(doc)

    def load_fixtures(self, doc):
        """Fixtures in Magento's own response shapes: customers, products, categories, orders, source_items."""
        for customer in doc.get("customers", []):
            self.customers.load(customer)
        for category in doc.get("categories", []):
            cid = category.get("id")
            if cid is not None and int(cid) in self.catalog.categories:
                self.catalog.save_category(category, cid)
            else:
                self.catalog.save_category(category)
        for product in doc.get("products", []):
            product = dict(product)
            product.pop("id", None)
            for key in ("created_at", "updated_at"):
                product.pop(key, None)
            self.catalog.save(product, 0, "fixtures")
        if doc.get("source_items"):
            self.catalog.save_source_items(doc["source_items"])
        for order in doc.get("orders", []):
            self.orders.put(copy.deepcopy(order))

    def admin_extra(self, req, action, doc):
        if action == "config":
            with self.lock:
                for key in ("bearer", "tfa", "legacy_paging", "input_limits", "acl", "comment_status", "statuses"):
                    if key in doc:
                        self.config[key] = doc[key]
                self.auth.bearer = bool(self.config["bearer"])
                self.auth.tfa = bool(self.config["tfa"])
                self.auth.integration.resources = self.config["acl"]
            return Response(200, {"config": self.config})
        if action == "orders/new":
            with self.lock:
                created = [self._new_order(i) for i in range(int(doc.get("count", 1)))]
            return Response(200, {"entity_ids": [o["entity_id"] for o in created],
                                  "increment_ids": [o["increment_id"] for o in created]})
        if action == "orders/touch":
            with self.lock:
                for eid in doc.get("entity_ids", []):
                    order = self.orders.editable(int(eid))
                    self.orders.touch(order, self.now_text())
            return Response(200, {"ok": True, "updated_at": self.now_text()})
        return Response(404, {"message": "unknown admin action '%s'" % action})

    def _new_order(self, k):
        """A new pending order placed now (a scenario order with fresh ids)."""
        plain = seeddata.order(self.args.seed, len(seeddata.SCENARIOS), k % len(seeddata.SCENARIOS),
                               self.catalogue_seed, self.customers_seed)
        eid = self.orders.next_entity_id()
        now = self.now_text()
        plain.update(entity_id=eid, increment_id=seeddata.increment_id(eid), created_at=now, updated_at=now,
                     status="pending", state="new", invoiced=False, shipped=False, refunded=False,
                     canceled=False, history=[])
        return self.orders.put(render_order(plain, self.catalog.bundle_ids))

    def take_fault(self, req):
        """Faults may name the route with or without the /rest/<store> prefix."""
        fault = super().take_fault(req)
        if fault is not None:
            return fault
        m = PATH_RX.match(req.path)
        if m is None:
            return None
        alias = _PathAlias(req.method, m.group("rest"))
        return super().take_fault(alias)

    def fault_body(self, fault):
        if fault.body is not None:
            return fault.body
        if fault.status >= 500:
            return internal_error().body
        return {"message": "Emulated fault (HTTP %d)." % fault.status}

    def not_found_body(self, req):
        return {"message": NO_ROUTE}

    # ---- routing ------------------------------------------------------------------------
    def add(self, method, pattern, handler, resources):
        self.mroutes.append(MagentoRoute(method, pattern, handler, resources))

    def handle(self, req):
        try:
            status, payload = self._handle(req)
        except MagentoError as e:
            status, payload = e.status, e.body
        except Exception:  # a bug in the emulator: Magento's masked 500, details on stderr
            import traceback

            traceback.print_exc()
            error = internal_error()
            status, payload = error.status, error.body
        raw = php_json(payload) if req.method != "HEAD" else b""
        return Response(status, raw=raw, content_type="application/json; charset=utf-8")

    def _handle(self, req):
        m = PATH_RX.match(req.path)
        if m is None:
            raise MagentoError(404, NO_ROUTE)
        store_code, rest = m.group("store"), m.group("rest")
        if store_code is None:
            store_code, store_id = "default", 1
        elif store_code == "all":
            store_id = 0
        elif store_code in self.store_codes:
            store_id = self.store_codes[store_code]
        else:
            # not a store: Magento takes it as part of the path, which then matches no route
            raise MagentoError(404, NO_ROUTE)
        route, params = self._match(req.method, rest)
        req.params, req.route = params, route.name
        self.count(route.name)
        query = php_parse_qs(req.query_string)
        with self.lock:
            caller = self.auth.identify(req, req.header("Host") or self.base_url.split("://", 1)[1])
            check_acl(caller, route.resources)
            body = self._body(req)
            ctx = Ctx(req, params, query, store_code, store_id, caller, body)
            result = route.handler(ctx)
            fields = query.get("fields")
            if isinstance(fields, str) and fields.strip():
                result = apply_fields(result, parse_fields(fields))
                if result == {}:
                    result = []
        return 200, result

    def _match(self, method, path):
        for route in self.mroutes:
            if route.method == method:
                m = route.regex.match(path)
                if m:
                    return route, {k: v for k, v in m.groupdict().items()}
        # Magento answers 404 for a wrong method too
        raise MagentoError(404, NO_ROUTE)

    @staticmethod
    def _body(req):
        if req.method not in ("POST", "PUT") or not req.body:
            return None
        ctype = req.header("Content-Type")
        if not ctype:
            raise MagentoError(400, CONTENT_TYPE_EMPTY)
        m = re.match(r"^([a-z\d/\-+.]+)(?:; *charset=(.+))?$", ctype.strip(), re.IGNORECASE)
        if not m:
            raise MagentoError(400, CONTENT_TYPE_INVALID)
        if m.group(2) and m.group(2).strip().lower() != "utf-8":
            raise MagentoError(400, CHARSET_UNSUPPORTED)
        if m.group(1).lower() != "application/json":
            raise MagentoError(400, MEDIA_TYPE_UNSUPPORTED, [m.group(1)])
        try:
            return json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise MagentoError(400, DECODING_ERROR)

    # ---- searches -----------------------------------------------------------------------------
    def criteria(self, ctx):
        criteria = parse_search_criteria(ctx.query)
        if self.config["input_limits"]:
            if criteria.page_size is None:
                criteria.page_size = 20  # webapi/validation/default_page_size
            elif criteria.page_size > 300:
                raise MagentoError(400, "Maximum SearchCriteria pageSize is %max", {"max": 300})
        return criteria

    def search_list(self, ctx, items, get, known_fields=None, unknown_error=None):
        """Filter, sort and page a small in-memory list; returns the search envelope."""
        criteria = self.criteria(ctx)
        if known_fields is not None:
            for group in criteria.groups:
                for f in group:
                    if f.field not in known_fields:
                        raise unknown_error(f.field)
        hits = [item for item in items if matches(criteria, lambda field, item=item: get(item, field))]
        sort_items(hits, criteria, get)
        start, stop = page_bounds(criteria, len(hits), self.config["legacy_paging"])
        return {"items": hits[start:stop], "search_criteria": criteria.echo(), "total_count": len(hits)}

    # ---- routes -----------------------------------------------------------------------------
    def setup_routes(self):
        a = self.add
        a("POST", "/V1/integration/admin/token", self.admin_token, ANONYMOUS)
        a("POST", "/V1/tfa/provider/google/authenticate", self.tfa_google, ANONYMOUS)
        # orders
        a("GET", "/V1/orders", self.orders_search, ACL_ORDERS)
        a("GET", "/V1/orders/{id}", self.order_get, ACL_ORDERS)
        a("GET", "/V1/orders/{id}/statuses", self.order_status, ACL_ORDERS)
        # stores (what a connector shows to say which shop it reached)
        a("GET", "/V1/store/storeConfigs", self.store_configs, ("Magento_Backend::store",))
        a("GET", "/V1/store/storeViews", self.store_views, ("Magento_Backend::store",))
        a("GET", "/V1/store/websites", self.store_websites, ("Magento_Backend::store",))
        a("GET", "/V1/store/storeGroups", self.store_groups, ("Magento_Backend::store",))
        a("GET", "/V1/orders/{id}/comments", self.order_comments, ACL_ORDERS)
        a("POST", "/V1/orders/{id}/comments", self.order_add_comment, ("Magento_Sales::comment",))
        a("POST", "/V1/orders/{id}/cancel", self.order_cancel, ("Magento_Sales::cancel",))
        a("POST", "/V1/orders/{id}/hold", self.order_hold, ("Magento_Sales::hold",))
        a("POST", "/V1/orders/{id}/unhold", self.order_unhold, ("Magento_Sales::unhold",))
        a("POST", "/V1/order/{orderId}/ship", self.order_ship, ("Magento_Sales::ship",))
        # customers
        a("GET", "/V1/customers/search", self.customers_search, ACL_CUSTOMERS)
        a("GET", "/V1/customers/{customerId}", self.customer_get, ACL_CUSTOMERS)
        a("POST", "/V1/customers", self.customer_create, ANONYMOUS)
        a("PUT", "/V1/customers/{customerId}", self.customer_update, ACL_CUSTOMERS_EDIT)
        a("DELETE", "/V1/customers/{customerId}", self.customer_delete, ACL_CUSTOMERS_EDIT)
        # products
        a("GET", "/V1/products", self.products_search, ACL_PRODUCTS)
        a("POST", "/V1/products", self.product_save, ACL_PRODUCTS)
        a("GET", "/V1/products/{sku}/media", self.media_list, ACL_CATALOG)
        a("POST", "/V1/products/{sku}/media", self.media_create, ACL_CATALOG)
        a("GET", "/V1/products/{sku}/media/{entryId}", self.media_get, ("Magento_Catalog::attributes_attributes",))
        a("PUT", "/V1/products/{sku}/media/{entryId}", self.media_update, ACL_CATALOG)
        a("DELETE", "/V1/products/{sku}/media/{entryId}", self.media_delete, ACL_CATALOG)
        a("GET", "/V1/products/{sku}/links/{type}", self.links_get, ACL_CATALOG)
        a("POST", "/V1/products/{sku}/links", self.links_add, ACL_CATALOG)
        a("PUT", "/V1/products/{sku}/links", self.links_put, ACL_CATALOG)
        a("PUT", "/V1/products/{productSku}/stockItems/{itemId}", self.stock_item_put, ACL_STOCK)
        a("GET", "/V1/products/{sku}", self.product_get, ACL_PRODUCTS)
        a("PUT", "/V1/products/{sku}", self.product_put, ACL_PRODUCTS)
        a("DELETE", "/V1/products/{sku}", self.product_delete, ACL_PRODUCTS)
        a("GET", "/V1/configurable-products/{sku}/children", self.configurable_children, ACL_PRODUCTS)
        a("GET", "/V1/configurable-products/{sku}/options/all", self.configurable_options, ACL_PRODUCTS)
        a("POST", "/V1/configurable-products/{sku}/options", self.configurable_add_option, ACL_PRODUCTS)
        a("POST", "/V1/configurable-products/{sku}/child", self.configurable_add_child, ACL_PRODUCTS)
        a("DELETE", "/V1/configurable-products/{sku}/children/{childSku}", self.configurable_remove_child,
          ACL_PRODUCTS)
        a("GET", "/V1/bundle-products/{sku}/options/all", self.bundle_options, ACL_PRODUCTS)
        # categories
        a("GET", "/V1/categories", self.categories_tree, ACL_CATEGORIES)
        a("GET", "/V1/categories/list", self.categories_search, ACL_CATEGORIES)
        a("POST", "/V1/categories", self.category_create, ACL_CATEGORIES)
        a("GET", "/V1/categories/{categoryId}", self.category_get, ACL_CATEGORIES)
        a("PUT", "/V1/categories/{id}", self.category_update, ACL_CATEGORIES)
        # legacy stock
        a("GET", "/V1/stockItems/{productSku}", self.stock_item_get, ACL_STOCK)
        a("GET", "/V1/stockStatuses/{productSku}", self.stock_status_get, ACL_STOCK)
        # MSI
        a("GET", "/V1/inventory/source-items", self.source_items_search, ACL_SOURCES)
        a("POST", "/V1/inventory/source-items", self.source_items_save, ACL_SOURCES)
        a("POST", "/V1/inventory/source-items-delete", self.source_items_delete, ACL_SOURCES)
        a("GET", "/V1/inventory/sources", self.sources_search, ACL_SOURCES)
        a("POST", "/V1/inventory/sources", self.source_save, ACL_SOURCES)
        a("GET", "/V1/inventory/sources/{sourceCode}", self.source_get, ACL_SOURCES)
        a("GET", "/V1/inventory/stocks", self.stocks_search, ACL_STOCKS)
        a("POST", "/V1/inventory/stocks", self.stock_save, ACL_STOCKS)
        a("GET", "/V1/inventory/stocks/{stockId}", self.stock_get, ACL_STOCKS)
        a("GET", "/V1/inventory/stock-source-links", self.stock_links_search, ACL_STOCKS)
        a("POST", "/V1/inventory/stock-source-links", self.stock_links_save, ACL_STOCKS)
        a("GET", "/V1/inventory/get-product-salable-quantity/{sku}/{stockId}", self.salable_qty, ACL_STOCKS)
        a("GET", "/V1/inventory/is-product-salable/{sku}/{stockId}", self.is_salable, ACL_STOCKS)
        a("GET", "/V1/inventory/are-products-salable", self.are_salable, ACL_STOCKS)
        a("GET", "/V1/inventory/is-product-salable-for-requested-qty/{sku}/{stockId}/{requestedQty}",
          self.is_salable_for_qty, ACL_STOCKS)
        a("GET", "/V1/inventory/stock-resolver/{type}/{code}", self.stock_resolver, ACL_STOCKS)

    # ---- auth handlers ----------------------------------------------------------------------------
    def admin_token(self, ctx):
        return self.auth.create_admin_token(ctx.body)

    def tfa_google(self, ctx):
        if not self.config["tfa"]:
            raise MagentoError(404, NO_ROUTE)  # Magento_TwoFactorAuth disabled: no such route
        body = ctx.body if isinstance(ctx.body, dict) else {}
        if not body.get("otp"):
            raise required_field_error("otp")
        return self.auth.create_admin_token(body, tfa_otp=body.get("otp"))

    # ---- order handlers ------------------------------------------------------------------------------
    def orders_search(self, ctx):
        criteria = self.criteria(ctx)
        for group in criteria.groups:
            for f in group:
                if f.field not in ORDER_COLUMNS:
                    raise internal_error()  # SQL: unknown column, a masked 500 in production mode
        for field, _ in criteria.sort_orders:
            if field and field not in ORDER_COLUMNS:
                raise internal_error()
        items, total = self.orders.search(criteria, self.config["legacy_paging"])
        return {"items": items, "search_criteria": criteria.echo(), "total_count": total}

    def order_get(self, ctx):
        return self.orders.require(ctx.params["id"])

    # ---- stores: one website, one store group, the store views of --store-codes ----
    def store_configs(self, ctx):
        base = (self.base_url or "http://localhost") + "/"
        out = []
        for code, sid in sorted(self.store_codes.items(), key=lambda kv: kv[1]):
            out.append({"id": sid, "code": code, "website_id": 1, "locale": "sv_SE",
                        "base_currency_code": seeddata.BASE_CURRENCY, "default_display_currency_code": seeddata.BASE_CURRENCY,
                        "timezone": "Europe/Stockholm", "weight_unit": "kgs", "base_url": base, "base_link_url": base,
                        "base_static_url": base + "static/", "base_media_url": base + "media/",
                        "secure_base_url": base, "secure_base_link_url": base,
                        "secure_base_static_url": base + "static/", "secure_base_media_url": base + "media/"})
        return out

    def store_views(self, ctx):
        views = [{"id": 0, "code": "admin", "name": "Admin", "website_id": 0, "store_group_id": 0, "is_active": 1}]
        for code, sid in sorted(self.store_codes.items(), key=lambda kv: kv[1]):
            views.append({"id": sid, "code": code, "name": "Default Store View" if code == "default" else code,
                          "website_id": 1, "store_group_id": 1, "is_active": 1})
        return views

    def store_websites(self, ctx):
        return [{"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
                {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1}]

    def store_groups(self, ctx):
        return [{"id": 0, "website_id": 0, "root_category_id": 0, "default_store_id": 0, "name": "Default",
                 "code": "default"},
                {"id": 1, "website_id": 1, "root_category_id": 2, "default_store_id": 1, "name": "Main Website Store",
                 "code": "main_website_store"}]

    def order_status(self, ctx):
        return self.orders.require(ctx.params["id"])["status"]

    def order_comments(self, ctx):
        order = self.orders.require(ctx.params["id"])
        items = sorted(order.get("status_histories", []), key=lambda h: h.get("entity_id", 0))
        return {"items": items,
                "search_criteria": {"filter_groups": [{"filters": [
                    {"field": "parent_id", "value": str(order["entity_id"]), "condition_type": "eq"}]}]},
                "total_count": len(items)}

    def order_add_comment(self, ctx):
        self.orders.require(ctx.params["id"])
        raw = ctx.body_param("statusHistory")
        data = normalize_keys(raw, STATUS_HISTORY_PROPS, "Magento\\Sales\\Api\\Data\\OrderStatusHistoryInterface")
        order = self.orders.editable(int(ctx.params["id"]))
        wanted = data.get("status")
        status = order["status"]
        if wanted and wanted != status and self._status_change_allowed(order, wanted):
            status = wanted
            order["status"] = wanted
        entry = {"comment": data.get("comment"), "created_at": self.now_text(), "entity_id": self.next_history_id,
                 "entity_name": "order", "is_customer_notified": _int_or_none(data.get("is_customer_notified")),
                 "is_visible_on_front": _int_or_none(data.get("is_visible_on_front")) or 0,
                 "parent_id": order["entity_id"], "status": status}
        self.next_history_id += 1
        order.setdefault("status_histories", []).insert(0, {k: v for k, v in entry.items() if v is not None})
        if entry["is_customer_notified"] == 1:
            self.notifications.append({"order": order["entity_id"], "email": order.get("customer_email"),
                                       "comment": entry["comment"], "status": status, "at": entry["created_at"]})
        self.orders.touch(order, self.now_text())
        return True

    def _status_change_allowed(self, order, wanted):
        mode = self.config["comment_status"]
        if mode == "any":  # <= 2.4.6: any string, even an undefined status (#32968)
            return True
        if mode == "ignore":  # 2.4.7: the comment never changes the status (#38659)
            return False
        allowed = set(STATUSES_OF_STATE.get(order["state"], ()))
        allowed |= {s for s, state in self.config["statuses"].items() if state == order["state"]}
        return wanted in allowed

    def order_cancel(self, ctx):
        order = self.orders.require(ctx.params["id"])
        if order["state"] not in ("new", "pending_payment") and not (
                order["state"] == "processing" and not order.get("total_invoiced")):
            return False
        order = self.orders.editable(order["entity_id"])
        self._set_state(order, "canceled", "canceled", "Order canceled.")
        for item in order.get("items", []):
            item["qty_canceled"] = item.get("qty_ordered", 0) - item.get("qty_invoiced", 0)
        order["total_canceled"] = order.get("grand_total", 0)
        order["base_total_canceled"] = order.get("base_grand_total", 0)
        self.orders.touch(order, self.now_text())
        return True

    def order_hold(self, ctx):
        order = self.orders.require(ctx.params["id"])
        if order["state"] in ("canceled", "payment_review", "complete", "closed", "holded"):
            raise MagentoError(400, "A hold action is not available.")
        order = self.orders.editable(order["entity_id"])
        order["hold_before_state"], order["hold_before_status"] = order["state"], order["status"]
        self._set_state(order, "holded", "holded", None)
        self.orders.touch(order, self.now_text())
        return True

    def order_unhold(self, ctx):
        order = self.orders.require(ctx.params["id"])
        if order["state"] != "holded":
            raise MagentoError(400, "You cannot remove the hold.")
        order = self.orders.editable(order["entity_id"])
        self._set_state(order, order.pop("hold_before_state", "new"), order.pop("hold_before_status", "pending"),
                        None)
        self.orders.touch(order, self.now_text())
        return True

    def order_ship(self, ctx):
        order = self.orders.require(ctx.params["orderId"])
        shippable = [i for i in order.get("items", [])
                     if not i.get("is_virtual") and i.get("qty_ordered", 0) - i.get("qty_shipped", 0)
                     - i.get("qty_canceled", 0) - i.get("qty_refunded", 0) > 0]
        if order["state"] in ("canceled", "closed", "complete", "holded", "payment_review") or not shippable:
            raise MagentoError(400, "Shipment Document Validation Error(s):\nThe order does not allow a shipment "
                                    "to be created.")
        order = self.orders.editable(order["entity_id"])
        for item in order.get("items", []):
            if not item.get("is_virtual"):
                item["qty_shipped"] = item.get("qty_ordered", 0) - item.get("qty_canceled", 0)
        if order.get("total_invoiced") or order.get("base_grand_total") == 0:
            self._set_state(order, "complete", "complete", None)
        else:
            self._set_state(order, "processing", "processing", None)
        self.orders.touch(order, self.now_text())
        shipment_id = self.next_shipment_id
        self.next_shipment_id += 1
        return shipment_id

    def _set_state(self, order, state, status, comment):
        order["state"], order["status"] = state, status
        if comment:
            order.setdefault("status_histories", []).insert(0, {
                "comment": comment, "created_at": self.now_text(), "entity_id": self.next_history_id,
                "entity_name": "order", "is_customer_notified": 0, "is_visible_on_front": 0,
                "parent_id": order["entity_id"], "status": status})
            self.next_history_id += 1

    # ---- customer handlers ----------------------------------------------------------------------------
    def customers_search(self, ctx):
        items = [self.customers.render(c, detail=False) for c in self.customers.items.values()]
        known = {"id", "entity_id", "group_id", "created_at", "updated_at", "created_in", "dob", "email",
                 "firstname", "lastname", "middlename", "prefix", "suffix", "gender", "store_id", "taxvat",
                 "website_id", "default_billing", "default_shipping", "confirmation", "disable_auto_group_change"}

        def get(item, field):
            return item.get("id") if field == "entity_id" else item.get(field)

        return self.search_list(ctx, items, get, known,
                                lambda f: MagentoError(400, "Invalid attribute name: %1", [f]))

    def customer_get(self, ctx):
        return self.customers.render(self.customers.require(ctx.params["customerId"]))

    def customer_create(self, ctx):
        record = self.customers.create(ctx.body_param("customer"))
        return self.customers.render(record)

    def customer_update(self, ctx):
        # CustomerInterface has no setCustomerId, so ParamsOverrider does not copy
        # the path's {customerId} into the body: the body's id decides, and a body
        # without one is saved as a new customer (duplicate e-mail -> 400)
        raw = ctx.body_param("customer")
        body_id = raw.get("id") if isinstance(raw, dict) else None
        if body_id is None:
            return self.customers.render(self.customers.create(raw))
        self.customers.require(body_id)
        return self.customers.render(self.customers.update(body_id, raw))

    def customer_delete(self, ctx):
        self.customers.delete(ctx.params["customerId"])
        return True

    # ---- product handlers -------------------------------------------------------------------------------
    def _product_json(self, rec, ctx):
        return self.catalog.render(rec, ctx.store_id)

    def products_search(self, ctx):
        store = ctx.store_id
        items = [self.catalog.render(rec, store) for rec in sorted(self.catalog.products.values(),
                                                                     key=lambda r: r["id"])]

        def get(item, field):
            if field in ("entity_id", "id"):
                return item["id"]
            if field == "category_id":
                return [l["category_id"] for l in item["extension_attributes"].get("category_links", [])]
            if field in item and not isinstance(item[field], (dict, list)):
                return item[field]
            for attr in item.get("custom_attributes", []):
                if attr["attribute_code"] == field:
                    return attr["value"]
            return None

        known = {"entity_id", "id", "sku", "name", "price", "status", "visibility", "type_id", "attribute_set_id",
                 "created_at", "updated_at", "weight", "category_id", "category_ids", "store_id", "website_id"}
        known |= {"description", "short_description", "meta_title", "meta_keyword", "meta_description", "url_key",
                  "tax_class_id", "special_price", "cost", "color", "size", "ean", "material", "pattern",
                  "news_from_date", "news_to_date", "country_of_manufacture", "manufacturer"}
        return self.search_list(ctx, items, get, known,
                                lambda f: MagentoError(400, "Invalid attribute name: %1", [f]))

    def product_get(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        store_id = ctx.query.get("storeId")
        if store_id not in (None, ""):
            return self.catalog.render(rec, int(store_id) if str(store_id).isdigit() else ctx.store_id)
        return self._product_json(rec, ctx)

    def product_save(self, ctx):
        data = ctx.body_param("product")
        if not isinstance(data, dict):
            raise required_field_error("product")
        rec = self.catalog.save(data, ctx.store_id, ctx.store_code)
        return self._product_json(rec, ctx)

    def product_put(self, ctx):
        data = ctx.body_param("product")
        if not isinstance(data, dict):
            raise required_field_error("product")
        # ParamsOverrider: the sku in the path replaces (or adds) product.sku
        data = {k: v for k, v in data.items() if k != "sku"}
        data["sku"] = ctx.params["sku"]
        rec = self.catalog.save(data, ctx.store_id, ctx.store_code)
        return self._product_json(rec, ctx)

    def product_delete(self, ctx):
        self.catalog.delete(self.catalog.require(ctx.params["sku"]))
        return True

    def media_list(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return [self.catalog.render_media(m) for m in rec["media"]]

    def media_get(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return self.catalog.render_media(self.catalog.media(rec, ctx.params["entryId"]))

    def media_create(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return self.catalog.add_media(rec, ctx.body_param("entry"))

    def media_update(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        self.catalog.update_media(rec, ctx.params["entryId"], ctx.body_param("entry"))
        return True

    def media_delete(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        rec["media"].remove(self.catalog.media(rec, ctx.params["entryId"]))
        return True

    def links_get(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return [l for l in rec["product_links"] if l["link_type"] == ctx.params["type"]]

    def links_add(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        self.catalog.add_links(rec, ctx.body_param("items"))
        return True

    def links_put(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        self.catalog.add_links(rec, [ctx.body_param("entity")])
        return True

    def configurable_children(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return [self._product_json(child, ctx) for child in self.catalog.children(rec)]

    def configurable_options(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return copy.deepcopy(rec["configurable_options"])

    def configurable_add_option(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return self.catalog.add_configurable_option(rec, ctx.body_param("option"))

    def configurable_add_child(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        self.catalog.add_configurable_child(rec, ctx.body_param("childSku"))
        return True

    def configurable_remove_child(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        self.catalog.remove_configurable_child(rec, ctx.params["childSku"])
        return True

    def bundle_options(self, ctx):
        rec = self.catalog.require(ctx.params["sku"])
        return self.catalog.render_bundle_options(rec)

    # ---- category handlers ---------------------------------------------------------------------------
    def categories_tree(self, ctx):
        root = ctx.query.get("rootCategoryId")
        if root in (None, ""):
            # the store's root category; the admin scope (all) starts at the tree root
            root = 1 if ctx.store_id == 0 else 2
        depth = ctx.query.get("depth")
        return self.catalog.tree(root, int(depth) if depth not in (None, "") else None)

    def categories_search(self, ctx):
        items = [self.catalog.render_category(c) for c in sorted(self.catalog.categories.values(),
                                                                 key=lambda c: c["id"])]
        return self.search_list(ctx, items, lambda item, field: item.get("id") if field == "entity_id"
                                else item.get(field))

    def category_get(self, ctx):
        return self.catalog.render_category(self.catalog.require_category(ctx.params["categoryId"]))

    def category_create(self, ctx):
        return self.catalog.render_category(self.catalog.save_category(ctx.body_param("category")))

    def category_update(self, ctx):
        return self.catalog.render_category(self.catalog.save_category(ctx.body_param("category"),
                                                                       ctx.params["id"]))

    # ---- stock handlers ------------------------------------------------------------------------------------
    def stock_item_get(self, ctx):
        return self.catalog.stock_item(self.catalog.require(ctx.params["productSku"]))

    def stock_item_put(self, ctx):
        # the {itemId} segment is not a service parameter: the SKU decides
        rec = self.catalog.require(ctx.params["productSku"])
        return self.catalog.update_stock_item(rec, ctx.body_param("stockItem"))

    def stock_status_get(self, ctx):
        rec = self.catalog.require(ctx.params["productSku"])
        item = self.catalog.stock_item(rec)
        return {"product_id": rec["id"], "stock_id": 1, "qty": int(item["qty"]),
                "stock_status": 1 if item["is_in_stock"] else 0, "stock_item": item}

    def source_items_search(self, ctx):
        items = sorted(self.catalog.source_items.values(), key=lambda s: (s["sku"].casefold(), s["source_code"]))
        return self.search_list(ctx, [dict(s) for s in items], lambda item, field: item.get(field))

    def source_items_save(self, ctx):
        self.catalog.save_source_items(ctx.body_param("sourceItems"))
        self.orders._reservations = None
        return []

    def source_items_delete(self, ctx):
        self.catalog.delete_source_items(ctx.body_param("sourceItems"))
        return []

    def sources_search(self, ctx):
        return self.search_list(ctx, [dict(s) for s in self.catalog.sources.values()],
                                lambda item, field: item.get(field))

    def source_get(self, ctx):
        source = self.catalog.sources.get(ctx.params["sourceCode"])
        if source is None:
            raise MagentoError(404, 'Source with code "%value" does not exist.', {"value": ctx.params["sourceCode"]})
        return source

    def source_save(self, ctx):
        data = ctx.body_param("source")
        if not isinstance(data, dict) or not data.get("source_code") or not data.get("name"):
            raise MagentoError(400, "Validation Failed", errors=[
                ('"%field" can not be empty.', {"field": "source_code" if not (data or {}).get("source_code")
                                                else "name"})])
        source = {"source_code": data["source_code"], "name": data["name"],
                  "enabled": as_bool(data.get("enabled", True))}
        for key in ("description", "country_id", "postcode", "city", "street", "email", "contact_name", "phone"):
            if data.get(key) is not None:
                source[key] = data[key]
        source.update({"use_default_carrier_config": True, "carrier_links": []})
        self.catalog.sources[data["source_code"]] = source
        return []

    def stocks_search(self, ctx):
        return self.search_list(ctx, [copy.deepcopy(s) for s in self.catalog.stocks.values()],
                                lambda item, field: item.get(field))

    def stock_get(self, ctx):
        return copy.deepcopy(self.catalog.stocks[self.catalog.require_stock(ctx.params["stockId"])])

    def stock_save(self, ctx):
        data = ctx.body_param("stock")
        if not isinstance(data, dict) or not data.get("name"):
            raise MagentoError(400, "Validation Failed", errors=[('"%field" can not be empty.', {"field": "name"})])
        stock_id = max(self.catalog.stocks) + 1
        self.catalog.stocks[stock_id] = {"stock_id": stock_id, "name": data["name"],
                                         "extension_attributes": data.get("extension_attributes") or
                                         {"sales_channels": []}}
        return stock_id

    def stock_links_search(self, ctx):
        return self.search_list(ctx, [dict(l) for l in self.catalog.stock_links], lambda item, field: item.get(field))

    def stock_links_save(self, ctx):
        for link in ctx.body_param("links") or []:
            entry = {"stock_id": int(link["stock_id"]), "source_code": link["source_code"],
                     "priority": int(link.get("priority", 1))}
            self.catalog.stock_links = [l for l in self.catalog.stock_links
                                        if (l["stock_id"], l["source_code"]) != (entry["stock_id"],
                                                                                 entry["source_code"])]
            self.catalog.stock_links.append(entry)
        return []

    def salable_qty(self, ctx):
        return self.catalog.salable_qty(ctx.params["sku"], ctx.params["stockId"], self.orders.reservations())

    def is_salable(self, ctx):
        return self.catalog.is_salable(ctx.params["sku"], ctx.params["stockId"], self.orders.reservations())

    def are_salable(self, ctx):
        skus = ctx.query.get("skus")
        skus = list(skus.values()) if isinstance(skus, dict) else ([skus] if skus else [])
        stock_id = self.catalog.require_stock(ctx.query.get("stockId"))
        reservations = self.orders.reservations()
        out = []
        for sku in skus:
            salable = self.catalog.find(sku) is not None and self.catalog.is_salable(sku, stock_id, reservations)
            out.append({"sku": sku, "stock_id": stock_id, "salable": salable})
        return out

    def is_salable_for_qty(self, ctx):
        try:
            requested = float(ctx.params["requestedQty"])
        except ValueError:
            raise MagentoError(400, 'The "%value" value\'s type is invalid. The "%type" type was expected. '
                                    'Verify and try again.', {"value": ctx.params["requestedQty"], "type": "float"})
        qty = self.catalog.salable_qty(ctx.params["sku"], ctx.params["stockId"], self.orders.reservations())
        if requested <= qty:
            return {"salable": True, "errors": []}
        return {"salable": False, "errors": [{"code": "is_correct_qty-not_enough",
                                              "message": "The requested qty is not available"}]}

    def stock_resolver(self, ctx):
        for stock in self.catalog.stocks.values():
            for channel in stock.get("extension_attributes", {}).get("sales_channels", []):
                if channel.get("type") == ctx.params["type"] and channel.get("code") == ctx.params["code"]:
                    return copy.deepcopy(stock)
        raise MagentoError(404, "No linked stock found")


class _PathAlias:
    """The bits of a request Fault.matches looks at, with the store prefix removed."""

    def __init__(self, method, path):
        self.method = method
        self.path = path


def _int_or_none(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def extra_arguments(parser):
    d = DEFAULTS
    parser.add_argument("--admin-user", default=d["admin_user"], help="admin user name (default admin)")
    parser.add_argument("--admin-password", default=d["admin_password"], help="admin password (default admin123)")
    parser.add_argument("--consumer-key", default=d["consumer_key"], help="integration consumer key (32 chars)")
    parser.add_argument("--consumer-secret", default=d["consumer_secret"], help="integration consumer secret")
    parser.add_argument("--access-token", default=d["access_token"], help="integration access token (32 chars)")
    parser.add_argument("--access-token-secret", default=d["access_token_secret"],
                        help="integration access token secret")
    parser.add_argument("--bearer", action="store_true",
                        help="accept the integration access token as a Bearer token "
                             "(oauth/consumer/enable_integration_as_bearer = 1)")
    parser.add_argument("--tfa", action="store_true",
                        help="Magento_TwoFactorAuth on: the admin token endpoint refuses, use "
                             "/V1/tfa/provider/google/authenticate with a TOTP")
    parser.add_argument("--tfa-secret", default=d["tfa_secret"], help="base32 TOTP secret of the admin user")
    parser.add_argument("--legacy-paging", action="store_true",
                        help="Magento <= 2.3: a page past the last one repeats the last page")
    parser.add_argument("--input-limits", action="store_true",
                        help="webapi/validation/input_limit_enabled: pageSize <= 300, default 20")
    parser.add_argument("--acl", default=None,
                        help="comma-separated ACL resources the integration has (default: all)")
    parser.add_argument("--comment-status", choices=("state", "any", "ignore"), default="state",
                        help="status change through POST /V1/orders/{id}/comments: state = only a status of the "
                             "order's current state (default), any = any string (<= 2.4.6), ignore = never (2.4.7)")
    parser.add_argument("--status", action="append", metavar="STATUS:STATE",
                        help="a custom order status assigned to a state (repeatable)")
    parser.add_argument("--store-codes", default="default",
                        help="comma-separated store view codes besides 'all' (default: default)")


def main(argv=None):
    return serve(Magento2Emulator, argv, description="Magento 2.4 REST API emulator",
                 extra_arguments=extra_arguments)


if __name__ == "__main__":
    sys.exit(main())
