/* ea_map.c - customers and articles, canonical <-> eAccounting (see ea_map.h). */
#include "config.h"

#include "ea_map.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ea_conn.h"
#include "ea_refdata.h"
#include "ea_str.h"
#include "money.h"
#include "plugin_util.h"
#include "util.h"

/* ---- shared helpers ---------------------------------------------------------------------- */

int ea_map_merge_target_fields(json_t *native, const json_t *rec, const char *path, ferry_error *err)
{
    json_t *tf = json_object_get(rec, "target_fields");
    if (tf == NULL || json_is_null(tf)) {
        return FERRY_OK;
    }
    if (!json_is_object(tf)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, path,
                               "eaccounting: %s must be an object of eAccounting "
                               "field names and values",
                               path);
    }
    json_object_update(native, tf);
    return FERRY_OK;
}

/* "first last" from two optional parts (new string, NULL when both are empty). */
static char *full_name(const char *first, const char *last)
{
    int has_first = !ea_str_blank(first), has_last = !ea_str_blank(last);
    if (!has_first && !has_last) {
        return NULL;
    }
    return ferry_asprintf("%s%s%s", has_first ? first : "", has_first && has_last ? " " : "", has_last ? last : "");
}

/* Street line 1 (street[0], or street_name + house_number) and line 2 (the other street lines). */
static char *street_line(const json_t *addr, int line)
{
    json_t *street = json_object_get(addr, "street");
    if (json_is_array(street) && json_array_size(street) > 0) {
        if (line == 0) {
            return ferry_strdup(json_string_value(json_array_get(street, 0)));
        }
        ferry_buf b = FERRY_BUF_INIT;
        for (size_t i = 1; i < json_array_size(street); i++) {
            const char *s = json_string_value(json_array_get(street, i));
            if (!ea_str_blank(s)) {
                ferry_buf_printf(&b, "%s%s", b.len ? ", " : "", s);
            }
        }
        return b.len ? ferry_buf_finish(&b) : (ferry_buf_free(&b), NULL);
    }
    if (line == 0) {
        return full_name(plugin_json_str(addr, "street_name"), plugin_json_str(addr, "house_number"));
    }
    return NULL;
}

static char *upper_copy(const char *s)
{
    char *u = ferry_strdup(s);
    for (char *p = u; p != NULL && *p; p++) {
        *p = (char)toupper((unsigned char)*p);
    }
    return u;
}

static void set_owned(json_t *obj, const char *key, char *value)
{
    if (value != NULL) {
        json_object_set_new(obj, key, json_string(value));
        free(value);
    }
}

void ea_map_put_address(json_t *native, const char *prefix, const json_t *addr, const char *name_field)
{
    char key[64];
    if (!json_is_object(addr)) {
        return;
    }
    snprintf(key, sizeof(key), "%sAddress1", prefix);
    set_owned(native, key, street_line(addr, 0));
    snprintf(key, sizeof(key), "%sAddress2", prefix);
    set_owned(native, key, street_line(addr, 1));
    snprintf(key, sizeof(key), "%sPostalCode", prefix);
    plugin_json_set_str(native, key, plugin_json_str(addr, "postcode"));
    snprintf(key, sizeof(key), "%sCity", prefix);
    plugin_json_set_str(native, key, plugin_json_str(addr, "city"));
    snprintf(key, sizeof(key), "%sCountryCode", prefix);
    set_owned(native, key, upper_copy(plugin_json_str(addr, "country")));
    if (name_field != NULL) {
        const char *name = plugin_json_str(addr, "name");
        const char *company = plugin_json_str(addr, "company");
        if (!ea_str_blank(name)) {
            plugin_json_set_str(native, name_field, name);
        } else if (!ea_str_blank(company)) {
            plugin_json_set_str(native, name_field, company);
        } else {
            set_owned(native, name_field,
                      full_name(plugin_json_str(addr, "first_name"), plugin_json_str(addr, "last_name")));
        }
    }
}

