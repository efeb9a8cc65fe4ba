/* ea_money.c - decimal amounts as scaled integers (see ea_money.h). */
#include "config.h"

#include "ea_money.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const int64_t pow10_table[] = {1, 10, 100, 1000, 10000};

/* q = n / d rounded half away from zero (d > 0). */
static int64_t div_round(int64_t n, int64_t d)
{
    int64_t q = n / d, r = n % d;
    if (r < 0) {
        r = -r;
    }
    if (r * 2 >= d) {
        q += n < 0 ? -1 : 1;
    }
    return q;
}

int ea_dec_parse(const char *s, ea_dec *out)
{
    if (s == NULL) {
        return -1;
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0, round_up = 0;
    for (; isdigit((unsigned char)*s); s++, digits++) {
        if (whole > (INT64_MAX / EA_DEC_SCALE - 9) / 10) {
            return -1;
        }
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.') {
        s++;
        for (; isdigit((unsigned char)*s); s++) {
            if (fdigits < 4) {
                frac = frac * 10 + (*s - '0');
            } else if (fdigits == 4) {
                round_up = *s >= '5';
            }
            fdigits++;
        }
    }
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s != '\0' || (digits == 0 && fdigits == 0)) {
        return -1;
    }
    int64_t v = whole * EA_DEC_SCALE + frac * pow10_table[4 - (fdigits < 4 ? fdigits : 4)] + round_up;
    *out = neg ? -v : v;
    return 0;
}

int ea_dec_from_json(const json_t *v, ea_dec *out)
{
    char text[64];
    if (json_is_string(v)) {
        return ea_dec_parse(json_string_value(v), out);
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > INT64_MAX / EA_DEC_SCALE || i < -(INT64_MAX / EA_DEC_SCALE)) {
            return -1;
        }
        *out = (ea_dec)i * EA_DEC_SCALE;
        return 0;
    }
    if (json_is_real(v)) {
        snprintf(text, sizeof(text), "%.15g", json_real_value(v));
        if (strchr(text, 'e') != NULL || strchr(text, 'n') != NULL) {
            /* very small (rounds to 0.0000), very large, or not a number */
            double d = json_real_value(v);
            if (d > -0.00005 && d < 0.00005) {
                *out = 0;
                return 0;
            }
            return -1;
        }
        return ea_dec_parse(text, out);
    }
    return -1;
}

ea_dec ea_dec_round(ea_dec v, int decimals)
{
    if (decimals >= 4) {
        return v;
    }
    if (decimals < 0) {
        decimals = 0;
    }
    int64_t unit = pow10_table[4 - decimals];
    return div_round(v, unit) * unit;
}

int ea_dec_decimals(ea_dec v)
{
    int d = 4;
    while (d > 0 && v % 10 == 0) {
        v /= 10;
        d--;
    }
    return d;
}

char *ea_dec_format(ea_dec v, int decimals, char *buf, size_t n)
{
    if (decimals < 0) {
        decimals = 0;
    }
    if (decimals > 4) {
        decimals = 4;
    }
    v = ea_dec_round(v, decimals);
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t whole = mag / EA_DEC_SCALE, frac = mag % EA_DEC_SCALE;
    if (decimals == 0) {
        snprintf(buf, n, "%s%llu", v < 0 ? "-" : "", (unsigned long long)whole);
    } else {
        frac /= (uint64_t)pow10_table[4 - decimals];
        snprintf(buf, n, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)whole, decimals,
                 (unsigned long long)frac);
    }
    return buf;
}

json_t *ea_dec_json_string(ea_dec v, int decimals)
{
    char buf[40];
    return json_string(ea_dec_format(v, decimals, buf, sizeof(buf)));
}

json_t *ea_dec_json_number(ea_dec v, int decimals)
{
    v = ea_dec_round(v, decimals);
    if (v % EA_DEC_SCALE == 0) {
        return json_integer((json_int_t)(v / EA_DEC_SCALE));
    }
    /* The division rounds once to the nearest double; "%.15g" prints the decimal back. */
    return json_real((double)v / (double)EA_DEC_SCALE);
}

int ea_dec_mul(ea_dec a, ea_dec b, ea_dec *out)
{
    int64_t p;
    if (__builtin_mul_overflow(a, b, &p)) {
        return -1;
    }
    *out = div_round(p, EA_DEC_SCALE);
    return 0;
}

int ea_dec_div(ea_dec a, ea_dec b, ea_dec *out)
{
    int64_t n;
    if (b == 0 || __builtin_mul_overflow(a, (int64_t)EA_DEC_SCALE, &n)) {
        return -1;
    }
    if (b < 0) {
        if (n == INT64_MIN || b == INT64_MIN) {
            return -1;
        }
        n = -n;
        b = -b;
    }
    *out = div_round(n, b);
    return 0;
}

/* Clamp a decimals argument to 0..4. */
static int clamp_decimals(int decimals)
{
    return decimals < 0 ? 0 : decimals > 4 ? 4 : decimals;
}

/*
 * Both directions round once, straight to `decimals`, from the exact
 * rational value (no double rounding through 4 decimals first).
 */
int ea_dec_add_vat(ea_dec net, ea_dec rate, int decimals, ea_dec *gross)
{
    int d = clamp_decimals(decimals);
    int64_t p;
    if (__builtin_mul_overflow(net, EA_DEC_ONE + rate, &p)) {
        return -1;
    }
    /* p has 8 decimals; keep d of them */
    int64_t q = div_round(p, pow10_table[4] * pow10_table[4 - d]);
    *gross = q * pow10_table[4 - d];
    return 0;
}

int ea_dec_remove_vat(ea_dec gross, ea_dec rate, int decimals, ea_dec *net)
{
    int d = clamp_decimals(decimals);
    int64_t n, den = EA_DEC_ONE + rate;
    if (den <= 0 || __builtin_mul_overflow(gross, pow10_table[d], &n)) {
        return -1;
    }
    *net = div_round(n, den) * pow10_table[4 - d];
    return 0;
}
