/* ea_api.c - requests to the eAccounting API (see ea_api.h). */
#include "config.h"

#include "ea_api.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ea_auth.h"
#include "ea_conn.h"
#include "ea_errors.h"
#include "ea_str.h"
#include "plugin_util.h"
#include "util.h"

/* ---- rate-limit buckets ------------------------------------------------------------ */

/* A path segment that is an id (GUID or number) collapses to {id}. */
static int segment_is_id(const char *s, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) {
        return n >= sizeof(tmp);
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (ea_is_guid(tmp)) {
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

char *ea_api_bucket_name(const char *path, char *buf, size_t n)
{
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "/v2");
    const char *p = path;
    while (*p == '/') {
        size_t len = strcspn(p + 1, "/?");
        ferry_buf_puts(&b, "/");
        if (segment_is_id(p + 1, len)) {
            ferry_buf_puts(&b, "{id}");
        } else {
            for (size_t i = 0; i < len; i++) {
                char ch = (char)tolower((unsigned char)p[1 + i]);
                ferry_buf_append(&b, &ch, 1);
            }
        }
        p += 1 + len;
    }
    ferry_strlcpy(buf, ferry_buf_str(&b), n);
    ferry_buf_free(&b);
    return buf;
}

/* Configure `bucket` with the host the first time it is used. */
static void use_bucket(ferry_conn *c, const char *bucket)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        if (strcmp(c->buckets[i], bucket) == 0) {
            return;
        }
    }
    char **grown = realloc(c->buckets, (c->nbuckets + 1) * sizeof(*grown));
    char *copy = ferry_strdup(bucket);
    if (grown == NULL || copy == NULL) {
        free(copy);
        if (grown != NULL) {
            c->buckets = grown;
        }
        return; /* unlimited rather than failing the request */
    }
    c->buckets = grown;
    c->buckets[c->nbuckets++] = copy;
    c->host->rate_limit(c->hc, bucket, c->rate_per_minute, 61);
}

/* ---- one exchange ------------------------------------------------------------------- */

typedef struct sent {
    ferry_http_response *resp;
    int rc;
} sent;

static sent send_once(ferry_conn *c, const ea_request *rq, const char *body, const char *bucket, unsigned flags,
                      ferry_error *err)
{
    sent s = {NULL, FERRY_OK};
    char *url = ferry_asprintf("%s%s%s%s", c->api_base, rq->path, rq->query ? "?" : "", rq->query ? rq->query : "");
    char *auth = ferry_asprintf("Authorization: Bearer %s", c->access_token ? c->access_token : "");
    if (url == NULL || auth == NULL) {
        free(url);
        free(auth);
        s.rc = ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
        return s;
    }
    const char *headers[] = {auth, body ? "Content-Type: application/json; charset=utf-8" : NULL, NULL};
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = rq->method;
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.rate_bucket = bucket;
    req.flags = flags;
    req.label = rq->what;
    s.rc = c->host->http(c->hc, &req, &s.resp, err);
    free(url);
    free(auth);
    return s;
}

/* ---- eAccounting's 429 ------------------------------------------------------------------ */

long long ea_api_rate_limit_wait_ms(long long asked_ms, int waits_done, long long waited_ms, long long budget_ms)
{
    long long wait = asked_ms < 1 ? 1 : asked_ms > EA_RATE_WAIT_MAX_MS ? EA_RATE_WAIT_MAX_MS : asked_ms;
    if (waits_done >= EA_RATE_WAITS_MAX || waited_ms + wait > budget_ms) {
        return -1;
    }
    return wait;
}

static int method_is_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0;
}

/*
 * Whether the host's HTTP layer would have tried this outcome of a single
 * attempt again (http.h): 503 for any method, 502/504 for an idempotent
 * one, and no answer when the request cannot have been processed.  429 is
 * left out: send_request handles it.
 */
static int host_would_retry(const ea_request *rq, const sent *s, const ferry_error *err)
{
    if (s->rc == FERRY_OK) {
        long st = s->resp->status;
        return st == 503 || ((st == 502 || st == 504) && method_is_idempotent(rq->method));
    }
    return s->rc == FERRY_RETRY && err != NULL && err->http_status == 0 && !(err->flags & FERRY_ERROR_MAYBE_APPLIED);
}

