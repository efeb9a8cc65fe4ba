/*
 * ea_docmap.h - canonical documents <-> eAccounting orders, customer invoice
 * drafts and customer invoices.
 *
 * The canonical document's `type` picks the native kind:
 *   order          POST /v2/orders                 (OrderApi, status 2 Ongoing)
 *   invoice_draft  POST /v2/customerinvoicedrafts  (CustomerInvoiceDraftApi)
 *   invoice        POST /v2/customerinvoices       (CustomerInvoiceApi, booked at once)
 * The external reference (the shop's order number) goes into the field the
 * external_reference_field setting names (BuyersOrderReference by default;
 * it exists on all three kinds, is carried over when an order or a draft
 * becomes an invoice, and can be filtered on), so find can search for it.
 *
 * Totals come back as canonical decimal strings (2 decimals):
 *   total = what the customer pays (incl. VAT and öresavrundning),
 *   vat, roundings, net = total - vat - roundings, in the document currency.
 * Pure apart from the cached reference data (ea_refdata).
 */
#ifndef EA_DOCMAP_H
#define EA_DOCMAP_H

#include <ferry/plugin.h>

enum ea_doc_type { EA_DOC_ORDER = 0, EA_DOC_DRAFT = 1, EA_DOC_INVOICE = 2 };

#define EA_DOC_TYPES 3

/* "order" | "invoice_draft" | "invoice" -> enum, -1 for anything else. */
int ea_doc_type_parse(const char *s);

/* The canonical name / the list endpoint of a type. */
const char *ea_doc_type_name(int type);
const char *ea_doc_resource(int type);

/*
 * The native body for a canonical document whose customer_id and rows'
 * article_id are filled in (ea_docs resolves them).  `includes_vat` is what
 * eAccounting will assume for the unit prices (1 gross, 0 net, -1 unknown):
 * when the record's prices_include_vat says otherwise, each article row is
 * converted with its vat_rate (percent), which it then must have.
 */
int ea_docmap_to_native(ferry_conn *c, const json_t *rec, int type, int includes_vat, json_t **native,
                        ferry_error *err);

/*
 * The canonical view of a native document: {key, id, number, type,
 * external_reference, date, currency, customer_id, customer_number, total,
 * vat, roundings, net, includes_vat, rows[...]} plus the native object under
 * "native" (with_native) or "source".
 */
json_t *ea_docmap_from_native(const ferry_conn *c, int type, const json_t *native, int with_native);

/*
 * The native members an index of documents needs ("InvoiceNumber,
 * BuyersOrderReference"): a $select for reads whose caller asked only for
 * the index fields (see ea_docmap_index_only).  Returns a new string.
 */
char *ea_docmap_index_select(const ferry_conn *c, int type);

/* Whether `fields` (the query's "fields" hint, may be NULL) asks for index fields only. */
int ea_docmap_index_only(const json_t *fields);

/* The index view of a native document: {key, id, number, type, external_reference} (new object). */
json_t *ea_docmap_index_of(const ferry_conn *c, int type, const json_t *native);

#endif /* EA_DOCMAP_H */