json_t *ea_map_address_from_native(const json_t *native, const char *prefix, const char *name_field)
{
    static const char *const parts[][2] = {{"PostalCode", "postcode"}, {"City", "city"}, {"CountryCode", "country"}};
    char key[64];
    json_t *addr = json_object();
    json_t *street = json_array();
    for (int line = 1; line <= 2; line++) {
        snprintf(key, sizeof(key), "%sAddress%d", prefix, line);
        const char *s = plugin_json_str(native, key);
        if (!ea_str_blank(s)) {
            json_array_append_new(street, json_string(s));
        }
    }
    if (json_array_size(street) > 0) {
        json_object_set(addr, "street", street);
    }
    json_decref(street);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        snprintf(key, sizeof(key), "%s%s", prefix, parts[i][0]);
        const char *s = plugin_json_str(native, key);
        if (!ea_str_blank(s)) {
            json_object_set_new(addr, parts[i][1], json_string(s));
        }
    }
    if (name_field != NULL && !ea_str_blank(plugin_json_str(native, name_field))) {
        json_object_set_new(addr, "name", json_string(plugin_json_str(native, name_field)));
    }
    if (json_object_size(addr) == 0) {
        json_decref(addr);
        return NULL;
    }
    return addr;
}

const char *ea_map_timestamp(const char *native, char *buf, size_t n)
{
    long long ms;
    if (native == NULL || ea_time_parse(native, &ms) != 0) {
        return NULL;
    }
    return ferry_time_iso(ms / 1000, buf, n);
}

const char *ea_map_date(const char *native, char *buf, size_t n)
{
    if (native == NULL || strlen(native) < 10 || n < 11) {
        return NULL;
    }
    memcpy(buf, native, 10);
    buf[10] = '\0';
    return ea_is_date(buf) ? buf : NULL;
}

/* ---- customers ------------------------------------------------------------------------------ */

/* The invoice address: invoice_address, else the first of addresses. */
static const json_t *invoice_address(const json_t *rec)
{
    json_t *a = json_object_get(rec, "invoice_address");
    if (json_is_object(a)) {
        return a;
    }
    a = json_array_get(json_object_get(rec, "addresses"), 0);
    return json_is_object(a) ? a : NULL;
}

static char *customer_name(const json_t *rec, const json_t *addr)
{
    const char *name = plugin_json_str(rec, "name");
    if (!ea_str_blank(name)) {
        return ferry_strdup(name);
    }
    char *person = full_name(plugin_json_str(rec, "first_name"), plugin_json_str(rec, "last_name"));
    if (person != NULL) {
        return person;
    }
    if (!ea_str_blank(plugin_json_str(addr, "company"))) {
        return ferry_strdup(plugin_json_str(addr, "company"));
    }
    if (!ea_str_blank(plugin_json_str(addr, "name"))) {
        return ferry_strdup(plugin_json_str(addr, "name"));
    }
    return full_name(plugin_json_str(addr, "first_name"), plugin_json_str(addr, "last_name"));
}

/* is_company as given, else: a company when it has an organisation or VAT number. */
static int customer_is_company(const json_t *rec)
{
    int given = ea_json_bool(rec, "is_company");
    if (given >= 0) {
        return given;
    }
    return !ea_str_blank(plugin_json_str(rec, "organisation_number")) ||
           !ea_str_blank(plugin_json_str(rec, "vat_number"));
}

static void put_contact_person(json_t *native, const json_t *rec, int is_company)
{
    const json_t *cp = json_object_get(rec, "contact_person");
    if (json_is_object(cp)) {
        char *name = full_name(plugin_json_str(cp, "first_name"), plugin_json_str(cp, "last_name"));
        set_owned(native, "ContactPersonName", name);
        plugin_json_set_str(native, "ContactPersonEmail", plugin_json_str(cp, "email"));
        plugin_json_set_str(native, "ContactPersonPhone", plugin_json_str(cp, "phone"));
    } else if (is_company && !ea_str_blank(plugin_json_str(rec, "name"))) {
        /* a company whose person is in first/last name: that person is the contact */
        set_owned(native, "ContactPersonName",
                  full_name(plugin_json_str(rec, "first_name"), plugin_json_str(rec, "last_name")));
    }
}

