/*
 * redact.h - keeping secrets out of logs, events, errors and output.
 *
 * Two mechanisms, applied together wherever text leaves the process or is
 * stored in the activity log:
 *   - a process-wide registry of secret values (tokens, passwords, client
 *     secrets); every occurrence of one is replaced by "***";
 *   - names that always hold secrets (Authorization headers, "password",
 *     "client_secret", "access_token", "refresh_token", OAuth signatures...)
 *     whose values are masked in headers, form bodies, query strings and JSON.
 * The registry is thread-safe.
 */
#ifndef FERRY_REDACT_H
#define FERRY_REDACT_H

#include <stddef.h>

#include <jansson.h>

#define FERRY_REDACTED "***"

/*
 * Register a secret value (copied).  Values shorter than 4 bytes are ignored
 * (too common to mask).  Its percent-encoded and JSON-escaped forms are
 * registered with it, so the value is masked inside URLs and raw bodies too.
 */
void ferry_redact_add(const char *secret);

/* Forget every registered secret (tests). */
void ferry_redact_reset(void);

/* True when `name` (a header, JSON key or form field) always holds a secret. */
int ferry_redact_is_secret_name(const char *name);

/* A new string with every registered secret masked; NULL in gives NULL. Free with free(). */
char *ferry_redact_text(const char *text);

/*
 * A new string for a raw HTTP header line ("Name: value"): the value is
 * masked (keeping an auth scheme such as "Bearer") when the name is secret -
 * a secret name, one of `extra_names` (NULL-terminated, may be NULL), or a
 * name containing auth, token, secret, password, api-key, cookie, session or
 * signature - else registered secrets are masked.  NULL in gives NULL.
 */
char *ferry_redact_header_names(const char *line, const char *const *extra_names);
char *ferry_redact_header(const char *line); /* = ferry_redact_header_names(line, NULL) */

/*
 * Mask secrets inside a form-encoded body or query string (a=1&password=x):
 * fields with a secret name or one of `extra_names` (NULL-terminated, may be
 * NULL; names are compared percent-decoded) and registered secrets.  Returns
 * a new string; NULL in gives NULL.
 */
char *ferry_redact_form_names(const char *body, const char *const *extra_names);
char *ferry_redact_form(const char *body); /* = ferry_redact_form_names(body, NULL) */

/*
 * A URL fit for a log line: the password of any user:password@ part and the
 * secret fields of the query string (as ferry_redact_form_names) masked,
 * registered secrets masked everywhere.  Returns a new string; NULL gives NULL.
 */
char *ferry_redact_url(const char *url, const char *const *extra_names);

/*
 * Mask secret members of JSON *text* that may not parse (a truncated or
 * malformed body): the value after every "name": whose name is secret or in
 * `extra_names`, plus registered secrets.  Valid JSON is better served by
 * ferry_redact_json.  Returns a new string; NULL gives NULL.
 */
char *ferry_redact_json_text(const char *text, const char *const *extra_names);

/*
 * A deep copy of `value` with secret-named members (and the names in
 * `extra_names`, NULL-terminated, may be NULL) masked and registered secrets
 * masked inside every string.  String values that carry named fields of
 * their own - URLs with a query, form bodies, embedded JSON text - have
 * those masked too.  Returns a new reference.
 */
json_t *ferry_redact_json(const json_t *value, const char *const *extra_names);

#endif /* FERRY_REDACT_H */
