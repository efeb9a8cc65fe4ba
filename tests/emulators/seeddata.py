"""Deterministic demo data shared by ferry's emulators (standard library only).

One seed gives one shop: the Magento 2 emulator serves it and the eAccounting
emulator pre-creates the matching articles and customers, so both sides agree
on SKUs, EANs, prices, VAT rates and customer identities.

Public API (everything returns plain, JSON-serialisable dicts and lists):

    catalogue(seed=1)            -> [product, ...]      products in id order
    customers(seed=1)            -> [customer, ...]     registered customers
    attributes()                 -> {code: {...}}       configurable attributes
    categories()                 -> [category, ...]     category tree, flat
    order_heads(seed, n, custs)  -> [head, ...]         cheap per-order summary
    order(seed, n, index, catalogue, customers, heads=None) -> order
    orders(seed, n, catalogue, customers) -> OrderList  lazy sequence of orders
    vat_rate(country_id, tax_class_id, customer_group_id) -> percent (number)
    ean13(digits12)              -> EAN-13 with its check digit

The shop: base currency SEK, catalogue prices EXCLUDING tax (Magento's
default), VAT by destination (OSS) for consumers in the EU, 0 % for EU
companies with a VAT number (customer group 4, reverse charge) and for
exports outside the EU.  Orders carry every amount the way Magento computes
it, in the base currency and in the order currency:

    row_total       = price * qty
    tax_amount      = (row_total - discount) * rate        (tax after discount)
    grand_total     = subtotal + shipping + tax - |discount|
                      + discount_tax_compensation           (see below)

"incl" discounts simulate a store configured with "Apply Discount On Prices:
Including Tax": the discount is taken from the price including tax and the VAT
share of it comes back as discount_tax_compensation_amount, as Magento does.

Orders are a function of (seed, n, index), hashed by their age (n - 1 -
index), so the newest orders are the same whatever n: the timeline ends at
ANCHOR and goes back in time, the newest len(SCENARIOS) orders are
hand-written so every feature is present whenever n >= len(SCENARIOS), the
newest OPEN_WINDOW orders may be open (pending, processing, ...), older ones
are settled (complete, canceled, closed).  Orders 3, 4 and 5 of every block
of ten share one updated_at second (a mass action in the admin), which
incremental-sync tests need.  order_heads() is cheap (100,000 in about a
second); order() builds one full order (about 0.1 ms).
"""

import calendar
import decimal
import random
import time

D = decimal.Decimal
CENT = D("0.01")

ANCHOR = calendar.timegm((2025, 10, 1, 12, 0, 0))  # the newest order's created_at
ORDER_SPACING = 240  # seconds between two orders, on average
OPEN_WINDOW = 60  # the newest orders that may still be open
BASE_CURRENCY = "SEK"
# base_to_order_rate per order currency (fixed, the demo shop's rates)
CURRENCY_RATES = {"SEK": D("1"), "EUR": D("0.0870"), "NOK": D("0.9800"), "USD": D("0.0950")}

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
# product tax classes (Magento: tax_class_id custom attribute)
TAX_CLASSES = {2: "Taxable Goods", 5: "Food", 6: "Books"}
# VAT percent by destination country and product tax class (B2C, OSS)
VAT_RATES = {
    "SE": {2: D("25"), 5: D("12"), 6: D("6")},
    "DK": {2: D("25"), 5: D("25"), 6: D("25")},
    "DE": {2: D("19"), 5: D("7"), 6: D("7")},
    "FI": {2: D("25.5"), 5: D("14"), 6: D("10")},
    "NL": {2: D("21"), 5: D("9"), 6: D("9")},
    "FR": {2: D("20"), 5: D("5.5"), 6: D("5.5")},
}
CUSTOMER_GROUPS = {0: "NOT LOGGED IN", 1: "General", 2: "Wholesale", 3: "Retailer", 4: "EU Reverse Charge"}
REVERSE_CHARGE_GROUP = 4

STATE_OF_STATUS = {
    "pending": "new",
    "pending_payment": "pending_payment",
    "processing": "processing",
    "holded": "holded",
    "complete": "complete",
    "canceled": "canceled",
    "closed": "closed",
}
OPEN_STATUSES = ("pending", "pending_payment", "processing", "holded")

PAYMENT_METHODS = {
    "checkmo": "Check / Money order",
    "banktransfer": "Bank Transfer Payment",
    "cashondelivery": "Cash On Delivery",
    "purchaseorder": "Purchase Order",
    "free": "No Payment Information Required",
}
SHIPPING_METHODS = {
    "flatrate_flatrate": "Flat Rate - Fixed",
    "tablerate_bestway": "Best Way - Table Rate",
    "freeshipping_freeshipping": "Free Shipping - Free",
}
# shipping price excl. tax in SEK by destination zone
SHIPPING_PRICE = {"SE": D("39.20"), "EU": D("79.20"), "WORLD": D("159.20")}

ATTRIBUTES = {
    "color": {"attribute_id": 93, "label": "Color", "options": {"Black": "49", "Green": "53", "Grey": "52"}},
    "size": {"attribute_id": 141, "label": "Size", "options": {"S": "167", "M": "168", "L": "169", "XL": "170"}},
}

_COLOR_CODES = {"Black": "BLK", "Green": "GRN", "Grey": "GRY"}  # in variant SKUs

_CATEGORIES = [
    # id, parent, name, position
    (1, 0, "Root Catalog", 0),
    (2, 1, "Default Category", 1),
    (3, 2, "Kitchen & Coffee", 1),
    (4, 2, "Clothing", 2),
    (5, 2, "Books", 3),
    (6, 2, "Outdoor", 4),
    (7, 2, "Gifts", 5),
]

