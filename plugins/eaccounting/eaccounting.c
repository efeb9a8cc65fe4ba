/*
 * eaccounting.c - the Visma eAccounting (eEkonomi / Spiris Bokföring &
 * Fakturering) connector plugin: its descriptor and the one exported symbol.
 *
 * Entities: customer, article (alias product) and document (orders,
 * customer invoice drafts, customer invoices).  The work is done by small
 * modules, each with one job: ea_auth/ea_authcode (OAuth2), ea_api (requests,
 * rate buckets, errors), ea_filter (safe $filter), ea_refdata (reference
 * data cache), ea_map/ea_docmap (canonical <-> native), ea_records/ea_docs
 * (operations), ea_read (cursors).  See doc/eaccounting.md.
 *
 * Everything except ferry_plugin_entry is static or hidden
 * (-fvisibility=hidden); the plugin uses the host table and Jansson only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <ferry/plugin.h>

#include "ea_api.h"
#include "ea_auth.h"
#include "ea_conn.h"
#include "ea_docmap.h"
#include "ea_docs.h"
#include "ea_read.h"
#include "ea_records.h"
#include "ea_refdata.h"
#include "plugin_util.h"

#define EA_PLUGIN_VERSION "0.1.0"

/* Operations that can be called with err == NULL get a local one. */
#define LOCAL_ERROR(err)                                                                                               \
    ferry_error local_err_;                                                                                            \
    if ((err) == NULL) {                                                                                               \
        ferry_error_clear(&local_err_);                                                                                \
        (err) = &local_err_;                                                                                           \
    }

static int unknown_entity(const char *entity, ferry_error *err)
{
    return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                           "eaccounting: unknown entity '%s' (customer, article, product, document)",
                           entity ? entity : "(none)");
}

static int is_document(const char *entity)
{
    return entity != NULL && strcmp(entity, "document") == 0;
}

/* ---- open / close / test ------------------------------------------------------------------- */

static int ea_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **conn, ferry_error *err)
{
    LOCAL_ERROR(err);
    int rc = ea_conn_create(host, hc, conn, err);
    if (rc == FERRY_OK) {
        ea_refdata_load(*conn); /* from the store only: open does no network I/O */
    }
    return rc;
}

static void ea_close(ferry_conn *conn)
{
    ea_conn_destroy(conn);
}

static void set_str(json_t *info, const char *key, const json_t *company, const char *member)
{
    plugin_json_set_str(info, key, plugin_json_str(company, member));
}

static int ea_test(ferry_conn *c, json_t **info, ferry_error *err)
{
    LOCAL_ERROR(err);
    *info = NULL;
    json_t *company = NULL;
    ea_request rq = {"GET", "/companysettings", NULL, NULL, "read company settings", NULL, 0};
    int rc = ea_api_call(c, &rq, &company, NULL, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *out = json_object();
    set_str(out, "company", company, "Name");
    set_str(out, "organisation_number", company, "CorporateIdentityNumber");
    set_str(out, "vat_number", company, "VatCode");
    set_str(out, "country", company, "CountryCode");
    set_str(out, "currency", company, "CurrencyCode");
    set_str(out, "company_id", company, "CompanyIdentifier");
    static const char *const variants[] = {
        "?", "Standard", "Invoicing", "Bookkeeping", "Solo", "Pro", "InvoicingCollaboration"};
    json_t *variant = json_object_get(company, "ProductVariant");
    if (json_is_integer(variant) && json_integer_value(variant) >= 1 && json_integer_value(variant) <= 6) {
        json_object_set_new(out, "product_variant", json_string(variants[json_integer_value(variant)]));
    }
    json_t *status = json_object_get(company, "CompanyStatus");
    if (json_is_integer(status)) {
        static const char *const states[] = {"inactive", "active", "read-only"};
        json_int_t s = json_integer_value(status);
        json_object_set_new(out, "company_status", json_string(s >= 0 && s <= 2 ? states[s] : "?"));
    }
    json_object_set_new(out, "prices_excl_vat_for_private",
                        json_boolean(json_is_true(json_object_get(company, "ShowPricesExclVatPC"))));
    json_object_set_new(out, "uses_oss", json_boolean(json_is_true(json_object_get(company, "UsesMoss"))));
    json_object_set(out, "activated_modules", json_object_get(company, "ActivatedModules"));
    plugin_json_set_str(out, "api", c->api_base);
    json_decref(company);
    *info = out;
    return FERRY_OK;
}

/* ---- read / find / create / update ------------------------------------------------------------ */

static json_t *canonical_of(const ferry_conn *c, const char *entity, int doc_type, const json_t *native)
{
    if (is_document(entity)) {
        return ea_docmap_from_native(c, doc_type, native, 0);
    }
    return ea_records_from_native(c, entity, native);
}

static int ea_read_page_op(ferry_conn *c, const char *entity, const json_t *query, const json_t *cursor,
                           json_t **records, json_t **next_cursor, int *more, ferry_error *err)
{
    LOCAL_ERROR(err);
    *records = NULL;
    *next_cursor = NULL;
    *more = 0;
    int doc_type = is_document(entity) ? ea_docs_type_for(c, query) : -1;
    const ea_read_source *src = is_document(entity) ? ea_docs_source(doc_type) : ea_records_source(entity);
    if (src == NULL) {
        return unknown_entity(entity, err);
    }
    if (doc_type < 0 && is_document(entity)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "document_type", "eaccounting: unknown document type");
    }
    /* An article's vat_rate comes from its coding: have the codings at hand (cached for a day). */
    if (ea_records_is_article(entity) && ea_refdata_require(c, err) != FERRY_OK) {
        return err->status;
    }
    /* A caller that only indexes documents (the engine's prefetch) gets slim records: a page of
     * 1,000 whole drafts is ~5 MB of JSON, their index members ~130 KB. */
    int index_only = doc_type >= 0 && ea_docmap_index_only(json_object_get(query, "fields"));
    char *select = index_only ? ea_docmap_index_select(c, doc_type) : NULL;
    json_t *natives = NULL;
    int rc = ea_read_page(c, src, query, cursor, select, &natives, next_cursor, more, err);
    free(select);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *out = json_array();
    size_t i;
    json_t *n;
    json_array_foreach (natives, i, n) {
        json_array_append_new(out,
                              index_only ? ea_docmap_index_of(c, doc_type, n) : canonical_of(c, entity, doc_type, n));
    }
    json_decref(natives);
    *records = out;
    return FERRY_OK;
}

