/*
 * magento2.c - the Magento 2 connector plugin: its descriptor and entry
 * point, the only symbol magento2.so exports.  Each operation hands over to
 * the module of its entity:
 *
 *   order          read, find (number|id)           m2_sales.c, m2_order.c
 *   order_comment  create                           m2_sales.c
 *   customer       read, find (email|id)            m2_customer.c
 *   product        read, find (sku|id), create,     m2_catalog.c, m2_product.c,
 *                  update                           m2_product_write.c
 *   stock          read, find (sku), create, update m2_stock.c
 *
 * Requests, authentication and errors: m2_api.c, m2_auth.c; settings:
 * m2_conn.c; the store reached (test): m2_store.c.  See doc/magento2.md.
 */
#include "config.h"

#include <string.h>

#include <ferry/plugin.h>

#include "m2_api.h"
#include "m2_catalog.h"
#include "m2_category.h"
#include "m2_conn.h"
#include "m2_customer.h"
#include "m2_order.h"
#include "m2_product.h"
#include "m2_product_write.h"
#include "m2_sales.h"
#include "m2_stock.h"
#include "m2_store.h"
#include "m2_util.h"

#define R FERRY_OP_READ
#define F FERRY_OP_FIND
#define C FERRY_OP_CREATE
#define U FERRY_OP_UPDATE

static const ferry_entity_spec entities[] = {
    {"order", R | F, "key|number|id",
     "sales orders, read incrementally by updated_at (query: statuses, since, page_size)"},
    {"order_comment", C, "",
     "a comment on an order, optionally changing its status ({order_id|number, comment, "
     "status, notify, retry: look first, never add it twice})"},
    {"customer", R | F, "key|email|id", "customer accounts with their addresses, read incrementally by updated_at"},
    {"product", R | F | C | U, "key|sku|id",
     "catalogue products (simple, virtual, configurable, grouped, bundle), written by SKU to /rest/all/V1"},
    {"stock", R | F | C | U, "key|sku", "quantity and salable quantity per SKU (stock_mode legacy or msi)"},
    {NULL, 0, NULL, NULL}};

static const ferry_action_spec actions[] = {
    {"refresh_categories", "read the category tree again (after categories were changed in Magento)"}, {NULL, NULL}};

static int is(const char *entity, const char *name)
{
    return entity != NULL && strcmp(entity, name) == 0;
}

static int unsupported(const char *entity, const char *what, ferry_error *err)
{
    return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "the magento2 plugin cannot %s entity '%s'", what,
                           entity ? entity : "(none)");
}

static int m2_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **conn, ferry_error *err)
{
    return m2_conn_open(host, hc, conn, err);
}

static void m2_close(ferry_conn *conn)
{
    m2_conn_close(conn);
}

static int m2_test(ferry_conn *conn, json_t **info, ferry_error *err)
{
    return m2_store_test(conn, info, err);
}

/*
 * `ferry connection authorize` (and `connection add`): Magento has no consent
 * step, the settings are the credentials, so this proves them with the
 * connection test.  When it succeeds the core marks the connection ok again:
 * the way back after a refused password or integration token (needs_reauth).
 * A 401 that names an ACL resource only warns: in oauth and admin mode the
 * credentials were accepted (Magento checks them before the ACL), and with a
 * Bearer token it cannot be told from a refused token (the message says both).
 */
static int m2_authorize(const ferry_host *host, ferry_host_conn *hc, ferry_error *err)
{
    ferry_conn *c = NULL;
    int rc = m2_conn_open(host, hc, &c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *info = NULL;
    rc = m2_store_test(c, &info, err);
    if (rc == FERRY_CONFIG_ERROR && err->http_status == 401 && !(err->flags & FERRY_ERROR_NEEDS_REAUTH)) {
        host->say(hc, "magento2: the credentials work, but: %s", err->message);
        ferry_error_clear(err);
        rc = FERRY_OK;
    }
    json_decref(info);
    m2_conn_close(c);
    return rc;
}

static int m2_read(ferry_conn *conn, const char *entity, const json_t *query, const json_t *cursor, json_t **records,
                   json_t **next_cursor, int *more, ferry_error *err)
{
    *records = *next_cursor = NULL;
    *more = 0;
    if (is(entity, "order")) {
        return m2_orders_read(conn, query, cursor, records, next_cursor, more, err);
    }
    if (is(entity, "customer")) {
        return m2_customers_read(conn, query, cursor, records, next_cursor, more, err);
    }
    if (is(entity, "product")) {
        return m2_products_read(conn, query, cursor, records, next_cursor, more, err);
    }
    if (is(entity, "stock")) {
        return m2_stock_read(conn, query, cursor, records, next_cursor, more, err);
    }
    return unsupported(entity, "read", err);
}

static int m2_find(ferry_conn *conn, const char *entity, const char *key, const char *value, json_t **found,
                   ferry_error *err)
{
    *found = NULL;
    if (key == NULL || value == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "find needs a key and a value");
    }
    if (strcmp(key, "key") == 0) { /* the record's own key (the engine's dead-letter retry asks by it) */
        key = is(entity, "order") ? "number" : is(entity, "customer") ? "id" : "sku";
    }
    if (is(entity, "order")) {
        return m2_orders_find(conn, key, value, found, err);
    }
    if (is(entity, "customer")) {
        return m2_customers_find(conn, key, value, found, err);
    }
    if (is(entity, "product")) {
        return m2_products_find(conn, key, value, found, err);
    }
    if (is(entity, "stock")) {
        return m2_stock_find(conn, key, value, found, err);
    }
    return unsupported(entity, "find", err);
}

