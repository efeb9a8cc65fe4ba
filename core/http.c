/* http.c - the HTTP service: libcurl, JSON, retries, rate limits, activity record (see http.h). */
#include "config.h"

#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <ferry/version.h>

#include "backoff.h"
#include "error.h"
#include "log.h"
#include "ratelimit.h"
#include "redact.h"
#include "util.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_MAX_ATTEMPTS 5
#define DEFAULT_MAX_ELAPSED_MS 120000LL
#define DEFAULT_BACKOFF_BASE_MS 500LL
#define DEFAULT_BACKOFF_CAP_MS 30000LL
#define DEFAULT_MAX_RETRY_AFTER_MS 120000LL

struct ferry_http_client {
    CURL *curl; /* one easy handle, reused: its connection cache keeps TCP/TLS connections alive */
    long connect_timeout_ms;
    long timeout_ms;
    int max_attempts;
    long long max_elapsed_ms;
    long long max_retry_after_ms;
    ferry_backoff backoff;
    char *ca_file;
    char *user_agent;
    char *log_context;
    int insecure;
    ferry_ratelimit *limits;
    ferry_http_recorder recorder;
    void *recorder_ud;
    unsigned record_bodies; /* FERRY_HTTP_RECORD_* */
    long connections;
    char errbuf[CURL_ERROR_SIZE];
};

/* What one attempt brought back. */
typedef struct reply {
    ferry_buf body;
    char *content_type;
    char *location;
    char *retry_after;
    int too_large;
    int out_of_memory;
} reply;

/* One request, checked and serialised once, sent by every attempt. */
typedef struct prepared {
    ferry_http_request req; /* the caller's request, zero-extended to our struct size */
    char *json_text;        /* req.json serialised */
    const char *body;       /* what is sent (json_text, req.body or NULL) */
    size_t body_len;
    const char *body_type; /* Content-Type the body goes with (for redaction), may be NULL */
    struct curl_slist *headers;
    char *header_text; /* redacted header lines for the record */
    char *url_red;     /* redacted URL for logs, errors and the record */
    int idempotent;    /* the method may be repeated safely */
} prepared;

/* ---- process-wide set-up ---------------------------------------------------- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_ready;

int ferry_http_global_init(void)
{
    int rc = 0;
    pthread_mutex_lock(&global_lock);
    if (!global_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
            global_ready = 1;
        } else {
            rc = -1;
        }
    }
    pthread_mutex_unlock(&global_lock);
    return rc;
}

void ferry_http_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_ready) {
        curl_global_cleanup();
        global_ready = 0;
    }
    pthread_mutex_unlock(&global_lock);
}

/* ---- clients ------------------------------------------------------------------ */

ferry_http_client *ferry_http_client_create(const ferry_http_options *opts)
{
    ferry_http_options o;
    memset(&o, 0, sizeof(o));
    if (opts != NULL) {
        o = *opts;
    }
    if (ferry_http_global_init() != 0) {
        return NULL;
    }
    ferry_http_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->record_bodies = FERRY_HTTP_RECORD_ALL_BODIES;
    c->connect_timeout_ms = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEFAULT_TIMEOUT_MS;
    c->max_attempts = o.max_attempts > 0 ? o.max_attempts : DEFAULT_MAX_ATTEMPTS;
    c->max_elapsed_ms = o.max_elapsed_ms > 0 ? o.max_elapsed_ms : DEFAULT_MAX_ELAPSED_MS;
    c->max_retry_after_ms = o.max_retry_after_ms > 0 ? o.max_retry_after_ms : DEFAULT_MAX_RETRY_AFTER_MS;
    ferry_backoff_init(&c->backoff, o.backoff_base_ms > 0 ? o.backoff_base_ms : DEFAULT_BACKOFF_BASE_MS,
                       o.backoff_cap_ms > 0 ? o.backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS);
    c->insecure = o.insecure != 0;
    c->curl = curl_easy_init();
    c->limits = ferry_ratelimit_create();
    if (o.user_agent != NULL && o.user_agent[0] != '\0') {
        c->user_agent = ferry_strdup(o.user_agent);
    } else {
        const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
        c->user_agent = ferry_asprintf("ferry/%s libcurl/%s", FERRY_VERSION, cv != NULL ? cv->version : "?");
    }
    c->ca_file = ferry_strdup(o.ca_file);
    c->log_context = ferry_strdup(o.log_context);
    if (c->curl == NULL || c->limits == NULL || c->user_agent == NULL || (o.ca_file != NULL && c->ca_file == NULL) ||
        (o.log_context != NULL && c->log_context == NULL)) {
        ferry_http_client_destroy(c);
        return NULL;
    }
    if (c->insecure) {
        ferry_log(FERRY_LOG_WARN, c->log_context,
                  "TLS certificate verification is disabled (insecure): anyone on the network path can read "
                  "and alter this connection's traffic");
    }
    return c;
}