static int ea_find(ferry_conn *c, const char *entity, const char *key, const char *value, json_t **found,
                   ferry_error *err)
{
    LOCAL_ERROR(err);
    *found = NULL;
    if (is_document(entity)) {
        return ea_docs_find(c, key, value, found, err);
    }
    if (!ea_records_handles(entity)) {
        return unknown_entity(entity, err);
    }
    return ea_records_find(c, entity, key, value, found, err);
}

static int ea_create(ferry_conn *c, const char *entity, const json_t *record, json_t **created, ferry_error *err)
{
    LOCAL_ERROR(err);
    *created = NULL;
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "eaccounting: the record is not an object");
    }
    if (is_document(entity)) {
        return ea_docs_create(c, record, created, err);
    }
    if (!ea_records_handles(entity)) {
        return unknown_entity(entity, err);
    }
    return ea_records_create(c, entity, record, created, err);
}

static int ea_update(ferry_conn *c, const char *entity, const char *id, const json_t *record, json_t **updated,
                     ferry_error *err)
{
    LOCAL_ERROR(err);
    *updated = NULL;
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "eaccounting: the record is not an object");
    }
    if (is_document(entity)) {
        return ea_docs_update(c, id, record, updated, err);
    }
    if (!ea_records_handles(entity)) {
        return unknown_entity(entity, err);
    }
    return ea_records_update(c, entity, id, record, updated, err);
}

/* ---- pure hooks ------------------------------------------------------------------------------------ */

static int ea_to_native(ferry_conn *c, const char *entity, const json_t *record, json_t **native, ferry_error *err)
{
    LOCAL_ERROR(err);
    *native = NULL;
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "eaccounting: the record is not an object");
    }
    if (is_document(entity)) {
        return ea_docs_to_native(c, record, native, err);
    }
    if (!ea_records_handles(entity)) {
        return unknown_entity(entity, err);
    }
    return ea_records_to_native(c, entity, record, native, err);
}

static int ea_from_native(ferry_conn *c, const char *entity, const json_t *native, json_t **record, ferry_error *err)
{
    LOCAL_ERROR(err);
    *record = NULL;
    if (!json_is_object(native)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "eaccounting: the native record is not an object");
    }
    if (is_document(entity)) {
        /* the type from the object's shape: orders have Number, invoices InvoiceNumber */
        int type = json_object_get(native, "InvoiceNumber") != NULL ? EA_DOC_INVOICE
                   : json_object_get(native, "OrderDate") != NULL   ? EA_DOC_ORDER
                                                                    : EA_DOC_DRAFT;
        *record = ea_docmap_from_native(c, type, native, 0);
        return FERRY_OK;
    }
    if (!ea_records_handles(entity)) {
        return unknown_entity(entity, err);
    }
    *record = ea_records_from_native(c, entity, native);
    return FERRY_OK;
}

