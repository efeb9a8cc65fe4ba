/* ea_docmap.c - documents, canonical <-> eAccounting (see ea_docmap.h). */
#include "config.h"

#include "ea_docmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ea_conn.h"
#include "ea_map.h"
#include "ea_refdata.h"
#include "ea_str.h"
#include "money.h"
#include "plugin_util.h"
#include "util.h"

static const char *const type_names[EA_DOC_TYPES] = {"order", "invoice_draft", "invoice"};
static const char *const resources[EA_DOC_TYPES] = {"orders", "customerinvoicedrafts", "customerinvoices"};

int ea_doc_type_parse(const char *s)
{
    for (int t = 0; s != NULL && t < EA_DOC_TYPES; t++) {
        if (strcmp(s, type_names[t]) == 0) {
            return t;
        }
    }
    return -1;
}

const char *ea_doc_type_name(int type)
{
    return type >= 0 && type < EA_DOC_TYPES ? type_names[type] : "?";
}

const char *ea_doc_resource(int type)
{
    return type >= 0 && type < EA_DOC_TYPES ? resources[type] : "?";
}

/* ---- rows ------------------------------------------------------------------------------------- */

enum price_conversion { PRICES_AS_GIVEN = 0, PRICES_GROSS_TO_NET = 1, PRICES_NET_TO_GROSS = 2 };

typedef struct row_rules {
    int type;
    int price_decimals; /* 2 domestic, 4 foreign currency */
    int qty_decimals;   /* 4 on orders, 2 on drafts and invoices */
    int conversion;     /* enum price_conversion */
} row_rules;

static char *row_path(size_t i, const char *member)
{
    return ferry_asprintf("rows[%zu]%s%s", i, member ? "." : "", member ? member : "");
}

/* FERRY_RECORD_ERROR "eaccounting: rows[i].member <problem>" naming the field. */
static int row_error(ferry_error *err, size_t i, const char *member, const char *problem)
{
    char *path = row_path(i, member);
    ferry_error_set(err, FERRY_RECORD_ERROR, path, "eaccounting: %s %s", path ? path : "rows", problem);
    free(path);
    return FERRY_RECORD_ERROR;
}

static int is_text_row(const json_t *row)
{
    const char *kind = plugin_json_str(row, "kind");
    if (ea_json_bool(row, "is_text_row") == 1 || (kind != NULL && strcmp(kind, "text") == 0)) {
        return 1;
    }
    return ea_str_blank(plugin_json_str(row, "article_id")) && ea_str_blank(plugin_json_str(row, "article_number")) &&
           !ea_str_blank(plugin_json_str(row, "text"));
}

/* The fields every row of a kind must carry. */
static void put_row_flags(json_t *r, int type, size_t i, int text)
{
    if (type == EA_DOC_ORDER) {
        json_object_set_new(r, "LineNumber", json_integer((json_int_t)i + 1));
        json_object_set_new(r, "IsTextRow", json_boolean(text));
        json_object_set_new(r, "IsWorkCost", json_false());
        json_object_set_new(r, "EligibleForReverseChargeOnVat", json_false());
    } else if (type == EA_DOC_DRAFT) {
        json_object_set_new(r, "LineNumber", json_integer((json_int_t)i + 1));
        json_object_set_new(r, "IsTextRow", json_boolean(text));
        json_object_set_new(r, "ReversedConstructionServicesVatFree", json_false());
    }
    /* invoice rows: IsTextRow is read-only, a row without ArticleId is a text row */
}

static int get_decimal(const json_t *row, const char *member, ferry_money *v)
{
    json_t *m = json_object_get(row, member);
    if (m == NULL || json_is_null(m)) {
        return 0;
    }
    return ferry_money_from_json_round(m, EA_DECIMALS, v) == FERRY_MONEY_OK ? 1 : -1;
}

/*
 * The unit price in the form eAccounting reads it: the row's unit_price_excl
 * or unit_price_incl when the mapping gave both, else unit_price converted
 * between net and gross with the row's vat_rate (percent).
 */
