/*
 * m2_sales.h - the order operations: incremental reading (with the flow's
 * status filter), lookups by number or id, and the order comment (with an
 * optional status change) written back once an order is synced.
 */
#ifndef M2_SALES_H
#define M2_SALES_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/*
 * read_page for "order": query {"statuses": [...], "since": "...",
 * "page_size": N} (all optional).  See m2_read.h for the outputs.
 */
int m2_orders_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                   int *more, ferry_error *err);

/* find for "order" by "number" (increment_id) or "id" (entity_id); *found NULL when there is none. */
int m2_orders_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err);

/*
 * The statusHistory body for a canonical order comment
 * {order_id | number, comment, status?, notify?, visible_on_front?}, for
 * order entity id `order_id`.  New reference, or NULL with a record error.
 */
json_t *m2_order_comment_payload(const json_t *record, long long order_id, ferry_error *err);

/*
 * create for "order_comment": resolve the order (order_id, or number),
 * POST /V1/orders/{id}/comments, and when a status was asked for, read the
 * order's status back.  *created = {"id": order id, "order_id", "number"?,
 * "status", "status_applied": bool}; a status Magento did not apply (it must
 * belong to the order's state on 2.4.7+) is logged as a warning, not an
 * error, since the comment itself was written.
 */
int m2_order_comment_create(ferry_conn *c, const json_t *record, json_t **created, ferry_error *err);

#endif /* M2_SALES_H */