/* ---- authorize and actions ------------------------------------------------------------------------- */

static int ea_authorize(const ferry_host *host, ferry_host_conn *hc, ferry_error *err)
{
    LOCAL_ERROR(err);
    return ea_auth_authorize(host, hc, err);
}

/* The cached list named by args.kind (or the list of kinds). */
static int show_reference_data(ferry_conn *c, const json_t *args, json_t **result, ferry_error *err)
{
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *kind = plugin_json_str(args, "kind");
    if (kind == NULL) {
        *result = json_pack("{s:O, s:O}", "fetched_at", json_object_get(c->refdata, "fetched_at"), "company",
                            json_object_get(c->refdata, "companysettings"));
        return FERRY_OK;
    }
    const json_t *list = strcmp(kind, "companysettings") == 0 ? ea_refdata_company(c) : ea_refdata_list(c, kind);
    if (list == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "kind",
                               "eaccounting: no reference data '%s' (termsofpayments, units, articleaccountcodings, "
                               "countries, currencies, deliverymethods, deliveryterms, fiscalyears, vatcodes, "
                               "accounts, companysettings)",
                               kind);
    }
    *result = json_deep_copy(list);
    return FERRY_OK;
}

static const ferry_action_spec actions[] = {
    {"refresh-reference-data",
     "re-read VAT codes, terms of payment, units, account codings, countries, currencies, delivery methods and "
     "terms, fiscal years, accounts and company settings"},
    {"reference-data", "show cached reference data: --arg kind=termsofpayments|units|articleaccountcodings|..."},
    {"convert-draft",
     "book an invoice draft: --arg id=DRAFT_ID [--arg keep_original_date=true] [--arg expect_total=N --arg "
     "expect_vat=N]"},
    {"convert-order", "invoice an order: --arg id=ORDER_ID"},
    {NULL, NULL},
};

static int ea_action(ferry_conn *c, const char *name, const json_t *args, json_t **result, ferry_error *err)
{
    LOCAL_ERROR(err);
    *result = NULL;
    if (name != NULL && strcmp(name, "refresh-reference-data") == 0) {
        return ea_refdata_refresh(c, result, err);
    }
    if (name != NULL && strcmp(name, "reference-data") == 0) {
        return show_reference_data(c, args, result, err);
    }
    if (name != NULL && (strcmp(name, "convert-draft") == 0 || strcmp(name, "convert-order") == 0)) {
        return ea_docs_convert(c, name, args, result, err);
    }
    return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "eaccounting: unknown action '%s'", name ? name : "");
}

/* ---- the descriptor ---------------------------------------------------------------------------------- */

static const ferry_entity_spec entities[] = {
    {"customer", FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE,
     "id|customer_number|email|vat_number|organisation_number|key", "eAccounting customer (debtor)"},
    {"article", FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE, "id|number|sku|key",
     "eAccounting article (a canonical product; number = SKU)"},
    {"product", FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE, "id|number|sku|key",
     "same as article"},
    {"document", FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE, "external_reference|id|number|key",
     "sales document: order, customer invoice draft or customer invoice (the record's type)"},
    {NULL, 0, NULL, NULL},
};

static const ferry_plugin_descriptor descriptor = {
    FERRY_PLUGIN_DESCRIPTOR_HEADER,
    .name = "eaccounting",
    .version = EA_PLUGIN_VERSION,
    .description = "Visma eAccounting / eEkonomi (Spiris Bokföring & Fakturering) API v2",
    .entities = entities,
    .settings = ea_settings,
    .open = ea_open,
    .test = ea_test,
    .read_page = ea_read_page_op,
    .find = ea_find,
    .create = ea_create,
    .update = ea_update,
    .close = ea_close,
    .to_native = ea_to_native,
    .from_native = ea_from_native,
    .authorize = ea_authorize,
    .actions = actions,
    .action = ea_action,
};

/*
 * The plugin's one exported symbol: checks the host's ABI major and that its
 * table has every function this plugin calls, then returns the descriptor
 * (static, never freed).  NULL refuses a host that does not fit.
 */
FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    if (host == NULL || host->abi_major != FERRY_PLUGIN_ABI_MAJOR || !FERRY_HOST_HAS(host, prompt)) {
        return NULL;
    }
    return &descriptor;
}
