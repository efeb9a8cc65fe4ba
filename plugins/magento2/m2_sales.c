/* m2_sales.c - reading orders and writing order comments (see m2_sales.h). */
#include "config.h"

#include "m2_sales.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_api.h"
#include "m2_order.h"
#include "m2_read.h"
#include "m2_util.h"
#include "util.h"

static json_t *decode_order(ferry_conn *c, const json_t *native, ferry_error *err)
{
    return m2_order_decode(native, c->prices_include_tax, err);
}

static const m2_listing orders_listing = {"order", "/orders", "updated_at", "entity_id", "entity_id", decode_order};

/* Group 0: status in (a,b,c) from query "statuses" (or "status"). Returns the next free group. */
static int status_filter(const json_t *query, m2_params *p, ferry_error *err)
{
    json_t *statuses = json_object_get(query, "statuses");
    if (statuses == NULL) {
        statuses = json_object_get(query, "status");
    }
    if (statuses == NULL || json_is_null(statuses)) {
        return 0;
    }
    ferry_buf list = FERRY_BUF_INIT;
    ferry_buf_puts(&list, "");
    size_t n = json_is_array(statuses) ? json_array_size(statuses) : 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_is_array(statuses) ? json_array_get(statuses, i) : statuses);
        if (m2_search_in_value_ok(s) != 0) {
            ferry_buf_free(&list);
            ferry_error_set(err, FERRY_CONFIG_ERROR, "statuses",
                            "the flow's order statuses must be non-empty strings without commas");
            return -1;
        }
        ferry_buf_printf(&list, "%s%s", i ? "," : "", s);
    }
    if (n > 0) {
        m2_search_filter(p, 0, "status", ferry_buf_str(&list), "in");
    }
    ferry_buf_free(&list);
    return n > 0 ? 1 : 0;
}

int m2_orders_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                   int *more, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    int group = status_filter(query, &p, err);
    int rc = group < 0 ? FERRY_CONFIG_ERROR
                       : m2_read_page(c, &orders_listing, &p, group, query, cursor, records, next_cursor, more, err);
    m2_params_free(&p);
    return rc;
}

/* GET /V1/orders/{id}: *native NULL on 404. */
static int order_by_id(ferry_conn *c, const char *id, json_t **native, ferry_error *err)
{
    char *seg = m2_api_segment(c, id);
    char *path = seg ? ferry_asprintf("/orders/%s", seg) : NULL;
    m2_request rq = {.method = "GET", .path = path, .flags = M2_ACCEPT_404, .label = "order", .record = id};
    int rc = path ? m2_api_call(c, &rq, native, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    free(seg);
    free(path);
    return rc;
}

int m2_orders_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err)
{
    *found = NULL;
    json_t *native = NULL;
    int rc;
    if (strcmp(key, "number") == 0) {
        rc = m2_read_find_native(c, &orders_listing, "increment_id", value, &native, err);
    } else if (strcmp(key, "id") == 0) {
        rc = order_by_id(c, value, &native, err);
    } else {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key, "orders are found by number or id, not by %s", key);
    }
    if (rc == FERRY_OK && native != NULL) {
        *found = m2_order_decode(native, c->prices_include_tax, err);
        rc = *found ? FERRY_OK : err->status;
    }
    json_decref(native);
    return rc;
}

/* ---- order comments ------------------------------------------------------------------------------ */

json_t *m2_order_comment_payload(const json_t *record, long long order_id, ferry_error *err)
{
    const char *comment = m2_str(record, "comment");
    if (comment == NULL) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "comment", "an order comment needs a non-empty comment");
        return NULL;
    }
    json_t *history = json_object();
    json_object_set_new(history, "comment", json_string(comment));
    json_object_set_new(history, "is_customer_notified", json_integer(m2_json_flag(record, "notify", 0)));
    json_object_set_new(history, "is_visible_on_front", json_integer(m2_json_flag(record, "visible_on_front", 0)));
    json_object_set_new(history, "parent_id", json_integer(order_id));
    m2_set_str(history, "status", m2_str(record, "status"));
    return json_pack("{s:o}", "statusHistory", history);
}

