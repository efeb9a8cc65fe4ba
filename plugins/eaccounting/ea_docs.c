/* ea_docs.c - sales documents: create, find, update, convert (see ea_docs.h). */
#include "config.h"

#include "ea_docs.h"

#include <stdlib.h>
#include <string.h>

#include "ea_api.h"
#include "ea_conn.h"
#include "ea_docmap.h"
#include "ea_filter.h"
#include "ea_records.h"
#include "ea_refdata.h"
#include "ea_str.h"
#include "money.h"
#include "plugin_util.h"
#include "util.h"

static const char *const doc_read_only[] = {"Id",
                                            "CreatedUtc",
                                            "ModifiedUtc",
                                            "Number",
                                            "CustomerNumber",
                                            "CustomerName",
                                            "CustomerIsPrivatePerson",
                                            "IncludesVat",
                                            "DeliveryTermId",
                                            "DeliveryMethodId",
                                            "SalesDocumentAttachments",
                                            "MessageThreads",
                                            "Notes",
                                            "MaxAllowedTaxReductionAmount",
                                            "RotReducedInvoicingPercent",
                                            "IsNotDelivered",
                                            "CreatedFromQuoteId",
                                            "BackgroundId",
                                            "InvoiceCustomerName",
                                            "InvoicePostalCode",
                                            "InvoiceCity",
                                            "InvoiceCountryCode",
                                            "InvoiceCurrencyCode",
                                            "TotalAmount",
                                            "TotalVatAmount",
                                            "TotalRoundings",
                                            "TotalAmountBaseCurrency",
                                            "TotalVatAmountBaseCurrency",
                                            NULL};

static const ea_read_source sources[EA_DOC_TYPES] = {
    {"orders", "ModifiedUtc", 0, NULL},
    {"customerinvoicedrafts", "CreatedUtc", 0, NULL}, /* drafts have no change time: new ones only */
    {"customerinvoices", "ModifiedUtc", 1, NULL},
};

const ea_read_source *ea_docs_source(int type)
{
    return type >= 0 && type < EA_DOC_TYPES ? &sources[type] : NULL;
}

int ea_docs_type_for(const ferry_conn *c, const json_t *query)
{
    int t = ea_doc_type_parse(plugin_json_str(query, "type"));
    return t >= 0 ? t : ea_doc_type_parse(c->document_type);
}

static int record_type(const json_t *rec, ferry_error *err)
{
    const char *name = plugin_json_str(rec, "type");
    int t = ea_doc_type_parse(name);
    if (t < 0) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "type",
                               "eaccounting: document type '%s' is not one of order, invoice_draft, invoice",
                               name ? name : "(none)");
    }
    return t;
}

/* ---- resolving ids ------------------------------------------------------------------------------ */

static int resolve_customer(ferry_conn *c, json_t *rec, ferry_error *err)
{
    if (!ea_str_blank(plugin_json_str(rec, "customer_id"))) {
        return FERRY_OK;
    }
    const char *number = plugin_json_str(rec, "customer_number");
    if (ea_str_blank(number)) {
        number = plugin_json_str(json_object_get(rec, "customer"), "customer_number");
    }
    if (ea_str_blank(number)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "customer_id",
                               "eaccounting: the document names no customer (customer_id or customer_number)");
    }
    json_t *found = NULL;
    int rc = ea_records_find(c, "customer", "customer_number", number, &found, err);
    if (rc == FERRY_OK && found == NULL) {
        rc = ferry_error_set(err, FERRY_RECORD_ERROR, "customer_number",
                             "eaccounting: there is no customer with customer number '%s' in eAccounting", number);
    }
    if (rc == FERRY_OK) {
        json_object_set_new(rec, "customer_id", json_string(plugin_json_str(found, "id")));
    }
    json_decref(found);
    return rc;
}

