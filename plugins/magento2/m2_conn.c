/* m2_conn.c - the connection settings and their checks (see m2_conn.h). */
#include "config.h"

#include "m2_conn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m2_util.h"
#include "util.h"

#define S FERRY_SETTING_SECRET
#define R FERRY_SETTING_REQUIRED
#define M FERRY_SETTING_MANAGED

const ferry_setting_spec m2_settings[] = {
    {"base_url", FERRY_SETTING_URL, R, NULL, NULL,
     "the shop's address, e.g. https://shop.example.com (add /index.php when URL rewrites are off)"},
    {"store_code", FERRY_SETTING_STRING, 0, "default", NULL,
     "store view code for reads (/rest/<code>/V1); product writes always use /rest/all/V1"},
    {"auth_mode", FERRY_SETTING_ENUM, 0, "oauth", "oauth|bearer|admin",
     "oauth = integration credentials signed with OAuth 1.0a HMAC-SHA256 (recommended); bearer = the "
     "integration access token as a Bearer token (needs oauth/consumer/enable_integration_as_bearer on 2.4.4+); "
     "admin = an admin user name and password (not possible with two-factor authentication)"},
    {"consumer_key", FERRY_SETTING_STRING, 0, NULL, NULL, "integration consumer key (oauth mode)"},
    {"consumer_secret", FERRY_SETTING_STRING, S, NULL, NULL, "integration consumer secret (oauth mode)"},
    {"access_token", FERRY_SETTING_STRING, S, NULL, NULL, "integration access token (oauth and bearer modes)"},
    {"access_token_secret", FERRY_SETTING_STRING, S, NULL, NULL, "integration access token secret (oauth mode)"},
    {"admin_username", FERRY_SETTING_STRING, 0, NULL, NULL, "admin user name (admin mode)"},
    {"admin_password", FERRY_SETTING_STRING, S, NULL, NULL, "admin password (admin mode)"},
    {"admin_token", FERRY_SETTING_STRING, S | M, NULL, NULL, "admin token obtained by ferry (admin mode)"},
    {"admin_token_expires_at", FERRY_SETTING_STRING, M, NULL, NULL,
     "when ferry renews the admin token (UTC, YYYY-MM-DDTHH:MM:SSZ)"},
    {"admin_token_lifetime_minutes", FERRY_SETTING_INT, 0, "240", NULL,
     "admin token lifetime configured in Magento (oauth/access_token_expiration_period/admin, 4 h)"},
    {"stock_mode", FERRY_SETTING_ENUM, 0, "legacy", "legacy|msi",
     "legacy = CatalogInventory stock items; msi = Inventory Management source items and salable quantity"},
    {"msi_source_code", FERRY_SETTING_STRING, 0, "default", NULL, "MSI source written and read (msi mode)"},
    {"msi_stock_id", FERRY_SETTING_INT, 0, "1", NULL, "MSI stock whose salable quantity is read (msi mode)"},
    {"page_size", FERRY_SETTING_INT, 0, "100", NULL, "records per page (1-300)"},
    {"cursor_overlap_seconds", FERRY_SETTING_INT, 0, "300", NULL,
     "each run re-reads this many seconds before the last updated_at seen, for late commits"},
    {"root_category_id", FERRY_SETTING_INT, 0, NULL, NULL,
     "root category that category paths start below (default: the first store root)"},
    {"website_ids", FERRY_SETTING_STRING, 0, "1", NULL, "comma-separated website ids given to created products"},
    {"media_base_url", FERRY_SETTING_URL, 0, NULL, NULL,
     "base of media URLs, e.g. https://shop.example.com/media/ (default: from the store config)"},
    {"ean_attribute", FERRY_SETTING_STRING, 0, "ean", NULL, "product attribute code that holds the EAN/GTIN"},
    {"prices_include_tax", FERRY_SETTING_BOOL, 0, "false", NULL,
     "the catalogue's prices include tax (Stores > Configuration > Sales > Tax > Calculation Settings)"},
    {"timeout_seconds", FERRY_SETTING_INT, 0, NULL, NULL, "HTTP timeout per attempt (default 60)"},
    {"ca_file", FERRY_SETTING_STRING, 0, NULL, NULL, "CA bundle for TLS (default: the system's)"},
    {NULL, 0, 0, NULL, NULL, NULL}};

