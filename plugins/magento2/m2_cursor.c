/* m2_cursor.c - keyset cursor with an overlap window (see m2_cursor.h). */
#include "config.h"

#include "m2_cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_util.h"
#include "util.h"

/*
 * Ids remembered inside the overlap window.  Past this many (a bulk update
 * of thousands of orders within the window) the oldest are forgotten and
 * handed to the engine again on the next run, which skips them by its id
 * map: a cost, never a duplicate.
 */
#define SEEN_MAX 5000

/* ["YYYY-MM-DD HH:MM:SS", id] -> ts, id */
static int read_key(const json_t *key, char *ts, size_t n, long long *id)
{
    long long t;
    const char *text = json_string_value(json_array_get(key, 0));
    json_t *idv = json_array_get(key, 1);
    if (!json_is_array(key) || text == NULL || m2_time_parse(text, &t) != 0 || !json_is_integer(idv)) {
        return -1;
    }
    m2_time_magento(t, ts, n);
    *id = json_integer_value(idv);
    return 0;
}

static int load_since(m2_cursor *cur, const json_t *query, char *why, size_t why_len)
{
    const char *since = m2_str(query, "since");
    long long t;
    if (since == NULL) {
        return 0;
    }
    if (m2_time_parse(since, &t) != 0) {
        snprintf(why, why_len, "query \"since\" must be a UTC time like 2025-01-31T00:00:00Z, not '%s'", since);
        return -1;
    }
    /* inclusive start: strictly after (since - 1 s, any id) */
    m2_time_magento(t - 1, cur->after_ts, sizeof(cur->after_ts));
    cur->after_id = 0x7fffffffffffffffLL;
    cur->has_after = 1;
    return 0;
}

int m2_cursor_load(m2_cursor *cur, const json_t *cursor, const json_t *query, long overlap_seconds, char *why,
                   size_t why_len)
{
    memset(cur, 0, sizeof(*cur));
    cur->overlap = overlap_seconds;
    cur->seen = json_object();
    if (cursor == NULL || json_is_null(cursor)) {
        return load_since(cur, query, why, why_len);
    }
    if (!json_is_object(cursor)) {
        snprintf(why, why_len, "the stored cursor is not a magento2 cursor object");
        return -1;
    }
    json_t *high = json_object_get(cursor, "high");
    json_t *after = json_object_get(cursor, "after");
    if (high != NULL && read_key(high, cur->high_ts, sizeof(cur->high_ts), &cur->high_id) == 0) {
        cur->has_high = 1;
    }
    if (after != NULL && read_key(after, cur->after_ts, sizeof(cur->after_ts), &cur->after_id) == 0) {
        cur->has_after = 1;
    }
    if ((high != NULL && !cur->has_high) || (after != NULL && !cur->has_after)) {
        snprintf(why, why_len, "the stored cursor has a malformed position");
        return -1;
    }
    json_t *seen = json_object_get(cursor, "seen");
    if (json_is_object(seen)) {
        json_object_update(cur->seen, seen);
    }
    if (json_is_true(json_object_get(cursor, "rewind")) && cur->has_high) {
        long long t;
        m2_time_parse(cur->high_ts, &t);
        /* inclusive: strictly after (high - overlap - 1 s, any id) */
        m2_time_magento(t - overlap_seconds - 1, cur->after_ts, sizeof(cur->after_ts));
        cur->after_id = 0x7fffffffffffffffLL;
        cur->has_after = 1;
    }
    return 0;
}

int m2_cursor_search(const m2_cursor *cur, m2_params *p, int first_group, const char *ts_field, const char *id_field)
{
    int group = first_group;
    if (cur->has_after) {
        if (cur->after_id == 0x7fffffffffffffffLL) {
            /* "after (T, infinity)" is simply updated_at > T */
            m2_search_filter(p, group++, ts_field, cur->after_ts, "gt");
        } else {
            char id[32];
            snprintf(id, sizeof(id), "%lld", cur->after_id);
            m2_search_filter(p, group++, ts_field, cur->after_ts, "gteq");
            m2_search_filter(p, group, ts_field, cur->after_ts, "gt");
            m2_search_filter(p, group++, id_field, id, "gt");
        }
    }
    m2_search_sort(p, 0, ts_field, "ASC");
    m2_search_sort(p, 1, id_field, "ASC");
    return group;
}

