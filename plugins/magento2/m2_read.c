/* m2_read.c - incremental pages and lookups on search endpoints (see m2_read.h). */
#include "config.h"

#include "m2_read.h"

#include <stdio.h>
#include <string.h>

#include "m2_api.h"
#include "m2_cursor.h"
#include "m2_util.h"

int m2_read_page_size(const ferry_conn *c, const json_t *query)
{
    long long size = m2_json_int(query, "page_size", 0);
    if (size >= 1 && size <= 300) {
        return (int)size;
    }
    return c->page_size;
}

/* Decode one native record into records[]; a failure is logged, not fatal for the page. */
static void decode_into(ferry_conn *c, const m2_listing *l, const json_t *native, json_t *records, int *rc,
                        ferry_error *err)
{
    ferry_error e;
    ferry_error_clear(&e);
    json_t *rec = l->decode(c, native, &e);
    if (rec != NULL) {
        json_array_append_new(records, rec);
        return;
    }
    if (e.status == FERRY_RETRY || e.status == FERRY_CONFIG_ERROR || e.status == FERRY_FATAL) {
        *rc = e.status; /* e.g. the children of a configurable could not be read */
        *err = e;
        return;
    }
    c->host->log(c->hc, FERRY_LOG_WARN, "magento2: %s %s left out: %s", l->entity,
                 m2_json_text(native, l->native_id) ? m2_json_text(native, l->native_id) : "?", e.message);
}

static int walk_items(ferry_conn *c, const m2_listing *l, m2_cursor *cur, const json_t *items, json_t *records,
                      int *stale, ferry_error *err)
{
    int rc = FERRY_OK;
    size_t i;
    json_t *native;
    json_array_foreach (items, i, native) {
        long long id = m2_json_int(native, l->native_id, -1);
        if (!json_is_object(native) || id < 0) {
            /* nothing to name it by, so nothing to dead-letter: say so and read on (it used to look like a
             * record before the cursor and end the read) */
            c->host->log(c->hc, FERRY_LOG_WARN, "magento2: entry %zu of the %s page has no %s (not a record); left out",
                         i, l->entity, l->native_id);
            continue;
        }
        const char *ts = m2_str(native, l->ts_field);
        int verdict = m2_cursor_accept(cur, ts ? ts : "1970-01-01 00:00:00", id);
        if (verdict == M2_CURSOR_STALE) {
            *stale = 1;
        } else if (verdict == M2_CURSOR_EMIT) {
            decode_into(c, l, native, records, &rc, err);
            if (rc != FERRY_OK) {
                return rc;
            }
        }
    }
    return FERRY_OK;
}

int m2_read_page(ferry_conn *c, const m2_listing *l, m2_params *filters, int first_free_group, const json_t *query,
                 const json_t *cursor, json_t **records, json_t **next_cursor, int *more, ferry_error *err)
{
    *records = NULL;
    *next_cursor = NULL;
    *more = 0;
    m2_cursor cur;
    char why[256];
    if (m2_cursor_load(&cur, cursor, query, c->overlap_seconds, why, sizeof(why)) != 0) {
        m2_cursor_free(&cur);
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "cursor", "%s cursor: %s", l->entity, why);
    }
    m2_cursor_search(&cur, filters, first_free_group, l->ts_field, l->id_field);
    m2_search_page(filters, m2_read_page_size(c, query), 1);
    json_t *page = NULL;
    m2_request rq = {.method = "GET", .path = l->path, .query = filters, .label = l->entity};
    int rc = m2_api_call(c, &rq, &page, NULL, err);
    json_t *items = json_object_get(page, "items");
    if (rc == FERRY_OK && !json_is_array(items) && !json_is_null(items) && items != NULL) {
        rc = ferry_error_set(err, FERRY_RETRY, NULL, "GET /V1%s answered without an items list", l->path);
    }
    json_t *out = json_array();
    int stale = 0;
    if (rc == FERRY_OK) {
        rc = walk_items(c, l, &cur, items, out, &stale, err);
    }
    if (rc != FERRY_OK) {
        json_decref(out);
        json_decref(page);
        m2_cursor_free(&cur);
        return rc;
    }
    size_t got = json_array_size(items);
    long long total = m2_json_int(page, "total_count", (long long)got);
    if (stale) {
        c->host->log(c->hc, FERRY_LOG_WARN,
                     "magento2: %s page repeated records before the cursor; the server ignores the filter, "
                     "stopping this run",
                     l->entity);
    }
    *more = !stale && got > 0 && total > (long long)got;
    *records = out;
    *next_cursor = m2_cursor_save(&cur, *more);
    json_decref(page);
    m2_cursor_free(&cur);
    return FERRY_OK;
}

int m2_read_find_native(ferry_conn *c, const m2_listing *l, const char *field, const char *value, json_t **found,
                        ferry_error *err)
{
    *found = NULL;
    m2_params p = M2_PARAMS_INIT;
    m2_search_filter(&p, 0, field, value, "eq");
    m2_search_page(&p, 1, 1);
    json_t *page = NULL;
    m2_request rq = {.method = "GET", .path = l->path, .query = &p, .label = l->entity, .record = value};
    int rc = m2_api_call(c, &rq, &page, NULL, err);
    m2_params_free(&p);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *first = json_array_get(json_object_get(page, "items"), 0);
    if (first != NULL) {
        *found = json_incref(first);
    }
    json_decref(page);
    return FERRY_OK;
}