static int resolve_articles(ferry_conn *c, json_t *rec, ferry_error *err)
{
    json_t *known = json_object(); /* article number -> id within this record */
    size_t i;
    json_t *row;
    int rc = FERRY_OK;
    json_array_foreach (json_object_get(rec, "rows"), i, row) {
        const char *number = plugin_json_str(row, "article_number");
        if (!ea_str_blank(plugin_json_str(row, "article_id")) || ea_str_blank(number)) {
            continue;
        }
        const char *id = plugin_json_str(known, number);
        json_t *found = NULL;
        if (id == NULL) {
            rc = ea_records_find(c, "article", "number", number, &found, err);
            if (rc != FERRY_OK) {
                break;
            }
            if (found == NULL) {
                char field[64];
                snprintf(field, sizeof(field), "rows[%zu].article_number", i);
                rc = ferry_error_set(err, FERRY_RECORD_ERROR, field,
                                     "eaccounting: %s: there is no article '%s' in eAccounting", field, number);
                break;
            }
            json_object_set_new(known, number, json_string(plugin_json_str(found, "id")));
            id = plugin_json_str(known, number);
        }
        json_object_set_new(row, "article_id", json_string(id));
        json_decref(found);
    }
    json_decref(known);
    return rc;
}

/*
 * What the document needs to know about its customer: company or private
 * person (how eAccounting reads unit prices) and currency (drafts and
 * invoices take the customer's).  From the record's customer when it has one,
 * else read once per connection and cached (a default debtor is the same
 * customer for every order).
 */
static int customer_facts(ferry_conn *c, const json_t *rec, int *is_company, const char **currency, ferry_error *err)
{
    const json_t *cust = json_object_get(rec, "customer");
    *is_company = ea_json_bool(cust, "is_company");
    *currency = plugin_json_str(cust, "currency");
    if (*is_company >= 0 && *currency != NULL) {
        return FERRY_OK;
    }
    const char *id = plugin_json_str(rec, "customer_id");
    if (ea_str_blank(id)) {
        return FERRY_OK;
    }
    if (c->customer_facts == NULL) {
        c->customer_facts = json_object();
    }
    json_t *facts = json_object_get(c->customer_facts, id);
    if (facts == NULL) {
        json_t *found = NULL;
        int rc = ea_records_find(c, "customer", "id", id, &found, err);
        if (rc != FERRY_OK) {
            return rc;
        }
        facts = json_pack("{s:b, s:s?}", "is_company", found != NULL && ea_json_bool(found, "is_company") == 1,
                          "currency", found ? plugin_json_str(found, "currency") : NULL);
        json_object_set_new(c->customer_facts, id, facts);
        json_decref(found);
    }
    if (*is_company < 0) {
        *is_company = json_is_true(json_object_get(facts, "is_company"));
    }
    if (*currency == NULL) {
        *currency = plugin_json_str(facts, "currency");
    }
    return FERRY_OK;
}

/*
 * How eAccounting reads this document's unit prices: 1 incl. VAT, 0 excl.,
 * -1 when the record does not say what its prices are (no conversion).
 */
static int includes_vat_for(ferry_conn *c, const json_t *rec, int is_company, int *includes, ferry_error *err)
{
    *includes = -1;
    if (ea_json_bool(rec, "prices_include_vat") < 0) {
        return FERRY_OK;
    }
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    int excl_for_private = json_is_true(json_object_get(ea_refdata_company(c), "ShowPricesExclVatPC"));
    *includes = !is_company && !excl_for_private;
    return FERRY_OK;
}

/*
 * Drafts and invoices are in their customer's currency whatever the record
 * says: a EUR order on a SEK customer would become a SEK invoice of EUR
 * amounts.  Refuse it before anything is booked.  (Orders take CurrencyCode.)
 */
static int check_currency_before(int type, const json_t *rec, const char *customer_currency, ferry_error *err)
{
    const char *cur = plugin_json_str(rec, "currency");
    if (type == EA_DOC_ORDER || ea_str_blank(cur) || ea_str_blank(customer_currency) ||
        ferry_streq_nocase(cur, customer_currency)) {
        return FERRY_OK;
    }
    return ferry_error_set(err, FERRY_RECORD_ERROR, "currency",
                           "eaccounting: the record is in %s but its customer's currency is %s, and eAccounting "
                           "makes drafts and invoices in the customer's currency; use a customer in %s (for example "
                           "one default customer per currency) or send orders instead",
                           cur, customer_currency, cur);
}

