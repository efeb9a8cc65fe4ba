"""Magento 2 customers for the emulator (CustomerInterface / AddressInterface).

Shape as in shared/spec/magento2/customer_*.json: default_billing and
default_shipping are address ids as strings on the customer and booleans
(present only when true) on the address; the region is an object.

PUT /V1/customers/{id} is a full save, as in Magento: the body must carry
email, firstname and lastname, optional personal fields left out are cleared,
and "addresses" replaces every address when present (keeps them when absent).
"""

import re

from magento2_catalog import as_bool, normalize_keys
from magento2_errors import MagentoError, NO_SUCH_ENTITY, input_errors

CUSTOMER_PROPS = ("id", "group_id", "default_billing", "default_shipping", "confirmation", "created_at",
                  "updated_at", "created_in", "dob", "email", "firstname", "lastname", "middlename", "prefix",
                  "suffix", "gender", "store_id", "taxvat", "website_id", "addresses", "disable_auto_group_change",
                  "extension_attributes", "custom_attributes")
ADDRESS_PROPS = ("id", "customer_id", "region", "region_id", "country_id", "street", "company", "telephone", "fax",
                 "postcode", "city", "firstname", "lastname", "middlename", "prefix", "suffix", "vat_id",
                 "default_shipping", "default_billing", "extension_attributes", "custom_attributes")
