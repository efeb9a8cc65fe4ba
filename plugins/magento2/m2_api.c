/* m2_api.c - one REST call and Magento's error bodies (see m2_api.h). */
#include "config.h"

#include "m2_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_auth.h"
#include "m2_util.h"
#include "util.h"

#define NO_ROUTE "Request does not match any route."
#define NOT_AUTHORIZED "isn't authorized to access"

/* ---- URLs ------------------------------------------------------------------------ */

char *m2_api_url(const ferry_conn *c, const char *store, const char *path)
{
    return ferry_asprintf("%s/rest/%s/V1%s", c->base_url, store ? store : c->store_code, path);
}

char *m2_api_segment(const ferry_conn *c, const char *value)
{
    char *enc = c->host->url_encode(value ? value : "");
    char *out = ferry_strdup(enc);
    c->host->free(enc);
    return out;
}

/* ---- messages ----------------------------------------------------------------------- */

/* Append `tmpl` with %1..%n / %name replaced from `params` (a list or an object). */
static void substitute(ferry_buf *b, const char *tmpl, const json_t *params)
{
    const char *p = tmpl;
    while (*p) {
        if (*p == '%' && p[1] >= '1' && p[1] <= '9' && json_is_array(params)) {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            const char *v = m2_json_value_text(json_array_get(params, (size_t)(idx - 1)));
            if (v != NULL) {
                ferry_buf_puts(b, v);
                p = end;
                continue;
            }
        } else if (*p == '%' && json_is_object(params)) {
            size_t len = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            char name[64];
            if (len > 0 && len < sizeof(name)) {
                memcpy(name, p + 1, len);
                name[len] = '\0';
                json_t *arg = json_object_get(params, name);
                const char *v = m2_json_value_text(arg);
                if (json_is_array(arg)) {
                    for (size_t i = 0; i < json_array_size(arg); i++) {
                        const char *item = m2_json_value_text(json_array_get(arg, i));
                        ferry_buf_printf(b, "%s%s", i ? ", " : "", item ? item : "");
                    }
                    p += 1 + len;
                    continue;
                }
                if (v != NULL) {
                    ferry_buf_puts(b, v);
                    p += 1 + len;
                    continue;
                }
            }
        }
        ferry_buf_append(b, p, 1);
        p++;
    }
}

