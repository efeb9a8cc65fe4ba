/* ea_refdata.c - reference data cache and name resolution (see ea_refdata.h). */
#include "config.h"

#include "ea_refdata.h"

#include <stdlib.h>
#include <string.h>

#include "ea_api.h"
#include "ea_conn.h"
#include "ea_str.h"
#include "money.h"
#include "plugin_util.h"
#include "util.h"

#define STATE_KEY "refdata"
#define CACHE_VERSION 1

typedef struct ref_kind {
    const char *kind;
    const char *label;       /* for messages */
    const char *const *keys; /* members a value may match */
    int needs_accounting;    /* ea:accounting scope */
} ref_kind;

static const char *const keys_terms[] = {"Id", "Name", "NameEnglish", NULL};
static const char *const keys_units[] = {"Id", "Code", "Abbreviation", "AbbreviationEnglish", "Name", NULL};
static const char *const keys_delivery[] = {"Id", "Code", "Name", "NameEnglish", NULL};
static const char *const keys_codings[] = {"Id", "Name", "NameEnglish", NULL};
static const char *const keys_code[] = {"Code", NULL};
static const char *const keys_countries[] = {"Code", "Name", "NameEnglish", NULL};
static const char *const keys_id[] = {"Id", NULL};
static const char *const keys_vat[] = {"Id", "Code", "Description", NULL};
static const char *const keys_accounts[] = {"Number", "Name", NULL};

static const ref_kind kinds[] = {
    {EA_REF_TERMS, "terms of payment", keys_terms, 0},
    {EA_REF_UNITS, "unit", keys_units, 0},
    {EA_REF_CODINGS, "article account coding", keys_codings, 0},
    {EA_REF_COUNTRIES, "country", keys_countries, 0},
    {EA_REF_CURRENCIES, "currency", keys_code, 0},
    {EA_REF_DELIVERY_METHODS, "delivery method", keys_delivery, 0},
    {EA_REF_DELIVERY_TERMS, "delivery term", keys_delivery, 0},
    {EA_REF_FISCAL_YEARS, "fiscal year", keys_id, 0},
    {EA_REF_VAT_CODES, "VAT code", keys_vat, 1},
    {EA_REF_ACCOUNTS, "account", keys_accounts, 1},
    {NULL, NULL, NULL, 0},
};

static const ref_kind *kind_info(const char *kind)
{
    for (const ref_kind *k = kinds; k->kind != NULL; k++) {
        if (strcmp(k->kind, kind) == 0) {
            return k;
        }
    }
    return NULL;
}

/* ---- the cache ------------------------------------------------------------------------- */

void ea_refdata_load(ferry_conn *c)
{
    json_t *cached = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (c->host->state_get(c->hc, STATE_KEY, &cached, &err) != FERRY_OK || !json_is_object(cached)) {
        json_decref(cached);
        return;
    }
    json_t *version = json_object_get(cached, "version");
    if (!json_is_integer(version) || json_integer_value(version) != CACHE_VERSION) {
        json_decref(cached);
        return;
    }
    json_decref(c->refdata);
    c->refdata = cached;
}

static int cache_is_fresh(const ferry_conn *c)
{
    json_t *at = json_object_get(c->refdata, "fetched_at_ms");
    if (!json_is_integer(at)) {
        return 0;
    }
    long long age = c->host->now_ms(c->hc) - (long long)json_integer_value(at);
    return c->refdata_max_age_ms == 0 || (age >= 0 && age < c->refdata_max_age_ms);
}

int ea_refdata_require(ferry_conn *c, ferry_error *err)
{
    if (c->refdata != NULL && cache_is_fresh(c)) {
        return FERRY_OK;
    }
    return ea_refdata_refresh(c, NULL, err);
}

/* Read one list kind into `cache`; a missing ea:accounting scope leaves an empty list and a note. */
static int fetch_kind(ferry_conn *c, const ref_kind *k, json_t *cache, ferry_error *err)
{
    json_t *items = NULL;
    int rc = ea_api_list_all(c, k->kind, NULL, &items, err);
    if (rc == FERRY_CONFIG_ERROR && k->needs_accounting && strcmp(err->code, "4006") == 0) {
        c->host->log(c->hc, FERRY_LOG_WARN, "eaccounting: cannot read %s without the ea:accounting scope; caching none",
                     k->kind);
        json_object_set_new(cache, k->kind, json_array());
        json_t *notes = json_object_get(cache, "notes");
        json_object_set_new(notes, k->kind, json_string("missing scope ea:accounting"));
        ferry_error_clear(err);
        return FERRY_OK;
    }
    if (rc == FERRY_OK) {
        json_object_set_new(cache, k->kind, items);
    }
    return rc;
}

