/* ea_auth.c - OAuth2 tokens: authorize, exchange, refresh, rotation (see ea_auth.h). */
#include "config.h"

#include "ea_auth.h"

#include <stdlib.h>
#include <string.h>

#include "ea_api.h"
#include "ea_authcode.h"
#include "ea_conn.h"
#include "plugin_util.h"
#include "util.h"

/* Shown in 'connection_status' and in the error when the refresh token is no longer accepted. */
#define REAUTH_MESSAGE                                                                                                 \
    "eAccounting no longer accepts ferry's authorization for this connection (the refresh token was "                  \
    "revoked, has expired or was used up - this happens when the eAccounting user changes the password or removes "    \
    "the integration, and also when the answer to a token refresh was lost (ferry was stopped or the network broke "   \
    "during the refresh): Visma's refresh tokens work once, and the one ferry kept was spent by that refresh). "       \
    "Nothing was lost: this connection's runs are paused. Run 'ferry connection authorize' with the connection's "     \
    "name (e.g. 'ferry connection authorize books') for it to connect again."

/* How long a process waits for another one's refresh. */
#define TOKEN_LOCK_TIMEOUT_MS 30000

static const char *const token_secret_fields[] = {"code",     "refresh_token", "access_token",
                                                  "id_token", "client_secret", NULL};

/* ---- the token endpoint ---------------------------------------------------------- */

/* "Authorization: Basic base64(urlenc(id):urlenc(secret))" (RFC 6749 2.3.1), registered as a secret. */
static char *basic_auth_header(ferry_conn *c)
{
    char *id = ferry_url_encode(c->client_id);
    char *secret = ferry_url_encode(c->client_secret);
    char *pair = id && secret ? ferry_asprintf("%s:%s", id, secret) : NULL;
    char *b64 = pair ? c->host->base64_encode(pair, strlen(pair)) : NULL;
    char *header = b64 ? ferry_asprintf("Authorization: Basic %s", b64) : NULL;
    if (b64 != NULL) {
        c->host->secret(c->hc, b64);
        c->host->free(b64);
    }
    free(id);
    free(secret);
    free(pair);
    return header;
}

/* An authorization code the identity server refused: authorize again. */
static int code_refused(const ferry_http_response *resp, const char *desc, ferry_error *err)
{
    ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code",
                    "eaccounting: the identity server refused the authorization code (it is valid for 5 minutes "
                    "and works once, and the redirect_uri must be the one it was issued for)%s%s. Run 'ferry "
                    "connection authorize' again.",
                    desc ? ": " : "", desc ? desc : "");
    snprintf(err->code, sizeof(err->code), "invalid_grant");
    err->http_status = (int)resp->status;
    return FERRY_CONFIG_ERROR;
}

/* Classify a token endpoint error answer {"error": "..."}. */
static int token_error(ferry_conn *c, const ferry_http_response *resp, int refreshing, const char *what,
                       ferry_error *err)
{
    const char *code = plugin_json_str(resp->json, "error");
    const char *desc = plugin_json_str(resp->json, "error_description");
    if (code != NULL && strcmp(code, "invalid_grant") == 0 && !refreshing) {
        return code_refused(resp, desc, err);
    }
    if (code != NULL && strcmp(code, "invalid_grant") == 0) {
        c->host->connection_status(c->hc, "needs_reauth", REAUTH_MESSAGE);
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "eaccounting: %s: %s (identity server: invalid_grant%s%s)", what,
                        REAUTH_MESSAGE, desc ? ", " : "", desc ? desc : "");
        err->flags |= FERRY_ERROR_NEEDS_REAUTH;
        snprintf(err->code, sizeof(err->code), "invalid_grant");
        err->http_status = (int)resp->status;
        return FERRY_CONFIG_ERROR;
    }
    if (resp->status == 401 || (code != NULL && strcmp(code, "invalid_client") == 0)) {
        ferry_error_set(err, FERRY_CONFIG_ERROR, "client_secret",
                        "eaccounting: %s: the identity server does not accept the client_id / client_secret "
                        "(invalid_client). Check both settings against the Visma developer portal.",
                        what);
    } else if (resp->status >= 500 || resp->status == 429) {
        ferry_error_set(err, FERRY_RETRY, NULL,
                        "eaccounting: %s: the identity server answered HTTP %ld; trying again later", what,
                        resp->status);
    } else {
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                        "eaccounting: %s: the identity server refused it: %s%s%s (HTTP %ld)", what,
                        code ? code : "no reason given", desc ? " - " : "", desc ? desc : "", resp->status);
    }
    err->http_status = (int)resp->status;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "token");
    return err->status;
}

/*
 * Persist the tokens of a successful answer with one credentials_save, then
 * adopt them.  `extra` (may be NULL) is merged into the same save.
 */
