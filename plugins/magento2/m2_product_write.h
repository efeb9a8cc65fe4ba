/*
 * m2_product_write.h - writing a canonical product to Magento by SKU.
 *
 *   1. GET /rest/all/V1/products/{sku}: does it exist?
 *   2. update: drop the record's create_only fields;
 *   3. category paths -> ids, creating missing levels (m2_category.h);
 *   4. POST /rest/all/V1/products (new) or PUT /rest/all/V1/products/{sku}
 *      (existing), so values land globally and not on one store view;
 *   5. configurable: missing options (POST .../options) and children (POST
 *      .../child, one per child; children must exist already);
 *      grouped: POST /V1/products/{sku}/links (link_type associated);
 *   6. images not there yet (m2_media.h).
 */
#ifndef M2_PRODUCT_WRITE_H
#define M2_PRODUCT_WRITE_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/*
 * Create or update `record` (canonical product) by its sku; `id` (may be
 * NULL) is the sku from an earlier create.  *result = {"id": sku,
 * "entity_id", "sku", "created": bool, "images_uploaded": n,
 * "children_linked": n, "options_added": n}.  Record errors name the field
 * ("sku", "price", "children[1]", "media[0]", ...).
 */
int m2_product_upsert(ferry_conn *c, const char *id, const json_t *record, json_t **result, ferry_error *err);

/* The body POST /V1/products would get for `record` (for to_native; categories are not resolved). */
json_t *m2_product_payload(ferry_conn *c, const json_t *record, ferry_error *err);

#endif /* M2_PRODUCT_WRITE_H */
