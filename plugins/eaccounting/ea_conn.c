/* ea_conn.c - connection state and the settings schema (see ea_conn.h). */
#include "config.h"

#include "ea_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ea_str.h"
#include "util.h"

const ferry_setting_spec ea_settings[] = {
    {"api_base_url", FERRY_SETTING_URL, 0, "https://eaccountingapi.vismaonline.com/v2", NULL,
     "eAccounting API base URL (sandbox companies use the production hosts too)"},
    {"identity_base_url", FERRY_SETTING_URL, 0, "https://identity.vismaonline.com", NULL,
     "Visma identity server (OAuth2 authorize and token endpoints)"},
    {"client_id", FERRY_SETTING_STRING, FERRY_SETTING_REQUIRED, NULL, NULL,
     "OAuth2 client id from the Visma developer portal"},
    {"client_secret", FERRY_SETTING_STRING, FERRY_SETTING_REQUIRED | FERRY_SETTING_SECRET, NULL, NULL,
     "OAuth2 client secret"},
    {"redirect_uri", FERRY_SETTING_URL, 0, "http://localhost:53682/callback", NULL,
     "redirect URI registered for the client; a localhost one lets ferry catch the browser's answer itself"},
    {"scopes", FERRY_SETTING_STRING, 0, "ea:api offline_access ea:sales ea:accounting", NULL,
     "OAuth2 scopes to ask for (ea:accounting is needed for VAT codes and accounts)"},
    {"authorize_mode", FERRY_SETTING_ENUM, 0, "auto", "auto|listen|paste",
     "how authorize gets the code: listen on the localhost redirect URI, ask to paste it, or both (auto)"},
    {"authorize_timeout_seconds", FERRY_SETTING_INT, 0, "300", NULL,
     "how long authorize waits for the browser (the code itself lives 5 minutes)"},
    {"auth_code", FERRY_SETTING_STRING, FERRY_SETTING_SECRET, NULL, NULL,
     "headless authorize: an authorization code or the whole redirect URL (used once, then cleared; "
     "the environment variable FERRY_EA_AUTH_CODE works too)"},
    {"access_token", FERRY_SETTING_STRING, FERRY_SETTING_SECRET | FERRY_SETTING_MANAGED, NULL, NULL,
     "OAuth2 access token (written by ferry)"},
    {"refresh_token", FERRY_SETTING_STRING, FERRY_SETTING_SECRET | FERRY_SETTING_MANAGED, NULL, NULL,
     "OAuth2 refresh token (written by ferry; eAccounting may rotate it on every refresh)"},
    {"access_token_expires_at", FERRY_SETTING_STRING, FERRY_SETTING_MANAGED, NULL, NULL,
     "when the access token expires, UTC (written by ferry)"},
    {"rate_limit_per_minute", FERRY_SETTING_INT, 0, "600", NULL,
     "requests per minute per endpoint (eAccounting allows 600 per client and endpoint)"},
    {"rate_limit_wait_seconds", FERRY_SETTING_INT, 0, "300", NULL,
     "how long one request may wait in all when eAccounting answers 429 (each wait as long as eAccounting "
     "asks, at most 120 s, at most 3 waits); 0 = do not wait, leave it to the next run"},
    {"page_size", FERRY_SETTING_INT, 0, "500", NULL, "records per list request ($pagesize)"},
    {"document_type", FERRY_SETTING_ENUM, 0, "invoice_draft", "order|invoice_draft|invoice",
     "document type read by read_page and searched first by find when the request names none"},
    {"external_reference_field", FERRY_SETTING_ENUM, 0, "BuyersOrderReference",
     "BuyersOrderReference|YourReference|OurReference",
     "document field that carries the source's reference (the shop order number) so it can be found again"},
    {"default_unit", FERRY_SETTING_STRING, 0, "st", NULL,
     "unit (code, abbreviation or name) of articles whose record names none"},
    {"default_vat_rate", FERRY_SETTING_STRING, 0, "25", NULL,
     "VAT percent used to pick the article account coding when a product names none"},
    {"article_uses_oss", FERRY_SETTING_ENUM, 0, "auto", "auto|true|false",
     "set UsesMoss (EU One Stop Shop) on articles; auto follows the company setting"},
    {"reference_data_max_age_hours", FERRY_SETTING_INT, 0, "24", NULL,
     "re-read cached reference data (VAT codes, units, terms...) after this many hours"},
    {"timeout_seconds", FERRY_SETTING_INT, 0, "60", NULL, "HTTP timeout per request"},
    {"ca_file", FERRY_SETTING_STRING, 0, NULL, NULL, "CA bundle for TLS (default: the system's)"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

const char *ea_conn_setting(const ferry_conn *c, const char *name)
{
    return c->host->setting(c->hc, name);
}

/* A copy of the setting with trailing slashes removed (URLs), or NULL. */
static char *copy_url(const ferry_conn *c, const char *name)
{
    char *s = ferry_strdup(ea_conn_setting(c, name));
    if (s != NULL) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '/') {
            s[--n] = '\0';
        }
    }
    return s;
}

