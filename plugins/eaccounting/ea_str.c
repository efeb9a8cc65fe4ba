/* ea_str.c - string, JSON and time helpers (see ea_str.h). */
#include "config.h"

#include "ea_str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- buffer ---------------------------------------------------------------- */

static int buf_reserve(ea_buf *b, size_t extra)
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

int ea_buf_append(ea_buf *b, const char *s, size_t len)
{
    if (buf_reserve(b, len) != 0) {
        return -1;
    }
    if (len > 0) {
        memcpy(b->data + b->len, s, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int ea_buf_puts(ea_buf *b, const char *s)
{
    return ea_buf_append(b, s ? s : "", s ? strlen(s) : 0);
}

int ea_buf_printf(ea_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0) {
        b->failed = 1;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *ea_buf_str(const ea_buf *b)
{
    return b->data != NULL ? b->data : "";
}

char *ea_buf_take(ea_buf *b)
{
    char *s = NULL;
    if (!b->failed) {
        s = b->data != NULL ? b->data : ea_strdup("");
        b->data = NULL;
    }
    ea_buf_free(b);
    return s;
}

void ea_buf_free(ea_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

/* ---- strings ---------------------------------------------------------------- */

char *ea_strdup(const char *s)
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

char *ea_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *p = malloc((size_t)n + 1);
    if (p == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ea_strlcpy(char *dst, const char *src, size_t n)
{
    if (n == 0) {
        return;
    }
    snprintf(dst, n, "%s", src ? src : "");
}

int ea_str_ieq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcasecmp(a, b) == 0;
}

const char *ea_stristr(const char *hay, const char *needle)
{
    if (hay == NULL || needle == NULL) {
        return NULL;
    }
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return hay;
        }
    }
    return n == 0 ? hay : NULL;
}

int ea_str_blank(const char *s)
{
    for (; s != NULL && *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *ea_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    ea_buf b = EA_BUF_INIT;
    ea_buf_puts(&b, "");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (is_unreserved(*p)) {
            ea_buf_append(&b, (const char *)p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ea_buf_append(&b, enc, 3);
        }
    }
    return ea_buf_take(&b);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *ea_url_decode(const char *s, size_t len)
{
    ea_buf b = EA_BUF_INIT;
    ea_buf_puts(&b, "");
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len) {
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        ea_buf_append(&b, &c, 1);
    }
    return ea_buf_take(&b);
}

char *ea_query_param(const char *url_or_query, const char *name)
{
    if (url_or_query == NULL || name == NULL) {
        return NULL;
    }
    const char *q = strchr(url_or_query, '?');
    q = q != NULL ? q + 1 : url_or_query;
    size_t nlen = strlen(name);
    while (*q) {
        size_t seg = strcspn(q, "&#");
        const char *eq = memchr(q, '=', seg);
        size_t klen = eq != NULL ? (size_t)(eq - q) : seg;
        if (klen == nlen && strncmp(q, name, nlen) == 0) {
            return eq != NULL ? ea_url_decode(eq + 1, seg - klen - 1) : ea_strdup("");
        }
        if (q[seg] == '#' || q[seg] == '\0') {
            break;
        }
        q += seg + 1;
    }
    return NULL;
}

int ea_is_guid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    if (s == NULL) {
        return 0;
    }
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++) {
            if (!isxdigit((unsigned char)*s)) {
                return 0;
            }
        }
        if (g < 4 && *s++ != '-') {
            return 0;
        }
    }
    return *s == '\0';
}

/* ---- JSON ---------------------------------------------------------------------- */

const char *ea_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ea_json_path_str(const json_t *obj, const char *path)
{
    char part[128];
    const json_t *cur = obj;
    while (cur != NULL && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(part) || !json_is_object(cur)) {
            return NULL;
        }
        memcpy(part, path, n);
        part[n] = '\0';
        cur = json_object_get(cur, part);
        path += n + (path[n] == '.');
    }
    return json_is_string(cur) ? json_string_value(cur) : NULL;
}

int ea_json_bool(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

void ea_json_set_str(json_t *obj, const char *key, const char *s)
{
    if (s != NULL) {
        json_object_set_new(obj, key, json_string(s));
    }
}

/* ---- time ------------------------------------------------------------------------ */

/* Read exactly n digits at *p into *out and advance; -1 when they are not there. */
static int take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int parse_date_part(const char **p, struct tm *tm)
{
    int y, mo, d;
    if (take_digits(p, 4, &y) || *(*p)++ != '-' || take_digits(p, 2, &mo) || *(*p)++ != '-' || take_digits(p, 2, &d)) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return -1;
    }
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    return 0;
}

/* "THH:MM[:SS[.fff]]" -> fields and milliseconds. */
static int parse_time_part(const char **p, struct tm *tm, int *ms)
{
    int h, mi, s = 0;
    if (take_digits(p, 2, &h) || *(*p)++ != ':' || take_digits(p, 2, &mi)) {
        return -1;
    }
    if (**p == ':') {
        (*p)++;
        if (take_digits(p, 2, &s)) {
            return -1;
        }
        if (**p == '.' || **p == ',') {
            (*p)++;
            int scale = 100, digits = 0;
            while (isdigit((unsigned char)**p)) {
                *ms += scale * (**p - '0');
                scale /= 10;
                digits++;
                (*p)++;
            }
            if (digits == 0) {
                return -1;
            }
        }
    }
    if (h > 23 || mi > 59 || s > 60) {
        return -1;
    }
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = s;
    return 0;
}

/* "Z", "+HH:MM", "-HHMM" or nothing -> offset in minutes east of UTC. */
static int parse_offset(const char **p, int *minutes)
{
    *minutes = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-') {
        return 0;
    }
    int sign = **p == '-' ? -1 : 1, h, m;
    (*p)++;
    if (take_digits(p, 2, &h)) {
        return -1;
    }
    if (**p == ':') {
        (*p)++;
    }
    if (take_digits(p, 2, &m)) {
        return -1;
    }
    *minutes = sign * (h * 60 + m);
    return 0;
}

int ea_time_parse(const char *s, long long *ms)
{
    struct tm tm;
    int frac = 0, offset = 0;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || parse_date_part(&s, &tm) != 0) {
        return -1;
    }
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (parse_time_part(&s, &tm, &frac) != 0 || parse_offset(&s, &offset) != 0) {
            return -1;
        }
    }
    if (*s != '\0') {
        return -1;
    }
    time_t t = timegm(&tm);
    *ms = ((long long)t - (long long)offset * 60) * 1000 + frac;
    return 0;
}

char *ea_time_format(long long ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int ea_is_date(const char *s)
{
    struct tm tm;
    return s != NULL && parse_date_part(&s, &tm) == 0 && *s == '\0';
}