const char *m2_setting(const ferry_conn *c, const char *name)
{
    const char *v = c->host->setting(c->hc, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* base_url without a trailing slash (and without a pasted /rest or /rest/V1 suffix). */
static char *normalise_base_url(const char *raw)
{
    char *url = ferry_strdup(raw);
    if (url == NULL) {
        return NULL;
    }
    for (;;) {
        size_t n = strlen(url);
        if (n > 0 && url[n - 1] == '/') {
            url[n - 1] = '\0';
        } else if (n > 8 && strcasecmp(url + n - 8, "/rest/V1") == 0) {
            url[n - 8] = '\0';
        } else if (n > 5 && strcasecmp(url + n - 5, "/rest") == 0) {
            url[n - 5] = '\0';
        } else {
            break;
        }
    }
    return url;
}

static long int_setting(const ferry_conn *c, const char *name, long dflt)
{
    const char *v = m2_setting(c, name);
    return v != NULL ? strtol(v, NULL, 10) : dflt;
}

static int require_setting(const ferry_conn *c, const char *name, const char *mode, ferry_error *err)
{
    if (m2_setting(c, name) == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "setting %s is required when auth_mode is %s", name,
                               mode);
    }
    return FERRY_OK;
}

static int check_auth_settings(const ferry_conn *c, ferry_error *err)
{
    static const char *const oauth[] = {"consumer_key", "consumer_secret", "access_token", "access_token_secret", NULL};
    static const char *const bearer[] = {"access_token", NULL};
    static const char *const admin[] = {"admin_username", "admin_password", NULL};
    const char *const *needed = c->auth_mode == M2_AUTH_OAUTH ? oauth : c->auth_mode == M2_AUTH_BEARER ? bearer : admin;
    const char *mode = c->auth_mode == M2_AUTH_OAUTH ? "oauth" : c->auth_mode == M2_AUTH_BEARER ? "bearer" : "admin";
    for (int i = 0; needed[i] != NULL; i++) {
        if (require_setting(c, needed[i], mode, err) != FERRY_OK) {
            return FERRY_CONFIG_ERROR;
        }
    }
    return FERRY_OK;
}

static int read_modes(ferry_conn *c, ferry_error *err)
{
    const char *mode = m2_setting(c, "auth_mode");
    if (mode == NULL || strcmp(mode, "oauth") == 0) {
        c->auth_mode = M2_AUTH_OAUTH;
    } else if (strcmp(mode, "bearer") == 0) {
        c->auth_mode = M2_AUTH_BEARER;
    } else if (strcmp(mode, "admin") == 0) {
        c->auth_mode = M2_AUTH_ADMIN;
    } else {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_mode", "auth_mode must be oauth, bearer or admin");
    }
    const char *stock = m2_setting(c, "stock_mode");
    if (stock == NULL || strcmp(stock, "legacy") == 0) {
        c->stock_mode = M2_STOCK_LEGACY;
    } else if (strcmp(stock, "msi") == 0) {
        c->stock_mode = M2_STOCK_MSI;
    } else {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "stock_mode", "stock_mode must be legacy or msi");
    }
    return FERRY_OK;
}

static int read_numbers(ferry_conn *c, ferry_error *err)
{
    long page = int_setting(c, "page_size", 100);
    if (page < 1 || page > 300) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "page_size",
                               "page_size must be between 1 and 300 (Magento refuses more when input limits are on)");
    }
    c->page_size = (int)page;
    c->overlap_seconds = int_setting(c, "cursor_overlap_seconds", 300);
    if (c->overlap_seconds < 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "cursor_overlap_seconds",
                               "cursor_overlap_seconds must not be negative");
    }
    c->msi_stock_id = int_setting(c, "msi_stock_id", 1);
    c->root_category_id = int_setting(c, "root_category_id", 0);
    const char *incl = m2_setting(c, "prices_include_tax");
    c->prices_include_tax = incl != NULL && (strcmp(incl, "true") == 0 || strcmp(incl, "1") == 0);
    return FERRY_OK;
}

static int read_strings(ferry_conn *c, ferry_error *err)
{
    const char *base = m2_setting(c, "base_url");
    if (base == NULL || (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "base_url",
                               "base_url must be the shop's http(s) address, e.g. https://shop.example.com");
    }
    const char *store = m2_setting(c, "store_code");
    if (store != NULL &&
        strspn(store, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(store)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "store_code",
                               "store_code may only hold letters, digits and underscores (a Magento store code)");
    }
    const char *media = m2_setting(c, "media_base_url");
    c->base_url = normalise_base_url(base);
    c->store_code = ferry_strdup(store ? store : "default");
    c->msi_source_code = ferry_strdup(m2_setting(c, "msi_source_code") ? m2_setting(c, "msi_source_code") : "default");
    c->website_ids = ferry_strdup(m2_setting(c, "website_ids") ? m2_setting(c, "website_ids") : "1");
    c->ean_attribute = ferry_strdup(m2_setting(c, "ean_attribute") ? m2_setting(c, "ean_attribute") : "ean");
    if (media != NULL) {
        size_t n = strlen(media);
        c->media_base_url = n > 0 && media[n - 1] == '/' ? ferry_strdup(media) : ferry_asprintf("%s/", media);
    }
    if (c->base_url == NULL || c->store_code == NULL || c->msi_source_code == NULL || c->website_ids == NULL ||
        c->ean_attribute == NULL || (media != NULL && c->media_base_url == NULL)) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    return FERRY_OK;
}

/* Tell the host's redaction about every secret, so none can reach a log line. */
static void register_secrets(const ferry_conn *c)
{
    static const char *const names[] = {"consumer_secret", "access_token", "access_token_secret",
                                        "admin_password",  "admin_token",  NULL};
    for (int i = 0; names[i] != NULL; i++) {
        const char *v = m2_setting(c, names[i]);
        if (v != NULL && c->host->secret != NULL) {
            c->host->secret(c->hc, v);
        }
    }
}

int m2_conn_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **out, ferry_error *err)
{
    *out = NULL;
    ferry_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    c->host = host;
    c->hc = hc;
    int rc = read_modes(c, err);
    if (rc == FERRY_OK) {
        rc = read_numbers(c, err);
    }
    if (rc == FERRY_OK) {
        rc = read_strings(c, err);
    }
    if (rc == FERRY_OK) {
        rc = check_auth_settings(c, err);
    }
    if (rc != FERRY_OK) {
        m2_conn_close(c);
        return rc;
    }
    register_secrets(c);
    *out = c;
    return FERRY_OK;
}

void m2_conn_close(ferry_conn *c)
{
    if (c == NULL) {
        return;
    }
    free(c->base_url);
    free(c->store_code);
    free(c->msi_source_code);
    free(c->website_ids);
    free(c->media_base_url);
    free(c->ean_attribute);
    json_decref(c->categories);
    free(c);
}
