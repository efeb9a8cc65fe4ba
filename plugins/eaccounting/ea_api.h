/*
 * ea_api.h - one request to the eAccounting API, and list paging.
 *
 * Every API request goes through ea_api_call, which
 *   - makes sure the access token is fresh (ea_auth), sends it as a bearer;
 *   - takes a token from the endpoint's rate-limit bucket: one bucket per
 *     normalised path ("/v2/customers/{id}"), configured once with the host
 *     as rate_limit_per_minute per 61 s (eAccounting counts 600 per minute per
 *     client and endpoint; the extra second absorbs clock skew at the edge of
 *     the server's window);
 *   - writes the JSON body itself with 15 significant digits, so that a
 *     price of 199.99 goes out as 199.99 and not 199.99000000000001;
 *   - on 401 refreshes the token once and repeats the request once;
 *   - on 429 (for any method: eAccounting did not process the request)
 *     waits as long as eAccounting asks - Retry-After, else the "Try again
 *     in N seconds" of its message, else 60 s - and sends the request again
 *     (ea_api_rate_limit_wait_ms bounds the waits);
 *   - turns any other non-2xx answer into a ferry_error (ea_errors.h).
 * The host's HTTP layer retries network errors and 502-504 itself.  It
 * would retry a 429 too, but after its own short backoff, so the first
 * attempt of each request goes out with FERRY_HTTP_NO_RETRY: a 429 comes
 * back to the plugin at once, and whatever else the host would have retried
 * is sent again with the host's retries.  The two layers never both retry
 * one answer.  A 429 that is left when the waits are spent becomes
 * FERRY_RETRY with the wait eAccounting asked for.
 */
#ifndef EA_API_H
#define EA_API_H

#include <ferry/plugin.h>

/* eAccounting's 429: at most this many waits per request, each at most this long. */
#define EA_RATE_WAITS_MAX 3
#define EA_RATE_WAIT_MAX_MS 120000LL

/* One request. */
typedef struct ea_request {
    const char *method; /* GET POST PUT DELETE */
    const char *path;   /* below the API base, e.g. "/customers/<id>" */
    const char *query;  /* already encoded "a=b&c=d", or NULL */
    const json_t *body; /* JSON body, or NULL */
    const char *what;   /* for messages and the activity log: "create customer" */
    const char *entity; /* "customer", "article", "document" (error field mapping) or NULL */
    int allow_404;      /* a 404 answers FERRY_OK with *out NULL */
} ea_request;

/*
 * Send `rq`.  FERRY_OK with *out the parsed answer (new reference; NULL for
 * an empty body or an allowed 404) and *http_status (may be NULL) set, or
 * an error status with err filled (FERRY_RETRY, FERRY_RECORD_ERROR,
 * FERRY_CONFIG_ERROR, FERRY_FATAL).
 */
int ea_api_call(ferry_conn *c, const ea_request *rq, json_t **out, long *http_status, ferry_error *err);

/* Paging information of a list answer. */
typedef struct ea_page_meta {
    int current_page;
    int page_size;
    int total_pages;
    long total_results;
} ea_page_meta;

/*
 * GET one page of list endpoint `resource` ("customers") with optional
 * $filter (unencoded OData text built with ea_filter), $orderby and extra
 * query text (already encoded).  *data is a new JSON array (the page's
 * Data) and *meta its Meta.
 */
int ea_api_list_page(ferry_conn *c, const char *resource, const char *filter, const char *orderby,
                     const char *extra_query, int page, int page_size, json_t **data, ea_page_meta *meta,
                     ferry_error *err);

/* Every item of a list endpoint, all pages (for small reference lists); *all is a new array. */
int ea_api_list_all(ferry_conn *c, const char *resource, const char *orderby, json_t **all, ferry_error *err);

/*
 * How long to wait after a 429 for which eAccounting asks `asked_ms`, when
 * the request already waited `waits_done` times, `waited_ms` in all: the
 * asked time capped at EA_RATE_WAIT_MAX_MS, or -1 (give up) after
 * EA_RATE_WAITS_MAX waits or when the wait would take the total past
 * `budget_ms` (the rate_limit_wait_seconds setting).
 */
long long ea_api_rate_limit_wait_ms(long long asked_ms, int waits_done, long long waited_ms, long long budget_ms);

/* The rate-limit bucket name of a path: "/v2/customers/{id}" for "/customers/<guid>" (into buf). */
char *ea_api_bucket_name(const char *path, char *buf, size_t n);

#endif /* EA_API_H */