static int convert_price(const json_t *row, size_t i, const row_rules *rules, ferry_money *price, ferry_error *err)
{
    if (rules->conversion == PRICES_AS_GIVEN) {
        return FERRY_OK;
    }
    const char *wanted = rules->conversion == PRICES_GROSS_TO_NET ? "unit_price_excl" : "unit_price_incl";
    int has = get_decimal(row, wanted, price);
    if (has < 0) {
        return row_error(err, i, wanted, "is not a decimal number");
    }
    if (has) {
        return FERRY_OK;
    }
    ferry_money pct, rate;
    if (get_decimal(row, "vat_rate", &pct) != 1) {
        return row_error(err, i, "vat_rate",
                         "is needed: the record's prices_include_vat differs from how eAccounting prices this "
                         "customer's documents, so the unit price must be converted with the row's VAT rate");
    }
    int rc = ferry_money_shift(pct, -2, &rate);
    if (rc == FERRY_MONEY_OK) {
        rc = rules->conversion == PRICES_GROSS_TO_NET
                 ? ferry_money_remove_vat(*price, rate, rules->price_decimals, price)
                 : ferry_money_add_vat(*price, rate, rules->price_decimals, price);
    }
    return rc == FERRY_MONEY_OK ? FERRY_OK : row_error(err, i, "unit_price", "is out of range");
}

static int put_quantity(json_t *r, const json_t *row, size_t i, const row_rules *rules, ferry_error *err)
{
    ferry_money qty = ferry_money_from_int(1);
    int has = get_decimal(row, "quantity", &qty);
    if (has < 0) {
        return row_error(err, i, "quantity", "is not a decimal number");
    }
    if (ferry_money_decimals(qty) > rules->qty_decimals) {
        char detail[96];
        snprintf(detail, sizeof(detail), "has too many decimals (eAccounting allows %d on %ss)", rules->qty_decimals,
                 rules->type == EA_DOC_ORDER ? "order" : "invoice");
        return row_error(err, i, "quantity", detail);
    }
    json_object_set_new(r, "Quantity", ferry_money_json_number(qty, rules->qty_decimals));
    return FERRY_OK;
}

static int put_price_and_discount(json_t *r, const json_t *row, size_t i, const row_rules *rules, ferry_error *err)
{
    ferry_money price, discount;
    int has = get_decimal(row, "unit_price", &price);
    if (has <= 0) {
        return row_error(err, i, "unit_price", has < 0 ? "is not a decimal number" : "is missing");
    }
    int rc = convert_price(row, i, rules, &price, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_object_set_new(r, "UnitPrice", ferry_money_json_number(price, rules->price_decimals));
    has = get_decimal(row, "discount_percentage", &discount);
    if (has < 0 || (has && (discount.units < 0 || ferry_money_cmp(discount, ferry_money_from_int(1)) > 0))) {
        return row_error(err, i, "discount_percentage", "must be a fraction from 0 to 1 (0.1 is 10 %)");
    }
    if (has) {
        json_object_set_new(r, "DiscountPercentage", ferry_money_json_number(discount, 4));
    }
    return FERRY_OK;
}

static int map_article_row(json_t *r, const json_t *row, size_t i, const row_rules *rules, ferry_error *err)
{
    const char *article = plugin_json_str(row, "article_id");
    if (ea_str_blank(article)) {
        return row_error(err, i, "article_id", "is missing (the article was not resolved)");
    }
    put_row_flags(r, rules->type, i, 0);
    json_object_set_new(r, "ArticleId", json_string(article));
    int rc = put_quantity(r, row, i, rules, err);
    if (rc == FERRY_OK) {
        rc = put_price_and_discount(r, row, i, rules, err);
    }
    if (rc == FERRY_OK) {
        plugin_json_set_str(r, "Text",
                            ea_str_blank(plugin_json_str(row, "text")) ? NULL : plugin_json_str(row, "text"));
    }
    return rc;
}

static int map_row(const json_t *row, size_t i, const row_rules *rules, json_t **out, ferry_error *err)
{
    *out = NULL;
    if (!json_is_object(row)) {
        return row_error(err, i, NULL, "is not an object");
    }
    json_t *r = json_object();
    int rc = FERRY_OK;
    if (is_text_row(row)) {
        const char *text = plugin_json_str(row, "text");
        if (ea_str_blank(text)) {
            rc = row_error(err, i, "text", "is empty; a text row needs text");
        } else {
            put_row_flags(r, rules->type, i, 1);
            json_object_set_new(r, "Text", json_string(text));
        }
    } else {
        rc = map_article_row(r, row, i, rules, err);
    }
    if (rc == FERRY_OK) {
        char *path = row_path(i, "target_fields");
        rc = ea_map_merge_target_fields(r, row, path ? path : "rows", err);
        free(path);
    }
    if (rc != FERRY_OK) {
        json_decref(r);
        return rc;
    }
    *out = r;
    return FERRY_OK;
}

static int map_rows(json_t *n, const json_t *rec, const row_rules *rules, ferry_error *err)
{
    json_t *rows = json_object_get(rec, "rows");
    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "rows", "eaccounting: the document has no rows");
    }
    if (json_array_size(rows) > 1000) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "rows", "eaccounting: a document can have at most 1000 rows");
    }
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        json_t *r = NULL;
        int rc = map_row(row, i, rules, &r, err);
        if (rc != FERRY_OK) {
            json_decref(out);
            return rc;
        }
        json_array_append_new(out, r);
    }
    json_object_set_new(n, "Rows", out);
    return FERRY_OK;
}