static int put_terms(ferry_conn *c, json_t *native, const json_t *rec, int mode, ferry_error *err)
{
    const char *terms = plugin_json_str(rec, "terms_of_payment");
    const json_t *found = NULL;
    if (!ea_str_blank(terms)) {
        int rc = ea_refdata_resolve(c, EA_REF_TERMS, terms, "terms_of_payment", &found, err);
        if (rc != FERRY_OK) {
            return rc;
        }
        plugin_json_set_str(native, "TermsOfPaymentId", plugin_json_str(found, "Id"));
        return FERRY_OK;
    }
    if (mode == EA_MAP_UPDATE) {
        return FERRY_OK;
    }
    /* required by the API: the company's default */
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *dflt = plugin_json_str(ea_refdata_company(c), "TermsOfPaymentId");
    if (dflt == NULL) {
        found = json_array_get(ea_refdata_list(c, EA_REF_TERMS), 0);
        dflt = plugin_json_str(found, "Id");
    }
    if (dflt == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "terms_of_payment",
                               "eaccounting: the company has no terms of payment; add one in eAccounting");
    }
    plugin_json_set_str(native, "TermsOfPaymentId", dflt);
    return FERRY_OK;
}

/* InvoiceCity and InvoicePostalCode are required on create. */
static int check_invoice_address(const json_t *native, ferry_error *err)
{
    if (ea_str_blank(plugin_json_str(native, "InvoiceCity"))) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "invoice_address.city",
                               "eaccounting: a customer needs an invoice address with a city (eAccounting requires "
                               "InvoiceCity); the record has none");
    }
    if (ea_str_blank(plugin_json_str(native, "InvoicePostalCode"))) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "invoice_address.postcode",
                               "eaccounting: a customer needs an invoice address with a postcode (eAccounting "
                               "requires InvoicePostalCode); the record has none");
    }
    return FERRY_OK;
}

static void put_customer_basics(json_t *n, const json_t *rec, int is_company)
{
    const json_t *addr = invoice_address(rec);
    plugin_json_set_str(n, "CustomerNumber", plugin_json_str(rec, "customer_number"));
    plugin_json_set_str(n, "EmailAddress", plugin_json_str(rec, "email"));
    plugin_json_set_str(n, "CorporateIdentityNumber", plugin_json_str(rec, "organisation_number"));
    const char *vat = plugin_json_str(rec, "vat_number");
    plugin_json_set_str(n, "VatNumber", !ea_str_blank(vat) ? vat : plugin_json_str(addr, "vat_id"));
    plugin_json_set_str(n, "Telephone", plugin_json_str(rec, "phone"));
    plugin_json_set_str(n, "MobilePhone", plugin_json_str(rec, "mobile"));
    set_owned(n, "CurrencyCode", upper_copy(plugin_json_str(rec, "currency")));
    ea_map_put_address(n, "Invoice", addr, NULL);
    if (!json_object_get(n, "InvoiceCountryCode")) {
        set_owned(n, "InvoiceCountryCode", upper_copy(plugin_json_str(rec, "country")));
    }
    json_t *delivery = json_object_get(rec, "delivery_address");
    if (json_is_object(delivery)) {
        ea_map_put_address(n, "Delivery", delivery, "DeliveryCustomerName");
    }
    put_contact_person(n, rec, is_company);
}

