/*
 * m2_stock.h - stock levels per SKU, by the setting stock_mode:
 *
 *   legacy  CatalogInventory: read from the product list's stock items
 *           (salable_qty = qty: the legacy API knows no reservations),
 *           found with GET /V1/stockItems/{sku}, written with
 *           PUT /V1/products/{sku}/stockItems/{itemId} (Magento ignores the
 *           item id; the SKU decides).
 *   msi     Inventory Management: read from GET /V1/inventory/source-items
 *           of msi_source_code, with the salable quantity of msi_stock_id
 *           (GET /V1/inventory/get-product-salable-quantity/{sku}/{stock}:
 *           source quantity minus reservations minus min_qty), written with
 *           POST /V1/inventory/source-items; a manage_stock flag still goes
 *           to the legacy stock item (MSI has no such flag).
 *
 * Stock is read as a full scan per run in SKU (msi) or product id (legacy)
 * order, keyset paged; the cursor only remembers where the scan is.
 */
#ifndef M2_STOCK_H
#define M2_STOCK_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/* read_page for "stock" (query: "page_size", "skus": [...] optional). */
int m2_stock_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                  int *more, ferry_error *err);

/* find for "stock" by "sku"; *found NULL when the SKU has no stock record. */
int m2_stock_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err);

/*
 * create/update for "stock": record {sku, qty, is_in_stock?, manage_stock?,
 * source?}.  *result = {"id": sku, "sku", "qty", "mode", "source"?}.
 */
int m2_stock_write(ferry_conn *c, const char *id, const json_t *record, json_t **result, ferry_error *err);

/* The body the write would send in the connection's mode (pure, for to_native). */
json_t *m2_stock_payload(const ferry_conn *c, const json_t *record, ferry_error *err);

/* A canonical stock record from a legacy stock item (pure; salable_qty = qty). */
json_t *m2_stock_from_item(const char *sku, const json_t *stock_item);

#endif /* M2_STOCK_H */