/* Warn when the document took another currency than the record asked for (the customer's decides). */
static void check_currency(ferry_conn *c, const json_t *rec, const json_t *result)
{
    const char *cur = plugin_json_str(rec, "currency");
    const char *doc_cur = plugin_json_str(result, "currency");
    if (!ea_str_blank(cur) && doc_cur != NULL && !ferry_streq_nocase(cur, doc_cur)) {
        c->host->log(c->hc, FERRY_LOG_WARN,
                     "eaccounting: the document is in %s but the record is in %s (drafts and invoices take the "
                     "customer's currency)",
                     doc_cur, cur);
    }
}

/*
 * The coding field holding the revenue account eAccounting books a row on
 * for a VAT handling (what orders.lua puts in vat_handling), or NULL.
 */
static const char *revenue_account_field(const char *handling, int vat_free, int company_uses_oss)
{
    if (handling == NULL) {
        return NULL;
    }
    if (strcmp(handling, "domestic") == 0) {
        return vat_free ? "DomesticSalesVatExemptAccountNumber" : "DomesticSalesSubjectToVatAccountNumber";
    }
    if (strcmp(handling, "eu_reverse_charge") == 0) {
        return "ForeignSalesVatExemptWithinEuAccountNumber";
    }
    if (strcmp(handling, "eu_oss") == 0) {
        return company_uses_oss ? "ForeignSalesSubjectToMossAccountNumber"
                                : "ForeignSalesSubjectToVatWithinEuAccountNumber";
    }
    if (strcmp(handling, "export") == 0) {
        return "ForeignSalesVatExemptOutsideEuAccountNumber";
    }
    return NULL;
}

/* The coding of an article (borrowed from reference data), cached per connection by article id. */
static int article_coding(ferry_conn *c, const char *article_id, const json_t **coding, ferry_error *err)
{
    *coding = NULL;
    if (c->article_codings == NULL) {
        c->article_codings = json_object();
    }
    const char *name = plugin_json_str(c->article_codings, article_id);
    if (name == NULL) {
        json_t *article = NULL;
        int rc = ea_records_find(c, "article", "id", article_id, &article, err);
        if (rc != FERRY_OK) {
            return rc;
        }
        json_object_set_new(
            c->article_codings, article_id,
            json_string(article && plugin_json_str(article, "coding") ? plugin_json_str(article, "coding") : ""));
        json_decref(article);
        name = plugin_json_str(c->article_codings, article_id);
    }
    if (name != NULL && name[0]) {
        *coding = ea_refdata_find(ea_refdata_list(c, EA_REF_CODINGS), EA_REF_CODINGS, name);
    }
    return FERRY_OK;
}

/*
 * Revenue accounts per country: eAccounting picks a row's account from the
 * article's coding and the sales scenario, and takes no account on sales
 * rows.  When the record says which account its sales must land on
 * (expect.revenue_account, from the revenue_accounts value map) and under
 * which VAT handling, check every article row's coding books it there, and
 * refuse the document otherwise - before anything is booked on a wrong account.
 */