# sku, name, type, SEK price incl. 25/12/6 % Swedish VAT, tax class, weight, categories
_SIMPLES = [
    ("MUG-STONE", "Stoneware Mug", "149", 2, "0.4", [3, 7]),
    ("CANDLE-BIRCH", "Birch Scented Candle", "99", 2, "0.3", [7]),
    ("BLANKET-WOOL", "Wool Blanket", "899", 2, "1.2", [6, 7]),
    ("COFFEE-DARK-500", "Dark Roast Coffee 500 g", "119", 5, "0.5", [3]),
    ("COFFEE-LIGHT-500", "Light Roast Coffee 500 g", "129", 5, "0.5", [3]),
    ("CHOC-SEASALT", "Sea Salt Chocolate", "45", 5, "0.1", [3, 7]),
    ("BOOK-FIKA", "The Art of Fika (hardcover)", "249", 6, "0.6", [5]),
    ("BOOK-HIKING", "Hiking the North", "299", 6, "0.7", [5, 6]),
    ("FILTER-V60", "Coffee Filter Papers", "59", 2, "0.1", [3]),
    ("THERMOS-1L", "Steel Thermos 1 L", "349", 2, "0.6", [3, 6]),
    ("SOCKS-WOOL", "Wool Socks", "129", 2, "0.1", [4, 6]),
    ("GIFT-SAMPLE", "Free Coffee Sample", "0", 5, "0.05", [7]),
]
_VIRTUALS = [("EBOOK-FIKA", "The Art of Fika (e-book)", "149", 6, [5])]
_CONFIGURABLES = [
    # sku, name, price incl, tax class, weight, categories, attribute codes, variants
    ("TEE-LOGO", "Logo T-Shirt", "249", 2, "0.2", [4],
     ["size"], [("S",), ("M",), ("L",), ("XL",)]),
    ("HOODIE-FJALL", "Fjäll Hoodie", "699", 2, "0.6", [4, 6],
     ["color", "size"], [("Black", "M"), ("Black", "L"), ("Green", "M"), ("Green", "L")]),
]
_GROUPED = [("SET-BREWING", "Brewing Starter Set", [3, 7],
             [("COFFEE-DARK-500", 1), ("FILTER-V60", 1), ("MUG-STONE", 2)])]
_BUNDLES = [
    # sku, name, price type, fixed price incl, categories, options [(title, [(sku, qty, default)])]
    ("BOX-FIKA", "Fika Gift Box", "dynamic", None, [7],
     [("Coffee", [("COFFEE-DARK-500", 1, True), ("COFFEE-LIGHT-500", 1, False)]),
      ("Treat", [("CHOC-SEASALT", 2, True)]),
      ("Mug", [("MUG-STONE", 1, True)])]),
    ("KIT-CAMP", "Camp Kit", "fixed", "999", [6],
     [("Thermos", [("THERMOS-1L", 1, True)]),
      ("Warmth", [("BLANKET-WOOL", 1, True), ("SOCKS-WOOL", 2, False)])]),
]