int ea_refdata_refresh(ferry_conn *c, json_t **summary, ferry_error *err)
{
    if (summary != NULL) {
        *summary = NULL;
    }
    json_t *cache = json_pack("{s:i, s:{}}", "version", CACHE_VERSION, "notes");
    json_t *company = NULL;
    ea_request rq = {"GET", "/companysettings", NULL, NULL, "read company settings", NULL, 0};
    int rc = ea_api_call(c, &rq, &company, NULL, err);
    if (rc == FERRY_OK) {
        json_object_set_new(cache, "companysettings", company ? company : json_object());
    }
    for (const ref_kind *k = kinds; rc == FERRY_OK && k->kind != NULL; k++) {
        rc = fetch_kind(c, k, cache, err);
    }
    if (rc != FERRY_OK) {
        json_decref(cache);
        return rc;
    }
    long long now = c->host->now_ms(c->hc);
    char when[32];
    json_object_set_new(cache, "fetched_at_ms", json_integer(now));
    json_object_set_new(cache, "fetched_at", json_string(ferry_time_iso(now / 1000, when, sizeof(when))));
    rc = c->host->state_set(c->hc, STATE_KEY, cache, err);
    if (rc != FERRY_OK) {
        json_decref(cache);
        return rc;
    }
    json_decref(c->refdata);
    c->refdata = cache;
    c->refdata_refreshed = 1;
    if (summary != NULL) {
        *summary = json_pack("{s:s}", "fetched_at", when);
        for (const ref_kind *k = kinds; k->kind != NULL; k++) {
            json_object_set_new(*summary, k->kind,
                                json_integer((json_int_t)json_array_size(json_object_get(cache, k->kind))));
        }
        json_object_set(*summary, "notes", json_object_get(cache, "notes"));
    }
    return FERRY_OK;
}

const json_t *ea_refdata_company(const ferry_conn *c)
{
    return json_object_get(c->refdata, "companysettings");
}

const json_t *ea_refdata_list(const ferry_conn *c, const char *kind)
{
    return json_object_get(c->refdata, kind);
}

/* ---- lookups ------------------------------------------------------------------------------ */

static int all_digits(const char *s)
{
    if (s == NULL || *s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

/* Terms of payment by a number of days: normal terms (type 0) first, then any. */
static const json_t *terms_by_days(const json_t *list, long days)
{
    const json_t *any = NULL;
    size_t i;
    json_t *t;
    json_array_foreach (list, i, t) {
        json_t *n = json_object_get(t, "NumberOfDays");
        json_t *type = json_object_get(t, "TermsOfPaymentTypeId");
        if (!json_is_integer(n) || json_integer_value(n) != days ||
            json_is_false(json_object_get(t, "AvailableForSales"))) {
            continue;
        }
        if (json_is_integer(type) && json_integer_value(type) == 0) {
            return t;
        }
        if (any == NULL) {
            any = t;
        }
    }
    return any;
}

static int member_matches(const json_t *item, const char *key, const char *value)
{
    json_t *m = json_object_get(item, key);
    if (json_is_string(m)) {
        return ferry_streq_nocase(json_string_value(m), value);
    }
    if (json_is_integer(m) && all_digits(value)) {
        return json_integer_value(m) == atoll(value);
    }
    return 0;
}

const json_t *ea_refdata_find(const json_t *list, const char *kind, const char *value)
{
    const ref_kind *k = kind_info(kind);
    if (k == NULL || value == NULL || !json_is_array(list)) {
        return NULL;
    }
    /* one key at a time, so a Code beats a Name that happens to look the same */
    for (const char *const *key = k->keys; *key != NULL; key++) {
        size_t i;
        json_t *item;
        json_array_foreach (list, i, item) {
            if (member_matches(item, *key, value)) {
                return item;
            }
        }
    }
    if (strcmp(kind, EA_REF_TERMS) == 0 && all_digits(value) && strlen(value) < 6) {
        return terms_by_days(list, atol(value));
    }
    return NULL;
}

/* "valid: a, b, c" for a short list (at most 15 entries), else "". */
static void describe_valid(const json_t *list, const ref_kind *k, ferry_buf *out)
{
    size_t n = json_array_size(list);
    if (n == 0 || n > 15) {
        return;
    }
    ferry_buf_puts(out, "; valid values are ");
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item) {
        const char *code = plugin_json_str(item, "Code");
        const char *name = plugin_json_str(item, "Name");
        const char *main = strcmp(k->kind, EA_REF_TERMS) == 0 || code == NULL ? name : code;
        ferry_buf_printf(out, "%s'%s'", i ? ", " : "", main ? main : "?");
        if (code != NULL && name != NULL && main == code) {
            ferry_buf_printf(out, " (%s)", name);
        }
    }
}

int ea_refdata_resolve(ferry_conn *c, const char *kind, const char *value, const char *field, const json_t **found,
                       ferry_error *err)
{
    *found = NULL;
    const ref_kind *k = kind_info(kind);
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK || k == NULL) {
        return rc != FERRY_OK ? rc : ferry_error_set(err, FERRY_FATAL, field, "eaccounting: unknown list %s", kind);
    }
    *found = ea_refdata_find(ea_refdata_list(c, kind), kind, value);
    if (*found == NULL && !c->refdata_refreshed) {
        /* maybe it was added in eAccounting after the cache was filled */
        rc = ea_refdata_refresh(c, NULL, err);
        if (rc != FERRY_OK) {
            return rc;
        }
        *found = ea_refdata_find(ea_refdata_list(c, kind), kind, value);
    }
    if (*found != NULL) {
        return FERRY_OK;
    }
    ferry_buf m = FERRY_BUF_INIT;
    ferry_buf_printf(&m, "eaccounting: %s '%s' is not a %s known in eAccounting", field, value ? value : "", k->label);
    describe_valid(ea_refdata_list(c, kind), k, &m);
    ferry_error_set(err, FERRY_RECORD_ERROR, field, "%s", ferry_buf_str(&m));
    ferry_buf_free(&m);
    return FERRY_RECORD_ERROR;
}