char *m2_api_message(const json_t *body)
{
    const char *message = m2_str(body, "message");
    if (message == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    substitute(&b, message, json_object_get(body, "parameters"));
    json_t *errors = json_object_get(body, "errors");
    for (size_t i = 0; i < json_array_size(errors); i++) {
        json_t *e = json_array_get(errors, i);
        const char *m = m2_str(e, "message");
        if (m != NULL) {
            ferry_buf_puts(&b, i == 0 ? ": " : "; ");
            substitute(&b, m, json_object_get(e, "parameters"));
        }
    }
    return ferry_buf_finish(&b);
}

/* The field an input error names: parameters.fieldName, or the first parameter of a field-shaped message. */
static const char *error_field(const json_t *body)
{
    const json_t *params = json_object_get(body, "parameters");
    const json_t *errors = json_object_get(body, "errors");
    if (!params && json_array_size(errors) > 0) {
        params = json_object_get(json_array_get(errors, 0), "parameters");
        body = json_array_get(errors, 0);
    }
    const char *named = m2_json_text(params, "fieldName");
    if (named == NULL) {
        named = m2_json_text(params, "field");
    }
    if (named != NULL) {
        return named;
    }
    const char *msg = m2_str(body, "message");
    if (msg != NULL && json_is_array(params) && strstr(msg, "\"%1\" attribute") != NULL) {
        return m2_json_value_text(json_array_get(params, 0));
    }
    return NULL;
}

void m2_api_scrub(const ferry_conn *c, char *text, size_t size)
{
    static const char *const names[] = {"consumer_secret", "access_token", "access_token_secret",
                                        "admin_password",  "admin_token",  NULL};
    for (int i = 0; names[i] != NULL; i++) {
        const char *secret = m2_setting(c, names[i]);
        size_t slen = secret ? strlen(secret) : 0;
        char *hit;
        while (slen >= 4 && (hit = strstr(text, secret)) != NULL) {
            size_t tail = strlen(hit + slen);
            memmove(hit + 3, hit + slen, tail + 1);
            memcpy(hit, "***", 3);
        }
    }
    text[size - 1] = '\0';
}

/* ---- classifying errors --------------------------------------------------------------- */

/*
 * A 401.  Only a refusal of the credentials themselves (signature, consumer
 * key, access token, or a 401 we cannot place) gets FERRY_ERROR_NEEDS_REAUTH,
 * which m2_api_call turns into the connection status needs_reauth: every
 * call of the connection would fail the same way.  "isn't authorized to
 * access %resources" does not: it concerns one ACL resource (the other flows
 * of the connection still work, and granting the resource is the fix, not
 * new credentials), and with a Bearer token Magento answers every unknown,
 * revoked or disabled token that same way, so ferry cannot tell those apart.
 * A reused nonce is a replay, not a credential problem.
 */
static int unauthorized(const ferry_conn *c, const char *msg, const json_t *body, ferry_error *err)
{
    const char *resources = m2_json_text(json_object_get(body, "parameters"), "resources");
    int rc, credentials = !(msg && strstr(msg, NOT_AUTHORIZED));
    if (msg && strstr(msg, NOT_AUTHORIZED) && c->auth_mode == M2_AUTH_BEARER) {
        rc = ferry_error_set(
            err, FERRY_CONFIG_ERROR, "auth_mode",
            "Magento did not accept the integration access token as a Bearer token (\"%s\"). Since Magento 2.4.4 "
            "integration tokens work as Bearer tokens only when 'Allow OAuth Access Tokens to be used as "
            "standalone Bearer tokens' is on (Stores > Configuration > Services > OAuth > Consumer Settings, or "
            "bin/magento config:set oauth/consumer/enable_integration_as_bearer 1). Use auth_mode=oauth with the "
            "integration's four credentials instead (recommended). If that option is on, the integration lacks "
            "the ACL resource %s",
            msg, resources ? resources : "named above");
    } else if (msg && strstr(msg, NOT_AUTHORIZED)) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                             "the %s may not use %s: \"%s\". Grant that resource in Magento admin (%s), then "
                             "save%s",
                             c->auth_mode == M2_AUTH_ADMIN ? "admin user's role" : "integration",
                             resources ? resources : "this API", msg,
                             c->auth_mode == M2_AUTH_ADMIN ? "System > Permissions > User Roles > Role Resources"
                                                           : "System > Extensions > Integrations > Edit > API",
                             c->auth_mode == M2_AUTH_ADMIN ? "" : " and re-activate the integration if asked");
    } else if (msg && strstr(msg, "signature is invalid")) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "consumer_secret",
                             "Magento refused the OAuth signature (\"%s\"): the consumer secret or the access token "
                             "secret is wrong, or Magento sees another URL than base_url (http behind a TLS proxy, "
                             "another host name or port, /index.php); copy the four credentials again from System "
                             "> Extensions > Integrations and check base_url",
                             msg);
    } else if (msg && (strstr(msg, "consumer") || strstr(msg, "Consumer")) && strstr(msg, "key")) {
        rc =
            ferry_error_set(err, FERRY_CONFIG_ERROR, "consumer_key",
                            "Magento does not know the consumer key (\"%s\"): copy it again from the integration", msg);
    } else if (msg && strstr(msg, "token") &&
               (strstr(msg, "exist") || strstr(msg, "revoked") || strstr(msg, "invalid"))) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "access_token",
                             "Magento does not accept the access token (\"%s\"): the integration was re-authorized "
                             "or deleted; copy its access token and token secret again",
                             msg);
    } else if (msg && strstr(msg, "nonce")) {
        credentials = 0;
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                             "Magento refused the OAuth nonce twice (\"%s\"); is another client replaying requests?",
                             msg);
    } else if (msg && (strstr(msg, "2fa") || strstr(msg, "Two-Factor"))) {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_mode",
                             "two-factor authentication blocks admin tokens (\"%s\"); use auth_mode=oauth", msg);
    } else {
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "Magento refused the credentials (\"%s\")",
                             msg ? msg : "HTTP 401");
    }
    if (credentials && err != NULL) {
        err->flags |= FERRY_ERROR_NEEDS_REAUTH;
    }
    return rc;
}

