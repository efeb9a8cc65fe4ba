/*
 * m2_util.h - small helpers the Magento 2 plugin's modules share: JSON
 * accessors that tolerate Magento's "missing means null" habit and its
 * numbers-or-strings ids, and UTC time conversion between Magento's
 * "YYYY-MM-DD HH:MM:SS" and ferry's "YYYY-MM-DDTHH:MM:SSZ".  The helpers both
 * plugins use (ferry_buf, ferry_asprintf, ferry_time_iso: core/util.h;
 * plugin_json_str: plugins/common/plugin_util.h) are compiled in from there.
 *
 * Everything here is pure (no host, no network) so the unit tests can use it
 * directly.  All functions are hidden inside magento2.so.
 */
#ifndef M2_UTIL_H
#define M2_UTIL_H

#include <stddef.h>

#include <jansson.h>

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

/* Magento time text -> ferry's ISO form (a new JSON string), or NULL when not a time. */
json_t *m2_time_to_iso_json(const char *magento_time);

#endif /* M2_UTIL_H */
