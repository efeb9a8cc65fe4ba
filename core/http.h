/*
 * http.h - the HTTP service: libcurl with JSON, retries, rate limits and an
 * activity record of every exchange.  It backs the host table's `http`
 * function (host.c) and is usable by the core directly.
 *
 * Process set-up: main() calls ferry_http_global_init() once before any
 * thread starts and ferry_http_global_cleanup() once at exit, after every
 * client is destroyed.  (ferry_http_client_create also calls
 * ferry_http_global_init, so tests and tools that forget still work, but
 * libcurl's global set-up is only safe to race on in recent versions - call
 * it from main.)
 *
 * One ferry_http_client per connection: it keeps the curl handle (so TCP and
 * TLS connections are reused), the connection's token buckets and its
 * defaults.  A client is used by one thread at a time.
 *
 * Every request sends "Accept: application/json" (unless the request names
 * its own Accept), a User-Agent "ferry/<FERRY_VERSION>", and - when it has a
 * `json` body - that body serialised compact with "Content-Type:
 * application/json".  Redirects are not followed (Location is returned).
 * TLS peer and host verification are on unless the client is `insecure`
 * (which logs a warning when the client is created).
 *
 * Retries (ferry_http_send): network errors, 429, 502, 503 and 504 are
 * retried with exponential backoff and full jitter (backoff.h), honouring
 * Retry-After (seconds or HTTP-date, capped at max_retry_after_ms), bounded
 * by max_attempts and max_elapsed_ms (no new attempt starts when its delay
 * would end past max_elapsed_ms after the first attempt began).  A request
 * that creates something (POST, PATCH - anything but GET/HEAD/PUT/DELETE/
 * OPTIONS) is retried only when the server certainly did not process it: the
 * connection was never established (CURLE_COULDNT_CONNECT,
 * CURLE_COULDNT_RESOLVE_HOST), or the server answered 429 or 503.  After a
 * timeout or a reset mid-request it is NOT retried; the error then carries
 * FERRY_ERROR_MAYBE_APPLIED so the caller reconciles instead.  (A POST
 * answered 502 or 504 is not retried either and comes back as FERRY_OK with
 * that response: the plugin must treat it as "may have been applied".)
 * FERRY_HTTP_RETRY_UNSAFE and FERRY_HTTP_NO_RETRY override this.
 *
 * Rate limits: a request naming a rate_bucket configured with
 * ferry_http_rate_limit waits for a token before each attempt
 * (ratelimit.h).  Requests naming an unconfigured bucket are not limited.
 *
 * Activity record: after each ferry_http_send (all attempts together) the
 * recorder receives one ferry_http_exchange with every text redacted; the
 * debug log gets one line per attempt (method, redacted URL, status,
 * duration, attempt).  FERRY_HTTP_QUIET requests (token endpoints) are
 * recorded and logged without their request and response bodies.
 */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <ferry/plugin.h>

#include "http_date.h" /* ferry_http_parse_retry_after, ferry_http_parse_date */

typedef struct ferry_http_client ferry_http_client;

/* Bodies in an exchange record are cut to this many bytes (after redaction). */
#define FERRY_HTTP_RECORD_MAX (64 * 1024)

/* A response body larger than this fails the request (memory stays bounded). */
#define FERRY_HTTP_MAX_RESPONSE (256L * 1024 * 1024)

/* Options of a client; zero (or negative) members take the documented defaults. */
typedef struct ferry_http_options {
    long connect_timeout_ms;      /* default 10000 */
    long timeout_ms;              /* total per attempt, default 60000 */
    int max_attempts;             /* default 5 */
    long long max_elapsed_ms;     /* all attempts of one request, default 120000 */
    long long backoff_base_ms;    /* default 500 */
    long long backoff_cap_ms;     /* default 30000 */
    long long max_retry_after_ms; /* cap on a server's Retry-After, default 120000 */
    const char *ca_file;          /* CA bundle; NULL = system default */
    int insecure;                 /* 1 = do not verify TLS (never the default) */
    const char *user_agent;       /* default "ferry/<version>" */
    const char *log_context;      /* name used in log lines, e.g. the connection name */
} ferry_http_options;

/*
 * One recorded exchange, passed to the recorder after each request (all
 * attempts).  Every text is already redacted: headers, form bodies, JSON
 * bodies (secret member names, the request's secret_fields, registered
 * secrets) and the URL's query string.  Everything is borrowed for the
 * duration of the call; copy what you keep.
 */