static int save_tokens(ferry_conn *c, const json_t *answer, const json_t *extra, const char *what, ferry_error *err)
{
    const char *access = plugin_json_str(answer, "access_token");
    const char *refresh = plugin_json_str(answer, "refresh_token");
    json_t *expires_in = json_object_get(answer, "expires_in");
    if (access == NULL || access[0] == '\0') {
        return ferry_error_set(err, FERRY_RETRY, NULL,
                               "eaccounting: %s: the identity server's answer has no access_token", what);
    }
    c->host->secret(c->hc, access);
    if (refresh != NULL) {
        c->host->secret(c->hc, refresh);
    }
    long long lifetime = json_is_integer(expires_in) ? json_integer_value(expires_in) : 3600;
    char when[32];
    ferry_time_iso((c->host->now_ms(c->hc) + lifetime * 1000) / 1000, when, sizeof(when));
    json_t *values = json_pack("{s:s, s:s}", "access_token", access, "access_token_expires_at", when);
    if (refresh != NULL && refresh[0] != '\0') {
        /* rotated or not: always keep whatever came back */
        json_object_set_new(values, "refresh_token", json_string(refresh));
    }
    if (extra != NULL) {
        json_object_update(values, (json_t *)extra);
    }
    int rc = c->host->credentials_save(c->hc, values, err);
    json_decref(values);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (ea_conn_load_tokens(c) != 0) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    return FERRY_OK;
}

