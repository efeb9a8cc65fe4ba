"""The stock flow end to end (default mapping stock.lua): Magento's salable quantity (MSI: on hand
minus the reservations of open orders) becomes the eAccounting article's StockBalance, only when it
changed, only for articles that exist, and never while eAccounting's Stock module is on.

eAccounting starts with the shop's articles (--with-shop-data); the shop connection reads stock in
stock_mode msi, where Magento reports the salable quantity.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import recordkit as rk  # noqa: E402
from recordkit import D  # noqa: E402

NEW_SKU = "LAMP-NEW"


def add_product_without_article(env):
    """A simple product with stock in Magento that eAccounting has no article for."""
    env.m2.admin("POST", "fixtures", {
        "products": [{"sku": NEW_SKU, "name": "Desk Lamp", "type_id": "simple", "attribute_set_id": 4, "price": 399,
                      "status": 1, "visibility": 4}],
        "source_items": [{"sku": NEW_SKU, "source_code": "default", "quantity": 12, "status": 1}]})


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class Stock(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False)
        try:
            env.ferry("-q", "connection", "set", "shop", "stock_mode=msi")
            add_product_without_article(env)
            rk.add_flow(env, "stock", "stock")
            cls.flow = rk.flow_doc(env, "stock")
            cls.articles_before = rk.ea_articles_by_number(env)
            cls.salable_first = rk.m2_salable(env)
            cls.first = rk.run(env, "stock")
            cls.after_first = rk.ea_articles_by_number(env)

            # A new order reserves what it sells: those SKUs' salable quantity drops, nothing else moves.
            placed = env.m2.admin("POST", "orders/new", {"count": 1})
            status, order = env.m2_api("GET", "/rest/V1/orders/%d" % placed["entity_ids"][0])
            cls.ordered = {}
            for item in order["items"]:
                if item["product_type"] in ("simple", "virtual", "downloadable"):
                    cls.ordered[item["sku"]] = cls.ordered.get(item["sku"], 0) + D(str(item["qty_ordered"]))
            cls.salable_second = rk.m2_salable(env)
            cls.second = rk.run(env, "stock")
            cls.after_second = rk.ea_articles_by_number(env)

            cls.third = rk.run(env, "stock")
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_flow_defaults(self):
        self.assertEqual(self.flow["source"], {"connection": "shop", "entity": "stock"})
        self.assertEqual(self.flow["target"], {"connection": "books", "entity": "article"})

    def test_stock_balance_is_the_salable_quantity(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual(code, 0, p.stdout + p.stderr)
        skus = sorted(s for s in self.salable_first if s != NEW_SKU)
        self.assertEqual(len(skus), 21)
        self.assertEqual((summary["read"], summary["synced"], summary["skipped"]), (22, 21, 1))
        self.assertEqual(rk.writes(ea), {"PUT /v2/articles/{articleId}": 21})
        reserved = 0
        for sku in skus:
            with self.subTest(sku=sku):
                self.assertEqual(D(str(self.after_first[sku]["StockBalance"])), self.salable_first[sku])
                on_hand = D(str(self.articles_before[sku]["StockBalance"]))  # the seed: Magento's quantity
                reserved += on_hand - self.salable_first[sku]
                # only the balance moved
                self.assertEqual(self.after_first[sku]["NetPrice"], self.articles_before[sku]["NetPrice"])
                self.assertEqual(self.after_first[sku]["Name"], self.articles_before[sku]["Name"])
        self.assertGreater(reserved, 0)  # the seed shop's open orders hold reservations
        self.assertEqual(self.after_first["MUG-STONE"]["StockBalance"], 79)

    def test_a_sku_without_article_is_skipped_with_the_reason(self):
        row = rk.idmap(self.env, "stock")[NEW_SKU]
        self.assertEqual(row["state"], "skipped")
        self.assertEqual(row["reason"], "books has no article LAMP-NEW; not created (create_missing is false)")
        self.assertNotIn(NEW_SKU, self.after_first)

    def test_a_reservation_lowers_the_balance_and_costs_one_write_per_sku(self):
        code, summary, p, ea, m2 = self.second
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertGreaterEqual(len(self.ordered), 1)
        n = len(self.ordered)
        self.assertEqual((summary["synced"], summary["unchanged"]), (n, 21 - n))
        self.assertEqual(rk.writes(ea), {"PUT /v2/articles/{articleId}": n})
        for sku, a in self.after_second.items():
            with self.subTest(sku=sku):
                if sku in self.ordered:
                    self.assertEqual(self.salable_first[sku] - self.salable_second[sku], self.ordered[sku])
                    self.assertEqual(D(str(a["StockBalance"])), self.salable_second[sku])
                else:
                    self.assertEqual(a["StockBalance"], self.after_first[sku]["StockBalance"])

    def test_unchanged_quantities_cost_no_request(self):
        code, summary, p, ea, m2 = self.third
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"], summary["unchanged"]), (22, 0, 21))
        # only the SKU without article is looked up again (it may have one by now)
        self.assertEqual(ea, {"GET /v2/articles": 1})


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class PoisonPill(unittest.TestCase):
    """An article eAccounting answers 500 for stops the run (transient), twice; the third run dead-letters it."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False)
        try:
            env.ferry("-q", "connection", "set", "shop", "stock_mode=msi")
            rk.add_flow(env, "stock", "stock")
            rk.run(env, "stock")
            placed = env.m2.admin("POST", "orders/new", {"count": 1})
            status, order = env.m2_api("GET", "/rest/V1/orders/%d" % placed["entity_ids"][0])
            cls.sku = sorted(i["sku"] for i in order["items"] if i["product_type"] == "simple")[0]
            article = rk.ea_articles_by_number(env)[cls.sku]
            env.ea.admin("POST", "faults", {"route": "/v2/articles/" + article["Id"], "method": "PUT", "count": 100,
                                            "status": 500})
            cls.runs, cls.rows = [], []
            for _ in range(3):
                cls.runs.append(rk.run(env, "stock"))
                cls.rows.append(rk.idmap(env, "stock")[cls.sku])
            cls.letters = rk.orderkit.dead_letters(env, flow="stock")
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_two_runs_stop_then_the_record_is_dead_lettered_and_the_run_goes_on(self):
        statuses = [summary["status"] for code, summary, p, ea, m2 in self.runs]
        self.assertEqual(statuses, ["stopped", "stopped", "partial"])
        for n in (1, 2):
            self.assertTrue(self.rows[n - 1]["reason"].startswith("transient failure %d of 3: " % n),
                            self.rows[n - 1]["reason"])
            self.assertIn(self.sku, self.runs[n - 1][1]["message"])
        code, summary, p, ea, m2 = self.runs[2]
        self.assertEqual((summary["dead"], summary["read"]), (1, 21))
        self.assertEqual([d["key"] for d in self.letters], [self.sku])
        self.assertEqual(self.letters[0]["error_class"], "retry")
        self.assertEqual(self.rows[2]["state"], "dead")


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class StockModuleOn(unittest.TestCase):
    """With eAccounting's Stock module on, eAccounting keeps the balance: every SKU is dead-lettered saying so."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False)
        try:
            env.ea.admin("POST", "company", {"settings": {"ActivatedModules": ["Stock"]}})
            env.ferry("-q", "connection", "set", "shop", "stock_mode=msi")
            rk.add_flow(env, "stock", "stock")
            cls.before = rk.ea_articles_by_number(env)
            cls.first = rk.run(env, "stock")
            cls.after = rk.ea_articles_by_number(env)
            cls.letters = rk.orderkit.dead_letters(env, flow="stock")
            cls.second = rk.run(env, "stock")

            # The module is turned off; ferry reads the company settings again; the letters are retried.
            env.ea.admin("POST", "company", {"settings": {"ActivatedModules": []}})
            env.ferry("-q", "connection", "action", "books", "refresh-reference-data")
            cls.salable = rk.m2_salable(env)
            env.ea.admin("POST", "requests/reset")
            cls.retry = env.ferry("--json", "dead", "retry", "--all", "--flow", "stock", check=False)
            cls.retry_calls = env.ea.requests()["by_route"]
            cls.after_retry = rk.ea_articles_by_number(env)
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_every_sku_is_dead_lettered_with_the_reason(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual((code, summary["status"]), (1, "partial"))
        self.assertEqual((summary["read"], summary["synced"], summary["dead"]), (21, 0, 21))
        self.assertEqual(rk.writes(ea), {})
        self.assertEqual(len(self.letters), 21)
        for d in self.letters:
            self.assertIn("Stock module is on", d["message"])
            self.assertEqual(d["error_class"], "record")
        for sku, a in self.after.items():
            self.assertEqual(a["StockBalance"], self.before[sku]["StockBalance"], sku)

    def test_dead_letters_wait_for_a_retry_or_a_change(self):
        code, summary, p, ea, m2 = self.second
        self.assertEqual((summary["read"], summary["synced"], summary["dead"]), (21, 0, 0))
        self.assertEqual(ea, {})

    def test_a_retry_after_the_module_is_off_writes_the_balances(self):
        self.assertEqual(self.retry.returncode, 0, self.retry.stdout + self.retry.stderr)
        self.assertEqual(rk.writes(self.retry_calls), {"PUT /v2/articles/{articleId}": 21})
        for sku, a in self.after_retry.items():
            if sku in self.salable:
                self.assertEqual(D(str(a["StockBalance"])), self.salable[sku], sku)
        self.assertEqual(rk.orderkit.dead_letters(self.env, flow="stock"), [])
        self.assertEqual({r["state"] for r in rk.idmap(self.env, "stock").values()}, {"synced"})


if __name__ == "__main__":
    unittest.main()