_NAMES = {
    "SE": (["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Elin", "Oskar", "Sofia", "Nils"],
           ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Lindqvist", "Bergström"]),
    "DE": (["Lukas", "Sophie", "Jonas", "Lena"], ["Müller", "Schmidt", "Schneider", "Fischer"]),
    "FI": (["Mikko", "Aino", "Juha", "Laura"], ["Virtanen", "Korhonen", "Mäkinen", "Nieminen"]),
    "DK": (["Mads", "Freja"], ["Jensen", "Nielsen"]),
    "NL": (["Daan", "Sanne"], ["de Jong", "Jansen"]),
    "FR": (["Camille", "Louis"], ["Martin", "Bernard"]),
    "NO": (["Ola", "Ingrid", "Kari"], ["Hansen", "Olsen", "Berg"]),
    "US": (["Emily", "James", "Jane"], ["Smith", "Johnson", "Doe"]),
    "GB": (["Oliver", "Amelia"], ["Taylor", "Brown"]),
}
_ADDRESSES = {
    # street, city, postcode, phone prefix, (region, region_code, region_id) or None
    "SE": [("Storgatan 12", "Stockholm", "111 22", "+46 8", None),
           ("Kungsgatan 5", "Göteborg", "411 19", "+46 31", None),
           ("Södra Förstadsgatan 3", "Malmö", "211 43", "+46 40", None),
           ("Rådhusesplanaden 8", "Umeå", "903 28", "+46 90", None)],
    "DE": [("Friedrichstraße 44", "Berlin", "10117", "+49 30", None)],
    "FI": [("Mannerheimintie 10", "Helsinki", "00100", "+358 9", None)],
    "DK": [("Strøget 20", "København K", "1160", "+45", None)],
    "NL": [("Damrak 70", "Amsterdam", "1012 LM", "+31 20", None)],
    "FR": [("12 Rue de Rivoli", "Paris", "75004", "+33 1", None)],
    "NO": [("Karl Johans gate 15", "Oslo", "0154", "+47", None)],
    "US": [("123 Oak Ave", "Purchase", "10577", "+1 512", ("New York", "NY", 43)),
           ("6146 Honey Bluff Parkway", "Calder", "49628-7978", "+1 555", ("Michigan", "MI", 33))],
    "GB": [("221B Baker Street", "London", "NW1 6XE", "+44 20", None)],
}
_COMPANIES = {
    "SE": ["Fjällbacka Kaffe AB", "Nordljus Design AB"],
    "DE": ["Bergmann GmbH"],
    "FI": ["Kahvila Aurora Oy"],
    "NL": ["Van Dijk Koffie B.V."],
    "FR": ["Atelier Lumière SARL"],
    "NO": ["Fjordkaffe AS"],
    "US": ["Great Lakes Trading LLC"],
    "GB": ["Thames Tea Ltd"],
}
# (kind, country, has VAT number) of the registered customers, in id order
_CUSTOMER_PLAN = [
    ("private", "SE", False), ("private", "SE", False), ("company", "SE", True), ("private", "SE", False),
    ("private", "DE", False), ("company", "DE", True), ("private", "FI", False), ("company", "FI", True),
    ("private", "DK", False), ("private", "NL", False), ("company", "NL", True), ("private", "FR", False),
    ("company", "FR", False), ("private", "NO", False), ("company", "NO", True), ("private", "US", False),
    ("company", "US", False), ("private", "GB", False), ("company", "GB", True), ("private", "SE", False),
    ("company", "SE", True), ("private", "SE", False), ("private", "DE", False), ("private", "FI", False),
]
CURRENCY_OF_COUNTRY = {"SE": "SEK", "NO": "NOK", "US": "USD"}  # everything else pays in EUR

# The newest orders, newest first: every feature ferry must handle is here.
# customer: index into customers() or ("guest", country); lines: (sku, qty)
# where sku may be "SKU>CHILD" (configurable child) or "BUNDLE{i,j}" (bundle
# selections, one per option); discount: (mode, percent, coupon) or None.
SCENARIOS = [
    dict(status="pending", customer=0, currency="SEK", lines=[("MUG-STONE", 2)], payment="checkmo"),
    dict(status="processing", customer=2, currency="SEK", payment="purchaseorder",
         lines=[("TEE-LOGO>TEE-LOGO-M", 3), ("COFFEE-DARK-500", 4), ("BOOK-FIKA", 1)],
         discount=("excl", 10, "B2B10")),
    dict(status="complete", customer=("guest", "SE"), currency="SEK", payment="banktransfer",
         lines=[("BOX-FIKA{0,0,0}", 1), ("GIFT-SAMPLE", 1)], free_shipping=True),
    dict(status="canceled", customer=4, currency="EUR", lines=[("HOODIE-FJALL>HOODIE-FJALL-GRN-L", 1)],
         payment="checkmo"),
    dict(status="holded", customer=5, currency="EUR", payment="banktransfer",
         lines=[("KIT-CAMP{0,0}", 2), ("THERMOS-1L", 1)]),
    dict(status="closed", customer=13, currency="NOK", lines=[("SET-BREWING", 1)], payment="checkmo"),
    dict(status="processing", customer=15, currency="USD", lines=[("BLANKET-WOOL", 1), ("SOCKS-WOOL", 3)],
         discount=("excl", 15, "WELCOME15"), payment="checkmo"),
    dict(status="pending", customer=("guest", "DE"), currency="EUR", lines=[("CHOC-SEASALT", 5)],
         payment="cashondelivery"),
    dict(status="complete", customer=7, currency="EUR", lines=[("COFFEE-LIGHT-500", 10), ("FILTER-V60", 5)],
         payment="banktransfer"),
    dict(status="complete", customer=1, currency="SEK", lines=[("EBOOK-FIKA", 1)], payment="checkmo"),
    dict(status="processing", customer=3, currency="SEK", payment="checkmo",
         lines=[("CANDLE-BIRCH", 2), ("BOOK-HIKING", 1), ("COFFEE-DARK-500", 1)],
         discount=("incl", 20, "FIKA20")),
    dict(status="pending_payment", customer=6, currency="EUR", lines=[("THERMOS-1L", 1)], payment="checkmo"),
    dict(status="complete", customer=12, currency="EUR", lines=[("TEE-LOGO>TEE-LOGO-S", 2)],
         payment="banktransfer"),
    dict(status="canceled", customer=("guest", "NO"), currency="NOK", lines=[("MUG-STONE", 1)],
         payment="checkmo"),
    dict(status="complete", customer=17, currency="EUR", lines=[("BOOK-FIKA", 2), ("CHOC-SEASALT", 2)],
         discount=("excl", 5, "SPRING5"), payment="checkmo"),
    dict(status="closed", customer=18, currency="EUR", lines=[("BLANKET-WOOL", 3)], payment="purchaseorder"),
    dict(status="pending", customer=14, currency="NOK", lines=[("COFFEE-DARK-500", 6), ("MUG-STONE", 6)],
         payment="banktransfer", free_shipping=True),
    dict(status="processing", customer=9, currency="EUR", payment="checkmo",
         lines=[("HOODIE-FJALL>HOODIE-FJALL-BLK-M", 1), ("BOX-FIKA{1,0,0}", 1)]),
    dict(status="complete", customer=("guest", "SE"), currency="SEK", lines=[("GIFT-SAMPLE", 1)],
         payment="free", free_shipping=True),
    dict(status="holded", customer=10, currency="EUR", lines=[("SET-BREWING", 2)], payment="banktransfer"),
    dict(status="complete", customer=16, currency="USD", lines=[("KIT-CAMP{0,1}", 1)], payment="purchaseorder"),
    dict(status="canceled", customer=20, currency="SEK", lines=[("COFFEE-LIGHT-500", 20)],
         discount=("excl", 12, "BULK12"), payment="purchaseorder"),
    dict(status="complete", customer=8, currency="EUR", lines=[("TEE-LOGO>TEE-LOGO-XL", 1), ("SOCKS-WOOL", 2)],
         payment="checkmo"),
    dict(status="processing", customer=11, currency="EUR", lines=[("CANDLE-BIRCH", 4)],
         discount=("incl", 10, "CANDLE10"), payment="checkmo"),
]

_MASK = 0xFFFFFFFFFFFFFFFF


def _splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(*parts):
    """A fast 64-bit hash of integers; stable across Python versions."""
    h = 0x6A09E667F3BCC908
    for p in parts:
        h = _splitmix(h ^ (p & _MASK))
    return h


def ean13(digits12):
    """EAN-13: the 12 given digits plus the GS1 check digit."""
    digits12 = str(digits12)
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits12))
    return digits12 + str((10 - total % 10) % 10)


def _ean(seed, product_id):
    # GS1 prefix 20-29 is "restricted circulation": never a real trade item
    return ean13("20%010d" % (_mix(seed, product_id, 13) % 10**10))


def money(value):
    """A Decimal amount as JSON wants it: int when integral (Magento prints 22, not 22.0)."""
    value = D(value).quantize(CENT, decimal.ROUND_HALF_UP)
    return int(value) if value == value.to_integral_value() else float(value)


def _r2(value):
    return D(value).quantize(CENT, decimal.ROUND_HALF_UP)


