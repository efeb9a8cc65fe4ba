/*
 * m2_auth.h - the three ways ferry authenticates to Magento 2.
 *
 *   oauth   an integration's four credentials; every request is signed with
 *           OAuth 1.0a HMAC-SHA256 exactly as Magento 2.4 verifies it
 *           (Framework\Oauth\Helper\Request and Helper\Signature\Hmac):
 *           base string = METHOD & enc(scheme://host[:port]/path) &
 *           enc(params sorted by decoded name, enc(name)=enc(value) joined by
 *           &), params = the oauth_* protocol values (without the signature)
 *           plus the query's decoded pairs (JSON bodies are not signed);
 *           key = enc(consumer_secret) & enc(token_secret); enc = RFC 3986.
 *   bearer  the integration access token as "Authorization: Bearer" (refused
 *           by 2.4.4+ unless oauth/consumer/enable_integration_as_bearer = 1).
 *   admin   an admin token from POST /V1/integration/admin/token, kept in
 *           the managed secret setting admin_token with its renewal time in
 *           admin_token_expires_at, renewed on expiry or after a 401 (under
 *           a cross-process lock, so one process renews it).
 */
#ifndef M2_AUTH_H
#define M2_AUTH_H

#include <ferry/plugin.h>

#include "m2_conn.h"
#include "m2_search.h"

/* The four OAuth values of a request (all borrowed). */
typedef struct m2_oauth_values {
    const char *consumer_key;
    const char *consumer_secret;
    const char *token;
    const char *token_secret;
    const char *nonce;
    long long timestamp;
} m2_oauth_values;

/*
 * The signature base string of a request (pure; uses host->url_encode).
 * `url` may carry a query, which is ignored: the query's pairs are given
 * decoded in `query` (may be NULL).  New string (free()), NULL when out of memory.
 */
char *m2_oauth_base_string(const ferry_host *host, const char *method, const char *url, const m2_params *query,
                           const m2_oauth_values *v);

/*
 * The value of the Authorization header ("OAuth oauth_consumer_key=..."),
 * signed with HMAC-SHA256 through host->hmac_sha256 and host->base64_encode.
 * New string (free()), NULL when out of memory.
 */
char *m2_oauth_header(const ferry_host *host, const char *method, const char *url, const m2_params *query,
                      const m2_oauth_values *v);

/*
 * The full "Authorization: ..." header line for a request on connection `c`
 * in its auth mode (oauth: signs with a fresh nonce and the current time;
 * admin: obtains or renews the admin token first).  *line is new (free()).
 * Errors: FERRY_CONFIG_ERROR when the admin token cannot be obtained (with
 * the reason: wrong password, two-factor authentication...), FERRY_RETRY when
 * Magento did not answer.
 */
int m2_auth_header_line(ferry_conn *c, const char *method, const char *url, const m2_params *query, char **line,
                        ferry_error *err);

/*
 * Admin mode, after a 401: forget the admin token `failed` (the one that was
 * sent) and get a new one, unless another process already did.  Returns
 * FERRY_OK or the error of the token request.
 */
int m2_auth_renew_admin_token(ferry_conn *c, const char *failed, ferry_error *err);

/* The admin token currently in use (borrowed setting) or NULL. */
const char *m2_auth_admin_token(const ferry_conn *c);

#endif /* M2_AUTH_H */