int ea_map_customer_to_native(ferry_conn *c, const json_t *rec, int mode, json_t **native, ferry_error *err)
{
    *native = NULL;
    char *name = customer_name(rec, invoice_address(rec));
    if (name == NULL && mode == EA_MAP_CREATE) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "name",
                               "eaccounting: the customer has no name (name, first_name/last_name or a company)");
    }
    json_t *n = json_object();
    set_owned(n, "Name", name);
    int is_company = customer_is_company(rec);
    if (mode == EA_MAP_CREATE || ea_json_bool(rec, "is_company") >= 0) {
        json_object_set_new(n, "IsPrivatePerson", json_boolean(!is_company));
    }
    int active = ea_json_bool(rec, "active");
    if (active >= 0 || mode == EA_MAP_CREATE) {
        json_object_set_new(n, "IsActive", json_boolean(active != 0));
    }
    put_customer_basics(n, rec, is_company);
    int rc = put_terms(c, n, rec, mode, err);
    if (rc == FERRY_OK && mode == EA_MAP_CREATE) {
        rc = check_invoice_address(n, err);
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

/* first_name / last_name from a full name, split at the last space. */
static void put_person_names(json_t *obj, const char *name)
{
    if (ea_str_blank(name)) {
        return;
    }
    const char *space = strrchr(name, ' ');
    if (space != NULL) {
        json_object_set_new(obj, "first_name", json_stringn(name, (size_t)(space - name)));
        json_object_set_new(obj, "last_name", json_string(space + 1));
    } else {
        json_object_set_new(obj, "first_name", json_string(name));
    }
}

static json_t *contact_from_native(const json_t *native)
{
    json_t *cp = json_object();
    put_person_names(cp, plugin_json_str(native, "ContactPersonName"));
    plugin_json_set_str(cp, "email", plugin_json_str(native, "ContactPersonEmail"));
    plugin_json_set_str(cp, "phone", plugin_json_str(native, "ContactPersonPhone"));
    if (json_object_size(cp) == 0) {
        json_decref(cp);
        return NULL;
    }
    return cp;
}

json_t *ea_map_customer_from_native(const ferry_conn *c, const json_t *native)
{
    (void)c;
    char ts[32];
    json_t *r = json_object();
    const char *id = plugin_json_str(native, "Id");
    plugin_json_set_str(r, "key", id);
    plugin_json_set_str(r, "id", id);
    plugin_json_set_str(r, "customer_number", plugin_json_str(native, "CustomerNumber"));
    plugin_json_set_str(r, "name", plugin_json_str(native, "Name"));
    plugin_json_set_str(r, "email", plugin_json_str(native, "EmailAddress"));
    int priv = ea_json_bool(native, "IsPrivatePerson");
    if (priv >= 0) {
        json_object_set_new(r, "is_company", json_boolean(!priv));
    }
    if (priv == 1) {
        put_person_names(r, plugin_json_str(native, "Name"));
    }
    plugin_json_set_str(r, "organisation_number", plugin_json_str(native, "CorporateIdentityNumber"));
    plugin_json_set_str(r, "vat_number", plugin_json_str(native, "VatNumber"));
    plugin_json_set_str(r, "phone", plugin_json_str(native, "Telephone"));
    plugin_json_set_str(r, "mobile", plugin_json_str(native, "MobilePhone"));
    json_t *cp = contact_from_native(native);
    if (cp != NULL) {
        json_object_set_new(r, "contact_person", cp);
    }
    json_t *inv = ea_map_address_from_native(native, "Invoice", NULL);
    if (inv != NULL) {
        json_object_set_new(r, "invoice_address", inv);
    }
    json_t *del = ea_map_address_from_native(native, "Delivery", "DeliveryCustomerName");
    if (del != NULL) {
        json_object_set_new(r, "delivery_address", del);
    }
    plugin_json_set_str(r, "country", plugin_json_str(native, "InvoiceCountryCode"));
    plugin_json_set_str(r, "currency", plugin_json_str(native, "CurrencyCode"));
    plugin_json_set_str(r, "terms_of_payment", plugin_json_str(native, "TermsOfPaymentId"));
    int active = ea_json_bool(native, "IsActive");
    if (active >= 0) {
        json_object_set_new(r, "active", json_boolean(active));
    }
    plugin_json_set_str(r, "updated_at", ea_map_timestamp(plugin_json_str(native, "ChangedUtc"), ts, sizeof(ts)));
    json_object_set(r, "source", (json_t *)native);
    return r;
}

/* ---- articles ------------------------------------------------------------------------------------ */

/* A decimal member (string or number); 1 and *v when present, 0 when absent, -1 when malformed. */
static int dec_member(const json_t *obj, const char *key, ferry_money *v)
{
    json_t *m = json_object_get(obj, key);
    if (m == NULL || json_is_null(m) || (json_is_string(m) && ea_str_blank(json_string_value(m)))) {
        return 0;
    }
    return ferry_money_from_json_round(m, EA_DECIMALS, v) == FERRY_MONEY_OK ? 1 : -1;
}

static int bad_decimal(ferry_error *err, const char *field)
{
    return ferry_error_set(err, FERRY_RECORD_ERROR, field, "eaccounting: %s is not a decimal number", field);
}

static int product_is_service(const json_t *rec)
{
    const char *type = plugin_json_str(rec, "type");
    int flag = ea_json_bool(rec, "is_service");
    if (flag >= 0) {
        return flag;
    }
    return type != NULL && (strcmp(type, "virtual") == 0 || strcmp(type, "downloadable") == 0);
}

/* The coding: record's "coding" (Id or name), else by VAT rate, else the existing article's. */
static int pick_coding(ferry_conn *c, const json_t *rec, const json_t *existing, const json_t **coding,
                       ferry_error *err)
{
    const char *named = plugin_json_str(rec, "coding");
    if (!ea_str_blank(named)) {
        return ea_refdata_resolve(c, EA_REF_CODINGS, named, "coding", coding, err);
    }
    ferry_money pct, rate;
    int has_rate = dec_member(rec, "vat_rate", &pct);
    if (has_rate < 0) {
        return bad_decimal(err, "vat_rate");
    }
    if (has_rate == 0 && existing != NULL && plugin_json_str(existing, "CodingId") != NULL) {
        return ea_refdata_resolve(c, EA_REF_CODINGS, plugin_json_str(existing, "CodingId"), "coding", coding, err);
    }
    if (has_rate == 0 && ferry_money_parse_plain(c->default_vat_rate, EA_DECIMALS, &pct) != FERRY_MONEY_OK) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "default_vat_rate",
                               "eaccounting: setting default_vat_rate must be a percentage such as 25");
    }
    if (ferry_money_shift(pct, -2, &rate) != FERRY_MONEY_OK) {
        return bad_decimal(err, has_rate ? "vat_rate" : "default_vat_rate");
    }
    return ea_refdata_coding_for_rate(c, rate, product_is_service(rec), has_rate ? "vat_rate" : "default_vat_rate",
                                      coding, err);
}

