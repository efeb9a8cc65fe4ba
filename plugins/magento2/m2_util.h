/*
 * m2_util.h - small helpers the Magento 2 plugin's modules share: a growing
 * string buffer, JSON accessors that tolerate Magento's "missing means null"
 * habit and its numbers-or-strings ids, and UTC time conversion between
 * Magento's "YYYY-MM-DD HH:MM:SS" and ferry's "YYYY-MM-DDTHH:MM:SSZ".
 *
 * Everything here is pure (no host, no network) so the unit tests can use it
 * directly.  All functions are hidden inside magento2.so.
 */
#ifndef M2_UTIL_H
#define M2_UTIL_H

#include <stddef.h>

#include <jansson.h>

/* A growing NUL-terminated string.  Initialise with M2_BUF_INIT; free with m2_buf_free. */
typedef struct m2_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the content is incomplete */
} m2_buf;

#define M2_BUF_INIT                                                                                                    \
    {                                                                                                                  \
        NULL, 0, 0, 0                                                                                                  \
    }

/* Append `len` bytes / a string / a formatted string.  Return 0, or -1 when out of memory (also sets failed). */
int m2_buf_add(m2_buf *b, const char *data, size_t len);
int m2_buf_puts(m2_buf *b, const char *s);
int m2_buf_printf(m2_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text so far ("" when empty, never NULL); borrowed. */
const char *m2_buf_str(const m2_buf *b);

/* Hand the text to the caller (free()); NULL when an allocation failed.  The buffer is reset. */
char *m2_buf_take(m2_buf *b);
void m2_buf_free(m2_buf *b);

/* strdup that tolerates NULL (returns NULL). */
char *m2_strdup(const char *s);

/* A new string from printf-style arguments (free()), NULL when out of memory. */
char *m2_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy at most n-1 bytes of src into dst and terminate it; returns strlen(src). */
size_t m2_strlcpy(char *dst, const char *src, size_t n);

/* True when s is NULL or has no characters besides blanks. */
int m2_blank(const char *s);

/*
 * A member of `obj` as text: strings as they are, integers in decimal, true/
 * false as "1"/"0", reals in their shortest exact form.  NULL when missing,
 * null, or an array/object.  A number's text lives in a small per-thread
 * ring of 8 buffers: it stays valid for the next 7 calls on that thread, so
 * copy it if you keep it.
 */
const char *m2_json_text(const json_t *obj, const char *key);

/* The same for a value. */
const char *m2_json_value_text(const json_t *value);

/* A member as an integer (numbers or numeric strings); `dflt` otherwise. */
long long m2_json_int(const json_t *obj, const char *key, long long dflt);

/* A member as a flag: true, non-zero numbers, "1", "true"; `dflt` when missing or null. */
int m2_json_flag(const json_t *obj, const char *key, int dflt);

/* Set obj[key] to a copy of `value` when value is not NULL and not empty. */
void m2_set_str(json_t *obj, const char *key, const char *value);

/* Set obj[key] = value taken (stolen); does nothing (and frees value) when value is NULL. */
void m2_set_new(json_t *obj, const char *key, json_t *value);

/* obj[key] when it is a non-empty string, else NULL (borrowed). */
const char *m2_str(const json_t *obj, const char *key);

/* Follow a path of object keys ("a", "b", NULL) and return the value (borrowed) or NULL. */
json_t *m2_path(const json_t *obj, ...);

/*
 * Magento "YYYY-MM-DD HH:MM:SS" (UTC) -> seconds since the epoch.  Also takes
 * ferry's "YYYY-MM-DDTHH:MM:SS[Z]" and a bare "YYYY-MM-DD".  Returns 0 and
 * sets *out, or -1 when the text is not such a time.
 */
int m2_time_parse(const char *text, long long *out);

/* Seconds since the epoch -> "YYYY-MM-DD HH:MM:SS" into buf (>= 20 bytes). */
char *m2_time_magento(long long epoch, char *buf, size_t n);

/* Seconds since the epoch -> "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
char *m2_time_iso(long long epoch, char *buf, size_t n);

/* Magento time text -> ferry's ISO form (a new JSON string), or NULL when not a time. */
json_t *m2_time_to_iso_json(const char *magento_time);

#endif /* M2_UTIL_H */