/* The 429 waits of one ea_api_call (shared by the request and its repeat after a token refresh). */
typedef struct rate_waits {
    int n;
    long long waited_ms;
} rate_waits;

/*
 * Send the request, waiting out eAccounting's rate limit.  The first attempt
 * goes out with FERRY_HTTP_NO_RETRY so that a 429 comes straight back here:
 * the host would retry it after its own short backoff (0.5 s, 1 s, 2 s...),
 * which eAccounting's "Try again in N seconds" outlasts.  Whatever else the
 * host would have retried is sent again with the host's retries, as before.
 * A 429 - for any method: the server did not process the request - waits as
 * long as eAccounting asks (ea_error_retry_delay_ms), bounded by
 * ea_api_rate_limit_wait_ms, and the request goes out again.  The 429 that
 * is left when the waits are spent is the caller's to classify.
 */
static sent send_request(ferry_conn *c, const ea_request *rq, const char *body, const char *bucket, rate_waits *w,
                         ferry_error *err)
{
    for (;;) {
        sent s = send_once(c, rq, body, bucket, FERRY_HTTP_NO_RETRY, err);
        if (host_would_retry(rq, &s, err)) {
            if (s.resp != NULL) {
                c->host->http_free(s.resp);
            }
            s = send_once(c, rq, body, bucket, 0, err);
        }
        if (s.rc != FERRY_OK || s.resp->status != 429) {
            return s;
        }
        long long asked =
            ea_error_retry_delay_ms(s.resp->retry_after_ms, plugin_json_str(s.resp->json, "DeveloperErrorMessage"));
        long long wait = ea_api_rate_limit_wait_ms(asked, w->n, w->waited_ms, c->rate_wait_ms);
        if (wait < 0) {
            c->host->log(c->hc, FERRY_LOG_INFO,
                         "eaccounting: %s: eAccounting's request limit was reached and it asks to wait %lld ms; "
                         "giving up for now after %d wait%s (%lld ms)",
                         rq->what, asked, w->n, w->n == 1 ? "" : "s", w->waited_ms);
            return s;
        }
        c->host->log(c->hc, FERRY_LOG_INFO,
                     "eaccounting: %s: eAccounting's request limit was reached; waiting %lld ms as it asks, then "
                     "sending it again (wait %d of at most %d)",
                     rq->what, wait, w->n + 1, EA_RATE_WAITS_MAX);
        c->host->http_free(s.resp);
        ferry_sleep_ms(wait);
        w->n++;
        w->waited_ms += wait;
    }
}

/* The answer's JSON for the caller (new reference), NULL for an empty body. */
static json_t *answer_json(const ferry_http_response *resp)
{
    return resp->json != NULL ? json_incref(resp->json) : NULL;
}

static int classify(ferry_conn *c, const ea_request *rq, const ferry_http_response *resp, ferry_error *err)
{
    ea_answer a = {resp->status, resp->json, resp->body, resp->retry_after_ms,
                   rq->method,   rq->what,   rq->entity, c->ref_field};
    int rc = ea_error_from_answer(&a, err);
    if (resp->status == 401) {
        /* A brand-new token was refused too: only a new authorization helps. */
        c->host->connection_status(c->hc, "needs_reauth",
                                   "eAccounting refuses ferry's access token even after a refresh. Run 'ferry "
                                   "connection authorize' for this connection to connect again.");
    }
    return rc;
}

