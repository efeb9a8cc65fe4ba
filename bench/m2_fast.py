#!/usr/bin/env python3
"""m2_fast.py - tests/emulators/magento2.py with a faster answer to one query.

Bench-only.  The Magento emulator answers ferry's keyset page query

    (updated_at >= T) AND (updated_at > T OR entity_id > ID)
    ORDER BY updated_at ASC, entity_id ASC, pageSize P, currentPage 1

by building the set of every candidate id, testing each one and counting
them all for total_count: O(orders) per page, about 1 s per page of 50 with
100,000 orders, so a 100,000-order run would spend most of an hour inside
the emulator.  The query means "the next P keys after (T, ID)" in the
emulator's own sorted (updated_at, entity_id) index, which bisect answers
directly; total_count is the number of keys after the position.  The
answer (orders, their JSON, total_count, search_criteria) is exactly what
the unpatched emulator returns; every other query goes to the original
code.  Request counters are untouched.  bench/run starts every Magento
emulator through this file.
"""

import bisect
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "emulators"))

import magento2  # noqa: E402
import magento2_orders  # noqa: E402
from magento2_search import mysql_number, norm_datetime  # noqa: E402

_original_search = magento2_orders.OrderStore.search


def _keyset_position(criteria):
    """(T, ID) when `criteria` is the keyset page query, else None."""
    if [(f, (d or "").upper()) for f, d in criteria.sort_orders] != [("updated_at", "ASC"), ("entity_id", "ASC")]:
        return None
    if (criteria.current_page or 1) != 1 or not criteria.page_size or len(criteria.groups) != 2:
        return None
    g0, g1 = criteria.groups
    if len(g0) != 1 or len(g1) != 2:
        return None
    a, b, c = g0[0], g1[0], g1[1]
    if (a.field, a.condition, b.field, b.condition, c.field, c.condition) != (
            "updated_at", "gteq", "updated_at", "gt", "entity_id", "gt"):
        return None
    if a.value is None or a.value != b.value or c.value is None:
        return None
    try:
        return norm_datetime(a.value), mysql_number(c.value)
    except Exception:  # anything unusual: let the emulator answer it
        return None


def _fast_search(self, criteria, legacy=False):
    pos = _keyset_position(criteria)
    if pos is None:
        return _original_search(self, criteria, legacy)
    start = bisect.bisect_right(self.by_updated, pos)
    keys = self.by_updated[start:start + criteria.page_size]
    return [self.get(eid) for _, eid in keys], len(self.by_updated) - start


magento2_orders.OrderStore.search = _fast_search

if __name__ == "__main__":
    sys.exit(magento2.main())
