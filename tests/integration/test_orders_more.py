"""More of the orders flow end to end: an order already in eAccounting, the
status_after_sync setting, the revenue_accounts value map, records that fail
at the mapping or at eAccounting's validation, and discount_article with
mixed VAT rates.

Each class syncs only targeted fixtures (the flow's `since` is the Magento
emulator's clock when the fixtures were posted), made from seed orders.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402
import orderkit as k  # noqa: E402
from orderkit import D, dec  # noqa: E402


def key(entity_id):
    return k.increment_id(entity_id)


def ferry_comments(order):
    """The ferry comments on a native Magento order: [(comment, status)], oldest first."""
    hs = sorted(order.get("status_histories") or [], key=lambda h: h.get("entity_id", 0))
    return [(h["comment"], h.get("status")) for h in hs if (h.get("comment") or "").startswith("ferry:")]


def dead_show(env, letter_id):
    return json.loads(env.ferry("--json", "dead", "show", str(letter_id)).stdout)


def mapping_with(env, name, extra):
    """A copy of the default orders.lua with `extra` appended (an integrator's edited copy)."""
    with open(os.path.join(ferrytest.DATADIR, "mappings", "orders.lua")) as fh:
        text = fh.read()
    path = os.path.join(env.dir, name)
    with open(path, "w") as fh:
        fh.write(text + extra)
    return path


# ---- 1. a document with the order's reference is already in eAccounting ---------------------------

EXISTING = 701      # 000001011 (SE private, 25 %): a draft with its number is already in eAccounting
NEW = 702           # 000001010 as a processing order: sent as usual
EXISTING_DRAFT_ID = "0a1b2c3d-0000-4000-8000-000000000701"


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class AlreadyInEAccounting(unittest.TestCase):
    """A draft whose BuyersOrderReference is an eligible order's number, made in eAccounting before ferry's
    first run (by hand, another tool, an earlier install): the order is settled as synced on that draft,
    event `exists`, nothing sent; the Magento comment, saying the document was found, is written in the same run."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            a = k.clone_order(k.native_order(env, "000001011"), EXISTING, updated_at=now)
            b = k.clone_order(k.native_order(env, "000001010"), NEW, status="processing", updated_at=now)
            k.post_orders(env, a, b)
            customer = [c for c in k.ea_customers(env) if c["EmailAddress"].lower() == a["customer_email"].lower()][0]
            env.ea.admin("POST", "fixtures", {"customerinvoicedrafts": [{
                "Id": EXISTING_DRAFT_ID, "CustomerNumber": customer["CustomerNumber"],
                k.EXTERNAL_REF: key(EXISTING), "EuThirdParty": False, "RotReducedInvoicingType": 0,
                "YourReference": "made by hand",
                "Rows": [{"ArticleNumber": "MUG-STONE", "Quantity": 1, "UnitPrice": 100, "IsTextRow": False,
                          "ReversedConstructionServicesVatFree": False}]}]})
            cls.before = env.documents_by_ref()
            # comments are written a minute later: the second run reads the orders again
            env.m2.admin("POST", "clock", {"advance": 60})
            k.add_flow(env, settings={"since": now})
            cls.code, cls.summary, cls.p = env.run()
            cls.docs = env.documents_by_ref()
            cls.row = k.idmap(env, key(EXISTING))
            cls.order_after_first = k.native_order(env, key(EXISTING))
            cls.code2, cls.summary2, cls.p2 = env.run()
            cls.row2 = k.idmap(env, key(EXISTING))
            cls.order_after_second = k.native_order(env, key(EXISTING))
            cls.docs2 = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_the_fixture_is_in_eaccounting_before_the_run(self):
        self.assertEqual([d["Id"] for d in self.before.get(key(EXISTING), [])], [EXISTING_DRAFT_ID])

    def test_no_second_document(self):
        self.assertEqual(self.code, 0, self.p.stdout + self.p.stderr)
        docs = self.docs[key(EXISTING)]
        self.assertEqual(len(docs), 1)
        doc = docs[0]
        self.assertEqual(doc["Id"], EXISTING_DRAFT_ID)
        # untouched: still the hand-made draft with its one row
        self.assertEqual(doc["YourReference"], "made by hand")
        self.assertEqual([r["ArticleNumber"] for r in k.article_rows(doc)], ["MUG-STONE"])
        self.assertEqual(len(self.docs2[key(EXISTING)]), 1)
        # the other order was sent as usual
        self.assertEqual(len(self.docs[key(NEW)]), 1)
        self.assertEqual(k.idmap(self.env, key(NEW))["state"], "synced")

    def test_id_map_is_synced_on_the_existing_document(self):
        self.assertEqual(self.row["state"], "synced")
        self.assertEqual(self.row["target_id"], EXISTING_DRAFT_ID)
        self.assertIsNone(self.row["target_ref"])  # a draft has no number
        self.assertEqual(self.row["reason"], "already in books as " + EXISTING_DRAFT_ID)

    def test_event_exists_and_the_summary_counts_it_as_skipped(self):
        ev = self.env.events(key=key(EXISTING), kind="exists")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["level"], "info")
        self.assertEqual(ev[0]["message"], "already in books as %s; not sent again" % EXISTING_DRAFT_ID)
        self.assertEqual(self.env.events(key=key(EXISTING), kind="synced"), [])
        # core/sync_orders.c returns OUTCOME_SKIPPED for it: counted as skipped, not as synced
        s = self.summary
        self.assertEqual((s["read"], s["synced"], s["skipped"], s["dead"]), (2, 1, 1, 0))

    def test_the_comment_says_it_was_found_and_is_written_in_the_same_run(self):
        # first run: the comment is written at once, saying ferry found the document (it did not send it)
        self.assertIsNone(self.row["pending"])
        self.assertEqual(ferry_comments(self.order_after_first),
                         [("ferry: already in books (id %s); not sent again" % EXISTING_DRAFT_ID, "processing")])
        # second run: nothing owed, nothing new on the order; both orders read again (the comments moved
        # updated_at) and found unchanged
        self.assertEqual(self.code2, 0, self.p2.stdout + self.p2.stderr)
        self.assertEqual(ferry_comments(self.order_after_second), ferry_comments(self.order_after_first))
        self.assertIsNone(self.row2["pending"])
        self.assertEqual(self.row2["state"], "synced")
        self.assertEqual((self.summary2["read"], self.summary2["synced"], self.summary2["unchanged"]), (2, 0, 2))
        self.assertEqual(len(self.env.events(key=key(EXISTING), kind="exists")), 1)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class AlreadyThereAsAnotherType(unittest.TestCase):
    """The flow makes eAccounting orders, but the order is already there as a booked invoice (a draft
    the bookkeeper booked, a shop that switched document_type, an invoice made by hand): every type of
    document is indexed, so it is found and no order is made for it."""

    def test_an_invoice_with_the_reference_stops_an_order_being_made(self):
        env = ferrytest.Env(orders=12, seed=3, settings={"document_type": "order"})
        try:
            orders = env.magento_orders()
            ref = sorted(n for n, o in orders.items() if o["status"] in ("processing", "complete"))[0]
            order = orders[ref]
            customer = [c for c in k.ea_customers(env) if c["EmailAddress"].lower() == order["customer_email"].lower()]
            if customer:
                number = customer[0]["CustomerNumber"]
            else:
                number = "HAND1"
                env.ea.admin("POST", "fixtures", {"customers": [{
                    "CustomerNumber": number, "Name": "Made by hand", "InvoiceCity": "Lund", "InvoicePostalCode": "22100",
                    "IsPrivatePerson": True, "IsActive": True}]})
            env.ea.admin("POST", "fixtures", {"customerinvoices": [{
                "CustomerNumber": number, k.EXTERNAL_REF: ref, "EuThirdParty": False, "RotReducedInvoicingType": 0,
                "Rows": [{"ArticleNumber": "MUG-STONE", "Quantity": 1, "UnitPrice": 100}]}]})
            code, summary, p = env.run()
            self.assertEqual(code, 0, p.stdout + p.stderr)
            docs = env.documents_by_ref()[ref]
            self.assertEqual(len(docs), 1, [d["_type"] for d in docs])
            self.assertEqual(env.idmap(ref)["state"], "synced")
            self.assertEqual(len(env.events(key=ref, kind="exists")), 1)
            # the others became eAccounting orders
            self.assertGreater(summary["synced"], 0)
        finally:
            env.close()


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class CompanyWithoutTheOrderModule(unittest.TestCase):
    """The order module is an add-on: a company without it (GET /v2/orders answers 403, error 4002)
    syncs invoice drafts as usual; the index of documents simply has no orders, and says so once."""

    def test_drafts_are_synced_and_the_missing_module_is_an_info_event(self):
        env = ferrytest.Env(orders=12, seed=3, ea_args=("--no-order-module",))
        try:
            code, summary, p = env.run()
            self.assertEqual(code, 0, p.stdout + p.stderr)
            self.assertGreater(summary["synced"], 0)
            notes = [e for e in env.events(kind="prefetch") if "order documents cannot be listed" in e["message"]]
            self.assertEqual(len(notes), 1, [e["message"] for e in env.events(kind="prefetch")])
            self.assertEqual(notes[0]["level"], "info")
            code, summary, p = env.run()
            self.assertEqual(code, 0, p.stdout + p.stderr)
            self.assertEqual(summary["synced"], 0)
        finally:
            env.close()


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class DocumentsThatCannotBeRead(unittest.TestCase):
    """A user who may make drafts but not read booked invoices (403, error 4007): the index would miss
    the invoices, and an order already booked would be sent again - so the run stops before it sends
    anything, saying why, instead of leaving the invoices out."""

    def test_a_permission_refused_on_invoices_stops_the_run_before_any_write(self):
        env = ferrytest.Env(orders=8, seed=3)
        try:
            env.ea.admin("POST", "faults", {"route": "/v2/customerinvoices", "method": "GET", "status": 403,
                                            "count": 100, "body": {
                                                "ErrorCode": 4007, "ErrorId": "0f0e0d0c-0000-4000-8000-000000004007",
                                                "DeveloperErrorMessage": "The user does not have permission.",
                                                "Errors": None}})
            code, summary, p = env.run()
            self.assertEqual(code, 3, p.stdout + p.stderr)
            self.assertEqual(env.documents(), [])
            self.assertEqual(summary["synced"], 0)
            self.assertIn("4007", p.stdout + p.stderr)
        finally:
            env.close()


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class AnswersThatAreNoDocument(unittest.TestCase):
    """eAccounting answers 200 but the body is not what was asked for (a proxy's page, a truncated or
    changed answer).  Whether the write happened is unknown: ferry must neither record a document it
    cannot name nor lose the order, and a document whose total is not the shop's is never left silent."""

    JUNK = {"Unexpected": "this is not a document"}

    def fault(self, env, route, method, **kw):
        spec = {"route": route, "method": method, "status": 200, "body": self.JUNK, "count": 1}
        spec.update(kw)
        env.ea.admin("POST", "faults", spec)

    def test_a_draft_create_answered_without_an_id_is_looked_up_not_recorded(self):
        env = ferrytest.Env(orders=10, seed=3)
        try:
            self.fault(env, "/v2/customerinvoicedrafts", "POST")
            code, summary, p = env.run()
            self.assertEqual(code, 4, p.stdout + p.stderr)
            self.assertIn("answered without the document's id", p.stdout + p.stderr)
            env.ea.admin("POST", "faults", {"clear": True})
            code, summary, p = env.run()
            self.assertIn(code, (0, 1), p.stdout + p.stderr)
            eligible = [n for n, o in env.magento_orders().items() if o["status"] in ("processing", "complete")]
            docs = env.documents_by_ref()
            for n in eligible:
                row = env.idmap(n)
                if row["state"] == "dead":
                    continue
                self.assertEqual(len(docs.get(n, [])), 1, n)
                self.assertIsNotNone(row["target_id"], n)
            self.assertEqual(env.sql("SELECT count(*) FROM id_map WHERE state='intent'")[0][0], 0)
        finally:
            env.close()

    def test_a_customer_create_answered_without_an_id_names_the_customer_call(self):
        env = ferrytest.Env(orders=10, seed=3)
        try:
            self.fault(env, "/v2/customers", "POST")
            code, summary, p = env.run()
            self.assertEqual(code, 4, p.stdout + p.stderr)
            self.assertIn("answered without the customer's id", p.stdout + p.stderr)
            self.assertEqual(env.dead(), [])
            env.ea.admin("POST", "faults", {"clear": True})
            code, summary, p = env.run()
            self.assertIn(code, (0, 1), p.stdout + p.stderr)
            emails = [c["EmailAddress"].lower() for c in k.ea_customers(env) if c.get("EmailAddress")]
            self.assertEqual(len(emails), len(set(emails)), "a customer was created twice")
        finally:
            env.close()

    def _rounding_run(self, **fault):
        env = ferrytest.Env(orders=40, seed=3)
        try:
            self.fault(env, "/v2/customerinvoicedrafts/*", "PUT", count=1000, **fault)
            code, summary, p = env.run()
            self.assertIn(code, (0, 1), p.stdout + p.stderr)
            warned = sorted({r[0] for r in env.sql("SELECT record_key FROM events WHERE kind='rounding' AND level='warn'")})
            self.assertTrue(warned, "no order needed a rounding row")
            for n in warned:
                row = env.idmap(n)
                self.assertEqual(row["state"], "mismatch", n)
                self.assertIsNotNone(row["target_id"], n)
                self.assertIn("the rounding row could not be added", row["reason"])
                self.assertEqual(len(env.documents_by_ref()[n]), 1)
            self.assertGreaterEqual(summary["mismatched"], len(warned))
        finally:
            env.close()

    def test_a_rounding_update_answered_without_the_document_is_a_mismatch(self):
        self._rounding_run()

    def test_a_failed_rounding_update_is_a_mismatch_not_a_quiet_sync(self):
        self._rounding_run(status=500, body=None)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class OrdersTheShopSendsBroken(unittest.TestCase):
    """An order in a Magento page that cannot be read (no items, an amount that is no number): it is
    dead-lettered at stage read naming the field, nothing is booked from it, and the rest of the page
    is synced."""

    def run_with(self, change):
        env = ferrytest.Env(orders=20, seed=3)
        try:
            page = sorted(env.magento_orders().values(), key=lambda o: (o["updated_at"], o["entity_id"]))
            broken = next(o for o in page if o["status"] in ("processing", "complete"))
            change(broken)
            env.m2.admin("POST", "faults", {"route": "/V1/orders", "method": "GET", "count": 1, "status": 200,
                                            "body": {"items": page, "total_count": len(page), "search_criteria": {}}})
            code, summary, p = env.run()
            self.assertIn(code, (0, 1), p.stdout + p.stderr)
            n = broken["increment_id"]
            dead = {d["key"]: d for d in env.dead()}
            self.assertIn(n, dead)
            self.assertEqual(env.documents_by_ref().get(n, []), [])
            self.assertGreater(summary["synced"], 0)
            return dead[n], env.sql("SELECT stage FROM dead_letters WHERE source_key=?", n)[0][0]
        finally:
            env.close()

    def test_an_order_without_items_is_dead_lettered_naming_items(self):
        letter, stage = self.run_with(lambda o: o.pop("items"))
        self.assertEqual(stage, "read")
        self.assertIn("field items: the order has no items", letter["message"])

    def test_a_page_entry_that_is_no_order_is_left_out_and_the_page_read_on(self):
        env = ferrytest.Env(orders=20, seed=3)
        try:
            page = sorted(env.magento_orders().values(), key=lambda o: (o["updated_at"], o["entity_id"]))
            env.m2.admin("POST", "faults", {"route": "/V1/orders", "method": "GET", "count": 1, "status": 200,
                                            "body": {"items": [42] + page, "total_count": len(page) + 1,
                                                     "search_criteria": {}}})
            code, summary, p = env.run()
            self.assertEqual(code, 0, p.stdout + p.stderr)
            self.assertIn("entry 0 of the order page has no entity_id (not a record); left out", p.stderr)
            docs = env.documents_by_ref()
            for n, o in env.magento_orders().items():
                if o["status"] in ("processing", "complete") and env.idmap(n)["state"] != "dead":
                    self.assertEqual(len(docs.get(n, [])), 1, n)
        finally:
            env.close()

    def test_a_total_that_is_no_number_is_dead_lettered_naming_it(self):
        letter, stage = self.run_with(lambda o: o.update(grand_total="abc"))
        self.assertEqual(stage, "read")
        self.assertIn("field grand_total: not a number: 'abc'", letter["message"])


# ---- 2. status_after_sync -----------------------------------------------------------------------------

STATUS_PROCESSING = 711   # 000001011, state processing: "exported" is a status of that state
STATUS_COMPLETE = 712     # 000001010, state complete: Magento (2.4.7 rules) keeps "complete"


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class StatusAfterSync(unittest.TestCase):
    """status_after_sync=exported with a custom Magento status exported (state processing): the comment
    carries the status and Magento's order takes it; an order of another state keeps its status."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False, m2_args=["--status", "exported:processing"])
        try:
            now = k.m2_time(k.m2_now(env))
            a = k.clone_order(k.native_order(env, "000001011"), STATUS_PROCESSING, updated_at=now)
            b = k.clone_order(k.native_order(env, "000001010"), STATUS_COMPLETE, status="complete", updated_at=now)
            k.post_orders(env, a, b)
            # comments and statuses are written a minute later: the second run reads the orders again
            env.m2.admin("POST", "clock", {"advance": 60})
            k.add_flow(env, settings={"since": now, "status_after_sync": "exported"})
            cls.code, cls.summary, cls.p = env.run()
            cls.orders = {n: k.native_order(env, n) for n in (key(STATUS_PROCESSING), key(STATUS_COMPLETE))}
            cls.docs = env.documents_by_ref()
            cls.code2, cls.summary2, cls.p2 = env.run()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_both_synced(self):
        self.assertEqual(self.code, 0, self.p.stdout + self.p.stderr)
        self.assertEqual(self.summary["synced"], 2)
        for n in self.orders:
            self.assertEqual(len(self.docs[n]), 1)

    def test_the_status_is_set_with_the_comment(self):
        n = key(STATUS_PROCESSING)
        o = self.orders[n]
        self.assertEqual((o["status"], o["state"]), ("exported", "processing"))
        doc = self.docs[n][0]
        self.assertEqual(ferry_comments(o), [("ferry: sent to books as invoice draft (id %s)" % doc["Id"], "exported")])
        row = k.idmap(self.env, n)
        self.assertEqual((row["state"], row["pending"]), ("synced", None))

    def test_a_status_of_another_state_is_refused_by_magento(self):
        n = key(STATUS_COMPLETE)
        o = self.orders[n]
        self.assertEqual((o["status"], o["state"]), ("complete", "complete"))
        doc = self.docs[n][0]
        # the comment is written all the same, and the plugin says the status was kept
        self.assertEqual(ferry_comments(o), [("ferry: sent to books as invoice draft (id %s)" % doc["Id"], "complete")])
        self.assertIn("order %s: the comment was added but Magento kept status 'complete' instead of 'exported'" % n,
                      self.p.stderr)
        self.assertIsNone(k.idmap(self.env, n)["pending"])
        # ... and the activity log keeps it, so it is not lost on a terminal nobody watched
        warned = self.env.events(key=n, kind="status")
        self.assertEqual(len(warned), 1, warned)
        self.assertEqual(warned[0]["level"], "warn")
        self.assertIn("kept status 'complete' instead of status_after_sync 'exported'", warned[0]["message"])
        self.assertEqual(self.env.events(key=key(STATUS_PROCESSING), kind="status"), [])

    def test_the_new_status_is_no_edit_and_nothing_is_sent_again(self):
        self.assertEqual(self.code2, 0, self.p2.stdout + self.p2.stderr)
        # read again (the status and comment changed updated_at), already synced: unchanged, no edit
        self.assertEqual((self.summary2["read"], self.summary2["synced"], self.summary2["unchanged"]), (2, 0, 2))
        for n in self.orders:
            self.assertEqual(self.env.events(key=n, kind="edited"), [])
            self.assertEqual(len(self.env.documents_by_ref()[n]), 1)
        # no second comment
        self.assertEqual(len(ferry_comments(k.native_order(self.env, key(STATUS_PROCESSING)))), 1)


# ---- 3. revenue_accounts ------------------------------------------------------------------------------

RIGHT_SIMPLE = 721    # 000001011: SE private, 25 %            -> domestic:25 = 3001
RIGHT_MIXED = 722     # 000001030: SE private, 12, 25 and 6 %  -> 3002, 3001, 3003
RIGHT_OSS = 723       # 000001017: FR private, OSS             -> eu_oss = 3106
WRONG = 724           # 000001010 (complete): SE private, 25 % -> the map says 3002, the coding books 3001


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class RevenueAccounts(unittest.TestCase):
    """The revenue_accounts value map: a map matching the articles' codings syncs (flow "right", processing
    orders); a map naming another account dead-letters the order naming the article, its coding, the
    account and the map (flow "wrong", complete orders)."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            fixtures = [k.clone_order(k.native_order(env, "000001011"), RIGHT_SIMPLE, updated_at=now),
                        k.clone_order(k.native_order(env, "000001030"), RIGHT_MIXED, updated_at=now),
                        k.clone_order(k.native_order(env, "000001017"), RIGHT_OSS, updated_at=now),
                        k.clone_order(k.native_order(env, "000001010"), WRONG, status="complete", updated_at=now)]
            k.post_orders(env, *fixtures)
            cls.wrong_order = fixtures[-1]
            k.add_flow(env, "right", settings={"since": now, "statuses": ["processing"]},
                       maps={"revenue_accounts": {"domestic:25": "3001", "domestic:12": "3002", "domestic:6": "3003",
                                                  "eu_oss": "3106"}})
            k.add_flow(env, "wrong", settings={"since": now, "statuses": ["complete"]},
                       maps={"revenue_accounts": {"domestic": "3002"}})
            cls.right = env.run(flow="right")
            cls.wrong = env.run(flow="wrong")
            cls.docs = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_a_correct_map_syncs(self):
        code, summary, p = self.right
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["synced"], summary["dead"]), (3, 0))
        for eid in (RIGHT_SIMPLE, RIGHT_MIXED, RIGHT_OSS):
            n = key(eid)
            self.assertEqual(len(self.docs.get(n, [])), 1, n)
            self.assertEqual(k.idmap(self.env, n, flow="right")["state"], "synced")
        self.assertEqual(k.dead_letters(self.env, flow="right"), [])
        # the mixed order really has rows of all three Swedish rates
        codings = {a["Number"]: a["CodingName"] for a in k.ea_articles(self.env)}
        rows = k.article_rows(self.docs[key(RIGHT_MIXED)][0])
        self.assertEqual({codings[r["ArticleNumber"]] for r in rows},
                         {"Varor 25% moms", "Varor 12% moms", "Varor 6% moms"})

    def test_a_wrong_map_dead_letters_naming_article_coding_account_and_map(self):
        code, summary, p = self.wrong
        self.assertEqual(code, 1, p.stdout + p.stderr)
        self.assertEqual((summary["synced"], summary["dead"]), (0, 1))
        n = key(WRONG)
        self.assertNotIn(n, self.docs)
        letters = k.dead_letters(self.env, flow="wrong")
        self.assertEqual([d["key"] for d in letters], [n])
        letter = letters[0]
        self.assertEqual(letter["stage"], "write")
        sku = self.wrong_order["items"][0]["sku"]
        coding = [a["CodingName"] for a in k.ea_articles(self.env) if a["Number"] == sku][0]
        self.assertEqual(coding, "Varor 25% moms")
        self.assertIn("eaccounting: article %s has the coding '%s', which books domestic sales on account 3001, "
                      "but the revenue_accounts map says 3002: change the coding in eAccounting or the map"
                      % (sku, coding), letter["message"])
        self.assertEqual(k.idmap(self.env, n, flow="wrong")["state"], "dead")


