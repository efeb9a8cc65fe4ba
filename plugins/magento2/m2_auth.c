/* m2_auth.c - OAuth 1.0a signing, Bearer and admin tokens (see m2_auth.h). */
#include "config.h"

#include "m2_auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m2_api.h"
#include "m2_util.h"
#include "util.h"

#define SIGNATURE_METHOD "HMAC-SHA256"
#define TOKEN_LOCK "admin-token"
#define RENEW_MARGIN_MS (5LL * 60 * 1000) /* renew five minutes before Magento would expire it */

/* ---- OAuth 1.0a --------------------------------------------------------------------- */

typedef struct pair {
    const char *name;
    const char *value;
} pair;

static int compare_pairs(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name); /* Magento: PHP ksort on the decoded names */
    return c != 0 ? c : strcmp(x->value, y->value);
}

/* scheme://host[:port]/path, scheme and host lower-cased, default ports and the query dropped. */
static char *normalised_url(const char *url)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL) {
        return ferry_strdup(url);
    }
    size_t scheme_len = (size_t)(sep - url);
    const char *authority = sep + 3;
    size_t auth_len = strcspn(authority, "/?#");
    const char *path = authority + auth_len;
    size_t path_len = strcspn(path, "?#");
    ferry_buf b = FERRY_BUF_INIT;
    for (size_t i = 0; i < scheme_len; i++) {
        char ch = (char)tolower((unsigned char)url[i]);
        ferry_buf_append(&b, &ch, 1);
    }
    ferry_buf_puts(&b, "://");
    size_t keep = auth_len;
    int https = scheme_len == 5 && strncasecmp(url, "https", 5) == 0;
    if (!https && auth_len > 3 && strncmp(authority + auth_len - 3, ":80", 3) == 0) {
        keep -= 3;
    } else if (https && auth_len > 4 && strncmp(authority + auth_len - 4, ":443", 4) == 0) {
        keep -= 4;
    }
    for (size_t i = 0; i < keep; i++) {
        char ch = (char)tolower((unsigned char)authority[i]);
        ferry_buf_append(&b, &ch, 1);
    }
    ferry_buf_append(&b, path, path_len);
    return ferry_buf_finish(&b);
}

static int add_enc(const ferry_host *host, ferry_buf *b, const char *text)
{
    char *e = host->url_encode(text ? text : "");
    if (e == NULL) {
        return -1;
    }
    ferry_buf_puts(b, e);
    host->free(e);
    return 0;
}

/* The normalised parameter string: protocol values and query pairs, sorted, encoded, joined. */
static char *normalised_params(const ferry_host *host, const m2_params *query, const m2_oauth_values *v)
{
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", v->timestamp);
    size_t nq = query ? query->count : 0;
    pair *all = calloc(nq + 6, sizeof(*all));
    if (all == NULL) {
        return NULL;
    }
    size_t n = 0;
    all[n++] = (pair){"oauth_consumer_key", v->consumer_key};
    all[n++] = (pair){"oauth_nonce", v->nonce};
    all[n++] = (pair){"oauth_signature_method", SIGNATURE_METHOD};
    all[n++] = (pair){"oauth_timestamp", ts};
    all[n++] = (pair){"oauth_token", v->token};
    all[n++] = (pair){"oauth_version", "1.0"};
    for (size_t i = 0; i < nq; i++) {
        if (strncmp(query->names[i], "oauth_", 6) != 0) { /* Magento skips oauth_* names of the query */
            all[n++] = (pair){query->names[i], query->values[i]};
        }
    }
    qsort(all, n, sizeof(*all), compare_pairs);
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            ferry_buf_puts(&b, "&");
        }
        add_enc(host, &b, all[i].name);
        ferry_buf_puts(&b, "=");
        add_enc(host, &b, all[i].value);
    }
    free(all);
    return ferry_buf_finish(&b);
}

char *m2_oauth_base_string(const ferry_host *host, const char *method, const char *url, const m2_params *query,
                           const m2_oauth_values *v)
{
    char *norm_url = normalised_url(url);
    char *params = normalised_params(host, query, v);
    ferry_buf b = FERRY_BUF_INIT;
    if (norm_url == NULL || params == NULL) {
        free(norm_url);
        free(params);
        return NULL;
    }
    for (const char *m = method; *m; m++) {
        char ch = (char)toupper((unsigned char)*m);
        ferry_buf_append(&b, &ch, 1);
    }
    ferry_buf_puts(&b, "&");
    add_enc(host, &b, norm_url);
    ferry_buf_puts(&b, "&");
    add_enc(host, &b, params);
    free(norm_url);
    free(params);
    return ferry_buf_finish(&b);
}