/* The order's entity id from record.order_id, or by looking its number up. */
static int resolve_order(ferry_conn *c, const json_t *record, long long *order_id, char *number, size_t n,
                         ferry_error *err)
{
    long long id = m2_json_int(record, "order_id", -1);
    const char *num = m2_json_text(record, "number");
    ferry_strlcpy(number, num ? num : "", n);
    if (id > 0) {
        *order_id = id;
        return FERRY_OK;
    }
    if (num == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "order_id", "an order comment needs order_id or number");
    }
    json_t *native = NULL;
    int rc = m2_read_find_native(c, &orders_listing, "increment_id", number, &native, err);
    if (rc == FERRY_OK && native == NULL) {
        rc = ferry_error_set(err, FERRY_RECORD_ERROR, "number", "there is no Magento order number %s", number);
    }
    if (rc == FERRY_OK) {
        *order_id = m2_json_int(native, "entity_id", -1);
    }
    json_decref(native);
    return rc;
}

/* GET /V1/orders/{id}/statuses: the order's status now. */
static char *current_status(ferry_conn *c, const char *id_path, ferry_error *err)
{
    char *path = ferry_asprintf("/orders/%s/statuses", id_path);
    json_t *answer = NULL;
    m2_request rq = {.method = "GET", .path = path, .label = "order status"};
    int rc = m2_api_call(c, &rq, &answer, NULL, err);
    char *out = rc == FERRY_OK && json_is_string(answer) ? ferry_strdup(json_string_value(answer)) : NULL;
    json_decref(answer);
    free(path);
    return out;
}

static json_t *comment_result(ferry_conn *c, long long order_id, const char *number, const char *wanted,
                              const char *now)
{
    json_t *out = json_object();
    char id[32];
    snprintf(id, sizeof(id), "%lld", order_id);
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "order_id", json_string(id));
    m2_set_str(out, "number", number);
    m2_set_str(out, "status", now);
    if (wanted != NULL) {
        int applied = now != NULL && strcmp(now, wanted) == 0;
        json_object_set_new(out, "status_applied", json_boolean(applied));
        if (!applied) {
            c->host->log(c->hc, FERRY_LOG_WARN,
                         "magento2: order %s: the comment was added but Magento kept status '%s' instead of '%s' "
                         "(since 2.4.7 a comment may only change to a status of the order's current state)",
                         number[0] ? number : id, now ? now : "?", wanted);
        }
    }
    return out;
}

int m2_order_comment_create(ferry_conn *c, const json_t *record, json_t **created, ferry_error *err)
{
    *created = NULL;
    long long order_id = 0;
    char number[64];
    int rc = resolve_order(c, record, &order_id, number, sizeof(number), err);
    json_t *body = rc == FERRY_OK ? m2_order_comment_payload(record, order_id, err) : NULL;
    if (body == NULL) {
        return rc == FERRY_OK ? err->status : rc;
    }
    char id[32];
    snprintf(id, sizeof(id), "%lld", order_id);
    char *path = ferry_asprintf("/orders/%s/comments", id);
    json_t *answer = NULL;
    m2_request rq = {
        .method = "POST", .path = path, .body = body, .label = "order comment", .record = number[0] ? number : id};
    rc = m2_api_call(c, &rq, &answer, NULL, err);
    json_decref(answer);
    json_decref(body);
    free(path);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *wanted = m2_str(record, "status");
    ferry_error status_err; /* the comment is written: a failed read-back only leaves the status unknown */
    ferry_error_clear(&status_err);
    char *now = wanted ? current_status(c, id, &status_err) : NULL;
    *created = comment_result(c, order_id, number, wanted, now);
    free(now);
    return FERRY_OK;
}