/* ---- article account codings ----------------------------------------------------------------- */

int ea_refdata_coding_rate(const json_t *coding, ferry_money *rate)
{
    ferry_money v;
    json_t *pct = json_object_get(coding, "VatRatePercent");
    if (ferry_money_from_json_round(pct, EA_DECIMALS, &v) == FERRY_MONEY_OK) {
        if (ferry_money_cmp(v, ferry_money_from_int(1)) <= 0) {
            *rate = v;
            return 0;
        }
        return ferry_money_shift(v, -2, rate) == FERRY_MONEY_OK ? 0 : -1;
    }
    const char *code = plugin_json_str(coding, "VatRate");
    if (code != NULL) {
        char digits[32];
        ferry_strlcpy(digits, code, sizeof(digits));
        digits[strcspn(digits, "% ")] = '\0';
        if (ferry_money_parse_plain(digits, EA_DECIMALS, &v) == FERRY_MONEY_OK &&
            ferry_money_shift(v, -2, rate) == FERRY_MONEY_OK) {
            return 0;
        }
    }
    return -1;
}

int ea_refdata_coding_is_service(const json_t *coding)
{
    const char *type = plugin_json_str(coding, "Type");
    return type != NULL && ea_stristr(type, "serv") != NULL;
}

char *ea_refdata_rate_percent(ferry_money rate, int decimals, char *buf, size_t n)
{
    ferry_money pct;
    if (ferry_money_shift(rate, 2, &pct) != FERRY_MONEY_OK ||
        ferry_money_round(pct, decimals < 0 ? ferry_money_decimals(pct) : decimals, &pct) != FERRY_MONEY_OK) {
        snprintf(buf, n, "?");
        return buf;
    }
    return ferry_money_format(pct, buf, n);
}

static const json_t *coding_matching(const json_t *list, ferry_money rate, int service, int any_type)
{
    size_t i;
    json_t *c;
    json_array_foreach (list, i, c) {
        ferry_money r;
        if (json_is_false(json_object_get(c, "IsActive")) || ea_refdata_coding_rate(c, &r) != 0 ||
            ferry_money_cmp(r, rate) != 0) {
            continue;
        }
        if (any_type || ea_refdata_coding_is_service(c) == service) {
            return c;
        }
    }
    return NULL;
}

int ea_refdata_coding_for_rate(ferry_conn *c, ferry_money rate, int service, const char *field, const json_t **coding,
                               ferry_error *err)
{
    int rc = ea_refdata_require(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const json_t *list = ea_refdata_list(c, EA_REF_CODINGS);
    *coding = coding_matching(list, rate, service, 0);
    if (*coding == NULL) {
        *coding = coding_matching(list, rate, service, 1);
    }
    if (*coding != NULL) {
        return FERRY_OK;
    }
    char pct[32];
    ferry_buf m = FERRY_BUF_INIT;
    ferry_buf_printf(&m, "eaccounting: no active article account coding in eAccounting has VAT %s %%; codings there: ",
                     ea_refdata_rate_percent(rate, 2, pct, sizeof(pct)));
    size_t i;
    json_t *item;
    json_array_foreach (list, i, item) {
        const char *name = plugin_json_str(item, "Name");
        ferry_buf_printf(&m, "%s'%s'", i ? ", " : "", name ? name : "?");
    }
    ferry_error_set(err, FERRY_RECORD_ERROR, field, "%s", ferry_buf_str(&m));
    ferry_buf_free(&m);
    return FERRY_RECORD_ERROR;
}
