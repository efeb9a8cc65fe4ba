"""The orders flow when orders cannot go through as they are: dead letters and
what an operator does about them (ferry dead list/show/retry/discard), and
totals that differ from Magento's (rounding row, tolerance, mismatch).

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

NEW_ARTICLE = 601        # 000001039 with BOOK-FIKA renamed BOOK-NEW-1: unknown to eAccounting
UNMAPPED_PAYMENT = 602   # 000001030 paid with klarna_kp
UNKNOWN_COUNTRY = 603    # 000001030 billed to country XX
GOOD = 604               # 000001034 as it is
SECOND_GOOD = 605        # 000001023 as it is


def key(entity_id):
    return k.increment_id(entity_id)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class DeadLetters(unittest.TestCase):
    """Article policy strict; bad orders are dead-lettered, the run goes on, and letters are retried or discarded."""

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            src = {n: k.native_order(env, n) for n in ("000001039", "000001030", "000001034", "000001023")}
            a = k.clone_order(src["000001039"], NEW_ARTICLE, updated_at=now)
            k.set_sku(a, "BOOK-FIKA", "BOOK-NEW-1", "A New Book")
            b = k.clone_order(src["000001030"], UNMAPPED_PAYMENT, updated_at=now)
            b["payment"]["method"] = "klarna_kp"
            c = k.clone_order(src["000001030"], UNKNOWN_COUNTRY, updated_at=now)
            k.set_country(c, "XX")
            d = k.clone_order(src["000001034"], GOOD, updated_at=now)
            e = k.clone_order(src["000001023"], SECOND_GOOD, updated_at=now)
            k.post_orders(env, a, b, c, d, e)
            # strict: the articles must exist; the shop's shipping and rounding articles were set up by hand
            k.ea_add_article(env, "FRAKT", "Frakt")
            k.ea_add_article(env, "ORESAVR", "Öresavrundning", vat_percent=0)
            k.add_flow(env, settings={"article_policy": "strict", "since": now})
            cls.code, cls.summary, cls.p = env.run()
            cls.letters = {d["key"]: d for d in k.dead_letters(env)}
            cls.states = {key(e): k.idmap(env, key(e)) for e in range(601, 606)}
            cls.first_docs = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def letter(self, key_):
        self.assertIn(key_, self.letters)
        return self.letters[key_]

    def docs(self, key_):
        return self.env.documents_by_ref().get(key_, [])

    def test_bad_orders_do_not_stop_the_run(self):
        self.assertEqual(self.code, 1, self.p.stdout + self.p.stderr)
        self.assertEqual((self.summary["read"], self.summary["synced"], self.summary["dead"]), (5, 2, 3))
        self.assertEqual(set(self.letters), {key(NEW_ARTICLE), key(UNMAPPED_PAYMENT), key(UNKNOWN_COUNTRY)})
        for n in (key(GOOD), key(SECOND_GOOD)):
            self.assertEqual(self.states[n]["state"], "synced")
            self.assertEqual(len(self.first_docs.get(n, [])), 1)
        for n in self.letters:
            self.assertNotIn(n, self.first_docs)
            self.assertEqual(self.states[n]["state"], "dead")

    def test_dead_list_shows_every_letter_with_its_reason(self):
        p = self.env.ferry("dead", "list")
        for n in self.letters:
            self.assertIn(n, p.stdout)
        self.assertIn("article BOOK-NEW-1 does not exist in books", p.stdout)
        listed = self.env.dead()
        self.assertEqual({d["key"] for d in listed}, set(self.letters))
        self.assertEqual({d["status"] for d in listed}, {"open"})

    def test_dead_show_has_the_record_and_the_reason(self):
        letter = self.letter(key(NEW_ARTICLE))
        shown = json.loads(self.env.ferry("--json", "dead", "show", str(letter["id"])).stdout)
        self.assertEqual(shown["key"], key(NEW_ARTICLE))
        self.assertEqual(shown["stage"], "write")
        self.assertIn("rows[2].article_number", shown["message"])
        self.assertIn("article BOOK-NEW-1 does not exist", shown["message"])
        self.assertEqual(shown["record"]["number"], key(NEW_ARTICLE))
        self.assertIn("BOOK-NEW-1", [line["sku"] for line in shown["record"]["lines"]])
        self.assertNotIn("source", shown["record"])
        p = self.env.ferry("dead", "show", str(letter["id"]))
        self.assertIn("BOOK-NEW-1", p.stdout)

    def test_strict_article_policy_then_retry_after_the_article_is_created(self):
        n = key(NEW_ARTICLE)
        letter = self.letter(n)
        self.assertIn("BOOK-NEW-1", letter["message"])
        self.assertEqual([a for a in k.ea_articles(self.env) if a["Number"] == "BOOK-NEW-1"], [])
        # retrying without fixing anything: still dead, still one open letter, nothing created
        p = self.env.ferry("dead", "retry", str(letter["id"]), check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(self.docs(n), [])
        self.assertEqual([d["key"] for d in k.dead_letters(self.env)].count(n), 1)
        # the fix: the article is made in eAccounting
        k.ea_add_article(self.env, "BOOK-NEW-1", "A New Book", vat_percent=6)
        p = self.env.ferry("dead", "retry", str(letter["id"]))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        docs = self.docs(n)
        self.assertEqual(len(docs), 1)
        self.assertIn("BOOK-NEW-1", [r["ArticleNumber"] for r in k.article_rows(docs[0])])
        self.assertEqual(k.idmap(self.env, n)["state"], "synced")
        self.assertNotIn(n, [d["key"] for d in k.dead_letters(self.env)])
        self.assertIn(n, [d["key"] for d in k.dead_letters(self.env, status="resolved")])
        total, vat, _ = k.document_total(docs[0])
        self.assertEqual(total, D("1373.81"))
        self.assertEqual(vat, D("202.85"))

    def test_unmapped_payment_method_then_retry_after_the_value_map_is_added(self):
        n = key(UNMAPPED_PAYMENT)
        letter = self.letter(n)
        self.assertEqual(letter["stage"], "map")
        self.assertIn("value map 'payment_terms' has no entry for 'klarna_kp'", letter["message"])
        self.env.ferry("-q", "flow", "set", "orders", "--map", "payment_terms:klarna_kp=20")
        p = self.env.ferry("dead", "retry", str(letter["id"]))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        docs = self.docs(n)
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]["TermsOfPaymentId"], k.terms_id(self.env, "20"))
        self.assertEqual(k.idmap(self.env, n)["state"], "synced")
        self.assertIn(n, [d["key"] for d in k.dead_letters(self.env, status="resolved")])
        # the Magento order got its comment
        o = k.native_order(self.env, n)
        self.assertTrue(any("ferry" in (h.get("comment") or "") for h in o["status_histories"]))

    def test_discarded_letter_is_not_tried_again(self):
        n = key(UNKNOWN_COUNTRY)
        letter = self.letter(n)
        self.assertIn("unknown country 'XX'", letter["message"])
        self.env.ferry("-q", "dead", "discard", str(letter["id"]))
        self.assertNotIn(n, [d["key"] for d in k.dead_letters(self.env)])
        self.assertIn(n, [d["key"] for d in k.dead_letters(self.env, status="discarded")])
        self.assertNotIn(n, {d["key"] for d in self.env.dead()})
        code, summary, p = self.env.run()
        self.assertEqual(self.docs(n), [])
        self.assertNotIn(n, [d["key"] for d in k.dead_letters(self.env)])
        self.assertEqual(summary["synced"], 0, p.stdout)


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class TotalsThatDiffer(unittest.TestCase):
    """Magento charged one cent more tax than eAccounting computes (cross-row rounding), three ways:

    rounded (complete orders): a rounding article and the default tolerance 0.05 -> a rounding row;
    recorded (processing):      no rounding article -> synced, the difference recorded;
    tight (closed):             tolerance 0 -> mismatch, an error event and an alert;
    and a ten-cent difference with a 0.05 tolerance (pending_payment) -> mismatch, no rounding row.
    Each flow takes its own status, so the four never see each other's orders.
    """

    @classmethod
    def setUpClass(cls):
        cls.env = env = ferrytest.Env(orders=40, seed=3, flow=False)
        try:
            now = k.m2_time(k.m2_now(env))
            src = k.native_order(env, "000001028")  # FR company, EUR, 20 % VAT, 49.86
            cls.fixtures = {}
            for eid, status, cents in ((701, "complete", "0.01"), (702, "processing", "0.01"),
                                       (703, "closed", "0.01"), (704, "pending_payment", "0.10")):
                o = k.clone_order(src, eid, status=status, updated_at=now)
                k.add_cent(o, cents)
                cls.fixtures[status] = o
            k.post_orders(env, *cls.fixtures.values())
            k.add_flow(env, "rounded", settings={"since": now, "statuses": ["complete"]})
            k.add_flow(env, "recorded", settings={"since": now, "statuses": ["processing"],
                                                  "rounding_article": None})
            k.add_flow(env, "tight", settings={"since": now, "statuses": ["closed"], "totals_tolerance": "0"})
            k.add_flow(env, "large", settings={"since": now, "statuses": ["pending_payment"]})
            cls.results = {f: env.run(flow=f) for f in ("rounded", "recorded", "tight", "large")}
            cls.docs = env.documents_by_ref()
        except Exception:
            env.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def doc(self, status):
        n = self.fixtures[status]["increment_id"]
        docs = self.docs.get(n, [])
        self.assertEqual(len(docs), 1, n)
        return n, docs[0]

    def test_the_fixtures_differ_as_meant(self):
        for status, o in self.fixtures.items():
            self.assertEqual(k.check_totals(o), dec(o["grand_total"]))
        self.assertEqual(dec(self.fixtures["complete"]["grand_total"]), D("49.87"))
        self.assertEqual(dec(self.fixtures["pending_payment"]["grand_total"]), D("49.96"))

    def test_within_tolerance_with_a_rounding_article_adds_a_rounding_row(self):
        code, summary, p = self.results["rounded"]
        self.assertEqual(code, 0, p.stdout + p.stderr)
        n, doc = self.doc("complete")
        rows = k.article_rows(doc)
        self.assertEqual([r["ArticleNumber"] for r in rows], ["TEE-LOGO-S", "FRAKT", "ORESAVR"])
        self.assertEqual((dec(rows[-1]["UnitPrice"]), rows[-1]["VatRate"]), (D("0.01"), 0))
        total, vat, _ = k.document_total(doc)
        self.assertEqual(total, D("49.87"))   # Magento's grand total
        self.assertEqual(vat, D("8.31"))      # eAccounting's VAT; Magento said 8.32
        row = k.idmap(self.env, n, flow="rounded")
        self.assertEqual(row["state"], "synced")
        self.assertIn("rounding row added", row["reason"])
        self.assertEqual([a for a in k.alerts(self.env, "totals_mismatch") if n in a["message"]], [])

    def test_within_tolerance_without_a_rounding_article_is_recorded(self):
        code, summary, p = self.results["recorded"]
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["synced"], summary["mismatched"]), (1, 0))
        n, doc = self.doc("processing")
        self.assertNotIn("ORESAVR", [r["ArticleNumber"] for r in k.article_rows(doc)])
        total, _, _ = k.document_total(doc)
        self.assertEqual(total, D("49.86"))
        row = k.idmap(self.env, n, flow="recorded")
        self.assertEqual(row["state"], "synced")
        self.assertIn("difference -0.01", row["reason"])
        ev = self.env.events(key=n, kind="totals")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["level"], "info")
        self.assertIn("within tolerance", ev[0]["message"])

    def test_beyond_tolerance_is_a_mismatch_with_an_error_and_an_alert(self):
        code, summary, p = self.results["tight"]
        self.assertEqual(code, 1, p.stdout + p.stderr)
        self.assertEqual((summary["mismatched"], summary["dead"]), (1, 0))
        self.assertEqual(summary["status"], "partial")
        n, doc = self.doc("closed")
        self.assertNotIn("ORESAVR", [r["ArticleNumber"] for r in k.article_rows(doc)])
        row = k.idmap(self.env, n, flow="tight")
        self.assertEqual(row["state"], "mismatch")
        self.assertEqual(row["target_id"], doc["Id"])
        self.assertIn("difference -0.01", row["reason"])
        ev = self.env.events(key=n, kind="mismatch")
        self.assertEqual([e["level"] for e in ev], ["error"])
        self.assertIn("totals differ", ev[0]["message"])
        alerts = [a for a in k.alerts(self.env, "totals_mismatch") if n in a["message"]]
        self.assertEqual(len(alerts), 1)
        self.assertEqual(k.dead_letters(self.env, flow="tight"), [])

    def test_ten_cents_beyond_the_default_tolerance_gets_no_rounding_row(self):
        code, summary, p = self.results["large"]
        self.assertEqual(code, 1, p.stdout + p.stderr)
        n, doc = self.doc("pending_payment")
        self.assertNotIn("ORESAVR", [r["ArticleNumber"] for r in k.article_rows(doc)])
        self.assertEqual(k.idmap(self.env, n, flow="large")["state"], "mismatch")
        self.assertEqual(len([a for a in k.alerts(self.env, "totals_mismatch") if n in a["message"]]), 1)

    def test_a_mismatch_is_not_sent_again(self):
        before = len(self.env.documents())
        code, summary, p = self.env.run(flow="tight")
        self.assertEqual(code, 0, p.stdout + p.stderr)
        self.assertEqual((summary["synced"], summary["mismatched"]), (0, 0))
        self.assertEqual(len(self.env.documents()), before)


if __name__ == "__main__":
    unittest.main()
