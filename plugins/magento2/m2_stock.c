/* m2_stock.c - stock levels, legacy and MSI (see m2_stock.h). */
#include "config.h"

#include "m2_stock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m2_api.h"
#include "m2_read.h"
#include "m2_util.h"
#include "money.h"
#include "util.h"

#define STOCK_TYPES "simple,virtual,downloadable"

/* ---- records ------------------------------------------------------------------------------ */

json_t *m2_stock_from_item(const char *sku, const json_t *item)
{
    json_t *out = json_object();
    json_object_set_new(out, "key", json_string(sku));
    json_object_set_new(out, "sku", json_string(sku));
    ferry_money qty;
    m2_amount_get(item, "qty", &qty);
    json_object_set_new(out, "qty", m2_plain_json(qty));
    json_object_set_new(out, "salable_qty", m2_plain_json(qty));
    json_object_set_new(out, "is_in_stock", json_boolean(m2_json_flag(item, "is_in_stock", 0)));
    json_object_set_new(out, "manage_stock", json_boolean(m2_json_flag(item, "manage_stock", 1)));
    const char *stock_id = m2_json_text(item, "stock_id");
    json_object_set_new(out, "source", json_string(stock_id ? stock_id : "1"));
    json_object_set_new(out, "mode", json_string("legacy"));
    json_object_set_new(out, "native", json_deep_copy(item));
    return out;
}

/* GET /V1/inventory/get-product-salable-quantity/{sku}/{stock}: 1 with *salable set, 0 when Magento cannot tell. */
static int salable_qty(ferry_conn *c, const char *sku, ferry_money *salable, ferry_error *err, int *rc)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/inventory/get-product-salable-quantity/%s/%ld", seg, c->msi_stock_id) : NULL;
    json_t *answer = NULL;
    ferry_error e;
    ferry_error_clear(&e);
    m2_request rq = {.method = "GET", .path = path, .label = "salable quantity", .record = sku};
    *rc = path ? m2_api_call(c, &rq, &answer, NULL, &e) : ferry_error_set(&e, FERRY_FATAL, NULL, "out of memory");
    int known = *rc == FERRY_OK && m2_amount_from_json(answer, salable);
    if (*rc == FERRY_RECORD_ERROR) {
        *rc = FERRY_OK; /* a SKU without source items support: no salable quantity */
    } else if (*rc != FERRY_OK) {
        *err = e;
    }
    json_decref(answer);
    free(seg);
    free(path);
    return known;
}

static json_t *stock_from_source_item(ferry_conn *c, const json_t *item, ferry_error *err, int *rc)
{
    const char *sku = m2_str(item, "sku");
    json_t *out = json_object();
    json_object_set_new(out, "key", json_string(sku));
    json_object_set_new(out, "sku", json_string(sku));
    ferry_money qty, salable, reserved = ferry_money_from_int(0);
    m2_amount_get(item, "quantity", &qty);
    json_object_set_new(out, "qty", m2_plain_json(qty));
    if (salable_qty(c, sku, &salable, err, rc)) {
        json_object_set_new(out, "salable_qty", m2_plain_json(salable));
        if (ferry_money_cmp(qty, salable) <= 0 || ferry_money_sub(qty, salable, &reserved) == FERRY_MONEY_OK) {
            json_object_set_new(out, "reserved", m2_plain_json(reserved));
        }
    }
    json_object_set_new(out, "is_in_stock", json_boolean(m2_json_int(item, "status", 0) == 1));
    m2_set_str(out, "source", m2_str(item, "source_code"));
    json_object_set_new(out, "mode", json_string("msi"));
    json_object_set_new(out, "native", json_deep_copy(item));
    return out;
}

/* ---- reading ---------------------------------------------------------------------------------- */

/* Where the scan is: cursor {"v":1, "after": "SKU" | id}; "done" starts over. */
static const json_t *scan_position(const json_t *cursor)
{
    if (!json_is_object(cursor) || json_is_true(json_object_get(cursor, "done"))) {
        return NULL;
    }
    return json_object_get(cursor, "after");
}

