"""Whole runs of the orders flow: a dry run writes nothing anywhere and shows
every decision and payload; a steady-state run costs about one eAccounting
call per new order, and `ferry run` says how many calls it made.
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import orderkit as k  # noqa: E402

ELIGIBLE = ("processing", "complete")


def only_gets(requests):
    return sorted(r for r in requests["by_route"] if not r.startswith("GET "))


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class DryRun(unittest.TestCase):
    """`ferry run orders --dry-run` on a fresh store, then a real run."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3)
        try:
            cls.orders = env.magento_orders()
            cls.ea_before = env.ea.state()
            cls.m2_notifications = len(env.m2.state()["notifications"])
            env.m2.admin("POST", "requests/reset", {})
            env.ea.admin("POST", "requests/reset", {})
            cls.p = env.ferry("run", "orders", "--dry-run", check=False)
            cls.m2_requests = env.m2.requests()
            cls.ea_requests = env.ea.requests()
            cls.ea_after = env.ea.state()
            cls.orders_after = env.magento_orders()
            cls.idmap_rows = k.idmap_count(env)
            cls.source_cursor = env.sql("SELECT count(*) FROM cursors WHERE entity='order'")[0][0]
            cls.pj = env.ferry("--json", "run", "orders", "--dry-run", check=False)
            cls.real = env.run()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def eligible(self):
        return sorted(n for n, o in self.orders.items() if o["status"] in ELIGIBLE)

    def test_dry_run_succeeds_and_counts(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr)
        self.assertIn("dry run - orders: 40 read, %d would be synced, %d skipped, 0 failed" % (
            len(self.eligible()), 40 - len(self.eligible())), self.p.stderr)

    def test_only_reads_reach_either_side(self):
        self.assertEqual(only_gets(self.m2_requests), [], self.m2_requests)
        self.assertEqual(only_gets(self.ea_requests), [], self.ea_requests)
        self.assertGreater(self.m2_requests["total"], 0)
        self.assertGreater(self.ea_requests["total"], 0)

    def test_nothing_is_created_in_eaccounting(self):
        for kind in ("customerinvoicedrafts", "customerinvoices", "orders", "customers", "articles"):
            self.assertEqual(len(self.ea_after[kind]), len(self.ea_before[kind]), kind)

    def test_nothing_is_written_to_magento(self):
        self.assertEqual(len(self.env.m2.state()["notifications"]), self.m2_notifications)
        for n, o in self.orders_after.items():
            self.assertEqual(o.get("status_histories"), self.orders[n].get("status_histories"), n)
            self.assertEqual(o["updated_at"], self.orders[n]["updated_at"], n)

    def test_nothing_is_recorded_as_done(self):
        self.assertEqual(self.idmap_rows, 0)
        self.assertEqual(self.source_cursor, 0)
        self.assertEqual(k.dead_letters(self.env, status=None), [])

    def test_every_decision_and_payload_is_printed(self):
        out = self.p.stdout
        for n, o in self.orders.items():
            with self.subTest(order=n):
                if o["status"] in ELIGIBLE:
                    self.assertIn("%s: would create invoice_draft\n" % n, out)
                    self.assertIn('"BuyersOrderReference": "%s"' % n, out)
                else:
                    self.assertIn("%s: status %s is not sent" % (n, o["status"]), out)
        self.assertIn("000001038: would create the customer", out)  # a guest
        self.assertIn("would create the article", out)              # FRAKT

    def test_json_dry_run_prints_one_line_per_decision(self):
        self.assertEqual(self.pj.returncode, 0, self.pj.stderr)
        lines = [json.loads(x) for x in self.pj.stdout.splitlines() if x.startswith('{"key"')]
        drafts = {x["key"]: x["payload"] for x in lines if x["decision"] == "would create invoice_draft"}
        self.assertEqual(sorted(drafts), self.eligible())
        p = drafts["000001039"]
        self.assertEqual(p["BuyersOrderReference"], "000001039")
        self.assertEqual([r.get("Quantity") for r in p["Rows"] if not r["IsTextRow"]], [3, 4, 1, 1])
        self.assertEqual(p["Rows"][0]["UnitPrice"], 199.2)
        self.assertEqual(p["Rows"][0]["DiscountPercentage"], 0.1)

    def test_a_real_run_afterwards_syncs_everything(self):
        code, summary, p = self.real
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual(summary["synced"], len(self.eligible()))
        self.assertEqual(sorted(self.env.documents_by_ref()), self.eligible())


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class CallsPerOrder(unittest.TestCase):
    """Steady state: the seed shop synced, a batch of new orders (placed, then moved to processing) synced
    (its new guests become customers), then another batch: known customers and articles only."""

    BATCH = 24

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3)
        try:
            env.run()
            cls.first_batch = cls._new_orders()
            env.run()
            cls.batch = cls._new_orders()
            cls.ea_customers = len(k.ea_customers(env))
            env.ea.admin("POST", "requests/reset", {})
            cls.p = env.ferry("run", "orders", check=False)
            cls.requests = env.ea.requests()
            cls.docs = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    @classmethod
    def _new_orders(cls):
        new = cls.env.m2.admin("POST", "orders/new", {"count": cls.BATCH})
        k.move_status(cls.env, new["entity_ids"])
        return new["increment_ids"]

    def printed(self):
        out = self.p.stdout + self.p.stderr
        m = re.search(r"orders: (\d+) read, (\d+) synced, (\d+) skipped(?: \(\d+ of them already synced\))?, (\d+) failed", out)
        c = re.search(r"API calls: (\d+) to the source, (\d+) to the target", out)
        self.assertTrue(m and c, out)
        return int(m.group(2)), int(c.group(1)), int(c.group(2))

    def test_the_new_orders_are_synced(self):
        self.assertEqual(self.p.returncode, 0, self.p.stdout + self.p.stderr)
        for n in self.batch:
            self.assertEqual(len(self.docs.get(n, [])), 1, n)
            self.assertIn(k.idmap(self.env, n)["state"], ("synced",), n)
        self.assertEqual(len(k.ea_customers(self.env)), self.ea_customers)

    def test_run_prints_the_counts(self):
        synced, source, target = self.printed()
        self.assertEqual(synced, self.BATCH)
        self.assertEqual(target, self.requests["total"])
        self.assertGreater(source, 0)

    def test_about_one_ecaccounting_call_per_new_order(self):
        synced, _, target = self.printed()
        per_order = target / synced
        print("# %d eAccounting calls for %d new orders: %.2f per order (%s)" % (
            target, synced, per_order, json.dumps(self.requests["by_route"], sort_keys=True)))
        self.assertLessEqual(per_order, 1.5, self.requests)

    def test_every_call_is_accounted_for(self):
        # one index read each for customers, articles and each type of document (an order may already
        # be there as a draft, an invoice or an order); one create per order; a rounding row costs one
        # update of the draft; nothing else (no per-order lookups).
        roundings = sum(len(self.env.events(key=n, kind="rounding")) for n in self.batch)
        want = {"GET /v2/customers": 1, "GET /v2/articles": 1, "GET /v2/customerinvoicedrafts": 1,
                "GET /v2/customerinvoices": 1, "GET /v2/orders": 1, "POST /v2/customerinvoicedrafts": self.BATCH}
        if roundings:
            # the draft as eAccounting answered the create is sent back with the row: no read first
            want["PUT /v2/customerinvoicedrafts/{customerInvoiceDraftId}"] = roundings
        self.assertEqual(self.requests["by_route"], want)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class LimitedRuns(unittest.TestCase):
    """`ferry run --limit N` stops inside a page: the cursor must stay before that page, so the
    orders after the limit are read by the next run instead of being skipped for good."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3)
        try:
            env.add_flow({"page_size": 15})
            cls.limited = [env.run("--limit", "7") for _ in range(2)]
            cls.docs_after_limited = env.documents_by_ref()
            cls.full = env.run()
            cls.docs = env.documents_by_ref()
            cls.orders = env.magento_orders()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_a_limited_run_reads_only_the_limit(self):
        for code, summary, p in self.limited:
            self.assertEqual(code, 0, p.stdout + p.stderr)
            self.assertEqual(summary["read"], 7, summary)

    def test_the_next_run_syncs_every_eligible_order_once(self):
        code, summary, p = self.full
        self.assertEqual(code, 0, p.stdout + p.stderr)
        eligible = sorted(n for n, o in self.orders.items() if o["status"] in ELIGIBLE)
        self.assertEqual(sorted(self.docs), eligible)
        for n in eligible:
            self.assertEqual(len(self.docs[n]), 1, n)
        self.assertLessEqual(len(self.docs_after_limited), 14)


if __name__ == "__main__":
    unittest.main()
