/*
 * ea_records.h - customers and articles: create, update (GET-modify-PUT),
 * find by key, and how read_page reads them.
 *
 * `entity` is "customer", or "article" / "product" (one canonical product
 * is one eAccounting article).  Every find is one request: GET by id, or a
 * list request with a $filter built by ea_filter (a value can never widen
 * the search) and $pagesize=2 (a second match is logged as ambiguous; the
 * first one is returned).
 */
#ifndef EA_RECORDS_H
#define EA_RECORDS_H

#include <ferry/plugin.h>

#include "ea_read.h"

/* True for the entities this module handles. */
int ea_records_handles(const char *entity);

/* True when entity names articles ("article" or "product"). */
int ea_records_is_article(const char *entity);

/* The native body create would send (see ea_map.h). */
int ea_records_to_native(ferry_conn *c, const char *entity, const json_t *rec, json_t **native, ferry_error *err);

/* Canonical record for a native object of `entity`. */
json_t *ea_records_from_native(const ferry_conn *c, const char *entity, const json_t *native);

/* POST the record; *created is the canonical record of the answer (with id). */
int ea_records_create(ferry_conn *c, const char *entity, const json_t *rec, json_t **created, ferry_error *err);

/* GET `id`, merge the record over it, PUT it back; *updated as for create. */
int ea_records_update(ferry_conn *c, const char *entity, const char *id, const json_t *rec, json_t **updated,
                      ferry_error *err);

/*
 * Find by key: customers by id, customer_number, email, vat_number,
 * organisation_number; articles by id, number (sku).  FERRY_OK with
 * *found NULL when there is none.
 */
int ea_records_find(ferry_conn *c, const char *entity, const char *key, const char *value, json_t **found,
                    ferry_error *err);

/* How read_page lists `entity` (by ChangedUtc). */
const ea_read_source *ea_records_source(const char *entity);

#endif /* EA_RECORDS_H */
