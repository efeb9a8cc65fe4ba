"""The products flow from the books to the shop, end to end (default mapping
products_from_accounting.lua): eAccounting articles become Magento simple products, the mapping's
filter (number_prefix, skip_inactive) leaves others out with the reason, and what the shop owns (the
description, URL key, category) is written only when the product is created.

eAccounting starts with the shop's articles (--with-shop-data); the flow takes only articles whose
number starts with EA-, so the seed catalogue is left alone.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import recordkit as rk  # noqa: E402
from recordkit import D  # noqa: E402


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class ProductsFromBooks(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(flow=False)
        try:
            cls.mug = rk.ea_add_article(env, "EA-MUG", "Kaffemugg", 25, net_price="96.00", ean="2000000000022")
            cls.tea = rk.ea_add_article(env, "EA-TEA", "Te Earl Grey 100 g", 12, net_price="44.64")
            cls.old = rk.ea_add_article(env, "EA-OLD", "Utgången kopp", 25, net_price="10.00", active=False)
            rk.add_flow(env, "from_books", "products", source="books", target="shop",
                        settings={"number_prefix": "EA-", "skip_inactive": True, "category": "Imported"},
                        maps={"tax_class_ids": {"12": "5"}})
            cls.flow = rk.flow_doc(env, "from_books")
            cls.articles = rk.ea_articles_by_number(env)
            cls.first = rk.run(env, "from_books")
            cls.mug_first = rk.m2_product(env, "EA-MUG")
            cls.tea_first = rk.m2_product(env, "EA-TEA")
            status, cls.old_product = env.m2_api("GET", "/rest/all/V1/products/EA-OLD")

            # The shop's staff write a description; the accountant raises the price and renames the mug.
            rk.m2_save_product(env, "EA-MUG", custom_attributes=[
                {"attribute_code": "description", "value": "Handmade in Gustavsberg."}])
            article = rk.ea_articles_by_number(env)["EA-MUG"]
            rk.ea_put_article(env, article, Name="Kaffemugg stor", NetPrice=112.0, GrossPrice=140.0)
            cls.second = rk.run(env, "from_books")
            cls.mug_second = rk.m2_product(env, "EA-MUG")

            env.ferry("-q", "flow", "reset", "from_books")
            cls.third = rk.run(env, "from_books")
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_flow_defaults_pick_the_direction(self):
        # 'ferry flow add --source books --target shop' without entities: books:article -> shop:product
        self.assertEqual(self.flow["source"], {"connection": "books", "entity": "article"})
        self.assertEqual(self.flow["target"], {"connection": "shop", "entity": "product"})
        show = self.env.ferry("--json", "flow", "show", "from_books").stdout
        self.assertIn("/mappings/products_from_accounting.lua", show)

    def test_articles_become_simple_products(self):
        code, summary, p, ea, m2 = self.first
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"]), (len(self.articles), 2))
        self.assertEqual(rk.writes(m2).get("POST /V1/products"), 2)
        mug, tea = self.mug_first, self.tea_first
        self.assertEqual((mug["name"], mug["type_id"], mug["status"], mug["visibility"]), ("Kaffemugg", "simple", 1, 4))
        self.assertEqual(D(str(mug["price"])), D("96.00"))
        self.assertEqual(rk.custom_attribute(mug, "ean"), "2000000000022")
        self.assertEqual(rk.custom_attribute(mug, "tax_class_id"), "2")
        self.assertEqual(rk.custom_attribute(mug, "description"), "Kaffemugg")
        self.assertEqual(rk.custom_attribute(mug, "url_key"), "ea-mug")
        self.assertEqual(D(str(tea["price"])), D("44.64"))
        self.assertEqual(rk.custom_attribute(tea, "tax_class_id"), "5")
        categories = {c["id"]: c["name"] for c in self.env.m2.state()["categories"]}
        for product in (mug, tea):
            links = product["extension_attributes"]["category_links"]
            self.assertEqual([categories[int(link["category_id"])] for link in links], ["Imported"])

    def test_the_filter_skips_with_the_reason(self):
        rows = rk.idmap(self.env, "from_books")
        self.assertEqual(rows[self.old["Id"]]["reason"], "article EA-OLD is inactive in eAccounting (skip_inactive)")
        self.assertEqual(self.old_product.get("message", "").startswith("The product that was requested"), True)
        mug_stone = self.articles["MUG-STONE"]["Id"]
        self.assertEqual((rows[mug_stone]["state"], rows[mug_stone]["reason"]),
                         ("skipped", "article MUG-STONE does not start with number_prefix EA-"))
        skipped = [r for r in rows.values() if r["state"] == "skipped"]
        self.assertEqual(len(skipped), len(self.articles) - 2)

    def test_update_keeps_what_the_shop_owns(self):
        code, summary, p, ea, m2 = self.second
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"]), (1, 1))
        self.assertEqual(rk.writes(m2), {"PUT /V1/products/{sku}": 1})
        mug = self.mug_second
        self.assertEqual((mug["name"], D(str(mug["price"]))), ("Kaffemugg stor", D("112.00")))
        self.assertEqual(rk.custom_attribute(mug, "description"), "Handmade in Gustavsberg.")
        self.assertEqual(rk.custom_attribute(mug, "url_key"), "ea-mug")

    def test_unchanged_articles_cost_no_request(self):
        code, summary, p, ea, m2 = self.third
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["read"], summary["synced"], summary["unchanged"]), (len(self.articles), 0, 2))
        self.assertEqual(m2, {})


if __name__ == "__main__":
    unittest.main()
