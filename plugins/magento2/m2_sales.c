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

/*
 * An order the decoder refused (err: FERRY_RECORD_ERROR naming the field), as the record the engine gets
 * instead of it: its identity, status and times, and "refused" {field, message}, but no lines, amounts,
 * addresses or native "source", so nothing can be booked from it (the engine dead-letters it).  Reading
 * goes on with the next order.  New reference.
 */
static json_t *refused_order(ferry_conn *c, const json_t *native, const ferry_error *why)
{
    const char *number = m2_json_text(native, "increment_id");
    json_t *out = json_object();
    m2_set_str(out, "key", number);
    m2_set_str(out, "number", number);
    m2_set_str(out, "id", m2_json_text(native, "entity_id"));
    json_object_set_new(out, "status", json_string(m2_str(native, "status") ? m2_str(native, "status") : ""));
    m2_set_str(out, "state", m2_str(native, "state"));
    m2_set_new(out, "created_at", m2_time_to_iso_json(m2_str(native, "created_at")));
    m2_set_new(out, "updated_at", m2_time_to_iso_json(m2_str(native, "updated_at")));
    json_t *refused = json_object();
    m2_set_str(refused, "field", why->field);
    json_object_set_new(refused, "message", json_string(why->message));
    json_object_set_new(out, "refused", refused);
    c->host->log(c->hc, FERRY_LOG_WARN, "magento2: order %s refused: %s%s%s", number ? number : "(no increment_id)",
                 why->field, why->field[0] ? ": " : "", why->message);
    return out;
}

static json_t *decode_order(ferry_conn *c, const json_t *native, ferry_error *err)
{
    json_t *out = m2_order_decode(native, c->prices_include_tax, err);
    if (out == NULL && err->status == FERRY_RECORD_ERROR && json_is_object(native)) {
        out = refused_order(c, native, err);
        ferry_error_clear(err);
    }
    return out;
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
        *found = decode_order(c, native, err);
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
                              const char *now, int existing)
{
    json_t *out = json_object();
    char id[32];
    snprintf(id, sizeof(id), "%lld", order_id);
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "order_id", json_string(id));
    m2_set_str(out, "number", number);
    m2_set_str(out, "status", now);
    if (existing) {
        json_object_set_new(out, "existing", json_true());
    }
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

/*
 * GET /V1/orders/{id}/comments: whether the order's status history holds a comment with exactly `text`
 * (*present).  Only the history, not the whole order: the cheaper of the two answers that have it.
 */
static int comment_present(ferry_conn *c, const char *id_path, const char *record, const char *text, int *present,
                           ferry_error *err)
{
    *present = 0;
    char *path = ferry_asprintf("/orders/%s/comments", id_path);
    json_t *answer = NULL;
    m2_request rq = {.method = "GET", .path = path, .label = "order comments", .record = record};
    int rc = path ? m2_api_call(c, &rq, &answer, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    json_t *items = json_object_get(answer, "items");
    if (rc == FERRY_OK && !json_is_array(items)) {
        rc = ferry_error_set(err, FERRY_RETRY, NULL,
                             "order %s: GET /V1/orders/%s/comments answered without an items list, so "
                             "whether the owed comment is there already is unknown; it is not written blindly",
                             record, id_path);
    }
    if (rc == FERRY_OK) {
        size_t i;
        json_t *h;
        json_array_foreach (items, i, h) {
            const char *comment = json_string_value(json_object_get(h, "comment"));
            if (comment != NULL && text != NULL && strcmp(comment, text) == 0) {
                *present = 1;
                break;
            }
        }
    }
    json_decref(answer);
    free(path);
    return rc;
}

/* The answer's JSON text for a message (at most about 100 characters). */
static void answer_text(const json_t *answer, char *buf, size_t n)
{
    char *dump = answer ? json_dumps(answer, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(buf, n, "%.100s%s", dump ? dump : "an empty body", dump && strlen(dump) > 100 ? "..." : "");
    free(dump);
}

/* POST /V1/orders/{id}/comments: written only when Magento answers `true`. */
static int post_comment(ferry_conn *c, const char *id, const char *record, const json_t *body, ferry_error *err)
{
    char *path = ferry_asprintf("/orders/%s/comments", id);
    json_t *answer = NULL;
    m2_request rq = {.method = "POST", .path = path, .body = body, .label = "order comment", .record = record};
    int rc = path ? m2_api_call(c, &rq, &answer, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    if (rc == FERRY_OK && !json_is_true(answer)) {
        /* Magento answers true or an error: anything else came from something between, and whether the
         * comment was added is unknown.  The engine keeps it owed and the next run looks first (retry). */
        char shown[128];
        answer_text(answer, shown, sizeof(shown));
        rc = ferry_error_set(err, FERRY_RETRY, NULL,
                             "order %s: POST /V1/orders/%s/comments answered %s instead of true; whether the "
                             "comment was added is unknown, so it stays owed and the next run looks before "
                             "writing it again",
                             record, id, shown);
        err->flags |= FERRY_ERROR_MAYBE_APPLIED;
        err->http_status = 200;
        ferry_strlcpy(err->record, record, sizeof(err->record));
    }
    json_decref(answer);
    free(path);
    return rc;
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
    const char *label = number[0] ? number : id;
    /* "retry": owed from a run whose write may have arrived; Magento adds a comment per POST, so look first */
    int existing = 0;
    if (m2_json_flag(record, "retry", 0)) {
        rc = comment_present(c, id, label, m2_str(record, "comment"), &existing, err);
        if (rc == FERRY_OK && existing) {
            c->host->log(c->hc, FERRY_LOG_INFO,
                         "magento2: order %s has the comment already (an earlier answer was lost); not added again",
                         label);
        }
    }
    if (rc == FERRY_OK && !existing) {
        rc = post_comment(c, id, label, body, err);
    }
    json_decref(body);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *wanted = m2_str(record, "status");
    ferry_error status_err; /* the comment is written: a failed read-back only leaves the status unknown */
    ferry_error_clear(&status_err);
    char *now = wanted ? current_status(c, id, &status_err) : NULL;
    *created = comment_result(c, order_id, number, wanted, now, existing);
    free(now);
    return FERRY_OK;
}
