/* money.c - exact decimal arithmetic for amounts (see money.h). */
#include "config.h"

#include "money.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A type wide enough for products of two units where the compiler has one. */
#if defined(__SIZEOF_INT128__)
typedef __int128 wide_t;
#else
typedef int64_t wide_t;
#endif

static const int64_t pow10_tab[FERRY_MONEY_MAX_SCALE + 1] = {
    1LL,
    10LL,
    100LL,
    1000LL,
    10000LL,
    100000LL,
    1000000LL,
    10000000LL,
    100000000LL,
    1000000000LL,
    10000000000LL,
    100000000000LL,
    1000000000000LL,
    10000000000000LL,
    100000000000000LL,
    1000000000000000LL,
    10000000000000000LL,
    100000000000000000LL,
    1000000000000000000LL,
};

const char *ferry_money_strerror(int rc)
{
    switch (rc) {
    case FERRY_MONEY_OK:
        return "ok";
    case FERRY_MONEY_EINVAL:
        return "not a decimal number";
    case FERRY_MONEY_ERANGE:
        return "out of range (more than 18 decimals or 64 bits)";
    case FERRY_MONEY_EDIV0:
        return "division by zero";
    default:
        return "unknown decimal error";
    }
}

/*
 * A parsed decimal: value = 0.d[0]d[1]...d[n-1] * 10^point, sign apart.
 * Leading zeros are dropped from the digits; `written` is the number of
 * decimals the text showed (after applying the exponent, never negative).
 */
typedef struct decimal_text {
    int neg;
    char d[FERRY_MONEY_MAX_INPUT];
    size_t n;
    long point;
    long written;
} decimal_text;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int scan(const char *s, size_t len, decimal_text *t)
{
    size_t i = 0;
    long int_digits = 0, frac_digits = 0, exp = 0;
    int seen_digit = 0, seen_nonzero = 0;

    memset(t, 0, sizeof(*t));
    if (s == NULL || len == 0 || len > FERRY_MONEY_MAX_INPUT - 1) {
        return FERRY_MONEY_EINVAL;
    }
    if (s[i] == '+' || s[i] == '-') {
        t->neg = s[i] == '-';
        i++;
    }
    /* integer part */
    for (; i < len && is_digit(s[i]); i++) {
        seen_digit = 1;
        if (s[i] != '0' || seen_nonzero) {
            seen_nonzero = 1;
            t->d[t->n++] = s[i];
            int_digits++;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && is_digit(s[i]); i++) {
            seen_digit = 1;
            frac_digits++;
            if (s[i] != '0' || seen_nonzero) {
                seen_nonzero = 1;
                t->d[t->n++] = s[i];
            } else {
                int_digits--; /* a leading zero after the point shifts the point left */
            }
        }
    }
    if (!seen_digit) {
        return FERRY_MONEY_EINVAL;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, edigits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        for (; i < len && is_digit(s[i]); i++) {
            edigits++;
            if (exp < 100000) {
                exp = exp * 10 + (s[i] - '0');
            }
        }
        if (edigits == 0) {
            return FERRY_MONEY_EINVAL;
        }
        if (eneg) {
            exp = -exp;
        }
    }
    if (i != len) {
        return FERRY_MONEY_EINVAL;
    }
    t->point = int_digits + exp;
    t->written = frac_digits - exp;
    if (t->written < 0) {
        t->written = 0;
    }
    if (t->n == 0) {
        t->point = 0; /* zero */
    }
    return FERRY_MONEY_OK;
}

/* Digit at index i of the digit string, or 0 outside it. */
static int digit_at(const decimal_text *t, long i)
{
    return i >= 0 && (size_t)i < t->n ? t->d[i] - '0' : 0;
}

/*
 * The units at `scale` decimals (the digits of index < point + scale), and
 * the first dropped digit in *next.  ERANGE on overflow.
 */
static int units_at(const decimal_text *t, int scale, uint64_t *units, int *next)
{
    long last = t->point + scale; /* digits [0, last) are kept */
    uint64_t u = 0;
    uint64_t max = t->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (t->n > 0 && last > 19) {
        return FERRY_MONEY_ERANGE;
    }
    for (long i = 0; i < last; i++) {
        int dg = digit_at(t, i);
        if (u > (UINT64_MAX - (uint64_t)dg) / 10) {
            return FERRY_MONEY_ERANGE;
        }
        u = u * 10 + (uint64_t)dg;
    }
    if (u > max) {
        return FERRY_MONEY_ERANGE;
    }
    *units = u;
    *next = digit_at(t, last);
    return FERRY_MONEY_OK;
}

/* The signed units for magnitude u (at most 2^63 when negative). */
static int64_t signed_units(int neg, uint64_t u)
{
    if (!neg) {
        return (int64_t)u;
    }
    return u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
}

