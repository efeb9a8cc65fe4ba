/* m2_catalog.c - reading products (see m2_catalog.h). */
#include "config.h"

#include "m2_catalog.h"

#include <stdlib.h>
#include <string.h>

#include "m2_api.h"
#include "m2_category.h"
#include "m2_product.h"
#include "m2_read.h"
#include "m2_store.h"
#include "m2_util.h"
#include "util.h"

static const char *category_path(void *ud, const char *id)
{
    return m2_category_path(ud, id);
}

/* GET /V1/configurable-products/{sku}/children */
static int configurable_children(ferry_conn *c, const char *sku, json_t **children, ferry_error *err)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/configurable-products/%s/children", seg) : NULL;
    m2_request rq = {.method = "GET", .path = path, .label = "configurable children", .record = sku};
    int rc = path ? m2_api_call(c, &rq, children, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    free(seg);
    free(path);
    return rc;
}

json_t *m2_product_decode_full(ferry_conn *c, const json_t *native, ferry_error *err)
{
    const char *type = m2_str(native, "type_id");
    json_t *children = NULL;
    if (type != NULL && strcmp(type, "configurable") == 0 && m2_str(native, "sku") != NULL) {
        ferry_error e;
        ferry_error_clear(&e);
        int rc = configurable_children(c, m2_str(native, "sku"), &children, &e);
        if (rc == FERRY_RECORD_ERROR) { /* the product is still worth handing out, with child_ids only */
            c->host->log(c->hc, FERRY_LOG_WARN, "magento2: product %s: children unknown: %s", m2_str(native, "sku"),
                         e.message);
        } else if (rc != FERRY_OK) {
            *err = e;
            return NULL;
        }
    }
    if (json_array_size(m2_path(native, "extension_attributes", "category_links", NULL)) > 0) {
        ferry_error e;
        ferry_error_clear(&e);
        if (m2_categories_load(c, 0, &e) != FERRY_OK) { /* paths unknown: the ids stay in attributes */
            c->host->log(c->hc, FERRY_LOG_WARN, "magento2: category paths unavailable: %s", e.message);
        }
    }
    m2_product_context ctx = {
        m2_store_media_base(c), c->ean_attribute, c->prices_include_tax, children, category_path, c};
    json_t *out = m2_product_decode(native, &ctx, err);
    json_decref(children);
    return out;
}

static const m2_listing products_listing = {"product",   "/products", "updated_at",
                                            "entity_id", "id",        m2_product_decode_full};

int m2_products_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                     int *more, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    int group = 0;
    json_t *types = json_object_get(query, "types");
    if (json_is_array(types) && json_array_size(types) > 0) {
        ferry_buf list = FERRY_BUF_INIT;
        ferry_buf_puts(&list, "");
        for (size_t i = 0; i < json_array_size(types); i++) {
            const char *t = json_string_value(json_array_get(types, i));
            if (m2_search_in_value_ok(t) != 0) {
                ferry_buf_free(&list);
                m2_params_free(&p);
                return ferry_error_set(err, FERRY_CONFIG_ERROR, "types", "product types must be names without commas");
            }
            ferry_buf_printf(&list, "%s%s", i ? "," : "", t);
        }
        m2_search_filter(&p, group++, "type_id", ferry_buf_str(&list), "in");
        ferry_buf_free(&list);
    }
    int rc = m2_read_page(c, &products_listing, &p, group, query, cursor, records, next_cursor, more, err);
    m2_params_free(&p);
    return rc;
}

int m2_product_get_native(ferry_conn *c, const char *sku, int global, json_t **native, ferry_error *err)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/products/%s", seg) : NULL;
    m2_request rq = {.method = "GET",
                     .path = path,
                     .flags = M2_ACCEPT_404 | (global ? M2_SCOPE_ALL : 0),
                     .label = "product",
                     .record = sku};
    int rc = path ? m2_api_call(c, &rq, native, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    free(seg);
    free(path);
    return rc;
}

int m2_products_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err)
{
    *found = NULL;
    json_t *native = NULL;
    int rc;
    if (strcmp(key, "sku") == 0) {
        rc = m2_product_get_native(c, value, 0, &native, err);
    } else if (strcmp(key, "id") == 0) {
        rc = m2_read_find_native(c, &products_listing, "entity_id", value, &native, err);
    } else {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key, "products are found by sku or id, not by %s", key);
    }
    if (rc == FERRY_OK && native != NULL) {
        *found = m2_product_decode_full(c, native, err);
        rc = *found ? FERRY_OK : err->status;
    }
    json_decref(native);
    return rc;
}