/* |a - b| is at most a cent. */
static int within_a_cent(ferry_money a, ferry_money b)
{
    const ferry_money cent = {1, 2};
    ferry_money d;
    return ferry_money_sub(a, b, &d) == FERRY_MONEY_OK && ferry_money_abs(d, &d) == FERRY_MONEY_OK &&
           ferry_money_cmp(d, cent) <= 0;
}

/* NetPrice and GrossPrice that agree with the coding's rate (2 decimals, half away from zero). */
static int put_prices(ferry_conn *c, json_t *n, const json_t *rec, ferry_money rate, ferry_error *err)
{
    ferry_money net = ferry_money_from_int(0), gross = net, price = net;
    int has_net = dec_member(rec, "net_price", &net);
    int has_gross = dec_member(rec, "gross_price", &gross);
    int has_price = dec_member(rec, "price", &price);
    if (has_net < 0 || has_gross < 0 || has_price < 0) {
        return bad_decimal(err, has_net < 0 ? "net_price" : has_gross < 0 ? "gross_price" : "price");
    }
    if (!has_net && !has_gross && has_price) {
        if (ea_json_bool(rec, "price_includes_vat") == 1) {
            gross = price, has_gross = 1;
        } else {
            net = price, has_net = 1;
        }
    }
    if (!has_net && !has_gross) {
        return FERRY_OK;
    }
    if (has_net) {
        ferry_money computed;
        if (ferry_money_round(net, 2, &net) != FERRY_MONEY_OK ||
            ferry_money_add_vat(net, rate, 2, &computed) != FERRY_MONEY_OK) {
            return bad_decimal(err, "net_price");
        }
        if (has_gross && ferry_money_round(gross, 2, &gross) != FERRY_MONEY_OK) {
            return bad_decimal(err, "gross_price");
        }
        if (has_gross && !within_a_cent(gross, computed)) {
            char a[FERRY_MONEY_STRLEN], b[FERRY_MONEY_STRLEN];
            c->host->log(c->hc, FERRY_LOG_WARN,
                         "eaccounting: gross_price %s does not match net_price %s at the coding's VAT rate; "
                         "sending the gross price computed from the net price",
                         ferry_money_format(gross, a, sizeof(a)), ferry_money_format(net, b, sizeof(b)));
        }
        gross = has_gross && within_a_cent(gross, computed) ? gross : computed;
    } else if (ferry_money_remove_vat(gross, rate, 2, &net) != FERRY_MONEY_OK ||
               ferry_money_round(gross, 2, &gross) != FERRY_MONEY_OK) {
        return bad_decimal(err, "gross_price");
    }
    if (net.units < 0 || gross.units < 0) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, net.units < 0 ? "net_price" : "gross_price",
                               "eaccounting: article prices cannot be negative");
    }
    json_object_set_new(n, "NetPrice", ferry_money_json_number(net, 2));
    json_object_set_new(n, "GrossPrice", ferry_money_json_number(gross, 2));
    return FERRY_OK;
}

