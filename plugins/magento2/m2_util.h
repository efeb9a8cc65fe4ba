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

#include "money.h"

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

/* Set obj[key] = native[key] as text (m2_json_text) for each of the NULL-terminated `keys` native has. */
void m2_copy_texts(json_t *obj, const json_t *native, const char *const *keys);

/* Copy native's custom_attributes ([{"attribute_code": c, "value": v}]) into obj as c: v. */
void m2_copy_custom_attributes(json_t *obj, const json_t *native);

/* Follow a path of object keys ("a", "b", NULL) and return the value (borrowed) or NULL. */
json_t *m2_path(const json_t *obj, ...);

/*
 * Amounts.  Magento stores money as DECIMAL(20,4) and prints it as a JSON
 * number ("price": 22, "grand_total": 199.13); the plugin holds amounts as
 * ferry_money with 4 decimals (core/money.c, compiled in), read through a
 * number's shortest decimal text and never computed in binary floating
 * point.  Rounding is half away from zero.  Decimal strings are what the
 * canonical records carry.
 */
#define M2_DECIMALS 4

/*
 * A JSON value as an amount: numbers and numeric strings ("12", "-3.5",
 * "199.1300"; "1e2" is refused), rounded to 4 decimals.  Returns 1 and sets
 * *out; 0 (and *out = 0) when missing, null, not a number, or beyond 10^14.
 */
int m2_amount_from_json(const json_t *value, ferry_money *out);

/* obj[key] as an amount, the same way. */
int m2_amount_get(const json_t *obj, const char *key, ferry_money *out);

/*
 * An amount as money: at least 2 decimals, up to 4 when they are not zero
 * ("22.00", "199.13", "0.0125", "-9.80"); or plain, without trailing zeros
 * ("25", "12.5", "3"), for rates and quantities.  Into buf (>= 48 bytes).
 */
char *m2_amount_money(ferry_money a, char *buf, size_t n);
char *m2_amount_plain(ferry_money a, char *buf, size_t n);

/* New JSON strings of the two formats. */
json_t *m2_money_json(ferry_money a);
json_t *m2_plain_json(ferry_money a);

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
