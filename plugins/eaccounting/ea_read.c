/* ea_read.c - paging list endpoints with an incremental cursor (see ea_read.h). */
#include "config.h"

#include "ea_read.h"

#include <stdlib.h>
#include <string.h>

#include "ea_api.h"
#include "ea_conn.h"
#include "ea_filter.h"
#include "ea_str.h"
#include "plugin_util.h"
#include "util.h"

/* A record's change time in ms, or -1 when it has none. */
static long long changed_ms(const json_t *item, const char *changed)
{
    long long ms;
    const char *ts = plugin_json_str(item, changed);
    return ts != NULL && ea_time_parse(ts, &ms) == 0 ? ms : -1;
}

static int id_in(const json_t *ids, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach (ids, i, v) {
        if (id != NULL && json_is_string(v) && ferry_streq_nocase(json_string_value(v), id)) {
            return 1;
        }
    }
    return 0;
}

void ea_read_advance(const json_t *data, const char *changed, const char *since, const json_t *seen, int page,
                     int server_has_more, json_t **fresh, json_t **next_cursor, int *more)
{
    long long since_ms = -1;
    if (since != NULL) {
        ea_time_parse(since, &since_ms);
    }
    *fresh = json_array();
    const char *last = since;
    long long last_ms = since_ms;
    size_t i;
    json_t *item;
    json_array_foreach (data, i, item) {
        long long ms = changed_ms(item, changed);
        if (since != NULL && ms == since_ms && id_in(seen, plugin_json_str(item, "Id"))) {
            continue; /* handed out by the previous page */
        }
        json_array_append(*fresh, item);
        if (ms >= 0 && ms >= last_ms) {
            last_ms = ms;
            last = plugin_json_str(item, changed);
        }
    }
    /* the ids at the new `since` that are now handed out */
    json_t *next_seen = json_array();
    if (last != NULL && last_ms == since_ms) {
        json_array_extend(next_seen, (json_t *)seen);
    }
    json_array_foreach (data, i, item) {
        const char *id = plugin_json_str(item, "Id");
        if (last != NULL && changed_ms(item, changed) == last_ms && id != NULL && !id_in(next_seen, id)) {
            json_array_append_new(next_seen, json_string(id));
        }
    }
    /* stuck on one timestamp for a whole page: step to the next page of the same query */
    int stuck = server_has_more && last_ms == since_ms;
    *next_cursor = json_object();
    if (last != NULL) {
        json_object_set_new(*next_cursor, "since", json_string(last));
        json_object_set_new(*next_cursor, "seen", next_seen);
    } else {
        json_decref(next_seen);
    }
    json_object_set_new(*next_cursor, "page", json_integer(stuck ? page + 1 : 1));
    *more = server_has_more;
}

/* The query text for `since`: a $filter, or the modifiedSinceUtc parameter. */
static int since_query(const ea_read_source *src, const char *since, ferry_buf *filter, char **extra, ferry_error *err)
{
    *extra = NULL;
    if (since == NULL) {
        return FERRY_OK;
    }
    if (src->since_param) {
        long long ms;
        if (ea_time_parse(since, &ms) != 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "since", "eaccounting: cursor time '%s' is not ISO 8601",
                                   since);
        }
        char *enc = ferry_url_encode(since);
        *extra = enc ? ferry_asprintf("modifiedSinceUtc=%s", enc) : NULL;
        free(enc);
        return *extra ? FERRY_OK : ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    return ea_filter_add(filter, src->resource, src->changed, "ge", since, err);
}

static int read_incremental(ferry_conn *c, const ea_read_source *src, const char *since, const json_t *seen, int page,
                            int page_size, const char *select, json_t **items, json_t **next_cursor, int *more,
                            ferry_error *err)
{
    ferry_buf filter = FERRY_BUF_INIT;
    char *extra = NULL;
    int rc = since_query(src, since, &filter, &extra, err);
    if (rc == FERRY_OK && select != NULL) {
        char *both = extra ? ferry_asprintf("%s&%s", extra, select) : ferry_strdup(select);
        free(extra);
        extra = both;
    }
    if (rc != FERRY_OK) {
        ferry_buf_free(&filter);
        if (rc == FERRY_RECORD_ERROR) {
            err->status = rc = FERRY_CONFIG_ERROR; /* a bad cursor or query, not a bad record */
        }
        return rc;
    }
    char orderby[128];
    snprintf(orderby, sizeof(orderby), "%s, Id", src->changed);
    json_t *data = NULL;
    ea_page_meta meta;
    rc = ea_api_list_page(c, src->resource, ferry_buf_str(&filter), orderby, extra, page, page_size, &data, &meta, err);
    ferry_buf_free(&filter);
    free(extra);
    if (rc != FERRY_OK) {
        return rc;
    }
    int server_has_more = meta.total_pages > page && json_array_size(data) > 0;
    ea_read_advance(data, src->changed, since, seen, page, server_has_more, items, next_cursor, more);
    json_decref(data);
    return FERRY_OK;
}

static int read_full_scan(ferry_conn *c, const ea_read_source *src, int page, int page_size, const char *select,
                          json_t **items, json_t **next_cursor, int *more, ferry_error *err)
{
    ea_page_meta meta;
    int rc = ea_api_list_page(c, src->resource, NULL, src->scan_order, select, page, page_size, items, &meta, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    *more = meta.total_pages > page && json_array_size(*items) > 0;
    *next_cursor = json_pack("{s:i}", "page", *more ? page + 1 : 1);
    return FERRY_OK;
}

/* "$select=Id,<changed>,<select>" URL-encoded (new string), or NULL for every member. */
static char *select_param(const ea_read_source *src, const char *select)
{
    if (select == NULL || select[0] == '\0') {
        return NULL;
    }
    char *list = src->changed ? ferry_asprintf("Id,%s,%s", src->changed, select) : ferry_asprintf("Id,%s", select);
    char *enc = list ? ferry_url_encode(list) : NULL;
    char *param = enc ? ferry_asprintf("$select=%s", enc) : NULL;
    free(list);
    free(enc);
    return param;
}

int ea_read_page(ferry_conn *c, const ea_read_source *src, const json_t *query, const json_t *cursor,
                 const char *select, json_t **items, json_t **next_cursor, int *more, ferry_error *err)
{
    *items = NULL;
    *next_cursor = NULL;
    *more = 0;
    json_t *page_v = json_object_get(cursor, "page");
    int page = json_is_integer(page_v) && json_integer_value(page_v) > 0 ? (int)json_integer_value(page_v) : 1;
    /* the query's page_size (the engine asks for big pages when it prefetches), else the setting */
    json_t *size_v = json_object_get(query, "page_size");
    int page_size = c->page_size;
    if (json_is_integer(size_v) && json_integer_value(size_v) > 0 && json_integer_value(size_v) <= 10000) {
        page_size = (int)json_integer_value(size_v);
    }
    char *sel = select_param(src, select);
    int rc;
    if (src->changed == NULL) {
        rc = read_full_scan(c, src, page, page_size, sel, items, next_cursor, more, err);
    } else {
        const char *since = plugin_json_str(cursor, "since");
        if (since == NULL && cursor == NULL) {
            since = plugin_json_str(query, "since");
        }
        rc = read_incremental(c, src, since, json_object_get(cursor, "seen"), page, page_size, sel, items, next_cursor,
                              more, err);
    }
    free(sel);
    return rc;
}