typedef struct ferry_http_exchange {
    const char *label; /* the request's label, may be NULL */
    const char *method;
    const char *url;             /* redacted */
    const char *request_headers; /* redacted, one per line ('\n'-separated) */
    const char *request_body;    /* redacted, may be NULL (none, or FERRY_HTTP_QUIET); cut at FERRY_HTTP_RECORD_MAX */
    long status;                 /* 0 when no answer */
    const char *response_body;   /* redacted, may be NULL (none, or QUIET); truncated to FERRY_HTTP_RECORD_MAX */
    int attempts;
    long long duration_ms;
    const ferry_error *error; /* NULL when the request succeeded with an HTTP answer */
    size_t request_size;      /* bytes of the request body actually sent */
    size_t response_size;     /* bytes of the whole response body (before truncation) */
} ferry_http_exchange;

typedef void (*ferry_http_recorder)(void *ud, const ferry_http_exchange *ex);

/*
 * A new client (NULL opts = defaults; strings in opts are copied), or NULL
 * when out of memory or libcurl cannot start.  Logs a warning when
 * opts->insecure.  Destroy with ferry_http_client_destroy.
 */
ferry_http_client *ferry_http_client_create(const ferry_http_options *opts);

/* Close the client's connections and free it (NULL is fine). */
void ferry_http_client_destroy(ferry_http_client *client);

/* Install (or with NULL remove) the recorder that receives every exchange. */
void ferry_http_set_recorder(ferry_http_client *client, ferry_http_recorder fn, void *ud);

/* Which bodies the recorder gets (redacting a body costs about what parsing it does). */
#define FERRY_HTTP_RECORD_WRITE_BODIES 0x1u /* bodies of writes (POST, PUT...) and their answers */
#define FERRY_HTTP_RECORD_READ_BODIES 0x2u  /* answers to reads (GET, HEAD) */
#define FERRY_HTTP_RECORD_ERROR_BODIES 0x4u /* any answer with a status of 400 or more */
#define FERRY_HTTP_RECORD_ALL_BODIES 0x7u   /* the default */

/* Choose the bodies recorded (FERRY_HTTP_RECORD_*); the others arrive as NULL. */
void ferry_http_record_bodies(ferry_http_client *client, unsigned which);

/*
 * Configure token bucket `bucket`: `requests` per `per_seconds`, burst up to
 * `requests`.  Requests naming the bucket wait for a token before each
 * attempt.  Reconfiguring a bucket starts it full.  Returns 0, or -1 on bad
 * arguments (see ferry_ratelimit_configure) or when out of memory.
 */
int ferry_http_rate_limit(ferry_http_client *client, const char *bucket, int requests, int per_seconds);

/*
 * Send a request (see host.h for the request and response structs; only the
 * first req->struct_size bytes of *req are read).  A non-NULL `body` with
 * body_len 0 is taken as a NUL-terminated string.
 *
 * FERRY_OK with *resp (the caller frees it with ferry_http_response_free)
 * for any HTTP answer, also a 4xx/5xx once retries are spent: the caller
 * interprets the body.  resp->retry_after_ms is the server's Retry-After,
 * capped at max_retry_after_ms, or -1.
 *
 * Otherwise an error status with *resp NULL and a message naming the method
 * and the (redacted) URL, never a secret:
 *   FERRY_RETRY  no answer (network error, timeout, reset) once retries are
 *                spent or not allowed; FERRY_ERROR_MAYBE_APPLIED set when a
 *                request that creates something may have reached the server;
 *   FERRY_RETRY  a body that claims to be JSON (Content-Type, or no type and
 *                a body starting with '{' or '[') does not parse: the message
 *                names the URL and the byte offset; http_status is set and
 *                MAYBE_APPLIED too unless the method is idempotent;
 *   FERRY_CONFIG_ERROR  TLS verification failed, a bad CA file, or a URL
 *                that is not http(s);
 *   FERRY_FATAL  a NULL client/request/method/URL (a programming error), or
 *                out of memory;
 *   FERRY_RECORD_ERROR  a header containing a line break.
 */
int ferry_http_send(ferry_http_client *client, const ferry_http_request *req, ferry_http_response **resp,
                    ferry_error *err);

/* Release a response (NULL is fine). */
void ferry_http_response_free(ferry_http_response *resp);

/*
 * How many new connections this client has opened so far (a measure of
 * connection reuse: several requests to one server should open one).
 */
long ferry_http_connections_opened(const ferry_http_client *client);

/*
 * Process-wide libcurl setup/teardown.  Call ferry_http_global_init once
 * from main before starting threads (idempotent: later calls return 0 at
 * once); returns 0, or -1 when libcurl cannot start.  Call
 * ferry_http_global_cleanup once at exit after destroying every client.
 */
int ferry_http_global_init(void);
void ferry_http_global_cleanup(void);

#endif /* FERRY_HTTP_H */
