/* m2_util.c - JSON accessors and UTC time helpers (see m2_util.h). */
#include "config.h"

#include "m2_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_util.h"
#include "util.h"

/* ---- JSON accessors ---------------------------------------------------------------- */

const char *m2_json_value_text(const json_t *v)
{
    static _Thread_local char ring[8][48]; /* one ring per thread: connections may run on several */
    static _Thread_local unsigned next;
    if (v == NULL) {
        return NULL;
    }
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    char *slot = ring[next++ % 8];
    if (json_is_integer(v)) {
        snprintf(slot, sizeof(ring[0]), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return slot;
    }
    if (json_is_real(v)) {
        /* 15 significant digits give back exactly what Magento printed (DECIMAL(20,4), see m2_util.h). */
        snprintf(slot, sizeof(ring[0]), "%.15g", json_real_value(v));
        return slot;
    }
    if (json_is_true(v)) {
        return "1";
    }
    if (json_is_false(v)) {
        return "0";
    }
    return NULL;
}

const char *m2_json_text(const json_t *obj, const char *key)
{
    return m2_json_value_text(json_object_get(obj, key));
}

long long m2_json_int(const json_t *obj, const char *key, long long dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_real(v)) {
        return (long long)json_real_value(v);
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        long long n = strtoll(s, &end, 10);
        if (end != s && *end == '\0') {
            return n;
        }
    }
    return dflt;
}

int m2_json_flag(const json_t *obj, const char *key, int dflt)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        return dflt;
    }
    if (json_is_boolean(v)) {
        return json_is_true(v);
    }
    if (json_is_integer(v)) {
        return json_integer_value(v) != 0;
    }
    if (json_is_real(v)) {
        return json_real_value(v) != 0.0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return strcmp(s, "1") == 0 || strcmp(s, "true") == 0;
    }
    return dflt;
}

void m2_set_str(json_t *obj, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0') {
        plugin_json_set_str(obj, key, value);
    }
}

void m2_set_new(json_t *obj, const char *key, json_t *value)
{
    if (value != NULL) {
        json_object_set_new(obj, key, value);
    }
}

const char *m2_str(const json_t *obj, const char *key)
{
    const char *s = plugin_json_str(obj, key);
    return s != NULL && s[0] != '\0' ? s : NULL;
}

void m2_copy_texts(json_t *obj, const json_t *native, const char *const *keys)
{
    for (size_t i = 0; keys[i] != NULL; i++) {
        m2_set_str(obj, keys[i], m2_json_text(native, keys[i]));
    }
}

void m2_copy_custom_attributes(json_t *obj, const json_t *native)
{
    size_t i;
    json_t *ca;
    json_array_foreach (json_object_get(native, "custom_attributes"), i, ca) {
        const char *code = m2_str(ca, "attribute_code");
        json_t *value = json_object_get(ca, "value");
        if (code != NULL && value != NULL) {
            json_object_set(obj, code, value);
        }
    }
}

json_t *m2_path(const json_t *obj, ...)
{
    va_list ap;
    va_start(ap, obj);
    json_t *cur = (json_t *)obj;
    const char *key;
    while (cur != NULL && (key = va_arg(ap, const char *)) != NULL) {
        cur = json_object_get(cur, key);
    }
    va_end(ap);
    return cur;
}

/* ---- amounts ------------------------------------------------------------------------------ */

/* Amounts beyond this are refused: sums and differences of the few in an order stay far from 64 bits. */
#define MAX_AMOUNT_UNITS 1000000000000000000LL /* 10^14 with 4 decimals */

int m2_amount_from_json(const json_t *value, ferry_money *out)
{
    if (ferry_money_from_json_round(value, M2_DECIMALS, out) != FERRY_MONEY_OK || out->units > MAX_AMOUNT_UNITS ||
        out->units < -MAX_AMOUNT_UNITS) {
        *out = ferry_money_from_int(0);
        return 0;
    }
    return 1;
}

int m2_amount_get(const json_t *obj, const char *key, ferry_money *out)
{
    return m2_amount_from_json(json_object_get(obj, key), out);
}

/* Money shows 2 to 4 decimals, plain amounts 0 to 4: as many as the value needs. */
static int shown_decimals(ferry_money a, int min)
{
    int d = ferry_money_decimals(a);
    return d < min ? min : d > M2_DECIMALS ? M2_DECIMALS : d;
}

static char *amount_text(ferry_money a, int min_decimals, char *buf, size_t n)
{
    if (ferry_money_round(a, shown_decimals(a, min_decimals), &a) != FERRY_MONEY_OK) {
        snprintf(buf, n, "%s", "");
        return buf;
    }
    return ferry_money_format(a, buf, n);
}

char *m2_amount_money(ferry_money a, char *buf, size_t n)
{
    return amount_text(a, 2, buf, n);
}

char *m2_amount_plain(ferry_money a, char *buf, size_t n)
{
    return amount_text(a, 0, buf, n);
}

json_t *m2_money_json(ferry_money a)
{
    return ferry_money_json_string(a, shown_decimals(a, 2));
}

json_t *m2_plain_json(ferry_money a)
{
    return ferry_money_json_string(a, shown_decimals(a, 0));
}

/* ---- time ------------------------------------------------------------------------------ */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int m2_time_parse(const char *text, long long *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (text == NULL || strlen(text) < 10 || digits(text, 4, &y) || text[4] != '-' || digits(text + 5, 2, &mo) ||
        text[7] != '-' || digits(text + 8, 2, &d)) {
        return -1;
    }
    const char *rest = text + 10;
    if (*rest == ' ' || *rest == 'T') {
        if (strlen(rest) < 9 || digits(rest + 1, 2, &h) || rest[3] != ':' || digits(rest + 4, 2, &mi) ||
            rest[6] != ':' || digits(rest + 7, 2, &s)) {
            return -1;
        }
        rest += 9;
        if (*rest == '.') { /* fractions of a second are dropped */
            rest++;
            while (isdigit((unsigned char)*rest)) {
                rest++;
            }
        }
        if (*rest == 'Z' || strcmp(rest, "+00:00") == 0) {
            rest += *rest == 'Z' ? 1 : 6;
        }
    }
    if (*rest != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return -1;
    }
    *out = ferry_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

char *m2_time_magento(long long epoch, char *buf, size_t n)
{
    char iso[48];
    ferry_time_iso(epoch, iso, sizeof(iso)); /* "YYYY-MM-DDTHH:MM:SSZ": Magento has a space and no Z */
    char *t = strchr(iso, 'T');
    *t = ' ';
    iso[strlen(iso) - 1] = '\0';
    snprintf(buf, n, "%s", iso);
    return buf;
}

json_t *m2_time_to_iso_json(const char *magento_time)
{
    long long t;
    char buf[32];
    if (m2_time_parse(magento_time, &t) != 0) {
        return NULL;
    }
    return json_string(ferry_time_iso(t, buf, sizeof(buf)));
}
