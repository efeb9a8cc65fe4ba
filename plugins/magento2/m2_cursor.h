/*
 * m2_cursor.h - the incremental-read cursor for entities with updated_at and
 * a numeric id (orders, customers, products), and the page loop that uses it.
 *
 * The cursor (opaque JSON the engine stores once a page is settled):
 *
 *   {"v": 1,
 *    "after": ["2025-10-04 04:42:41", 5],   keyset position: the next page
 *                                           starts strictly after this key
 *    "high":  ["2025-10-04 04:42:41", 6],   the highest key handed out so far
 *    "seen":  {"5": "2025-10-04 04:42:41", ...}  ids handed out whose
 *                                           updated_at is within the overlap
 *                                           window below "high" (max 5000)
 *    "rewind": true}                        set when a run reached the end
 *
 * Pages are read by keyset, never by offset: sort updated_at ASC, entity_id
 * ASC, filter (updated_at >= T) AND (updated_at > T OR entity_id > id) for
 * the position (T, id), always currentPage 1.  Orders sharing one updated_at
 * second are thus never skipped or repeated across pages, a record updated
 * during the run moves behind the position and is read again later, and
 * Magento <= 2.3's "repeat the last page" quirk cannot loop.  A page whose
 * records are not after the position (a server ignoring the filter) ends the
 * read.
 *
 * Each new run (rewind) starts again overlap seconds before "high",
 * inclusive, so an order committed late with an older updated_at is still
 * found; records in that window that were already handed out (same id,
 * same updated_at, listed in "seen") are dropped, so re-reads cost a request
 * but produce no duplicate.  If "seen" overflowed, a re-read may hand out a
 * record again, which the engine's id map makes harmless.
 *
 * With no cursor the read starts at query "since" (ISO or Magento time) or
 * at the beginning.
 */
#ifndef M2_CURSOR_H
#define M2_CURSOR_H

#include <jansson.h>

#include "m2_search.h"

typedef struct m2_cursor {
    char after_ts[20];
    long long after_id;
    int has_after;
    char high_ts[20];
    long long high_id;
    int has_high;
    json_t *seen; /* object id -> updated_at */
    long overlap;
} m2_cursor;

/*
 * Load a cursor (NULL = first run) and the flow query's "since" into *cur
 * (free with m2_cursor_free).  A rewind cursor becomes the overlap start.
 * Returns 0, or -1 with a message in why (>= 128 bytes) when the cursor or
 * "since" cannot be read.
 */
int m2_cursor_load(m2_cursor *cur, const json_t *cursor, const json_t *query, long overlap_seconds, char *why,
                   size_t why_len);

/*
 * Add the keyset filters (groups from `first_group` on) and the sort orders
 * on `ts_field`, `id_field` to a search.  Returns the next free group index.
 */
int m2_cursor_search(const m2_cursor *cur, m2_params *p, int first_group, const char *ts_field, const char *id_field);

/* m2_cursor_accept answers */
#define M2_CURSOR_EMIT 1   /* new or changed: hand it out */
#define M2_CURSOR_DROP 0   /* already handed out in an earlier run */
#define M2_CURSOR_STALE -1 /* not after the position: the server ignored the filter */

/* Decide about one record of a page, in page order, and advance the position. */
int m2_cursor_accept(m2_cursor *cur, const char *updated_at, long long id);

/* The cursor to store after this page (new reference); `more` 0 marks the end of a run (rewind). */
json_t *m2_cursor_save(m2_cursor *cur, int more);

void m2_cursor_free(m2_cursor *cur);

#endif /* M2_CURSOR_H */