int ea_api_call(ferry_conn *c, const ea_request *rq, json_t **out, long *http_status, ferry_error *err)
{
    *out = NULL;
    if (http_status != NULL) {
        *http_status = 0;
    }
    int rc = ea_auth_ensure_token(c, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char bucket[256];
    ea_api_bucket_name(rq->path, bucket, sizeof(bucket));
    use_bucket(c, bucket);
    char *body = NULL;
    if (rq->body != NULL) {
        body = json_dumps(rq->body, JSON_COMPACT | JSON_REAL_PRECISION(15));
        if (body == NULL) {
            return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: %s: cannot serialise the body", rq->what);
        }
    }
    rate_waits waits = {0, 0};
    sent s = send_request(c, rq, body, bucket, &waits, err);
    if (s.rc == FERRY_OK && s.resp->status == 401) {
        char *refused = ferry_strdup(c->access_token);
        c->host->http_free(s.resp);
        s.resp = NULL;
        rc = ea_auth_refresh(c, refused, err);
        free(refused);
        if (rc == FERRY_OK) {
            s = send_request(c, rq, body, bucket, &waits, err);
        } else {
            s.rc = rc;
        }
    }
    free(body);
    if (s.rc != FERRY_OK) {
        return s.rc;
    }
    long status = s.resp->status;
    if (http_status != NULL) {
        *http_status = status;
    }
    if (status >= 200 && status < 300) {
        *out = answer_json(s.resp);
        rc = FERRY_OK;
    } else if (status == 404 && rq->allow_404) {
        rc = FERRY_OK;
    } else {
        rc = classify(c, rq, s.resp, err);
    }
    c->host->http_free(s.resp);
    return rc;
}

/* ---- lists ---------------------------------------------------------------------------- */

static int meta_int(const json_t *meta, const char *key)
{
    json_t *v = json_object_get(meta, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}

static char *list_query(const char *filter, const char *orderby, const char *extra, int page, int page_size)
{
    ferry_buf q = FERRY_BUF_INIT;
    ferry_buf_printf(&q, "$page=%d&$pagesize=%d", page, page_size);
    if (filter != NULL && filter[0]) {
        char *enc = ferry_url_encode(filter);
        ferry_buf_printf(&q, "&$filter=%s", enc ? enc : "");
        free(enc);
    }
    if (orderby != NULL && orderby[0]) {
        char *enc = ferry_url_encode(orderby);
        ferry_buf_printf(&q, "&$orderby=%s", enc ? enc : "");
        free(enc);
    }
    if (extra != NULL && extra[0]) {
        ferry_buf_printf(&q, "&%s", extra);
    }
    return ferry_buf_finish(&q);
}

int ea_api_list_page(ferry_conn *c, const char *resource, const char *filter, const char *orderby,
                     const char *extra_query, int page, int page_size, json_t **data, ea_page_meta *meta,
                     ferry_error *err)
{
    *data = NULL;
    memset(meta, 0, sizeof(*meta));
    char *query = list_query(filter, orderby, extra_query, page, page_size);
    char *path = ferry_asprintf("/%s", resource);
    char *what = ferry_asprintf("list %s", resource);
    if (query == NULL || path == NULL || what == NULL) {
        free(query);
        free(path);
        free(what);
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
    }
    ea_request rq = {"GET", path, query, NULL, what, NULL, 0};
    json_t *answer = NULL;
    int rc = ea_api_call(c, &rq, &answer, NULL, err);
    free(query);
    free(path);
    if (rc == FERRY_OK) {
        json_t *items = json_object_get(answer, "Data");
        json_t *m = json_object_get(answer, "Meta");
        if (!json_is_array(items) || !json_is_object(m)) {
            rc = ferry_error_set(err, FERRY_RETRY, NULL, "eaccounting: %s: the answer has no Data/Meta list envelope",
                                 what);
        } else {
            *data = json_incref(items);
            meta->current_page = meta_int(m, "CurrentPage");
            meta->page_size = meta_int(m, "PageSize");
            meta->total_pages = meta_int(m, "TotalNumberOfPages");
            meta->total_results = meta_int(m, "TotalNumberOfResults");
        }
    }
    free(what);
    json_decref(answer);
    return rc;
}

int ea_api_list_all(ferry_conn *c, const char *resource, const char *orderby, json_t **all, ferry_error *err)
{
    *all = json_array();
    for (int page = 1; page <= 100000; page++) {
        json_t *data = NULL;
        ea_page_meta meta;
        int rc = ea_api_list_page(c, resource, NULL, orderby, NULL, page, c->page_size, &data, &meta, err);
        if (rc != FERRY_OK) {
            json_decref(*all);
            *all = NULL;
            return rc;
        }
        json_array_extend(*all, data);
        size_t got = json_array_size(data);
        json_decref(data);
        if (got == 0 || page >= meta.total_pages) {
            break;
        }
    }
    return FERRY_OK;
}