/* ---- header ------------------------------------------------------------------------------------ */

static const char *company_currency(const ferry_conn *c)
{
    const char *cur = plugin_json_str(ea_refdata_company(c), "CurrencyCode");
    return cur != NULL ? cur : "SEK";
}

static int put_date(json_t *n, const char *native_field, const json_t *rec, const char *field, ferry_error *err)
{
    const char *v = plugin_json_str(rec, field);
    char day[16];
    if (ea_str_blank(v)) {
        return FERRY_OK;
    }
    if (ea_map_date(v, day, sizeof(day)) == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, field, "eaccounting: %s '%s' is not a date (YYYY-MM-DD)", field,
                               v);
    }
    json_object_set_new(n, native_field, json_string(day));
    return FERRY_OK;
}

static int put_reference(ferry_conn *c, json_t *n, const json_t *rec, ferry_error *err)
{
    plugin_json_set_str(n, "YourReference", plugin_json_str(rec, "your_reference"));
    plugin_json_set_str(n, "OurReference", plugin_json_str(rec, "our_reference"));
    const char *ref = plugin_json_str(rec, "external_reference");
    if (ea_str_blank(ref)) {
        return FERRY_OK;
    }
    size_t max = strcmp(c->ref_field, "BuyersOrderReference") == 0 ? 35 : 100;
    if (strlen(ref) > max) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "external_reference",
                               "eaccounting: external_reference '%s' is longer than the %zu characters %s holds", ref,
                               max, c->ref_field);
    }
    json_object_set_new(n, c->ref_field, json_string(ref));
    return FERRY_OK;
}

