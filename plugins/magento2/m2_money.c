/* m2_money.c - fixed-point amounts with 4 decimals (see m2_money.h). */
#include "config.h"

#include "m2_money.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "m2_util.h"

/* Amounts beyond this (in units) are refused: 10^14 whole units leave room for products without overflow. */
#define MAX_UNITS 1000000000000000000LL

int m2_amount_parse(const char *text, m2_amount *out)
{
    *out = 0;
    if (text == NULL) {
        return -1;
    }
    const char *p = text;
    while (*p == ' ') {
        p++;
    }
    int negative = 0;
    if (*p == '-' || *p == '+') {
        negative = *p == '-';
        p++;
    }
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1]))) {
        return -1;
    }
    long long whole = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (whole > (MAX_UNITS / M2_AMOUNT_ONE) / 10) {
            return -1;
        }
        whole = whole * 10 + (*p - '0');
    }
    long long frac = 0;
    int places = 0, round_up = 0;
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++) {
            if (places < 4) {
                frac = frac * 10 + (*p - '0');
                places++;
            } else if (places == 4) {
                round_up = *p >= '5'; /* half away from zero: only the fifth digit decides */
                places++;
            }
        }
    }
    while (*p == ' ') {
        p++;
    }
    if (*p != '\0') {
        return -1;
    }
    for (int i = places < 4 ? places : 4; i < 4; i++) {
        frac *= 10;
    }
    long long units = whole * M2_AMOUNT_ONE + frac + round_up;
    *out = negative ? -units : units;
    return 0;
}

int m2_amount_from_json(const json_t *value, m2_amount *out)
{
    *out = 0;
    if (value == NULL || json_is_null(value) || json_is_boolean(value)) {
        return 0;
    }
    if (json_is_integer(value)) {
        json_int_t v = json_integer_value(value);
        if (v > MAX_UNITS / M2_AMOUNT_ONE || v < -MAX_UNITS / M2_AMOUNT_ONE) {
            return 0;
        }
        *out = (m2_amount)v * M2_AMOUNT_ONE;
        return 1;
    }
    const char *text = m2_json_value_text(value);
    char small[48];
    if (json_is_real(value) && text != NULL && strchr(text, 'e') != NULL) {
        /* %.15g chose an exponent: a tiny amount (rounds to 4 places exactly) or a huge one (refused below) */
        snprintf(small, sizeof(small), "%.4f", json_real_value(value));
        text = small;
    }
    if (text == NULL || m2_amount_parse(text, out) != 0) {
        *out = 0;
        return 0;
    }
    return 1;
}

int m2_amount_get(const json_t *obj, const char *key, m2_amount *out)
{
    return m2_amount_from_json(json_object_get(obj, key), out);
}

static char *format(m2_amount a, char *buf, size_t n, int min_places)
{
    unsigned long long u = a < 0 ? (unsigned long long)(-(a + 1)) + 1 : (unsigned long long)a;
    unsigned long long whole = u / M2_AMOUNT_ONE;
    unsigned frac = (unsigned)(u % M2_AMOUNT_ONE);
    char digits[5];
    snprintf(digits, sizeof(digits), "%04u", frac);
    int places = 4;
    while (places > min_places && digits[places - 1] == '0') {
        places--;
    }
    if (places == 0) {
        snprintf(buf, n, "%s%llu", a < 0 ? "-" : "", whole);
    } else {
        snprintf(buf, n, "%s%llu.%.*s", a < 0 ? "-" : "", whole, places, digits);
    }
    return buf;
}

char *m2_amount_money(m2_amount a, char *buf, size_t n)
{
    return format(a, buf, n, 2);
}

char *m2_amount_plain(m2_amount a, char *buf, size_t n)
{
    return format(a, buf, n, 0);
}

json_t *m2_money_json(m2_amount a)
{
    char buf[40];
    return json_string(m2_amount_money(a, buf, sizeof(buf)));
}

json_t *m2_plain_json(m2_amount a)
{
    char buf[40];
    return json_string(m2_amount_plain(a, buf, sizeof(buf)));
}

m2_amount m2_amount_abs(m2_amount a)
{
    return a < 0 ? -a : a;
}

/* Round num/den (den > 0) half away from zero. */
static long long div_round(__int128 num, long long den)
{
    int negative = num < 0;
    if (negative) {
        num = -num;
    }
    __int128 q = (num + den / 2) / den;
    return negative ? -(long long)q : (long long)q;
}

m2_amount m2_amount_mul(m2_amount a, m2_amount b)
{
    return div_round((__int128)a * b, M2_AMOUNT_ONE);
}

char *m2_amount_div_text(m2_amount a, m2_amount b, int decimals, char *buf, size_t n)
{
    if (b == 0 || decimals < 0 || decimals > 8) {
        if (n > 0) {
            buf[0] = '\0';
        }
        return buf;
    }
    long long scale = 1;
    for (int i = 0; i < decimals; i++) {
        scale *= 10;
    }
    if (b < 0) {
        a = -a;
        b = -b;
    }
    long long q = div_round((__int128)a * scale, b);
    unsigned long long u = q < 0 ? (unsigned long long)(-(q + 1)) + 1 : (unsigned long long)q;
    char frac[24];
    snprintf(frac, sizeof(frac), "%0*llu", decimals, decimals ? u % (unsigned long long)scale : 0ULL);
    int places = decimals;
    while (places > 0 && frac[places - 1] == '0') {
        places--;
    }
    if (places == 0) {
        snprintf(buf, n, "%s%llu", q < 0 ? "-" : "", u / (unsigned long long)scale);
    } else {
        snprintf(buf, n, "%s%llu.%.*s", q < 0 ? "-" : "", u / (unsigned long long)scale, places, frac);
    }
    return buf;
}