/* POST a form to /connect/token; on success save the tokens (plus `extra`). */
static int token_request(ferry_conn *c, const char *form, const json_t *extra, int refreshing, const char *what,
                         ferry_error *err)
{
    char *url = ferry_asprintf("%s/connect/token", c->identity_base);
    char *auth = basic_auth_header(c);
    if (url == NULL || auth == NULL) {
        free(url);
        free(auth);
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    const char *headers[] = {auth, "Content-Type: application/x-www-form-urlencoded;charset=UTF-8", NULL};
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = form;
    req.body_len = strlen(form);
    req.flags = FERRY_HTTP_QUIET;
    req.secret_fields = token_secret_fields;
    req.label = what;
    ferry_http_response *resp = NULL;
    int rc = c->host->http(c->hc, &req, &resp, err);
    free(url);
    free(auth);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (resp->status == 200) {
        rc = save_tokens(c, resp->json, extra, what, err);
    } else {
        rc = token_error(c, resp, refreshing, what, err);
    }
    c->host->http_free(resp);
    return rc;
}

/* ---- refresh ------------------------------------------------------------------------ */

static int token_is_fresh(const ferry_conn *c)
{
    if (c->access_token == NULL || c->access_token[0] == '\0') {
        return 0;
    }
    return c->expires_at_ms == 0 || c->host->now_ms(c->hc) + EA_TOKEN_MARGIN_MS < c->expires_at_ms;
}

static int needs_authorization(ferry_conn *c, ferry_error *err)
{
    const char *msg = "eAccounting is not connected yet for this connection (there is no refresh token). Run "
                      "'ferry connection authorize' for it.";
    c->host->connection_status(c->hc, "needs_reauth", msg);
    ferry_error_set(err, FERRY_CONFIG_ERROR, "refresh_token", "eaccounting: %s", msg);
    err->flags |= FERRY_ERROR_NEEDS_REAUTH;
    return FERRY_CONFIG_ERROR;
}

/* Refresh while holding the lock. */
static int refresh_locked(ferry_conn *c, const char *stale, ferry_error *err)
{
    if (c->host->settings_reload(c->hc, err) != FERRY_OK || ea_conn_load_tokens(c) != 0) {
        return err->status ? err->status : ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    if (token_is_fresh(c) && (stale == NULL || strcmp(c->access_token, stale) != 0)) {
        c->host->log(c->hc, FERRY_LOG_DEBUG, "eaccounting: another process refreshed the access token; using it");
        return FERRY_OK;
    }
    if (c->refresh_token == NULL || c->refresh_token[0] == '\0') {
        return needs_authorization(c, err);
    }
    char *enc = ferry_url_encode(c->refresh_token);
    char *form = enc ? ferry_asprintf("grant_type=refresh_token&refresh_token=%s", enc) : NULL;
    free(enc);
    if (form == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    int rc = token_request(c, form, NULL, 1, "refresh access token", err);
    free(form);
    if (rc == FERRY_OK) {
        c->host->log(c->hc, FERRY_LOG_INFO, "eaccounting: access token refreshed");
    }
    return rc;
}

int ea_auth_refresh(ferry_conn *c, const char *stale, ferry_error *err)
{
    char *had = ferry_strdup(stale); /* stale may point into c, which the reload replaces */
    int rc = c->host->lock(c->hc, "token", TOKEN_LOCK_TIMEOUT_MS, err);
    if (rc != FERRY_OK) {
        free(had);
        return rc;
    }
    rc = refresh_locked(c, had, err);
    c->host->unlock(c->hc, "token");
    free(had);
    return rc;
}

int ea_auth_ensure_token(ferry_conn *c, ferry_error *err)
{
    if (token_is_fresh(c)) {
        return FERRY_OK;
    }
    if ((c->refresh_token == NULL || c->refresh_token[0] == '\0') &&
        (c->access_token == NULL || c->access_token[0] == '\0')) {
        /* maybe another process authorized meanwhile */
        if (c->host->settings_reload(c->hc, err) != FERRY_OK || ea_conn_load_tokens(c) != 0) {
            return err->status ? err->status : FERRY_FATAL;
        }
        if (token_is_fresh(c)) {
            return FERRY_OK;
        }
        if (c->refresh_token == NULL) {
            return needs_authorization(c, err);
        }
    }
    return ea_auth_refresh(c, c->access_token, err);
}

/* ---- authorize ------------------------------------------------------------------------- */

static char *random_state(ferry_conn *c)
{
    unsigned char raw[16];
    if (c->host->random_bytes(raw, sizeof(raw)) != 0) {
        return NULL;
    }
    char *hex = malloc(sizeof(raw) * 2 + 1);
    if (hex != NULL) {
        for (size_t i = 0; i < sizeof(raw); i++) {
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
        }
    }
    return hex;
}

/* The authorize URL (reference §2.2): scopes, state, prompt=select_account, eAccounting's acr_values. */
static char *authorize_url(const ferry_conn *c, const char *state)
{
    char *id = ferry_url_encode(c->client_id);
    char *redirect = ferry_url_encode(c->redirect_uri);
    char *scope = ferry_url_encode(c->scopes);
    char *acr = ferry_url_encode("service:44643EB1-3F76-4C1C-A672-402AE8085934");
    char *url = NULL;
    if (id && redirect && scope && acr) {
        url = ferry_asprintf("%s/connect/authorize?client_id=%s&redirect_uri=%s&scope=%s&state=%s&response_type=code"
                             "&prompt=select_account&acr_values=%s",
                             c->identity_base, id, redirect, scope, state, acr);
    }
    free(id);
    free(redirect);
    free(scope);
    free(acr);
    return url;
}

static int exchange_code(ferry_conn *c, const char *code, int source, ferry_error *err)
{
    char *enc_code = ferry_url_encode(code);
    char *enc_redirect = ferry_url_encode(c->redirect_uri);
    char *form = enc_code && enc_redirect
                     ? ferry_asprintf("grant_type=authorization_code&code=%s&redirect_uri=%s", enc_code, enc_redirect)
                     : NULL;
    free(enc_code);
    free(enc_redirect);
    if (form == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    /* a handed-over code works once: forget it in the same save as the tokens */
    json_t *extra = source == EA_CODE_HANDOVER_SETTING ? json_pack("{s:n}", "auth_code") : NULL;
    int rc = token_request(c, form, extra, 0, "exchange authorization code", err);
    if (rc != FERRY_OK && extra != NULL) {
        /* refused or not: the code is spent (or stale); do not offer it again */
        ferry_error ignored;
        ferry_error_clear(&ignored);
        c->host->credentials_save(c->hc, extra, &ignored);
    }
    json_decref(extra);
    free(form);
    return rc;
}

/* Tell the person which company they connected (best effort). */
static void say_company(ferry_conn *c)
{
    ferry_error err;
    ferry_error_clear(&err);
    json_t *company = NULL;
    ea_request rq = {"GET", "/companysettings", NULL, NULL, "read company settings", NULL, 0};
    if (ea_api_call(c, &rq, &company, NULL, &err) == FERRY_OK) {
        const char *name = plugin_json_str(company, "Name");
        const char *org = plugin_json_str(company, "CorporateIdentityNumber");
        c->host->say(c->hc, "Connected to the eAccounting company %s%s%s%s.", name ? name : "(unnamed)",
                     org ? " (" : "", org ? org : "", org ? ")" : "");
    } else {
        c->host->say(c->hc, "Tokens stored, but reading the company failed: %s", err.message);
    }
    json_decref(company);
}

int ea_auth_authorize(const ferry_host *host, ferry_host_conn *hc, ferry_error *err)
{
    ferry_conn *c = NULL;
    int rc = ea_conn_create(host, hc, &c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char *state = random_state(c);
    char *url = state ? authorize_url(c, state) : NULL;
    char *code = NULL;
    int source = 0;
    if (url == NULL) {
        rc = ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: cannot build the authorization URL");
    } else {
        host->say(hc, "To connect ferry to eAccounting, open this address in a browser and sign in as a user of "
                      "the company ferry should sync with:");
        host->say(hc, "%s", url);
        rc = ea_authcode_obtain(c, state, &code, &source, err);
    }
    if (rc == FERRY_OK) {
        rc = exchange_code(c, code, source, err);
    }
    if (rc == FERRY_OK) {
        host->connection_status(hc, "ok", NULL);
        say_company(c);
    }
    free(code);
    free(url);
    free(state);
    ea_conn_destroy(c);
    return rc;
}