/* OAuth protocol problems Magento answers with 400: a person must fix them. */
static int oauth_bad_request(const char *msg, ferry_error *err)
{
    if (strstr(msg, "Signature method") != NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_mode",
                               "Magento refused the OAuth signature method (\"%s\"): Magento 2.4.4 and later accept "
                               "only HMAC-SHA256; ferry signs with HMAC-SHA256, so something between ferry and "
                               "Magento rewrote the request",
                               msg);
    }
    if (strstr(msg, "timestamp") != NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                               "Magento refused the OAuth timestamp (\"%s\"): this computer's clock is more than 10 "
                               "minutes ahead of the shop server's clock (or the server's clock is behind); set both "
                               "clocks right (NTP)",
                               msg);
    }
    if (strstr(msg, "Oauth version") != NULL || strstr(msg, "token length") != NULL ||
        strstr(msg, "\"oauth_") != NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                               "Magento refused the OAuth request (\"%s\"): check the integration's credentials", msg);
    }
    if (strstr(msg, "pageSize") != NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "page_size",
                               "Magento refused the page size (\"%s\"): lower the setting page_size", msg);
    }
    if (strstr(msg, "2fa") != NULL || strstr(msg, "Two-Factor") != NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_mode",
                               "two-factor authentication blocks admin tokens (\"%s\"); use auth_mode=oauth", msg);
    }
    return FERRY_OK;
}

static int no_route(const ferry_conn *c, const char *what, ferry_error *err)
{
    return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                           "Magento has no REST route for %s (\"%s\"): check base_url %s (add or remove /index.php), "
                           "store_code '%s', and that the module is installed (Inventory Management for "
                           "stock_mode=msi)",
                           what, NO_ROUTE, c->base_url, c->store_code);
}

static const char *short_body(const char *raw, char *buf, size_t n)
{
    if (raw == NULL || raw[0] == '\0') {
        return "(empty body)";
    }
    size_t i = 0;
    for (; raw[i] && i + 1 < n && i < 160; i++) {
        buf[i] = raw[i] == '\n' || raw[i] == '\r' ? ' ' : raw[i];
    }
    buf[i] = '\0';
    return buf;
}

static int classify(const ferry_conn *c, long status, const json_t *body, const char *msg, const char *what,
                    ferry_error *err)
{
    if (status == 401) {
        return unauthorized(c, msg, body, err);
    }
    if (status == 403) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "Magento (or a firewall before it) forbade %s: %s", what,
                               msg);
    }
    if (status == 400 && oauth_bad_request(msg, err) != FERRY_OK) {
        return err->status;
    }
    if (status == 404 && strstr(msg, NO_ROUTE) != NULL) {
        return no_route(c, what, err);
    }
    if (status == 429 || status >= 500) {
        return ferry_error_set(err, FERRY_RETRY, NULL, "Magento answered %s with HTTP %ld: %s", what, status, msg);
    }
    if (status == 405 || status == 406 || status == 415 || (status >= 300 && status < 400)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                               "%s answered HTTP %ld (%s): is base_url %s the Magento shop?", what, status, msg,
                               c->base_url);
    }
    return ferry_error_set(err, FERRY_RECORD_ERROR, error_field(body), "Magento refused %s: %s", what, msg);
}

int m2_api_error(const ferry_conn *c, long http_status, const json_t *body, const char *raw_body, const char *what,
                 ferry_error *err)
{
    char snippet[200];
    char *msg = m2_api_message(body);
    const char *text = msg ? msg : short_body(raw_body, snippet, sizeof(snippet));
    int rc = classify(c, http_status, body, text, what, err);
    free(msg);
    if (err != NULL) {
        err->http_status = (int)http_status;
        const char *code = m2_json_text(body, "code");
        if (code != NULL) {
            ferry_strlcpy(err->code, code, sizeof(err->code));
        }
        if (err->where[0] == '\0') {
            ferry_strlcpy(err->where, what, sizeof(err->where));
        }
        m2_api_scrub(c, err->message, sizeof(err->message));
    }
    return rc;
}

/* ---- sending ----------------------------------------------------------------------------- */

static char *request_url(const ferry_conn *c, const m2_request *rq)
{
    char *url = m2_api_url(c, rq->flags & M2_SCOPE_ALL ? "all" : NULL, rq->path);
    if (url == NULL || rq->query == NULL || rq->query->count == 0) {
        return url;
    }
    char *qs = m2_params_encode(c->host, rq->query);
    char *full = qs ? ferry_asprintf("%s?%s", url, qs) : NULL;
    free(qs);
    free(url);
    return full;
}