void ferry_http_client_destroy(ferry_http_client *client)
{
    if (client == NULL) {
        return;
    }
    if (client->curl != NULL) {
        curl_easy_cleanup(client->curl);
    }
    ferry_ratelimit_destroy(client->limits);
    free(client->ca_file);
    free(client->user_agent);
    free(client->log_context);
    free(client);
}

void ferry_http_set_recorder(ferry_http_client *client, ferry_http_recorder fn, void *ud)
{
    client->recorder = fn;
    client->recorder_ud = fn != NULL ? ud : NULL;
}

void ferry_http_record_bodies(ferry_http_client *client, unsigned which)
{
    client->record_bodies = which;
}

int ferry_http_rate_limit(ferry_http_client *client, const char *bucket, int requests, int per_seconds)
{
    if (client == NULL) {
        return -1;
    }
    return ferry_ratelimit_configure(client->limits, bucket, requests, per_seconds);
}

long ferry_http_connections_opened(const ferry_http_client *client)
{
    return client != NULL ? client->connections : 0;
}

void ferry_http_response_free(ferry_http_response *resp)
{
    if (resp == NULL) {
        return;
    }
    free(resp->body);
    if (resp->json != NULL) {
        json_decref(resp->json);
    }
    free(resp->content_type);
    free(resp->location);
    free((char *)resp->url);
    free(resp);
}

/* ---- classification ------------------------------------------------------------ */

/* Methods that may be repeated without changing the outcome (RFC 9110 9.2.2). */
static int method_is_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
           strcmp(m, "OPTIONS") == 0;
}

static int status_is_retryable(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* The server refused the work without doing it: a write may be repeated. */
static int status_is_not_processed(long status)
{
    return status == 429 || status == 503;
}

/* The request cannot have reached the server: no connection was ever established. */
static int never_connected(CURLcode cc)
{
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
}

/* Failures a retry cannot fix: a person must change the URL, the CA file or the server's certificate. */
static int is_config_failure(CURLcode cc)
{
    switch (cc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* The media type of a Content-Type value is JSON: application/json, text/json, anything+json. */
static int content_type_is_json(const char *ctype)
{
    if (ctype == NULL) {
        return 0;
    }
    while (*ctype == ' ' || *ctype == '\t') {
        ctype++;
    }
    size_t len = strcspn(ctype, ";");
    while (len > 0 && (ctype[len - 1] == ' ' || ctype[len - 1] == '\t')) {
        len--;
    }
    const char *slash = memchr(ctype, '/', len);
    if (slash == NULL) {
        return 0;
    }
    const char *sub = slash + 1;
    size_t sublen = len - (size_t)(sub - ctype);
    return (sublen == 4 && strncasecmp(sub, "json", 4) == 0) ||
           (sublen > 5 && strncasecmp(sub + sublen - 5, "+json", 5) == 0);
}

static int content_type_is_form(const char *ctype)
{
    return ctype != NULL && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
}

/* First non-blank byte is '{' or '['. */
static int body_looks_json(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) {
        i++;
    }
    return i < len && (body[i] == '{' || body[i] == '[');
}

/* a=b&c=d with no blanks: how OAuth servers answer even when they say text/plain. */
static int text_looks_form(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '=' || strchr(s, '=') == NULL) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p) || *p == '{' || *p == '[' || *p == '<' || *p == '"') {
            return 0;
        }
    }
    return 1;
}

/* ---- redaction for the record ------------------------------------------------------- */

/* Cut a string to at most max bytes on a UTF-8 character boundary (in place). */
static void cut_utf8(char *s, size_t max)
{
    if (s == NULL || strlen(s) <= max) {
        return;
    }
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    s[n] = '\0';
}

/*
 * A redacted, NUL-terminated copy of a body for the record: JSON through
 * ferry_redact_json (or the text scanner when it does not parse), forms
 * through ferry_redact_form_names, anything else through the secret registry.
 */