static int skus_filter(const json_t *query, m2_params *p, int group, ferry_error *err)
{
    json_t *skus = json_object_get(query, "skus");
    if (json_array_size(skus) == 0) {
        return group;
    }
    ferry_buf list = FERRY_BUF_INIT;
    ferry_buf_puts(&list, "");
    for (size_t i = 0; i < json_array_size(skus); i++) {
        const char *s = json_string_value(json_array_get(skus, i));
        if (m2_search_in_value_ok(s) != 0) {
            ferry_buf_free(&list);
            ferry_error_set(err, FERRY_CONFIG_ERROR, "skus", "skus must be non-empty strings without commas");
            return -1;
        }
        ferry_buf_printf(&list, "%s%s", i ? "," : "", s);
    }
    m2_search_filter(p, group, "sku", ferry_buf_str(&list), "in");
    ferry_buf_free(&list);
    return group + 1;
}

/* The search for one page in the connection's mode. */
static int stock_search(ferry_conn *c, const json_t *query, const json_t *after, m2_params *p, ferry_error *err)
{
    int group = 0;
    int msi = c->stock_mode == M2_STOCK_MSI;
    if (msi) {
        m2_search_filter(p, group++, "source_code", c->msi_source_code, "eq");
    } else {
        m2_search_filter(p, group++, "type_id", STOCK_TYPES, "in");
        m2_search_fields(p, "items[id,sku,type_id,extension_attributes[stock_item]],total_count");
    }
    group = skus_filter(query, p, group, err);
    if (group < 0) {
        return FERRY_CONFIG_ERROR;
    }
    if (after != NULL) {
        m2_search_filter(p, group++, msi ? "sku" : "entity_id", m2_json_value_text(after), "gt");
    }
    m2_search_sort(p, 0, msi ? "sku" : "entity_id", "ASC");
    m2_search_page(p, m2_read_page_size(c, query), 1);
    return FERRY_OK;
}

/* True when `item` is not after the scan position (a server that ignores the filter). */
static int stale(const ferry_conn *c, const json_t *item, const json_t *after)
{
    if (after == NULL) {
        return 0;
    }
    if (c->stock_mode == M2_STOCK_MSI) {
        const char *sku = m2_str(item, "sku");
        return sku == NULL || strcasecmp(sku, json_string_value(after) ? json_string_value(after) : "") <= 0;
    }
    const char *text = m2_json_value_text(after);
    return m2_json_int(item, "id", 0) <= (text ? strtoll(text, NULL, 10) : 0);
}

static int walk_stock(ferry_conn *c, const json_t *items, const json_t *after, json_t *out, json_t **last,
                      int *was_stale, ferry_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        if (stale(c, item, after)) {
            *was_stale = 1;
            continue;
        }
        const char *sku = m2_str(item, "sku");
        if (sku == NULL) {
            continue;
        }
        int rc = FERRY_OK;
        if (c->stock_mode == M2_STOCK_MSI) {
            json_array_append_new(out, stock_from_source_item(c, item, err, &rc));
            json_decref(*last);
            *last = json_string(sku);
        } else {
            json_array_append_new(out,
                                  m2_stock_from_item(sku, m2_path(item, "extension_attributes", "stock_item", NULL)));
            json_decref(*last);
            *last = json_integer(m2_json_int(item, "id", 0));
        }
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    return FERRY_OK;
}

