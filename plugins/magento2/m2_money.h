/*
 * m2_money.h - amounts as fixed-point integers with 4 decimals.
 *
 * Magento stores money as DECIMAL(20,4) and prints it as a JSON number
 * ("price": 22, "grand_total": 199.13).  Jansson hands us those numbers as
 * int or double; we turn them into an exact count of 1/10000 units at once
 * (through their shortest decimal text: a double holds any decimal with up to
 * 15 significant digits exactly, i.e. every amount below 10^11 with 4
 * decimals) and never do arithmetic in binary floating point.  Rounding is
 * half away from zero.  Decimal strings are what the canonical records carry.
 */
#ifndef M2_MONEY_H
#define M2_MONEY_H

#include <stddef.h>

#include <jansson.h>

typedef long long m2_amount; /* value * 10000 */

#define M2_AMOUNT_ONE 10000LL

/*
 * Parse a decimal text ("12", "-3.5", "199.1300", "1e2" is refused) into
 * *out, rounding beyond 4 decimals half away from zero.  Returns 0, or -1
 * when the text is not a plain decimal number or is out of range.
 */
int m2_amount_parse(const char *text, m2_amount *out);

/*
 * obj[key] as an amount: numbers and numeric strings.  Returns 1 and sets
 * *out when present and numeric; 0 (and *out = 0) when missing, null or not
 * a number.
 */
int m2_amount_get(const json_t *obj, const char *key, m2_amount *out);

/* The same for a JSON value. */
int m2_amount_from_json(const json_t *value, m2_amount *out);

/*
 * Format an amount as money: at least 2 decimals, up to 4 when they are not
 * zero ("22.00", "199.13", "0.0125", "-9.80").  Writes into buf (>= 32).
 */
char *m2_amount_money(m2_amount a, char *buf, size_t n);

/* Format without trailing zeros ("25", "12.5", "3"), for rates and quantities. */
char *m2_amount_plain(m2_amount a, char *buf, size_t n);

/* New JSON strings of the two formats. */
json_t *m2_money_json(m2_amount a);
json_t *m2_plain_json(m2_amount a);

/* |a| */
m2_amount m2_amount_abs(m2_amount a);

/* a * b (both fixed-point), rounded half away from zero. */
m2_amount m2_amount_mul(m2_amount a, m2_amount b);

/* a / b (both fixed-point) with `decimals` (0..8) places, into buf as plain text; "" when b is 0. */
char *m2_amount_div_text(m2_amount a, m2_amount b, int decimals, char *buf, size_t n);

#endif /* M2_MONEY_H */
