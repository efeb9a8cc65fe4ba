/*
 * m2_customer.h - Magento customers (CustomerInterface) as ferry's canonical
 * customer, read incrementally by updated_at and found by email or id.
 */
#ifndef M2_CUSTOMER_H
#define M2_CUSTOMER_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/*
 * A canonical customer from a native one (pure): key and id = the customer
 * id, invoice/delivery addresses = the default billing/shipping address,
 * company and VAT number from the customer's taxvat or that address,
 * group, custom attributes under "attributes".  New reference, or NULL with
 * a record error when the id is missing.
 */
json_t *m2_customer_decode(const json_t *native, ferry_error *err);

/* read_page for "customer" (query: "since", "page_size"). */
int m2_customers_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                      int *more, ferry_error *err);

/* find for "customer" by "email" or "id"; *found NULL when there is none. */
int m2_customers_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err);

#endif /* M2_CUSTOMER_H */