def fmt_time(epoch):
    """Magento's datetime format: UTC, no zone."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def vat_rate(country_id, tax_class_id, customer_group_id):
    """VAT percent (Decimal) Magento's tax rules of the demo shop apply."""
    if customer_group_id == REVERSE_CHARGE_GROUP or country_id not in EU_COUNTRIES:
        return D("0")
    table = VAT_RATES.get(country_id)
    if table is None:  # an EU country without its own row: the Swedish rates
        table = VAT_RATES["SE"]
    return table.get(int(tax_class_id), table[2])


def _excl_from_incl(price_incl, tax_class_id):
    rate = VAT_RATES["SE"][tax_class_id]
    return _r2(D(price_incl) * 100 / (100 + rate))


def _url_key(name):
    out = []
    for ch in name.lower():
        ch = {"ä": "a", "å": "a", "ö": "o", "ü": "u", "é": "e", "ø": "o", "è": "e"}.get(ch, ch)
        out.append(ch if ch.isalnum() else "-")
    return "-".join(part for part in "".join(out).split("-") if part)


# ---- catalogue ----------------------------------------------------------------

def attributes():
    """Configurable attributes: {code: {attribute_id, label, options {label: option id string}}}."""
    return {code: dict(a, options=dict(a["options"])) for code, a in ATTRIBUTES.items()}


def categories():
    """Flat category list: id, parent_id, name, position, level, path, is_active."""
    out, by_id = [], {}
    for cid, parent, name, pos in _CATEGORIES:
        level = 0 if parent == 0 else by_id[parent]["level"] + 1
        path = str(cid) if parent == 0 else by_id[parent]["path"] + "/" + str(cid)
        row = {"id": cid, "parent_id": parent, "name": name, "position": pos, "level": level,
               "path": path, "is_active": True}
        by_id[cid] = row
        out.append(row)
    return out


def _product(seed, pid, sku, name, ptype, price_incl, tax_class, weight, cats, qty):
    price = _excl_from_incl(price_incl, tax_class) if price_incl is not None else None
    return {
        "id": pid,
        "sku": sku,
        "name": name,
        "type": ptype,
        "ean": _ean(seed, pid),
        "price": money(price) if price is not None else None,
        "price_incl_tax": money(D(price_incl)) if price_incl is not None else None,
        "tax_class_id": tax_class,
        "tax_class_name": TAX_CLASSES[tax_class],
        "tax_rate": money(VAT_RATES["SE"][tax_class]),
        "weight": float(weight) if weight is not None else None,
        "qty": qty,
        "visibility": 4,
        "status": 1,
        "category_ids": list(cats),
        "url_key": _url_key(name),
        "description": "%s from the ferry demo shop." % name,
        "children": [],
        "parent_sku": None,
        "attributes": {},
    }


def catalogue(seed=1):
    """The products, in id order.

    Each product: id, sku, name, type (simple|virtual|configurable|grouped|
    bundle), ean (EAN-13 string), price (SEK excl. tax; 0 for configurable and
    dynamic-bundle parents, None for grouped), price_incl_tax (at the Swedish
    rate), tax_class_id, tax_class_name, tax_rate (Swedish percent), weight,
    qty (stock on the default source), visibility, status, category_ids,
    url_key, description, children (configurable: variant SKUs; grouped:
    [{sku, qty}]; bundle: []), parent_sku (variants), attributes (variants:
    {code: option label}), configurable_attributes (configurable: codes),
    bundle_price_type (bundle: "fixed"|"dynamic") and bundle_options (bundle:
    [{title, required, type, selections: [{sku, qty, is_default}]}]).
    """
    rng = random.Random(_mix(seed, 1))
    products, pid = [], 0

    def next_id():
        nonlocal pid
        pid += 1
        return pid

    for sku, name, price, tax_class, weight, cats in _SIMPLES:
        qty = 1000 if sku == "GIFT-SAMPLE" else rng.randrange(40, 400)
        products.append(_product(seed, next_id(), sku, name, "simple", price, tax_class, weight, cats, qty))
    for sku, name, price, tax_class, cats in _VIRTUALS:
        p = _product(seed, next_id(), sku, name, "virtual", price, tax_class, None, cats, 9999)
        products.append(p)
    for sku, name, price, tax_class, weight, cats, codes, variants in _CONFIGURABLES:
        children = []
        for values in variants:
            label = "-".join(_COLOR_CODES.get(v, v) for v in values)
            csku = "%s-%s" % (sku, label)
            cname = "%s-%s" % (name, "-".join(values))
            # one variant is dearer, so "the child price" is not one number
            cprice = str(int(price) + 50) if values[-1] == "XL" else price
            child = _product(seed, next_id(), csku, cname, "simple", cprice, tax_class, weight, cats,
                             rng.randrange(5, 60))
            child["visibility"] = 1
            child["parent_sku"] = sku
            child["attributes"] = dict(zip(codes, values))
            products.append(child)
            children.append(csku)
        parent = _product(seed, next_id(), sku, name, "configurable", "0", tax_class, weight, cats, 0)
        parent["children"] = children
        parent["configurable_attributes"] = list(codes)
        products.append(parent)
    for sku, name, cats, members in _GROUPED:
        p = _product(seed, next_id(), sku, name, "grouped", None, 2, None, cats, 0)
        p["children"] = [{"sku": s, "qty": q} for s, q in members]
        products.append(p)
    for sku, name, price_type, price, cats, options in _BUNDLES:
        p = _product(seed, next_id(), sku, name, "bundle", price if price_type == "fixed" else "0", 2,
                     None, cats, 0)
        p["bundle_price_type"] = price_type
        p["bundle_options"] = [
            {"title": title, "required": True, "type": "select",
             "selections": [{"sku": s, "qty": q, "is_default": d} for s, q, d in sels]}
            for title, sels in options
        ]
        products.append(p)
    return products


# ---- customers ----------------------------------------------------------------

