/*
 * m2_order.h - a Magento order (OrderInterface JSON) as ferry's canonical
 * order (share/ferry/schema/order.schema.json).  Pure: no network.
 *
 * Lines come from the visible items only (doc/magento2.md has the table):
 *   - configurable: ONE line from the parent row (it carries the price and
 *     the child's SKU); the child row (price 0, parent_item_id) only gives
 *     its variant name;
 *   - bundle with priced children (dynamic price): the children are the
 *     lines, each with parent_sku/parent_name of the bundle row; the bundle
 *     row itself (the sum of its children) is not a line;
 *   - bundle whose children carry no price (fixed price): the bundle row is
 *     the line, its children listed in bundle_children {sku, name, qty};
 *   - grouped, simple, virtual, downloadable rows: one line each;
 *   - a zero-priced row stays a line at 0 with is_free true.
 * Money is decimal strings in the order currency, computed in fixed point.
 */
#ifndef M2_ORDER_H
#define M2_ORDER_H

#include <ferry/plugin.h>

/*
 * Decode `native`.  `prices_include_tax` (-1 unknown, 0, 1) is the
 * connection's setting, used only when the order itself does not tell.
 * Returns a new canonical record (with the native order under "source"), or
 * NULL with a FERRY_RECORD_ERROR in err naming the field: no increment_id;
 * no items ("the order has no items"); an amount or quantity the decoder
 * reads that is present but no number or numeric string ("not a number:
 * 'abc'"), or beyond 10^14; grand_total or a row's qty_ordered, price or
 * row_total missing (Magento always sends them; other members may be absent
 * or null, read as 0 / unknown).  Never a guessed 0.
 */
json_t *m2_order_decode(const json_t *native, int prices_include_tax, ferry_error *err);

#endif /* M2_ORDER_H */
