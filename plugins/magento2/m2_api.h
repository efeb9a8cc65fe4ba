/*
 * m2_api.h - one Magento REST call: the URL for the store code (or "all"),
 * the Authorization header of the connection's auth mode, the host's HTTP
 * (retries, backoff, rate limits, redaction), and Magento's error bodies
 * turned into a ferry_error that says what most likely went wrong.
 *
 * Error classes (see doc/magento2.md):
 *   401, 403            FERRY_CONFIG_ERROR naming the likely cause: the 2.4.4
 *                       Bearer change, a wrong signature or credentials, clock
 *                       skew, a missing ACL resource (named), two-factor
 *                       authentication; a 401 that refuses the credentials
 *                       themselves adds FERRY_ERROR_NEEDS_REAUTH and m2_api_call
 *                       marks the connection needs_reauth (an ACL 401 does not);
 *   400 OAuth problems  FERRY_CONFIG_ERROR (signature method, timestamp, ...);
 *   404 no route        FERRY_CONFIG_ERROR (base_url, store code, module);
 *   400, 404, 4xx       FERRY_RECORD_ERROR naming the field when Magento does;
 *   429, 5xx            FERRY_RETRY (Retry-After kept).
 * Messages substitute Magento's %1 / %name placeholders and never carry a
 * secret (known secret values are masked as a last resort).
 */
#ifndef M2_API_H
#define M2_API_H

#include <ferry/plugin.h>

#include "m2_conn.h"
#include "m2_search.h"

/* m2_request.flags */
#define M2_SCOPE_ALL 0x1u  /* /rest/all/V1: global values (product and category writes) */
#define M2_ACCEPT_404 0x2u /* a 404 that is not "no route" is an answer: FERRY_OK, *out NULL */
#define M2_QUIET 0x4u      /* keep bodies out of the activity log */
#define M2_IDEMPOTENT 0x8u /* a POST that may be repeated safely (source-items save) */

typedef struct m2_request {
    const char *method;
    const char *path;       /* after /V1, with each segment already encoded (m2_api_segment) */
    const m2_params *query; /* decoded pairs, may be NULL */
    const json_t *body;     /* JSON body, may be NULL */
    unsigned flags;         /* M2_* */
    const char *label;      /* short name for the activity log, e.g. "read orders" */
    const char *record;     /* record key put into err->record, may be NULL */
} m2_request;

/*
 * Send `rq`.  FERRY_OK with *out = the answer's JSON (new reference; a
 * scalar for token/id/bool answers, JSON null for an empty body) and
 * *status (may be NULL) = the HTTP status.  With M2_ACCEPT_404 a 404 other
 * than "no route" gives FERRY_OK with *out NULL.  Otherwise an error status
 * with err filled as described above.  Admin tokens are renewed and a
 * request whose OAuth nonce was taken is re-signed, once each.
 */
int m2_api_call(ferry_conn *c, const m2_request *rq, json_t **out, long *status, ferry_error *err);

/*
 * Fill err from an error answer: http_status and a Magento body (may be
 * NULL; raw_body is used when it is not JSON).  `what` names the call
 * ("GET /V1/orders").  Returns the ferry status chosen.
 */
int m2_api_error(const ferry_conn *c, long http_status, const json_t *body, const char *raw_body, const char *what,
                 ferry_error *err);

/*
 * Magento's message with its placeholders filled: "%1".."%n" from a
 * parameters list, "%name" from a parameters object; nested errors[] are
 * appended.  New string (free()), NULL when the body has no message.
 */
char *m2_api_message(const json_t *body);

/* A path segment (a SKU, an id) percent-encoded for the URL.  New string (free()). */
char *m2_api_segment(const ferry_conn *c, const char *value);

/* The URL of `path` (after /V1) for a store code ("all" or NULL = the connection's).  New string (free()). */
char *m2_api_url(const ferry_conn *c, const char *store, const char *path);

/* Replace every known secret value in `text` (in place) with "***". */
void m2_api_scrub(const ferry_conn *c, char *text, size_t size);

#endif /* M2_API_H */
