"""Magento 2 catalog and inventory for the emulator: products (simple,
virtual, configurable, grouped, bundle), categories, media gallery, the legacy
CatalogInventory stock item and MSI (sources, stocks, source items,
reservations, salable quantity).  See shared/spec/magento2-api.md 6-7.

Store scope (section 1 of the reference): a product write through
/rest/V1 or /rest/default/V1 runs in store view 1, so store-view scoped
attributes (name, status, visibility, description, url_key, meta_*) land on
store view 1 instead of the global (store 0) value; /rest/all/V1 writes the
global value.  Reads through a store view see its own value when it has one,
reads through /rest/all/V1 see the global one.  So, exactly like Magento, a
name written once through /rest/V1 shadows every later global name change on
that store view.  Every write is logged (GET /_emulator/state, "scope_writes").

Stock: the legacy stock item mirrors the default source; salable quantity =
sum of enabled source items assigned to the stock (status in stock)
+ reservations (negative; orders placed but neither shipped nor canceled)
- min_qty, 0 when the stock item is not salable.
"""

import base64
import binascii
import copy
import re

import seeddata
from magento2_errors import MagentoError, PRODUCT_NOT_FOUND, NO_SUCH_ENTITY
from magento2_search import match_property, type_error, unsupported_field

STORE_SCOPED = {"name", "status", "visibility", "description", "short_description", "meta_title",
                "meta_keyword", "meta_description", "url_key"}
# product EAV attributes the demo shop knows; unknown custom attribute codes
# are dropped silently, as Magento's AbstractExtensibleModel does
KNOWN_CUSTOM_ATTRIBUTES = {
    "description", "short_description", "meta_title", "meta_keyword", "meta_description", "url_key",
    "tax_class_id", "category_ids", "special_price", "special_from_date", "special_to_date", "cost",
    "color", "size", "material", "pattern", "ean", "options_container", "required_options", "has_options",
    "msrp_display_actual_price_type", "price_view", "price_type", "sku_type", "weight_type", "shipment_type",
    "gift_message_available", "news_from_date", "news_to_date", "country_of_manufacture", "manufacturer",
    "image", "small_image", "thumbnail", "swatch_image", "url_path",
}
PRODUCT_TYPES = ("simple", "virtual", "configurable", "grouped", "bundle", "downloadable")
SOURCE_ITEM_TYPES = ("simple", "virtual", "downloadable")
ATTRIBUTE_SETS = {4: "Default", 9: "Top", 10: "Bottom", 11: "Gear"}
PRODUCT_PROPS = ("id", "sku", "name", "attribute_set_id", "price", "status", "visibility", "type_id",
                 "created_at", "updated_at", "weight", "extension_attributes", "product_links", "options",
                 "media_gallery_entries", "tier_prices", "custom_attributes")
PRODUCT_EXT_PROPS = ("website_ids", "category_links", "discounts", "bundle_product_options", "stock_item",
                     "downloadable_product_links", "downloadable_product_samples", "giftcard_amounts",
                     "configurable_product_options", "configurable_product_links")
STOCK_ITEM_PROPS = ("item_id", "product_id", "stock_id", "qty", "is_in_stock", "is_qty_decimal",
                    "show_default_notification_message", "use_config_min_qty", "min_qty",
                    "use_config_min_sale_qty", "min_sale_qty", "use_config_max_sale_qty", "max_sale_qty",
                    "use_config_backorders", "backorders", "use_config_notify_stock_qty", "notify_stock_qty",
                    "use_config_qty_increments", "qty_increments", "use_config_enable_qty_inc",
                    "enable_qty_increments", "use_config_manage_stock", "manage_stock", "low_stock_date",
                    "is_decimal_divided", "stock_status_changed_auto", "extension_attributes")
MEDIA_PROPS = ("id", "media_type", "label", "position", "disabled", "types", "file", "content",
               "extension_attributes")
IMAGE_MIME = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
              "image/gif": (b"GIF87a", b"GIF89a")}

DEFAULT_STOCK_CONFIG = {
    "is_qty_decimal": False, "show_default_notification_message": False, "use_config_min_qty": True,
    "min_qty": 0, "use_config_min_sale_qty": 1, "min_sale_qty": 1, "use_config_max_sale_qty": True,
    "max_sale_qty": 10000, "use_config_backorders": True, "backorders": 0, "use_config_notify_stock_qty": True,
    "notify_stock_qty": 1, "use_config_qty_increments": True, "qty_increments": 0,
    "use_config_enable_qty_inc": True, "enable_qty_increments": False, "use_config_manage_stock": True,
    "manage_stock": True, "low_stock_date": None, "is_decimal_divided": False, "stock_status_changed_auto": 0,
}


def normalize_keys(data, props, what):
    """camelCase or snake_case input keys -> snake_case; unknown keys are Magento's 400."""
    if not isinstance(data, dict):
        raise type_error(data, what)
    out = {}
    for key, value in data.items():
        prop = match_property(key, props)
        if prop is None:
            raise unsupported_field(key)
        out[prop] = value
    return out