/* delivery_method / delivery_term by Code or Name -> <Prefix>Code and <Prefix>Name (orders, drafts). */
static int put_delivery_choice(ferry_conn *c, json_t *n, const json_t *rec, const char *field, const char *kind,
                               const char *prefix, ferry_error *err)
{
    const char *v = plugin_json_str(rec, field);
    if (ea_str_blank(v)) {
        return FERRY_OK;
    }
    const json_t *found = NULL;
    int rc = ea_refdata_resolve(c, kind, v, field, &found, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char key[64];
    snprintf(key, sizeof(key), "%sCode", prefix);
    plugin_json_set_str(n, key, plugin_json_str(found, "Code"));
    snprintf(key, sizeof(key), "%sName", prefix);
    plugin_json_set_str(n, key, plugin_json_str(found, "Name"));
    return FERRY_OK;
}

static int put_terms(ferry_conn *c, json_t *n, const json_t *rec, ferry_error *err)
{
    const char *v = plugin_json_str(rec, "terms_of_payment");
    if (ea_str_blank(v)) {
        return FERRY_OK; /* the customer's terms */
    }
    const json_t *found = NULL;
    int rc = ea_refdata_resolve(c, EA_REF_TERMS, v, "terms_of_payment", &found, err);
    if (rc == FERRY_OK) {
        plugin_json_set_str(n, "TermsOfPaymentId", plugin_json_str(found, "Id"));
    }
    return rc;
}

static int put_kind_specific(ferry_conn *c, json_t *n, const json_t *rec, int type, ferry_error *err)
{
    int rc = FERRY_OK;
    if (type == EA_DOC_ORDER) {
        const char *cur = plugin_json_str(rec, "currency");
        json_object_set_new(n, "Status", json_integer(2));
        json_object_set_new(n, "ReverseChargeOnConstructionServices", json_false());
        json_object_set_new(n, "CurrencyCode", json_string(!ea_str_blank(cur) ? cur : company_currency(c)));
        rc = put_date(n, "OrderDate", rec, "date", err);
    } else {
        rc = put_date(n, "InvoiceDate", rec, "date", err);
    }
    if (rc == FERRY_OK && type == EA_DOC_INVOICE) {
        ferry_money rate;
        int has = get_decimal(rec, "currency_rate", &rate);
        if (has < 0) {
            return ferry_error_set(err, FERRY_RECORD_ERROR, "currency_rate",
                                   "eaccounting: currency_rate is not a number");
        }
        if (has) {
            json_object_set_new(n, "CurrencyRate", ferry_money_json_number(rate, 4));
        }
    }
    if (rc == FERRY_OK && type != EA_DOC_INVOICE) {
        rc = put_delivery_choice(c, n, rec, "delivery_method", EA_REF_DELIVERY_METHODS, "DeliveryMethod", err);
        if (rc == FERRY_OK) {
            rc = put_delivery_choice(c, n, rec, "delivery_term", EA_REF_DELIVERY_TERMS, "DeliveryTerm", err);
        }
    }
    return rc;
}

static int map_header(ferry_conn *c, json_t *n, const json_t *rec, int type, ferry_error *err)
{
    const char *customer = plugin_json_str(rec, "customer_id");
    if (ea_str_blank(customer)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "customer_id",
                               "eaccounting: the document has no customer_id (and no customer_number to find one by)");
    }
    json_object_set_new(n, "CustomerId", json_string(customer));
    json_object_set_new(n, "EuThirdParty", json_false());
    json_object_set_new(n, "RotReducedInvoicingType", json_integer(0));
    int rc = put_kind_specific(c, n, rec, type, err);
    if (rc == FERRY_OK) {
        rc = put_date(n, "DeliveryDate", rec, "delivery_date", err);
    }
    if (rc == FERRY_OK) {
        rc = put_reference(c, n, rec, err);
    }
    if (rc == FERRY_OK) {
        rc = put_terms(c, n, rec, err);
    }
    if (rc == FERRY_OK) {
        ea_map_put_address(n, "Delivery", json_object_get(rec, "delivery_address"), "DeliveryCustomerName");
    }
    return rc;
}

int ea_docmap_to_native(ferry_conn *c, const json_t *rec, int type, int includes_vat, json_t **native, ferry_error *err)
{
    *native = NULL;
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *cur = plugin_json_str(rec, "currency");
    row_rules rules = {type, 2, type == EA_DOC_ORDER ? 4 : 2, PRICES_AS_GIVEN};
    if (!ea_str_blank(cur) && !ferry_streq_nocase(cur, company_currency(c))) {
        rules.price_decimals = 4;
    }
    int given = ea_json_bool(rec, "prices_include_vat");
    if (given >= 0 && includes_vat >= 0 && given != includes_vat) {
        rules.conversion = given ? PRICES_GROSS_TO_NET : PRICES_NET_TO_GROSS;
    }
    json_t *n = json_object();
    rc = map_header(c, n, rec, type, err);
    if (rc == FERRY_OK) {
        rc = map_rows(n, rec, &rules, err);
    }
    if (rc == FERRY_OK) {
        rc = ea_map_merge_target_fields(n, rec, "target_fields", err);
    }
    if (rc != FERRY_OK) {
        json_decref(n);
        return rc;
    }
    *native = n;
    return FERRY_OK;
}

/* ---- native -> canonical ----------------------------------------------------------------------- */

/* native[member] as a decimal: 1 and *v, or 0 when it is missing or not a number. */
static int native_decimal(const json_t *native, const char *member, ferry_money *v)
{
    return ferry_money_from_json_round(json_object_get(native, member), EA_DECIMALS, v) == FERRY_MONEY_OK;
}

/* native[member] as a decimal; zero when it is missing or not a number. */
static ferry_money native_dec(const json_t *native, const char *member)
{
    ferry_money v;
    return native_decimal(native, member, &v) ? v : ferry_money_from_int(0);
}

