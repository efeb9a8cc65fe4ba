/*
 * m2_catalog.h - reading products: pages by updated_at, lookups by sku,
 * with a configurable's children (GET /V1/configurable-products/{sku}/
 * children), category paths (m2_category.h) and media URLs filled in.
 */
#ifndef M2_CATALOG_H
#define M2_CATALOG_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/* read_page for "product" (query: "since", "page_size", "types": ["simple", ...] optional). */
int m2_products_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                     int *more, ferry_error *err);

/* find for "product" by "sku" or "id"; *found NULL when there is none. */
int m2_products_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err);

/* GET /V1/products/{sku} (store "all" when `global`): *native NULL on 404. */
int m2_product_get_native(ferry_conn *c, const char *sku, int global, json_t **native, ferry_error *err);

/* Decode a native product with everything looked up (children, categories, media URL). */
json_t *m2_product_decode_full(ferry_conn *c, const json_t *native, ferry_error *err);

#endif /* M2_CATALOG_H */