def _vat_number(seed, country, i):
    n = _mix(seed, i, 77)
    if country == "SE":
        return "SE%010d01" % (5560000000 + n % 99999999)
    if country == "NL":
        return "NL%09dB01" % (n % 10**9)
    if country == "NO":
        return "NO%09dMVA" % (900000000 + n % 99999999)
    if country in ("FI", "DK"):
        return "%s%08d" % (country, n % 10**8)
    return "%s%09d" % (country, n % 10**9)


def _person(seed, country, i, salt):
    first, last = _NAMES[country]
    h = _mix(seed, i, salt)
    return first[h % len(first)], last[(h >> 8) % len(last)]


def _address(seed, country, i, salt):
    options = _ADDRESSES[country]
    street, city, postcode, phone, region = options[_mix(seed, i, salt) % len(options)]
    addr = {"street": [street], "city": city, "postcode": postcode, "country_id": country,
            "telephone": "%s %07d" % (phone, _mix(seed, i, salt + 1) % 10**7),
            "region": None, "region_code": None, "region_id": None}
    if region:
        addr["region"], addr["region_code"], addr["region_id"] = region
    return addr


def _email(first, last, domain, i):
    def ascii_part(s):
        s = s.lower().replace(" ", "")
        for a, b in (("ä", "a"), ("å", "a"), ("ö", "o"), ("ü", "u"), ("é", "e"), ("ø", "o"), ("è", "e")):
            s = s.replace(a, b)
        return s
    return "%s.%s%d@%s" % (ascii_part(first), ascii_part(last), i, domain)


def customers(seed=1):
    """Registered customers, in id order.

    Each customer: id, email, firstname, lastname, company (or None), kind
    ("private"|"company"), vat_id (or None; also Magento's taxvat), country_id,
    is_eu, group_id (1 General, 2 Wholesale, 4 EU Reverse Charge), created_at,
    updated_at, addresses: [{id, firstname, lastname, company, street [..],
    city, postcode, country_id, region, region_code, region_id, telephone,
    vat_id, default_billing, default_shipping}].
    """
    out = []
    for i, (kind, country, has_vat) in enumerate(_CUSTOMER_PLAN):
        cid = i + 1
        first, last = _person(seed, country, i, 1)
        company = None
        if kind == "company":
            names = _COMPANIES[country]
            company = names[_mix(seed, i, 2) % len(names)]
        vat_id = _vat_number(seed, country, i) if has_vat else None
        is_eu = country in EU_COUNTRIES
        if kind == "company" and has_vat and is_eu and country != "SE":
            group = REVERSE_CHARGE_GROUP
        elif kind == "company":
            group = 2
        else:
            group = 1
        domain = "example.com" if kind == "private" else "example.net"
        created = ANCHOR - 400 * 86400 + cid * 86400 + _mix(seed, i, 3) % 80000
        addr = _address(seed, country, i, 10)
        addr.update({"id": cid, "firstname": first, "lastname": last, "company": company,
                     "vat_id": vat_id, "default_billing": True, "default_shipping": True})
        out.append({
            "id": cid,
            "email": _email(first, last, domain, cid),
            "firstname": first,
            "lastname": last,
            "company": company,
            "kind": kind,
            "vat_id": vat_id,
            "country_id": country,
            "is_eu": is_eu,
            "group_id": group,
            "created_at": fmt_time(created),
            "updated_at": fmt_time(created + _mix(seed, i, 4) % 200000),
            "addresses": [addr],
        })
    return out


# ---- orders -------------------------------------------------------------------

def increment_id(entity_id):
    """Order numbers start at 000001001: they never equal entity_id, as in many real shops."""
    return "%09d" % (1000 + entity_id)


_NATURAL_AGE = {  # seconds from created_at to the last status change: (min, span)
    "pending": (1, 1),
    "pending_payment": (1, 60),
    "processing": (60, 7200),
    "holded": (3600, 86400),
    "complete": (86400, 9 * 86400),
    "canceled": (600, 3 * 86400),
    "closed": (5 * 86400, 25 * 86400),
}
_SETTLED_WEIGHTS = (("complete", 78), ("canceled", 12), ("closed", 10))
_OPEN_WEIGHTS = (("pending", 15), ("pending_payment", 5), ("processing", 25), ("holded", 5),
                 ("complete", 35), ("canceled", 10), ("closed", 5))


def _weighted(table, h):
    total = sum(w for _, w in table)
    h %= total
    for name, w in table:
        if h < w:
            return name
        h -= w
    return table[-1][0]


def _guest(seed, index, country):
    first, last = _person(seed, country, index, 31)
    return {"email": _email(first, last, "example.org", 100000 + index), "firstname": first,
            "lastname": last, "country_id": country}


def order_heads(seed, n, custs):
    """The cheap summary of every order (what searches filter and sort on).

    head: index, entity_id, increment_id, created_at, updated_at (strings),
    status, state, customer_id (None for guests), customer_email,
    customer_firstname, customer_lastname, customer_is_guest (0|1),
    customer_group_id, order_currency_code, base_currency_code, store_id,
    scenario (index into SCENARIOS or None).
    """
    created = [0] * n
    natural = [0] * n
    heads = []
    for i in range(n):
        age_rank = n - 1 - i  # 0 = the newest order; hashing by age keeps the newest orders alike for every n
        h = _mix(seed, age_rank, 101)
        created[i] = ANCHOR - age_rank * ORDER_SPACING - (h % 200)
        scenario = SCENARIOS[age_rank] if age_rank < len(SCENARIOS) else None
        if scenario is not None:
            status = scenario["status"]
            who = scenario["customer"]
            currency = scenario["currency"]
        else:
            weights = _OPEN_WEIGHTS if age_rank < OPEN_WINDOW else _SETTLED_WEIGHTS
            status = _weighted(weights, h >> 8)
            if (h >> 20) % 100 < 22:
                who = ("guest", ("SE", "SE", "SE", "DE", "FI", "NO")[(h >> 28) % 6])
            else:
                who = (h >> 28) % len(custs)
            currency = None
        if isinstance(who, tuple):
            g = _guest(seed, age_rank, who[1])
            customer_id, email, first, last, group = None, g["email"], g["firstname"], g["lastname"], 0
            country = who[1]
        else:
            c = custs[who % len(custs)]
            customer_id, email, first, last, group = c["id"], c["email"], c["firstname"], c["lastname"], c["group_id"]
            country = c["country_id"]
        if currency is None:
            currency = CURRENCY_OF_COUNTRY.get(country, "EUR")
        low, span = _NATURAL_AGE[status]
        natural[i] = created[i] + low + (h >> 40) % span
        heads.append({
            "index": i,
            "entity_id": i + 1,
            "increment_id": increment_id(i + 1),
            "status": status,
            "state": STATE_OF_STATUS[status],
            "customer_id": customer_id,
            "customer_email": email,
            "customer_firstname": first,
            "customer_lastname": last,
            "customer_is_guest": 1 if customer_id is None else 0,
            "customer_group_id": group,
            "order_currency_code": currency,
            "base_currency_code": BASE_CURRENCY,
            "store_id": 1,
            "scenario": age_rank if scenario is not None else None,
            "_country": country,
        })
    # a mass action in the admin grid touches orders 3, 4 and 5 of every block
    # of ten in the same second: incremental sync must not lose any of them
    for start in range(3, n - 2, 10):
        shared = max(natural[start:start + 3])
        natural[start] = natural[start + 1] = natural[start + 2] = shared
    for i, head in enumerate(heads):
        head["created_at"] = fmt_time(created[i])
        head["updated_at"] = fmt_time(natural[i])
    return heads


