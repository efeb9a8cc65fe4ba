"""The set-up wizard: `ferry setup` connects both sides, checks them, and creates
an orders flow whose value maps cover the payment methods the shop's recent
orders use - unattended from an answers file, and answering on standard
input.  A real run afterwards syncs."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402


def answers(env):
    a = {
        "magento_url": env.m2.url, "magento_auth": "oauth",
        "eaccounting_client_id": ferrytest.EA_CLIENT[0], "eaccounting_client_secret": ferrytest.EA_CLIENT[1],
        "eaccounting_api_base_url": env.ea.url + "/v2", "eaccounting_identity_base_url": env.ea.url,
        "eaccounting_confirm_company": "yes", "document_type": "invoice_draft", "statuses": "processing,complete",
        "customer_policy": "per_buyer", "shipping_article": "FRAKT", "rounding_article": "ORESAVR",
        "article_policy": "create", "payment_terms.*": "30", "dry_run": "yes",
    }
    for k, v in ferrytest.M2_CREDENTIALS.items():
        a["magento_" + k] = v
    return a


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class SetupWizard(unittest.TestCase):
    def setUp(self):
        self.env = ferrytest.Env(orders=30, seed=4, connect=False)
        self.auth = {"FERRY_EA_AUTH_CODE": self.env.authorize_redirect()}

    def tearDown(self):
        self.env.close()

    def run_setup(self, doc, stdin=""):
        path = os.path.join(self.env.dir, "answers.json")
        with open(path, "w") as fh:
            json.dump(doc, fh)
        return self.env.ferry("setup", "--answers", path, check=False, input=stdin, env=self.auth)

    def test_unattended_setup_connects_checks_and_creates_a_working_flow(self):
        p = self.run_setup(answers(self.env))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Ferry Demo AB", p.stderr)  # the company reached, shown before the flow is made
        conns = json.loads(self.env.ferry("--json", "connection", "list").stdout)
        self.assertEqual(sorted(c["name"] for c in conns), ["books", "shop"])
        self.assertTrue(all(c["status"] == "ok" for c in conns))
        flow = json.loads(self.env.ferry("flow", "export", "orders").stdout)
        self.assertEqual(flow["settings"]["statuses"], ["processing", "complete"])
        # every payment method in the shop's recent orders got a question, answered by the default
        methods = {o["payment"]["method"] for o in self.env.magento_orders().values()}
        for m in methods:
            self.assertIn(m, flow["maps"]["payment_terms"], m)
        self.assertEqual(flow["maps"]["payment_terms"]["*"], "30")
        self.assertIn("dry run:", p.stderr)
        code, summary, out = self.env.run()
        self.assertEqual(code, 0, out.stdout + out.stderr)
        self.assertGreater(summary["synced"], 0)
        # the wizard's secrets never reach its output
        for secret in (ferrytest.EA_CLIENT[1], ferrytest.M2_CREDENTIALS["consumer_secret"]):
            self.assertNotIn(secret, p.stdout + p.stderr)

    def test_answers_can_come_on_standard_input(self):
        doc = answers(self.env)
        url = doc.pop("magento_url")
        doc.pop("statuses")
        # asked in this order: the shop's address, the two connection names and the redirect URI
        # (empty: the defaults), then the statuses; later questions get their defaults at end of input
        p = self.run_setup(doc, stdin=url + "\n\n\n\nprocessing\n")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("[magento_url]", p.stderr)
        flow = json.loads(self.env.ferry("flow", "export", "orders").stdout)
        self.assertEqual(flow["settings"]["statuses"], ["processing"])

    def test_refusing_the_company_stops_before_any_flow(self):
        doc = answers(self.env)
        doc["eaccounting_confirm_company"] = "no"
        p = self.run_setup(doc)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("right company", p.stderr)
        self.assertEqual(json.loads(self.env.ferry("--json", "flow", "list").stdout), [])

    def test_a_wrong_shop_credential_stops_with_the_reason(self):
        doc = answers(self.env)
        doc["magento_consumer_secret"] = "wrong-secret-000000000000000001"
        p = self.run_setup(doc)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("signature", p.stderr.lower())



@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class Reauthorize(unittest.TestCase):
    """`ferry connection authorize` on a working connection that fails (a code from another attempt,
    a typo: the identity server refuses it) must not stop the runs that work with the tokens it already has."""

    def test_a_failed_reauthorization_keeps_a_working_connection_ok(self):
        env = ferrytest.Env(orders=6, seed=16)
        try:
            bad = "http://localhost:53682/callback?code=not-a-code-the-server-issued&state=t"
            p = env.ferry("connection", "authorize", "books", check=False, env={"FERRY_EA_AUTH_CODE": bad})
            self.assertNotEqual(p.returncode, 0, p.stderr)
            self.assertIn("keeps its earlier authorization", p.stderr)
            conns = {c["name"]: c for c in json.loads(env.ferry("--json", "connection", "list").stdout)}
            self.assertEqual(conns["books"]["status"], "ok")
            code, summary, out = env.run()
            self.assertEqual(code, 0, out.stdout + out.stderr)
            self.assertGreater(summary["synced"], 0)
        finally:
            env.close()

    def test_a_failed_authorization_of_a_new_connection_marks_it_needs_reauth(self):
        env = ferrytest.Env(orders=6, seed=17, connect=False)
        try:
            bad = "http://localhost:53682/callback?code=not-a-code-the-server-issued&state=t"
            p = env.ferry("connection", "add", "books", "--plugin", "eaccounting",
                          "--set", "api_base_url=%s/v2" % env.ea.url, "--set", "identity_base_url=" + env.ea.url,
                          "--set", "client_id=" + ferrytest.EA_CLIENT[0],
                          "--set", "client_secret=" + ferrytest.EA_CLIENT[1],
                          check=False, env={"FERRY_EA_AUTH_CODE": bad})
            self.assertNotEqual(p.returncode, 0, p.stderr)
            conns = {c["name"]: c for c in json.loads(env.ferry("--json", "connection", "list").stdout)}
            self.assertEqual(conns["books"]["status"], "needs_reauth")
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
