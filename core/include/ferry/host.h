/*
 * ferry/host.h - the host table: what the ferry core offers a plugin.
 *
 * Included by ferry/plugin.h; do not include it on its own.
 *
 * The table is append-only within an ABI major: new functions go at the end,
 * and a plugin that needs a function newer than FERRY_PLUGIN_ABI_MINOR 0
 * checks FERRY_HOST_HAS(host, member) first.  Every function that concerns a
 * connection takes the core's connection handle `hc` (given to the plugin's
 * open and authorize), which is how the core knows whose settings, state,
 * rate limits and log context are meant.
 *
 * Thread safety: a connection handle is used by one thread at a time.
 */
#ifndef FERRY_HOST_H
#define FERRY_HOST_H

#ifndef FERRY_PLUGIN_H
#error "include <ferry/plugin.h>, not <ferry/host.h>"
#endif

/* Log levels, most severe first. */
enum ferry_log_level { FERRY_LOG_ERROR = 0, FERRY_LOG_WARN = 1, FERRY_LOG_INFO = 2, FERRY_LOG_DEBUG = 3 };

/* ferry_http_request.flags */
#define FERRY_HTTP_RETRY_UNSAFE 0x1u /* retry even a POST after it may have arrived (caller knows it is idempotent) */
#define FERRY_HTTP_NO_RETRY 0x2u     /* one attempt only */
#define FERRY_HTTP_RAW 0x4u          /* do not parse the response body as JSON */
#define FERRY_HTTP_QUIET 0x8u        /* record this exchange without its bodies (token endpoints) */

/*
 * One HTTP request.  Initialise with FERRY_HTTP_REQUEST_INIT so struct_size
 * is right; unset members are zero.
 */
typedef struct ferry_http_request {
    uint32_t struct_size;
    const char *method;               /* "GET", "POST", "PUT", "DELETE" */
    const char *url;                  /* absolute URL */
    const char *const *headers;       /* NULL-terminated "Name: value" strings, may be NULL */
    const json_t *json;               /* body as JSON (sent compact, Content-Type set), or NULL */
    const char *body;                 /* raw body when json is NULL, may be NULL */
    size_t body_len;                  /* length of body */
    const char *rate_bucket;          /* token bucket to take from before sending, or NULL */
    unsigned flags;                   /* FERRY_HTTP_* */
    long timeout_ms;                  /* total timeout; 0 = the connection's default */
    const char *const *secret_fields; /* JSON keys / form fields to redact when logging, NULL-terminated */
    const char *label;                /* short name for the activity log, e.g. "create order" */
} ferry_http_request;

#define FERRY_HTTP_REQUEST_INIT                                                                                        \
    {                                                                                                                  \
        .struct_size = (uint32_t)sizeof(ferry_http_request)                                                            \
    }

/* One HTTP response, owned by the host; release with host->http_free. */
typedef struct ferry_http_response {
    uint32_t struct_size;
    long status; /* HTTP status */
    char *body;  /* NUL-terminated raw body (may be empty, never NULL) */
    size_t body_len;
    json_t *json;             /* parsed body when it is JSON and not FERRY_HTTP_RAW, else NULL (borrowed) */
    char *content_type;       /* may be NULL */
    char *location;           /* Location header, may be NULL */
    long long retry_after_ms; /* Retry-After header, -1 when absent */
    int attempts;             /* how many attempts the host made */
    const char *url;          /* the effective URL */
} ferry_http_response;

struct ferry_host {
    uint32_t abi_major;   /* FERRY_PLUGIN_ABI_MAJOR of the core */
    uint32_t abi_minor;   /* FERRY_PLUGIN_ABI_MINOR of the core */
    uint32_t struct_size; /* sizeof(ferry_host) in the core */
    const char *ferry_version;

    /* ---- logging --------------------------------------------------------- */

    /* Log a message for this connection.  Secrets are redacted by the host. */
    void (*log)(ferry_host_conn *hc, int level, const char *fmt, ...) FERRY_PRINTF(3, 4);

    /* ---- settings and secrets -------------------------------------------- */

    /*
     * The value of setting `name` (including secrets and managed values),
     * or NULL when unset.  Borrowed: valid until the next credentials_save
     * or setting change on this connection.
     */
    const char *(*setting)(ferry_host_conn *hc, const char *name);

