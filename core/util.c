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

int ferry_buf_append(ferry_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            return -1;
        }
        b->data = p;
        b->cap = cap;
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
    return ferry_buf_append(b, s, strlen(s));
}

int ferry_buf_printf(ferry_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ferry_vasprintf(fmt, ap);
    va_end(ap);
    if (s == NULL) {
        return -1;
    }
    int rc = ferry_buf_puts(b, s);
    free(s);
    return rc;
}

char *ferry_buf_take(ferry_buf *b)
{
    char *d = b->data;
    if (d == NULL) {
        d = calloc(1, 1);
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void ferry_buf_free(ferry_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
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