class _Amounts:
    """Amounts of one row (or of shipping) in one currency."""

    __slots__ = ("price", "price_incl_tax", "original_price", "row_total", "row_total_incl_tax",
                 "tax_amount", "discount_amount", "discount_tax_compensation_amount", "tax_percent")


def _row_amounts(unit_price, qty, rate, discount):
    """Magento's per-row arithmetic (TOTAL_BASE algorithm, tax after discount)."""
    a = _Amounts()
    a.price = a.original_price = unit_price
    a.row_total = _r2(unit_price * qty)
    full_tax = _r2(a.row_total * rate / 100)
    a.price_incl_tax = _r2(unit_price * (100 + rate) / 100)
    a.row_total_incl_tax = a.row_total + full_tax
    a.tax_percent = rate
    a.discount_tax_compensation_amount = D("0")
    if discount is None:
        a.discount_amount = D("0")
        a.tax_amount = full_tax
    elif discount[0] == "excl":
        a.discount_amount = _r2(a.row_total * discount[1] / 100)
        a.tax_amount = _r2((a.row_total - a.discount_amount) * rate / 100)
    else:  # discount on prices including tax: its VAT share is compensated
        a.discount_amount = _r2(a.row_total_incl_tax * discount[1] / 100)
        a.discount_tax_compensation_amount = _r2(a.discount_amount * rate / (100 + rate))
        a.tax_amount = full_tax - a.discount_tax_compensation_amount
    return a


def _zero_amounts(rate=D("0")):
    a = _Amounts()
    for name in a.__slots__:
        setattr(a, name, D("0"))
    a.tax_percent = rate
    return a


def _sum_amounts(children, qty):
    """A dynamic bundle parent: the sum of its children (Magento's calculateParent)."""
    a = _zero_amounts()
    for c in children:
        for name in ("row_total", "row_total_incl_tax", "tax_amount", "discount_amount",
                     "discount_tax_compensation_amount"):
            setattr(a, name, getattr(a, name) + getattr(c, name))
    a.price = a.original_price = _r2(a.row_total / qty)
    a.price_incl_tax = _r2(a.row_total_incl_tax / qty)
    a.tax_percent = None
    return a


def _pick_lines(rng, scenario, by_sku):
    """[(kind, product, qty, detail)] from a scenario or at random."""
    if scenario is not None:
        specs = scenario["lines"]
    else:
        sellable = [p for p in by_sku.values() if p["visibility"] == 4 and p["sku"] != "GIFT-SAMPLE"]
        specs = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            p = rng.choice(sellable)
            qty = rng.choice((1, 1, 1, 2, 3))
            if p["type"] == "configurable":
                specs.append(("%s>%s" % (p["sku"], rng.choice(p["children"])), qty))
            elif p["type"] == "bundle":
                picks = ",".join(str(rng.randrange(len(o["selections"]))) for o in p["bundle_options"])
                specs.append(("%s{%s}" % (p["sku"], picks), qty))
            else:
                specs.append((p["sku"], qty))
    lines = []
    for spec, qty in specs:
        if ">" in spec:
            parent, child = spec.split(">")
            lines.append(("configurable", by_sku[parent], qty, by_sku[child]))
        elif "{" in spec:
            sku, picks = spec[:-1].split("{")
            bundle = by_sku[sku]
            chosen = []
            for option, pick in zip(bundle["bundle_options"], picks.split(",")):
                sel = option["selections"][int(pick)]
                chosen.append((option, by_sku[sel["sku"]], sel["qty"]))
            lines.append(("bundle", bundle, qty, chosen))
        else:
            p = by_sku[spec]
            if p["type"] == "grouped":
                for member in p["children"]:
                    lines.append(("grouped", by_sku[member["sku"]], qty * member["qty"], p))
            else:
                lines.append((p["type"], p, qty, None))
    return lines


def _new_row(product, qty, ptype, parent=None, name=None, sku=None):
    return {"sku": sku or product["sku"], "name": name or product["name"], "product_id": product["id"],
            "product_type": ptype, "qty": qty, "parent": parent, "weight": product["weight"],
            "is_virtual": 1 if product["type"] == "virtual" else 0, "tax_class_id": product["tax_class_id"],
            "amounts": {}}