/* The totals of a document; `fits` is 0 when a sum does not fit 64 bits (and the totals mean nothing). */
typedef struct doc_totals {
    ferry_money total, vat, roundings;
    const char *currency;
    int fits;
} doc_totals;

/* a - b - c into *out; 0 when it does not fit. */
static int minus2(ferry_money a, ferry_money b, ferry_money c, ferry_money *out)
{
    return ferry_money_sub(a, b, out) == FERRY_MONEY_OK && ferry_money_sub(*out, c, out) == FERRY_MONEY_OK;
}

/* Invoices: totals in the invoice currency, roundings from the VAT specification. */
static doc_totals invoice_totals(const json_t *native, const char *company_cur)
{
    doc_totals t = {native_dec(native, "TotalAmountInvoiceCurrency"),
                    native_dec(native, "TotalVatAmountInvoiceCurrency"), ferry_money_from_int(0),
                    plugin_json_str(native, "CurrencyCode"), 1};
    json_t *spec = json_object_get(native, "VatSpecification");
    if (json_array_size(spec) > 0) {
        ferry_money net = ferry_money_from_int(0);
        size_t i;
        json_t *s;
        json_array_foreach (spec, i, s) {
            t.fits = t.fits && ferry_money_add(net, native_dec(s, "AmountInvoiceCurrency"), &net) == FERRY_MONEY_OK;
        }
        t.fits = t.fits && minus2(t.total, net, t.vat, &t.roundings);
    } else if (t.currency == NULL || ferry_streq_nocase(t.currency, company_cur)) {
        t.roundings = native_dec(native, "TotalRoundings");
    }
    return t;
}

static doc_totals totals_of(const ferry_conn *c, int type, const json_t *native)
{
    doc_totals t = {ferry_money_from_int(0), ferry_money_from_int(0), ferry_money_from_int(0), NULL, 1};
    if (type == EA_DOC_ORDER) {
        /* Amount excludes VAT (emulator model; see doc/eaccounting.md) */
        t.vat = native_dec(native, "VatAmount");
        t.roundings = native_dec(native, "RoundingsAmount");
        t.fits = ferry_money_add(native_dec(native, "Amount"), t.vat, &t.total) == FERRY_MONEY_OK &&
                 ferry_money_add(t.total, t.roundings, &t.total) == FERRY_MONEY_OK;
        t.currency = plugin_json_str(native, "CurrencyCode");
    } else if (type == EA_DOC_DRAFT) {
        t.total = native_dec(native, "TotalAmount");
        t.vat = native_dec(native, "TotalVatAmount");
        t.roundings = native_dec(native, "TotalRoundings");
        t.currency = plugin_json_str(native, "InvoiceCurrencyCode");
    } else {
        t = invoice_totals(native, company_currency(c));
    }
    return t;
}

static void put_number(json_t *r, const json_t *native, const char *member)
{
    json_t *v = json_object_get(native, member);
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        json_object_set_new(r, "number", json_string(buf));
    } else if (json_is_string(v)) {
        json_object_set(r, "number", v);
    } else {
        json_object_set_new(r, "number", json_null());
    }
}

static json_t *rows_from_native(const json_t *native)
{
    json_t *rows = json_array();
    size_t i;
    json_t *nr;
    json_array_foreach (json_object_get(native, "Rows"), i, nr) {
        json_t *r = json_object();
        int text = json_is_true(json_object_get(nr, "IsTextRow")) || plugin_json_str(nr, "ArticleId") == NULL;
        json_object_set_new(r, "is_text_row", json_boolean(text));
        plugin_json_set_str(r, "article_id", plugin_json_str(nr, "ArticleId"));
        plugin_json_set_str(r, "article_number", plugin_json_str(nr, "ArticleNumber"));
        plugin_json_set_str(r, "text", plugin_json_str(nr, "Text"));
        ferry_money v;
        if (!text && native_decimal(nr, "Quantity", &v)) {
            json_object_set_new(r, "quantity", ferry_money_json_string(v, ferry_money_decimals(v)));
        }
        if (!text && native_decimal(nr, "UnitPrice", &v)) {
            json_object_set_new(r, "unit_price", ferry_money_json_string(v, ferry_money_decimals(v) > 2 ? 4 : 2));
        }
        if (!text && native_decimal(nr, "DiscountPercentage", &v) && v.units != 0) {
            json_object_set_new(r, "discount_percentage", ferry_money_json_string(v, 4));
        }
        if (!text && native_decimal(nr, "Amount", &v)) {
            json_object_set_new(r, "amount", ferry_money_json_string(v, 2));
        }
        json_array_append_new(rows, r);
    }
    return rows;
}