typedef struct attempt {
    ferry_http_response *resp;
    char *auth_line; /* "Authorization: ..." that was sent */
} attempt;

static int send_once(ferry_conn *c, const m2_request *rq, const char *url, attempt *a, ferry_error *err)
{
    int rc = m2_auth_header_line(c, rq->method, url, rq->query, &a->auth_line, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *headers[] = {a->auth_line, NULL};
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = rq->method;
    req.url = url;
    req.headers = headers;
    req.json = rq->body;
    req.label = rq->label;
    req.flags =
        (rq->flags & M2_QUIET ? FERRY_HTTP_QUIET : 0) | (rq->flags & M2_IDEMPOTENT ? FERRY_HTTP_RETRY_UNSAFE : 0);
    return c->host->http(c->hc, &req, &a->resp, err);
}

static void attempt_clear(const ferry_conn *c, attempt *a)
{
    if (a->resp != NULL) {
        c->host->http_free(a->resp);
    }
    free(a->auth_line);
    a->resp = NULL;
    a->auth_line = NULL;
}

/* Whether a 401 is worth one more try: an admin token to renew, or an OAuth nonce that was taken. */
static int worth_retrying(ferry_conn *c, const attempt *a, ferry_error *err, int *rc)
{
    const char *msg = m2_str(a->resp->json, "message");
    if (c->auth_mode == M2_AUTH_ADMIN) {
        const char *sent = strstr(a->auth_line, "Bearer ");
        *rc = m2_auth_renew_admin_token(c, sent ? sent + 7 : NULL, err);
        return 1;
    }
    if (c->auth_mode == M2_AUTH_OAUTH && msg != NULL && strstr(msg, "nonce") != NULL) {
        *rc = FERRY_OK;
        return 1;
    }
    return 0;
}

static int interpret(ferry_conn *c, const m2_request *rq, const char *what, ferry_http_response *resp, json_t **out,
                     ferry_error *err)
{
    long st = resp->status;
    if (st >= 200 && st < 300) {
        *out = resp->json ? json_incref(resp->json) : json_null();
        return FERRY_OK;
    }
    if (st == 404 && (rq->flags & M2_ACCEPT_404)) {
        const char *msg = m2_str(resp->json, "message");
        if (msg == NULL || strstr(msg, NO_ROUTE) == NULL) {
            return FERRY_OK;
        }
    }
    int rc = m2_api_error(c, st, resp->json, resp->body, what, err);
    if (err != NULL && (err->flags & FERRY_ERROR_NEEDS_REAUTH)) {
        /* as for a refused admin password: stop the connection's runs and alert until a person fixes it */
        c->host->connection_status(c->hc, "needs_reauth", err->message);
    }
    if (rc == FERRY_RETRY && resp->retry_after_ms > 0) {
        err->retry_after_ms = resp->retry_after_ms;
    }
    if (rc == FERRY_RETRY && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "PUT") != 0) {
        err->flags |= FERRY_ERROR_MAYBE_APPLIED;
    }
    return rc;
}

int m2_api_call(ferry_conn *c, const m2_request *rq, json_t **out, long *status, ferry_error *err)
{
    *out = NULL;
    if (status != NULL) {
        *status = 0;
    }
    char what[300];
    snprintf(what, sizeof(what), "%s %s%s", rq->method, rq->flags & M2_SCOPE_ALL ? "/rest/all/V1" : "/V1", rq->path);
    char *url = request_url(c, rq);
    if (url == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    attempt a = {NULL, NULL};
    int rc = send_once(c, rq, url, &a, err);
    if (rc == FERRY_OK && a.resp->status == 401) {
        int retry_rc = FERRY_OK;
        if (worth_retrying(c, &a, err, &retry_rc)) {
            attempt_clear(c, &a);
            rc = retry_rc == FERRY_OK ? send_once(c, rq, url, &a, err) : retry_rc;
        }
    }
    if (rc == FERRY_OK) {
        if (status != NULL) {
            *status = a.resp->status;
        }
        rc = interpret(c, rq, what, a.resp, out, err);
    }
    if (rc != FERRY_OK && err != NULL && rq->record != NULL && err->record[0] == '\0') {
        ferry_strlcpy(err->record, rq->record, sizeof(err->record));
    }
    attempt_clear(c, &a);
    free(url);
    return rc;
}
