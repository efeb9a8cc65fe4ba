/*
 * ea_authcode.h - getting the authorization code after the user consented.
 *
 * Visma's identity server sends the browser back to the redirect URI with
 * ?code=...&state=...  ferry takes the code from, in this order:
 *   1. headless hand-over: the environment variable FERRY_EA_AUTH_CODE, or
 *      the auth_code setting - either the bare code or the whole redirect URL
 *      (for CI and servers without a browser: open the printed URL elsewhere
 *      and pass on where the browser landed);
 *   2. authorize_mode listen/auto with a loopback redirect URI
 *      (http://localhost:PORT/...): a one-shot HTTP listener on 127.0.0.1 (and
 *      ::1) that answers the browser with a small "you can close this window"
 *      page; in auto mode a line typed on the terminal (the code or the URL)
 *      is taken too, whichever comes first;
 *   3. authorize_mode paste (or a redirect URI ferry cannot listen on): ask
 *      for the code or the URL with host->prompt.
 * The state ferry put into the authorize URL must come back unchanged from
 * the browser (listener) and from a pasted URL; a headless hand-over cannot
 * know it and is trusted as given.
 */
#ifndef EA_AUTHCODE_H
#define EA_AUTHCODE_H

#include <ferry/plugin.h>

/* Where the code came from. */
enum ea_code_source {
    EA_CODE_HANDOVER_ENV = 1,
    EA_CODE_HANDOVER_SETTING = 2,
    EA_CODE_LISTENER = 3,
    EA_CODE_PASTED = 4
};

/*
 * Obtain the code for an authorization started with `state`.  FERRY_OK with
 * *code (free()) and *source; FERRY_CONFIG_ERROR when the user refused,
 * the state does not match, nobody can be asked, or the wait timed out.
 */
int ea_authcode_obtain(ferry_conn *c, const char *state, char **code, int *source, ferry_error *err);

/*
 * Parse what a person or a script handed over: a bare code, or a URL / query
 * string with code=, state= or error=.  FERRY_OK with *code (free()) and
 * *state (free(), NULL when absent); FERRY_CONFIG_ERROR when it carries
 * error= (the message names it) or is empty.  Pure.
 */
int ea_authcode_parse(const char *text, char **code, char **state, ferry_error *err);

#endif /* EA_AUTHCODE_H */