/* base64(HMAC-SHA256(enc(consumer_secret)&enc(token_secret), base)) */
static char *signature(const ferry_host *host, const char *base, const m2_oauth_values *v)
{
    ferry_buf key = FERRY_BUF_INIT;
    add_enc(host, &key, v->consumer_secret);
    ferry_buf_puts(&key, "&");
    add_enc(host, &key, v->token_secret);
    if (key.failed) {
        ferry_buf_free(&key);
        return NULL;
    }
    unsigned char mac[32];
    host->hmac_sha256(ferry_buf_str(&key), key.len, base, strlen(base), mac);
    ferry_buf_free(&key);
    char *b64 = host->base64_encode(mac, sizeof(mac));
    char *out = ferry_strdup(b64);
    host->free(b64);
    return out;
}

static void header_param(const ferry_host *host, ferry_buf *b, const char *name, const char *value, int first)
{
    if (!first) {
        ferry_buf_puts(b, ", ");
    }
    ferry_buf_puts(b, name);
    ferry_buf_puts(b, "=\"");
    add_enc(host, b, value);
    ferry_buf_puts(b, "\"");
}

char *m2_oauth_header(const ferry_host *host, const char *method, const char *url, const m2_params *query,
                      const m2_oauth_values *v)
{
    char *base = m2_oauth_base_string(host, method, url, query, v);
    char *sig = base ? signature(host, base, v) : NULL;
    free(base);
    if (sig == NULL) {
        return NULL;
    }
    char ts[32];
    snprintf(ts, sizeof(ts), "%lld", v->timestamp);
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "OAuth ");
    header_param(host, &b, "oauth_consumer_key", v->consumer_key, 1);
    header_param(host, &b, "oauth_nonce", v->nonce, 0);
    header_param(host, &b, "oauth_signature", sig, 0);
    header_param(host, &b, "oauth_signature_method", SIGNATURE_METHOD, 0);
    header_param(host, &b, "oauth_timestamp", ts, 0);
    header_param(host, &b, "oauth_token", v->token, 0);
    header_param(host, &b, "oauth_version", "1.0", 0);
    free(sig);
    return ferry_buf_finish(&b);
}

/* 16 random bytes as 32 hex digits (Magento's nonce column holds 32 characters). */
static int make_nonce(const ferry_conn *c, char out[33])
{
    unsigned char raw[16];
    if (c->host->random_bytes(raw, sizeof(raw)) != 0) {
        return -1;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

static int oauth_line(ferry_conn *c, const char *method, const char *url, const m2_params *query, char **line,
                      ferry_error *err)
{
    char nonce[33];
    if (make_nonce(c, nonce) != 0) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "no random bytes for the OAuth nonce");
    }
    m2_oauth_values v = {m2_setting(c, "consumer_key"),
                         m2_setting(c, "consumer_secret"),
                         m2_setting(c, "access_token"),
                         m2_setting(c, "access_token_secret"),
                         nonce,
                         c->host->now_ms(c->hc) / 1000};
    if (v.consumer_key == NULL || v.consumer_secret == NULL || v.token == NULL || v.token_secret == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "consumer_key",
                               "auth_mode oauth needs consumer_key, consumer_secret, access_token and "
                               "access_token_secret (the integration's four credentials)");
    }
    char *value = m2_oauth_header(c->host, method, url, query, &v);
    *line = value ? ferry_asprintf("Authorization: %s", value) : NULL;
    free(value);
    return *line ? FERRY_OK : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
}

/* ---- admin tokens ------------------------------------------------------------------------ */

const char *m2_auth_admin_token(const ferry_conn *c)
{
    return m2_setting(c, "admin_token");
}

static int token_still_good(const ferry_conn *c)
{
    const char *token = m2_setting(c, "admin_token");
    const char *expires = m2_setting(c, "admin_token_expires_at");
    long long until;
    if (token == NULL || expires == NULL || m2_time_parse(expires, &until) != 0) {
        return 0;
    }
    return c->host->now_ms(c->hc) < until * 1000;
}

static int is_tfa_message(const char *msg)
{
    return msg != NULL &&
           (strstr(msg, "2fa") != NULL || strstr(msg, "Two-Factor") != NULL || strstr(msg, "configure 2FA") != NULL);
}

