"""The orders flow's settings end to end: document_type, customer_policy,
custom_fields and a mapping's target_fields, the payment_terms and
delivery_methods value maps.

Several flows share one shop and one eAccounting company; each flow takes
orders of its own status, so no two flows see the same order (the target
index is per connection: a document one flow made exists for every flow).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import orderkit as k  # noqa: E402
from orderkit import D, dec  # noqa: E402

DEBTOR = "9000"


def by_status(orders, status):
    return sorted(n for n, o in orders.items() if o["status"] == status)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class DocumentTypes(unittest.TestCase):
    """document_type order (processing orders), invoice_draft (complete), invoice (closed)."""

    FLOWS = (("as_order", "order", "processing"), ("as_draft", "invoice_draft", "complete"),
             ("as_invoice", "invoice", "closed"))

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            for name, doc_type, status in cls.FLOWS:
                k.add_flow(env, name, settings={"document_type": doc_type, "statuses": [status]})
            cls.results = {name: env.run(flow=name) for name, _, _ in cls.FLOWS}
            cls.docs = env.documents_by_ref()
            cls.orders = env.magento_orders()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def check_flow(self, flow, doc_type, status):
        code, summary, p = self.results[flow]
        self.assertEqual(code, 0, p.stdout + p.stderr)
        keys = by_status(self.orders, status)
        self.assertGreaterEqual(len(keys), 3)
        self.assertEqual(summary["synced"], len(keys))
        for n in keys:
            with self.subTest(order=n):
                docs = self.docs.get(n, [])
                self.assertEqual(len(docs), 1)
                doc = docs[0]
                self.assertEqual(doc["_type"], doc_type)
                self.assertEqual(doc[k.EXTERNAL_REF], n)
                row = k.idmap(self.env, n, flow=flow)
                self.assertEqual(row["state"], "synced")
                self.assertEqual(row["target_id"], doc["Id"])
                total, vat, currency = k.document_total(doc)
                self.assertEqual(currency, self.orders[n]["order_currency_code"])
                # a booked invoice cannot get a rounding row: within the tolerance it is recorded
                self.assertLessEqual(abs(total - dec(self.orders[n]["grand_total"])), D("0.05"))
                comments = [h["comment"] for h in self.orders[n]["status_histories"] if "ferry" in (h["comment"] or "")]
                self.assertEqual(len(comments), 1)
                what = {"order": "as order", "invoice_draft": "as invoice draft", "invoice": "as invoice"}[doc_type]
                self.assertIn(what, comments[0])
        return keys

    def test_order(self):
        keys = self.check_flow("as_order", "order", "processing")
        doc = self.docs[keys[0]][0]
        self.assertTrue(doc["Number"])
        self.assertEqual(k.idmap(self.env, keys[0], flow="as_order")["target_ref"], str(doc["Number"]))

    def test_invoice_draft(self):
        self.check_flow("as_draft", "invoice_draft", "complete")

    def test_invoice(self):
        keys = self.check_flow("as_invoice", "invoice", "closed")
        for n in keys:
            doc = self.docs[n][0]
            self.assertTrue(doc["InvoiceNumber"])
            self.assertEqual(k.idmap(self.env, n, flow="as_invoice")["target_ref"], str(doc["InvoiceNumber"]))

    def test_each_flow_leaves_the_other_statuses_alone(self):
        for flow, _, status in self.FLOWS:
            for n, o in self.orders.items():
                if o["status"] != status:
                    row = k.idmap(self.env, n, flow=flow)
                    self.assertEqual(row["state"], "skipped", (flow, n))
        self.assertEqual(set(self.docs), set(by_status(self.orders, "processing") + by_status(self.orders, "complete")
                                             + by_status(self.orders, "closed")))


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class CustomerPolicies(unittest.TestCase):
    """customer_policy default_debtor (processing orders), default_for_guests (complete), a default customer
    number eAccounting does not have (closed), and default_debtor without a number (pending)."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            cls.debtor = k.ea_add_customer(env, DEBTOR, "Webshop kunder")
            k.add_flow(env, "debtor", settings={"statuses": ["processing"], "customer_policy": "default_debtor",
                                                "default_customer_number": DEBTOR})
            k.add_flow(env, "guests", settings={"statuses": ["complete"], "customer_policy": "default_for_guests",
                                                "default_customer_number": DEBTOR})
            k.add_flow(env, "nodebtor", settings={"statuses": ["closed"], "customer_policy": "default_debtor",
                                                  "default_customer_number": "9999"})
            k.add_flow(env, "nonumber", settings={"statuses": ["pending"], "customer_policy": "default_debtor"})
            cls.customers_before = len(k.ea_customers(env))
            cls.results = {f: env.run(flow=f) for f in ("debtor", "guests", "nodebtor", "nonumber")}
            cls.docs = env.documents_by_ref()
            cls.orders = env.magento_orders()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_default_debtor_takes_every_order(self):
        code, summary, p = self.results["debtor"]
        # orders in the default debtor's currency; the others are dead-lettered (see below)
        keys = [n for n in by_status(self.orders, "processing") if self.orders[n]["order_currency_code"] == "SEK"]
        foreign = len(by_status(self.orders, "processing")) - len(keys)
        self.assertEqual(summary["synced"], len(keys))
        self.assertEqual(summary["dead"], foreign)
        for n in keys:
            with self.subTest(order=n):
                docs = self.docs[n]
                self.assertEqual(len(docs), 1)
                self.assertEqual(docs[0]["CustomerId"], self.debtor["Id"])
                self.assertEqual(docs[0]["CustomerNumber"], DEBTOR)
                self.assertEqual(self.env.events(key=n, kind="customer"), [])
        # the orders in the debtor's own currency: Magento's totals, no difference
        for n in keys:
            if self.orders[n]["order_currency_code"] != "SEK":
                continue
            with self.subTest(order=n):
                self.assertEqual(k.idmap(self.env, n, flow="debtor")["state"], "synced")
                total, vat, currency = k.document_total(self.docs[n][0])
                self.assertEqual((total, vat, currency), (dec(self.orders[n]["grand_total"]),
                                                          dec(self.orders[n]["tax_amount"]), "SEK"))

    def test_foreign_currency_order_is_not_booked_in_the_default_debtors_currency(self):
        # An invoice draft takes its customer's currency, so a EUR or USD order on the SEK default
        # debtor would become a SEK draft holding the EUR/USD amounts.  eaccounting.so knows the
        # customer's currency before it POSTs: such an order is dead-lettered naming both currencies.
        foreign = [n for n in by_status(self.orders, "processing") if self.orders[n]["order_currency_code"] != "SEK"]
        self.assertGreaterEqual(len(foreign), 2)
        letters = {d["key"]: d["message"] for d in k.dead_letters(self.env, flow="debtor")}
        for n in foreign:
            currency = self.orders[n]["order_currency_code"]
            for doc in self.docs.get(n, []):
                self.assertEqual(k.document_total(doc)[2], currency, n)
            if n not in self.docs:
                self.assertIn(currency, letters.get(n, ""))
                self.assertIn("SEK", letters.get(n, ""))

    def test_default_for_guests_puts_only_guests_on_the_default_debtor(self):
        code, summary, p = self.results["guests"]
        self.assertEqual(code, 0, p.stdout + p.stderr)
        keys = by_status(self.orders, "complete")
        guests = [n for n in keys if self.orders[n]["customer_is_guest"]]
        self.assertGreaterEqual(len(guests), 2)
        for n in keys:
            with self.subTest(order=n):
                doc = self.docs[n][0]
                customer = k.ea_customer(self.env, doc["CustomerId"])
                if n in guests:
                    self.assertEqual(customer["CustomerNumber"], DEBTOR)
                else:
                    self.assertEqual(customer["EmailAddress"].lower(), self.orders[n]["customer_email"].lower())

    def test_no_customer_is_created_for_the_debtor_flows(self):
        # every registered buyer of the seed shop exists in eAccounting, and guests went to the debtor
        self.assertEqual(len(k.ea_customers(self.env)), self.customers_before)

    def test_a_default_customer_that_does_not_exist_dead_letters(self):
        code, summary, p = self.results["nodebtor"]
        self.assertEqual(code, 1, p.stdout + p.stderr)
        keys = by_status(self.orders, "closed")
        self.assertEqual((summary["dead"], summary["synced"]), (len(keys), 0))
        letters = {d["key"]: d for d in k.dead_letters(self.env, flow="nodebtor")}
        self.assertEqual(set(letters), set(keys))
        for n in keys:
            self.assertIn("the default customer 9999 does not exist in books", letters[n]["message"])
            self.assertNotIn(n, self.docs)

    def test_default_debtor_without_a_number_dead_letters(self):
        code, summary, p = self.results["nonumber"]
        self.assertEqual(code, 1, p.stdout + p.stderr)
        keys = by_status(self.orders, "pending")
        letters = {d["key"]: d for d in k.dead_letters(self.env, flow="nonumber")}
        self.assertEqual(set(letters), set(keys))
        for n in keys:
            self.assertIn("customer_policy default_debtor needs the default_customer_number setting",
                          letters[n]["message"])


