/*
 * util.h - small string and buffer helpers used across the core.
 *
 * ferry bans strcpy/strcat/sprintf; these are the bounded replacements.
 */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define FERRY_FMT(a, b) __attribute__((format(printf, a, b)))
#else
#define FERRY_FMT(a, b)
#endif

/*
 * Copy src into dst of size n, always NUL-terminating (n > 0).
 * Returns strlen(src); a result >= n means the copy was truncated.
 */
size_t ferry_strlcpy(char *dst, const char *src, size_t n);

/* Append src to the NUL-terminated dst of size n; returns the length it tried to make. */
size_t ferry_strlcat(char *dst, const char *src, size_t n);

/* A newly allocated formatted string (free with free()), or NULL when out of memory. */
char *ferry_asprintf(const char *fmt, ...) FERRY_FMT(1, 2);
char *ferry_vasprintf(const char *fmt, va_list ap);

/* strdup that accepts NULL (returns NULL). */
char *ferry_strdup(const char *s);

/* Case-insensitive ASCII string equality; NULLs compare equal only to each other. */
int ferry_streq_nocase(const char *a, const char *b);

/* True when s starts with prefix. */
int ferry_starts_with(const char *s, const char *prefix);

/*
 * A growable byte buffer, always NUL-terminated.  Zero-initialise
 * (FERRY_BUF_INIT) and release with ferry_buf_free.  Append functions return 0,
 * or -1 when out of memory (the buffer keeps what it had).
 */
typedef struct ferry_buf {
    char *data;
    size_t len;
    size_t cap;
} ferry_buf;

#define FERRY_BUF_INIT                                                                                                 \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

int ferry_buf_append(ferry_buf *b, const void *data, size_t len);
int ferry_buf_puts(ferry_buf *b, const char *s);
int ferry_buf_printf(ferry_buf *b, const char *fmt, ...) FERRY_FMT(2, 3);
/* Hand the contents to the caller (who frees them) and reset the buffer. */
char *ferry_buf_take(ferry_buf *b);
void ferry_buf_free(ferry_buf *b);

/* Milliseconds since the epoch (wall clock) and a monotonic clock in ms. */
long long ferry_now_ms(void);
long long ferry_monotonic_ms(void);

/* Sleep for ms milliseconds (restarts after signals). */
void ferry_sleep_ms(long long ms);

#endif /* FERRY_UTIL_H */
