/*
 * ea_auth.h - OAuth2 with Visma's identity server: the authorization-code
 * flow, token exchange, refresh and rotation.
 *
 * Tokens live in the connection's managed settings access_token,
 * refresh_token (both secret) and access_token_expires_at.  eAccounting's
 * refresh tokens may be single-use (older clients: every refresh rotates
 * it), so a refresh is serialised across every ferry process that shares the
 * store:
 *
 *   lock "token" -> settings_reload -> (someone else refreshed? use theirs)
 *   -> POST /connect/token grant_type=refresh_token
 *   -> credentials_save {access_token, refresh_token, expires_at} (one call,
 *      committed) -> only then use the new access token -> unlock.
 *
 * A refresh token the server no longer accepts (invalid_grant: revoked, the
 * user changed the password, expired) marks the connection needs_reauth with
 * a message for the shop owner and answers FERRY_CONFIG_ERROR with
 * FERRY_ERROR_NEEDS_REAUTH; the engine stops that connection's runs until
 * someone runs 'ferry connection authorize'.  Nothing is lost.
 */
#ifndef EA_AUTH_H
#define EA_AUTH_H

#include <ferry/plugin.h>

/*
 * The descriptor's authorize: print the authorize URL, get the code (see
 * ea_authcode.h), exchange it and store the tokens.  Marks the connection
 * "ok" on success.
 */
int ea_auth_authorize(const ferry_host *host, ferry_host_conn *hc, ferry_error *err);

/*
 * Make sure c->access_token can be used for the next request: refresh it
 * when it is missing or expires within EA_TOKEN_MARGIN_MS.
 */
int ea_auth_ensure_token(ferry_conn *c, ferry_error *err);

/*
 * Refresh the access token because `stale` (the token we had, may be NULL)
 * expired or was refused.  Under the connection's "token" lock: when the
 * store already holds a different, fresh access token (another process
 * refreshed), that one is used and no request is made.
 */
int ea_auth_refresh(ferry_conn *c, const char *stale, ferry_error *err);

#endif /* EA_AUTH_H */