# A mapping that adds its own target field per order, on top of the default mapping (as an
# integrator would: a copy of orders.lua with a few lines added).
EXTRA_MAPPING = r'''
local default_map = map
function map(order, ctx)
  local doc = default_map(order, ctx)
  doc.target_fields.YourReference = "Webshop " .. order.number
  if order.payment and order.payment.po_number then
    doc.target_fields.ElectronicReference = order.payment.po_number
  end
  return doc
end
'''


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class FieldsAndValueMaps(unittest.TestCase):
    """custom_fields (setting) and target_fields (mapping) reach the payload; payment method -> terms of
    payment; shipping method -> delivery method."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            with open(os.path.join(ferrytest.DATADIR, "mappings", "orders.lua")) as fh:
                text = fh.read()
            mapping = os.path.join(env.dir, "orders_custom.lua")
            with open(mapping, "w") as fh:
                fh.write(text + EXTRA_MAPPING)
            k.add_flow(env, "custom", mapping=mapping,
                       settings={"statuses": ["processing"],
                                 "custom_fields": {"OurReference": "Webshop", "ContractNumber": "K-2025-7"}},
                       maps={"delivery_methods": {"flatrate_flatrate": "PN", "tablerate_bestway": "DHL Express"},
                             "payment_terms": {"checkmo": "20", "purchaseorder": "Innevarande månad + 30"}})
            cls.code, cls.summary, cls.p = env.run(flow="custom")
            cls.docs = env.documents_by_ref()
            cls.orders = env.magento_orders()
            cls.keys = by_status(cls.orders, "processing")
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_all_synced(self):
        self.assertEqual(self.code, 0, self.p.stdout + self.p.stderr)
        self.assertEqual(self.summary["synced"], len(self.keys))

    def test_custom_fields_setting_reaches_every_document(self):
        for n in self.keys:
            doc = self.docs[n][0]
            self.assertEqual(doc["ContractNumber"], "K-2025-7")
            self.assertEqual(doc["OurReference"], "Webshop")  # the setting wins over the mapping's default

    def test_mapping_target_fields_reach_the_document(self):
        for n in self.keys:
            doc = self.docs[n][0]
            self.assertEqual(doc["YourReference"], "Webshop " + n)
            po = (self.orders[n]["payment"] or {}).get("po_number")
            self.assertEqual(doc["ElectronicReference"], po)
        self.assertEqual(self.docs["000001039"][0]["ElectronicReference"], "PO-4001")

    def test_payment_method_maps_to_terms_of_payment(self):
        for n in self.keys:
            method = self.orders[n]["payment"]["method"]
            want = {"checkmo": "20 dagar netto", "purchaseorder": "Innevarande månad + 30"}[method]
            self.assertEqual(self.docs[n][0]["TermsOfPaymentId"], k.terms_id(self.env, want), n)

    def test_shipping_method_maps_to_delivery_method(self):
        seen = set()
        for n in self.keys:
            doc = self.docs[n][0]
            sa = self.orders[n]["extension_attributes"].get("shipping_assignments") or []
            method = sa[0]["shipping"].get("method") if sa else None
            want = {"flatrate_flatrate": ("PN", "PostNord"), "tablerate_bestway": ("DHL", "DHL Express")}.get(method)
            if want is None:
                self.assertIsNone(doc["DeliveryMethodCode"])
                continue
            seen.add(method)
            self.assertEqual((doc["DeliveryMethodCode"], doc["DeliveryMethodName"]), want, n)
        self.assertEqual(seen, {"flatrate_flatrate", "tablerate_bestway"})


if __name__ == "__main__":
    unittest.main()