static int check_revenue_accounts(ferry_conn *c, const json_t *rec, ferry_error *err)
{
    const json_t *expect = json_object_get(rec, "expect");
    const char *single = plugin_json_str(expect, "revenue_account");
    const json_t *by_rate = json_object_get(expect, "revenue_accounts"); /* "25" -> account */
    const char *handling = plugin_json_str(rec, "vat_handling");
    if ((ea_str_blank(single) && !json_is_object(by_rate)) || ea_str_blank(handling)) {
        return FERRY_OK;
    }
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    int uses_oss = json_is_true(json_object_get(ea_refdata_company(c), "UsesMoss"));
    size_t i;
    json_t *row;
    json_array_foreach (json_object_get(rec, "rows"), i, row) {
        const char *kind = plugin_json_str(row, "kind");
        const char *article_id = plugin_json_str(row, "article_id");
        if (ea_str_blank(article_id) || (kind != NULL && strcmp(kind, "rounding") == 0)) {
            continue;
        }
        const json_t *coding = NULL;
        if ((rc = article_coding(c, article_id, &coding, err)) != FERRY_OK) {
            return rc;
        }
        if (coding == NULL) {
            continue;
        }
        ferry_money rate = ferry_money_from_int(0);
        ea_refdata_coding_rate(coding, &rate);
        char pct[FERRY_MONEY_STRLEN];
        ea_refdata_rate_percent(rate, 0, pct, sizeof(pct));
        const char *want = plugin_json_str(by_rate, pct) ? plugin_json_str(by_rate, pct) : single;
        if (ea_str_blank(want)) {
            continue;
        }
        const char *field = revenue_account_field(handling, rate.units == 0, uses_oss);
        if (field == NULL) {
            char f[64];
            snprintf(f, sizeof(f), "vat_handling");
            return ferry_error_set(
                err, FERRY_RECORD_ERROR, f,
                "eaccounting: unknown VAT handling '%s' (domestic, eu_reverse_charge, eu_oss, export)", handling);
        }
        json_t *acct = json_object_get(coding, field);
        char have[32] = "";
        if (json_is_integer(acct)) {
            snprintf(have, sizeof(have), "%" JSON_INTEGER_FORMAT, json_integer_value(acct));
        } else if (json_is_string(acct)) {
            snprintf(have, sizeof(have), "%s", json_string_value(acct));
        }
        if (strcmp(have, want) != 0) {
            char f[64];
            snprintf(f, sizeof(f), "rows[%zu].article_number", i);
            return ferry_error_set(err, FERRY_RECORD_ERROR, f,
                                   "eaccounting: article %s has the coding '%s', which books %s sales on account %s, "
                                   "but the revenue_accounts map says %s: change the coding in eAccounting or the map",
                                   plugin_json_str(row, "article_number") ? plugin_json_str(row, "article_number")
                                                                          : "?",
                                   plugin_json_str(coding, "Name") ? plugin_json_str(coding, "Name") : "?", handling,
                                   have[0] ? have : "(none)", want);
        }
    }
    return FERRY_OK;
}

/* Resolve ids into a copy of the record and build the body. */
static int prepare(ferry_conn *c, const json_t *rec, int *type, json_t **native, ferry_error *err)
{
    *native = NULL;
    *type = record_type(rec, err);
    if (*type < 0) {
        return FERRY_RECORD_ERROR;
    }
    json_t *copy = json_deep_copy(rec);
    int includes = -1;
    int rc =
        copy ? resolve_customer(c, copy, err) : ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    if (rc == FERRY_OK) {
        rc = resolve_articles(c, copy, err);
    }
    if (rc == FERRY_OK) {
        rc = check_revenue_accounts(c, copy, err);
    }
    int is_company = 0;
    const char *customer_currency = NULL;
    if (rc == FERRY_OK) {
        rc = customer_facts(c, copy, &is_company, &customer_currency, err);
    }
    if (rc == FERRY_OK) {
        rc = check_currency_before(*type, copy, customer_currency, err);
    }
    if (rc == FERRY_OK) {
        rc = includes_vat_for(c, copy, is_company, &includes, err);
    }
    if (rc == FERRY_OK) {
        rc = ea_docmap_to_native(c, copy, *type, includes, native, err);
    }
    json_decref(copy);
    return rc;
}

int ea_docs_to_native(ferry_conn *c, const json_t *rec, json_t **native, ferry_error *err)
{
    int type;
    return prepare(c, rec, &type, native, err);
}

/* ---- create --------------------------------------------------------------------------------------- */

