/* ea_str.c - string, JSON and time helpers of the eAccounting plugin (see ea_str.h). */
#include "config.h"

#include "ea_str.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* ---- strings ---------------------------------------------------------------- */

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

char *ea_url_decode(const char *s, size_t len)
{
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "");
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len) {
            int hi = ferry_hex_value(s[i + 1]);
            int lo = ferry_hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        }
        ferry_buf_append(&b, &c, 1);
    }
    return ferry_buf_finish(&b);
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
            return eq != NULL ? ea_url_decode(eq + 1, seg - klen - 1) : ferry_strdup("");
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

int ea_json_bool(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : -1;
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

/* "YYYY-MM-DD" (a valid calendar day) -> days since the epoch. */
static int parse_date_part(const char **p, long long *days)
{
    int y, mo, d;
    if (take_digits(p, 4, &y) || *(*p)++ != '-' || take_digits(p, 2, &mo) || *(*p)++ != '-' || take_digits(p, 2, &d)) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > ferry_days_in_month(y, mo)) {
        return -1;
    }
    *days = ferry_days_from_civil(y, mo, d);
    return 0;
}

/* "HH:MM[:SS[.fff]]" -> seconds into the day and milliseconds. */
static int parse_time_part(const char **p, int *seconds, int *ms)
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
    *seconds = h * 3600 + mi * 60 + s;
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
    long long days;
    int seconds = 0, frac = 0, offset = 0;
    if (s == NULL || parse_date_part(&s, &days) != 0) {
        return -1;
    }
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (parse_time_part(&s, &seconds, &frac) != 0 || parse_offset(&s, &offset) != 0) {
            return -1;
        }
    }
    if (*s != '\0') {
        return -1;
    }
    *ms = (days * 86400 + seconds - (long long)offset * 60) * 1000 + frac;
    return 0;
}

int ea_is_date(const char *s)
{
    long long days;
    return s != NULL && parse_date_part(&s, &days) == 0 && *s == '\0';
}
