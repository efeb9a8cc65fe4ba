/*
 * ea_read.h - reading a list endpoint page by page with an opaque cursor.
 *
 * Incremental reads (customers and articles by ChangedUtc, orders by
 * ModifiedUtc with $filter, customer invoices by the modifiedSinceUtc query
 * parameter) never use page offsets across calls, because offsets shift
 * while records change and skip rows.  Instead each call asks for
 *     <changed> ge <since>   ordered by <changed>, Id
 * from page 1, drops the records it already handed out at exactly <since>
 * (their ids are in the cursor), and moves <since> to the last record's
 * time.  A record changed meanwhile gets a later time and comes again later
 * - never lost, and a re-read is harmless to the engine (id map + payload
 * hash).  Only when more records than a page share one timestamp does the
 * cursor step to the next page of that same query.
 *
 * The cursor is the plugin's own JSON:
 *     {"since": "<server timestamp>", "seen": ["<id>", ...], "page": n}
 * A resource without a change time (invoice drafts) is read in full, page by
 * page: {"page": n}.
 */
#ifndef EA_READ_H
#define EA_READ_H

#include <ferry/plugin.h>

/* How one list endpoint is read. */
typedef struct ea_read_source {
    const char *resource;   /* "customers" */
    const char *changed;    /* change-time member ("ChangedUtc"), NULL = full scan */
    int since_param;        /* use ?modifiedSinceUtc= instead of a $filter */
    const char *scan_order; /* $orderby of a full scan, may be NULL */
} ea_read_source;

/*
 * One page after `cursor` (NULL: from the beginning, or from query.since
 * when the query has one).  *items is a new array of native objects,
 * *next_cursor a new cursor, *more 1 when there is more to read now.
 * `select` (may be NULL: every member) names the native members wanted,
 * comma-separated; Id and the change-time member are always added, since
 * the cursor needs them.
 */
int ea_read_page(ferry_conn *c, const ea_read_source *src, const json_t *query, const json_t *cursor,
                 const char *select, json_t **items, json_t **next_cursor, int *more, ferry_error *err);

/*
 * Pure part of an incremental step: from the page `data` (ordered by the
 * change time), the previous since/seen/page and whether the server has more
 * pages, compute what to hand out (*fresh, new array) and the next cursor.
 */
void ea_read_advance(const json_t *data, const char *changed, const char *since, const json_t *seen, int page,
                     int server_has_more, json_t **fresh, json_t **next_cursor, int *more);

#endif /* EA_READ_H */