json_t *ea_docmap_from_native(const ferry_conn *c, int type, const json_t *native, int with_native)
{
    char day[16];
    json_t *r = json_object();
    const char *id = plugin_json_str(native, "Id");
    plugin_json_set_str(r, "key", id);
    plugin_json_set_str(r, "id", id);
    put_number(r, native, type == EA_DOC_ORDER ? "Number" : "InvoiceNumber");
    json_object_set_new(r, "type", json_string(ea_doc_type_name(type)));
    const char *ref = plugin_json_str(native, c->ref_field);
    json_object_set_new(r, "external_reference", ref ? json_string(ref) : json_null());
    plugin_json_set_str(
        r, "date",
        ea_map_date(plugin_json_str(native, type == EA_DOC_ORDER ? "OrderDate" : "InvoiceDate"), day, sizeof(day)));
    doc_totals t = totals_of(c, type, native);
    ferry_money net;
    if (t.fits && minus2(t.total, t.vat, t.roundings, &net)) {
        json_object_set_new(r, "total", ferry_money_json_string(t.total, 2));
        json_object_set_new(r, "vat", ferry_money_json_string(t.vat, 2));
        json_object_set_new(r, "roundings", ferry_money_json_string(t.roundings, 2));
        json_object_set_new(r, "net", ferry_money_json_string(net, 2));
    }
    plugin_json_set_str(r, "currency", t.currency);
    plugin_json_set_str(r, "customer_id", plugin_json_str(native, "CustomerId"));
    plugin_json_set_str(r, "customer_number", plugin_json_str(native, "CustomerNumber"));
    plugin_json_set_str(r, "your_reference", plugin_json_str(native, "YourReference"));
    plugin_json_set_str(r, "our_reference", plugin_json_str(native, "OurReference"));
    int incl = ea_json_bool(native, "IncludesVat");
    if (incl >= 0) {
        json_object_set_new(r, "prices_include_vat", json_boolean(incl));
    }
    json_object_set_new(r, "rows", rows_from_native(native));
    json_object_set(r, with_native ? "native" : "source", (json_t *)native);
    return r;
}

/* The canonical fields ea_docmap_index_of fills. */
static const char *const index_fields[] = {"key", "id", "number", "type", "external_reference", NULL};

int ea_docmap_index_only(const json_t *fields)
{
    if (!json_is_array(fields) || json_array_size(fields) == 0) {
        return 0;
    }
    size_t i;
    json_t *f;
    json_array_foreach (fields, i, f) {
        const char *name = json_string_value(f);
        int known = 0;
        for (size_t k = 0; name != NULL && index_fields[k] != NULL; k++) {
            known |= strcmp(name, index_fields[k]) == 0;
        }
        if (!known) {
            return 0;
        }
    }
    return 1;
}

char *ea_docmap_index_select(const ferry_conn *c, int type)
{
    if (type == EA_DOC_DRAFT) {
        return ferry_strdup(c->ref_field); /* a draft has no number until it is booked */
    }
    return ferry_asprintf("%s,%s", type == EA_DOC_ORDER ? "Number" : "InvoiceNumber", c->ref_field);
}

json_t *ea_docmap_index_of(const ferry_conn *c, int type, const json_t *native)
{
    json_t *r = json_object();
    const char *id = plugin_json_str(native, "Id");
    plugin_json_set_str(r, "key", id);
    plugin_json_set_str(r, "id", id);
    put_number(r, native, type == EA_DOC_ORDER ? "Number" : "InvoiceNumber");
    json_object_set_new(r, "type", json_string(ea_doc_type_name(type)));
    const char *ref = plugin_json_str(native, c->ref_field);
    json_object_set_new(r, "external_reference", ref ? json_string(ref) : json_null());
    return r;
}