int ea_docs_create(ferry_conn *c, const json_t *rec, json_t **created, ferry_error *err)
{
    *created = NULL;
    int type;
    json_t *native = NULL;
    int rc = prepare(c, rec, &type, &native, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char path[64], what[64];
    snprintf(path, sizeof(path), "/%s", ea_doc_resource(type));
    snprintf(what, sizeof(what), "create %s", ea_doc_type_name(type));
    ea_request rq = {"POST", path, NULL, native, what, "document", 0};
    json_t *answer = NULL;
    rc = ea_api_call(c, &rq, &answer, NULL, err);
    json_decref(native);
    if (rc == FERRY_OK) {
        *created = ea_docmap_from_native(c, type, answer, 1);
        check_currency(c, rec, *created);
    }
    json_decref(answer);
    return rc;
}

/* ---- find ------------------------------------------------------------------------------------------ */

/* The order types are searched in: the configured one, then invoices, then the rest. */
static void search_order(const ferry_conn *c, int order[EA_DOC_TYPES])
{
    int first = ea_doc_type_parse(c->document_type);
    int n = 0;
    order[n++] = first >= 0 ? first : EA_DOC_DRAFT;
    if (order[0] != EA_DOC_INVOICE) {
        order[n++] = EA_DOC_INVOICE;
    }
    for (int t = 0; t < EA_DOC_TYPES; t++) {
        if (t != order[0] && t != EA_DOC_INVOICE) {
            order[n++] = t;
        }
    }
}

static int find_one_by_id(ferry_conn *c, int type, const char *id, json_t **found, ferry_error *err)
{
    char path[128], what[64];
    snprintf(path, sizeof(path), "/%s/%s", ea_doc_resource(type), id);
    snprintf(what, sizeof(what), "read %s", ea_doc_type_name(type));
    ea_request rq = {"GET", path, NULL, NULL, what, "document", 1};
    json_t *obj = NULL;
    int rc = ea_api_call(c, &rq, &obj, NULL, err);
    if (rc == FERRY_OK && obj != NULL) {
        *found = ea_docmap_from_native(c, type, obj, 1);
    }
    json_decref(obj);
    return rc;
}

static int find_one_by_filter(ferry_conn *c, int type, const char *field, const char *value, json_t **found,
                              ferry_error *err)
{
    ferry_buf filter = FERRY_BUF_INIT;
    int rc = ea_filter_add(&filter, ea_doc_resource(type), field, "eq", value, err);
    json_t *data = NULL;
    ea_page_meta meta;
    if (rc == FERRY_OK) {
        rc = ea_api_list_page(c, ea_doc_resource(type), ferry_buf_str(&filter), NULL, NULL, 1, 2, &data, &meta, err);
    }
    ferry_buf_free(&filter);
    if (rc == FERRY_OK && json_array_size(data) > 0) {
        if (json_array_size(data) > 1) {
            c->host->log(c->hc, FERRY_LOG_WARN, "eaccounting: %ld %ss have %s '%s'; using the first",
                         meta.total_results, ea_doc_type_name(type), field, value);
        }
        *found = ea_docmap_from_native(c, type, json_array_get(data, 0), 1);
    }
    json_decref(data);
    return rc;
}

int ea_docs_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err)
{
    *found = NULL;
    if (key == NULL || value == NULL || value[0] == '\0') {
        return FERRY_OK;
    }
    /* "key": the Id read_page hands out, or (the engine's record sync) the external reference */
    int is_key = strcmp(key, "key") == 0;
    int by_id = strcmp(key, "id") == 0 || (is_key && ea_is_guid(value));
    int by_ref = strcmp(key, "external_reference") == 0 || (is_key && !by_id);
    int by_number = strcmp(key, "number") == 0;
    if (!by_id && !by_ref && !by_number) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key,
                               "eaccounting: documents are found by external_reference, id or number, not '%s'", key);
    }
    if (by_id && !ea_is_guid(value)) {
        return FERRY_OK;
    }
    int order[EA_DOC_TYPES];
    search_order(c, order);
    for (int i = 0; i < EA_DOC_TYPES && *found == NULL; i++) {
        int t = order[i], rc;
        if (by_id) {
            rc = find_one_by_id(c, t, value, found, err);
        } else if (by_ref) {
            rc = find_one_by_filter(c, t, c->ref_field, value, found, err);
        } else if (t == EA_DOC_DRAFT) {
            continue; /* drafts have no number */
        } else {
            rc = find_one_by_filter(c, t, t == EA_DOC_ORDER ? "Number" : "InvoiceNumber", value, found, err);
        }
        if (rc != FERRY_OK) {
            return rc;
        }
        if (by_number) {
            break; /* order and invoice numbers are separate series: only the first kind searched */
        }
    }
    return FERRY_OK;
}

/* ---- update ----------------------------------------------------------------------------------------- */