int ferry_money_parse(const char *s, size_t len, ferry_money *out)
{
    decimal_text t;
    int rc = scan(s, len, &t);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    long scale = t.written;
    if (scale > FERRY_MONEY_MAX_SCALE) {
        /* the smallest exact scale: the decimals up to the last non-zero digit */
        size_t n = t.n;
        while (n > 0 && t.d[n - 1] == '0') {
            n--;
        }
        scale = (long)n - t.point;
        if (scale < 0) {
            scale = 0;
        }
        if (scale > FERRY_MONEY_MAX_SCALE) {
            return FERRY_MONEY_ERANGE;
        }
    }
    uint64_t units;
    int next;
    rc = units_at(&t, (int)scale, &units, &next);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    out->units = signed_units(t.neg, units);
    out->scale = (int)scale;
    return FERRY_MONEY_OK;
}

int ferry_money_parse_round(const char *s, size_t len, int decimals, ferry_money *out)
{
    decimal_text t;
    int rc;
    if (decimals < 0 || decimals > FERRY_MONEY_MAX_SCALE) {
        return FERRY_MONEY_ERANGE;
    }
    rc = scan(s, len, &t);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    uint64_t units;
    int next;
    rc = units_at(&t, decimals, &units, &next);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    /* Half away from zero: the first dropped digit alone decides (>= 5 is at least half). */
    if (next >= 5) {
        if (units >= (t.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
            return FERRY_MONEY_ERANGE;
        }
        units++;
    }
    out->units = signed_units(t.neg, units);
    out->scale = decimals;
    return FERRY_MONEY_OK;
}

int ferry_money_parse_plain(const char *s, int decimals, ferry_money *out)
{
    if (s == NULL) {
        return FERRY_MONEY_EINVAL;
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1])) {
        len--;
    }
    if (memchr(s, 'e', len) != NULL || memchr(s, 'E', len) != NULL) {
        return FERRY_MONEY_EINVAL;
    }
    return ferry_money_parse_round(s, len, decimals, out);
}

ferry_money ferry_money_from_int(int64_t v)
{
    ferry_money m = {v, 0};
    return m;
}

