"""The customers flow and the products flow from the shop to the books, end to end
(default mappings customers.lua and products.lua, the record pipeline in core/sync_records.c).

eAccounting starts empty (no shop data), so every customer and article is created by ferry; then
changes made in Magento are followed, unchanged records cost no eAccounting request, and a customer
eAccounting refuses (an invalid VAT number, 4025) is dead-lettered while the run goes on.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import recordkit as rk  # noqa: E402
from recordkit import D  # noqa: E402

EU_COMPANIES = {"lars.eriksson3@example.net": "SE564500460101", "lena.schmidt6@example.net": "DE952930218",
                "mikko.makinen8@example.net": "FI62590183", "sanne.dejong11@example.net": "NL852315579B01",
                "nils.andersson21@example.net": "SE559791243201"}
NON_EU_COMPANIES = ("ola.hansen15@example.net", "james.doe17@example.net", "oliver.brown19@example.net")
BAD_VAT = "gesa.falsch@example.net"
TAX_CLASSES = {"tax_classes": {"5": "12", "6": "6"}}
CONTAINERS = ("TEE-LOGO", "HOODIE-FJALL", "SET-BREWING", "BOX-FIKA")


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class Customers(unittest.TestCase):
    """Magento's 24 seed customers and one with an invalid VAT number, into an empty eAccounting."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False, ea_shop_data=False)
        try:
            rk.m2_create_customer(env, BAD_VAT, "Gesa", "Falsch", "DE", "Berlin", "10115", "Unter den Linden 1",
                                  company="Falsch Handel GmbH", taxvat="DE123")
            rk.add_flow(env, "customers", "customers", maps={"currencies": {"NO": "NOK", "US": "USD"}})
            cls.flow = rk.flow_doc(env, "customers")
            cls.magento = rk.m2_customers(env)
            cls.first = rk.run(env, "customers")
            cls.after_first = rk.ea_customers_by_email(env)
            cls.rows_first = rk.idmap(env, "customers")
            cls.letters_first = rk.orderkit.dead_letters(env, flow="customers")

            # Touch three customers (saved unchanged: updated_at moves) and change one's phone and street.
            touched = ["johan.eriksson1@example.com", "lena.schmidt6@example.net", "ingrid.berg14@example.com"]
            for email in touched:
                rk.m2_save_customer(env, cls.magento[email])
            changed = dict(cls.magento["sofia.bergstrom2@example.com"])
            changed["addresses"] = [dict(a, telephone="+46 8 555 0102", street=["Ny gatan 7"])
                                    for a in changed["addresses"]]
            rk.m2_save_customer(env, changed)
            cls.second = rk.run(env, "customers")
            cls.after_second = rk.ea_customers_by_email(env)

            # Read everything again: nothing has changed, nothing is written.
            env.ferry("-q", "flow", "reset", "customers")
            cls.third = rk.run(env, "customers")

            # The shop corrects the VAT number (a minute later: Magento's updated_at has whole seconds): the
            # customer is read again and created.
            env.m2.admin("POST", "clock", {"advance": 60})
            fixed = dict(rk.m2_customers(env)[BAD_VAT], taxvat="DE811569869")
            rk.m2_save_customer(env, fixed)
            cls.fourth = rk.run(env, "customers")
            cls.after_fourth = rk.ea_customers_by_email(env)

            # Someone deletes a customer in eAccounting; then it changes in Magento: ferry's index is stale,
            # the update is refused, one lookup says it is gone, and it is created again.
            gone = cls.after_fourth["elin.bergstrom4@example.com"]
            status, _ = rk.orderkit.ea_api(env, "DELETE", "/customers/" + gone["Id"])
            assert status in (200, 204), status
            env.m2.admin("POST", "clock", {"advance": 60})
            elin = dict(rk.m2_customers(env)["elin.bergstrom4@example.com"])
            elin["addresses"] = [dict(a, telephone="+46 8 555 0404") for a in elin["addresses"]]
            rk.m2_save_customer(env, elin)
            cls.fifth = rk.run(env, "customers")
            cls.after_fifth = rk.ea_customers_by_email(env)
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_flow_defaults(self):
        self.assertEqual(self.flow["source"], {"connection": "shop", "entity": "customer"})
        self.assertEqual(self.flow["target"], {"connection": "books", "entity": "customer"})
        self.assertNotIn("mapping", self.flow)  # the kind's default: customers.lua

    def test_created_once_matched_by_email(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual((summary["read"], summary["synced"], summary["dead"]), (25, 24, 1), p.stdout + p.stderr)
        # 24 created, one refused (below)
        self.assertEqual(rk.writes(ea), {"POST /v2/customers": 25})
        self.assertEqual(len(self.after_first), 24)
        for email, c in self.magento.items():
            if email == BAD_VAT:
                continue
            with self.subTest(customer=email):
                row = self.rows_first[str(c["id"])]
                self.assertEqual((row["state"], row["reason"], row["target_ref"]), ("synced", "created", email))
                self.assertEqual(row["target_id"], self.after_first[email]["Id"])

    def test_company_and_private_person(self):
        for email, c in self.magento.items():
            if email == BAD_VAT:
                continue
            ea = self.after_first[email]
            billing = [a for a in c["addresses"] if a.get("default_billing")][0]
            with self.subTest(customer=email):
                if billing.get("company"):
                    self.assertFalse(ea["IsPrivatePerson"])
                    self.assertEqual(ea["Name"], billing["company"])
                    self.assertEqual(ea["ContactPersonName"], "%s %s" % (c["firstname"], c["lastname"]))
                    self.assertEqual(ea["ContactPersonEmail"], email)
                else:
                    self.assertTrue(ea["IsPrivatePerson"])
                    self.assertEqual(ea["Name"], "%s %s" % (c["firstname"], c["lastname"]))
                    self.assertFalse(ea.get("ContactPersonName"))

    def test_vat_number_only_for_eu_companies(self):
        for email, ea in self.after_first.items():
            with self.subTest(customer=email):
                self.assertEqual(ea.get("VatNumber") or None, EU_COMPANIES.get(email))
        for email in NON_EU_COMPANIES:
            self.assertFalse(self.after_first[email]["IsPrivatePerson"])
            self.assertTrue(self.magento[email].get("taxvat") or email == "james.doe17@example.net")
        self.assertEqual(self.after_first["lars.eriksson3@example.net"]["CorporateIdentityNumber"], "564500-4601")

    def test_address_phone_and_currency(self):
        currency = {"SE": "SEK", "NO": "NOK", "US": "USD"}
        for email, c in self.magento.items():
            if email == BAD_VAT:
                continue
            ea = self.after_first[email]
            billing = [a for a in c["addresses"] if a.get("default_billing")][0]
            with self.subTest(customer=email):
                self.assertEqual(ea["InvoiceAddress1"], billing["street"][0])
                self.assertEqual((ea["InvoicePostalCode"], ea["InvoiceCity"], ea["InvoiceCountryCode"]),
                                 (billing["postcode"], billing["city"], billing["country_id"]))
                self.assertEqual(ea["Telephone"], billing["telephone"])
                self.assertEqual(ea["CurrencyCode"], currency.get(billing["country_id"], "EUR"))
                self.assertEqual(ea["DeliveryCity"], billing["city"])

    def test_invalid_vat_number_is_dead_lettered_and_the_run_goes_on(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual(summary["status"], "partial")
        self.assertEqual(code, 1)
        key = str(self.magento[BAD_VAT]["id"])
        letters = self.letters_first
        self.assertEqual([d["key"] for d in letters], [key])
        self.assertEqual(letters[0]["stage"], "write")
        self.assertIn("4025", letters[0]["message"])
        self.assertIn("DE123", letters[0]["message"])
        self.assertEqual(self.rows_first[key]["state"], "dead")
        self.assertNotIn(BAD_VAT, self.after_first)

    def test_a_corrected_customer_resolves_its_dead_letter(self):
        code, summary, p, ea, m2 = self.fourth
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"]), (1, 1))
        self.assertEqual(rk.writes(ea), {"POST /v2/customers": 1})
        created = self.after_fourth[BAD_VAT]
        self.assertEqual((created["VatNumber"], created["Name"], created["IsPrivatePerson"]),
                         ("DE811569869", "Falsch Handel GmbH", False))
        self.assertEqual(rk.orderkit.dead_letters(self.env, flow="customers"), [])

    def test_a_customer_deleted_in_eaccounting_is_created_again(self):
        code, summary, p, ea, m2 = self.fifth
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"], summary["dead"]), (1, 1, 0))
        self.assertEqual(rk.writes(ea), {"POST /v2/customers": 1})
        self.assertEqual(ea["GET /v2/customers/{customerId}"], 1)  # the stale id: not found
        self.assertEqual(ea["GET /v2/customers"], 1)  # one lookup by e-mail: none
        old, new = self.after_fourth["elin.bergstrom4@example.com"], self.after_fifth["elin.bergstrom4@example.com"]
        self.assertNotEqual(new["Id"], old["Id"])
        self.assertEqual(new["Telephone"], "+46 8 555 0404")
        key = str(self.magento["elin.bergstrom4@example.com"]["id"])
        self.assertEqual(rk.idmap(self.env, "customers")[key]["target_id"], new["Id"])

    def test_changed_customer_is_updated_touched_ones_cost_nothing(self):
        code, summary, p, ea, m2 = self.second
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"], summary["unchanged"]), (4, 1, 3))
        # one update: the customer read, then written back whole (PUT replaces everything)
        self.assertEqual(rk.writes(ea), {"PUT /v2/customers/{customerId}": 1})
        self.assertEqual(sum(ea.values()), 2)
        sofia = self.after_second["sofia.bergstrom2@example.com"]
        self.assertEqual((sofia["Telephone"], sofia["InvoiceAddress1"]), ("+46 8 555 0102", "Ny gatan 7"))
        self.assertEqual(sofia["Id"], self.after_first["sofia.bergstrom2@example.com"]["Id"])
        self.assertEqual(len(self.after_second), 24)
        row = rk.idmap(self.env, "customers")[str(self.magento["sofia.bergstrom2@example.com"]["id"])]
        self.assertEqual((row["state"], row["reason"]), ("synced", "updated"))

    def test_unchanged_customers_cost_no_request(self):
        code, summary, p, ea, m2 = self.third
        self.assertEqual(summary["read"], 25)
        # 24 unchanged, the dead letter waits for 'ferry dead retry' or a change
        self.assertEqual((summary["synced"], summary["unchanged"], summary["skipped"]), (0, 24, 1))
        self.assertEqual(ea, {})
        self.assertEqual(summary["calls"]["target"], 0)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class ProductsToBooks(unittest.TestCase):
    """Magento's 26 seed products into an empty eAccounting: type filter, articles, containers, create_fields,
    update_fields, unchanged runs."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False, ea_shop_data=False)
        try:
            cls.magento = {p["sku"]: p for p in env.m2.state()["products"]}
            # Only virtual products (the shop is asked for those only).
            rk.add_flow(env, "ebooks", "products", settings={"types": ["virtual"]}, maps=TAX_CLASSES)
            cls.ebooks = rk.run(env, "ebooks")
            cls.after_ebooks = rk.ea_articles_by_number(env)

            rk.add_flow(env, "products", "products", maps=TAX_CLASSES)
            cls.flow = rk.flow_doc(env, "products")
            cls.first = rk.run(env, "products")
            cls.after_first = rk.ea_articles_by_number(env)

            # Read everything again: nothing has changed, nothing is written.
            env.ferry("-q", "flow", "reset", "products")
            cls.again = rk.run(env, "products")

            # create_fields: the name is eAccounting's once the article exists.
            rk.set_flow(env, "products", create_fields=["name"])
            rk.m2_save_product(env, "MUG-STONE", name="Stoneware Mug XL", price="129.60")
            cls.create_only = rk.run(env, "products")
            cls.after_create_only = rk.ea_articles_by_number(env)

            # update_fields: an update writes the prices only.
            rk.set_flow(env, "products", create_fields=None, update_fields=["net_price", "gross_price"])
            rk.m2_save_product(env, "CANDLE-BIRCH", name="Birch Candle Large", price="95.20", status=2,
                               custom_attributes=[{"attribute_code": "ean", "value": "2000000000015"}])
            cls.update_only = rk.run(env, "products")
            cls.after_update_only = rk.ea_articles_by_number(env)
            cls.codings = rk.ea_codings(env)
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_flow_defaults_pick_the_article_entity(self):
        self.assertEqual(self.flow["source"], {"connection": "shop", "entity": "product"})
        self.assertEqual(self.flow["target"], {"connection": "books", "entity": "article"})
        show = self.env.ferry("--json", "flow", "show", "products").stdout
        self.assertIn("/mappings/products.lua", show)

    def test_types_filter(self):
        code, summary, p, ea, m2 = self.ebooks
        self.assertEqual(code, 0, p.stdout + p.stderr)
        virtual = sorted(s for s, p in self.magento.items() if p["type_id"] == "virtual")
        self.assertEqual(virtual, ["EBOOK-FIKA"])
        self.assertEqual((summary["read"], summary["synced"]), (1, 1))
        self.assertEqual(sorted(self.after_ebooks), virtual)
        self.assertEqual(rk.writes(ea), {"POST /v2/articles": 1})
        self.assertEqual(list(rk.idmap(self.env, "ebooks")), ["EBOOK-FIKA"])

    def test_articles(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual(code, 0, p.stdout + p.stderr)
        sellable = sorted(s for s in self.magento if s not in CONTAINERS)
        self.assertEqual((summary["read"], summary["synced"], summary["skipped"]), (26, 22, 4))
        self.assertEqual(sorted(self.after_first), sellable)
        # created once each; the e-book was there already and is found, not created again
        self.assertEqual(rk.writes(ea), {"POST /v2/articles": 21, "PUT /v2/articles/{articleId}": 1})
        rates = {"2": D(25), "5": D(12), "6": D(6)}
        for sku in sellable:
            m, a = self.magento[sku], self.after_first[sku]
            rate = rates[rk.custom_attribute(m, "tax_class_id")]
            with self.subTest(sku=sku):
                self.assertEqual(a["Name"], m["name"][:50])
                self.assertEqual(self.codings[a["CodingId"]], (rate, "Service" if sku == "EBOOK-FIKA" else "Goods"))
                net = D(str(m["price"])).quantize(D("0.01"))
                self.assertEqual(D(str(a["NetPrice"])), net)
                self.assertEqual(D(str(a["GrossPrice"])), (net * (100 + rate) / 100).quantize(D("0.01")))
                self.assertEqual(a["Barcodes"][0]["Barcode"], rk.custom_attribute(m, "ean"))
                self.assertTrue(a["IsActive"])
                self.assertEqual(a["UnitAbbreviation"], "st")

    def test_containers_are_skipped_with_the_reason(self):
        rows = rk.idmap(self.env, "products")
        for sku in CONTAINERS:
            self.assertEqual(rows[sku]["state"], "skipped")
            self.assertNotIn(sku, self.after_first)
        self.assertEqual(rows["TEE-LOGO"]["reason"], "configurable product TEE-LOGO is not an article: its 4 variants "
                                                     "are (TEE-LOGO-S, TEE-LOGO-M, TEE-LOGO-L, TEE-LOGO-XL)")
        self.assertIn("grouped product SET-BREWING is not an article", rows["SET-BREWING"]["reason"])
        self.assertIn("dynamic-price bundle BOX-FIKA", rows["BOX-FIKA"]["reason"])
        # a fixed-price bundle is sold at its own price: an article
        self.assertEqual(rows["KIT-CAMP"]["state"], "synced")
        self.assertIn("KIT-CAMP", self.after_first)

    def test_create_fields_are_not_overwritten_on_update(self):
        code, summary, p, ea, m2 = self.create_only
        self.assertEqual((summary["read"], summary["synced"]), (1, 1), p.stdout + p.stderr)
        self.assertEqual(rk.writes(ea), {"PUT /v2/articles/{articleId}": 1})
        mug = self.after_create_only["MUG-STONE"]
        self.assertEqual(mug["Name"], "Stoneware Mug")  # create-only: not overwritten
        self.assertEqual((D(str(mug["NetPrice"])), D(str(mug["GrossPrice"]))), (D("129.60"), D("162.00")))
        self.assertEqual(mug["Id"], self.after_first["MUG-STONE"]["Id"])

    def test_update_fields_limit_an_update_to_the_prices(self):
        code, summary, p, ea, m2 = self.update_only
        self.assertEqual((summary["read"], summary["synced"]), (1, 1), p.stdout + p.stderr)
        self.assertEqual(rk.writes(ea), {"PUT /v2/articles/{articleId}": 1})
        before, after = self.after_first["CANDLE-BIRCH"], self.after_update_only["CANDLE-BIRCH"]
        self.assertEqual((D(str(after["NetPrice"])), D(str(after["GrossPrice"]))), (D("95.20"), D("119.00")))
        # name, EAN and status were changed in Magento too, but are not update_fields
        self.assertEqual((after["Name"], after["Barcodes"], after["IsActive"]),
                         (before["Name"], before["Barcodes"], True))

    def test_unchanged_products_cost_no_request(self):
        code, summary, p, ea, m2 = self.again
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"], summary["unchanged"]), (26, 0, 22))
        self.assertEqual(ea, {})


if __name__ == "__main__":
    unittest.main()