def _build_rows(lines, by_sku, country, group, currencies, discount):
    """All Magento item rows (parents before children) with amounts per currency."""
    rows = []

    def base_price(p):
        return D(str(p["price"] or 0))

    def convert(price, rate):
        return _r2(price * rate)

    for kind, product, qty, detail in lines:
        if kind == "configurable":
            child = detail
            rate = vat_rate(country, child["tax_class_id"], group)
            parent_row = _new_row(product, qty, "configurable", sku=child["sku"])
            parent_row["configurable_options"] = [
                {"code": code, "option_value": int(ATTRIBUTES[code]["options"][value])}
                for code, value in child["attributes"].items()]
            for cur, cur_rate in currencies.items():
                parent_row["amounts"][cur] = _row_amounts(convert(base_price(child), cur_rate), qty, rate, discount)
            rows.append(parent_row)
            child_row = _new_row(child, qty, "simple", parent=len(rows) - 1)
            for cur in currencies:
                child_row["amounts"][cur] = _zero_amounts(D("0"))
            child_row["child_of_configurable"] = True
            rows.append(child_row)
        elif kind == "bundle":
            dynamic = product["bundle_price_type"] == "dynamic"
            composite = "-".join([product["sku"]] + [sel.get("sku") for _, sel, _ in detail])
            parent_row = _new_row(product, qty, "bundle", sku=composite)
            parent_row["bundle_dynamic"] = dynamic
            parent_row["bundle_sku"] = product["sku"]
            parent_index = len(rows)
            rows.append(parent_row)
            child_rows = []
            for option, sel_product, sel_qty in detail:
                child_row = _new_row(sel_product, qty * sel_qty, "simple", parent=parent_index)
                child_row["bundle_option"] = option["title"]
                child_row["bundle_selection_qty"] = sel_qty
                for cur, cur_rate in currencies.items():
                    if dynamic:
                        rate = vat_rate(country, sel_product["tax_class_id"], group)
                        child_row["amounts"][cur] = _row_amounts(convert(base_price(sel_product), cur_rate),
                                                                 qty * sel_qty, rate, discount)
                    else:
                        child_row["amounts"][cur] = _zero_amounts(D("0"))
                child_rows.append(child_row)
            for cur, cur_rate in currencies.items():
                if dynamic:
                    parent_row["amounts"][cur] = _sum_amounts([c["amounts"][cur] for c in child_rows], qty)
                else:
                    rate = vat_rate(country, product["tax_class_id"], group)
                    parent_row["amounts"][cur] = _row_amounts(convert(base_price(product), cur_rate), qty,
                                                              rate, discount)
            rows.extend(child_rows)
        else:
            row = _new_row(product, qty, "grouped" if kind == "grouped" else product["type"])
            if kind == "grouped":
                row["grouped_parent_sku"] = detail["sku"]
            rate = vat_rate(country, product["tax_class_id"], group)
            for cur, cur_rate in currencies.items():
                row["amounts"][cur] = _row_amounts(convert(base_price(product), cur_rate), qty, rate, discount)
            rows.append(row)
    return rows


def _shipping_zone(country):
    if country == "SE":
        return "SE"
    return "EU" if country in EU_COUNTRIES else "WORLD"


def _totals(rows, ship, currency):
    """Order totals in one currency from its rows (top-level rows only) and shipping."""
    top = [r["amounts"][currency] for r in rows if r["parent"] is None]
    t = {
        "subtotal": sum((a.row_total for a in top), D("0")),
        "subtotal_incl_tax": sum((a.row_total_incl_tax for a in top), D("0")),
        "items_tax": sum((a.tax_amount for a in top), D("0")),
        "discount": sum((a.discount_amount for a in top), D("0")),
        "dtc": sum((a.discount_tax_compensation_amount for a in top), D("0")),
        "shipping": ship.row_total,
        "shipping_tax": ship.tax_amount,
        "shipping_incl_tax": ship.row_total + ship.tax_amount,
    }
    t["tax"] = t["items_tax"] + t["shipping_tax"]
    t["grand_total"] = t["subtotal"] + t["shipping"] + t["tax"] + t["dtc"] - t["discount"]
    return t


def _applied_taxes(rows, ship, country, currency, base):
    """Applied rates with their amounts, one entry per rate code (order and base currency)."""
    by_code = {}

    def add(rate, amount, base_amount):
        if rate == 0:
            return
        code = "%s-VAT-%s" % (country, money(rate))
        entry = by_code.setdefault(code, {"code": code, "title": code, "percent": rate,
                                          "amount": D("0"), "base_amount": D("0")})
        entry["amount"] += amount
        entry["base_amount"] += base_amount

    for r in rows:
        if r.get("bundle_dynamic"):
            continue  # its children carry the tax
        a, b = r["amounts"][currency], r["amounts"][base]
        if a.tax_percent and a.row_total:
            add(a.tax_percent, a.tax_amount, b.tax_amount)
    if ship[currency].row_total:
        add(ship[currency].tax_percent, ship[currency].tax_amount, ship[base].tax_amount)
    return [dict(e, percent=money(e["percent"]), amount=money(e["amount"]), base_amount=money(e["base_amount"]))
            for e in by_code.values()]


def _history(head, status, created, updated, grand_total, currency):
    """Status history entries, newest first (Magento's order)."""
    entries = []
    if status in ("processing", "complete", "closed"):
        entries.append({"created_at": created, "status": "processing", "is_customer_notified": 1,
                        "comment": "Captured amount of %s %s online." % (money(grand_total), currency)})
    if status == "complete":
        entries.append({"created_at": updated, "status": "complete", "is_customer_notified": 1,
                        "comment": "Order shipped."})
    if status == "closed":
        entries.append({"created_at": updated, "status": "closed", "is_customer_notified": 1,
                        "comment": "We refunded %s %s offline." % (money(grand_total), currency)})
    if status == "canceled":
        entries.append({"created_at": updated, "status": "canceled", "is_customer_notified": 0,
                        "comment": "Canceled: payment not received."})
    if status == "holded":
        entries.append({"created_at": updated, "status": "holded", "is_customer_notified": 0,
                        "comment": "On hold: address check."})
    return list(reversed(entries))


