/* http_date.c - HTTP-date and Retry-After parsing (see http_date.h). */
#include "config.h"

#include "http_date.h"

#include <ctype.h>
#include <stddef.h>
#include <strings.h>

#include "util.h"

#define MAX_DELAY_SECONDS 1000000000LL /* about 31 years */

static const char *const short_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", NULL};
static const char *const long_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday",    NULL};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                          "Aug", "Sep", "Oct", "Nov", "Dec", NULL};

/* Index of the word at *p among `words` (case-insensitive, whole alphabetic run), advancing *p; -1 if none. */
static int match_word(const char **p, const char *const *words)
{
    size_t len = 0;
    while (isalpha((unsigned char)(*p)[len])) {
        len++;
    }
    for (int i = 0; words[i] != NULL; i++) {
        size_t wlen = 0;
        while (words[i][wlen] != '\0') {
            wlen++;
        }
        if (wlen == len && strncasecmp(*p, words[i], len) == 0) {
            *p += len;
            return i;
        }
    }
    return -1;
}

/* Read between min_digits and max_digits decimal digits into *out; advances *p.  0 or -1. */
static int read_number(const char **p, int min_digits, int max_digits, int *out)
{
    int n = 0, v = 0;
    while (n < max_digits && isdigit((unsigned char)(*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min_digits || isdigit((unsigned char)(*p)[n])) {
        return -1;
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect_char(const char **p, char c)
{
    if (**p != c) {
        return -1;
    }
    (*p)++;
    return 0;
}

/* One or more spaces. */
static int expect_spaces(const char **p)
{
    if (**p != ' ') {
        return -1;
    }
    while (**p == ' ') {
        (*p)++;
    }
    return 0;
}

/* "HH:MM:SS" */
static int read_time(const char **p, int *h, int *mi, int *s)
{
    if (read_number(p, 2, 2, h) != 0 || expect_char(p, ':') != 0 || read_number(p, 2, 2, mi) != 0 ||
        expect_char(p, ':') != 0 || read_number(p, 2, 2, s) != 0) {
        return -1;
    }
    return 0;
}

static int read_zone(const char **p)
{
    if (strncasecmp(*p, "GMT", 3) == 0 || strncasecmp(*p, "UTC", 3) == 0) {
        *p += 3;
        return 0;
    }
    return -1;
}

int ferry_http_parse_date(const char *s, long long now_ms, long long *epoch_ms)
{
    if (s == NULL) {
        return -1;
    }
    const char *p = s;
    int day = 0, month = -1, hour = 0, minute = 0, second = 0, y = 0;
    long long year;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    const char *dayname = p;
    if (match_word(&p, short_days) < 0 && (p = dayname, match_word(&p, long_days) < 0)) {
        return -1;
    }
    if (*p == ',') {
        p++;
        if (expect_spaces(&p) != 0 || read_number(&p, 1, 2, &day) != 0) {
            return -1;
        }
        if (*p == '-') {
            /* RFC 850: 06-Nov-94 08:49:37 GMT */
            p++;
            if ((month = match_word(&p, month_names)) < 0 || expect_char(&p, '-') != 0) {
                return -1;
            }
            const char *ys = p;
            if (read_number(&p, 2, 4, &y) != 0 || (p - ys != 2 && p - ys != 4)) {
                return -1;
            }
            if (p - ys == 2) {
                /* RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century. */
                long long now_year;
                int now_month, now_day;
                ferry_civil_from_days(now_ms / 86400000LL, &now_year, &now_month, &now_day);
                year = now_year - now_year % 100 + y;
                if (year > now_year + 50) {
                    year -= 100;
                }
            } else {
                year = y;
            }
        } else {
            /* IMF-fixdate: 06 Nov 1994 08:49:37 GMT */
            if (expect_spaces(&p) != 0 || (month = match_word(&p, month_names)) < 0 || expect_spaces(&p) != 0 ||
                read_number(&p, 4, 4, &y) != 0) {
                return -1;
            }
            year = y;
        }
        if (expect_spaces(&p) != 0 || read_time(&p, &hour, &minute, &second) != 0 || expect_spaces(&p) != 0 ||
            read_zone(&p) != 0) {
            return -1;
        }
    } else if (*p == ' ') {
        /* asctime: Nov  6 08:49:37 1994 */
        if (expect_spaces(&p) != 0 || (month = match_word(&p, month_names)) < 0 || expect_spaces(&p) != 0 ||
            read_number(&p, 1, 2, &day) != 0 || expect_spaces(&p) != 0 || read_time(&p, &hour, &minute, &second) != 0 ||
            expect_spaces(&p) != 0 || read_number(&p, 4, 4, &y) != 0) {
            return -1;
        }
        year = y;
    } else {
        return -1;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p != '\0') {
        return -1;
    }
    month += 1;
    if (day < 1 || day > ferry_days_in_month(year, month) || hour > 23 || minute > 59 || second > 60) {
        return -1;
    }
    if (second == 60) {
        second = 59; /* a leap second: close enough */
    }
    long long days = ferry_days_from_civil(year, month, day);
    *epoch_ms = ((days * 24 + hour) * 60 + minute) * 60000LL + second * 1000LL;
    return 0;
}

long long ferry_http_parse_retry_after(const char *value, long long now_ms)
{
    if (value == NULL) {
        return -1;
    }
    const char *p = value;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (isdigit((unsigned char)*p)) {
        long long secs = 0;
        while (isdigit((unsigned char)*p)) {
            if (secs < MAX_DELAY_SECONDS) {
                secs = secs * 10 + (*p - '0');
            }
            p++;
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p != '\0') {
            return -1;
        }
        if (secs > MAX_DELAY_SECONDS) {
            secs = MAX_DELAY_SECONDS;
        }
        return secs * 1000;
    }
    long long when;
    if (ferry_http_parse_date(p, now_ms, &when) != 0) {
        return -1;
    }
    long long wait = when - now_ms;
    if (wait < 0) {
        return 0;
    }
    if (wait > MAX_DELAY_SECONDS * 1000) {
        wait = MAX_DELAY_SECONDS * 1000;
    }
    return wait;
}
