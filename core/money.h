/*
 * money.h - exact decimal arithmetic for amounts, without binary floats.
 *
 * A ferry_money is a fixed-point decimal: value = units / 10^scale, with a
 * 64-bit signed `units` and 0 <= scale <= FERRY_MONEY_MAX_SCALE.  It is what
 * ferry.round and ferry.decimal (the Lua mapping library) and the engine's
 * totals checks compute with, so that 0.285 rounds to 0.29 and 0.1 + 0.2 is
 * 0.3.  Rounding is always half away from zero (what Visma does).
 *
 * Values come from decimal strings ("12.345", "-0.5", "1e-2"), from 64-bit
 * integers, or from doubles through their shortest round-trip decimal text
 * (0.285 is "0.285", not 0.28499999999999998).  Nothing here allocates;
 * every function returns FERRY_MONEY_OK or a negative FERRY_MONEY_E* code,
 * and ferry_money_strerror() names it.
 */
#ifndef FERRY_MONEY_H
#define FERRY_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define FERRY_MONEY_MAX_SCALE 18
/* Longest ferry_money_format() output, NUL included ("-9223372036854775808" with a point and a zero). */
#define FERRY_MONEY_STRLEN 48
/* Longest decimal text ferry_money_parse accepts. */
#define FERRY_MONEY_MAX_INPUT 400

typedef struct ferry_money {
    int64_t units; /* the value times 10^scale */
    int scale;     /* digits after the decimal point, 0..FERRY_MONEY_MAX_SCALE */
} ferry_money;

enum ferry_money_status {
    FERRY_MONEY_OK = 0,
    FERRY_MONEY_EINVAL = -1, /* not a decimal number */
    FERRY_MONEY_ERANGE = -2, /* does not fit 64 bits / 18 decimals */
    FERRY_MONEY_EDIV0 = -3   /* division by zero */
};

/* A short English description of a ferry_money_* return code ("not a decimal number"). */
const char *ferry_money_strerror(int rc);

/*
 * Parse the decimal text s[0..len) exactly: an optional sign, digits with an
 * optional '.', and an optional exponent ("12.50", "-.5", "1.5e-3").  No
 * spaces, no thousands separators, no "inf"/"nan".  The scale is the number
 * of decimals written (so "12.50" keeps scale 2) unless that exceeds 18, in
 * which case trailing zeros are dropped.  FERRY_MONEY_ERANGE when the value
 * needs more than 18 decimals or 64 bits.
 */
int ferry_money_parse(const char *s, size_t len, ferry_money *out);

/*
 * Parse s[0..len) like ferry_money_parse and round it to exactly `decimals`
 * (0..18) places, half away from zero, in one exact step on the digits:
 * any number of input decimals is fine ("0.28500000000000000001" -> 0.29).
 */
int ferry_money_parse_round(const char *s, size_t len, int decimals, ferry_money *out);

/*
 * Parse a NUL-terminated decimal the way people and APIs write amounts, and
 * round it to `decimals` (0..18) places half away from zero: white space
 * around it is ignored, an exponent is not accepted ("1e5" is EINVAL), any
 * number of decimals is ("1.23456" at 4 places is 1.2346).  This is how the
 * connector plugins read amounts.
 */
int ferry_money_parse_plain(const char *s, int decimals, ferry_money *out);

/* An integer as a ferry_money of scale 0.  Never fails. */
ferry_money ferry_money_from_int(int64_t v);

/*
 * Write the shortest decimal text that reads back as exactly `d` ("%.15g",
 * then %.16g, then %.17g) into buf (size n >= 32).  EINVAL for NaN and
 * infinities.  This is how ferry turns a Lua float into a decimal.
 */
int ferry_money_format_double(double d, char *buf, size_t n);

/* `d` through its shortest round-trip text, exactly (ERANGE past 18 decimals) or rounded to `decimals`. */
int ferry_money_from_double(double d, ferry_money *out);
int ferry_money_from_double_round(double d, int decimals, ferry_money *out);

/*
 * A JSON integer, real (through its shortest text) or numeric string as a
 * ferry_money, exactly.  EINVAL for any other JSON type.
 */
int ferry_money_from_json(const json_t *v, ferry_money *out);

/*
 * A JSON integer, real (through its shortest text) or string (as
 * ferry_money_parse_plain reads it) rounded to `decimals` places, half away
 * from zero.  EINVAL for any other JSON type.
 */
int ferry_money_from_json_round(const json_t *v, int decimals, ferry_money *out);

/* Round `a` to exactly `decimals` (0..18) places, half away from zero (more decimals pad with zeros). */
int ferry_money_round(ferry_money a, int decimals, ferry_money *out);

/* Exact sum, difference and product (the scale of a product is the sum of the scales, trailing zeros dropped past 18).
 */
int ferry_money_add(ferry_money a, ferry_money b, ferry_money *out);
int ferry_money_sub(ferry_money a, ferry_money b, ferry_money *out);
int ferry_money_mul(ferry_money a, ferry_money b, ferry_money *out);

/* a / b rounded to `decimals` places, half away from zero; FERRY_MONEY_EDIV0 when b is zero. */
int ferry_money_div(ferry_money a, ferry_money b, int decimals, ferry_money *out);

/* -1, 0 or 1 as a is less than, equal to or greater than b (scales may differ: 1.50 == 1.5). */
int ferry_money_cmp(ferry_money a, ferry_money b);

/* -a and |a| (ERANGE for the one value that has no negation). */
int ferry_money_neg(ferry_money a, ferry_money *out);
int ferry_money_abs(ferry_money a, ferry_money *out);

/* a * 10^places, exactly: the decimal point moves (25 shifted by -2 is 0.25, 0.125 by 2 is 12.5). */
int ferry_money_shift(ferry_money a, int places, ferry_money *out);

/*
 * Prices and VAT at `rate` (a fraction: 0.25 for 25 %): the gross price
 * net * (1 + rate) and the net price gross / (1 + rate), each rounded once,
 * straight to `decimals`, from the exact value.  Removing VAT is EINVAL when
 * 1 + rate is not positive.
 */
int ferry_money_add_vat(ferry_money net, ferry_money rate, int decimals, ferry_money *gross);
int ferry_money_remove_vat(ferry_money gross, ferry_money rate, int decimals, ferry_money *net);

/* The decimals needed to write a exactly: its scale without trailing zeros (12.50 needs 1). */
int ferry_money_decimals(ferry_money a);

/*
 * The value as plain decimal text with exactly `scale` decimals ("12.50",
 * "-0.05", "7"), never an exponent, into buf of size n (FERRY_MONEY_STRLEN
 * is always enough).  Returns buf.
 */
char *ferry_money_format(ferry_money a, char *buf, size_t n);

/*
 * `a` rounded to `decimals` places as a new JSON string ("12.50"), or as a
 * new JSON number: an integer when whole, else the double nearest to the
 * decimal (which "%.15g" writes back exactly).  NULL when the rounded value
 * does not fit.
 */
json_t *ferry_money_json_string(ferry_money a, int decimals);
json_t *ferry_money_json_number(ferry_money a, int decimals);

/* The nearest double (correctly rounded from the decimal text). */
double ferry_money_to_double(ferry_money a);

/* The value as an integer when it is whole (12.00 -> 12); ERANGE otherwise. */
int ferry_money_to_int(ferry_money a, int64_t *out);

#endif /* FERRY_MONEY_H */