def order(seed, n, index, catalogue_, customers_, heads=None):
    """The whole order at `index` (0 = oldest of n) as a plain dict.

    Keys: everything of the head (see order_heads) plus
      base_to_order_rate, is_virtual, billing_address, shipping_address (None
      for virtual orders), shipping {method, description, amount, base_amount,
      tax_amount, base_tax_amount, incl_tax, base_incl_tax, tax_percent},
      payment {method, title, po_number}, discount {mode, percent, coupon_code,
      description, rule_id} or None, rows [item rows, parents before
      children: sku, name, product_id, product_type, qty, parent (row index
      or None), weight, is_virtual, tax_class_id, amounts {currency: {price,
      price_incl_tax, original_price, row_total, row_total_incl_tax,
      tax_amount, discount_amount, discount_tax_compensation_amount,
      tax_percent}}], totals {currency: {subtotal, subtotal_incl_tax, tax,
      items_tax, shipping, shipping_tax, shipping_incl_tax, discount (>= 0),
      dtc, grand_total}}, applied_taxes [{code, title, percent, amount,
      base_amount}], history [{created_at, status, comment,
      is_customer_notified}], invoiced, shipped, refunded, canceled (bools).
    Amounts are Decimals inside `rows`/`totals`; use money() to print them.
    """
    heads = heads if heads is not None else order_heads(seed, n, customers_)
    head = dict(heads[index])
    by_sku = {p["sku"]: p for p in catalogue_}
    scenario = SCENARIOS[head["scenario"]] if head["scenario"] is not None else None
    age_rank = n - 1 - index
    rng = random.Random(_mix(seed, age_rank, 202))
    country = head.pop("_country")
    group = head["customer_group_id"]
    currency = head["order_currency_code"]
    currencies = {BASE_CURRENCY: D("1")}
    currencies[currency] = CURRENCY_RATES[currency]

    discount = None
    if scenario is not None and scenario.get("discount"):
        mode, pct, coupon = scenario["discount"]
        discount = {"mode": mode, "percent": pct, "coupon_code": coupon, "rule_id": 2 if mode == "excl" else 3,
                    "description": coupon}
    elif scenario is None and rng.random() < 0.15:
        discount = {"mode": "excl", "percent": 10, "coupon_code": "SAVE10", "rule_id": 2,
                    "description": "SAVE10"}
    disc = (discount["mode"], D(discount["percent"])) if discount else None

    lines = _pick_lines(rng, scenario, by_sku)
    rows = _build_rows(lines, by_sku, country, group, currencies, disc)
    is_virtual = 1 if all(r["is_virtual"] for r in rows) else 0

    # addresses
    if head["customer_id"] is not None:
        cust = customers_[head["customer_id"] - 1]
        addr = dict(cust["addresses"][0])
        company, vat_id, taxvat = cust["company"], cust["vat_id"], cust["vat_id"]
    else:
        addr = _address(seed, country, age_rank, 40)
        company = vat_id = taxvat = None
    billing = {k: addr.get(k) for k in ("street", "city", "postcode", "country_id", "telephone",
                                         "region", "region_code", "region_id")}
    billing.update({"firstname": head["customer_firstname"], "lastname": head["customer_lastname"],
                    "company": company, "vat_id": vat_id, "email": head["customer_email"],
                    "customer_address_id": addr.get("id")})
    shipping_address = None if is_virtual else dict(billing)

    # shipping
    free_shipping = bool(scenario and scenario.get("free_shipping"))
    if scenario is None and rng.random() < 0.1:
        free_shipping = True
    ship_rate = vat_rate(country, 2, group)
    ship = {}
    for cur, cur_rate in currencies.items():
        if is_virtual or free_shipping:
            ship[cur] = _zero_amounts(ship_rate)
        else:
            ship[cur] = _row_amounts(_r2(SHIPPING_PRICE[_shipping_zone(country)] * cur_rate), 1, ship_rate, None)
    if is_virtual:
        method = None
    elif free_shipping:
        method = "freeshipping_freeshipping"
    else:
        method = "flatrate_flatrate" if _shipping_zone(country) == "SE" else "tablerate_bestway"

    totals = {cur: _totals(rows, ship[cur], cur) for cur in currencies}
    pay_method = scenario["payment"] if scenario else rng.choice(("checkmo", "banktransfer", "checkmo"))
    if totals[BASE_CURRENCY]["grand_total"] == 0:
        pay_method = "free"
    status = head["status"]
    return dict(
        head,
        base_to_order_rate=float(CURRENCY_RATES[currency]),
        is_virtual=is_virtual,
        billing_address=billing,
        shipping_address=shipping_address,
        customer_taxvat=taxvat,
        shipping={
            "method": method,
            "description": SHIPPING_METHODS.get(method),
            "amounts": ship,
            "tax_percent": ship_rate,
        },
        payment={"method": pay_method, "title": PAYMENT_METHODS[pay_method],
                 "po_number": "PO-%d" % (4000 + age_rank) if pay_method == "purchaseorder" else None},
        discount=discount,
        rows=rows,
        totals=totals,
        applied_taxes=_applied_taxes(rows, ship, country, currency, BASE_CURRENCY),
        history=_history(head, status, head["created_at"], head["updated_at"],
                         totals[currency]["grand_total"], currency),
        invoiced=status in ("processing", "complete", "closed"),
        shipped=status in ("complete", "closed"),
        refunded=status == "closed",
        canceled=status == "canceled",
        country_id=country,
    )


class OrderList:
    """A lazy, indexable sequence of orders: orders(seed, n, ...)[i] builds order i on demand."""

    def __init__(self, seed, n, catalogue_, customers_):
        self.seed, self.n = seed, n
        self.catalogue, self.customers = catalogue_, customers_
        self.heads = order_heads(seed, n, customers_)

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError(index)
        return order(self.seed, self.n, index, self.catalogue, self.customers, self.heads)

    def __iter__(self):
        for i in range(self.n):
            yield self[i]


def orders(seed, n, catalogue_, customers_):
    """All n orders as a lazy sequence (OrderList); heads are computed at once, orders on access."""
    return OrderList(seed, n, catalogue_, customers_)