int ea_docs_update(ferry_conn *c, const char *id, const json_t *rec, json_t **updated, ferry_error *err)
{
    *updated = NULL;
    int type;
    json_t *native = NULL, *existing = NULL, *answer = NULL;
    int rc = prepare(c, rec, &type, &native, err);
    if (rc == FERRY_OK && type == EA_DOC_INVOICE) {
        rc = ferry_error_set(
            err, FERRY_RECORD_ERROR, "type",
            "eaccounting: a booked customer invoice cannot be changed; credit it in eAccounting instead");
    }
    if (rc == FERRY_OK && !ea_is_guid(id)) {
        rc = ferry_error_set(err, FERRY_RECORD_ERROR, "id", "eaccounting: '%s' is not a document id", id ? id : "");
    }
    char path[128], what[64];
    if (rc == FERRY_OK) {
        snprintf(path, sizeof(path), "/%s/%s", ea_doc_resource(type), id);
        /*
         * PUT replaces the whole document, so it starts from what eAccounting
         * holds.  A record that carries the native document as eAccounting
         * just answered it (the engine adding a rounding row right after the
         * create) saves reading it again.
         */
        const json_t *known = json_object_get(rec, "native");
        const char *known_id = plugin_json_str(known, "Id");
        if (json_is_object(known) && known_id != NULL && ferry_streq_nocase(known_id, id)) {
            existing = json_deep_copy(known);
        } else {
            snprintf(what, sizeof(what), "read %s", ea_doc_type_name(type));
            ea_request get = {"GET", path, NULL, NULL, what, "document", 0};
            rc = ea_api_call(c, &get, &existing, NULL, err);
        }
    }
    if (rc == FERRY_OK) {
        json_t *body = json_deep_copy(existing);
        for (const char *const *k = doc_read_only; *k != NULL; k++) {
            json_object_del(body, *k);
        }
        json_object_update(body, native); /* Rows replaced as a whole */
        snprintf(what, sizeof(what), "update %s", ea_doc_type_name(type));
        ea_request put = {"PUT", path, NULL, body, what, "document", 0};
        rc = ea_api_call(c, &put, &answer, NULL, err);
        json_decref(body);
    }
    if (rc == FERRY_OK) {
        *updated = ea_docmap_from_native(c, type, answer, 1);
    }
    json_decref(native);
    json_decref(existing);
    json_decref(answer);
    return rc;
}

/* ---- convert ------------------------------------------------------------------------------------------ */

/* The optional draft validation body: the totals the caller expects. */
static json_t *draft_expectation(const json_t *args)
{
    ferry_money v;
    json_t *body = json_object();
    if (ferry_money_from_json_round(json_object_get(args, "expect_total"), EA_DECIMALS, &v) == FERRY_MONEY_OK) {
        json_object_set_new(body, "TotalAmountInvoiceCurrency", ferry_money_json_number(v, 2));
    }
    if (ferry_money_from_json_round(json_object_get(args, "expect_vat"), EA_DECIMALS, &v) == FERRY_MONEY_OK) {
        json_object_set_new(body, "TotalVatAmountInvoiceCurrency", ferry_money_json_number(v, 2));
    }
    if (json_object_size(body) == 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

int ea_docs_convert(ferry_conn *c, const char *action, const json_t *args, json_t **result, ferry_error *err)
{
    *result = NULL;
    const char *id = plugin_json_str(args, "id");
    if (!ea_is_guid(id)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "id", "eaccounting: %s needs --arg id=<document id (GUID)>",
                               action);
    }
    int draft = strcmp(action, "convert-draft") == 0;
    const char *keep = plugin_json_str(args, "keep_original_date");
    char path[160];
    snprintf(path, sizeof(path), "/%s/%s/convert", draft ? "customerinvoicedrafts" : "orders", id);
    const char *query = draft ? (keep != NULL && strcmp(keep, "true") == 0 ? "keepOriginalDraftDate=true"
                                                                           : "keepOriginalDraftDate=false")
                              : NULL;
    json_t *body = draft ? draft_expectation(args) : NULL;
    ea_request rq = {"POST",     path, query, body, draft ? "convert draft to invoice" : "convert order to invoice",
                     "document", 0};
    json_t *answer = NULL;
    int rc = ea_api_call(c, &rq, &answer, NULL, err);
    json_decref(body);
    if (rc == FERRY_OK) {
        *result = ea_docmap_from_native(c, EA_DOC_INVOICE, answer, 1);
    }
    json_decref(answer);
    return rc;
}