def as_number(value, kind="float"):
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise type_error(value, kind)
    try:
        number = float(value) if kind == "float" else int(str(value).strip())
    except ValueError:
        raise type_error(value, kind)
    return number


def num(value):
    """A number as Magento prints it: integral floats without .0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


class Catalog:
    """Products, categories and inventory of one emulator instance."""

    def __init__(self, clock_text):
        self.now = clock_text  # () -> "YYYY-MM-DD HH:MM:SS" on the emulator clock
        self.products = {}  # sku casefolded -> record
        self.by_id = {}
        self.categories = {}
        self.sources = {}
        self.stocks = {}
        self.stock_links = []
        self.source_items = {}  # (sku casefolded, source code) -> dict
        self.scope_writes = []
        self.next_id = 1
        self.next_option_id = 1
        self.next_link_id = 1
        self.next_media_id = 1
        self.next_category_id = 1
        self._default_inventory()

    def _default_inventory(self):
        self.sources = {"default": {"source_code": "default", "name": "Default Source", "enabled": True,
                                    "description": "Default Source", "latitude": 0, "longitude": 0,
                                    "country_id": "SE", "postcode": "00000",
                                    "use_default_carrier_config": True, "carrier_links": []}}
        self.stocks = {1: {"stock_id": 1, "name": "Default Stock",
                           "extension_attributes": {"sales_channels": [{"type": "website", "code": "base"}]}}}
        self.stock_links = [{"stock_id": 1, "source_code": "default", "priority": 1}]

    # ---- seeding -------------------------------------------------------------------
    def seed(self, catalogue, created_at):
        """Load seeddata.catalogue() products and seeddata.categories()."""
        for cat in seeddata.categories():
            self.categories[cat["id"]] = dict(cat, created_at=created_at, updated_at=created_at,
                                              include_in_menu=True)
            self.next_category_id = max(self.next_category_id, cat["id"] + 1)
        by_sku = {p["sku"]: p for p in catalogue}
        for p in catalogue:
            self.next_id = max(self.next_id, p["id"])
            rec = self._new_record(p["id"], p["sku"], p["type"], 4, created_at)
            rec["global"].update({"name": p["name"], "status": p["status"], "visibility": p["visibility"]})
            if p["price"] is not None:
                rec["global"]["price"] = float(p["price"])
            if p["weight"] is not None:
                rec["global"]["weight"] = float(p["weight"])
            rec["custom"].update({"description": p["description"], "url_key": p["url_key"],
                                  "tax_class_id": str(p["tax_class_id"]), "ean": p["ean"],
                                  "options_container": "container2", "required_options": "0",
                                  "has_options": "0"})
            for code, label in p["attributes"].items():
                rec["custom"][code] = seeddata.ATTRIBUTES[code]["options"][label]
            rec["category_links"] = [{"position": i, "category_id": str(c)} for i, c in enumerate(p["category_ids"])]
            rec["stock"]["is_in_stock"] = True
            self._put(rec)
            if p["type"] in SOURCE_ITEM_TYPES:
                self._set_source_item(p["sku"], "default", float(p["qty"]), 1)
        self.next_id += 1
        for p in catalogue:
            rec = self.products[p["sku"].casefold()]
            if p["type"] == "configurable":
                self._seed_configurable(rec, p, by_sku)
            elif p["type"] == "grouped":
                rec["product_links"] = [
                    {"sku": p["sku"], "link_type": "associated", "linked_product_sku": m["sku"],
                     "linked_product_type": "simple", "position": i + 1, "extension_attributes": {"qty": m["qty"]}}
                    for i, m in enumerate(p["children"])]
            elif p["type"] == "bundle":
                self._seed_bundle(rec, p)

    def _seed_configurable(self, rec, p, by_sku):
        options = []
        for pos, code in enumerate(p["configurable_attributes"]):
            attr = seeddata.ATTRIBUTES[code]
            values = []
            for child_sku in p["children"]:
                value = int(attr["options"][by_sku[child_sku]["attributes"][code]])
                if {"value_index": value} not in values:
                    values.append({"value_index": value})
            options.append({"id": self._option_id(), "attribute_id": str(attr["attribute_id"]),
                            "label": attr["label"], "position": pos, "values": values, "product_id": rec["id"]})
        rec["configurable_options"] = options
        rec["configurable_links"] = [by_sku[c]["id"] for c in p["children"]]

    def _seed_bundle(self, rec, p):
        fixed = p["bundle_price_type"] == "fixed"
        rec["custom"].update({"price_type": "1" if fixed else "0", "sku_type": "0", "weight_type": "0",
                              "price_view": "0", "shipment_type": "0"})
        rec["bundle_options"] = []
        for pos, option in enumerate(p["bundle_options"]):
            option_id = self._option_id()
            links = []
            for lpos, sel in enumerate(option["selections"]):
                links.append({"id": str(self._link_id()), "sku": sel["sku"], "option_id": option_id,
                              "qty": sel["qty"], "position": lpos + 1, "is_default": sel["is_default"],
                              "price": 0, "price_type": 0, "can_change_quantity": 0})
            rec["bundle_options"].append({"option_id": option_id, "title": option["title"],
                                          "required": option["required"], "type": option["type"],
                                          "position": pos + 1, "sku": p["sku"], "product_links": links})

    def _option_id(self):
        self.next_option_id += 1
        return self.next_option_id - 1

    def _link_id(self):
        self.next_link_id += 1
        return self.next_link_id - 1

    def _new_record(self, pid, sku, type_id, attribute_set_id, created_at):
        return {"id": pid, "sku": sku, "type_id": type_id, "attribute_set_id": attribute_set_id,
                "created_at": created_at, "updated_at": created_at,
                "global": {"status": 1, "visibility": 4}, "custom": {}, "store": {},
                "website_ids": [1], "category_links": [], "product_links": [], "options": [],
                "tier_prices": [], "media": [], "configurable_options": [], "configurable_links": [],
                "bundle_options": [], "stock": dict(DEFAULT_STOCK_CONFIG, is_in_stock=False)}

    def _put(self, rec):
        self.products[rec["sku"].casefold()] = rec
        self.by_id[rec["id"]] = rec

    # ---- reading products ----------------------------------------------------------------
    def find(self, sku):
        """The product record for a SKU (case-insensitive, as MySQL compares) or None."""
        return self.products.get(str(sku).casefold())

    def require(self, sku):
        rec = self.find(sku)
        if rec is None:
            raise MagentoError(404, PRODUCT_NOT_FOUND)
        return rec

    def attribute(self, rec, code, store_id):
        """One attribute value as store view store_id sees it (None/0 = global)."""
        if store_id:
            scoped = rec["store"].get(store_id, {})
            if code in scoped:
                return scoped[code]
        if code in rec["global"]:
            return rec["global"][code]
        return rec["custom"].get(code)

    def render(self, rec, store_id, with_stock=True):
        """ProductInterface JSON as seen from a store view (None/0 = global)."""
        out = {"id": rec["id"], "sku": rec["sku"]}
        name = self.attribute(rec, "name", store_id)
        if name is not None:
            out["name"] = name
        out["attribute_set_id"] = rec["attribute_set_id"]
        price = rec["global"].get("price")
        dynamic_bundle = rec["type_id"] == "bundle" and rec["custom"].get("price_type") == "0"
        if rec["type_id"] == "configurable" or dynamic_bundle:
            price = 0  # the API shows 0 for these parents (#10644)
        if price is not None:
            out["price"] = num(price)
        out["status"] = self.attribute(rec, "status", store_id)
        out["visibility"] = self.attribute(rec, "visibility", store_id)
        out["type_id"] = rec["type_id"]
        out["created_at"] = rec["created_at"]
        out["updated_at"] = rec["updated_at"]
        weight = rec["global"].get("weight")
        if weight is not None:
            out["weight"] = num(weight)
        elif rec["type_id"] == "bundle":
            out["weight"] = 0
        ext = {"website_ids": list(rec["website_ids"])}
        if rec["category_links"]:
            ext["category_links"] = copy.deepcopy(rec["category_links"])
        if with_stock:
            ext["stock_item"] = self.stock_item(rec)
        if rec["type_id"] == "bundle":
            ext["bundle_product_options"] = self.render_bundle_options(rec)
        if rec["type_id"] == "configurable":
            ext["configurable_product_options"] = copy.deepcopy(rec["configurable_options"])
            ext["configurable_product_links"] = list(rec["configurable_links"])
        out["extension_attributes"] = ext
        out["product_links"] = copy.deepcopy(rec["product_links"])
        out["options"] = copy.deepcopy(rec["options"])
        out["media_gallery_entries"] = [self.render_media(m) for m in rec["media"]]
        out["tier_prices"] = copy.deepcopy(rec["tier_prices"])
        custom = []
        for code in rec["custom"]:
            value = self.attribute(rec, code, store_id)
            if value is not None:
                custom.append({"attribute_code": code, "value": value})
        custom.append({"attribute_code": "category_ids",
                       "value": [link["category_id"] for link in rec["category_links"]]})
        out["custom_attributes"] = custom
        return out

    def render_bundle_options(self, rec):
        fixed = rec["custom"].get("price_type") == "1"
        options = copy.deepcopy(rec["bundle_options"])
        for option in options:
            for link in option["product_links"]:
                child = self.find(link["sku"])
                if not fixed:
                    # dynamic bundles show the selection product's price and no price type
                    link["price"] = num(child["global"].get("price", 0)) if child else 0
                    link["price_type"] = None
        return options

    @staticmethod
    def render_media(m):
        return {k: m[k] for k in ("id", "media_type", "label", "position", "disabled", "types", "file")}

    def bundle_ids(self, sku, option_title, selection_sku):
        """(option id, selection id) of a bundle selection, for order items; (0, 0) when unknown."""
        rec = self.find(sku)
        for option in (rec or {}).get("bundle_options", []):
            if option["title"] == option_title:
                for link in option["product_links"]:
                    if link["sku"].casefold() == selection_sku.casefold():
                        return option["option_id"], int(link["id"])
        return 0, 0

    # ---- writing products -------------------------------------------------------------------
    def save(self, data, store_id, store_code, created=None):
        """ProductRepository::save: create, or merge into the existing product. Returns the record."""
        data = normalize_keys(data, PRODUCT_PROPS, "Magento\\Catalog\\Api\\Data\\ProductInterface")
        sku = data.get("sku")
        if sku is None or str(sku).strip() == "":
            raise MagentoError(400, 'The "%1" attribute value is empty. Set the attribute and try again.', ["sku"])
        sku = str(sku)
        rec = self.find(sku)
        is_new = rec is None
        now = self.now()
        if is_new:
            type_id = data.get("type_id") or "simple"
            if type_id not in PRODUCT_TYPES:
                raise MagentoError(400, "Invalid product data: %1", ["Invalid product type"])
            attribute_set = as_number(data.get("attribute_set_id", 4), "int")
            if attribute_set not in ATTRIBUTE_SETS:
                raise MagentoError(400, "Invalid product data: %1", ["Invalid attribute set entity type"])
            if not data.get("name"):
                raise MagentoError(400, "Invalid product data: %1",
                                   ['The "Product Name" attribute value is empty. Set the attribute and try again.'])
            rec = self._new_record(self.next_id, sku, type_id, attribute_set, now)
            self.next_id += 1
            # a new product gets its values globally, whatever the store view
            scope_store = 0
        else:
            scope_store = store_id
            if "attribute_set_id" in data:
                attribute_set = as_number(data["attribute_set_id"], "int")
                if attribute_set not in ATTRIBUTE_SETS:
                    raise MagentoError(400, "Invalid product data: %1", ["Invalid attribute set entity type"])
                rec["attribute_set_id"] = attribute_set
            if data.get("type_id") in PRODUCT_TYPES:
                rec["type_id"] = data["type_id"]
        written = self._write_attributes(rec, data, scope_store)
        ext = data.get("extension_attributes")
        if ext is not None:
            self._write_extension(rec, normalize_keys(ext, PRODUCT_EXT_PROPS,
                                                      "Magento\\Catalog\\Api\\Data\\ProductExtensionInterface"))
        for key in ("product_links", "options", "tier_prices"):
            if key in data and data[key] is not None:
                rec[key] = self._product_links(rec, data[key]) if key == "product_links" else list(data[key])
        if data.get("media_gallery_entries") is not None:
            rec["media"] = [self._media_entry(rec, e, keep_id=True) for e in data["media_gallery_entries"]]
        rec["updated_at"] = now
        self._put(rec)
        self.scope_writes.append({"sku": rec["sku"], "store_code": store_code, "store_id": scope_store,
                                  "created": is_new, "attributes": sorted(written), "at": now})
        return rec

    def _write_attributes(self, rec, data, store_id):
        written = set()

        def write(code, value):
            target = rec["store"].setdefault(store_id, {}) if store_id and code in STORE_SCOPED else (
                rec["global"] if code in ("name", "status", "visibility", "price", "weight") else rec["custom"])
            target[code] = value
            written.add(code)

        for key in ("name", "status", "visibility"):
            if key in data and data[key] is not None:
                write(key, as_number(data[key], "int") if key != "name" else str(data[key]))
        for key in ("price", "weight"):
            if key in data and data[key] is not None:
                write(key, as_number(data[key], "float"))
        for attr in data.get("custom_attributes") or []:
            attr = normalize_keys(attr, ("attribute_code", "value"), "Magento\\Framework\\Api\\AttributeInterface")
            code = attr.get("attribute_code")
            if code == "category_ids":
                ids = attr.get("value")
                ids = ids if isinstance(ids, list) else [i for i in str(ids or "").split(",") if i]
                rec["category_links"] = [{"position": i, "category_id": str(c)} for i, c in enumerate(ids)]
                written.add(code)
                continue
            if code not in KNOWN_CUSTOM_ATTRIBUTES:
                continue  # unknown attribute: Magento drops it without a word
            value = attr.get("value")
            value = [str(v) for v in value] if isinstance(value, list) else (None if value is None else str(value))
            write(code, value)
        return written

    def _write_extension(self, rec, ext):
        if ext.get("website_ids") is not None:
            rec["website_ids"] = [int(w) for w in ext["website_ids"]]
        if ext.get("category_links") is not None:
            rec["category_links"] = [
                {"position": int(link.get("position", 0)), "category_id": str(link.get("category_id"))}
                for link in (normalize_keys(l, ("position", "category_id", "extension_attributes"),
                                            "Magento\\Catalog\\Api\\Data\\CategoryLinkInterface")
                             for l in ext["category_links"])]
        if ext.get("stock_item") is not None:
            self.update_stock_item(rec, ext["stock_item"])
        if ext.get("configurable_product_options") is not None and rec["type_id"] == "configurable":
            rec["configurable_options"] = [self._configurable_option(rec, o)
                                           for o in ext["configurable_product_options"]]
        if ext.get("configurable_product_links") is not None and rec["type_id"] == "configurable":
            links = []
            for child_id in ext["configurable_product_links"]:
                child = self.by_id.get(as_number(child_id, "int"))
                if child is None:
                    raise MagentoError(404, PRODUCT_NOT_FOUND)
                links.append(child["id"])
            rec["configurable_links"] = links
        if ext.get("bundle_product_options") is not None and rec["type_id"] == "bundle":
            rec["bundle_options"] = [self._bundle_option(rec, o) for o in ext["bundle_product_options"]]

    def _product_links(self, rec, links):
        out = []
        for link in links:
            link = normalize_keys(link, ("sku", "link_type", "linked_product_sku", "linked_product_type",
                                         "position", "extension_attributes"),
                                  "Magento\\Catalog\\Api\\Data\\ProductLinkInterface")
            target = self.find(link.get("linked_product_sku"))
            if target is None:
                raise MagentoError(400, "The product that was requested doesn't exist. Verify the product and "
                                        "try again.")
            entry = {"sku": rec["sku"], "link_type": link.get("link_type"),
                     "linked_product_sku": target["sku"], "linked_product_type": target["type_id"],
                     "position": int(link.get("position") or 0)}
            qty = (link.get("extension_attributes") or {}).get("qty")
            if qty is not None:
                entry["extension_attributes"] = {"qty": num(float(qty))}
            out.append(entry)
        return out

    def add_links(self, rec, links, replace_one=False):
        """POST /V1/products/{sku}/links (add) and PUT (replace the link to the same product)."""
        new = self._product_links(rec, links)
        keep = [l for l in rec["product_links"]
                if not any(l["link_type"] == n["link_type"] and l["linked_product_sku"] == n["linked_product_sku"]
                           for n in new)]
        rec["product_links"] = keep + new
        rec["updated_at"] = self.now()

    def _configurable_option(self, rec, option):
        option = normalize_keys(option, ("id", "attribute_id", "label", "position", "is_use_default", "values",
                                         "extension_attributes", "product_id"),
                                "Magento\\ConfigurableProduct\\Api\\Data\\OptionInterface")
        attribute_id = str(option.get("attribute_id") or "")
        known = {str(a["attribute_id"]): a for a in seeddata.ATTRIBUTES.values()}
        if attribute_id not in known:
            raise MagentoError(400, "Invalid value of \"%value\" provided for the %fieldName field.",
                               {"fieldName": "attribute_id", "value": attribute_id})
        values = [{"value_index": int(v.get("value_index", v.get("valueIndex")))} for v in option.get("values") or []]
        if not values:
            raise MagentoError(400, "Option values are not specified.")
        out = {"id": int(option["id"]) if option.get("id") else self._option_id(), "attribute_id": attribute_id,
               "label": option.get("label") or known[attribute_id]["label"],
               "position": int(option.get("position") or 0), "values": values, "product_id": rec["id"]}
        if "is_use_default" in option:
            out["is_use_default"] = as_bool(option["is_use_default"])
        return out

    def add_configurable_option(self, rec, option):
        if rec["type_id"] != "configurable":
            raise MagentoError(400, "This is implemented for the \"%1\" configurable product only.", [rec["sku"]])
        new = self._configurable_option(rec, option)
        if any(o["attribute_id"] == new["attribute_id"] for o in rec["configurable_options"]):
            raise MagentoError(400, "Something went wrong while saving option.")
        rec["configurable_options"].append(new)
        rec["updated_at"] = self.now()
        return new["id"]

    def add_configurable_child(self, rec, child_sku):
        if rec["type_id"] != "configurable":
            raise MagentoError(400, "This is implemented for the \"%1\" configurable product only.", [rec["sku"]])
        child = self.require(child_sku)
        if child["id"] in rec["configurable_links"]:
            raise MagentoError(400, "The product is already attached.")
        for option in rec["configurable_options"]:
            code = next(c for c, a in seeddata.ATTRIBUTES.items() if str(a["attribute_id"]) == option["attribute_id"])
            if child["custom"].get(code) is None:
                raise MagentoError(400, 'The child product doesn\'t have the "%1" attribute value. Verify the value '
                                        'and try again.', [code])
        rec["configurable_links"].append(child["id"])
        rec["updated_at"] = self.now()

    def remove_configurable_child(self, rec, child_sku):
        child = self.require(child_sku)
        if child["id"] not in rec["configurable_links"]:
            raise MagentoError(404, "The option that was requested doesn't exist. Verify the entity and try again.")
        rec["configurable_links"].remove(child["id"])
        rec["updated_at"] = self.now()

    def _bundle_option(self, rec, option):
        option = normalize_keys(option, ("option_id", "title", "required", "type", "position", "sku",
                                         "product_links", "extension_attributes"),
                                "Magento\\Bundle\\Api\\Data\\OptionInterface")
        option_id = self._option_id()
        links = []
        for lpos, link in enumerate(option.get("product_links") or []):
            link = normalize_keys(link, ("id", "sku", "option_id", "qty", "position", "is_default", "price",
                                         "price_type", "can_change_quantity", "extension_attributes"),
                                  "Magento\\Bundle\\Api\\Data\\LinkInterface")
            child = self.require(link.get("sku"))
            links.append({"id": str(self._link_id()), "sku": child["sku"], "option_id": option_id,
                          "qty": num(float(link.get("qty", 1))), "position": int(link.get("position", lpos + 1)),
                          "is_default": as_bool(link.get("is_default", False)),
                          "price": num(float(link.get("price") or 0)), "price_type": int(link.get("price_type") or 0),
                          "can_change_quantity": int(link.get("can_change_quantity") or 0)})
        return {"option_id": option_id, "title": option.get("title"), "required": as_bool(option.get("required", True)),
                "type": option.get("type") or "select", "position": int(option.get("position") or 0),
                "sku": rec["sku"], "product_links": links}

    def delete(self, rec):
        del self.products[rec["sku"].casefold()]
        del self.by_id[rec["id"]]
        for key in [k for k in self.source_items if k[0] == rec["sku"].casefold()]:
            del self.source_items[key]

    # ---- media gallery ---------------------------------------------------------------------
    def _media_entry(self, rec, entry, keep_id=False):
        entry = normalize_keys(entry, MEDIA_PROPS,
                               "Magento\\Catalog\\Api\\Data\\ProductAttributeMediaGalleryEntryInterface")
        content = entry.get("content")
        existing = None
        if keep_id and entry.get("id") is not None:
            existing = next((m for m in rec["media"] if m["id"] == int(entry["id"])), None)
        if content is not None:
            file_path = self._store_image(rec, content)
        elif existing is not None:
            file_path = existing["file"]
        elif entry.get("file"):
            file_path = entry["file"]
        else:
            raise MagentoError(400, "The image content is invalid. Verify the content and try again.")
        out = {"id": existing["id"] if existing else self._media_id(),
               "media_type": entry.get("media_type") or "image", "label": entry.get("label") or "",
               "position": int(entry.get("position") or 0), "disabled": as_bool(entry.get("disabled", False)),
               "types": list(entry.get("types") or []), "file": file_path}
        return out

    def _media_id(self):
        self.next_media_id += 1
        return self.next_media_id - 1

    def _store_image(self, rec, content):
        content = normalize_keys(content, ("base64_encoded_data", "type", "name"),
                                 "Magento\\Framework\\Api\\Data\\ImageContentInterface")
        mime = content.get("type")
        if mime not in IMAGE_MIME:
            raise MagentoError(400, "The image MIME type is not valid or not supported.")
        try:
            data = base64.b64decode(content.get("base64_encoded_data") or "", validate=True)
        except (binascii.Error, ValueError):
            raise MagentoError(400, "The image content must be valid base64 encoded data.")
        if not any(data.startswith(magic) for magic in IMAGE_MIME[mime]):
            raise MagentoError(400, "The image content is invalid. Verify the content and try again.")
        name = content.get("name") or ""
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+\.(jpe?g|png|gif)", name, re.IGNORECASE):
            raise MagentoError(400, "Provided image name contains forbidden characters.")
        name = name.lower()
        stem, ext = name.rsplit(".", 1)
        path = "/%s/%s/%s" % (name[0], name[1] if len(name) > 1 else "_", name)
        taken = {m["file"] for p in self.products.values() for m in p["media"]}
        counter = 1
        while path in taken:  # Magento appends _1, _2... to a file name already used
            path = "/%s/%s/%s_%d.%s" % (name[0], name[1] if len(name) > 1 else "_", stem, counter, ext)
            counter += 1
        return path

    def add_media(self, rec, entry):
        new = self._media_entry(rec, dict(entry, id=None))
        if new["types"]:  # a role (image, thumbnail...) belongs to one entry only
            for m in rec["media"]:
                m["types"] = [t for t in m["types"] if t not in new["types"]]
        rec["media"].append(new)
        rec["updated_at"] = self.now()
        return new["id"]

    def update_media(self, rec, entry_id, entry):
        existing = self.media(rec, entry_id)
        updated = self._media_entry(rec, dict(entry, id=existing["id"]), keep_id=True)
        rec["media"][rec["media"].index(existing)] = updated
        rec["updated_at"] = self.now()

    def media(self, rec, entry_id):
        for m in rec["media"]:
            if str(m["id"]) == str(entry_id):
                return m
        raise MagentoError(404, "The image doesn't exist. Verify and try again.")

    # ---- stock: legacy CatalogInventory --------------------------------------------------
    def stock_item(self, rec):
        """StockItemInterface JSON; quantities come from the default source."""
        item = {"item_id": rec["id"], "product_id": rec["id"], "stock_id": 1}
        source = self.source_items.get((rec["sku"].casefold(), "default"))
        if rec["type_id"] in SOURCE_ITEM_TYPES:
            item["qty"] = num(source["quantity"]) if source else 0
            item["is_in_stock"] = bool(source and source["status"] == 1)
        else:
            item["qty"] = 0
            item["is_in_stock"] = bool(rec["stock"].get("is_in_stock"))
        for key, default in DEFAULT_STOCK_CONFIG.items():
            item[key] = rec["stock"].get(key, default)
        return item

    def update_stock_item(self, rec, data):
        """Legacy stock write (product save or PUT .../stockItems/{itemId}); returns the item id."""
        data = normalize_keys(data, STOCK_ITEM_PROPS, "Magento\\CatalogInventory\\Api\\Data\\StockItemInterface")
        for key in DEFAULT_STOCK_CONFIG:
            if key in data and data[key] is not None:
                rec["stock"][key] = data[key]
        if "is_in_stock" in data and data["is_in_stock"] is not None:
            rec["stock"]["is_in_stock"] = as_bool(data["is_in_stock"])
        manages = as_bool(rec["stock"].get("manage_stock", True))
        if rec["type_id"] in SOURCE_ITEM_TYPES and manages:
            current = self.source_items.get((rec["sku"].casefold(), "default"))
            qty = as_number(data["qty"], "float") if data.get("qty") is not None else (
                current["quantity"] if current else 0.0)
            status = 1 if as_bool(data.get("is_in_stock", current["status"] if current else qty > 0)) else 0
            self._set_source_item(rec["sku"], "default", qty, status)
        # composite products and manage_stock = No accept a qty and ignore it (#2392);
        # a stock-only write leaves the product's updated_at alone (#37670)
        return rec["id"]

    # ---- stock: MSI -------------------------------------------------------------------------
    def _set_source_item(self, sku, source_code, quantity, status):
        self.source_items[(sku.casefold(), source_code)] = {
            "sku": self.find(sku)["sku"] if self.find(sku) else sku, "source_code": source_code,
            "quantity": num(float(quantity)), "status": int(status)}

    def save_source_items(self, items):
        """POST /V1/inventory/source-items (all or nothing)."""
        rows = []
        for raw in items or []:
            item = normalize_keys(raw, ("sku", "source_code", "quantity", "status", "extension_attributes"),
                                  "Magento\\InventoryApi\\Api\\Data\\SourceItemInterface")
            rec = self.find(item.get("sku"))
            if rec is None or item.get("source_code") not in self.sources:
                raise MagentoError(400, "Could not save Source Item")
            if rec["type_id"] not in SOURCE_ITEM_TYPES:
                raise MagentoError(400, "Could not save Source Item")
            try:
                quantity = float(item.get("quantity", 0))
            except (TypeError, ValueError):
                raise MagentoError(400, "Validation Failed", errors=[
                    ('"%field" should be numeric.', {"field": "quantity"})])
            status = item.get("status", 1)
            if str(status) not in ("0", "1"):
                raise MagentoError(400, "Validation Failed", errors=[
                    ('"%field" should be source item status value.', {"field": "status"})])
            rows.append((rec["sku"], item["source_code"], quantity, int(status)))
        for sku, code, quantity, status in rows:
            self._set_source_item(sku, code, quantity, status)

    def delete_source_items(self, items):
        for raw in items or []:
            item = normalize_keys(raw, ("sku", "source_code", "quantity", "status", "extension_attributes"),
                                  "Magento\\InventoryApi\\Api\\Data\\SourceItemInterface")
            self.source_items.pop((str(item.get("sku")).casefold(), item.get("source_code")), None)

    def stock_sources(self, stock_id):
        return [l["source_code"] for l in sorted(self.stock_links, key=lambda l: l["priority"])
                if l["stock_id"] == stock_id]

    def require_stock(self, stock_id):
        try:
            stock_id = int(str(stock_id))
        except ValueError:
            stock_id = None
        if stock_id not in self.stocks:
            raise MagentoError(404, 'Stock with id "%value" does not exist.', {"value": stock_id})
        return stock_id

    def salable_qty(self, sku, stock_id, reservations):
        """GetProductSalableQty: source qty on the stock + reservations - min_qty."""
        rec = self.require(sku)
        stock_id = self.require_stock(stock_id)
        if rec["type_id"] not in SOURCE_ITEM_TYPES:
            raise MagentoError(400, "Can't check requested quantity for products without Source Items support.")
        if not as_bool(rec["stock"].get("manage_stock", True)):
            return 0
        quantity, salable = 0.0, False
        for code in self.stock_sources(stock_id):
            item = self.source_items.get((rec["sku"].casefold(), code))
            if item and item["status"] == 1 and self.sources[code].get("enabled", True):
                quantity += item["quantity"]
                salable = True
        if not salable or quantity <= 0:
            return 0
        return num(quantity + reservations.get(rec["sku"].casefold(), 0) - float(rec["stock"].get("min_qty", 0)))

    def is_salable(self, sku, stock_id, reservations):
        rec = self.require(sku)
        self.require_stock(stock_id)
        if rec["type_id"] in SOURCE_ITEM_TYPES:
            if not as_bool(rec["stock"].get("manage_stock", True)):
                return True
            return self.salable_qty(sku, stock_id, reservations) > 0
        children = self._composite_children(rec)
        if rec["type_id"] == "bundle":
            return bool(rec["bundle_options"]) and all(
                any(self._child_salable(l["sku"], stock_id, reservations) for l in o["product_links"])
                for o in rec["bundle_options"] if o.get("required", True))
        return any(self._child_salable(c, stock_id, reservations) for c in children)

    def _child_salable(self, sku, stock_id, reservations):
        return self.find(sku) is not None and self.is_salable(sku, stock_id, reservations)

    def _composite_children(self, rec):
        if rec["type_id"] == "configurable":
            return [self.by_id[i]["sku"] for i in rec["configurable_links"] if i in self.by_id]
        if rec["type_id"] == "grouped":
            return [l["linked_product_sku"] for l in rec["product_links"] if l["link_type"] == "associated"]
        return []

    def children(self, rec):
        """Full child products of a configurable (GET .../children)."""
        return [self.by_id[i] for i in rec["configurable_links"] if i in self.by_id]

    # ---- categories ------------------------------------------------------------------------
    def require_category(self, category_id):
        try:
            cid = int(str(category_id))
        except ValueError:
            cid = None
        if cid not in self.categories:
            raise MagentoError(404, NO_SUCH_ENTITY, {"fieldName": "id", "fieldValue": category_id})
        return self.categories[cid]

    def product_count(self, cid):
        return sum(1 for p in self.products.values()
                   if any(str(l["category_id"]) == str(cid) for l in p["category_links"]))

    def render_category(self, cat):
        children = sorted((c for c in self.categories.values() if c["parent_id"] == cat["id"]),
                          key=lambda c: c["position"])
        out = {"id": cat["id"], "parent_id": cat["parent_id"], "name": cat["name"], "is_active": cat["is_active"],
               "position": cat["position"], "level": cat["level"],
               "children": ",".join(str(c["id"]) for c in children), "created_at": cat["created_at"],
               "updated_at": cat["updated_at"], "path": cat["path"], "available_sort_by": [],
               "include_in_menu": cat["include_in_menu"]}
        custom = [{"attribute_code": "url_key", "value": seeddata._url_key(cat["name"])},
                  {"attribute_code": "children_count", "value": str(self._descendants(cat["id"]))}]
        out["custom_attributes"] = custom
        return out

    def _descendants(self, cid):
        kids = [c["id"] for c in self.categories.values() if c["parent_id"] == cid]
        return len(kids) + sum(self._descendants(k) for k in kids)

    def tree(self, root_id, depth):
        root = self.require_category(root_id)

        def node(cat, level):
            children = sorted((c for c in self.categories.values() if c["parent_id"] == cat["id"]),
                              key=lambda c: c["position"])
            return {"id": cat["id"], "parent_id": cat["parent_id"], "name": cat["name"],
                    "is_active": cat["is_active"], "position": cat["position"], "level": cat["level"],
                    "product_count": self.product_count(cat["id"]),
                    "children_data": [node(c, level + 1) for c in children] if depth is None or level < depth else []}

        return node(root, 0)

    def save_category(self, data, category_id=None):
        data = normalize_keys(data, ("id", "parent_id", "name", "is_active", "position", "level", "children",
                                     "created_at", "updated_at", "path", "available_sort_by", "include_in_menu",
                                     "extension_attributes", "custom_attributes"),
                              "Magento\\Catalog\\Api\\Data\\CategoryInterface")
        now = self.now()
        if category_id is not None:
            cat = self.require_category(category_id)
        else:
            if not data.get("name"):
                raise MagentoError(400, "Could not save category: %1",
                                   ['The "Name" attribute value is empty. Set the attribute and try again.'])
            parent = self.require_category(data.get("parent_id") or 2)
            cid = self.next_category_id
            self.next_category_id += 1
            siblings = [c["position"] for c in self.categories.values() if c["parent_id"] == parent["id"]]
            cat = {"id": cid, "parent_id": parent["id"], "name": data["name"], "is_active": True,
                   "position": max(siblings, default=0) + 1, "level": parent["level"] + 1,
                   "path": "%s/%d" % (parent["path"], cid), "created_at": now, "include_in_menu": True}
            self.categories[cid] = cat
        for key in ("name", "position"):
            if data.get(key) is not None:
                cat[key] = data[key] if key == "name" else int(data[key])
        for key in ("is_active", "include_in_menu"):
            if data.get(key) is not None:
                cat[key] = as_bool(data[key])
        cat["updated_at"] = now
        return cat