static char *redact_body(const char *body, size_t len, const char *ctype, const json_t *parsed,
                         const char *const *fields)
{
    if (parsed != NULL) {
        json_t *masked = ferry_redact_json(parsed, fields);
        char *out =
            masked != NULL ? json_dumps(masked, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
        json_decref(masked);
        return out;
    }
    if (body == NULL) {
        return NULL;
    }
    char *text = malloc(len + 1);
    if (text == NULL) {
        return NULL;
    }
    memcpy(text, body, len);
    text[len] = '\0';
    char *out;
    if (content_type_is_json(ctype) || ((ctype == NULL || ctype[0] == '\0') && body_looks_json(body, len))) {
        json_t *j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
        if (j != NULL) {
            out = redact_body(NULL, 0, NULL, j, fields);
            json_decref(j);
        } else {
            out = ferry_redact_json_text(text, fields);
        }
    } else if (content_type_is_form(ctype) || text_looks_form(text)) {
        out = ferry_redact_form_names(text, fields);
    } else {
        out = ferry_redact_text(text);
    }
    free(text);
    return out;
}

/* Hand one exchange to the recorder (if any), redacting and cutting the bodies. */
static void record_exchange(ferry_http_client *c, const prepared *p, long status, const char *resp_body,
                            size_t resp_len, const char *resp_type, const json_t *resp_json, int attempts,
                            long long duration_ms, const ferry_error *error)
{
    if (c->recorder == NULL) {
        return;
    }
    char *req_body = NULL, *rsp_body = NULL;
    int is_read = strcmp(p->req.method, "GET") == 0 || strcmp(p->req.method, "HEAD") == 0;
    unsigned want = c->record_bodies;
    int want_response = (want & (is_read ? FERRY_HTTP_RECORD_READ_BODIES : FERRY_HTTP_RECORD_WRITE_BODIES)) ||
                        (status >= 400 && (want & FERRY_HTTP_RECORD_ERROR_BODIES));
    if (!(p->req.flags & FERRY_HTTP_QUIET)) {
        if (p->body != NULL && (want & FERRY_HTTP_RECORD_WRITE_BODIES)) {
            req_body = redact_body(p->body, p->body_len, p->body_type, p->req.json, p->req.secret_fields);
            cut_utf8(req_body, FERRY_HTTP_RECORD_MAX);
        }
        if (resp_body != NULL && want_response) {
            rsp_body = redact_body(resp_body, resp_len, resp_type, resp_json, p->req.secret_fields);
            cut_utf8(rsp_body, FERRY_HTTP_RECORD_MAX);
        }
    }
    ferry_http_exchange ex = {
        .label = p->req.label,
        .method = p->req.method,
        .url = p->url_red,
        .request_headers = p->header_text,
        .request_body = req_body,
        .status = status,
        .response_body = rsp_body,
        .attempts = attempts,
        .duration_ms = duration_ms,
        .error = error,
        .request_size = p->body != NULL ? p->body_len : 0,
        .response_size = resp_body != NULL ? resp_len : 0,
    };
    c->recorder(c->recorder_ud, &ex);
    free(req_body);
    free(rsp_body);
}

/* ---- preparing a request ----------------------------------------------------------------- */

/* "Name:" at the start of a header line, compared case-insensitively. */
static int header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static void prepared_free(prepared *p)
{
    free(p->json_text);
    curl_slist_free_all(p->headers);
    free(p->header_text);
    free(p->url_red);
}

/* A method is an HTTP token of upper-case letters ("GET", "PATCH"...). */
static int method_is_valid(const char *m)
{
    size_t n = 0;
    for (; m[n] != '\0'; n++) {
        if (m[n] < 'A' || m[n] > 'Z') {
            return 0;
        }
    }
    return n > 0 && n <= 16;
}

static int append_header(prepared *p, ferry_buf *text, const char *line, int record)
{
    struct curl_slist *l = curl_slist_append(p->headers, line);
    if (l == NULL) {
        return -1;
    }
    p->headers = l;
    if (!record) {
        return 0;
    }
    char *masked = ferry_redact_header_names(line, p->req.secret_fields);
    int rc = -1;
    if (masked != NULL && (text->len == 0 || ferry_buf_puts(text, "\n") == 0) && ferry_buf_puts(text, masked) == 0) {
        rc = 0;
    }
    free(masked);
    return rc;
}

/* Check and serialise the request once.  Returns FERRY_OK or an error status (err filled). */
static int prepare(ferry_http_client *c, const ferry_http_request *in, prepared *p, ferry_error *err)
{
    size_t n = in->struct_size;
    if (n < offsetof(ferry_http_request, url) + sizeof(in->url)) {
        return ferry_error_set(err, FERRY_FATAL, NULL,
                               "HTTP request with struct_size %zu (initialise it with FERRY_HTTP_REQUEST_INIT)", n);
    }
    memcpy(&p->req, in, n < sizeof(p->req) ? n : sizeof(p->req));
    p->req.struct_size = (uint32_t)sizeof(p->req);
    if (p->req.method == NULL || p->req.url == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "HTTP request without a %s",
                               p->req.method == NULL ? "method" : "URL");
    }
    p->url_red = ferry_redact_url(p->req.url, p->req.secret_fields);
    if (p->url_red == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory preparing an HTTP request");
    }
    if (!method_is_valid(p->req.method)) {
        return ferry_error_at(err, FERRY_FATAL, p->url_red, 0, "HTTP request to %s with an invalid method", p->url_red);
    }
    if (strncasecmp(p->req.url, "http://", 7) != 0 && strncasecmp(p->req.url, "https://", 8) != 0) {
        return ferry_error_at(err, FERRY_CONFIG_ERROR, p->url_red, 0, "%s %s: not an http:// or https:// URL",
                              p->req.method, p->url_red);
    }
    p->idempotent = method_is_idempotent(p->req.method);

    if (p->req.json != NULL) {
        /* 15 significant digits: 199.99 goes out as 199.99, not 199.99000000000001 (APIs check decimals). */
        p->json_text = json_dumps(p->req.json, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        if (p->json_text == NULL) {
            return ferry_error_at(err, FERRY_FATAL, p->url_red, 0, "%s %s: the JSON body cannot be serialised",
                                  p->req.method, p->url_red);
        }
        p->body = p->json_text;
        p->body_len = strlen(p->json_text);
        p->body_type = "application/json";
    } else if (p->req.body != NULL) {
        p->body = p->req.body;
        p->body_len = p->req.body_len > 0 ? p->req.body_len : strlen(p->req.body);
        p->body_type = "application/x-www-form-urlencoded"; /* what libcurl sends unless a header says otherwise */
    }

    ferry_buf text = FERRY_BUF_INIT;
    int has_accept = 0, has_ctype = 0, has_agent = 0, has_expect = 0;
    for (size_t i = 0; p->req.headers != NULL && p->req.headers[i] != NULL; i++) {
        const char *h = p->req.headers[i];
        if (strpbrk(h, "\r\n") != NULL || strchr(h, ':') == NULL) {
            ferry_buf_free(&text);
            return ferry_error_at(err, FERRY_RECORD_ERROR, p->url_red, 0,
                                  "%s %s: header %zu is not a single \"Name: value\" line", p->req.method, p->url_red,
                                  i + 1);
        }
        if (header_is(h, "Accept")) {
            has_accept = 1;
        } else if (header_is(h, "Content-Type")) {
            has_ctype = 1;
            if (p->req.json == NULL) {
                p->body_type = h + strlen("Content-Type:") + strspn(h + strlen("Content-Type:"), " \t");
            }
        } else if (header_is(h, "User-Agent")) {
            has_agent = 1;
        } else if (header_is(h, "Expect")) {
            has_expect = 1;
        }
        if (append_header(p, &text, h, 1) != 0) {
            goto oom;
        }
    }
    if (!has_accept && append_header(p, &text, "Accept: application/json", 1) != 0) {
        goto oom;
    }
    if (p->req.json != NULL && !has_ctype && append_header(p, &text, "Content-Type: application/json", 1) != 0) {
        goto oom;
    }
    /* No "Expect: 100-continue" round trip before larger bodies. */
    if (!has_expect && append_header(p, &text, "Expect:", 0) != 0) {
        goto oom;
    }
    if (!has_agent) {
        int rc = -1;
        char *ua = ferry_asprintf("User-Agent: %s", c->user_agent);
        if (ua != NULL && (text.len == 0 || ferry_buf_puts(&text, "\n") == 0) && ferry_buf_puts(&text, ua) == 0) {
            rc = 0;
        }
        free(ua);
        if (rc != 0) {
            goto oom;
        }
    }
    p->header_text = text.data != NULL ? ferry_buf_take(&text) : ferry_strdup("");
    if (p->header_text == NULL) {
        goto oom;
    }
    return FERRY_OK;
oom:
    ferry_buf_free(&text);
    return ferry_error_at(err, FERRY_FATAL, p->url_red, 0, "%s %s: out of memory preparing the request", p->req.method,
                          p->url_red);
}

/* ---- one attempt ------------------------------------------------------------------------ */

static void reply_clear(reply *r)
{
    ferry_buf_free(&r->body);
    free(r->content_type);
    free(r->location);
    free(r->retry_after);
    memset(r, 0, sizeof(*r));
}

/* Keep the value of header `name` from a raw header line, trimmed. */
static void capture_header(const char *data, size_t len, const char *name, char **slot)
{
    size_t nlen = strlen(name);
    if (len <= nlen || data[nlen] != ':' || strncasecmp(data, name, nlen) != 0) {
        return;
    }
    const char *v = data + nlen + 1;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    char *copy = malloc((size_t)(end - v) + 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, v, (size_t)(end - v));
    copy[end - v] = '\0';
    free(*slot);
    *slot = copy;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
    reply *r = ud;
    size_t len = size * nitems;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A status line starts a new response (after a 1xx, or a proxy's CONNECT answer). */
        free(r->content_type);
        free(r->location);
        free(r->retry_after);
        r->content_type = r->location = r->retry_after = NULL;
        return len;
    }
    capture_header(data, len, "Content-Type", &r->content_type);
    capture_header(data, len, "Location", &r->location);
    capture_header(data, len, "Retry-After", &r->retry_after);
    return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    reply *r = ud;
    size_t len = size * nmemb;
    if (r->body.len + len > (size_t)FERRY_HTTP_MAX_RESPONSE) {
        r->too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (ferry_buf_append(&r->body, data, len) != 0) {
        r->out_of_memory = 1;
        return 0;
    }
    return len;
}

static void set_method(CURL *h, const prepared *p)
{
    const char *m = p->req.method;
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(m, "GET") == 0 && p->body == NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (p->body != NULL || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(p->body != NULL ? p->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body != NULL ? p->body : "");
    }
    if (strcmp(m, "POST") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
}

/* Run one attempt on the client's handle; fills *r and *status. */
static CURLcode perform(ferry_http_client *c, const prepared *p, reply *r, long *status)
{
    CURL *h = c->curl;
    long timeout = p->req.timeout_ms > 0 ? p->req.timeout_ms : c->timeout_ms;
    /* Reset keeps the handle's live connections, DNS and TLS session caches. */
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, p->req.url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_file != NULL) {
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    set_method(h, p);
    c->errbuf[0] = '\0';
    CURLcode cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    long connects = 0;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
        c->connections += connects;
    }
    return cc;
}

/*
 * What went wrong in a failed attempt, for a person: libcurl's short text
 * plus its detail line - unless the detail quotes the URL's query or
 * credentials, which may hold secrets - with registered secrets masked.
 */
static void describe_failure(ferry_http_client *c, const prepared *p, const reply *r, CURLcode cc, char *out, size_t n)
{
    if (r->too_large) {
        snprintf(out, n, "the response is larger than %ld bytes", (long)FERRY_HTTP_MAX_RESPONSE);
        return;
    }
    if (r->out_of_memory) {
        snprintf(out, n, "out of memory reading the response");
        return;
    }
    const char *detail = c->errbuf;
    const char *query = strchr(p->req.url, '?');
    const char *at = strchr(p->req.url, '@');
    if ((query != NULL && query[1] != '\0' && strstr(detail, query + 1) != NULL) || at != NULL) {
        detail = "";
    }
    char *masked = ferry_redact_text(detail);
    if (masked != NULL && masked[0] != '\0') {
        size_t len = strlen(masked);
        while (len > 0 && (masked[len - 1] == '\n' || masked[len - 1] == ' ')) {
            masked[--len] = '\0';
        }
        snprintf(out, n, "%s (%s)", curl_easy_strerror(cc), masked);
    } else {
        snprintf(out, n, "%s", curl_easy_strerror(cc));
    }
    free(masked);
}

/* ---- the request loop ---------------------------------------------------------------------- */

/* Fill the error for a parse failure of a JSON body. */
static int json_failure(const prepared *p, long status, const reply *r, const json_error_t *je, ferry_error *err)
{
    /* Jansson's text may quote the body ("near '...'"), which can hold a secret: keep only its first part. */
    char why[160];
    ferry_strlcpy(why, je->text, sizeof(why));
    char *near = strstr(why, " near ");
    if (near != NULL) {
        *near = '\0';
    }
    ferry_error_at(err, FERRY_RETRY, p->url_red, 0,
                   "%s %s: the response (HTTP %ld, %zu bytes, %s) is not valid JSON: %s at byte %d "
                   "(line %d, column %d)",
                   p->req.method, p->url_red, status, r->body.len,
                   r->content_type != NULL ? r->content_type : "no Content-Type", why, je->position, je->line,
                   je->column);
    if (err != NULL) {
        err->http_status = (int)status;
        err->flags &= ~FERRY_ERROR_MAYBE_APPLIED;
        if (!p->idempotent) {
            err->flags |= FERRY_ERROR_MAYBE_APPLIED;
        }
    }
    return FERRY_RETRY;
}

/* Turn the last attempt's HTTP answer into a response (parsing JSON); FERRY_OK or an error. */
static int make_response(ferry_http_client *c, const prepared *p, reply *r, long status, int attempts,
                         ferry_http_response **out, ferry_error *err)
{
    ferry_http_response *resp = calloc(1, sizeof(*resp));
    if (resp == NULL) {
        return ferry_error_at(err, FERRY_FATAL, p->url_red, 0, "%s %s: out of memory", p->req.method, p->url_red);
    }
    resp->struct_size = (uint32_t)sizeof(*resp);
    resp->status = status;
    resp->attempts = attempts;
    long long ra = ferry_http_parse_retry_after(r->retry_after, ferry_now_ms());
    resp->retry_after_ms = ra < 0 ? -1 : (ra > c->max_retry_after_ms ? c->max_retry_after_ms : ra);
    char *effective = NULL;
    curl_easy_getinfo(c->curl, CURLINFO_EFFECTIVE_URL, &effective);
    resp->url = ferry_strdup(effective != NULL ? effective : p->req.url);
    if (!(p->req.flags & FERRY_HTTP_RAW) && r->body.len > 0 &&
        (content_type_is_json(r->content_type) ||
         ((r->content_type == NULL || r->content_type[0] == '\0') && body_looks_json(r->body.data, r->body.len)))) {
        json_error_t je;
        resp->json = json_loadb(r->body.data, r->body.len, JSON_DECODE_ANY, &je);
        if (resp->json == NULL) {
            ferry_http_response_free(resp);
            return json_failure(p, status, r, &je, err);
        }
    }
    resp->body_len = r->body.len;
    resp->body = r->body.data != NULL ? ferry_buf_take(&r->body) : ferry_strdup("");
    resp->content_type = r->content_type;
    resp->location = r->location;
    r->content_type = r->location = NULL;
    if (resp->body == NULL || resp->url == NULL) {
        ferry_http_response_free(resp);
        return ferry_error_at(err, FERRY_FATAL, p->url_red, 0, "%s %s: out of memory", p->req.method, p->url_red);
    }
    *out = resp;
    return FERRY_OK;
}

static int send_prepared(ferry_http_client *c, const prepared *p, ferry_http_response **out, ferry_error *err)
{
    const char *ctx = c->log_context;
    const char *m = p->req.method;
    int max_attempts = (p->req.flags & FERRY_HTTP_NO_RETRY) ? 1 : c->max_attempts;
    int may_repeat = p->idempotent || (p->req.flags & FERRY_HTTP_RETRY_UNSAFE);
    int maybe_applied = 0; /* a non-idempotent attempt may have been processed */
    reply r;
    memset(&r, 0, sizeof(r));
    long status = 0;
    CURLcode cc = CURLE_OK;
    int attempt;
    long long t0 = ferry_monotonic_ms();

    for (attempt = 1;; attempt++) {
        reply_clear(&r);
        if (p->req.rate_bucket != NULL) {
            long long waited = ferry_ratelimit_acquire(c->limits, p->req.rate_bucket);
            if (waited > 0) {
                ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s: waited %lld ms for rate limit bucket %s", m, p->url_red, waited,
                          p->req.rate_bucket);
            }
        }
        long long ta = ferry_monotonic_ms();
        cc = perform(c, p, &r, &status);
        long long took = ferry_monotonic_ms() - ta;
        long long delay;
        if (cc == CURLE_OK) {
            ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s -> HTTP %ld in %lld ms (attempt %d of %d)", m, p->url_red, status,
                      took, attempt, max_attempts);
            if (!p->idempotent && !status_is_not_processed(status)) {
                maybe_applied = 1;
            }
            if (!status_is_retryable(status) || attempt >= max_attempts ||
                (!may_repeat && !status_is_not_processed(status))) {
                break;
            }
            long long ra = ferry_http_parse_retry_after(r.retry_after, ferry_now_ms());
            if (ra >= 0) {
                delay = ra > c->max_retry_after_ms ? c->max_retry_after_ms : ra;
            } else {
                delay = ferry_backoff_delay(&c->backoff, attempt - 1);
            }
            if (ferry_monotonic_ms() - t0 + delay > c->max_elapsed_ms) {
                ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s: not retrying HTTP %ld: waiting %lld ms would pass %lld ms", m,
                          p->url_red, status, delay, c->max_elapsed_ms);
                break;
            }
            ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s: HTTP %ld, retrying in %lld ms%s", m, p->url_red, status, delay,
                      ra >= 0 ? " (Retry-After)" : "");
        } else {
            char why[512];
            describe_failure(c, p, &r, cc, why, sizeof(why));
            ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s -> no answer in %lld ms (attempt %d of %d): %s", m, p->url_red, took,
                      attempt, max_attempts, why);
            int not_sent = never_connected(cc) || is_config_failure(cc);
            if (!p->idempotent && !not_sent) {
                maybe_applied = 1;
            }
            if (is_config_failure(cc) || r.too_large || r.out_of_memory || attempt >= max_attempts ||
                (!may_repeat && !not_sent)) {
                break;
            }
            delay = ferry_backoff_delay(&c->backoff, attempt - 1);
            if (ferry_monotonic_ms() - t0 + delay > c->max_elapsed_ms) {
                break;
            }
            ferry_log(FERRY_LOG_DEBUG, ctx, "%s %s: retrying in %lld ms", m, p->url_red, delay);
        }
        ferry_sleep_ms(delay);
    }
    long long total = ferry_monotonic_ms() - t0;
    int rc;
    if (cc == CURLE_OK) {
        rc = make_response(c, p, &r, status, attempt, out, err);
        if (rc == FERRY_OK) {
            record_exchange(c, p, status, (*out)->body, (*out)->body_len, (*out)->content_type, (*out)->json, attempt,
                            total, NULL);
        } else {
            record_exchange(c, p, status, r.body.data, r.body.len, r.content_type, NULL, attempt, total, err);
        }
    } else {
        char why[512];
        describe_failure(c, p, &r, cc, why, sizeof(why));
        int status_code = is_config_failure(cc) ? FERRY_CONFIG_ERROR : r.out_of_memory ? FERRY_FATAL : FERRY_RETRY;
        const char *tail = "";
        if (maybe_applied && attempt < max_attempts && !(p->req.flags & FERRY_HTTP_RETRY_UNSAFE)) {
            tail = "; not retried because the server may have received the request";
        } else if (maybe_applied) {
            tail = "; the server may have received the request";
        }
        ferry_error_at(err, status_code, p->url_red, 0, "%s %s: %s; no answer after %d attempt%s in %lld ms%s", m,
                       p->url_red, why, attempt, attempt == 1 ? "" : "s", total, tail);
        if (err != NULL) {
            err->http_status = 0;
            err->flags &= ~FERRY_ERROR_MAYBE_APPLIED;
            if (maybe_applied) {
                err->flags |= FERRY_ERROR_MAYBE_APPLIED;
            }
        }
        rc = status_code;
        record_exchange(c, p, 0, NULL, 0, NULL, NULL, attempt, total, err);
    }
    reply_clear(&r);
    return rc;
}

int ferry_http_send(ferry_http_client *client, const ferry_http_request *req, ferry_http_response **resp,
                    ferry_error *err)
{
    if (resp != NULL) {
        *resp = NULL;
    }
    if (client == NULL || req == NULL || resp == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "HTTP request without a client, request or response pointer");
    }
    ferry_error local; /* the recorder always gets the error, even when the caller passed none */
    if (err == NULL) {
        ferry_error_clear(&local);
        err = &local;
    }
    prepared p;
    memset(&p, 0, sizeof(p));
    int rc = prepare(client, req, &p, err);
    if (rc == FERRY_OK) {
        rc = send_prepared(client, &p, resp, err);
    }
    prepared_free(&p);
    return rc;
}