/* Barcodes: the EAN first, then the article's other barcodes. */
static void put_barcodes(json_t *n, const json_t *rec, const json_t *existing)
{
    const char *ean = plugin_json_str(rec, "ean");
    if (ea_str_blank(ean)) {
        return;
    }
    json_t *codes = json_array();
    json_array_append_new(codes, json_pack("{s:s, s:i}", "Barcode", ean, "BarcodeType", 0));
    size_t i;
    json_t *b;
    json_array_foreach (json_object_get(existing, "Barcodes"), i, b) {
        const char *code = plugin_json_str(b, "Barcode");
        if (code != NULL && strcmp(code, ean) != 0) {
            json_array_append(codes, b);
        }
    }
    json_object_set_new(n, "Barcodes", codes);
}

static int stock_module_active(const ferry_conn *c)
{
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(ea_refdata_company(c), "ActivatedModules"), i, m) {
        if (json_is_string(m) && ferry_streq_nocase(json_string_value(m), "Stock")) {
            return 1;
        }
    }
    return 0;
}

static int put_stock(ferry_conn *c, json_t *n, const json_t *rec, ferry_error *err)
{
    ferry_money qty;
    int has = dec_member(json_object_get(rec, "stock"), "qty", &qty);
    if (has < 0) {
        return bad_decimal(err, "stock.qty");
    }
    if (has && stock_module_active(c)) {
        /* with the stock module, eAccounting keeps the balance itself (read-only, §7.2): say so, never drop it */
        return ferry_error_set(err, FERRY_RECORD_ERROR, "stock.qty",
                               "eaccounting: the company's Stock module is on, so eAccounting keeps the articles' "
                               "stock balance itself (read-only in the API) and ferry cannot write stock.qty; "
                               "turn the Stock module off, or leave stock out of the mapping");
    }
    if (has) {
        json_object_set_new(n, "StockBalance", ferry_money_json_number(qty, 2));
    }
    return FERRY_OK;
}

static void put_uses_moss(ferry_conn *c, json_t *n)
{
    if (strcmp(c->uses_moss, "auto") == 0) {
        json_t *company = json_object_get(ea_refdata_company(c), "UsesMoss");
        json_object_set_new(n, "UsesMoss", json_boolean(json_is_true(company)));
    } else {
        json_object_set_new(n, "UsesMoss", json_boolean(strcmp(c->uses_moss, "true") == 0));
    }
}

static int put_unit(ferry_conn *c, json_t *n, const json_t *rec, int creating, ferry_error *err)
{
    const char *unit = plugin_json_str(rec, "unit");
    const char *field = "unit";
    if (ea_str_blank(unit)) {
        if (!creating) {
            return FERRY_OK;
        }
        unit = c->default_unit;
        field = "default_unit";
    }
    const json_t *found = NULL;
    int rc = ea_refdata_resolve(c, EA_REF_UNITS, unit, field, &found, err);
    if (rc == FERRY_OK) {
        plugin_json_set_str(n, "UnitId", plugin_json_str(found, "Id"));
    }
    return rc;
}

static int put_article_identity(json_t *n, const json_t *rec, int creating, ferry_error *err)
{
    const char *number = plugin_json_str(rec, "number");
    if (ea_str_blank(number)) {
        number = plugin_json_str(rec, "sku");
    }
    if (ea_str_blank(number) && creating) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "number", "eaccounting: the product has no number (sku)");
    }
    plugin_json_set_str(n, "Number", ea_str_blank(number) ? NULL : number);
    const char *name = plugin_json_str(rec, "name");
    if (ea_str_blank(name) && creating) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "name", "eaccounting: the product has no name");
    }
    plugin_json_set_str(n, "Name", ea_str_blank(name) ? NULL : name);
    int active = ea_json_bool(rec, "active");
    if (active >= 0 || creating) {
        json_object_set_new(n, "IsActive", json_boolean(active != 0));
    }
    return FERRY_OK;
}

