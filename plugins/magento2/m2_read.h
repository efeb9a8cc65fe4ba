/*
 * m2_read.h - reading one page of a Magento search endpoint incrementally by
 * (updated_at, id) with the keyset cursor of m2_cursor.h, and looking one
 * record up by a field.  Used for orders, customers and products.
 */
#ifndef M2_READ_H
#define M2_READ_H

#include <ferry/plugin.h>

#include "m2_conn.h"
#include "m2_search.h"

/* Turn one native record into a canonical one (new reference), or NULL with err set. */
typedef json_t *(*m2_decode_fn)(ferry_conn *c, const json_t *native, ferry_error *err);

/* A search endpoint. */
typedef struct m2_listing {
    const char *entity;    /* "order", for messages */
    const char *path;      /* "/orders", "/customers/search", "/products" */
    const char *ts_field;  /* "updated_at" */
    const char *id_field;  /* "entity_id": the id as a filter and sort field */
    const char *native_id; /* "entity_id" or "id": the id in the answer */
    m2_decode_fn decode;
} m2_listing;

/*
 * Read the page after `cursor` (NULL on a first run; the flow `query` gives
 * "since" and "page_size").  `filters` holds the caller's own filter groups
 * 0..first_free_group-1 (e.g. the status filter); the keyset groups are
 * added after them.  Outputs as the plugin ABI's read_page: *records a new
 * array of canonical records, *next_cursor the cursor to store, *more 0
 * after the last page.  A record that cannot be decoded is logged and left
 * out, unless the listing's decode returns a record standing for it (orders:
 * the refused order, see m2_sales.c).
 */
int m2_read_page(ferry_conn *c, const m2_listing *l, m2_params *filters, int first_free_group, const json_t *query,
                 const json_t *cursor, json_t **records, json_t **next_cursor, int *more, ferry_error *err);

/*
 * The first native record of the listing whose `field` equals `value`
 * (eq), or *found NULL when there is none.  *found is a new reference.
 */
int m2_read_find_native(ferry_conn *c, const m2_listing *l, const char *field, const char *value, json_t **found,
                        ferry_error *err);

/* The page size for a flow query: query "page_size" (1..300) or the connection's setting. */
int m2_read_page_size(const ferry_conn *c, const json_t *query);

#endif /* M2_READ_H */
