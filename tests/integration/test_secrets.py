"""No secret in any log, event, error, dead letter or output of a whole run.

The full orders flow runs with debug logging (every HTTP exchange logged and
recorded), including a token refresh and a failing order, and then every
byte ferry printed and every row of the activity log, dead letters, runs and
alerts is searched for every secret in play: Magento's OAuth consumer and
token secrets and access token, eAccounting's client secret, the
authorization code, and the access and refresh tokens (read from the store,
where they must be, to know what to look for).
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrytest  # noqa: E402


@unittest.skipUnless(ferrytest.have_plugins(), "magento2.so and eaccounting.so are not built")
class NoSecretLeaks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # An unmapped payment method dead-letters some orders: errors are searched too.
        cls.env = ferrytest.Env(orders=40, seed=5)
        env = cls.env
        # An unmapped payment method dead-letters some orders: errors are searched too.
        with open(os.path.join(env.dir, "orders.flow.json")) as fh:
            doc = json.load(fh)
        del doc["maps"]["payment_terms"]["banktransfer"]
        path = os.path.join(env.dir, "orders2.flow.json")
        with open(path, "w") as fh:
            json.dump(doc, fh)
        env.ferry("-q", "flow", "import", path, "--replace")
        cls.outputs = []
        debug = {"FERRY_LOG_LEVEL": "debug"}
        p = env.ferry("-vv", "run", "orders", check=False, env=debug)
        cls.outputs.append(p.stdout + p.stderr)
        # Let the access token expire so the next run refreshes (and rotates) it.
        env.ea.admin("POST", "clock", {"advance": 3700})
        env.m2.admin("POST", "orders/new", {"count": 3})
        p = env.ferry("-vv", "run", "orders", check=False, env=debug)
        cls.outputs.append(p.stdout + p.stderr)
        for args in (("log", "--json", "--limit", "100000"), ("--json", "log", "--run", "1", "--data", "--limit", "100000"),
                     ("--json", "log", "--run", "2", "--data", "--limit", "100000"), ("--json", "dead", "list", "--all"),
                     ("connection", "show", "shop"), ("connection", "show", "books", "--json"),
                     ("flow", "export", "orders"), ("plugin", "list", "--json")):
            p = env.ferry(*args, check=False)
            cls.outputs.append(p.stdout + p.stderr)
        for letter in json.loads(env.ferry("--json", "dead", "list", "--all").stdout):
            p = env.ferry("dead", "show", str(letter["id"]), check=False)
            cls.outputs.append(p.stdout + p.stderr)
        cls.rows = []
        for table in ("events", "dead_letters", "runs", "alerts", "connection_state", "id_map", "target_index"):
            for row in env.sql("SELECT * FROM %s" % table):
                cls.rows.append((table, " ".join("" if v is None else str(v) for v in row)))
        secrets = dict(ferrytest.M2_CREDENTIALS)
        secrets.pop("consumer_key")  # an identifier, sent in clear by OAuth 1.0a itself
        secrets["client_secret"] = ferrytest.EA_CLIENT[1]
        for name, value in env.sql("SELECT name, value FROM connection_settings WHERE secret=1"):
            if value and len(value) >= 8:
                secrets["stored " + name] = value
        cls.secrets = secrets

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_the_runs_did_real_work(self):
        self.assertGreater(len(self.rows), 100)
        # the secrets searched for: the configured ones and the tokens ferry obtained
        self.assertGreaterEqual(len(self.secrets), 6, sorted(self.secrets))
        # the activity log does hold what was sent: a search that finds nothing is not vacuous
        self.assertTrue(any("Authorization: Bearer ***" in text for _, text in self.rows))
        self.assertIn("refresh_token", " ".join(self.secrets))
        self.assertTrue(any(t == "dead_letters" for t, _ in self.rows), "expected some dead letters")
        # the second run refreshed the access token: a new one is stored
        self.assertTrue(any("token" in n for n in self.secrets))

    def test_no_secret_in_any_output(self):
        for text in self.outputs:
            for name, secret in self.secrets.items():
                self.assertNotIn(secret, text, "%s leaked into ferry's output" % name)

    def test_no_secret_in_the_store_outside_the_settings(self):
        for table, text in self.rows:
            for name, secret in self.secrets.items():
                self.assertNotIn(secret, text, "%s leaked into table %s" % (name, table))

    def test_secrets_are_shown_masked(self):
        shown = json.loads(self.env.ferry("connection", "show", "books", "--json").stdout)
        self.assertEqual(shown["settings"]["client_secret"], "***")
        self.assertEqual(shown["settings"]["refresh_token"], "***")


if __name__ == "__main__":
    unittest.main()
