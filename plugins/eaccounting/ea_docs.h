/*
 * ea_docs.h - sales documents: create, find, update, convert, and how
 * read_page reads them.
 *
 * The engine fills the document's customer_id and each article row's
 * article_id before create; when one is missing, this module resolves it
 * with one find (customer_number, or the embedded customer's
 * customer_number; rows' article_number).  When the record says whether its
 * prices include VAT (prices_include_vat) the plugin works out how
 * eAccounting will read them (IncludesVat = private customer and the company
 * does not show prices excl. VAT to private persons) and converts unit prices
 * that disagree, using each row's vat_rate.
 *
 * create answers the canonical result the engine compares with the shop:
 * {id, number, type, external_reference, total, vat, roundings, net,
 * currency, customer_id, ..., native}, amounts as decimal strings; with
 * the record's expect.total it adds total_difference (eAccounting - shop).
 */
#ifndef EA_DOCS_H
#define EA_DOCS_H

#include <ferry/plugin.h>

#include "ea_read.h"

/* The body create would send; may read (ids, the customer), never writes. */
int ea_docs_to_native(ferry_conn *c, const json_t *rec, json_t **native, ferry_error *err);

/* Create the document of the record's type. */
int ea_docs_create(ferry_conn *c, const json_t *rec, json_t **created, ferry_error *err);

/* Replace an order or a draft (invoices are booked and cannot change: FERRY_RECORD_ERROR). */
int ea_docs_update(ferry_conn *c, const char *id, const json_t *rec, json_t **updated, ferry_error *err);

/*
 * Find by external_reference, id or number.  The configured document_type
 * is searched first, then customer invoices (orders and drafts become
 * invoices and keep the reference), then the remaining type; the first match
 * wins.  FERRY_OK with *found NULL when there is none.
 */
int ea_docs_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err);

/*
 * Actions: "convert-draft" {id, keep_original_date, expect_total, expect_vat}
 * books a draft as an invoice; "convert-order" {id} invoices an order.
 * *result is the invoice's canonical result.
 */
int ea_docs_convert(ferry_conn *c, const char *action, const json_t *args, json_t **result, ferry_error *err);

/* How read_page lists documents of `type` (query.type or the document_type setting). */
const ea_read_source *ea_docs_source(int type);

/* The document type read_page and find use: query.type, else the setting. */
int ea_docs_type_for(const ferry_conn *c, const json_t *query);

#endif /* EA_DOCS_H */
