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

/* Register a secret value (copied).  Values shorter than 4 bytes are ignored (too common to mask). */
void ferry_redact_add(const char *secret);

/* Forget every registered secret (tests). */
void ferry_redact_reset(void);

/* True when `name` (a header, JSON key or form field) always holds a secret. */
int ferry_redact_is_secret_name(const char *name);

/* A new string with every registered secret masked; NULL in gives NULL. Free with free(). */
char *ferry_redact_text(const char *text);

/*
 * A new string for a raw HTTP header line ("Name: value"): the value is
 * masked when the name is secret, else registered secrets are masked.
 */
char *ferry_redact_header(const char *line);

/*
 * Mask secrets inside a form-encoded body or query string (a=1&password=x):
 * secret-named fields and registered secrets.  Returns a new string.
 */
char *ferry_redact_form(const char *body);

/*
 * A deep copy of `value` with secret-named members (and the names in
 * `extra_names`, NULL-terminated, may be NULL) masked and registered secrets
 * masked inside every string.  Returns a new reference.
 */
json_t *ferry_redact_json(const json_t *value, const char *const *extra_names);

#endif /* FERRY_REDACT_H */