/* An integer setting in [lo, hi]; FERRY_CONFIG_ERROR naming it otherwise. */
static int int_setting(const ferry_conn *c, const char *name, long lo, long hi, int *out, ferry_error *err)
{
    const char *v = ea_conn_setting(c, name);
    char *end = NULL;
    errno = 0;
    long n = v != NULL ? strtol(v, &end, 10) : 0;
    if (v == NULL || end == v || *end != '\0' || errno != 0 || n < lo || n > hi) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, name,
                               "eaccounting: setting %s must be a number from %ld to %ld", name, lo, hi);
    }
    *out = (int)n;
    return FERRY_OK;
}

static int copy_settings(ferry_conn *c, ferry_error *err)
{
    c->api_base = copy_url(c, "api_base_url");
    c->identity_base = copy_url(c, "identity_base_url");
    c->client_id = ferry_strdup(ea_conn_setting(c, "client_id"));
    c->client_secret = ferry_strdup(ea_conn_setting(c, "client_secret"));
    c->redirect_uri = ferry_strdup(ea_conn_setting(c, "redirect_uri"));
    c->scopes = ferry_strdup(ea_conn_setting(c, "scopes"));
    c->authorize_mode = ferry_strdup(ea_conn_setting(c, "authorize_mode"));
    c->document_type = ferry_strdup(ea_conn_setting(c, "document_type"));
    c->ref_field = ferry_strdup(ea_conn_setting(c, "external_reference_field"));
    c->default_unit = ferry_strdup(ea_conn_setting(c, "default_unit"));
    c->default_vat_rate = ferry_strdup(ea_conn_setting(c, "default_vat_rate"));
    c->uses_moss = ferry_strdup(ea_conn_setting(c, "article_uses_oss"));
    if (!c->api_base || !c->identity_base || !c->redirect_uri || !c->scopes || !c->authorize_mode ||
        !c->document_type || !c->ref_field || !c->default_unit || !c->default_vat_rate || !c->uses_moss) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory reading settings");
    }
    if (ea_str_blank(c->client_id)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "client_id",
                               "eaccounting: setting client_id is missing (the OAuth2 client id of your Visma "
                               "developer application)");
    }
    if (ea_str_blank(c->client_secret)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "client_secret",
                               "eaccounting: setting client_secret is missing");
    }
    c->host->secret(c->hc, c->client_secret);
    int hours = 24;
    int wait_s = 300;
    if (int_setting(c, "rate_limit_per_minute", 1, 100000, &c->rate_per_minute, err) != FERRY_OK ||
        int_setting(c, "rate_limit_wait_seconds", 0, 3600, &wait_s, err) != FERRY_OK ||
        int_setting(c, "page_size", 1, 10000, &c->page_size, err) != FERRY_OK ||
        int_setting(c, "authorize_timeout_seconds", 1, 3600, &c->authorize_timeout_s, err) != FERRY_OK ||
        int_setting(c, "reference_data_max_age_hours", 0, 24 * 365, &hours, err) != FERRY_OK) {
        return err->status;
    }
    c->refdata_max_age_ms = (long long)hours * 3600 * 1000;
    c->rate_wait_ms = (long long)wait_s * 1000;
    return FERRY_OK;
}

int ea_conn_load_tokens(ferry_conn *c)
{
    free(c->access_token);
    free(c->refresh_token);
    c->access_token = ferry_strdup(ea_conn_setting(c, "access_token"));
    c->refresh_token = ferry_strdup(ea_conn_setting(c, "refresh_token"));
    c->expires_at_ms = 0;
    const char *exp = ea_conn_setting(c, "access_token_expires_at");
    long long ms;
    if (exp != NULL && ea_time_parse(exp, &ms) == 0) {
        c->expires_at_ms = ms;
    }
    if (c->access_token != NULL) {
        c->host->secret(c->hc, c->access_token);
    }
    if (c->refresh_token != NULL) {
        c->host->secret(c->hc, c->refresh_token);
    }
    int lost = (ea_conn_setting(c, "access_token") && !c->access_token) ||
               (ea_conn_setting(c, "refresh_token") && !c->refresh_token);
    return lost ? -1 : 0;
}

int ea_conn_create(const ferry_host *host, ferry_host_conn *hc, ferry_conn **out, ferry_error *err)
{
    *out = NULL;
    ferry_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    c->host = host;
    c->hc = hc;
    int rc = copy_settings(c, err);
    if (rc == FERRY_OK && ea_conn_load_tokens(c) != 0) {
        rc = ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory reading tokens");
    }
    if (rc != FERRY_OK) {
        ea_conn_destroy(c);
        return rc;
    }
    *out = c;
    return FERRY_OK;
}

void ea_conn_destroy(ferry_conn *c)
{
    if (c == NULL) {
        return;
    }
    char **strings[] = {&c->api_base,     &c->identity_base, &c->client_id,        &c->client_secret,
                        &c->redirect_uri, &c->scopes,        &c->authorize_mode,   &c->document_type,
                        &c->ref_field,    &c->default_unit,  &c->default_vat_rate, &c->uses_moss,
                        &c->access_token, &c->refresh_token};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
    }
    for (size_t i = 0; i < c->nbuckets; i++) {
        free(c->buckets[i]);
    }
    free(c->buckets);
    json_decref(c->refdata);
    json_decref(c->article_codings);
    json_decref(c->customer_facts);
    free(c);
}