int ea_map_article_to_native(ferry_conn *c, const json_t *rec, const json_t *existing, json_t **native,
                             ferry_error *err)
{
    *native = NULL;
    int creating = existing == NULL;
    json_t *n = json_object();
    const json_t *coding = NULL;
    ferry_money rate = ferry_money_from_int(0);
    int rc = put_article_identity(n, rec, creating, err);
    if (rc == FERRY_OK) {
        rc = ea_refdata_require(c, err);
    }
    if (rc == FERRY_OK) {
        rc = pick_coding(c, rec, existing, &coding, err);
    }
    if (rc == FERRY_OK && ea_refdata_coding_rate(coding, &rate) != 0) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "vat_rate",
                             "eaccounting: the article account coding '%s' has no VAT rate",
                             plugin_json_str(coding, "Name") ? plugin_json_str(coding, "Name") : "?");
    }
    if (rc == FERRY_OK) {
        plugin_json_set_str(n, "CodingId", plugin_json_str(coding, "Id"));
        rc = put_prices(c, n, rec, rate, err);
    }
    if (rc == FERRY_OK) {
        rc = put_unit(c, n, rec, creating, err);
    }
    if (rc == FERRY_OK) {
        rc = put_stock(c, n, rec, err);
    }
    if (rc == FERRY_OK) {
        put_barcodes(n, rec, existing);
        if (creating) {
            put_uses_moss(c, n);
        }
        rc = ea_map_merge_target_fields(n, rec, "target_fields", err);
    }
    if (rc != FERRY_OK) {
        json_decref(n);
        return rc;
    }
    *native = n;
    return FERRY_OK;
}

static void set_decimal(json_t *r, const char *key, const json_t *native, const char *member, int decimals)
{
    ferry_money v;
    if (ferry_money_from_json_round(json_object_get(native, member), EA_DECIMALS, &v) == FERRY_MONEY_OK) {
        json_object_set_new(r, key, ferry_money_json_string(v, decimals));
    }
}

json_t *ea_map_article_from_native(const ferry_conn *c, const json_t *native)
{
    char ts[32], pct[FERRY_MONEY_STRLEN];
    json_t *r = json_object();
    const char *id = plugin_json_str(native, "Id");
    plugin_json_set_str(r, "key", id);
    plugin_json_set_str(r, "id", id);
    plugin_json_set_str(r, "number", plugin_json_str(native, "Number"));
    plugin_json_set_str(r, "sku", plugin_json_str(native, "Number"));
    plugin_json_set_str(r, "name", plugin_json_str(native, "Name"));
    int active = ea_json_bool(native, "IsActive");
    if (active >= 0) {
        json_object_set_new(r, "active", json_boolean(active));
    }
    json_object_set_new(r, "type",
                        json_string(json_is_true(json_object_get(native, "IsServiceArticle")) ? "virtual" : "simple"));
    set_decimal(r, "net_price", native, "NetPrice", 2);
    set_decimal(r, "gross_price", native, "GrossPrice", 2);
    set_decimal(r, "price", native, "NetPrice", 2);
    const json_t *coding =
        ea_refdata_find(ea_refdata_list(c, EA_REF_CODINGS), EA_REF_CODINGS, plugin_json_str(native, "CodingId"));
    ferry_money rate;
    if (coding != NULL && ea_refdata_coding_rate(coding, &rate) == 0) {
        json_object_set_new(r, "vat_rate", json_string(ea_refdata_rate_percent(rate, -1, pct, sizeof(pct))));
    }
    plugin_json_set_str(r, "coding", plugin_json_str(native, "CodingName"));
    plugin_json_set_str(r, "unit", plugin_json_str(native, "UnitAbbreviation"));
    const char *ean = plugin_json_str(json_array_get(json_object_get(native, "Barcodes"), 0), "Barcode");
    plugin_json_set_str(r, "ean", ean);
    ferry_money qty;
    if (ferry_money_from_json_round(json_object_get(native, "StockBalance"), EA_DECIMALS, &qty) == FERRY_MONEY_OK) {
        json_t *stock = json_object();
        json_object_set_new(stock, "qty", ferry_money_json_string(qty, ferry_money_decimals(qty)));
        json_object_set_new(r, "stock", stock);
    }
    plugin_json_set_str(r, "updated_at", ea_map_timestamp(plugin_json_str(native, "ChangedUtc"), ts, sizeof(ts)));
    json_object_set(r, "source", (json_t *)native);
    return r;
}
