/*
 * ea_str.h - small string, JSON and time helpers of the eAccounting plugin.
 *
 * The plugin may not call into the ferry core (it is linked with
 * -Wl,-z,defs against Jansson alone), so it carries the few helpers it needs:
 * a growable buffer, formatted allocation, RFC 3986 encoding, GUID checks,
 * JSON member access and UTC timestamps.  Every function here is pure (no
 * I/O) and hidden inside the plugin (-fvisibility=hidden).
 */
#ifndef EA_STR_H
#define EA_STR_H

#include <stddef.h>

#include <ferry/plugin.h>

/* A growable NUL-terminated string.  After an allocation failure `failed` stays set. */
typedef struct ea_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} ea_buf;

#define EA_BUF_INIT                                                                                                    \
    {                                                                                                                  \
        NULL, 0, 0, 0                                                                                                  \
    }

/* Append `len` bytes / a string / formatted text; 0, or -1 when out of memory. */
int ea_buf_append(ea_buf *b, const char *s, size_t len);
int ea_buf_puts(ea_buf *b, const char *s);
int ea_buf_printf(ea_buf *b, const char *fmt, ...) FERRY_PRINTF(2, 3);

/* The text so far ("" when empty; borrowed, valid until the next append). */
const char *ea_buf_str(const ea_buf *b);

/* Hand the string to the caller (free() it; NULL after a failure) and reset the buffer. */
char *ea_buf_take(ea_buf *b);

/* Free the buffer's memory and reset it. */
void ea_buf_free(ea_buf *b);

/* strdup that accepts NULL (and returns NULL for it). */
char *ea_strdup(const char *s);

/* A new string from a printf format, or NULL when out of memory. */
char *ea_asprintf(const char *fmt, ...) FERRY_PRINTF(1, 2);

/* Copy at most n-1 bytes of src into dst and terminate it (n > 0). */
void ea_strlcpy(char *dst, const char *src, size_t n);

/* Case-insensitive ASCII comparison of two strings; NULL equals only NULL. */
int ea_str_ieq(const char *a, const char *b);

/* The first case-insensitive (ASCII) occurrence of needle in hay, or NULL. */
const char *ea_stristr(const char *hay, const char *needle);

/* True when s is NULL or only white space. */
int ea_str_blank(const char *s);

/* RFC 3986 percent-encoding (unreserved characters kept); new string or NULL. */
char *ea_url_encode(const char *s);

/* Decode %XX and '+' (as a space) of a query-string value; new string or NULL. */
char *ea_url_decode(const char *s, size_t len);

/*
 * The value of query parameter `name` in a URL or query string (after '?'
 * when there is one), decoded; new string, or NULL when absent.
 */
char *ea_query_param(const char *url_or_query, const char *name);

/* True when s is a GUID in the 8-4-4-4-12 hex form. */
int ea_is_guid(const char *s);

/* The string member `key` of obj, or NULL when absent, null or not a string. */
const char *ea_json_str(const json_t *obj, const char *key);

/* The string member at a dotted path ("invoice_address.city"), or NULL. */
const char *ea_json_path_str(const json_t *obj, const char *path);

/* The boolean member `key`: 1 true, 0 false, -1 absent or not a boolean. */
int ea_json_bool(const json_t *obj, const char *key);

/* Set obj[key] to a new string when s is not NULL (a NULL s sets nothing). */
void ea_json_set_str(json_t *obj, const char *key, const char *s);

/*
 * Parse an ISO-8601 UTC date or date-time ("2026-03-01", "2026-03-01T10:11:12",
 * "...12.123Z", "...+02:00") into milliseconds since the epoch.  A time
 * without offset is taken as UTC.  Returns 0, or -1 when malformed.
 */
int ea_time_parse(const char *s, long long *ms);

/* Format ms since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
char *ea_time_format(long long ms, char *buf, size_t n);

/* True when s is a plain date "YYYY-MM-DD" (a valid calendar day). */
int ea_is_date(const char *s);

#endif /* EA_STR_H */