int m2_stock_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                  int *more, ferry_error *err)
{
    *records = *next_cursor = NULL;
    *more = 0;
    const json_t *after = scan_position(cursor);
    m2_params p = M2_PARAMS_INIT;
    int rc = stock_search(c, query, after, &p, err);
    json_t *page = NULL;
    m2_request rq = {.method = "GET",
                     .path = c->stock_mode == M2_STOCK_MSI ? "/inventory/source-items" : "/products",
                     .query = &p,
                     .label = "read stock"};
    if (rc == FERRY_OK) {
        rc = m2_api_call(c, &rq, &page, NULL, err);
    }
    m2_params_free(&p);
    json_t *out = json_array();
    json_t *last = after ? json_deep_copy(after) : NULL;
    int was_stale = 0;
    json_t *items = json_object_get(page, "items");
    if (rc == FERRY_OK) {
        rc = walk_stock(c, items, after, out, &last, &was_stale, err);
    }
    if (rc != FERRY_OK) {
        json_decref(out);
        json_decref(last);
        json_decref(page);
        return rc;
    }
    size_t got = json_array_size(items);
    *more = !was_stale && got > 0 && m2_json_int(page, "total_count", (long long)got) > (long long)got;
    *records = out;
    *next_cursor = *more ? json_pack("{s:i, s:o}", "v", 1, "after", last ? last : json_null())
                         : json_pack("{s:i, s:b}", "v", 1, "done", 1);
    if (!*more) {
        json_decref(last);
    }
    json_decref(page);
    return FERRY_OK;
}

static int find_legacy(ferry_conn *c, const char *sku, json_t **found, ferry_error *err)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/stockItems/%s", seg) : NULL;
    json_t *item = NULL;
    m2_request rq = {.method = "GET", .path = path, .flags = M2_ACCEPT_404, .label = "stock item", .record = sku};
    int rc = path ? m2_api_call(c, &rq, &item, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    if (rc == FERRY_OK && item != NULL) {
        *found = m2_stock_from_item(sku, item);
    }
    json_decref(item);
    free(seg);
    free(path);
    return rc;
}

static int find_msi(ferry_conn *c, const char *sku, json_t **found, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    m2_search_filter(&p, 0, "sku", sku, "eq");
    m2_search_filter(&p, 1, "source_code", c->msi_source_code, "eq");
    m2_search_page(&p, 1, 1);
    json_t *page = NULL;
    m2_request rq = {
        .method = "GET", .path = "/inventory/source-items", .query = &p, .label = "source item", .record = sku};
    int rc = m2_api_call(c, &rq, &page, NULL, err);
    m2_params_free(&p);
    json_t *item = json_array_get(json_object_get(page, "items"), 0);
    if (rc == FERRY_OK && item != NULL) {
        *found = stock_from_source_item(c, item, err, &rc);
        if (rc != FERRY_OK) {
            json_decref(*found);
            *found = NULL;
        }
    }
    json_decref(page);
    return rc;
}

int m2_stock_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err)
{
    *found = NULL;
    if (strcmp(key, "sku") != 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key, "stock is found by sku, not by %s", key);
    }
    return c->stock_mode == M2_STOCK_MSI ? find_msi(c, value, found, err) : find_legacy(c, value, found, err);
}

/* ---- writing ------------------------------------------------------------------------------------ */

/* record.qty as decimal text; 0 and *present = 0 when absent. */
static int qty_text(const json_t *record, char *buf, size_t n, int *present, ferry_money *qty, ferry_error *err)
{
    json_t *v = json_object_get(record, "qty");
    *present = v != NULL && !json_is_null(v);
    *qty = ferry_money_from_int(0);
    if (!*present) {
        return FERRY_OK;
    }
    if (!m2_amount_from_json(v, qty)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "qty", "qty must be a decimal number");
    }
    m2_amount_plain(*qty, buf, n);
    return FERRY_OK;
}

static json_t *legacy_item(const json_t *record, const char *qty, int has_qty, ferry_money amount, int manage_only)
{
    json_t *item = json_object();
    if (!manage_only && has_qty) {
        json_object_set_new(item, "qty", json_string(qty));
    }
    json_t *in_stock = json_object_get(record, "is_in_stock");
    if (!manage_only && json_is_boolean(in_stock)) {
        json_object_set(item, "is_in_stock", in_stock);
    } else if (!manage_only && has_qty) {
        json_object_set_new(item, "is_in_stock", json_boolean(amount.units > 0));
    }
    json_t *manage = json_object_get(record, "manage_stock");
    if (json_is_boolean(manage)) {
        json_object_set(item, "manage_stock", manage);
        json_object_set_new(item, "use_config_manage_stock", json_false());
    }
    return json_pack("{s:o}", "stockItem", item);
}