    /*
     * Persist new values for managed settings (rotated tokens) atomically:
     * `values` is an object of name -> string (or null to delete).  The new
     * values are committed to the store before this returns, so a crash right
     * after never loses a token the server has already rotated.  Each value
     * is registered as a secret when its setting is one.
     */
    int (*credentials_save)(ferry_host_conn *hc, const json_t *values, ferry_error *err);

    /* Re-read this connection's settings from the store (another process may have changed them). */
    int (*settings_reload)(ferry_host_conn *hc, ferry_error *err);

    /* Register a value that must never appear in a log, event or message. */
    void (*secret)(ferry_host_conn *hc, const char *value);

    /* ---- small key/value state (per connection, persisted) --------------- */

    /* *value is a new reference, or NULL when the key is unset. */
    int (*state_get)(ferry_host_conn *hc, const char *key, json_t **value, ferry_error *err);
    /* Store a copy of `value` (NULL deletes the key). */
    int (*state_set)(ferry_host_conn *hc, const char *key, const json_t *value, ferry_error *err);

    /* ---- HTTP ------------------------------------------------------------ */

    /*
     * Send a request with the host's retries, backoff, Retry-After, rate
     * limiting, timeouts, TLS settings and activity logging.  A `json` body is
     * sent compact with reals at 15 significant digits (199.99, not
     * 199.99000000000001).  Returns FERRY_OK
     * with *resp set for any HTTP answer (also 4xx/5xx once retries are spent:
     * the plugin interprets the body), or an error status without *resp when
     * no answer came (FERRY_RETRY; FERRY_ERROR_MAYBE_APPLIED is set when a
     * write may have reached the server).
     */
    int (*http)(ferry_host_conn *hc, const ferry_http_request *req, ferry_http_response **resp, ferry_error *err);

    /* Release a response. */
    void (*http_free)(ferry_http_response *resp);

    /*
     * Configure the token bucket `bucket` of this connection: at most
     * `requests` per `per_seconds`, with bursts up to `requests`.
     */
    int (*rate_limit)(ferry_host_conn *hc, const char *bucket, int requests, int per_seconds);

    /* ---- cross-process locks ---------------------------------------------- */

    /*
     * The core never calls a plugin operation inside a store transaction, so
     * what lock and credentials_save write is committed (visible to other
     * processes) when they return.
     *
     * Take the named lock of this connection, shared by every ferry process
     * on the same store (used to refresh a token exactly once).  Waits up to
     * timeout_ms; FERRY_RETRY when it could not.  A lock held by a process that
     * died is taken over after it expires.
     */
    int (*lock)(ferry_host_conn *hc, const char *name, int timeout_ms, ferry_error *err);
    void (*unlock)(ferry_host_conn *hc, const char *name);

    /* ---- connection health and alerts ------------------------------------- */

    /*
     * Mark the connection as needing a person ("needs_reauth", "ok") with a
     * message a shop owner understands; raises an alert and stops runs that
     * use this connection until it is "ok" again.
     */
    int (*connection_status)(ferry_host_conn *hc, const char *status, const char *message);

    /* ---- time, randomness, encoding --------------------------------------- */

    long long (*now_ms)(ferry_host_conn *hc); /* wall clock, ms since the epoch */
    int (*random_bytes)(void *buf, size_t len);
    /* HMAC-SHA256 of msg with key into out[32]. */
    void (*hmac_sha256)(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[32]);
    /* Base64 (standard alphabet, padded) of data; free with host->free. */
    char *(*base64_encode)(const void *data, size_t len);
    /* RFC 3986 percent-encoding (unreserved kept); free with host->free. */
    char *(*url_encode)(const char *s);
    void (*free)(void *p);

    /* ---- interaction (only during authorize) ------------------------------ */

    /* Print a line for the person running `ferry connection add`. */
    void (*say)(ferry_host_conn *hc, const char *fmt, ...) FERRY_PRINTF(2, 3);
    /*
     * Ask a question; the answer (without newline) goes into buf.  `secret`
     * turns echo off.  FERRY_CONFIG_ERROR when there is nobody to ask.
     */
    int (*prompt)(ferry_host_conn *hc, const char *question, int secret, char *buf, size_t len);
};

/* True when the host table has `member` (it may be older than the plugin). */
#define FERRY_HOST_HAS(host, member)                                                                                   \
    ((host) != NULL && (host)->struct_size >= offsetof(ferry_host, member) + sizeof((host)->member) &&                 \
     (host)->member != NULL)

#endif /* FERRY_HOST_H */
