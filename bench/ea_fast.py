#!/usr/bin/env python3
"""ea_fast.py - tests/emulators/eaccounting.py with faster single-value lookups.

Bench-only.  The eAccounting emulator answers every list request by shaping
every stored record into its output JSON and then applying $filter, so a
lookup such as

    GET /v2/customerinvoicedrafts?$filter=BuyersOrderReference eq '000002042'

costs O(stored documents) - about a second once a few thousand drafts
exist.  The naive reference client makes exactly such lookups for every
order, and on the stock emulator its steady-state pass over 2,000 orders
would take about an hour, all of it inside the emulator.

For a filter of the exact form `Field eq 'text'` on the fields below, this
launcher first drops the stored records whose raw value is a different
string (the emulator compares strings casefolded, and stores these fields
as sent, so such a record can never match), then lets the unchanged list
code shape, filter, sort and page the rest.  The answer is identical; every
other request goes to the original code.  Request counters and rate limits
are untouched.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "emulators"))

import eaccounting  # noqa: E402

# list handler -> (store, output method, schema, fields a prefilter may use)
LISTS = {
    "list_drafts": ("drafts", "out_draft", "CustomerInvoiceDraftApi",
                    ("BuyersOrderReference", "YourReference", "OurReference")),
    "list_customers": ("customers", "out_customer", "CustomerApi", ("EmailAddress", "CustomerNumber")),
}
_EQ = re.compile(r"^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$")


def _patch(name, store, out, schema, fields):
    original = getattr(eaccounting.EAccountingEmulator, name)

    def handler(self, req):
        flt = next((v for k, v in req.query_list if k.lower() == "$filter"), None)
        m = _EQ.match(flt or "")
        if m is None or m.group(1) not in fields:
            return original(self, req)
        field, want = m.group(1), m.group(2).replace("''", "'").casefold()
        keep = [r for r in self.db[store].values()
                if not isinstance(r.get(field), str) or r[field].casefold() == want]
        shaped = getattr(self, out)
        return self.paged(req, [shaped(r) for r in keep], schema)

    setattr(eaccounting.EAccountingEmulator, name, handler)


for _name, _spec in LISTS.items():
    _patch(_name, *_spec)

if __name__ == "__main__":
    sys.exit(eaccounting.main())