static json_t *msi_items(const ferry_conn *c, const json_t *record, const char *sku, const char *qty,
                         ferry_money amount)
{
    json_t *in_stock = json_object_get(record, "is_in_stock");
    int status = json_is_boolean(in_stock) ? json_is_true(in_stock) : amount.units > 0;
    const char *source = m2_str(record, "source") ? m2_str(record, "source") : c->msi_source_code;
    return json_pack("{s:[{s:s, s:s, s:s, s:i}]}", "sourceItems", "sku", sku, "source_code", source, "quantity", qty,
                     "status", status);
}

json_t *m2_stock_payload(const ferry_conn *c, const json_t *record, ferry_error *err)
{
    const char *sku = m2_str(record, "sku") ? m2_str(record, "sku") : m2_str(record, "key");
    char qty[48] = "0";
    int has_qty;
    ferry_money amount;
    if (sku == NULL) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "sku", "a stock record needs a sku");
        return NULL;
    }
    if (qty_text(record, qty, sizeof(qty), &has_qty, &amount, err) != FERRY_OK) {
        return NULL;
    }
    if (c->stock_mode == M2_STOCK_MSI) {
        if (!has_qty) {
            ferry_error_set(err, FERRY_RECORD_ERROR, "qty", "stock_mode msi writes a quantity: qty is missing");
            return NULL;
        }
        return msi_items(c, record, sku, qty, amount);
    }
    return legacy_item(record, qty, has_qty, amount, 0);
}

static int put_stock_item(ferry_conn *c, const char *sku, json_t *body, ferry_error *err)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/products/%s/stockItems/1", seg) : NULL;
    json_t *answer = NULL;
    m2_request rq = {.method = "PUT", .path = path, .body = body, .label = "update stock item", .record = sku};
    int rc = path ? m2_api_call(c, &rq, &answer, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    json_decref(answer);
    free(seg);
    free(path);
    return rc;
}

static int post_source_items(ferry_conn *c, const char *sku, json_t *body, ferry_error *err)
{
    json_t *answer = NULL;
    m2_request rq = {.method = "POST",
                     .path = "/inventory/source-items",
                     .body = body,
                     .flags = M2_IDEMPOTENT,
                     .label = "save source items",
                     .record = sku};
    int rc = m2_api_call(c, &rq, &answer, NULL, err);
    json_decref(answer);
    return rc;
}

int m2_stock_write(ferry_conn *c, const char *id, const json_t *record, json_t **result, ferry_error *err)
{
    *result = NULL;
    json_t *copy = json_deep_copy(record);
    if (m2_str(copy, "sku") == NULL && id != NULL) {
        json_object_set_new(copy, "sku", json_string(id));
    }
    const char *sku = m2_str(copy, "sku");
    json_t *body = m2_stock_payload(c, copy, err);
    int rc = body ? FERRY_OK : err->status;
    if (rc == FERRY_OK && c->stock_mode == M2_STOCK_MSI) {
        rc = post_source_items(c, sku, body, err);
        if (rc == FERRY_OK && json_is_boolean(json_object_get(copy, "manage_stock"))) {
            json_t *flag = legacy_item(copy, "", 0, ferry_money_from_int(0), 1);
            rc = put_stock_item(c, sku, flag, err);
            json_decref(flag);
        }
    } else if (rc == FERRY_OK) {
        rc = put_stock_item(c, sku, body, err);
    }
    if (rc == FERRY_OK) {
        *result = json_pack("{s:s, s:s, s:s}", "id", sku, "sku", sku, "mode",
                            c->stock_mode == M2_STOCK_MSI ? "msi" : "legacy");
        json_t *qty = json_object_get(copy, "qty");
        if (qty != NULL) {
            json_object_set(*result, "qty", qty);
        }
    }
    json_decref(body);
    json_decref(copy);
    return rc;
}
