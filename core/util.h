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
 * Copy src into dst of size n, always NUL-terminating (n > 0); a NULL src
 * copies "".  Returns strlen(src); a result >= n means the copy was truncated.
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

/* The value of a hexadecimal digit (either case), or -1. */
int ferry_hex_value(char c);

/*
 * Parse a whole decimal integer (optional sign, digits, nothing else) within
 * [min, max] into *out.  Returns 0, or -1 for an empty string, trailing
 * characters, overflow or a value out of range (*out untouched).
 */
int ferry_parse_int(const char *s, long long min, long long max, long long *out);

/*
 * RFC 3986 percent-encoding: unreserved characters kept, everything else %XX
 * (a NULL s encodes as "").  A new string, or NULL when out of memory.
 */
char *ferry_url_encode(const char *s);

/*
 * A growable byte buffer, always NUL-terminated.  Zero-initialise
 * (FERRY_BUF_INIT) and release with ferry_buf_free.  Append functions return 0,
 * or -1 when out of memory: the buffer keeps what it had, `failed` is set and
 * every later append is refused too, so the text is never missing a piece in
 * the middle.
 */
typedef struct ferry_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an append failed: the content is incomplete */
} ferry_buf;

#define FERRY_BUF_INIT                                                                                                 \
    {                                                                                                                  \
        NULL, 0, 0, 0                                                                                                  \
    }

/* Append len bytes (kept NUL-terminated).  0, or -1 when memory ran out (then b->failed is set). */
int ferry_buf_append(ferry_buf *b, const void *data, size_t len);
/* Append a string (a NULL s appends nothing). */
int ferry_buf_puts(ferry_buf *b, const char *s);
int ferry_buf_printf(ferry_buf *b, const char *fmt, ...) FERRY_FMT(2, 3);
/* The text so far ("" when empty, never NULL); borrowed, valid until the next append. */
const char *ferry_buf_str(const ferry_buf *b);
/* Hand the contents to the caller (who frees them) and reset the buffer. */
char *ferry_buf_take(ferry_buf *b);
/* All or nothing: like ferry_buf_take, but NULL (and the buffer freed) when an append failed. */
char *ferry_buf_finish(ferry_buf *b);
void ferry_buf_free(ferry_buf *b);

/*
 * The proleptic Gregorian calendar in UTC (Howard Hinnant's algorithms):
 * days since 1970-01-01 of a date, the date of a day count, and the length
 * of a month (m 1..12).
 */
long long ferry_days_from_civil(long long y, int m, int d);
void ferry_civil_from_days(long long days, long long *y, int *m, int *d);
int ferry_days_in_month(long long y, int m);

/* Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes).  Returns buf. */
char *ferry_time_iso(long long epoch, char *buf, size_t n);

/* Milliseconds since the epoch (wall clock) and a monotonic clock in ms. */
long long ferry_now_ms(void);
long long ferry_monotonic_ms(void);

/* Sleep for ms milliseconds (restarts after signals). */
void ferry_sleep_ms(long long ms);

#endif /* FERRY_UTIL_H */