static int m2_create(ferry_conn *conn, const char *entity, const json_t *record, json_t **created, ferry_error *err)
{
    *created = NULL;
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "a record must be a JSON object");
    }
    if (is(entity, "product")) {
        return m2_product_upsert(conn, NULL, record, created, err);
    }
    if (is(entity, "stock")) {
        return m2_stock_write(conn, NULL, record, created, err);
    }
    if (is(entity, "order_comment")) {
        return m2_order_comment_create(conn, record, created, err);
    }
    return unsupported(entity, "create", err);
}

static int m2_update(ferry_conn *conn, const char *entity, const char *id, const json_t *record, json_t **updated,
                     ferry_error *err)
{
    *updated = NULL;
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "a record must be a JSON object");
    }
    if (is(entity, "product")) {
        return m2_product_upsert(conn, id, record, updated, err);
    }
    if (is(entity, "stock")) {
        return m2_stock_write(conn, id, record, updated, err);
    }
    return unsupported(entity, "update", err);
}

static int m2_to_native(ferry_conn *conn, const char *entity, const json_t *record, json_t **native, ferry_error *err)
{
    *native = NULL;
    if (conn == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "to_native needs an open connection");
    }
    if (is(entity, "product")) {
        *native = m2_product_payload(conn, record, err);
    } else if (is(entity, "stock")) {
        *native = m2_stock_payload(conn, record, err);
    } else if (is(entity, "order_comment")) {
        *native = m2_order_comment_payload(record, m2_json_int(record, "order_id", 0), err);
    } else {
        return unsupported(entity, "write", err);
    }
    return *native ? FERRY_OK : err->status;
}

static json_t *stock_from_native(const json_t *native)
{
    const char *sku = m2_str(native, "sku") ? m2_str(native, "sku") : "";
    if (json_object_get(native, "quantity") != NULL) { /* an MSI source item, without its salable quantity */
        json_t *item = json_pack("{s:O?, s:o}", "qty", json_object_get(native, "quantity"), "is_in_stock",
                                 json_boolean(m2_json_int(native, "status", 0) == 1));
        json_t *out = m2_stock_from_item(sku, item);
        json_object_del(out, "salable_qty");
        json_object_del(out, "manage_stock");
        m2_set_str(out, "source", m2_str(native, "source_code"));
        json_object_set_new(out, "mode", json_string("msi"));
        json_object_set_new(out, "native", json_deep_copy(native));
        json_decref(item);
        return out;
    }
    return m2_stock_from_item(sku, native);
}

static int m2_from_native(ferry_conn *conn, const char *entity, const json_t *native, json_t **record, ferry_error *err)
{
    *record = NULL;
    if (is(entity, "order")) {
        *record = m2_order_decode(native, conn ? conn->prices_include_tax : -1, err);
    } else if (is(entity, "customer")) {
        *record = m2_customer_decode(native, err);
    } else if (is(entity, "product")) {
        m2_product_context ctx = {conn ? conn->media_base_url : NULL,
                                  conn ? conn->ean_attribute : "ean",
                                  conn ? conn->prices_include_tax : -1,
                                  NULL,
                                  NULL,
                                  NULL};
        *record = m2_product_decode(native, &ctx, err);
    } else if (is(entity, "stock")) {
        *record = stock_from_native(native);
    } else {
        return unsupported(entity, "decode", err);
    }
    return *record ? FERRY_OK : err->status;
}

static int m2_action(ferry_conn *conn, const char *name, const json_t *args, json_t **result, ferry_error *err)
{
    (void)args;
    *result = NULL;
    if (name != NULL && strcmp(name, "refresh_categories") == 0) {
        int rc = m2_categories_load(conn, 1, err);
        if (rc == FERRY_OK) {
            *result = json_pack("{s:I}", "categories",
                                (json_int_t)json_object_size(json_object_get(conn->categories, "paths")));
        }
        return rc;
    }
    return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "the magento2 plugin has no action '%s'", name ? name : "");
}

static const ferry_plugin_descriptor descriptor = {
    FERRY_PLUGIN_DESCRIPTOR_HEADER,
    .name = "magento2",
    .version = "0.1.0",
    .description = "Magento 2 / Adobe Commerce 2.4 REST: orders, customers, products, stock",
    .entities = entities,
    .settings = m2_settings,
    .open = m2_open,
    .test = m2_test,
    .read_page = m2_read,
    .find = m2_find,
    .create = m2_create,
    .update = m2_update,
    .close = m2_close,
    .to_native = m2_to_native,
    .from_native = m2_from_native,
    .authorize = m2_authorize,
    .actions = actions,
    .action = m2_action,
};

/*
 * The plugin's one exported symbol: returns the static descriptor, or NULL
 * when the host table lacks a function the plugin calls (an older core).
 * The host table is borrowed for the plugin's lifetime.
 */
FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    if (host == NULL || host->abi_major != FERRY_PLUGIN_ABI_MAJOR || !FERRY_HOST_HAS(host, prompt) ||
        !FERRY_HOST_HAS(host, hmac_sha256) || !FERRY_HOST_HAS(host, url_encode) || !FERRY_HOST_HAS(host, lock)) {
        return NULL;
    }
    return &descriptor;
}