# ---- 4. a mapping runtime error and an eAccounting validation error -------------------------------------

BROKEN = 731      # 000001011: the mapping raises for this order
REFUSED = 732     # 000001011 (private): the mapping adds ElectronicReference, which eAccounting refuses
GOOD = 733        # 000001010 as processing
SECOND_GOOD = 734  # 000001039 (company) as it is

FAILING_MAPPING = r'''
local default_map = map
function map(order, ctx)
  local doc = default_map(order, ctx)
  if order.number == "%s" then
    local extra = nil
    doc.our_reference = extra.reference   -- a bug in the integrator's copy: indexes nil
  end
  if order.number == "%s" then
    doc.target_fields.ElectronicReference = "EREF-%s"
  end
  return doc
end
''' % (key(BROKEN), key(REFUSED), key(REFUSED))


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class RecordErrors(unittest.TestCase):
    """In one run: a custom mapping whose map() raises for one order (dead letter at stage map, the record
    kept), a field eAccounting refuses (ElectronicReference on a private customer: dead letter at stage
    write, the payload kept), and the orders after them still synced."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            k.post_orders(env,
                          k.clone_order(k.native_order(env, "000001011"), BROKEN, updated_at=now),
                          k.clone_order(k.native_order(env, "000001011"), REFUSED, updated_at=now),
                          k.clone_order(k.native_order(env, "000001010"), GOOD, status="processing", updated_at=now),
                          k.clone_order(k.native_order(env, "000001039"), SECOND_GOOD, updated_at=now))
            cls.mapping = mapping_with(env, "orders_failing.lua", FAILING_MAPPING)
            k.add_flow(env, mapping=cls.mapping, settings={"since": now})
            cls.code, cls.summary, cls.p = env.run()
            cls.letters = {d["key"]: d for d in k.dead_letters(env)}
            cls.docs = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_the_run_goes_on(self):
        self.assertEqual(self.code, 1, self.p.stdout + self.p.stderr)
        s = self.summary
        self.assertEqual((s["read"], s["synced"], s["dead"]), (4, 2, 2))
        self.assertEqual(set(self.letters), {key(BROKEN), key(REFUSED)})
        for eid in (GOOD, SECOND_GOOD):
            self.assertEqual(len(self.docs.get(key(eid), [])), 1)
            self.assertEqual(k.idmap(self.env, key(eid))["state"], "synced")
        # the good orders came after the bad ones in the run
        outcomes = self.env.sql("SELECT record_key, kind FROM events WHERE kind IN ('dead', 'synced') ORDER BY id")
        self.assertEqual(outcomes, [(key(BROKEN), "dead"), (key(REFUSED), "dead"), (key(GOOD), "synced"),
                                    (key(SECOND_GOOD), "synced")])

    def test_mapping_runtime_error_dead_letters_at_stage_map_with_the_record(self):
        n = key(BROKEN)
        letter = self.letters[n]
        self.assertEqual(letter["stage"], "map")
        self.assertIn("orders_failing.lua:", letter["message"])
        self.assertIn("attempt to index a nil value (local 'extra')", letter["message"])
        shown = dead_show(self.env, letter["id"])
        self.assertEqual(shown["record"]["number"], n)
        self.assertEqual(shown["record"]["lines"][0]["sku"], k.native_order(self.env, n)["items"][0]["sku"])
        self.assertIsNone(shown.get("payload"))
        self.assertNotIn(n, self.docs)
        self.assertEqual(k.idmap(self.env, n)["state"], "dead")

    def test_eaccounting_validation_error_dead_letters_at_stage_write_with_the_payload(self):
        n = key(REFUSED)
        letter = self.letters[n]
        self.assertEqual(letter["stage"], "write")
        self.assertIn("ElectronicReference", letter["message"])
        self.assertIn("Cannot be set for private individuals", letter["message"])
        shown = dead_show(self.env, letter["id"])
        self.assertEqual(shown["record"]["number"], n)
        payload = shown["payload"]
        self.assertIsInstance(payload, dict)
        self.assertIn("EREF-" + n, json.dumps(payload))
        self.assertIn(n, json.dumps(payload))
        self.assertNotIn(n, self.docs)
        self.assertEqual(k.idmap(self.env, n)["state"], "dead")


# ---- 5. discount_article with mixed VAT rates ----------------------------------------------------------

MIXED_PRIVATE = 741   # 000001030: SE private, prices incl. VAT, discount on 25, 6 and 12 % lines
MIXED_COMPANY = 742   # 000001039: SE company, prices excl. VAT, discount on 25, 12 and 6 % lines
SINGLE_RATE = 743     # 000001019 (complete): SE company, discount on 12 % lines only


def discounted_rates(order):
    """The VAT rates of an order's discounted lines, in line order, as orders.lua writes them."""
    rates = []
    for i in order["items"]:
        if i.get("parent_item_id") or not dec(i.get("discount_amount")):
            continue
        r = str(D(str(i["tax_percent"])).normalize())
        if r not in rates:
            rates.append(r)
    return rates


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class DiscountArticleMixedRates(unittest.TestCase):
    """discount_article RABATT (a 12 % article) and no discount_articles map: an order whose discount
    spans several VAT rates is refused by orders.lua before anything is sent (flow "mixed", processing
    orders); a discount on one rate still goes on the article (flow "single", complete orders); with the
    discount_articles map set, the refused orders are retried and go through."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            cls.fixtures = {
                MIXED_PRIVATE: k.clone_order(k.native_order(env, "000001030"), MIXED_PRIVATE, updated_at=now),
                MIXED_COMPANY: k.clone_order(k.native_order(env, "000001039"), MIXED_COMPANY, updated_at=now),
                SINGLE_RATE: k.clone_order(k.native_order(env, "000001019"), SINGLE_RATE, status="complete",
                                           updated_at=now)}
            k.post_orders(env, *cls.fixtures.values())
            for number, vat in (("RABATT", 12), ("FRAKT", 25)):
                k.ea_add_article(env, number, "Rabatt %d %%" % vat if number == "RABATT" else "Frakt", vat_percent=vat)
            k.add_flow(env, "mixed", settings={"since": now, "statuses": ["processing"], "discount_article": "RABATT"})
            k.add_flow(env, "single", settings={"since": now, "statuses": ["complete"], "discount_article": "RABATT"})
            env.ea.admin("POST", "requests/reset", {})
            cls.mixed = env.run(flow="mixed")
            cls.mixed_requests = env.ea.requests()["by_route"]
            cls.single = env.run(flow="single")
            cls.docs = env.documents_by_ref()
            cls.letters = {d["key"]: d for d in k.dead_letters(env, flow="mixed")}
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_the_fixtures_are_what_the_test_means(self):
        self.assertEqual(set(discounted_rates(self.fixtures[MIXED_PRIVATE])), {"25", "12", "6"})
        self.assertEqual(set(discounted_rates(self.fixtures[MIXED_COMPANY])), {"25", "12", "6"})
        self.assertEqual(discounted_rates(self.fixtures[SINGLE_RATE]), ["12"])

    def test_mixed_rates_are_dead_lettered_naming_the_rates_and_the_map(self):
        code, summary, p = self.mixed
        self.assertEqual(code, 1, p.stdout + p.stderr)
        # read 3: the complete order is the other flow's (skipped here)
        self.assertEqual((summary["read"], summary["skipped"], summary["synced"], summary["dead"]), (3, 1, 0, 2))
        for eid in (MIXED_PRIVATE, MIXED_COMPANY):
            n = key(eid)
            with self.subTest(order=n):
                letter = self.letters[n]
                self.assertEqual(letter["stage"], "map")
                rates = discounted_rates(self.fixtures[eid])
                self.assertIn("the discount spans VAT rates %s %% but they would all go on the one discount "
                              "article RABATT, which has one VAT rate: set the discount_articles value map, one "
                              "article per VAT rate (no entry for %s; ferry flow set mixed --map "
                              "discount_articles:RATE=ARTICLE)" % (" %, ".join(rates), ", ".join(rates)),
                              letter["message"])
                self.assertEqual(k.idmap(self.env, n, flow="mixed")["state"], "dead")

    def test_nothing_is_created_for_a_refused_order(self):
        for eid in (MIXED_PRIVATE, MIXED_COMPANY):
            self.assertEqual(len(self.docs.get(key(eid), [])), 0, key(eid))
        # the run only read from eAccounting: no document, customer or article was written
        writes = {r: n for r, n in self.mixed_requests.items() if r.split(" ")[0] in ("POST", "PUT", "DELETE")}
        self.assertEqual(writes, {})

    def test_a_single_rate_discount_goes_on_the_discount_article(self):
        code, summary, p = self.single
        self.assertEqual(code, 0, p.stdout + p.stderr)
        n = key(SINGLE_RATE)
        self.assertEqual(summary["synced"], 1)
        docs = self.docs[n]
        self.assertEqual(len(docs), 1)
        rows = k.article_rows(docs[0])
        discount = [r for r in rows if r["ArticleNumber"] == "RABATT"]
        self.assertEqual(len(discount), 1)
        self.assertLess(dec(discount[0]["UnitPrice"]), 0)
        self.assertEqual([r.get("DiscountPercentage") or 0 for r in rows], [0] * len(rows))
        row = k.idmap(self.env, n, flow="single")
        self.assertEqual(row["state"], "synced")
        total, vat, _ = k.document_total(docs[0])
        o = self.fixtures[SINGLE_RATE]
        self.assertEqual((total, vat), (dec(o["grand_total"]), dec(o["tax_amount"])))

    def test_with_one_article_per_rate_the_refused_orders_go_through(self):
        env = self.env
        k.ea_add_article(env, "RABATT25", "Rabatt 25 %", vat_percent=25)
        k.ea_add_article(env, "RABATT6", "Rabatt 6 %", vat_percent=6)
        # 12 % has no entry: it stays on discount_article RABATT, the 12 % article
        env.ferry("-q", "flow", "set", "mixed", "--map", "discount_articles:25=RABATT25",
                  "--map", "discount_articles:6=RABATT6")
        for eid in (MIXED_PRIVATE, MIXED_COMPANY):
            n = key(eid)
            with self.subTest(order=n):
                p = env.ferry("dead", "retry", str(self.letters[n]["id"]))
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                docs = env.documents_by_ref().get(n, [])
                self.assertEqual(len(docs), 1)
                numbers = [r["ArticleNumber"] for r in k.article_rows(docs[0])]
                for article in ("RABATT25", "RABATT", "RABATT6"):
                    self.assertEqual(numbers.count(article), 1, numbers)
                row = k.idmap(env, n, flow="mixed")
                self.assertEqual(row["state"], "synced", row["reason"])
                total, vat, _ = k.document_total(docs[0])
                o = self.fixtures[eid]
                self.assertLessEqual(abs(total - dec(o["grand_total"])), D("0.05"))
                self.assertLessEqual(abs(vat - dec(o["tax_amount"])), D("0.05"))


if __name__ == "__main__":
    unittest.main()