REGION_PROPS = ("region_code", "region", "region_id", "extension_attributes")
CLEARED_ON_PUT = ("dob", "gender", "taxvat", "middlename", "prefix", "suffix")
EMPTY = 'The "%1" attribute value is empty. Set the attribute and try again.'
EMAIL_RX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Customers:
    def __init__(self, now):
        self.now = now
        self.items = {}  # id -> customer JSON
        self.next_id = 1
        self.next_address_id = 1

    # ---- seeding -------------------------------------------------------------------
    def seed(self, customers):
        for c in customers:
            addresses = []
            for a in c["addresses"]:
                address = {"id": a["id"], "customer_id": c["id"], "region": _region(a), "region_id": a["region_id"] or 0,
                           "country_id": a["country_id"], "street": list(a["street"])}
                if a.get("company"):
                    address["company"] = a["company"]
                address.update({"telephone": a["telephone"], "postcode": a["postcode"], "city": a["city"],
                                "firstname": a["firstname"], "lastname": a["lastname"]})
                if a.get("vat_id"):
                    address["vat_id"] = a["vat_id"]
                address["default_shipping"] = True
                address["default_billing"] = True
                addresses.append(address)
                self.next_address_id = max(self.next_address_id, a["id"] + 1)
            record = {"id": c["id"], "group_id": c["group_id"], "default_billing": str(addresses[0]["id"]),
                      "default_shipping": str(addresses[0]["id"]), "created_at": c["created_at"],
                      "updated_at": c["updated_at"], "created_in": "Default Store View", "email": c["email"],
                      "firstname": c["firstname"], "lastname": c["lastname"], "store_id": 1}
            if c.get("vat_id"):
                record["taxvat"] = c["vat_id"]
            record.update({"website_id": 1, "addresses": addresses, "disable_auto_group_change": 0,
                           "extension_attributes": {"is_subscribed": False}})
            self.items[c["id"]] = record
            self.next_id = max(self.next_id, c["id"] + 1)

    def load(self, customer):
        """A fixture: a customer as Magento returns it."""
        cid = int(customer.get("id") or self.next_id)
        record = dict(customer, id=cid)
        for a in record.get("addresses", []):
            a.setdefault("id", self.next_address_id)
            a["customer_id"] = cid
            self.next_address_id = max(self.next_address_id, int(a["id"]) + 1)
        self.items[cid] = record
        self.next_id = max(self.next_id, cid + 1)
        return record

    # ---- reading -------------------------------------------------------------------
    def require(self, customer_id):
        try:
            cid = int(str(customer_id))
        except ValueError:
            cid = None
        if cid not in self.items:
            raise MagentoError(404, NO_SUCH_ENTITY, {"fieldName": "customerId", "fieldValue": customer_id})
        return self.items[cid]

    @staticmethod
    def render(record, detail=True):
        """GET /V1/customers/{id} carries extension_attributes; search results do not (stricter)."""
        out = {k: v for k, v in record.items() if v is not None}
        if not detail:
            out.pop("extension_attributes", None)
        return out

    # ---- writing -------------------------------------------------------------------
    def create(self, body):
        data = normalize_keys(body, CUSTOMER_PROPS, "Magento\\Customer\\Api\\Data\\CustomerInterface")
        self._validate(data)
        self._check_unique_email(data["email"], None)
        now = self.now()
        cid = self.next_id
        self.next_id += 1
        record = {"id": cid, "group_id": int(data.get("group_id") or 1), "created_at": now, "updated_at": now,
                  "created_in": "Default Store View"}
        self._apply(record, data)
        record.update({"store_id": int(data.get("store_id") or 1), "website_id": int(data.get("website_id") or 1),
                       "disable_auto_group_change": int(data.get("disable_auto_group_change") or 0)})
        record["addresses"] = self._addresses(cid, data.get("addresses") or [], record)
        record["extension_attributes"] = {"is_subscribed": self._subscribed(data, False)}
        self.items[cid] = _ordered(record)
        return self.items[cid]

    def update(self, customer_id, body):
        record = self.require(customer_id)
        data = normalize_keys(body, CUSTOMER_PROPS, "Magento\\Customer\\Api\\Data\\CustomerInterface")
        self._validate(data)
        self._check_unique_email(data["email"], record["id"])
        for field in CLEARED_ON_PUT:
            record.pop(field, None)
        self._apply(record, data)
        if data.get("group_id") is not None:
            record["group_id"] = int(data["group_id"])
        if data.get("addresses") is not None:
            record.pop("default_billing", None)
            record.pop("default_shipping", None)
            record["addresses"] = self._addresses(record["id"], data["addresses"], record)
        record["extension_attributes"] = {"is_subscribed": self._subscribed(
            data, record.get("extension_attributes", {}).get("is_subscribed", False))}
        record["updated_at"] = self.now()
        self.items[record["id"]] = _ordered(record)
        return self.items[record["id"]]

    def delete(self, customer_id):
        record = self.require(customer_id)
        del self.items[record["id"]]

    @staticmethod
    def _subscribed(data, default):
        ext = data.get("extension_attributes") or {}
        ext = normalize_keys(ext, ("company_attributes", "is_subscribed", "assistance_allowed"),
                             "Magento\\Customer\\Api\\Data\\CustomerExtensionInterface")
        return as_bool(ext["is_subscribed"]) if ext.get("is_subscribed") is not None else default

    @staticmethod
    def _validate(data):
        problems = [(EMPTY, [label]) for field, label in (("firstname", "First Name"), ("lastname", "Last Name"),
                                                          ("email", "Email"))
                    if not str(data.get(field) or "").strip()]
        if problems:
            raise input_errors(400, problems)
        if not EMAIL_RX.match(str(data["email"])):
            raise MagentoError(400, '"%fieldName" is not a valid email address.', {"fieldName": "email"})

    def _check_unique_email(self, email, own_id):
        for other in self.items.values():
            if other["id"] != own_id and other["email"].casefold() == str(email).casefold():
                raise MagentoError(400, "A customer with the same email address already exists in an "
                                        "associated website.")

    @staticmethod
    def _apply(record, data):
        for field in ("email", "firstname", "lastname", "middlename", "prefix", "suffix", "taxvat", "dob"):
            if data.get(field) is not None:
                record[field] = str(data[field])
        if data.get("gender") is not None:
            record["gender"] = int(data["gender"])

    def _addresses(self, cid, raw_addresses, record):
        out, problems = [], []
        for raw in raw_addresses:
            a = normalize_keys(raw, ADDRESS_PROPS, "Magento\\Customer\\Api\\Data\\AddressInterface")
            for field in ("firstname", "lastname", "street", "city", "country_id", "telephone", "postcode"):
                if not a.get(field):
                    problems.append(('"%fieldName" is required. Enter and try again.', {"fieldName": field}))
            if problems:
                continue
            region = normalize_keys(a.get("region") or {}, REGION_PROPS, "Magento\\Customer\\Api\\Data\\RegionInterface")
            region_id = int(a.get("region_id") or region.get("region_id") or 0)
            address = {"id": self.next_address_id, "customer_id": cid,
                       "region": {"region_code": region.get("region_code"), "region": region.get("region"),
                                  "region_id": region_id},
                       "region_id": region_id, "country_id": a["country_id"],
                       "street": list(a["street"]) if isinstance(a["street"], list) else [str(a["street"])]}
            self.next_address_id += 1
            for field in ("company", "telephone", "fax", "postcode", "city", "firstname", "lastname", "middlename",
                          "prefix", "suffix", "vat_id"):
                if a.get(field) is not None:
                    address[field] = str(a[field])
            for flag in ("default_shipping", "default_billing"):
                if as_bool(a.get(flag)):
                    address[flag] = True
                    record[flag] = str(address["id"])
            out.append(address)
        if problems:
            raise input_errors(400, problems)
        return out


def _region(a):
    if a.get("region"):
        return {"region_code": a["region_code"], "region": a["region"], "region_id": a["region_id"]}
    # no region: Magento still answers the object; its null strings stay (non-nullable getters)
    return {"region_code": None, "region": None, "region_id": 0}


_ORDER = ("id", "group_id", "default_billing", "default_shipping", "confirmation", "created_at", "updated_at",
          "created_in", "dob", "email", "firstname", "lastname", "middlename", "prefix", "suffix", "gender",
          "store_id", "taxvat", "website_id", "addresses", "disable_auto_group_change", "extension_attributes")


def _ordered(record):
    out = {k: record[k] for k in _ORDER if k in record}
    out.update({k: v for k, v in record.items() if k not in out})
    return out
