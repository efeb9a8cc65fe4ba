/*
 * ea_money.h - decimal amounts as scaled integers.
 *
 * Money, prices, quantities and VAT rates never go through binary floating
 * point arithmetic in the plugin: they are parsed from decimal text into an
 * int64 counting ten-thousandths (4 decimals, enough for eAccounting's unit
 * prices, quantities and discount fractions), computed on, rounded half away
 * from zero (the rounding eAccounting uses since 2019: 100.45 -> 100.5), and
 * formatted back.  A JSON number coming from the API (which Jansson holds as
 * a double) is converted through its shortest decimal text ("%.15g"), which
 * gives back the exact decimal the server wrote for any amount with at most
 * 15 significant digits.
 */
#ifndef EA_MONEY_H
#define EA_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A decimal with 4 fixed decimals: 12.5 is 125000. */
typedef int64_t ea_dec;

#define EA_DEC_SCALE 10000
#define EA_DEC_ONE ((ea_dec)EA_DEC_SCALE)

/*
 * Parse decimal text ("-12.3456", "12", "12.5", " 7 "): 0 and *out, or -1
 * when it is not a number or does not fit.  More than 4 decimals are rounded
 * half away from zero.  A comma is not accepted as decimal separator.
 */
int ea_dec_parse(const char *s, ea_dec *out);

/* A JSON string, integer or real as a decimal; 0, or -1 for other values. */
int ea_dec_from_json(const json_t *v, ea_dec *out);

/* Round to `decimals` (0..4) half away from zero. */
ea_dec ea_dec_round(ea_dec v, int decimals);

/* Digits after the decimal point that are needed to write v exactly (0..4). */
int ea_dec_decimals(ea_dec v);

/* Write v rounded to `decimals` (0..4) into buf: "-12.50".  Returns buf. */
char *ea_dec_format(ea_dec v, int decimals, char *buf, size_t n);

/* v rounded to `decimals` as a new JSON string ("12.50"). */
json_t *ea_dec_json_string(ea_dec v, int decimals);

/*
 * v rounded to `decimals` as a new JSON number: an integer when whole, else
 * the double nearest to the decimal (written back exactly by "%.15g").
 */
json_t *ea_dec_json_number(ea_dec v, int decimals);

/* a*b and a/b, rounded half away from zero to 4 decimals; 0, or -1 on overflow or division by zero. */
int ea_dec_mul(ea_dec a, ea_dec b, ea_dec *out);
int ea_dec_div(ea_dec a, ea_dec b, ea_dec *out);

/*
 * Prices and VAT: the gross price for a net price at `rate` (a fraction,
 * 0.25 for 25 %) and the net price for a gross one, each rounded to
 * `decimals`.  0, or -1 on overflow.
 */
int ea_dec_add_vat(ea_dec net, ea_dec rate, int decimals, ea_dec *gross);
int ea_dec_remove_vat(ea_dec gross, ea_dec rate, int decimals, ea_dec *net);

#endif /* EA_MONEY_H */
