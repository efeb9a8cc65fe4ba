/* m2_util.c - string buffer, JSON accessors and UTC time helpers (see m2_util.h). */
#include "config.h"

#include "m2_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ------------------------------------------------------------------ */

static int buf_reserve(m2_buf *b, size_t extra)
{
    if (b->failed) {
        return -1;
    }
    if (b->len + extra + 1 <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int m2_buf_add(m2_buf *b, const char *data, size_t len)
{
    if (buf_reserve(b, len) != 0) {
        return -1;
    }
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int m2_buf_puts(m2_buf *b, const char *s)
{
    return m2_buf_add(b, s ? s : "", s ? strlen(s) : 0);
}

int m2_buf_printf(m2_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || buf_reserve(b, (size_t)need) != 0) {
        b->failed = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
    return 0;
}

const char *m2_buf_str(const m2_buf *b)
{
    return b->data ? b->data : "";
}

char *m2_buf_take(m2_buf *b)
{
    char *out = NULL;
    if (!b->failed) {
        out = b->data ? b->data : m2_strdup("");
        b->data = NULL;
    }
    m2_buf_free(b);
    return out;
}

void m2_buf_free(m2_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

/* ---- strings ------------------------------------------------------------------ */

char *m2_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

char *m2_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0) {
        return NULL;
    }
    char *p = malloc((size_t)need + 1);
    if (p == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)need + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t m2_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n > 0) {
        size_t copy = len < n - 1 ? len : n - 1;
        memcpy(dst, src, copy);
        dst[copy] = '\0';
    }
    return len;
}

int m2_blank(const char *s)
{
    if (s == NULL) {
        return 1;
    }
    for (; *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

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
        /* 15 significant digits give back exactly what Magento printed (see m2_money.h). */
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
        json_object_set_new(obj, key, json_string(value));
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
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && json_string_length(v) > 0) {
        return json_string_value(v);
    }
    return NULL;
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

/* ---- time ------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

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
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

static char *format_time(long long epoch, char *buf, size_t n, int iso)
{
    long long days = epoch >= 0 ? epoch / 86400 : -((-epoch + 86399) / 86400);
    long long secs = epoch - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d%s", y, m, d, iso ? 'T' : ' ', (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60), iso ? "Z" : "");
    return buf;
}

char *m2_time_magento(long long epoch, char *buf, size_t n)
{
    return format_time(epoch, buf, n, 0);
}

char *m2_time_iso(long long epoch, char *buf, size_t n)
{
    return format_time(epoch, buf, n, 1);
}

json_t *m2_time_to_iso_json(const char *magento_time)
{
    long long t;
    char buf[32];
    if (m2_time_parse(magento_time, &t) != 0) {
        return NULL;
    }
    return json_string(m2_time_iso(t, buf, sizeof(buf)));
}