/* -1, 0, 1 comparing (ts1, id1) with (ts2, id2); the fixed-width time text compares as a string. */
static int key_cmp(const char *ts1, long long id1, const char *ts2, long long id2)
{
    int c = strcmp(ts1, ts2);
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return id1 < id2 ? -1 : id1 > id2;
}

int m2_cursor_accept(m2_cursor *cur, const char *updated_at, long long id)
{
    char ts[20];
    long long t;
    if (m2_time_parse(updated_at, &t) != 0) {
        t = 0;
    }
    m2_time_magento(t, ts, sizeof(ts));
    if (cur->has_after && key_cmp(ts, id, cur->after_ts, cur->after_id) <= 0) {
        return M2_CURSOR_STALE;
    }
    ferry_strlcpy(cur->after_ts, ts, sizeof(cur->after_ts));
    cur->after_id = id;
    cur->has_after = 1;
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%lld", id);
    const char *seen_ts = json_string_value(json_object_get(cur->seen, idtext));
    int already = cur->has_high && key_cmp(ts, id, cur->high_ts, cur->high_id) <= 0 && seen_ts != NULL &&
                  strcmp(seen_ts, ts) == 0;
    if (already) {
        return M2_CURSOR_DROP;
    }
    if (!cur->has_high || key_cmp(ts, id, cur->high_ts, cur->high_id) > 0) {
        ferry_strlcpy(cur->high_ts, ts, sizeof(cur->high_ts));
        cur->high_id = id;
        cur->has_high = 1;
    }
    json_object_set_new(cur->seen, idtext, json_string(ts));
    return M2_CURSOR_EMIT;
}

typedef struct seen_entry {
    const char *id;
    json_t *ts;
} seen_entry;

/* Newest first. */
static int seen_newer_first(const void *a, const void *b)
{
    return strcmp(json_string_value(((const seen_entry *)b)->ts), json_string_value(((const seen_entry *)a)->ts));
}

/* Keep only ids whose time is inside the window below "high", at most SEEN_MAX (the newest). */
static void prune_seen(m2_cursor *cur)
{
    long long high;
    if (!cur->has_high || m2_time_parse(cur->high_ts, &high) != 0) {
        json_object_clear(cur->seen);
        return;
    }
    char floor_ts[20];
    m2_time_magento(high - cur->overlap, floor_ts, sizeof(floor_ts));
    size_t n = 0, cap = json_object_size(cur->seen);
    seen_entry *e = cap ? malloc(cap * sizeof(*e)) : NULL;
    const char *id;
    json_t *tsv;
    json_object_foreach (cur->seen, id, tsv) {
        if (e != NULL && strcmp(json_string_value(tsv), floor_ts) >= 0) {
            e[n].id = id;
            e[n].ts = tsv;
            n++;
        }
    }
    if (n > SEEN_MAX) {
        qsort(e, n, sizeof(*e), seen_newer_first);
        n = SEEN_MAX;
    }
    json_t *kept = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_set(kept, e[i].id, e[i].ts);
    }
    free(e);
    json_decref(cur->seen);
    cur->seen = kept;
}

json_t *m2_cursor_save(m2_cursor *cur, int more)
{
    prune_seen(cur);
    json_t *out = json_object();
    json_object_set_new(out, "v", json_integer(1));
    if (cur->has_after) {
        json_object_set_new(out, "after", json_pack("[s, I]", cur->after_ts, (json_int_t)cur->after_id));
    }
    if (cur->has_high) {
        json_object_set_new(out, "high", json_pack("[s, I]", cur->high_ts, (json_int_t)cur->high_id));
    }
    json_object_set(out, "seen", cur->seen);
    if (!more) {
        json_object_set_new(out, "rewind", json_true());
    }
    return out;
}

void m2_cursor_free(m2_cursor *cur)
{
    json_decref(cur->seen);
    cur->seen = NULL;
}
