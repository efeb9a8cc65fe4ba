/* util.c - small string and buffer helpers (see util.h). */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

size_t ferry_strlcpy(char *dst, const char *src, size_t n)
{
    if (src == NULL) {
        src = "";
    }
    size_t len = strlen(src);
    if (n > 0) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

size_t ferry_strlcat(char *dst, const char *src, size_t n)
{
    size_t have = strnlen(dst, n);
    if (have == n) {
        return n + strlen(src);
    }
    return have + ferry_strlcpy(dst + have, src, n - have);
}

char *ferry_vasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (len < 0) {
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (s == NULL) {
        return NULL;
    }
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    return s;
}

char *ferry_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ferry_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *ferry_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}

int ferry_streq_nocase(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcasecmp(a, b) == 0;
}

int ferry_starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

int ferry_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t') {
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int ferry_hex_value(char c)
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

char *ferry_url_encode(const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    ferry_buf b = FERRY_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            ferry_buf_append(&b, p, 1);
        } else {
            char enc[3] = {'%', digits[c >> 4], digits[c & 15]};
            ferry_buf_append(&b, enc, 3);
        }
    }
    return ferry_buf_finish(&b);
}

/* Room for `extra` more bytes and the NUL; -1 (and `failed` set) when out of memory or failed before. */
static int buf_reserve(ferry_buf *b, size_t extra)
{
    if (b->failed) {
        return -1;
    }
    if (b->len + extra + 1 <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
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

int ferry_buf_append(ferry_buf *b, const void *data, size_t len)
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

int ferry_buf_puts(ferry_buf *b, const char *s)
{
    return ferry_buf_append(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

int ferry_buf_printf(ferry_buf *b, const char *fmt, ...)
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

const char *ferry_buf_str(const ferry_buf *b)
{
    return b->data != NULL ? b->data : "";
}

char *ferry_buf_take(ferry_buf *b)
{
    char *d = b->data;
    if (d == NULL) {
        d = calloc(1, 1);
    }
    b->data = NULL;
    ferry_buf_free(b);
    return d;
}

char *ferry_buf_finish(ferry_buf *b)
{
    if (b->failed) {
        ferry_buf_free(b);
        return NULL;
    }
    return ferry_buf_take(b);
}

void ferry_buf_free(ferry_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

long long ferry_days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ferry_civil_from_days(long long days, long long *y, int *m, int *d)
{
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int ferry_days_in_month(long long y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

char *ferry_time_iso(long long epoch, char *buf, size_t n)
{
    long long days = epoch >= 0 ? epoch / 86400 : -((-epoch + 86399) / 86400);
    long long secs = epoch - days * 86400;
    long long y;
    int m, d;
    ferry_civil_from_days(days, &y, &m, &d);
    snprintf(buf, n, "%04lld-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60));
    return buf;
}

long long ferry_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long ferry_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ferry_sleep_ms(long long ms)
{
    if (ms <= 0) {
        return;
    }
    struct timespec req = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    struct timespec rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
        req = rem;
    }
}
