/*
 * ea_map.h - canonical customer and product (article) <-> eAccounting JSON.
 *
 * to_native builds exactly the body create/update sends (dry runs show it):
 * it writes nothing and reads at most the cached reference data (terms of
 * payment, units, article account codings, company settings).  Text fields
 * go as they are; decimals are parsed and rounded exactly, as ferry_money
 * (money.h).  A record's target_fields are merged into the body last,
 * verbatim, so a mapping can set any eAccounting field (custom fields
 * included).  See doc/eaccounting.md for the field tables.
 *
 * In EA_MAP_UPDATE mode only what the record says is written (no defaults
 * such as the company's terms of payment): update merges it over the
 * object it has just read (PUT replaces the whole object).
 */
#ifndef EA_MAP_H
#define EA_MAP_H

#include <ferry/plugin.h>

enum ea_map_mode { EA_MAP_CREATE = 0, EA_MAP_UPDATE = 1 };

/* CustomerApi body for a canonical customer (*native is new). */
int ea_map_customer_to_native(ferry_conn *c, const json_t *rec, int mode, json_t **native, ferry_error *err);

/* Canonical customer for a CustomerApi object: key = Id, the object itself under "source". */
json_t *ea_map_customer_from_native(const ferry_conn *c, const json_t *native);

/*
 * ArticleApi body for a canonical product.  `existing` is the article as
 * read before an update (NULL on create): its coding prices a record that
 * names no VAT rate, and its other barcodes are kept.
 */
int ea_map_article_to_native(ferry_conn *c, const json_t *rec, const json_t *existing, json_t **native,
                             ferry_error *err);

/* Canonical product for an ArticleApi object (net/gross as decimal strings, ean, vat_rate). */
json_t *ea_map_article_from_native(const ferry_conn *c, const json_t *native);

/*
 * Merge rec[member] ("target_fields") into native, verbatim.  A member that
 * is not an object is FERRY_RECORD_ERROR naming `path` (e.g. "rows[2].target_fields").
 */
int ea_map_merge_target_fields(json_t *native, const json_t *rec, const char *path, ferry_error *err);

/*
 * Write a canonical address as <prefix>Address1/2, <prefix>PostalCode,
 * <prefix>City, <prefix>CountryCode (prefix "Invoice" or "Delivery"); with
 * `name_field` also the printed name into that field.
 */
void ea_map_put_address(json_t *native, const char *prefix, const json_t *addr, const char *name_field);

/* A canonical address from <prefix>* members, or NULL when they are all empty. */
json_t *ea_map_address_from_native(const json_t *native, const char *prefix, const char *name_field);

/* "2026-03-01T10:11:12.123Z" (or without offset) -> "2026-03-01T10:11:12Z" into buf; NULL when malformed. */
const char *ea_map_timestamp(const char *native, char *buf, size_t n);

/* The first n characters of a native date ("2026-03-01T00:00:00" -> "2026-03-01") into buf, or NULL. */
const char *ea_map_date(const char *native, char *buf, size_t n);

#endif /* EA_MAP_H */