int ferry_money_format_double(double d, char *buf, size_t n)
{
    if (!isfinite(d) || n < 32) {
        return FERRY_MONEY_EINVAL;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    return FERRY_MONEY_OK;
}

int ferry_money_from_double(double d, ferry_money *out)
{
    char buf[64];
    int rc = ferry_money_format_double(d, buf, sizeof(buf));
    return rc != FERRY_MONEY_OK ? rc : ferry_money_parse(buf, strlen(buf), out);
}

int ferry_money_from_double_round(double d, int decimals, ferry_money *out)
{
    char buf[64];
    int rc = ferry_money_format_double(d, buf, sizeof(buf));
    return rc != FERRY_MONEY_OK ? rc : ferry_money_parse_round(buf, strlen(buf), decimals, out);
}

int ferry_money_from_json(const json_t *v, ferry_money *out)
{
    if (json_is_integer(v)) {
        *out = ferry_money_from_int((int64_t)json_integer_value(v));
        return FERRY_MONEY_OK;
    }
    if (json_is_real(v)) {
        return ferry_money_from_double(json_real_value(v), out);
    }
    if (json_is_string(v)) {
        return ferry_money_parse(json_string_value(v), json_string_length(v), out);
    }
    return FERRY_MONEY_EINVAL;
}

int ferry_money_from_json_round(const json_t *v, int decimals, ferry_money *out)
{
    if (json_is_string(v)) {
        return ferry_money_parse_plain(json_string_value(v), decimals, out);
    }
    if (json_is_real(v)) {
        return ferry_money_from_double_round(json_real_value(v), decimals, out);
    }
    ferry_money m;
    int rc = ferry_money_from_json(v, &m);
    return rc != FERRY_MONEY_OK ? rc : ferry_money_round(m, decimals, out);
}

/* units * 10^k, ERANGE on overflow. */
static int scale_up(int64_t units, int k, int64_t *out)
{
    if (k < 0 || k > FERRY_MONEY_MAX_SCALE) {
        return FERRY_MONEY_ERANGE;
    }
    if (__builtin_mul_overflow(units, pow10_tab[k], out)) {
        return FERRY_MONEY_ERANGE;
    }
    return FERRY_MONEY_OK;
}

int ferry_money_round(ferry_money a, int decimals, ferry_money *out)
{
    if (decimals < 0 || decimals > FERRY_MONEY_MAX_SCALE) {
        return FERRY_MONEY_ERANGE;
    }
    if (decimals >= a.scale) {
        int64_t u;
        int rc = scale_up(a.units, decimals - a.scale, &u);
        if (rc != FERRY_MONEY_OK) {
            return rc;
        }
        out->units = u;
        out->scale = decimals;
        return FERRY_MONEY_OK;
    }
    int64_t div = pow10_tab[a.scale - decimals];
    int64_t q = a.units / div;
    int64_t r = a.units % div; /* same sign as units */
    int64_t ar = r < 0 ? -r : r;
    if (ar >= div - ar) { /* |r| >= div/2, without overflow */
        q += a.units < 0 ? -1 : 1;
    }
    out->units = q;
    out->scale = decimals;
    return FERRY_MONEY_OK;
}

/* Bring a and b to the same (larger) scale. */
static int align(ferry_money *a, ferry_money *b)
{
    if (a->scale < b->scale) {
        int rc = scale_up(a->units, b->scale - a->scale, &a->units);
        if (rc != FERRY_MONEY_OK) {
            return rc;
        }
        a->scale = b->scale;
    } else if (b->scale < a->scale) {
        int rc = scale_up(b->units, a->scale - b->scale, &b->units);
        if (rc != FERRY_MONEY_OK) {
            return rc;
        }
        b->scale = a->scale;
    }
    return FERRY_MONEY_OK;
}

int ferry_money_add(ferry_money a, ferry_money b, ferry_money *out)
{
    int rc = align(&a, &b);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    if (__builtin_add_overflow(a.units, b.units, &out->units)) {
        return FERRY_MONEY_ERANGE;
    }
    out->scale = a.scale;
    return FERRY_MONEY_OK;
}

int ferry_money_neg(ferry_money a, ferry_money *out)
{
    if (a.units == INT64_MIN) {
        return FERRY_MONEY_ERANGE;
    }
    out->units = -a.units;
    out->scale = a.scale;
    return FERRY_MONEY_OK;
}

int ferry_money_abs(ferry_money a, ferry_money *out)
{
    if (a.units >= 0) {
        *out = a;
        return FERRY_MONEY_OK;
    }
    return ferry_money_neg(a, out);
}

int ferry_money_shift(ferry_money a, int places, ferry_money *out)
{
    int scale = a.scale - places;
    int64_t units = a.units;
    if (scale < 0) {
        int rc = scale_up(units, -scale, &units);
        if (rc != FERRY_MONEY_OK) {
            return rc;
        }
        scale = 0;
    }
    while (scale > FERRY_MONEY_MAX_SCALE && units % 10 == 0) {
        units /= 10; /* trailing zeros past 18 decimals say nothing */
        scale--;
    }
    if (scale > FERRY_MONEY_MAX_SCALE) {
        return FERRY_MONEY_ERANGE;
    }
    out->units = units;
    out->scale = scale;
    return FERRY_MONEY_OK;
}

int ferry_money_sub(ferry_money a, ferry_money b, ferry_money *out)
{
    int rc = align(&a, &b);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    if (__builtin_sub_overflow(a.units, b.units, &out->units)) {
        return FERRY_MONEY_ERANGE;
    }
    out->scale = a.scale;
    return FERRY_MONEY_OK;
}

int ferry_money_mul(ferry_money a, ferry_money b, ferry_money *out)
{
    wide_t p;
    int scale = a.scale + b.scale;
    if (__builtin_mul_overflow((wide_t)a.units, (wide_t)b.units, &p)) {
        return FERRY_MONEY_ERANGE;
    }
    /* drop trailing zeros while the product does not fit */
    while ((scale > FERRY_MONEY_MAX_SCALE || p > INT64_MAX || p < INT64_MIN) && scale > 0 && p % 10 == 0) {
        p /= 10;
        scale--;
    }
    if (scale > FERRY_MONEY_MAX_SCALE || p > INT64_MAX || p < INT64_MIN) {
        return FERRY_MONEY_ERANGE;
    }
    out->units = (int64_t)p;
    out->scale = scale;
    return FERRY_MONEY_OK;
}

/* v * 10^k in the wide type, or -1 on overflow. */
static int wide_scale_up(wide_t v, int k, wide_t *out)
{
    for (int i = 0; i < k; i++) {
        if (__builtin_mul_overflow(v, (wide_t)10, &v)) {
            return -1;
        }
    }
    *out = v;
    return 0;
}

int ferry_money_div(ferry_money a, ferry_money b, int decimals, ferry_money *out)
{
    wide_t num, den;
    if (decimals < 0 || decimals > FERRY_MONEY_MAX_SCALE) {
        return FERRY_MONEY_ERANGE;
    }
    if (b.units == 0) {
        return FERRY_MONEY_EDIV0;
    }
    /* a/b * 10^d = a.units * 10^(b.scale + d - a.scale) / b.units */
    int e = b.scale + decimals - a.scale;
    if (e >= 0) {
        den = b.units;
        if (wide_scale_up(a.units, e, &num) != 0) {
            return FERRY_MONEY_ERANGE;
        }
    } else {
        num = a.units;
        if (wide_scale_up(b.units, -e, &den) != 0) {
            return FERRY_MONEY_ERANGE;
        }
    }
    wide_t q = num / den;
    wide_t r = num % den;
    wide_t ar = r < 0 ? -r : r;
    wide_t ad = den < 0 ? -den : den;
    if (ar >= ad - ar) {
        q += ((num < 0) != (den < 0)) ? -1 : 1;
    }
    if (q > INT64_MAX || q < INT64_MIN) {
        return FERRY_MONEY_ERANGE;
    }
    out->units = (int64_t)q;
    out->scale = decimals;
    return FERRY_MONEY_OK;
}

int ferry_money_add_vat(ferry_money net, ferry_money rate, int decimals, ferry_money *gross)
{
    ferry_money factor, exact;
    int rc = ferry_money_add(ferry_money_from_int(1), rate, &factor);
    if (rc == FERRY_MONEY_OK) {
        rc = ferry_money_mul(net, factor, &exact);
    }
    return rc != FERRY_MONEY_OK ? rc : ferry_money_round(exact, decimals, gross);
}

int ferry_money_remove_vat(ferry_money gross, ferry_money rate, int decimals, ferry_money *net)
{
    ferry_money factor;
    int rc = ferry_money_add(ferry_money_from_int(1), rate, &factor);
    if (rc != FERRY_MONEY_OK) {
        return rc;
    }
    if (factor.units <= 0) {
        return FERRY_MONEY_EINVAL;
    }
    return ferry_money_div(gross, factor, decimals, net);
}

int ferry_money_decimals(ferry_money a)
{
    int d = a.scale;
    for (int64_t u = a.units; d > 0 && u % 10 == 0; u /= 10) {
        d--;
    }
    return d;
}

int ferry_money_cmp(ferry_money a, ferry_money b)
{
    /* compare whole parts, then the fractions brought to 18 decimals (both fit 64 bits) */
    int64_t ai = a.units / pow10_tab[a.scale], bi = b.units / pow10_tab[b.scale];
    if (ai != bi) {
        return ai < bi ? -1 : 1;
    }
    int64_t af = (a.units % pow10_tab[a.scale]) * pow10_tab[FERRY_MONEY_MAX_SCALE - a.scale];
    int64_t bf = (b.units % pow10_tab[b.scale]) * pow10_tab[FERRY_MONEY_MAX_SCALE - b.scale];
    return af < bf ? -1 : af > bf ? 1 : 0;
}

char *ferry_money_format(ferry_money a, char *buf, size_t n)
{
    char digits[32];
    char tmp[FERRY_MONEY_STRLEN];
    size_t nd = 0, o = 0;
    uint64_t u = a.units < 0 ? (uint64_t)0 - (uint64_t)a.units : (uint64_t)a.units;
    int scale = a.scale < 0 ? 0 : a.scale > FERRY_MONEY_MAX_SCALE ? FERRY_MONEY_MAX_SCALE : a.scale;

    if (n == 0) {
        return buf;
    }
    do {
        digits[nd++] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    while (nd < (size_t)scale + 1) {
        digits[nd++] = '0';
    }
    if (a.units < 0) {
        tmp[o++] = '-';
    }
    for (size_t i = nd; i > 0; i--) {
        if (i == (size_t)scale && scale > 0) {
            tmp[o++] = '.';
        }
        tmp[o++] = digits[i - 1];
    }
    tmp[o] = '\0';
    snprintf(buf, n, "%s", tmp);
    return buf;
}

json_t *ferry_money_json_string(ferry_money a, int decimals)
{
    char buf[FERRY_MONEY_STRLEN];
    ferry_money r;
    if (ferry_money_round(a, decimals, &r) != FERRY_MONEY_OK) {
        return NULL;
    }
    return json_string(ferry_money_format(r, buf, sizeof(buf)));
}

json_t *ferry_money_json_number(ferry_money a, int decimals)
{
    ferry_money r;
    int64_t whole;
    if (ferry_money_round(a, decimals, &r) != FERRY_MONEY_OK) {
        return NULL;
    }
    if (ferry_money_to_int(r, &whole) == FERRY_MONEY_OK) {
        return json_integer((json_int_t)whole);
    }
    return json_real(ferry_money_to_double(r));
}

double ferry_money_to_double(ferry_money a)
{
    char buf[FERRY_MONEY_STRLEN];
    return strtod(ferry_money_format(a, buf, sizeof(buf)), NULL);
}

int ferry_money_to_int(ferry_money a, int64_t *out)
{
    if (a.units % pow10_tab[a.scale] != 0) {
        return FERRY_MONEY_ERANGE;
    }
    *out = a.units / pow10_tab[a.scale];
    return FERRY_MONEY_OK;
}