/* Explain a refused token request. */
static int token_error(ferry_conn *c, long status, const json_t *body, const char *raw, ferry_error *err)
{
    char *msg = m2_api_message(body);
    int rc;
    if (is_tfa_message(msg)) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_mode",
                             "Magento will not give an admin token for a user name and password alone: two-factor "
                             "authentication (Magento_TwoFactorAuth) is on for admin user '%s' (\"%s\"). An "
                             "unattended connection cannot type a one-time code every 4 hours; create an "
                             "integration (System > Extensions > Integrations) and use auth_mode=oauth instead",
                             m2_setting(c, "admin_username"), msg);
    } else if (status == 401) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "admin_password",
                             "Magento refused the admin user name or password (admin_username '%s'); check both. "
                             "After 6 failed attempts Magento locks the account for 30 minutes",
                             m2_setting(c, "admin_username"));
    } else {
        rc = m2_api_error(c, status, body, raw, "POST /V1/integration/admin/token", err);
    }
    if (rc == FERRY_CONFIG_ERROR) {
        err->flags |= FERRY_ERROR_NEEDS_REAUTH;
        err->http_status = (int)status;
        /*
         * Stop every run on this connection until a person fixes it: six refused
         * logins in a row lock the admin account for 30 minutes, for people too.
         */
        c->host->connection_status(c->hc, "needs_reauth", err->message);
    }
    free(msg);
    return rc;
}

static int save_token(ferry_conn *c, const char *token, ferry_error *err)
{
    long lifetime_min = 240;
    const char *l = m2_setting(c, "admin_token_lifetime_minutes");
    if (l != NULL && atol(l) > 0) {
        lifetime_min = atol(l);
    }
    long long until_ms = c->host->now_ms(c->hc) + lifetime_min * 60000LL - RENEW_MARGIN_MS;
    if (until_ms < c->host->now_ms(c->hc) + 60000) {
        until_ms = c->host->now_ms(c->hc) + 60000;
    }
    char when[32];
    ferry_time_iso(until_ms / 1000, when, sizeof(when));
    c->host->secret(c->hc, token);
    json_t *values = json_pack("{s:s, s:s}", "admin_token", token, "admin_token_expires_at", when);
    int rc = values ? c->host->credentials_save(c->hc, values, err) : FERRY_FATAL;
    json_decref(values);
    return rc;
}

/* POST /V1/integration/admin/token and keep the answer. */
static int request_admin_token(ferry_conn *c, ferry_error *err)
{
    static const char *const secret_fields[] = {"password", NULL};
    char *url = m2_api_url(c, NULL, "/integration/admin/token");
    json_t *body = json_pack("{s:s?, s:s?}", "username", m2_setting(c, "admin_username"), "password",
                             m2_setting(c, "admin_password"));
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.json = body;
    req.flags = FERRY_HTTP_QUIET;
    req.secret_fields = secret_fields;
    req.label = "admin token";
    ferry_http_response *resp = NULL;
    int rc =
        url && body ? c->host->http(c->hc, &req, &resp, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    free(url);
    json_decref(body);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (resp->status == 200 && json_is_string(resp->json) && json_string_length(resp->json) > 0) {
        rc = save_token(c, json_string_value(resp->json), err);
    } else {
        rc = token_error(c, resp->status, resp->json, resp->body, err);
    }
    c->host->http_free(resp);
    return rc;
}

/* Renew under the lock unless someone else already replaced `failed` (NULL = any token that is not good). */
static int renew_locked(ferry_conn *c, const char *failed, ferry_error *err)
{
    int rc = c->host->lock(c->hc, TOKEN_LOCK, 30000, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char *failed_copy = ferry_strdup(failed);
    rc = c->host->settings_reload(c->hc, err);
    if (rc == FERRY_OK) {
        const char *now_token = m2_setting(c, "admin_token");
        int replaced = failed_copy != NULL && now_token != NULL && strcmp(now_token, failed_copy) != 0;
        if (!(token_still_good(c) && (failed_copy == NULL || replaced))) {
            rc = request_admin_token(c, err);
        }
    }
    free(failed_copy);
    c->host->unlock(c->hc, TOKEN_LOCK);
    return rc;
}

int m2_auth_renew_admin_token(ferry_conn *c, const char *failed, ferry_error *err)
{
    return renew_locked(c, failed ? failed : "", err);
}

static int admin_line(ferry_conn *c, char **line, ferry_error *err)
{
    if (!token_still_good(c)) {
        int rc = renew_locked(c, NULL, err);
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    const char *token = m2_setting(c, "admin_token");
    if (token == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "admin_token", "no admin token could be obtained");
    }
    *line = ferry_asprintf("Authorization: Bearer %s", token);
    return *line ? FERRY_OK : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
}

int m2_auth_header_line(ferry_conn *c, const char *method, const char *url, const m2_params *query, char **line,
                        ferry_error *err)
{
    *line = NULL;
    switch (c->auth_mode) {
    case M2_AUTH_OAUTH:
        return oauth_line(c, method, url, query, line, err);
    case M2_AUTH_BEARER: {
        const char *token = m2_setting(c, "access_token");
        if (token == NULL) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "access_token", "auth_mode bearer needs access_token");
        }
        *line = ferry_asprintf("Authorization: Bearer %s", token);
        return *line ? FERRY_OK : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    default:
        return admin_line(c, line, err);
    }
}
